// The word index of a verified .npy + .vocab pair, stored beside the vocabulary
// ("<vocabulary>.wordindex"; docs/memory-mapping.md, "The word index, stored"): the KeyIndex's
// hash table over the vocabulary's words and the matrix rows' inverse norms, so that a later
// mapped open of the unchanged pair maps it and uses the table where it lies
// (KeyIndex::from_table over the mapping: sequential checks, not a million probes at random into
// a table larger than the caches, nor a check of every word, nor a copy) and its first query
// does not compute the norms (one pass over the matrix fewer).
//
// The file is one header line, then the body: the table's slots as KeyIndex holds them (a
// size_t hash and an int64 row each, in this machine's byte order), then, when stored, one
// float inverse norm per row. The header:
//
//   embedkit-word-index format=2 endian=little slot-bytes=16 key-hash=K
//   vocabulary-xxh64=X vocabulary-device=D vocabulary-inode=I vocabulary-size=S
//   vocabulary-mtime-ns=M vocabulary-ctime-ns=C matrix-bytes=B matrix-xxh64=H device=D
//   inode=I size=S mtime-ns=M ctime-ns=C words=N slots=T norms=0|1 body-xxh64=Y
//
// (one line, fields separated by single spaces, then spaces up to a length that is a multiple of
// kWordIndexBodyAlignment, the last a newline, so that the body, used where it lies in the mapping,
// is aligned for its slots; format 1 had no padding and was read by copying). K is KeyIndex::hash
// of a fixed key (a build that hashes keys otherwise does not take the table); X the XXH64 of the
// vocabulary file's bytes and the next five its stamp; B and H the pair line's; the next five the
// matrix file's stamp; Y the XXH64 of the body. A stored index is trusted only when its header up
// to "words=" is byte for byte what this open would write for the files it read and mapped, the
// rest is what it would write for the body that follows, the file ends where that body ends, and
// the body's XXH64 is Y; anything else is not an index of this pair. It is written only as
// `.verified` is: for files whose times are settled and unchanged.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "embedkit/core/key_index.hpp"
#include "embedkit/io/mapped_file.hpp"
#include "embedkit/io/mapped_table.hpp"
#include "embedkit/io/vector_formats.hpp"

namespace embedkit::io::detail {

// What a stored index is the index of: the vocabulary file as read (its stamp and the XXH64 of
// its bytes), the matrix file as mapped (its stamp) and the pair line that ties them.
struct WordIndexOwner {
  FileStamp vocabulary;
  std::uint64_t vocabulary_xxh64 = 0;
  FileStamp matrix;
  MatrixFileIdentity pair;
};

// The header line's length is a multiple of this (a cache line; more than any slot needs).
inline constexpr std::size_t kWordIndexBodyAlignment = 64;

// What a stored index holds: its body, in the read-only mapping of the file (which a file
// truncated while mapped turns into SIGBUS: MappedFile's rule, docs/memory-mapping.md).
struct StoredWordIndex {
  std::int64_t words = 0;
  std::span<const KeyIndex::Slot> slots;
  std::span<const float> inverse_norms;    // empty when not stored (a row held a non-finite value)
  std::shared_ptr<const MappedFile> file;  // keeps both spans' bytes mapped
};

// "<vocabulary>.wordindex".
std::filesystem::path word_index_path(const std::filesystem::path& vocabulary);

// The XXH64 of a vocabulary file's bytes.
std::uint64_t vocabulary_xxh64(std::span<const std::uint8_t> bytes);

// The header line of the index of `owner`'s pair, with its body's counts and checksum.
std::string word_index_header(const WordIndexOwner& owner, std::int64_t words, std::size_t slots,
                              bool norms, std::uint64_t body_xxh64);

// The index stored at `path`, when it is exactly an index of `owner`'s pair (see above).
// Never throws: no file, an unreadable one, or any other content is nullopt.
std::optional<StoredWordIndex> load_word_index(const std::filesystem::path& path,
                                               const WordIndexOwner& owner) noexcept;

// After a full read of the vocabulary at `vocabulary` into `index` and a check of the matrix at
// `matrix` against the pair line (`owner`'s stamps taken at open): writes the stored index
// (atomically) when both files still have their stamps and both of each one's times are at
// least pair_record_settle() old, as record_pair does. The inverse norms of `rows` (float32
// [index.size(), dim], the mapped matrix) are computed here by `inverse_norms` (the queries'
// own function, MapOptions::word_index_norms) and stored unless it is null or a row holds a
// non-finite value; when the index is written, they are moved into `norms` for the open to hand
// on. Returns whether it was written; never throws (a read-only directory, a full disk: nothing
// written).
bool record_word_index(const std::filesystem::path& path, const std::filesystem::path& vocabulary,
                       const std::filesystem::path& matrix, const WordIndexOwner& owner,
                       const KeyIndex& index, const float* rows, std::int64_t dim,
                       RowInverseNorms inverse_norms, std::vector<float>& norms) noexcept;

}  // namespace embedkit::io::detail
