#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/models/labelled_text.hpp"
#include "models/classify_test_support.hpp"
#include "support/temp_dir.hpp"

namespace embedkit::models {
namespace {

using embedkit_test::TempDir;
using Strings = std::vector<std::string>;

// The IoError message of reading `text` (empty when it reads).
std::string error_of(const std::string& text, const LabelledTextOptions& options = {}) {
  TempDir dir;
  try {
    read_labelled_text(dir.write("in.txt", text), options);
  } catch (const IoError& e) {
    return e.what();
  }
  return "";
}

TEST(LabelledText, FastTextLabelsAnywhereAndSeveral) {
  TempDir dir;
  const auto p = dir.write("ft.txt",
                           "__label__pos Great fun\n"
                           "\n"
                           "it was __label__neg dull __label__meh\r\n"
                           "  __label__a\t__label__a x  \n");
  const auto lines = read_labelled_text(p);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].labels, Strings({"pos"}));
  EXPECT_EQ(lines[0].words, Strings({"Great", "fun"}));  // case kept by default
  EXPECT_EQ(lines[0].line, 1);
  EXPECT_EQ(lines[1].labels, Strings({"neg", "meh"}));
  EXPECT_EQ(lines[1].words, Strings({"it", "was", "dull"}));
  EXPECT_EQ(lines[1].line, 3);
  EXPECT_EQ(lines[2].labels, Strings({"a", "a"}));
  EXPECT_EQ(lines[2].words, Strings({"x"}));
}

TEST(LabelledText, TabTrecLowercaseAndPrefix) {
  TempDir dir;
  LabelledTextOptions o;
  o.lowercase = true;
  auto lines = read_labelled_text(dir.write("tab.txt", "A Fine FILM \t1\nDull , dull\t0\n"), o);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].labels, Strings({"1"}));
  EXPECT_EQ(lines[0].words, Strings({"a", "fine", "film"}));
  lines = read_labelled_text(dir.write("trec.txt", "DESC:manner How did it work ?\n"), o);
  EXPECT_EQ(lines[0].labels, Strings({"DESC"}));
  EXPECT_EQ(lines[0].words.front(), "how");
  LabelledTextOptions prefixed;
  prefixed.label_prefix = "#";
  lines = read_labelled_text(dir.write("p.txt", "#x hello\n#y world\n"), prefixed);
  EXPECT_EQ(lines[1].labels, Strings({"y"}));
  EXPECT_EQ(text_format_name(parse_text_format("trec")), "trec");
  EXPECT_THROW(parse_text_format("csv"), ValueError);
}

TEST(LabelledText, ErrorsNameTheFileAndLine) {
  std::string e = error_of("__label__a fine\n__label__b good\nno label here\n");
  EXPECT_NE(e.find("line 3"), std::string::npos) << e;
  EXPECT_NE(e.find("no label"), std::string::npos) << e;
  EXPECT_NE(e.find("in.txt"), std::string::npos) << e;
  e = error_of("__label__a fine\n\n__label__b\n");
  EXPECT_NE(e.find("line 3: no words"), std::string::npos) << e;
  e = error_of("__label__a fine\n__label__ x\n");
  EXPECT_NE(e.find("line 2: empty label"), std::string::npos) << e;
  e = error_of("a b\t1\nno tab here\n");
  EXPECT_NE(e.find("line 2"), std::string::npos) << e;
  LabelledTextOptions trec;
  trec.format = TextFormat::Trec;
  e = error_of("How did it work ?\n", trec);
  EXPECT_NE(e.find("line 1"), std::string::npos) << e;
  e = error_of("");
  EXPECT_NE(e.find("no labelled lines"), std::string::npos) << e;
  e = error_of(" \n\t\n");
  EXPECT_NE(e.find("no labelled lines"), std::string::npos) << e;
  EXPECT_THROW(read_labelled_text("/nonexistent/embedkit/file.txt"), IoError);
}

TEST(LabelledText, SplitLineForPrediction) {
  LabelledTextOptions o;
  Strings labels, words;
  split_fasttext_line("hello __label__x world", o, labels, words);
  EXPECT_EQ(labels, Strings({"x"}));
  EXPECT_EQ(words, Strings({"hello", "world"}));
  split_fasttext_line("", o, labels, words);
  EXPECT_TRUE(labels.empty());
  EXPECT_TRUE(words.empty());
}

}  // namespace
}  // namespace embedkit::models
