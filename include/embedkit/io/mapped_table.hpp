// Memory-mapped tables: a table opened from a .npy or safetensors file without reading it. The
// table is an ordinary Tensor over the file's mapped bytes (Tensor::from_blob with the mapping
// as its owner: the file stays mapped while any copy of the tensor lives), so lookups, bags,
// KeyedVectors queries and everything else that takes a table take it as is; the kernel reads
// rows from the page cache as they are touched. The rules (docs/memory-mapping.md):
//
// - Zero-copy, always. A tensor whose data is not aligned in the file to its element size
//   (a safetensors tensor after an odd number of 16-bit values; an .npy header of odd length)
//   is refused with an IoError that says so, never silently copied. numpy and embedkit write
//   .npy data 64-byte aligned; safetensors files have their buffer 8-byte aligned, and each
//   tensor is aligned when the tensors before it fill whole multiples of its element size
//   (always true for one table per file, or for tables of one dtype).
// - Checked at open, against the file's size at open: the header (the same strict checks as
//   the readers: safetensors.hpp, vector_formats.hpp) and that the file holds exactly the
//   bytes it declares. A truncated file, or a header that declares more data than the file
//   has, is an IoError naming the path, and nothing stays mapped. Values are not scanned at
//   open (that would read the whole file): a KeyedVectors over a mapped matrix checks them
//   when it is built, and a lookup returns what the file holds.
// - ReadOnly (the default) gives a tensor marked read_only(): an optimizer, max_norm, copy_from
//   or fill_zero on it is a ValueError, not a segfault. CopyOnWrite gives a writable tensor
//   whose changes stay in the process (private pages) and never reach the file.
// - A file that shrinks while mapped: docs/memory-mapping.md ("the SIGBUS rule").
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "embedkit/core/key_index.hpp"
#include "embedkit/core/quantized_format.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/io/mapped_file.hpp"
#include "embedkit/io/vector_formats.hpp"

