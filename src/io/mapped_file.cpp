#include "embedkit/io/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <limits>

#include "embedkit/core/error.hpp"
#include "io/file_reading.hpp"
#include "io/pair_verification.hpp"

namespace embedkit::io {
namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

int advice_flag(MapAdvice advice) {
  switch (advice) {
    case MapAdvice::Normal:
      return MADV_NORMAL;
    case MapAdvice::Random:
      return MADV_RANDOM;
    case MapAdvice::Sequential:
      return MADV_SEQUENTIAL;
    case MapAdvice::WillNeed:
      return MADV_WILLNEED;
  }
  return MADV_NORMAL;
}

// The live mappings, for the SIGBUS handler, which may read only what is async-signal-safe:
// fixed slots of atomics and a message formatted at open. A slot's message lives as long as
// its mapping, and a fault inside a mapping happens only while a read of it is under way.
struct FaultSlot {
  std::atomic<bool> used{false};
  std::atomic<const std::uint8_t*> begin{nullptr};
  std::atomic<std::uint64_t> size{0};
  std::atomic<const char*> message{nullptr};
};
constexpr std::size_t kFaultSlots = 256;  // more live mappings than that are not named
std::array<FaultSlot, kFaultSlots> fault_slots;
std::atomic<int> fault_exit_status{1};

// The slot index + 1, or 0 when every slot is taken.
std::size_t register_mapping(const std::uint8_t* begin, std::uint64_t size, const char* message) {
  for (std::size_t i = 0; i < kFaultSlots; ++i) {
    bool expected = false;
    if (fault_slots[i].used.compare_exchange_strong(expected, true)) {
      fault_slots[i].message.store(message);
      fault_slots[i].size.store(size);
      fault_slots[i].begin.store(begin);
      return i + 1;
    }
  }
  return 0;
}

void unregister_mapping(std::size_t slot) {
  if (slot == 0) return;
  FaultSlot& s = fault_slots[slot - 1];
  s.begin.store(nullptr);
  s.size.store(0);
  s.message.store(nullptr);
  s.used.store(false);
}

void write_all(const char* text) {
  std::size_t n = 0;
  while (text[n] != '\0') ++n;
  while (n > 0) {
    const ssize_t w = ::write(STDERR_FILENO, text, n);
    if (w <= 0) return;
    text += w;
    n -= static_cast<std::size_t>(w);
  }
}

void on_sigbus(int, siginfo_t* info, void*) {
  const auto* address = static_cast<const std::uint8_t*>(info->si_addr);
  for (FaultSlot& s : fault_slots) {
    const std::uint8_t* begin = s.begin.load();
    if (begin != nullptr && address >= begin && address < begin + s.size.load()) {
      if (const char* message = s.message.load()) write_all(message);
      ::_exit(fault_exit_status.load());
    }
  }
  // Not embedkit's mapping: the default action, when the faulting access repeats on return.
  ::signal(SIGBUS, SIG_DFL);
}

constexpr MapAdvice kAllAdvice[] = {MapAdvice::Normal, MapAdvice::Random, MapAdvice::Sequential,
                                    MapAdvice::WillNeed};

}  // namespace

std::string_view map_mode_name(MapMode mode) {
  return mode == MapMode::ReadOnly ? "read-only" : "copy-on-write";
}

std::string_view map_advice_name(MapAdvice advice) {
  switch (advice) {
    case MapAdvice::Normal:
      return "normal";
    case MapAdvice::Random:
      return "random";
    case MapAdvice::Sequential:
      return "sequential";
    case MapAdvice::WillNeed:
      return "willneed";
  }
  return "?";
}

MapAdvice parse_map_advice(std::string_view name) {
  for (const MapAdvice a : kAllAdvice) {
    if (name == map_advice_name(a)) return a;
  }
  throw ValueError("unknown madvise hint '" + std::string(name) +
                   "' (normal, random, sequential or willneed)");
}

std::shared_ptr<const MappedFile> MappedFile::open(const std::filesystem::path& path, MapMode mode,
                                                   MapAdvice advice) {
  const std::string name = path.string();
  // O_NONBLOCK: a FIFO opened by mistake (or put where a file beside a pair is looked for) is
  // refused below as not a regular file, instead of waiting here for a writer.
  const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) throw IoError(name, "cannot open: " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw IoError(name, "cannot stat: " + errno_text(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw IoError(name, "is " + detail::file_type_phrase(st.st_mode) +
                            ", not a regular file: only a regular file can be mapped");
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > std::numeric_limits<std::size_t>::max()) {
    ::close(fd);
    throw IoError(name, "is too large to map on this machine");
  }
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = name;
  file->size_ = size;
  file->stamp_ = detail::stamp_of(st);
  file->mode_ = mode;
  file->advice_ = advice;
  if (size != 0) {
    const int prot = mode == MapMode::ReadOnly ? PROT_READ : PROT_READ | PROT_WRITE;
    const int flags = mode == MapMode::ReadOnly ? MAP_SHARED : MAP_PRIVATE;
    void* p = ::mmap(nullptr, static_cast<std::size_t>(size), prot, flags, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw IoError(name, "cannot map " + std::to_string(size) + " bytes " +
                              std::string(map_mode_name(mode)) + ": " + errno_text(err));
    }
    file->data_ = static_cast<std::uint8_t*>(p);
    file->fault_message_ = "embedkit: " + name + " shrank while mapped (" + std::to_string(size) +
                           " bytes at open), or its data could not be read\n";
    file->fault_slot_ = register_mapping(file->data_, size, file->fault_message_.c_str());
    // A hint only: a kernel that ignores it changes speed, never results.
    (void)::madvise(p, static_cast<std::size_t>(size), advice_flag(advice));
  }
  // The mapping keeps the file's pages; the descriptor is not needed any more.
  ::close(fd);
  return file;
}

MappedFile::~MappedFile() {
  unregister_mapping(fault_slot_);
  if (data_ != nullptr) ::munmap(data_, static_cast<std::size_t>(size_));
}

void install_mapped_file_sigbus_handler(int exit_status) {
  fault_exit_status.store(exit_status);
  struct sigaction action {};
  action.sa_sigaction = on_sigbus;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGBUS, &action, nullptr);
}

std::uint8_t* MappedFile::writable_data() const {
  if (mode_ != MapMode::CopyOnWrite) {
    throw ValueError(path_ + ": mapped read-only; map it copy-on-write to change it");
  }
  return data_;
}

}  // namespace embedkit::io
