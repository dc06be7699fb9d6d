#include "io/file_reading.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <new>
#include <system_error>

#include "embedkit/core/error.hpp"

namespace embedkit::io::detail {
namespace {

std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

// Reads up to `n` bytes (fewer only at the end of the input); IoError on a read error.
std::size_t read_some(int fd, std::uint8_t* dst, std::size_t n, const std::string& name) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, dst + got, std::min<std::size_t>(n - got, std::size_t{1} << 30));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw IoError(name, "cannot read: " + errno_text(errno));
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

std::vector<std::uint8_t> read_regular(int fd, std::uint64_t size, const std::string& name) {
  if (size > static_cast<std::uint64_t>(PTRDIFF_MAX)) {
    throw IoError(name, "is " + std::to_string(size) + " bytes long, more than can be held");
  }
  std::vector<std::uint8_t> bytes;
  try {
    bytes.resize(static_cast<std::size_t>(size));
  } catch (const std::bad_alloc&) {
    throw IoError(name, "is " + std::to_string(size) + " bytes long: not enough memory to read it");
  }
  const std::size_t got = read_some(fd, bytes.data(), bytes.size(), name);
  if (got != bytes.size()) {
    throw IoError(name, "the file shrank from " + std::to_string(size) + " to " +
                            std::to_string(got) +
                            " bytes while it was read (is it being written?)");
  }
  std::uint8_t extra = 0;
  if (read_some(fd, &extra, 1, name) != 0) {
    throw IoError(name, "the file grew past its " + std::to_string(size) +
                            " bytes while it was read (is it being written?)");
  }
  return bytes;
}

std::vector<std::uint8_t> read_stream(int fd, std::uint64_t limit, const std::string& name) {
  std::vector<std::uint8_t> bytes;
  std::size_t used = 0;
  while (true) {
    if (used == bytes.size()) {
      if (used >= limit) {
        throw IoError(name, "a pipe that did not end within " + std::to_string(limit) +
                                " bytes (the most read from a pipe; save it to a file first)");
      }
      const std::uint64_t grown = std::min<std::uint64_t>(
          limit, std::max<std::uint64_t>(std::uint64_t{1} << 16, std::uint64_t{used} * 2));
      try {
        bytes.resize(static_cast<std::size_t>(grown));
      } catch (const std::bad_alloc&) {
        throw IoError(name, "not enough memory to read more than " + std::to_string(used) +
                                " bytes from the pipe (save it to a file first)");
      }
    }
    const std::size_t got = read_some(fd, bytes.data() + used, bytes.size() - used, name);
    used += got;
    if (used < bytes.size()) break;  // read_some stops short only at the end
  }
  bytes.resize(used);
  bytes.shrink_to_fit();
  return bytes;
}

}  // namespace

std::string file_type_phrase(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

std::uint64_t default_stream_limit() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return std::uint64_t{4} << 30;
  return static_cast<std::uint64_t>(pages) / 2 * static_cast<std::uint64_t>(page_size);
}

InputKind classify_input(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw IoError(path.string(), "cannot open: " + errno_text(errno));
  }
  if (S_ISREG(st.st_mode)) return InputKind::RegularFile;
  if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) return InputKind::Stream;
  if (S_ISDIR(st.st_mode)) throw IoError(path.string(), "is a directory");
  // /dev/zero, /dev/urandom or a terminal never end: refused before anything is read.
  throw IoError(path.string(), "is " + file_type_phrase(st.st_mode) +
                                   ", not a regular file or a pipe: nothing says where its "
                                   "data ends");
}

std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path,
                                          std::uint64_t stream_limit, struct stat* opened) {
  const std::string name = path.string();
  // Classified before it is opened: opening a device can block or have side effects. (A
  // FIFO's open waits for a writer, as for any program that reads a named pipe.)
  classify_input(path);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) throw IoError(name, "cannot open: " + errno_text(errno));
  const Descriptor descriptor(fd);
  // The file opened is classified again: the path may have changed in between.
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw IoError(name, "cannot stat: " + errno_text(errno));
  if (opened != nullptr) *opened = st;
  if (S_ISREG(st.st_mode)) return read_regular(fd, static_cast<std::uint64_t>(st.st_size), name);
  if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) return read_stream(fd, stream_limit, name);
  if (S_ISDIR(st.st_mode)) throw IoError(name, "is a directory");
  throw IoError(name, "is " + file_type_phrase(st.st_mode) +
                          ", not a regular file or a pipe: nothing says where its data ends");
}

}  // namespace embedkit::io::detail
