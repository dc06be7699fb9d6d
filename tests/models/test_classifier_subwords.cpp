// The text classifier with subwords (minn/maxn): fastText's supervised input ids, the model file
// (version 2, read back to the same predictions), words outside the vocabulary classified by
// their character n-grams, and fastText's option rules.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/io/safetensors.hpp"
#include "embedkit/models/ngram_hashing.hpp"
#include "embedkit/models/text_classifier.hpp"
#include "models/classify_test_support.hpp"
#include "support/temp_dir.hpp"

namespace embedkit::models {
namespace {

using embedkit_classify_test::Lcg;
using embedkit_test::TempDir;

// Each class has its stems; a word is a stem and an inflection. Training lines use the first
// three inflections, `unseen` lines the two others, so that at test time every keyword is outside
// the vocabulary and only its character n-grams (the stem's) can tell the class.
std::vector<LabelledExample> stem_lines(std::size_t count, bool unseen, std::uint64_t seed) {
  static const std::vector<std::vector<std::string>> stems = {{"gravit", "orbitt", "planet"},
                                                              {"melod", "harmon", "rhythm"},
                                                              {"photos", "chlorop", "leafy"}};
  static const std::vector<std::string> seen = {"ing", "er", "s"};
  static const std::vector<std::string> inflections = {"ation", "ously"};
  Lcg rng{seed};
  std::vector<LabelledExample> out;
  for (std::size_t i = 0; i < count; ++i) {
    LabelledExample e;
    const std::size_t c = rng.next() % stems.size();
    e.labels.push_back(embedkit_classify_test::tok("c", c));
    for (int w = 0; w < 3; ++w)
      e.words.push_back(embedkit_classify_test::tok("w", rng.next() % 20));
    const std::string& stem = stems[c][rng.next() % stems[c].size()];
    e.words.push_back(stem + (unseen ? inflections[rng.next() % 2] : seen[rng.next() % 3]));
    e.line = static_cast<std::int64_t>(i + 1);
    out.push_back(std::move(e));
  }
  return out;
}

ClassifierOptions subword_options() {
  ClassifierOptions o;
  o.dim = 16;
  o.lr = 0.5;
  o.epochs = 10;
  o.buckets = 10000;
  o.minn = 3;
  o.maxn = 6;
  o.threads = 1;
  return o;
}

double accuracy(const TextClassifier& model, const std::vector<LabelledExample>& data) {
  return model.evaluate(data, 1).precision();
}

TEST(ClassifierSubwords, InputIdsAreFastTextsWordThenCharNgramsThenEndOfLineThenWordNgrams) {
  ClassifierOptions o = subword_options();
  o.word_ngrams = 2;
  o.epochs = 1;
  const TextClassifier model =
      TextClassifier::train({{{"lab"}, {"ab", "cd"}, 1}, {{"lab"}, {"ab"}, 2}}, o);
  const Dictionary& d = model.dictionary();
  const std::int64_t words = d.words().size();  // ab, </s>, cd
  ASSERT_EQ(words, 3);
  auto ngrams = [&](const std::string& w) {
    std::vector<std::int64_t> ids;
    append_char_ngram_buckets("<" + w + ">", 3, 6, o.buckets, ids);
    for (std::int64_t& id : ids) id += words;
    return ids;
  };
  std::vector<std::int64_t> expected{*d.words().find("ab")};
  for (const std::int64_t id : ngrams("ab")) expected.push_back(id);
  // "zzz" is outside the vocabulary: no word row, its n-grams all the same (fastText's getLine).
  for (const std::int64_t id : ngrams("zzz")) expected.push_back(id);
  expected.push_back(*d.words().find(Dictionary::kEndOfLine));  // no n-grams of its own
  append_word_ngrams(std::vector<std::uint32_t>{word_hash("ab"), word_hash("zzz"),
                                                word_hash(Dictionary::kEndOfLine)},
                     2, o.buckets, words, expected);
  EXPECT_EQ(model.input_ids({"ab", "zzz"}), expected);
  EXPECT_EQ(ngrams("ab").size(), 3u);  // "<ab", "<ab>", "ab>"
  EXPECT_EQ(model.input_table().size(0), words + o.buckets);
}

TEST(ClassifierSubwords, WithoutWordNgramsTheBucketsAreStillAllocated) {
  const TextClassifier model = TextClassifier::train(stem_lines(50, false, 1), subword_options());
  EXPECT_EQ(model.input_table().size(0), model.dictionary().words().size() + 10000);
  ClassifierOptions plain = subword_options();
  plain.maxn = 0;  // minn means nothing then, as in fastText
  const TextClassifier words_only = TextClassifier::train(stem_lines(50, false, 1), plain);
  EXPECT_EQ(words_only.input_table().size(0), words_only.dictionary().words().size());
}

TEST(ClassifierSubwords, UnseenInflectionsAreClassifiedByTheirNgrams) {
  const auto train = stem_lines(600, false, 3);
  const auto test = stem_lines(300, true, 4);
  const TextClassifier subwords = TextClassifier::train(train, subword_options());
  ClassifierOptions plain = subword_options();
  plain.maxn = 0;
  const TextClassifier words_only = TextClassifier::train(train, plain);
  // Every test keyword is outside both vocabularies.
  for (const LabelledExample& e : test)
    ASSERT_FALSE(subwords.dictionary().words().find(e.words[3]));
  EXPECT_GT(accuracy(subwords, test), 0.95);
  EXPECT_LT(accuracy(words_only, test), 0.6);  // the shared words carry no class
}

TEST(ClassifierSubwords, SaveLoadKeepsOptionsAndPredictions) {
  TempDir dir;
  ClassifierOptions o = subword_options();
  o.minn = 2;
  o.maxn = 5;
  o.word_ngrams = 2;
  const TextClassifier model = TextClassifier::train(stem_lines(200, false, 5), o);
  model.save(dir / "m.safetensors");
  const io::SafetensorsContents file = io::load_safetensors(dir / "m.safetensors");
  EXPECT_EQ(file.metadata.at("text_classifier.version"), "2");
  const TextClassifier loaded = TextClassifier::load(dir / "m.safetensors");
  EXPECT_EQ(loaded.options().minn, 2);
  EXPECT_EQ(loaded.options().maxn, 5);
  for (const LabelledExample& e : stem_lines(40, true, 6)) {
    ASSERT_EQ(loaded.input_ids(e.words), model.input_ids(e.words));
    const auto a = model.predict(e.words, 3);
    const auto b = loaded.predict(e.words, 3);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].label, b[i].label);
      EXPECT_EQ(a[i].probability, b[i].probability);
    }
  }
}

