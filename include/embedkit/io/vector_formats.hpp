// Word-vector files: a vocabulary (one word per row) and a float32 matrix [V, D], in the
// formats other tools write and read.
//
//   format            extension     layout
//   word2vec text     .txt          "V D\n", then per row "word v1 ... vD\n" (word2vec.c -binary 0)
//   fastText .vec     .vec          the same as word2vec text (fastText's -saveOutput/.vec)
//   word2vec binary   .bin          "V D\n", then per row "word " + D little-endian float32
//                                   + an optional "\n" (as word2vec.c -binary 1 writes)
//   GloVe text        (none)        word2vec text without the header line (--from glove); read
//                                   from a .txt or .vec when no format is named and the first
//                                   line is not the header "V D" (two counts)
//   NumPy .npy        .npy          a float32 C-order [V, D] array (format 1.0, 2.0 or 3.0);
//                                   the words go in a side file, one per line, whose path is
//                                   the .npy path with the extension ".vocab"
//                                   (vectors.npy -> vectors.vocab); a .npy path that itself
//                                   ends in .vocab is refused (ValueError): it is its own side
//                                   file
//   fastText model    (.bin)        fastText's .bin model file (fasttext_model.hpp), written
//                                   from word vectors as a skip-gram model without subwords
//                                   (minn = maxn = bucket = 0), so `fasttext print-word-vectors`
//                                   gives each word its vector (and other words zeros); named
//                                   "fasttext-bin", never guessed (.bin is word2vec binary).
//                                   Reading a fastText model as word vectors takes its subword
//                                   n-grams: models::FastTextModel::load(path).word_vectors();
//                                   the readers here refuse one, by its magic number, saying so
//   safetensors       .safetensors  the matrix is the F32 tensor "weight"; the words are the
//                                   "__metadata__" entry "vocabulary", one per line (so
//                                   Python reads them with metadata["vocabulary"].split("\n"));
//                                   a file without that entry takes its words from the side
//                                   file as for .npy
//
// The text formats and word2vec binary may be gzip-compressed (.vec.gz, .txt.gz, .bin.gz: the
// format is guessed from the extension before ".gz"): a file that starts with the gzip magic is
// decompressed whatever its name (io/gzip_file.hpp: a cut or corrupted stream is an IoError),
// up to half the machine's memory of text. Writing to a .gz path is refused (ValueError):
// compress the written file.
//
// Text rows end with a newline: every writer of these formats (word2vec.c, fastText, GloVe,
// gensim, embedkit) ends each line with "\n". A text file whose last line has no newline was
// cut short, and where it was cut cannot be told ("4.1" may be what is left of "4.125"), so it
// is refused (IoError naming the line) rather than read with a changed last value; add the
// newline if the line is complete. word2vec binary needs no such rule: its header's counts and
// fixed-size values show any cut. A vocabulary's last word may lack its newline (hand-written
// and '\n'.join-ed files are common). A cut .vocab is refused by its word count (the cut
// removed words) or by its pair line (below; the cut went through it), except for the one cut
// no rule can see: one that removes the whole pair line and ends inside the last word.
//
// The .npy + .vocab pair. Two files are never replaced in one atomic step, so an interrupted
// save (a full disk, a SIGKILL between the two renames) or two saves at once could leave the
// matrix of one save with the words of another. embedkit therefore writes both files' data
// and fsyncs them before it renames either (commit_together, atomic_file.hpp), renames them
// under a directory lock that its readers share, and ends the .vocab it writes with the line
//     #embedkit-pair format=1 matrix-bytes=<size of the .npy> matrix-xxh64=<16 hex digits>
// naming the size and XXH64 checksum (xxh64sum, Python's xxhash.xxh64) of the whole .npy
// file. The reader checks it and refuses a pair whose .npy is not the one the .vocab was
// written with (IoError naming both), so a pair loads as one complete save or not at all.
// That line holds spaces, so it can never be a word; a .vocab without it (written by another
// program) is read unchecked, as before. Other programs that read the .vocab line by line see
// every word on the line of its matrix row, and then this one extra last line: drop it (for
// example `words = lines[:-1] if lines[-1].startswith("#embedkit-pair ") else lines`). After
// changing the .npy with another program, delete that line (the pair is refused otherwise).
// The same check applies to a safetensors file's side vocabulary.
//
// A word is non-empty, valid UTF-8 and holds no ASCII whitespace (space, \t, \n, \v, \f, \r):
// the text formats split on whitespace and word2vec binary ends a word at a space, so such a
// word could not be read back. Words are unique. Values are finite.
//
// Inputs: a regular file, or a pipe (/dev/stdin, a FIFO, <(...)) read to its end up to half
// the machine's memory; a directory or a device (/dev/zero) is refused before it is read.
// Errors name the path: "PATH: is a directory", "PATH: cannot read: Input/output error".
// Outputs must be regular files or new paths (atomic_file.hpp refuses links, FIFOs, devices).
//
// Readers treat every file as hostile and never crash: any problem (a header count that
// disagrees with the rows, a row with too few or too many values, a truncated row, a number
// that does not parse, NaN or infinity, a word that is not UTF-8, a duplicate word, a
// vocabulary whose size is not the matrix's) is an IoError that starts with the file's path
// and names the line (text formats), row (binary formats) and word. Nothing is allocated for
// a header's counts before the file's size shows they can be right.
//
// Writers validate everything first (ValueError for a word or value a format cannot hold),
// then replace each file atomically (atomic_file.hpp): an error never leaves a half-written
// file. Text formats print each value in the shortest form that reads back to the same
// float, so every format round-trips bit for bit (-0.0 included).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "embedkit/core/tensor.hpp"

