// What the word-vector subcommands (similar, analogy, eval, convert) share: the --format
// option and loading a vectors file into KeyedVectors.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "embedkit/io/vector_formats.hpp"
#include "embedkit/vectors/keyed_vectors.hpp"

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

}  // namespace embedkit::cli
