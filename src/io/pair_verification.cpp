// The record of a verified .npy + .vocab pair (pair_verification.hpp).
#include "io/pair_verification.hpp"

#include <time.h>

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "embedkit/io/atomic_file.hpp"

namespace embedkit::io::detail {
namespace {

// A record is one short line; a longer file is not one (and is not read whole).
constexpr std::size_t kMaxRecordBytes = 512;

std::atomic<std::int64_t> settle_ns{std::chrono::nanoseconds(std::chrono::seconds(2)).count()};

std::int64_t ns_of(const struct timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

}  // namespace

FileStamp stamp_of(const struct stat& st) {
  return FileStamp{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                   static_cast<std::uint64_t>(st.st_size), ns_of(st.st_mtim), ns_of(st.st_ctim)};
}

std::optional<FileStamp> stamp_of_path(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return stamp_of(st);
}

std::filesystem::path pair_record_path(const std::filesystem::path& vocabulary) {
  std::filesystem::path record = vocabulary;
  record += ".verified";
  return record;
}

std::string pair_record(const FileStamp& stamp, const MatrixFileIdentity& pair) {
  char line[256];
  std::snprintf(line, sizeof line,
                "embedkit-pair-verified format=1 matrix-bytes=%" PRIu64 " matrix-xxh64=%016" PRIx64
                " device=%" PRIu64 " inode=%" PRIu64 " size=%" PRIu64 " mtime-ns=%" PRId64
                " ctime-ns=%" PRId64 "\n",
                pair.bytes, pair.xxh64, stamp.device, stamp.inode, stamp.size, stamp.mtime_ns,
                stamp.ctime_ns);
  return line;
}

bool pair_recorded(const std::filesystem::path& record, const FileStamp& stamp,
                   const MatrixFileIdentity& pair) noexcept {
  try {
    std::ifstream in(record, std::ios::binary);
    if (!in) return false;
    std::string text(kMaxRecordBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    return text.size() <= kMaxRecordBytes && text == pair_record(stamp, pair);
  } catch (...) {
    return false;
  }
}

bool settled_and_unchanged(const std::filesystem::path& path, const FileStamp& stamp) noexcept {
  try {
    struct timespec now {};
    if (::clock_gettime(CLOCK_REALTIME, &now) != 0) return false;
    const std::int64_t settled = ns_of(now) - settle_ns.load(std::memory_order_relaxed);
    if (stamp.mtime_ns > settled || stamp.ctime_ns > settled) return false;
    // Changed (or replaced) since it was stamped, perhaps while it was being hashed.
    return stamp_of_path(path) == stamp;
  } catch (...) {
    return false;
  }
}

bool record_pair(const std::filesystem::path& record, const std::filesystem::path& matrix,
                 const FileStamp& stamp, const MatrixFileIdentity& pair) noexcept {
  try {
    if (!settled_and_unchanged(matrix, stamp)) return false;
    const std::string line = pair_record(stamp, pair);
    AtomicFile out(record);
    out.write(line.data(), line.size());
    out.commit();
    return true;
  } catch (...) {
    return false;
  }
}

std::chrono::nanoseconds pair_record_settle() {
  return std::chrono::nanoseconds(settle_ns.load(std::memory_order_relaxed));
}

void set_pair_record_settle(std::chrono::nanoseconds settle) {
  settle_ns.store(settle.count(), std::memory_order_relaxed);
}

}  // namespace embedkit::io::detail
