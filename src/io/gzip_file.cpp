#include "io/gzip_file.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>

#include "embedkit/core/error.hpp"

namespace embedkit::io::detail {

namespace {

gzFile as_gz(void* file) {
  return static_cast<gzFile>(file);
}

}  // namespace

GzipFile::GzipFile(std::filesystem::path path, std::size_t buffer_size) : path_(std::move(path)) {
  errno = 0;
  gzFile f = gzopen(path_.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    throw IoError(path_.string(), std::string("cannot open: ") +
                                      (err ? std::error_code(err, std::generic_category()).message()
                                           : "out of memory"));
  }
  gzbuffer(f, static_cast<unsigned>(buffer_size));
  file_ = f;
}

GzipFile::~GzipFile() {
  if (file_ != nullptr) gzclose(as_gz(file_));
}

std::size_t GzipFile::read(void* data, std::size_t size) {
  const auto want = static_cast<unsigned>(
      std::min<std::size_t>(size, static_cast<std::size_t>(std::numeric_limits<int>::max())));
  const int n = gzread(as_gz(file_), data, want);
  if (n < 0) {
    int errnum = 0;
    const char* msg = gzerror(as_gz(file_), &errnum);
    throw IoError(path_.string(),
                  std::string("read error at byte ") + std::to_string(text_) +
                      " of the text (byte " + std::to_string(gzoffset(as_gz(file_))) +
                      " of the file): " + (errnum == Z_ERRNO ? std::strerror(errno) : msg));
  }
  if (n == 0) check_complete();
  text_ += static_cast<std::uint64_t>(n);
  return static_cast<std::size_t>(n);
}

void GzipFile::check_complete() const {
  // gzread reports the end of a cut gzip stream as the end of the file, leaving the reason in
  // gzerror: Z_BUF_ERROR ("unexpected end of file") when the compressed data stops before the
  // stream's end (its trailer, with the CRC and the length, never came).
  int errnum = Z_OK;
  const char* msg = gzerror(as_gz(file_), &errnum);
  if (errnum == Z_OK) return;
  const z_off_t compressed = gzoffset(as_gz(file_));
  const std::string where = "at byte " + std::to_string(compressed) +
                            " of the compressed file (after " + std::to_string(text_) +
                            " bytes of text)";
  if (errnum == Z_BUF_ERROR) {
    throw IoError(path_.string(),
                  "truncated gzip file: the compressed data ends " + where +
                      " before the end of the gzip stream (an incomplete download or copy?)");
  }
  throw IoError(path_.string(),
                std::string("gzip error ") + where + ": " +
                    (errnum == Z_ERRNO ? std::strerror(errno) : (msg ? msg : "unknown error")));
}

void GzipFile::seek(std::uint64_t offset) {
  if (offset > static_cast<std::uint64_t>(std::numeric_limits<z_off_t>::max()) ||
      gzseek(as_gz(file_), static_cast<z_off_t>(offset), SEEK_SET) < 0) {
    throw IoError(path_.string(), "cannot seek to byte " + std::to_string(offset));
  }
  text_ = offset;
}

bool has_gzip_magic(std::span<const std::uint8_t> bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

std::vector<std::uint8_t> read_gzip_file(const std::filesystem::path& path, std::uint64_t limit) {
  GzipFile file(path);
  std::vector<std::uint8_t> out;
  constexpr std::size_t kChunk = 1 << 20;
  for (;;) {
    const std::size_t old = out.size();
    out.resize(old + kChunk);
    const std::size_t n = file.read(out.data() + old, kChunk);
    out.resize(old + n);
    if (n == 0) return out;
    if (out.size() > limit) {
      throw IoError(path.string(), "the decompressed text is larger than " + std::to_string(limit) +
                                       " bytes, the most read");
    }
  }
}

}  // namespace embedkit::io::detail
