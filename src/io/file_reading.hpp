// Reading a whole input file into memory, with errors that name the file.
//
// A regular file is read by its size (and an error says so when it shrinks or grows while it
// is read). A pipe (a FIFO, /dev/stdin fed by a pipe, bash's <(...)) or a socket has no size:
// it is read to its end, up to a stated limit, so an endless one fails with a clear error
// instead of exhausting memory. A directory, a character device (/dev/zero, a terminal) or a
// block device is refused without reading: nothing tells where its data would end.
//
// Messages: "PATH: is a directory", "PATH: cannot read: Input/output error" and so on.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace embedkit::io::detail {

// An open file descriptor, closed when it goes (a negative one, a failed open, is left alone).
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// What `mode`'s file type is, for messages: "a directory", "a FIFO (named pipe)", ...
std::string file_type_phrase(mode_t mode);

// The most read from a pipe or socket: half the machine's physical memory (4 GiB when it
// cannot be told).
std::uint64_t default_stream_limit();

// The whole file; IoError (starting with the path) when it cannot be read, is not a file that
// can be read whole, or is a pipe longer than `stream_limit` bytes. `opened`, when given, gets
// the fstat of the descriptor read (taken before reading: what the file was when it was opened).
std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path,
                                          std::uint64_t stream_limit = default_stream_limit(),
                                          struct stat* opened = nullptr);

enum class InputKind { RegularFile, Stream };

// What `path` is (following symbolic links): a regular file, or a pipe or socket; IoError,
// worded as read_file_bytes words it, when it does not exist or cannot be read whole.
InputKind classify_input(const std::filesystem::path& path);

}  // namespace embedkit::io::detail