TEST(ClassifierSubwords, ModelsWithoutSubwordsStillWriteVersionOne) {
  TempDir dir;
  ClassifierOptions o = subword_options();
  o.maxn = 0;
  TextClassifier::train(stem_lines(50, false, 7), o).save(dir / "m.safetensors");
  const io::SafetensorsContents file = io::load_safetensors(dir / "m.safetensors");
  EXPECT_EQ(file.metadata.at("text_classifier.version"), "1");
  EXPECT_EQ(file.metadata.count("minn"), 0u);
  EXPECT_EQ(TextClassifier::load(dir / "m.safetensors").options().maxn, 0);
}

TEST(ClassifierSubwords, AVersionTwoFileWithoutSubwordsIsRefused) {
  TempDir dir;
  const TextClassifier model = TextClassifier::train(stem_lines(50, false, 8), subword_options());
  model.save(dir / "m.safetensors");
  io::SafetensorsContents file = io::load_safetensors(dir / "m.safetensors");
  file.metadata["maxn"] = "0";
  io::save_safetensors(dir / "bad.safetensors", file.tensors, file.metadata);
  EXPECT_THROW(TextClassifier::load(dir / "bad.safetensors"), IoError);
  file.metadata["maxn"] = "6";
  file.metadata.erase("minn");
  io::save_safetensors(dir / "bad.safetensors", file.tensors, file.metadata);
  EXPECT_THROW(TextClassifier::load(dir / "bad.safetensors"), IoError);
}

TEST(ClassifierSubwords, BadOptionsAreRefusedByName) {
  auto refused = [](std::int64_t minn, std::int64_t maxn, std::int64_t buckets,
                    const std::string& what) {
    ClassifierOptions o = subword_options();
    o.minn = minn;
    o.maxn = maxn;
    o.buckets = buckets;
    try {
      o.validate();
      ADD_FAILURE() << "accepted minn " << minn << " maxn " << maxn;
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  refused(-1, 6, 100, "minn must be >= 0");
  refused(3, -1, 100, "maxn must be >= 0");
  refused(0, 6, 100, "minn must be >= 1 with subwords");
  refused(4, 3, 100, "maxn must be >= minn");
  refused(3, 6, 0, "maxn > 0 needs buckets >= 1");
  ClassifierOptions off = subword_options();
  off.minn = 0;
  off.maxn = 0;
  off.buckets = 0;
  EXPECT_NO_THROW(off.validate());
}

}  // namespace
}  // namespace embedkit::models
