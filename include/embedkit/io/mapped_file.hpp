// A whole file mapped into memory (mmap), the storage under a memory-mapped table
// (io/mapped_table.hpp; the rules: docs/memory-mapping.md).
//
// Modes: ReadOnly maps PROT_READ + MAP_SHARED, so every process that maps the file shares the
// page cache's one copy and nothing is ever written back; CopyOnWrite maps PROT_READ|PROT_WRITE
// + MAP_PRIVATE, so the process may change its view (train on it) while the file stays as it
// was: each page written becomes a private copy in RAM.
//
// The size is taken once, at open (fstat), and every header check runs against it; the mapping
// covers exactly that many bytes. A file that later shrinks under the mapping makes a read of
// the lost pages raise SIGBUS: embedkit's own writers never do that (they replace files by
// rename, so a mapping keeps the old file's bytes), and the embedkit command turns a SIGBUS in a
// mapped table into an error message (docs/memory-mapping.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace embedkit::io {

enum class MapMode {
  ReadOnly,  // PROT_READ, MAP_SHARED: lookups and queries; writes are refused (Tensor::read_only)
  CopyOnWrite,  // PROT_READ | PROT_WRITE, MAP_PRIVATE: training; the file never changes
};

// The madvise hint given for the whole mapping (measured in BENCHMARKS.md, "Memory-mapped
// tables"). Normal is the kernel's default read-ahead.
enum class MapAdvice { Normal, Random, Sequential, WillNeed };

// "read-only" / "copy-on-write"; "normal", "random", "sequential", "willneed".
std::string_view map_mode_name(MapMode mode);
std::string_view map_advice_name(MapAdvice advice);
// Accepts the names above; ValueError lists them.
MapAdvice parse_map_advice(std::string_view name);

// What fstat says of a file that any change to its bytes changes: which file it is (device,
// inode), its size, and its modification and status-change times to the nanosecond. A write
// sets both times to the current time; setting the modification time back (touch -d, rsync
// -t) sets the status-change time to the current time, which no call can set back.
struct FileStamp {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

class MappedFile {
 public:
  // Maps the regular file at `path` whole. IoError ("PATH: ...") when it cannot be opened,
  // is not a regular file (a pipe or a device cannot be mapped) or the mapping fails. An empty
  // file maps to no memory (data() is null, size() 0).
  static std::shared_ptr<const MappedFile> open(const std::filesystem::path& path, MapMode mode,
                                                MapAdvice advice = MapAdvice::Normal);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  MapMode mode() const { return mode_; }
  MapAdvice advice() const { return advice_; }
  // The size at open: the mapping's length.
  std::uint64_t size() const { return size_; }
  // The file's stamp at open (the fstat of the descriptor that was mapped).
  const FileStamp& stamp() const { return stamp_; }
  const std::uint8_t* data() const { return data_; }
  // The same bytes, writable (CopyOnWrite only: writes stay in this process).
  std::uint8_t* writable_data() const;

 private:
  MappedFile() = default;
  std::string path_;
  std::uint8_t* data_ = nullptr;
  std::uint64_t size_ = 0;
  FileStamp stamp_;
  MapMode mode_ = MapMode::ReadOnly;
  MapAdvice advice_ = MapAdvice::Normal;
  std::string fault_message_;  // what the SIGBUS handler prints for this mapping
  std::size_t fault_slot_ = 0;
};

// The SIGBUS rule (docs/memory-mapping.md). A read of a mapped page the file no longer has
// (it was truncated by another program after the open) raises SIGBUS, which no C++ code can
// turn into an exception. This installs, once per process, a SIGBUS handler that turns a fault
// inside a live MappedFile's bytes into the line
//   "embedkit: PATH shrank while mapped (N bytes at open), or its data could not be read"
// on standard error and _exit(exit_status): a clear error, nothing more written. A SIGBUS
// anywhere else keeps its default action (the handler restores it and the fault repeats).
// Opt-in, since a library must not take a process's signals by itself: the embedkit command
// installs it. Safe to call more than once.
void install_mapped_file_sigbus_handler(int exit_status = 1);

}  // namespace embedkit::io
