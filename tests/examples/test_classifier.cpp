// The textbook classifier learns, is deterministic, and reads its input formats strictly.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>

#include "embedkit/core/error.hpp"
#include "examples/synthetic_text.hpp"
#include "labelled_text.hpp"
#include "support/temp_dir.hpp"
#include "text_classifier.hpp"

namespace embedkit::examples {
namespace {

struct Trained {
  std::vector<float> table;
  double accuracy = 0;
};

Trained train(const std::string& optimizer, double lr, std::uint64_t seed) {
  const auto data = testing::synthetic_sentences(600, 7);
  const std::vector<LabelledSentence> train_set(data.begin(), data.begin() + 500);
  const std::vector<LabelledSentence> test_set(data.begin() + 500, data.end());
  const Vocabulary vocab = Vocabulary::build(train_set);
  Generator gen(seed);
  TextClassifierOptions options;
  options.vocab_size = vocab.num_words();
  options.num_classes = vocab.num_labels();
  options.embedding_dim = 16;
  options.hidden = 16;
  options.optimizer = optimizer;
  options.lr = lr;
  TextClassifier model(options, gen);
  std::vector<std::size_t> order(train_set.size());
  std::iota(order.begin(), order.end(), 0);
  for (int epoch = 0; epoch < 15; ++epoch) {
    for (std::size_t b = 0; b < order.size(); b += 20) {
      model.train_step(make_batch(train_set, order, b, std::min(order.size(), b + 20), vocab));
    }
  }
  std::vector<std::size_t> test_order(test_set.size());
  std::iota(test_order.begin(), test_order.end(), 0);
  return {model.embedding().weight().to_float_vector(),
          model.accuracy(make_batch(test_set, test_order, 0, test_set.size(), vocab))};
}

TEST(TextClassifier, LearnsTheSyntheticClasses) {
  // Chance is 1/3; the class words make the task easy for a bag of words.
  EXPECT_GT(train("adam", 1e-2, 1).accuracy, 0.9);
  EXPECT_GT(train("sgd", 0.5, 1).accuracy, 0.9);
}

TEST(TextClassifier, SameSeedSameWeightsBitForBit) {
  const Trained a = train("adam", 1e-2, 3);
  const Trained b = train("adam", 1e-2, 3);
  const Trained c = train("adam", 1e-2, 4);
  EXPECT_EQ(a.table, b.table);
  EXPECT_NE(a.table, c.table);
}

TEST(TextClassifier, UnknownWordsAndLabels) {
  const auto data = testing::synthetic_sentences(50, 1);
  const Vocabulary vocab = Vocabulary::build(data);
  EXPECT_EQ(vocab.word_id("never-seen"), Vocabulary::kUnknown);
  EXPECT_EQ(vocab.label_id("poetry"), std::nullopt);
  std::vector<LabelledSentence> odd = {{"poetry", {"common_1"}}};
  std::vector<std::size_t> order = {0};
  EXPECT_THROW(make_batch(odd, order, 0, 1, vocab), KeyError);
}

// A file holding `text`, in a temporary directory of its own.
class TempFile {
 public:
  explicit TempFile(const std::string& text) : path_(dir_.write("input.txt", text)) {}
  std::string path() const { return path_.string(); }

 private:
  embedkit_test::TempDir dir_;
  std::filesystem::path path_;
};

TEST(LabelledText, ReadsTheThreeFormats) {
  TempFile tab("a fine film \t1\nDull , dull\t0\n\n");
  auto s = read_labelled_text(tab.path());
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[1].label, "0");
  EXPECT_EQ(s[1].tokens, (std::vector<std::string>{"dull", ",", "dull"}));
  TempFile trec("DESC:manner How did it work ?\nNUM:date When ?\n");
  s = read_labelled_text(trec.path());
  EXPECT_EQ(s[0].label, "DESC");
  EXPECT_EQ(s[0].tokens.front(), "how");
  TempFile ft("__label__pos great fun\n__label__neg meh\n");
  s = read_labelled_text(ft.path());
  EXPECT_EQ(s[0].label, "pos");
  EXPECT_EQ(s[0].tokens, (std::vector<std::string>{"great", "fun"}));
}

TEST(LabelledText, BadInputNamesTheLine) {
  TempFile empty("\n\n");
  EXPECT_THROW(read_labelled_text(empty.path()), IoError);
  TempFile no_words("__label__pos great\n__label__neg\n");
  try {
    read_labelled_text(no_words.path());
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
  TempFile bad_trec("How did it work ?\n");
  EXPECT_THROW(read_labelled_text(bad_trec.path(), TextFormat::Trec), IoError);
  EXPECT_THROW(read_labelled_text("/nonexistent/embedkit/file.txt"), IoError);
}

}  // namespace
}  // namespace embedkit::examples
