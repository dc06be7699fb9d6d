#include "std_streams.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include "embedkit/core/error.hpp"

namespace embedkit::cli {
namespace {

constexpr std::size_t kChunk = 1 << 20;

std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

std::string limit_text() {
  return "more than " + std::to_string(kSpillLimitBytes >> 30) +
         " GiB: save it to a file and pass the file's path";
}

// Reads up to `size` bytes from `fd`, retrying on EINTR; 0 at the end.
std::size_t read_some(int fd, char* data, std::size_t size, const std::string& name) {
  for (;;) {
    const ssize_t n = ::read(fd, data, size);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) throw IoError(name, "read error: " + errno_text(errno));
  }
}

void write_all(int fd, const char* data, std::size_t size, const std::string& name) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(name, "write error: " + errno_text(errno));
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

std::filesystem::path temp_directory() {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
  if (ec) dir = "/tmp";
  return dir;
}

bool is_regular_or_missing(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return true;  // missing: its reader says so
  return S_ISREG(st.st_mode) || S_ISDIR(st.st_mode);
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  if (from.empty()) return text;
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
  return text;
}

// A directory made by mkdtemp, removed with its contents when done.
class TempDirectory {
 public:
  TempDirectory() {
    std::string pattern = (temp_directory() / "embedkit-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw IoError(temp_directory().string(),
                    "cannot create a temporary directory: " + errno_text(errno) +
                        " (set TMPDIR to a writable directory)");
    }
    path_ = pattern;
  }
  ~TempDirectory() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace

void open_input_file(std::ifstream& file, const std::string& path, std::string_view what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw IoError(path, "is a directory, not " + std::string(what));
  }
  file.open(path, std::ios::binary);
  if (!file) {
    const int err = errno;
    throw IoError(path, "cannot open " + std::string(what) + ": " + std::strerror(err), err);
  }
}

std::string read_standard_input() {
  std::string data;
  std::vector<char> chunk(kChunk);
  const std::string name(kStdinName);
  for (;;) {
    const std::size_t n = read_some(STDIN_FILENO, chunk.data(), chunk.size(), name);
    if (n == 0) break;
    if (data.size() + n > kSpillLimitBytes) throw IoError(name, "holds " + limit_text());
    data.append(chunk.data(), n);
  }
  return data;
}

SpilledInput::SpilledInput(std::string argument, bool spill_non_regular)
    : argument_(std::move(argument)), path_(argument_) {
  const bool from_stdin = is_std_stream(argument_);
  if (!from_stdin && !(spill_non_regular && !is_regular_or_missing(argument_))) return;

  const std::string name = this->name();
  int source = STDIN_FILENO;
  if (!from_stdin) {
    source = ::open(argument_.c_str(), O_RDONLY | O_CLOEXEC);
    if (source < 0) throw IoError(name, "cannot open: " + errno_text(errno));
  }
  std::string pattern = (temp_directory() / "embedkit-input-XXXXXX").string();
  fd_ = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd_ < 0) {
    const int err = errno;
    if (source != STDIN_FILENO) ::close(source);
    throw IoError(temp_directory().string(), "cannot create a temporary file for " + name + ": " +
                                                 errno_text(err) +
                                                 " (set TMPDIR to a writable directory)");
  }
  // Unlinked at once where the file stays reachable through /proc: nothing is left behind,
  // even when the process is killed.
  const std::filesystem::path by_fd = "/proc/self/fd/" + std::to_string(fd_);
  std::error_code ec;
  if (std::filesystem::exists(by_fd, ec) && ::unlink(pattern.c_str()) == 0) {
    path_ = by_fd;
  } else {
    named_temp_ = pattern;
    path_ = named_temp_;
  }
  try {
    std::vector<char> chunk(kChunk);
    std::uint64_t total = 0;
    for (;;) {
      const std::size_t n = read_some(source, chunk.data(), chunk.size(), name);
      if (n == 0) break;
      total += n;
      if (total > kSpillLimitBytes) throw IoError(name, "holds " + limit_text());
      write_all(fd_, chunk.data(), n,
                name + " (copied to a temporary file in " + temp_directory().string() +
                    "; TMPDIR chooses where)");
    }
  } catch (...) {
    if (source != STDIN_FILENO) ::close(source);
    ::close(fd_);
    if (!named_temp_.empty()) std::filesystem::remove(named_temp_, ec);
    fd_ = -1;
    throw;
  }
  if (source != STDIN_FILENO) ::close(source);
}

SpilledInput::~SpilledInput() {
  if (fd_ >= 0) ::close(fd_);
  if (!named_temp_.empty()) {
    std::error_code ec;
    std::filesystem::remove(named_temp_, ec);
  }
}

std::string SpilledInput::name() const {
  return is_std_stream(argument_) ? std::string(kStdinName) : argument_;
}

void SpilledInput::rethrow_with_name() const {
  if (!spilled()) throw;
  const std::string temp = path_.string();
  try {
    throw;
  } catch (const IoError& e) {
    const std::string what = e.what();
    const std::string rest =
        what.starts_with(e.path() + ": ") ? what.substr(e.path().size() + 2) : what;
    throw IoError(e.path() == temp ? name() : e.path(), replace_all(rest, temp, name()));
  } catch (const ValueError& e) {
    throw ValueError(replace_all(e.what(), temp, name()));
  } catch (const Error& e) {
    throw Error(replace_all(e.what(), temp, name()));
  }
}

void refuse_binary_on_terminal(std::string_view what) {
  if (::isatty(STDOUT_FILENO) == 1) {
    throw ValueError("standard output is a terminal: refusing to print " + std::string(what) +
                     " there (redirect it to a file or a pipe, or choose a text format)");
  }
}

void write_via_temp_file(std::string_view filename,
                         const std::function<void(const std::filesystem::path&)>& save) {
  const TempDirectory dir;
  const std::filesystem::path file = dir.path() / std::string(filename);
  save(file);
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(file.string(), "cannot reopen: " + errno_text(errno));
  std::cout.flush();
  try {
    std::vector<char> chunk(kChunk);
    for (;;) {
      const std::size_t n = read_some(fd, chunk.data(), chunk.size(), file.string());
      if (n == 0) break;
      write_all(STDOUT_FILENO, chunk.data(), n, "<stdout>");
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

}  // namespace embedkit::cli
