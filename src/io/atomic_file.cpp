#include "embedkit/io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string_view>
#include <system_error>
#include <vector>

#include "embedkit/core/error.hpp"
#include "io/directory_lock.hpp"
#include "io/fault_point.hpp"
#include "io/file_reading.hpp"

namespace embedkit::io {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kTempMarker = ".embedkit-tmp-";
constexpr std::size_t kSuffixDigits = 12;

std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

using detail::directory_of;

std::string random_suffix() {
  // Unpredictable, so that two processes (or a process and its fork) do not race for one name;
  // O_EXCL settles the rare collision anyway.
  std::random_device device;
  std::uint64_t bits = (static_cast<std::uint64_t>(device()) << 32) ^ device();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(kSuffixDigits, '0');
  for (char& c : s) {
    c = kHex[bits & 0xf];
    bits >>= 4;
  }
  return s;
}

void close_quietly(int fd) {
  // Linux releases the descriptor even when close() reports EINTR, so it is never retried.
  if (fd >= 0) ::close(fd);
}

// Throws IoError unless `target` is a regular file or does not exist yet. Renaming over a
// FIFO, a device node or a symbolic link would silently put a regular file in its place: a
// program reading the pipe would wait forever, and a link's target would be left unchanged.
void check_output_target(const fs::path& target) {
  struct stat st {};
  if (::lstat(target.c_str(), &st) != 0 || S_ISREG(st.st_mode)) return;
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    const fs::path points_to = fs::read_symlink(target, ec);
    throw IoError(target.string(),
                  "is a symbolic link" + (ec ? std::string() : " to " + points_to.string()) +
                      ": an output is replaced by a new file, which would replace the link "
                      "and leave the file it points to unchanged; write to that file's path, "
                      "or remove the link");
  }
  throw IoError(target.string(), "is " + detail::file_type_phrase(st.st_mode) +
                                     ": an output must be a regular file (or a new path), "
                                     "which is replaced atomically by the new contents");
}

}  // namespace

std::string atomic_temp_prefix(const fs::path& target) {
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "." + std::string.
  std::string prefix(".");
  prefix += target.filename().string();
  prefix += kTempMarker;
  return prefix;
}

bool is_atomic_temp_file_of(const fs::path& candidate, const fs::path& target) {
  const std::string name = candidate.filename().string();
  const std::string prefix = atomic_temp_prefix(target);
  if (name.size() != prefix.size() + kSuffixDigits || name.compare(0, prefix.size(), prefix) != 0) {
    return false;
  }
  return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()), name.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::size_t remove_stale_temp_files(const fs::path& target) {
  std::vector<fs::path> candidates;
  std::error_code ec;
  for (fs::directory_iterator it(directory_of(target), ec), end; !ec && it != end;
       it.increment(ec)) {
    if (is_atomic_temp_file_of(it->path(), target)) candidates.push_back(it->path());
  }
  std::size_t removed = 0;
  for (const fs::path& candidate : candidates) {
    const int fd = ::open(candidate.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) continue;
    // A live writer holds an exclusive lock on its temporary file; getting the lock means the
    // writer is gone (or has not locked yet: it then sees the file unlinked and makes another).
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      struct stat opened {};
      struct stat named {};
      // Unlink only the very file that was locked, not one created under the same name since.
      if (::fstat(fd, &opened) == 0 && ::lstat(candidate.c_str(), &named) == 0 &&
          opened.st_dev == named.st_dev && opened.st_ino == named.st_ino &&
          S_ISREG(opened.st_mode) && ::unlink(candidate.c_str()) == 0) {
        ++removed;
      }
    }
    close_quietly(fd);
  }
  return removed;
}

AtomicFile::AtomicFile(fs::path target) : target_(std::move(target)) {
  if (target_.filename().empty() || target_.filename() == "." || target_.filename() == "..") {
    throw IoError(target_.string(), "not a file path");
  }
  check_output_target(target_);
  remove_stale_temp_files(target_);

  struct stat old {};
  const bool keep_mode = ::lstat(target_.c_str(), &old) == 0 && S_ISREG(old.st_mode);
  const fs::path dir = directory_of(target_);
  const std::string prefix = atomic_temp_prefix(target_);
  for (int attempt = 0; attempt < 64; ++attempt) {
    const fs::path temp = dir / (prefix + random_suffix());
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) {
      if (errno == EEXIST || errno == EINTR) continue;
      const int err = errno;
      throw IoError(target_.string(),
                    "cannot create temporary file " + temp.string() + ": " + errno_text(err), err);
    }
    int lock_result;
    do {
      lock_result = ::flock(fd, LOCK_EX);
    } while (lock_result != 0 && errno == EINTR);
    struct stat created {};
    if (lock_result != 0 || ::fstat(fd, &created) != 0) {
      const int err = errno;
      close_quietly(fd);
      ::unlink(temp.c_str());
      throw IoError(target_.string(),
                    "cannot lock temporary file " + temp.string() + ": " + errno_text(err), err);
    }
    if (created.st_nlink == 0) {
      // Another process's stale-file cleanup removed it between open() and flock().
      close_quietly(fd);
      continue;
    }
    if (keep_mode && ::fchmod(fd, old.st_mode & 07777) != 0) {
      const int err = errno;
      close_quietly(fd);
      ::unlink(temp.c_str());
      throw IoError(
          target_.string(),
          "cannot set the permissions of temporary file " + temp.string() + ": " + errno_text(err),
          err);
    }
    fd_ = fd;
    temp_path_ = temp;
    return;
  }
  throw IoError(target_.string(), "cannot create a temporary file in " + dir.string() +
                                      ": every name tried was taken");
}