namespace embedkit::io {

// The madvise hints given unless MapOptions::advice says otherwise, chosen from the figures in
// BENCHMARKS.md ("Memory-mapped tables"): a table is read a few rows at a time, at random, and
// MADV_RANDOM makes a cold lookup read only the row's page instead of the kernel's read-around
// (4x faster cold lookups, a tenth of the page cache); word vectors are read whole by
// KeyedVectors (unit norms) and by every query, where MADV_RANDOM makes a cold scan 3x slower
// and the kernel's read-ahead is best.
inline constexpr MapAdvice kTableMapAdvice = MapAdvice::Random;
inline constexpr MapAdvice kWordVectorsMapAdvice = MapAdvice::Normal;

// Computes the inverse norms of `count` float32 rows of `dim` values at `rows` into `inverse`, as
// the vector queries compute them; false when a row holds a non-finite value. The command passes
// vectors::KeyedVectors::inverse_norms (io stands below the kernels and computes none itself).
using RowInverseNorms = bool (*)(const float* rows, std::int64_t count, std::int64_t dim,
                                 float* inverse);

struct MapOptions {
  MapMode mode = MapMode::ReadOnly;
  // nullopt: kTableMapAdvice for map_npy, map_safetensors and map_quantized_rows,
  // kWordVectorsMapAdvice for map_word_vectors.
  std::optional<MapAdvice> advice;
  // An .npy + .vocab pair: also check the XXH64 checksum the .vocab's pair line records, which
  // reads the whole matrix once (as load_word_vectors does). Without it the pair line's byte
  // count is checked, and the shared directory lock keeps an embedkit save from being seen
  // half done; a pair left mixed by a crash between the two renames, with the same shape, is
  // then not detected.
  bool verify_pair_checksum = false;
  // With verify_pair_checksum: after a full check, write a one-line record beside the
  // vocabulary ("<vocabulary>.verified") naming the matrix file's device, inode, size and
  // modification and status-change times (to the nanosecond); a later open whose matrix file
  // has exactly that stamp, and whose pair line is the one recorded, skips the hash. Any
  // difference, or a record that is not exactly what this open would write, means a full check
  // (docs/memory-mapping.md, "The pair's checksum, remembered"). The record is not written for
  // a file changed in the last 2 s, nor where it cannot be written (a read-only directory):
  // the open goes on as without it.
  bool remember_pair_verification = false;
  // With remember_pair_verification, for an .npy + .vocab pair mapped ReadOnly: keep the word
  // index and the rows' inverse norms beside the vocabulary ("<vocabulary>.wordindex"), written
  // by an open that verified the pair (checksum or record) and read the vocabulary in full, for
  // files settled as for the record (that open computes the norms with word_index_norms,
  // reading the whole matrix once, and hands them on too); a later open of the unchanged pair (the
  // vocabulary's and the matrix file's stamps, the vocabulary's bytes and the pair line all as
  // stored) takes the index back instead of checking and indexing every word, and hands the norms
  // on (IndexedWordVectors::inverse_norms) so the first query does not compute them. Anything else
  // (no index, another stamp, a damaged, cut or longer file) means the full read, as without
  // it, and a fresh index where the directory can be written (docs/memory-mapping.md, "The word
  // index, stored"). The answers are the same bits either way.
  bool remember_word_index = false;
  // With remember_word_index: how the stored index's norms are computed (see RowInverseNorms).
  // nullptr: the index is stored without norms, and none are handed on.
  RowInverseNorms word_index_norms = nullptr;
};

// How map_word_vectors checked a side vocabulary's pair line against the matrix file.
enum class PairCheck {
  None,        // no side vocabulary, or one without a pair line
  Size,        // the size only (verify_pair_checksum off)
  Checksum,    // the size and the XXH64 of the whole matrix file
  Remembered,  // the size, and the record of an earlier full check of this very file
};

// What map_word_vectors did beyond its result, for callers that report it (and the tests).
struct WordVectorsMapReport {
  PairCheck pair_check = PairCheck::None;
  bool recorded = false;  // a record of this check was written (remember_pair_verification)
  // remember_word_index: the words' index was taken from the stored one (not read word by
  // word), the rows' norms too, and whether this open wrote a stored index.
  bool index_remembered = false;
  bool norms_remembered = false;
  bool index_recorded = false;
};

// A C-order 2-D float32 ('<f4') or float16 ('<f2') array of an .npy file, mapped.
Tensor map_npy(const std::filesystem::path& path, const MapOptions& options = {});

// The tensor `name` of a safetensors file, mapped (any dtype embedkit holds; a table is F32,
// F16 or BF16). IoError when the file has no such tensor (naming those it has).
Tensor map_safetensors(const std::filesystem::path& path, const std::string& name,
                       const MapOptions& options = {});

// Word vectors with the matrix mapped and the words read: an .npy + .vocab pair or a
// safetensors file (the "weight" tensor, F32, the words from its "vocabulary" metadata or the
// side file), as vector_formats.hpp lays them out. `format` is guessed from the extension when
// nullopt; other formats are text or need parsing and are refused (ValueError). `report`, when
// given, says how a side vocabulary's pair line was checked (and whether a record was written).
WordVectors map_word_vectors(const std::filesystem::path& path,
                             std::optional<VectorFormat> format = std::nullopt,
                             const MapOptions& options = {},
                             WordVectorsMapReport* report = nullptr);

// Word vectors mapped as map_word_vectors maps them, with the words in the KeyIndex that found
// them distinct, row i its key i: what vectors::KeyedVectors(KeyIndex, Tensor) takes without
// indexing a million words a second time (BENCHMARKS.md, "First answer without hashing the
// matrix again").
struct IndexedWordVectors {
  KeyIndex words;
  Tensor matrix;
  // The rows' inverse norms when the open knows them (MapOptions::remember_word_index: stored
  // beside the pair, or computed to store them), for vectors::KeyedVectors(KeyIndex, Tensor,
  // std::vector<float>); empty otherwise.
  std::vector<float> inverse_norms;
};
IndexedWordVectors map_indexed_word_vectors(const std::filesystem::path& path,
                                            std::optional<VectorFormat> format = std::nullopt,
                                            const MapOptions& options = {},
                                            WordVectorsMapReport* report = nullptr);

// A row-wise quantized table's packed rows (core/quantized_format.hpp), mapped: what
// nn::QuantizedTable::from_blob takes, the owner keeping the mapping alive. The file is a
// safetensors file whose tensor `name` is "U8" [num_rows, row_bytes] (PyTorch's packed uint8
// tensor as safetensors.torch.save_file writes it) and whose metadata names the format,
// "<name>.quantized_format" = "int8" | "int4" | "int2", and optionally the embedding dimension,
// "<name>.embedding_dim" (else inferred from row_bytes as PyTorch infers it). Always read-only
// (a quantized table is never written): options.mode must be ReadOnly.
struct MappedQuantizedRows {
  std::shared_ptr<const void> owner;
  const std::uint8_t* data = nullptr;
  std::size_t size_bytes = 0;
  std::int64_t num_rows = 0;
  std::int64_t row_bytes = 0;
  QuantizedFormat format = QuantizedFormat::Int8;
  std::optional<std::int64_t> embedding_dim;
};
MappedQuantizedRows map_quantized_rows(const std::filesystem::path& path,
                                       const std::string& name = "weight",
                                       const MapOptions& options = {});

// Writes packed rows in the layout map_quantized_rows reads (atomically, as every writer).
// ValueError when size_bytes != num_rows * row_bytes or the row size is not the format's for
// embedding_dim.
void save_quantized_rows(const std::filesystem::path& path, const std::uint8_t* data,
                         std::size_t size_bytes, std::int64_t num_rows, std::int64_t row_bytes,
                         QuantizedFormat format, std::int64_t embedding_dim,
                         const std::string& name = "weight");

}  // namespace embedkit::io
