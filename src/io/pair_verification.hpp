// The record of a verified .npy + .vocab pair (docs/memory-mapping.md, "The pair's checksum,
// remembered"): a one-line file beside the vocabulary saying that the matrix file with this
// very stamp (device, inode, size, modification and status-change times to the nanosecond)
// was read whole and matched the vocabulary's pair line, so that a later mapped open need not
// hash the whole matrix again. A record is trusted only when it is byte for byte the line this
// file would write for the stamp and pair line seen now; anything else (missing, another
// stamp, another pair line, damaged, too long) means a full check, after which the record is
// written again. Writing it is best effort: a directory that cannot be written, or any other
// failure, leaves the open as it was.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "embedkit/io/mapped_file.hpp"
#include "embedkit/io/vector_formats.hpp"

namespace embedkit::io::detail {

// The stamp of what `st` describes.
FileStamp stamp_of(const struct stat& st);
// The stamp of the file at `path` now (following symbolic links), or nullopt.
std::optional<FileStamp> stamp_of_path(const std::filesystem::path& path);

// Where the record of the vocabulary `vocabulary` goes: "<vocabulary>.verified".
std::filesystem::path pair_record_path(const std::filesystem::path& vocabulary);

// The record's line for a matrix file with `stamp` that matched `pair`.
std::string pair_record(const FileStamp& stamp, const MatrixFileIdentity& pair);

// Whether the file `record` holds exactly pair_record(stamp, pair). Never throws: no record, an
// unreadable one or any other content is false.
bool pair_recorded(const std::filesystem::path& record, const FileStamp& stamp,
                   const MatrixFileIdentity& pair) noexcept;

// After a full check found the matrix file `matrix`, stamped `stamp` at open, to match `pair`:
// writes the record (atomically) when the file at `matrix` still has that stamp and both its
// times are at least the settle time (pair_record_settle) older than the clock. A younger file
// is not recorded, since a write within the same timestamp tick as the stamp would leave both
// times as they were; the next open checks it in full and records it then. Returns whether the
// record was written; never throws.
bool record_pair(const std::filesystem::path& record, const std::filesystem::path& matrix,
                 const FileStamp& stamp, const MatrixFileIdentity& pair) noexcept;

// Whether the file at `path` still has `stamp` and both its times are at least the settle time
// older than the clock: what record_pair asks before it records a file (and the stored word
// index before it stores one). Never throws.
bool settled_and_unchanged(const std::filesystem::path& path, const FileStamp& stamp) noexcept;

// The settle time: 2 s (coarser than any file system's timestamp tick Linux mounts, FAT's
// included). Tests set it to 0 to record files they have just written; nothing else sets it.
std::chrono::nanoseconds pair_record_settle();
void set_pair_record_settle(std::chrono::nanoseconds settle);

}  // namespace embedkit::io::detail
