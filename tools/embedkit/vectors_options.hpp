// What the word-vector subcommands (similar, analogy, eval, convert) share: the --format
// option, loading a vectors file into KeyedVectors, and the neighbor queries' options and
// output.
#pragma once

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "embedkit/core/error.hpp"
#include "embedkit/io/fasttext_model.hpp"
#include "embedkit/io/mapped_table.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/text_classifier.hpp"
#include "embedkit/vectors/hnsw_index.hpp"
#include "embedkit/vectors/keyed_vectors.hpp"
#include "json.hpp"
#include "option_checks.hpp"
#include "same_file.hpp"
#include "shared_options.hpp"
#include "std_streams.hpp"

namespace embedkit::cli {

inline const char* kVectorFormatHelp =
    "word2vec (text), vec, word2vec-binary (bin), glove, npy, safetensors or fasttext-bin "
    "(fastText's model file); guessed from the extension (.txt .vec .bin .npy .safetensors, "
    "and .gz of the first three) when left out, a .bin that is a fastText model and a text "
    "file without the 'V D' header (GloVe) from their contents (word2vec text for '-', "
    "standard input)";

inline const char* kVectorsInputHelp =
    "Word-vector file ('-': standard input, word2vec text unless --format says otherwise)";

// Checks a --format/--from/--to value at parse time, so a bad one is a usage error (exit 2).
inline CLI::Validator vector_format_validator() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        try {
          (void)io::parse_vector_format(value);
          return "";
        } catch (const std::exception& e) {
          return e.what();
        }
      },
      "FORMAT");
}

// The format of a vectors file named on the command line: `format` when given, else guessed
// from the extension; word2vec text for '-' (which has none); `fallback` for any other path,
// or a ValueError that names `option` when there is no fallback.
inline io::VectorFormat format_for(const std::string& path, const std::string& format,
                                   std::optional<io::VectorFormat> fallback,
                                   const std::string& option = "--format") {
  if (!format.empty()) return io::parse_vector_format(format);
  if (is_std_stream(path)) return io::VectorFormat::Word2VecText;
  if (const auto guessed = io::guess_vector_format(path)) return *guessed;
  if (fallback) return *fallback;
  throw ValueError("cannot tell the vector format of '" + path +
                   "' from its extension (.txt, .vec, .bin, .npy, .safetensors): give " + option);
}

// Loads a vectors file, or standard input for '-' (copied to a temporary file first, so every
// format reads it as it reads a file; .npy keeps its words in a side file and cannot).
inline io::WordVectors load_vectors_argument(const std::string& path, const std::string& format,
                                             const std::string& option = "--format") {
  const io::VectorFormat chosen = format_for(path, format, std::nullopt, option);
  if (is_std_stream(path) && chosen == io::VectorFormat::Npy) {
    throw ValueError(
        "npy vectors keep their words in a side file (.vocab): they cannot be read "
        "from standard input; pass the .npy file's path");
  }
  const SpilledInput input(path, /*spill_non_regular=*/false);
  return input.run([&] {
    // A fastText model (named, or a .bin that starts with fastText's magic number): its words'
    // vectors as fastText computes them, subword n-grams included.
    if (chosen == io::VectorFormat::FastTextModel ||
        (chosen == io::VectorFormat::Word2VecBinary && io::file_has_fasttext_magic(input.path()))) {
      return models::FastTextModel::load(input.path()).word_vectors();
    }
    // A text classifier's model (classify train): its words' vectors, as fastText's `nn` and
    // print-word-vectors give them for a supervised model (the model as fastText's .bin).
    if (chosen == io::VectorFormat::Safetensors &&
        models::TextClassifier::is_model_file(input.path())) {
      const models::TextClassifier classifier = models::TextClassifier::load(input.path());
      return models::FastTextModel(models::FastTextModel::from_classifier(classifier))
          .word_vectors();
    }
    // No format named: the contents decide what the extension cannot (GloVe has no header).
    const bool named = !format.empty() || is_std_stream(path);
    return io::load_word_vectors(input.path(),
                                 named ? std::optional<io::VectorFormat>(chosen) : std::nullopt);
  });
}

