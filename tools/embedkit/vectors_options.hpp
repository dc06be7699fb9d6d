// What the word-vector subcommands (similar, analogy, eval, convert) share: the --format
// option, loading a vectors file into KeyedVectors, and the neighbour queries' options and
// output.
#pragma once

#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "embedkit/io/vector_formats.hpp"
#include "embedkit/vectors/keyed_vectors.hpp"
#include "json.hpp"

namespace embedkit::cli {

inline const char* kVectorFormatHelp =
    "word2vec (text), vec, word2vec-binary (bin), glove, npy or safetensors; "
    "guessed from the extension (.txt .vec .bin .npy .safetensors) when left out";

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

inline std::optional<io::VectorFormat> format_or_guess(const std::string& name) {
  if (name.empty()) return std::nullopt;
  return io::parse_vector_format(name);
}

inline vectors::KeyedVectors load_keyed_vectors(const std::string& path,
                                                const std::string& format) {
  io::WordVectors v = io::load_word_vectors(path, format_or_guess(format));
  return vectors::KeyedVectors(std::move(v.words), std::move(v.matrix));
}

// The options of a neighbour query (similar, analogy).
struct NeighbourQuery {
  std::string format;
  std::int64_t topn = 10;
  std::int64_t restrict_vocab = 0;
  bool json = false;

  // --restrict as KeyedVectors takes it.
  std::int64_t restrict_to() const {
    return restrict_vocab > 0 ? restrict_vocab : vectors::kAllWords;
  }
};

inline void add_neighbour_query_options(CLI::App* app, NeighbourQuery& q,
                                        const std::string& topn_help) {
  app->add_option("--topn", q.topn, topn_help)
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_option("--restrict", q.restrict_vocab,
                  "Search only the N most frequent (first) words; 0: all")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--format", q.format, kVectorFormatHelp)->check(vector_format_validator());
  app->add_flag("--json", q.json, "Print JSON");
}

// [{"word": ..., "score": ...}, ...]
inline Json neighbours_json(const std::vector<vectors::Neighbor>& top) {
  Json out = Json::array();
  for (const auto& nb : top) out.push(Json::object().set("word", nb.word).set("score", nb.score));
  return out;
}

// One 'word<TAB>score' line each.
inline void print_neighbours(const std::vector<vectors::Neighbor>& top) {
  for (const auto& nb : top) std::cout << nb.word << '\t' << nb.score << '\n';
}

}  // namespace embedkit::cli
