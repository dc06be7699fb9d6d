// Replacing a file so that it is never seen half-written: the new contents go to a temporary
// file in the same directory, which is fsync'ed, renamed over the target (rename is atomic
// within a file system), and then the directory is fsync'ed so the rename itself is durable.
// A process killed at any moment (SIGKILL included) leaves the target as it was before the
// save or as it is after it, never a mix; after commit() returns, a power loss cannot undo it.
//
// Temporary files are named ".<target name>.embedkit-tmp-<12 hex digits>" (hidden, and never
// the target's name, so nothing that opens the target can pick one up). The writer holds an
// exclusive flock on its temporary file while it writes. A writer that is killed leaves its
// temporary file behind, unlocked (the kernel drops a dead process's locks): the next
// AtomicFile for the same target removes such leftovers before it writes, and never touches a
// temporary file whose writer is still alive (its lock is held). remove_stale_temp_files does
// the same on demand.
//
// The new file gets the permissions of the file it replaces, or 0666 minus the umask when the
// target is new (as open() would give).
//
// The target must be a regular file or not exist yet. Anything else is refused with an IoError
// that names what it is, both when the AtomicFile is made (before anything is written) and
// again right before the rename: a rename would put a regular file in the place of a FIFO, a
// device node or a directory, and would replace a symbolic link instead of writing to the file
// it points to (so a symbolic link is refused too; write to the file it points to).
//
// Files that belong together (a .npy and its .vocab) are committed with commit_together: all
// are written and fsync'ed before the first rename. Two renames are never one atomic step, so
// such formats make their files identify each other, and a reader refuses a mixed group.
#pragma once

#include <cstddef>
#include <filesystem>
#include <initializer_list>
#include <string>

namespace embedkit::io {

class AtomicFile {
 public:
  // Removes stale temporary files of `target`, then creates this writer's temporary file.
  // Throws IoError when the directory does not exist or is not writable.
  explicit AtomicFile(std::filesystem::path target);
  // Without commit(), the temporary file is removed and the target is untouched.
  ~AtomicFile();

  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Appends bytes to the temporary file; throws IoError (disk full, I/O error).
  void write(const void* data, std::size_t size);
  // Makes the new contents the target's, durably. Throws IoError; when it does, the target is
  // the old file, unless the message says the rename happened and only its fsync failed.
  // (commit_together with this file alone.)
  void commit();
  // Drops the new contents (what the destructor does when commit() was not called).
  void discard() noexcept;

  const std::filesystem::path& target() const { return target_; }
  const std::filesystem::path& temp_path() const { return temp_path_; }

 private:
  friend void commit_together(std::initializer_list<AtomicFile*> files);
  // fsync of the temporary file; the reason it failed, or "".
  std::string sync_data() noexcept;
  // Renames the temporary file over the target and closes it; the reason it failed, or "".
  std::string rename_into_place() noexcept;

  std::filesystem::path target_;
  std::filesystem::path temp_path_;
  int fd_ = -1;
  int failed_errno_ = 0;  // errno of the last sync_data or rename_into_place that failed
};

// Commits files of one directory as a group: every file's data is fsync'ed before the first
// rename (a failure there changes no file), then the files are renamed in the order given while
// an exclusive advisory lock on the directory is held (readers of the group take it shared, so
// neither a reader nor another group's commit sees the renames half done), then the directory
// is fsync'ed once. A process killed between two renames leaves the group mixed: the formats
// that write groups make their files identify each other so that a reader refuses the mix.
// Every file is discarded when it throws. ValueError for files already committed, for files in
// different directories and for a target given twice; IoError as commit().
void commit_together(std::initializer_list<AtomicFile*> files);

// The temporary-file name prefix for `target`: ".<target name>.embedkit-tmp-".
std::string atomic_temp_prefix(const std::filesystem::path& target);
// Whether `candidate` is named like a temporary file of `target` (same directory assumed).
bool is_atomic_temp_file_of(const std::filesystem::path& candidate,
                            const std::filesystem::path& target);
// Removes the temporary files of `target` whose writers are gone (their flock is free); returns
// how many it removed. Best effort: a file it cannot open or remove is left alone.
std::size_t remove_stale_temp_files(const std::filesystem::path& target);

// Writes `size` bytes to `target` atomically (an AtomicFile, one write, commit).
void write_file_atomically(const std::filesystem::path& target, const void* data, std::size_t size);

}  // namespace embedkit::io