// An .npy (+ .vocab) or safetensors vectors file that is a regular file, mapped instead of
// read (io/mapped_table.hpp): no copy of the matrix, and the first answer does not wait for the
// file to be read into a buffer first. The pair's checksum is still verified, as the reader
// does. Anything the mapping refuses (a pipe, a truncated or misaligned file, another format)
// is left to load_vectors_argument, which answers the same or fails with its own message, so
// mapping changes how fast an answer comes, never what it is. A SIGBUS in the mapping (the file
// shrank under it) ends the command with a message (docs/memory-mapping.md).
inline std::optional<io::IndexedWordVectors> map_vectors_argument(const std::string& path,
                                                                  const std::string& format,
                                                                  const std::string& option) {
  if (is_std_stream(path)) return std::nullopt;
  const io::VectorFormat chosen = format_for(path, format, std::nullopt, option);
  if (chosen != io::VectorFormat::Npy && chosen != io::VectorFormat::Safetensors) {
    return std::nullopt;
  }
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return std::nullopt;
  io::MapOptions options;
  options.verify_pair_checksum = true;
  // A pair verified once is not hashed again while its matrix file is unchanged (the record
  // beside the vocabulary; skipped where the directory cannot be written).
  options.remember_pair_verification = true;
  // And its word index and row norms are kept beside it, so that a later command neither
  // checks and indexes every word again nor computes the norms (docs/memory-mapping.md).
  options.remember_word_index = true;
  options.word_index_norms = &vectors::KeyedVectors::inverse_norms;
  try {
    io::install_mapped_file_sigbus_handler();
    return io::map_indexed_word_vectors(path, chosen, options);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

inline vectors::KeyedVectors load_keyed_vectors(const std::string& path,
                                                const std::string& format) {
  if (std::optional<io::IndexedWordVectors> mapped =
          map_vectors_argument(path, format, "--format")) {
    return vectors::KeyedVectors(std::move(mapped->words), std::move(mapped->matrix),
                                 std::move(mapped->inverse_norms));
  }
  io::WordVectors v = load_vectors_argument(path, format);
  return vectors::KeyedVectors(std::move(v.words), std::move(v.matrix));
}

// The files a vectors path stands for: the path, and the vocabulary side file of .npy (which
// a safetensors file without a vocabulary entry reads too; its writer never writes one).
enum class Direction { Input, Output };
inline void add_vector_files(std::vector<NamedFile>& files, const std::string& role,
                             const std::string& path, io::VectorFormat format,
                             Direction direction) {
  files.push_back({role, path});
  if (is_std_stream(path)) return;
  if (format == io::VectorFormat::Npy ||
      (format == io::VectorFormat::Safetensors && direction == Direction::Input)) {
    files.push_back({role + "'s vocabulary file", io::vocabulary_path_for(path).string()});
  }
}

// Checks, before any work, that vectors in `format` can go to `out`: '-' takes every format
// but .npy (two files), and a binary format only when standard output is not a terminal.
inline void check_vectors_output(const std::string& out, io::VectorFormat format) {
  if (!is_std_stream(out)) return;
  if (format == io::VectorFormat::Npy) {
    throw ValueError(
        "npy writes two files (the matrix and its .vocab): it cannot go to "
        "standard output; give a file name, or another --format");
  }
  if (format == io::VectorFormat::Word2VecBinary || format == io::VectorFormat::Safetensors ||
      format == io::VectorFormat::FastTextModel) {
    refuse_binary_on_terminal(std::string(io::vector_format_name(format)) + " vectors");
  }
}

// Writes vectors to `out`, or to standard output for '-'.
inline void save_vectors_argument(const std::string& out, const io::WordVectors& v,
                                  io::VectorFormat format) {
  if (!is_std_stream(out)) {
    io::save_word_vectors(out, v, format);
    return;
  }
  check_vectors_output(out, format);
  write_via_temp_file("vectors", [&](const std::filesystem::path& file) {
    io::save_word_vectors(file, v, format);
  });
}

// Where the summary of a command that writes `out` goes: stderr when the data itself goes to
// standard output.
inline std::ostream& summary_stream(const std::string& out) {
  return is_std_stream(out) ? std::cerr : std::cout;
}

// The options of a neighbor query (similar, analogy).
struct NeighborQuery {
  std::string format;
  std::int64_t k = 10;
  std::int64_t restrict_vocab = 0;
  bool json = false;
  bool ann = false;  // --ann: the approximate (HNSW) index instead of the exact scan
  std::int64_t ann_ef = vectors::HnswOptions{}.ef_search;

  // --restrict as KeyedVectors takes it.
  std::int64_t restrict_to() const {
    return restrict_vocab > 0 ? restrict_vocab : vectors::kAllWords;
  }
};

inline void add_neighbor_query_options(CLI::App* app, NeighborQuery& q, const std::string& k_help) {
  add_result_count(app, q.k, k_help, non_negative<std::int64_t>())->capture_default_str();
  app->add_option("--restrict", q.restrict_vocab,
                  "Search only the N most frequent (first) words; 0: all")
      ->check(non_negative<std::int64_t>());
  app->add_option("--format", q.format, kVectorFormatHelp)->check(vector_format_validator());
  app->add_flag("--json", q.json, "Print JSON");
  app->add_flag("--ann", q.ann,
                "Approximate neighbours from an HNSW index, VECTORS.hnsw, built and saved beside "
                "VECTORS when absent (default: the exact search)");
  app->add_option("--ann-ef", q.ann_ef,
                  "Candidates the --ann search keeps: more is slower and finds more of the "
                  "exact answers")
      ->check(positive<std::int64_t>())
      ->capture_default_str();
}

// --ann: `kv` answers from the HNSW index beside the vectors file `path`, loaded and checked
// against the vectors, or built and saved there (atomically) when there is none. An index of
// other vectors, or a corrupt one, is an error (delete it to rebuild it): a file the user may
// want is never replaced behind their back.
inline void use_ann_index(vectors::KeyedVectors& kv, const std::string& path,
                          const NeighborQuery& q, const std::string& command) {
  if (!q.ann) return;
  if (is_std_stream(path)) {
    throw ValueError("--ann needs the vectors in a file (its index is saved beside it), not '-'");
  }
  // Checked before the index is built, so that this mistake writes nothing.
  if (q.k > kv.size()) {
    throw ValueError("-k " + std::to_string(q.k) + " is larger than the vocabulary (" +
                     std::to_string(kv.size()) + " words): --ann answers at most every word");
  }
  vectors::HnswOptions options;
  options.ef_search = q.ann_ef;
  const std::filesystem::path index_path = vectors::HnswIndex::path_for(path);
  bool built = false;
  auto index = std::make_shared<const vectors::HnswIndex>(
      vectors::HnswIndex::open_or_build(index_path, kv, options, &built));
  if (built) {
    std::cerr << command << ": built the HNSW index " << index_path.string() << " (" << kv.size()
              << " words)\n";
  }
  kv.use_index(std::move(index));
}

// [{"word": ..., "score": ...}, ...]
inline Json neighbors_json(const std::vector<vectors::Neighbor>& top) {
  Json out = Json::array();
  for (const auto& nb : top) out.push(Json::object().set("word", nb.word).set("score", nb.score));
  return out;
}

// One 'word<TAB>score' line each.
inline void print_neighbors(const std::vector<vectors::Neighbor>& top) {
  for (const auto& nb : top) std::cout << nb.word << '\t' << nb.score << '\n';
}

}  // namespace embedkit::cli