AtomicFile::~AtomicFile() {
  discard();
}

void AtomicFile::discard() noexcept {
  if (fd_ < 0) return;
  close_quietly(fd_);
  fd_ = -1;
  ::unlink(temp_path_.c_str());
}

void AtomicFile::write(const void* data, std::size_t size) {
  if (fd_ < 0) throw ValueError("AtomicFile::write: the file was already committed or discarded");
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    // Linux writes at most about 2 GiB per call; smaller chunks keep the loop simple.
    const std::size_t chunk = std::min<std::size_t>(size, std::size_t{1} << 30);
    const ssize_t n = ::write(fd_, p, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      throw IoError(target_.string(),
                    "cannot write temporary file " + temp_path_.string() + ": " + errno_text(err) +
                        " (the previous file is unchanged)",
                    err);
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

std::string AtomicFile::sync_data() noexcept {
  // Data first: a rename that reaches the disk before the data would expose an empty or partial
  // file after a power loss (the classic ext4 delayed-allocation surprise).
  if (::fsync(fd_) == 0) return {};
  const int err = errno;
  failed_errno_ = err;
  return "cannot fsync temporary file " + temp_path_.string() + ": " + errno_text(err);
}

std::string AtomicFile::rename_into_place() noexcept {
  if (::rename(temp_path_.c_str(), target_.c_str()) != 0) {
    const int err = errno;
    failed_errno_ = err;
    return "cannot rename temporary file " + temp_path_.string() + " over it: " + errno_text(err);
  }
  // The lock is held until after the rename, so no cleanup can take the file for a stale one.
  close_quietly(fd_);
  fd_ = -1;
  return {};
}

void AtomicFile::commit() {
  commit_together({this});
}

void commit_together(std::initializer_list<AtomicFile*> files) {
  if (files.size() == 0) return;
  for (AtomicFile* file : files) {
    if (file->fd_ < 0) {
      throw ValueError("commit: " + file->target_.string() + " was already committed or discarded");
    }
  }
  const auto fail = [&files](const AtomicFile& failed, const std::string& why) {
    const int err = failed.failed_errno_;
    const fs::path target = failed.target_;
    for (AtomicFile* file : files) file->discard();
    throw IoError(target.string(), why, err);
  };
  const fs::path dir = directory_of(files.begin()[0]->target_);
  for (AtomicFile* file : files) {
    if (directory_of(file->target_) != dir) {
      for (AtomicFile* f : files) f->discard();
      throw ValueError("commit_together: " + file->target_.string() + " is not in " + dir.string() +
                       " (a group is renamed within one directory)");
    }
  }
  for (auto a = files.begin(); a != files.end(); ++a) {
    for (auto b = a + 1; b != files.end(); ++b) {
      if ((*a)->target_ == (*b)->target_) {
        for (AtomicFile* f : files) f->discard();
        throw ValueError("commit_together: " + (*a)->target_.string() +
                         " is given twice (one file would silently replace the other)");
      }
    }
  }
  const bool group = files.size() > 1;
  const std::string unchanged =
      group ? " (none of the group's files was changed)" : " (the previous file is unchanged)";
  for (AtomicFile* file : files) {
    const std::string why = file->sync_data();
    if (!why.empty()) fail(*file, why + unchanged);
  }
  detail::fault_point("commit: data synced");
  {
    // One rename is atomic by itself; a group's renames are kept from interleaving with
    // another group's, and from a reader of the group (directory_lock.hpp).
    std::optional<detail::DirectoryLock> lock;
    if (group) lock.emplace(dir, detail::DirectoryLock::Mode::Exclusive);
    // Checked again right before the renames: the target may have become a link or a FIFO
    // since the writer was made.
    for (AtomicFile* file : files) {
      try {
        check_output_target(file->target_);
      } catch (const IoError&) {
        for (AtomicFile* f : files) f->discard();
        throw;
      }
    }
    std::size_t renamed = 0;
    for (AtomicFile* file : files) {
      const std::string why = file->rename_into_place();
      if (!why.empty()) {
        fail(*file,
             why + (renamed == 0 ? unchanged
                                 : " (" + std::to_string(renamed) +
                                       " file(s) of the group were already replaced: the group "
                                       "is mixed until it is saved again, and a reader that "
                                       "checks the files' identity refuses it)"));
      }
      ++renamed;
      detail::fault_point("commit: renamed " + std::to_string(renamed) + " of " +
                          std::to_string(files.size()));
    }
  }
  const fs::path& target = files.begin()[0]->target_;
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    throw IoError(target.string(), "written and renamed, but cannot open directory " +
                                       dir.string() +
                                       " to make the rename durable: " + errno_text(errno));
  }
  // Some file systems cannot fsync a directory (EINVAL); their renames are as durable as they
  // get.
  if (::fsync(dir_fd) != 0 && errno != EINVAL) {
    const std::string why = errno_text(errno);
    close_quietly(dir_fd);
    throw IoError(target.string(),
                  "written and renamed, but cannot fsync directory " + dir.string() + ": " + why);
  }
  close_quietly(dir_fd);
  detail::fault_point("commit: directory synced");
}

void write_file_atomically(const fs::path& target, const void* data, std::size_t size) {
  AtomicFile file(target);
  file.write(data, size);
  file.commit();
}

}  // namespace embedkit::io