namespace embedkit::io {

// A vocabulary and its float32 matrix [words.size(), D].
struct WordVectors {
  std::vector<std::string> words;
  Tensor matrix;
};

enum class VectorFormat {
  Word2VecText,
  FastTextVec,
  Word2VecBinary,
  GloVe,
  Npy,
  Safetensors,
  FastTextModel
};

// "word2vec", "vec", "word2vec-binary", "glove", "npy", "safetensors", "fasttext-bin".
std::string_view vector_format_name(VectorFormat format);
// Accepts the names above plus "txt", "fasttext" and "bin"; ValueError lists the choices.
VectorFormat parse_vector_format(std::string_view name);
// From the extension (.txt, .vec, .bin, .npy, .safetensors; .txt.gz, .vec.gz, .bin.gz); nullopt
// otherwise (GloVe files are .txt too: load_word_vectors tells them by their first line).
std::optional<VectorFormat> guess_vector_format(const std::filesystem::path& path);
// The side file that holds the words of an .npy (or vocabulary-less safetensors) file.
std::filesystem::path vocabulary_path_for(const std::filesystem::path& matrix_path);
// Every file save_word_vectors(path, ..., format) writes (the path, and the .vocab side file
// of a .npy), so that a caller can check that none of them is one of its inputs. `format` is
// guessed from the extension when nullopt (ValueError when it cannot be).
std::vector<std::filesystem::path> vector_output_files(
    const std::filesystem::path& path, std::optional<VectorFormat> format = std::nullopt);

// Reads a file in `format`; when nullopt, in the format its extension says, and a .txt or .vec
// whose first line is not the header "V D" is read as GloVe (ValueError when the extension says
// nothing). Throws IoError as described above.
WordVectors load_word_vectors(const std::filesystem::path& path,
                              std::optional<VectorFormat> format = std::nullopt);
// Writes `vectors` in `format` (guessed when nullopt). The .npy format writes two files.
void save_word_vectors(const std::filesystem::path& path, const WordVectors& vectors,
                       std::optional<VectorFormat> format = std::nullopt);

// Throws ValueError unless the words and matrix are storable (see the word rules above).
void check_word_vectors(const WordVectors& vectors);

// The formats in memory (for callers with their own storage, and for fuzzing). Errors name
// `source_name` as the file.
WordVectors parse_word2vec_text(std::span<const std::uint8_t> bytes, bool has_header,
                                const std::string& source_name = "<memory>");
std::string serialize_word2vec_text(const WordVectors& vectors, bool with_header);
WordVectors parse_word2vec_binary(std::span<const std::uint8_t> bytes,
                                  const std::string& source_name = "<memory>");
std::string serialize_word2vec_binary(const WordVectors& vectors);
// A float32 C-order 2-D array.
Tensor parse_npy(std::span<const std::uint8_t> bytes, const std::string& source_name = "<memory>");
std::string serialize_npy(const Tensor& matrix);
// The identity of a matrix file that a .vocab's pair line records: the file's size and XXH64.
struct MatrixFileIdentity {
  std::uint64_t bytes = 0;
  std::uint64_t xxh64 = 0;
  bool operator==(const MatrixFileIdentity&) const = default;
};
// Of the whole file's bytes (the .npy header included).
MatrixFileIdentity identify_matrix_file(std::span<const std::uint8_t> file_bytes);
// "1234 bytes, xxh64 0123456789abcdef", for messages.
std::string describe_matrix_file_identity(const MatrixFileIdentity& identity);
// One word per line ("\n" or "\r\n"; the last line's newline is optional), then optionally
// the pair line (see above), which is stored in `*pair` (nullopt when absent) when `pair` is
// given. A malformed pair line, or one of a newer format, is an IoError.
std::vector<std::string> parse_vocabulary(std::span<const std::uint8_t> bytes,
                                          const std::string& source_name = "<memory>",
                                          std::optional<MatrixFileIdentity>* pair = nullptr);
// The words, one per line, each ended by "\n"; then the pair line when `pair` is given.
std::string serialize_vocabulary(const std::vector<std::string>& words,
                                 const std::optional<MatrixFileIdentity>& pair = std::nullopt);
// The safetensors layout above; `side_vocabulary` is used when the metadata has none.
WordVectors parse_vectors_safetensors(std::span<const std::uint8_t> bytes,
                                      const std::string& source_name = "<memory>",
                                      const std::vector<std::string>* side_vocabulary = nullptr);

}  // namespace embedkit::io
