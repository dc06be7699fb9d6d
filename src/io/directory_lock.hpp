// An advisory lock (flock) on a directory, for files that belong together but cannot be
// replaced by one rename (a .npy and its .vocab): writers hold it exclusively while they rename
// their files into place, readers hold it shared while they read them, so a reader never reads
// half of one save and half of another, and two saves never interleave their renames.
//
// Best effort: where the directory cannot be opened or locked (no read permission on it, a
// file system without flock), nothing is locked, and the files' own identity check
// (vector_formats.hpp) still refuses a mixed pair. Only embedkit takes this lock; other
// programs are not slowed down by it.
#pragma once

#include <filesystem>

namespace embedkit::io::detail {

class DirectoryLock {
 public:
  enum class Mode { Shared, Exclusive };

  // Waits until the lock is granted (or gives up at once when it cannot be taken at all).
  DirectoryLock(const std::filesystem::path& directory, Mode mode);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

  // Whether the lock is held.
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// The directory a path's file lives in ("." for a bare file name).
std::filesystem::path directory_of(const std::filesystem::path& path);

}  // namespace embedkit::io::detail
