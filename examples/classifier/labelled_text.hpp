// Labelled sentences for the example, read with the library's reader
// (embedkit/models/labelled_text.hpp): the formats are
//   tab    "sentence<TAB>label"              (SST-2 as GLUE ships it)
//   trec   "COARSE:fine question words"      (TREC; the label is the coarse class)
//   fasttext "__label__x [__label__y] words" (fastText; the first label is used here)
// Tokens are the whitespace-separated words, lower-cased (ASCII).
#pragma once

#include <string>
#include <vector>

#include "embedkit/models/labelled_text.hpp"

namespace embedkit::examples {

using models::parse_text_format;  // "auto", "fasttext", "tab", "trec"
using models::TextFormat;

struct LabelledSentence {
  std::string label;
  std::vector<std::string> tokens;
};

// Reads every non-blank line; throws embedkit::IoError naming the file and line for a line
// without a label or without words, for an unreadable file, and for a file with no sentences.
// Auto picks the format from the first non-blank line.
std::vector<LabelledSentence> read_labelled_text(const std::string& path,
                                                 TextFormat format = TextFormat::Auto);

}  // namespace embedkit::examples
