// Reading a file through zlib: gzip-compressed or plain, which zlib tells from the first bytes,
// so one reader takes both. Shared by the corpus reader (models/corpus_reader.hpp), which streams
// and seeks, and the word-vector readers (vector_formats.hpp), which read .vec.gz / .txt.gz /
// .bin.gz whole.
//
// A gzip stream cut short (its compressed data ends before the gzip trailer, with its CRC and
// length) or corrupted is an IoError naming the byte of the compressed file where reading
// stopped and how much text came before: a partial file is never taken for the whole one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace embedkit::io::detail {

class GzipFile {
 public:
  // Opens `path` (IoError "PATH: cannot open: ..." when it cannot).
  explicit GzipFile(std::filesystem::path path, std::size_t buffer_size = 1 << 18);
  ~GzipFile();
  GzipFile(const GzipFile&) = delete;
  GzipFile& operator=(const GzipFile&) = delete;

  // Up to `size` bytes of the (uncompressed) text; 0 at its end, once the gzip stream has been
  // checked complete. IoError on a read error, a cut or a corrupted stream.
  std::size_t read(void* data, std::size_t size);
  // Moves to the uncompressed byte `offset` (a real seek for plain files; zlib decompresses up
  // to it for gzip). IoError when it cannot.
  void seek(std::uint64_t offset);

 private:
  void check_complete() const;

  std::filesystem::path path_;
  void* file_ = nullptr;    // gzFile, kept opaque so that includers need no zlib header
  std::uint64_t text_ = 0;  // uncompressed bytes before the next read
};

// Whether the bytes start with the gzip magic (1f 8b).
bool has_gzip_magic(std::span<const std::uint8_t> bytes);

// The whole uncompressed text of a gzip file; IoError as GzipFile, and beyond `limit` bytes of
// text (a decompression bomb is refused, not held in memory).
std::vector<std::uint8_t> read_gzip_file(const std::filesystem::path& path, std::uint64_t limit);

}  // namespace embedkit::io::detail
