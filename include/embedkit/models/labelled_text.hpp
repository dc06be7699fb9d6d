// Labelled text for classification, read from the common formats:
//   fasttext  "__label__x [__label__y ...] words ..."  label tokens (the prefix is an option) may
//             stand anywhere on the line and a line may carry several; the other tokens are words
//   tab       "sentence<TAB>label"                       (SST-2 as GLUE ships it)
//   trec      "COARSE:fine question words"               (TREC; the label is the coarse class)
// Tokens are the whitespace-separated (space, tab, CR, VT, FF) byte strings, taken as they are
// (fastText's rule) unless lowercase is set, which lower-cases ASCII letters only.
//
// Errors are embedkit::IoError naming the file and the 1-based line: a line without a label, a
// line without words, a line that does not fit the format, an unreadable file, and a file with no
// labelled line at all. Blank lines are skipped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace embedkit::models {

enum class TextFormat { Auto, FastText, Tab, Trec };

// "auto", "fasttext", "tab", "trec"; ValueError otherwise.
TextFormat parse_text_format(const std::string& name);
std::string text_format_name(TextFormat format);

struct LabelledExample {
  std::vector<std::string> labels;  // at least one, in line order (repeats kept)
  std::vector<std::string> words;   // at least one
  std::int64_t line = 0;            // 1-based line number in the file
};

struct LabelledTextOptions {
  // Auto: fasttext when the first non-blank line has a token starting with label_prefix, else
  // tab when it holds a tab, else trec.
  TextFormat format = TextFormat::Auto;
  std::string label_prefix = "__label__";
  bool lowercase = false;
};

std::vector<LabelledExample> read_labelled_text(const std::filesystem::path& path,
                                                const LabelledTextOptions& options = {});
// The same from a stream read once to its end (standard input, a pipe); messages name `name`.
std::vector<LabelledExample> read_labelled_text(std::istream& in, const std::string& name,
                                                const LabelledTextOptions& options = {});

// Splits one line in fastText format into labels (prefix removed) and words. Never fails: a line
// without labels gives no labels (what `predict` reads).
void split_fasttext_line(std::string_view line, const LabelledTextOptions& options,
                         std::vector<std::string>& labels, std::vector<std::string>& words);

}  // namespace embedkit::models
