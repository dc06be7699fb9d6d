// fastText's model files against Debian's `fasttext` (0.9.2) itself: models it trains here are
// read by embedkit and queried (word vectors with out-of-vocabulary words, predictions), and the
// .bin files embedkit writes (from word vectors, from its subword training and from its text
// classifier) are read by `fasttext print-word-vectors`, `fasttext nn` and `fasttext predict`.
// Exits 77 (CTest's skip) when `fasttext` is not on PATH (or EMBEDKIT_FASTTEXT does not name it).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "embedkit/io/fasttext_model.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/fasttext_quantization.hpp"
#include "embedkit/models/labelled_text.hpp"
#include "embedkit/models/ngram_hashing.hpp"
#include "embedkit/models/text_classifier.hpp"
#include "embedkit/models/word2vec.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using embedkit::models::FastTextModel;

std::string g_fasttext;  // the fastText command

std::string find_fasttext() {
  if (const char* env = std::getenv("EMBEDKIT_FASTTEXT"); env != nullptr && *env != '\0') {
    return fs::exists(env) ? env : "";
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const fs::path candidate = fs::path(dir) / "fasttext";
    if (!dir.empty() && fs::exists(candidate)) return candidate.string();
  }
  return "";
}

std::string quote(const fs::path& p) {
  std::string q = "'";
  q += p.string();
  q += "'";
  return q;
}

// Runs fastText with `args`, standard input from `in` (when not empty) and output into `out`.
void fasttext(const std::string& args, const fs::path& out, const fs::path& in = {}) {
  std::string cmd = quote(g_fasttext) + " " + args;
  if (!in.empty()) cmd += " < " + quote(in);
  cmd += " > " + quote(out) + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd << "\n" << embedkit_test::read_file(out);
}

std::vector<std::string> split(const std::string& line) {
  std::istringstream s(line);
  std::vector<std::string> out;
  for (std::string t; s >> t;) out.push_back(t);
  return out;
}

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream f(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(f, l);) out.push_back(l);
  return out;
}

// fastText prints 5 significant digits.
void expect_printed(float printed, float ours, const std::string& where) {
  EXPECT_NEAR(printed, ours, 1e-6 + 1e-4 * std::fabs(ours)) << where;
}

// Words of 12 topics, each with a shared stem, so that character n-grams matter.
void make_corpus(const fs::path& path, int lines, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const std::vector<std::string> stems = {"walk",  "talk", "house", "garden", "river", "stone",
                                          "naïve", "café", "blue",  "green",  "sing",  "build"};
  const std::vector<std::string> ends = {"", "s", "ed", "ing", "er", "ly"};
  std::ofstream out(path);
  for (int i = 0; i < lines; ++i) {
    const std::size_t topic = rng() % stems.size();
    const int n = 5 + static_cast<int>(rng() % 8);
    for (int w = 0; w < n; ++w) {
      const std::size_t t = rng() % 4 == 0 ? rng() % stems.size() : topic;
      out << (w > 0 ? " " : "") << stems[t] << ends[rng() % ends.size()];
    }
    out << "\n";
  }
}

// Labelled lines: the label is the topic whose words dominate the line.
void make_labelled(const fs::path& path, int lines, std::uint32_t seed, bool with_labels) {
  std::mt19937 rng(seed);
  const std::vector<std::vector<std::string>> topics = {
      {"goal", "match", "team", "score", "league"},
      {"vote", "party", "law", "senate", "election"},
      {"chip", "code", "data", "cloud", "software"},
      {"rain", "storm", "wind", "cloud", "sun"}};
  const std::vector<std::string> names = {"sport", "politics", "tech", "weather"};
  std::ofstream out(path);
  for (int i = 0; i < lines; ++i) {
    const std::size_t t = rng() % topics.size();
    if (with_labels) out << "__label__" << names[t] << " ";
    const int n = 4 + static_cast<int>(rng() % 6);
    for (int w = 0; w < n; ++w) {
      const auto& topic = rng() % 3 == 0 ? topics[rng() % topics.size()] : topics[t];
      out << (w > 0 ? " " : "") << topic[rng() % topic.size()];
    }
    out << "\n";
  }
}

// Query words: some in the vocabulary, some never seen (their vectors come from n-grams).
const std::vector<std::string> kQueries = {"walk",      "walked",    "gardener", "</s>",
                                           "naïveness", "cafétéria", "walkable", "stonework",
                                           "bluest",    "xylophone", "é"};

// fastText's `mode` (skipgram, cbow) model of minn 3, maxn 6 read by embedkit: its vectors, for
// words in the vocabulary and outside it, are what `fasttext print-word-vectors` prints.
void expect_fasttext_word_vectors(const std::string& mode) {
  embedkit_test::TempDir dir;
  make_corpus(dir / "corpus.txt", 400, 7);
  fasttext(mode + " -input " + quote(dir / "corpus.txt") + " -output " + quote(dir / "sg") +
               " -dim 12 -minn 3 -maxn 6 -minCount 2 -bucket 5000 -epoch 2 -thread 1",
           dir / "train.log");
  std::string words;
  for (const auto& w : kQueries) words += w + "\n";
  dir.write("queries.txt", words);
  fasttext("print-word-vectors " + quote(dir / "sg.bin"), dir / "printed.txt", dir / "queries.txt");

  const FastTextModel model = FastTextModel::load(dir / "sg.bin");
  EXPECT_EQ(model.args().minn, 3);
  EXPECT_EQ(model.args().maxn, 6);
  EXPECT_EQ(model.args().bucket, 5000);
  EXPECT_EQ(model.args().model, mode == "cbow" ? embedkit::io::FastTextModelType::Cbow
                                               : embedkit::io::FastTextModelType::SkipGram);
  const auto printed = lines_of(dir / "printed.txt");
  ASSERT_EQ(printed.size(), kQueries.size());
  int oov = 0;
  for (std::size_t i = 0; i < kQueries.size(); ++i) {
    const auto tokens = split(printed[i]);
    ASSERT_EQ(tokens.size(), 13u) << printed[i];
    EXPECT_EQ(tokens[0], kQueries[i]);
    if (!model.word_id(kQueries[i])) ++oov;
    const std::vector<float> ours = model.word_vector(kQueries[i]);
    for (std::size_t j = 0; j < 12; ++j) {
      expect_printed(std::stof(tokens[j + 1]), ours[j],
                     kQueries[i] + "[" + std::to_string(j) + "]");
    }
  }
  EXPECT_EQ(oov, 7);  // the test does test words outside the vocabulary

  // The .vec fastText wrote holds the same vectors as word_vectors().
  const auto vec = lines_of(dir / "sg.vec");
  const embedkit::io::WordVectors all = model.word_vectors();
  ASSERT_EQ(vec.size(), all.words.size() + 1);
  for (std::size_t r = 0; r < all.words.size(); ++r) {
    const auto tokens = split(vec[r + 1]);
    ASSERT_EQ(tokens[0], all.words[r]);
    for (std::size_t j = 0; j < 12; ++j) {
      expect_printed(std::stof(tokens[j + 1]), all.matrix.data<float>()[r * 12 + j], all.words[r]);
    }
  }
}

TEST(FastTextModelInterop, SkipGramWordVectorsMatchPrintWordVectors) {
  expect_fasttext_word_vectors("skipgram");
}

TEST(FastTextModelInterop, CbowWordVectorsMatchPrintWordVectors) {
  expect_fasttext_word_vectors("cbow");
}

// embedkit's subword training (skip-gram and CBOW) saved as a .bin: `fasttext
// print-word-vectors` prints, for words in the vocabulary and outside it, the vectors embedkit
// trained (Word2VecResult::vectors) and builds (FastTextModel::word_vector).
TEST(FastTextModelInterop, OurSubwordModelsReadByFastText) {
  for (const auto architecture : {embedkit::models::Word2VecArchitecture::SkipGram,
                                  embedkit::models::Word2VecArchitecture::Cbow}) {
    embedkit_test::TempDir dir;
    make_corpus(dir / "corpus.txt", 400, 9);
    embedkit::models::Word2VecOptions o;
    o.architecture = architecture;
    o.dim = 12;
    o.min_count = 2;
    o.epochs = 3;
    o.threads = 1;
    o.minn = 3;
    o.maxn = 6;
    o.bucket = 5000;
    const embedkit::models::Word2VecResult r =
        embedkit::models::train_word2vec(dir / "corpus.txt", o);
    embedkit::io::save_fasttext_model(dir / "ours.bin", FastTextModel::from_word2vec(r, o));
    std::string words;
    for (const auto& w : kQueries) words += w + "\n";
    dir.write("queries.txt", words);
    fasttext("print-word-vectors " + quote(dir / "ours.bin"), dir / "printed.txt",
             dir / "queries.txt");
    const FastTextModel model = FastTextModel::load(dir / "ours.bin");
    const auto printed = lines_of(dir / "printed.txt");
    ASSERT_EQ(printed.size(), kQueries.size());
    int oov = 0;
    for (std::size_t i = 0; i < kQueries.size(); ++i) {
      const auto tokens = split(printed[i]);
      ASSERT_EQ(tokens.size(), 13u) << printed[i];
      EXPECT_EQ(tokens[0], kQueries[i]);
      const auto id = r.dictionary.words().find(kQueries[i]);
      oov += !id;
      const std::vector<float> built = model.word_vector(kQueries[i]);
      for (std::size_t j = 0; j < 12; ++j) {
        const std::string where = kQueries[i] + "[" + std::to_string(j) + "]";
        expect_printed(std::stof(tokens[j + 1]), built[j], where);
        if (id) {
          expect_printed(std::stof(tokens[j + 1]),
                         r.vectors.data<float>()[static_cast<std::size_t>(*id) * 12 + j], where);
        }
      }
    }
    EXPECT_GE(oov, 7);  // "</s>" too: embedkit's word2vec has no end-of-line word
  }
}

// Our predictions against `fasttext predict-prob FILE 2` line by line.
void expect_predictions_match(const FastTextModel& model, const fs::path& printed,
                              const fs::path& test) {
  const auto lines = lines_of(test);
  const auto out = lines_of(printed);
  ASSERT_EQ(out.size(), lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto ours = model.predict(split(lines[i]), 2);
    const auto theirs = split(out[i]);
    ASSERT_EQ(theirs.size(), 2 * ours.size()) << out[i];
    for (std::size_t p = 0; p < ours.size(); ++p) {
      EXPECT_EQ(ours[p].text, theirs[2 * p]) << "line " << i + 1 << ": " << lines[i];
      expect_printed(std::stof(theirs[2 * p + 1]), static_cast<float>(ours[p].probability),
                     "line " + std::to_string(i + 1));
    }
  }
}

TEST(FastTextModelInterop, SupervisedPredictionsMatchPredictProb) {
  embedkit_test::TempDir dir;
  make_labelled(dir / "train.txt", 600, 3, true);
  make_labelled(dir / "test.txt", 80, 4, false);
  for (const std::string loss : {"softmax", "ova", "hs", "ns"}) {
    SCOPED_TRACE(loss);
    const fs::path out = dir / ("sup-" + loss);
    fasttext("supervised -input " + quote(dir / "train.txt") + " -output " + quote(out) +
                 " -dim 8 -wordNgrams 2 -bucket 3000 -epoch 5 -lr 0.5 -thread 1 -loss " + loss,
             dir / "train.log");
    fs::path bin = out;
    bin += ".bin";
    fasttext("predict-prob " + quote(bin) + " " + quote(dir / "test.txt") + " 2",
             dir / "printed.txt");
    const FastTextModel model = FastTextModel::load(bin);
    EXPECT_TRUE(model.supervised());
    EXPECT_EQ(model.args().word_ngrams, 2);
    EXPECT_EQ(model.file().dictionary.labels.size(), 4u);
    expect_predictions_match(model, dir / "printed.txt", dir / "test.txt");
  }
}

// `fasttext print-sentence-vectors` against sentence_vector(), line by line.
void expect_sentence_vectors_match(const FastTextModel& model, const fs::path& bin,
                                   const fs::path& text, const fs::path& printed) {
  fasttext("print-sentence-vectors " + quote(bin), printed, text);
  const auto lines = lines_of(text);
  const auto out = lines_of(printed);
  ASSERT_EQ(out.size(), lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto theirs = split(out[i]);
    const auto ours = model.sentence_vector(split(lines[i]));
    ASSERT_EQ(theirs.size(), ours.size());
    for (std::size_t j = 0; j < ours.size(); ++j) {
      expect_printed(std::stof(theirs[j]), ours[j], "line " + std::to_string(i + 1));
    }
  }
}

TEST(FastTextModelInterop, SentenceVectorsMatchPrintSentenceVectors) {
  embedkit_test::TempDir dir;
  make_labelled(dir / "train.txt", 400, 31, true);
  make_labelled(dir / "test.txt", 40, 32, false);
  fasttext("supervised -input " + quote(dir / "train.txt") + " -output " + quote(dir / "sup") +
               " -dim 6 -wordNgrams 2 -bucket 2000 -epoch 3 -thread 1",
           dir / "train.log");
  expect_sentence_vectors_match(FastTextModel::load(dir / "sup.bin"), dir / "sup.bin",
                                dir / "test.txt", dir / "sup.txt");
  make_corpus(dir / "corpus.txt", 300, 33);
  fasttext("cbow -input " + quote(dir / "corpus.txt") + " -output " + quote(dir / "cbow") +
               " -dim 6 -minn 2 -maxn 4 -minCount 2 -bucket 3000 -epoch 2 -thread 1",
           dir / "train.log");
  dir.write("sentences.txt", "walk the gardens\nxylophone stonework naïveness\n");
  expect_sentence_vectors_match(FastTextModel::load(dir / "cbow.bin"), dir / "cbow.bin",
                                dir / "sentences.txt", dir / "cbow.txt");
}

TEST(FastTextModelInterop, QuantizedPredictionsMatchPredictProb) {
  embedkit_test::TempDir dir;
  make_labelled(dir / "train.txt", 600, 5, true);
  make_labelled(dir / "test.txt", 80, 6, false);
  const fs::path out = dir / "q";
  fasttext("supervised -input " + quote(dir / "train.txt") + " -output " + quote(out) +
               " -dim 8 -wordNgrams 2 -bucket 3000 -epoch 5 -lr 0.5 -thread 1",
           dir / "train.log");
  // -qnorm: the norm quantizer too; -cutoff prunes the buckets. (-qout needs 256 labels.)
  fasttext("quantize -input " + quote(dir / "train.txt") + " -output " + quote(out) +
               " -qnorm -cutoff 300 -dsub 2",
           dir / "quantize.log");
  fasttext("predict-prob " + quote(dir / "q.ftz") + " " + quote(dir / "test.txt") + " 2",
           dir / "printed.txt");
  const FastTextModel model = FastTextModel::load(dir / "q.ftz");
  EXPECT_TRUE(model.file().quantized_input);
  EXPECT_FALSE(model.file().quantized_output);
  EXPECT_GE(model.file().dictionary.prune_index_size, 0);
  expect_predictions_match(model, dir / "printed.txt", dir / "test.txt");
}

TEST(FastTextModelInterop, OurWordVectorsReadByFastText) {
  embedkit_test::TempDir dir;
  embedkit::io::WordVectors v;
  v.words = {"alpha", "beta", "gamma", "naïve", "</s>"};
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  v.matrix = embedkit::Tensor::empty({5, 7});
  for (std::int64_t i = 0; i < 35; ++i) v.matrix.data<float>()[i] = normal(rng);
  embedkit::io::save_word_vectors(dir / "ours.bin", v, embedkit::io::VectorFormat::FastTextModel);
  dir.write("queries.txt", "alpha\nnaïve\ngamma\nunseen\nbeta\n");
  fasttext("print-word-vectors " + quote(dir / "ours.bin"), dir / "printed.txt",
           dir / "queries.txt");
  const auto printed = lines_of(dir / "printed.txt");
  const std::vector<std::pair<std::string, int>> expected = {
      {"alpha", 0}, {"naïve", 3}, {"gamma", 2}, {"unseen", -1}, {"beta", 1}};
  ASSERT_EQ(printed.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto tokens = split(printed[i]);
    ASSERT_EQ(tokens.size(), 8u);
    EXPECT_EQ(tokens[0], expected[i].first);
    for (std::int64_t j = 0; j < 7; ++j) {
      const float ours =
          expected[i].second < 0 ? 0.0f : v.matrix.data<float>()[expected[i].second * 7 + j];
      expect_printed(std::stof(tokens[static_cast<std::size_t>(j) + 1]), ours, tokens[0]);
    }
  }
}

TEST(FastTextModelInterop, OurClassifierPredictedByFastText) {
  embedkit_test::TempDir dir;
  make_labelled(dir / "train.txt", 600, 8, true);
  make_labelled(dir / "test.txt", 100, 9, false);
  for (const auto loss : {embedkit::models::ClassifierLoss::Softmax,
                          embedkit::models::ClassifierLoss::NegativeSampling}) {
    SCOPED_TRACE(embedkit::models::classifier_loss_name(loss));
    embedkit::models::ClassifierOptions o;
    o.dim = 8;
    o.epochs = 5;
    o.lr = 0.5;
    o.word_ngrams = 2;
    o.buckets = 3000;
    o.loss = loss;
    const auto model = embedkit::models::TextClassifier::train(
        embedkit::models::read_labelled_text(dir / "train.txt"), o);
    embedkit::io::save_fasttext_model(dir / "ours.bin", FastTextModel::from_classifier(model));
    fasttext("predict " + quote(dir / "ours.bin") + " " + quote(dir / "test.txt"),
             dir / "printed.txt");
    const auto lines = lines_of(dir / "test.txt");
    const auto printed = lines_of(dir / "printed.txt");
    ASSERT_EQ(printed.size(), lines.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const auto ours = model.predict(split(lines[i]), 1);
      ASSERT_EQ(ours.size(), 1u);
      EXPECT_EQ("__label__" + model.dictionary().labels().text(ours[0].label), printed[i])
          << "line " << i + 1 << ": " << lines[i];
    }
    // Read back by embedkit, the file predicts what the classifier predicts.
    const FastTextModel back = FastTextModel::load(dir / "ours.bin");
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const auto theirs = back.predict(split(lines[i]), 1);
      ASSERT_EQ(theirs.size(), 1u);
      EXPECT_EQ(theirs[0].text, printed[i]);
    }
  }
}

// embedkit quantize's .ftz (models/fasttext_quantization.hpp) read by fastText: `fasttext
// predict-prob` gives, line for line, the labels and probabilities embedkit predicts from the
// codes, and `fasttext test` counts what `FastTextModel::evaluate` counts; with every option
// (qnorm, cutoff, qout on 2 labels, which fastText itself cannot quantize), with none, and with
// the cutoff's rows retrained on the training lines (fastText's -retrain).
TEST(FastTextModelInterop, OurQuantizedModelsPredictedByFastText) {
  embedkit_test::TempDir dir;
  make_labelled(dir / "train.txt", 600, 12, true);
  make_labelled(dir / "test.txt", 100, 13, false);
  make_labelled(dir / "labelled-test.txt", 100, 14, true);
  embedkit::models::ClassifierOptions o;
  o.dim = 10;
  o.epochs = 5;
  o.lr = 0.5;
  o.word_ngrams = 2;
  o.buckets = 3000;
  const auto model = embedkit::models::TextClassifier::train(
      embedkit::models::read_labelled_text(dir / "train.txt"), o);
  const embedkit::io::FastTextModelFile dense = FastTextModel::from_classifier(model);
  const auto train = embedkit::models::read_labelled_text(dir / "train.txt");
  embedkit::models::FastTextRetraining retrain;
  retrain.lines = &train;
  retrain.epochs = 3;
  retrain.lr = 0.2;
  for (const int variant : {0, 1, 2}) {
    SCOPED_TRACE(variant == 0   ? "defaults"
                 : variant == 1 ? "dsub 3, qnorm, qout, cutoff 500"
                                : "dsub 3, qnorm, qout, cutoff 500, retrained");
    embedkit::models::FastTextQuantizeOptions q;
    if (variant > 0) {
      q.dsub = 3;  // 10 = 3 + 3 + 3 + 1
      q.qnorm = true;
      q.qout = true;
      q.cutoff = 500;
    }
    const embedkit::io::FastTextModelFile file =
        embedkit::models::quantize_fasttext_model(dense, q, variant == 2 ? &retrain : nullptr);
    embedkit::io::save_fasttext_model(dir / "ours.ftz", file);
    const FastTextModel ours = FastTextModel::load(dir / "ours.ftz");
    fasttext("predict-prob " + quote(dir / "ours.ftz") + " " + quote(dir / "test.txt") + " 2",
             dir / "printed.txt");
    expect_predictions_match(ours, dir / "printed.txt", dir / "test.txt");
    fasttext("test " + quote(dir / "ours.ftz") + " " + quote(dir / "labelled-test.txt"),
             dir / "tested.txt");
    const auto r =
        ours.evaluate(embedkit::models::read_labelled_text(dir / "labelled-test.txt"), 1);
    const auto tested = lines_of(dir / "tested.txt");
    ASSERT_GE(tested.size(), 2u);
    ASSERT_EQ(tested[1].rfind("P@1\t", 0), 0u) << tested[1];
    EXPECT_NEAR(std::stod(tested[1].substr(4)), r.precision(), 5e-4);  // 3 digits printed
    EXPECT_EQ(tested[0], "N\t" + std::to_string(r.examples));
  }
}

// Labelled lines where subwords matter: each label has stems, each keyword a stem and an
// inflection; training lines use the first four inflections, `unseen` lines the three others, so
// that at test time the keywords are outside the vocabulary and only their n-grams tell the label.
void make_stem_labelled(const fs::path& path, int lines, std::uint32_t seed, bool unseen) {
  std::mt19937 rng(seed);
  const std::vector<std::vector<std::string>> stems = {{"footbal", "goalkeep", "stadium"},
                                                       {"parliament", "senator", "elector"},
                                                       {"softwar", "compil", "algorithm"},
                                                       {"rainfal", "thunder", "humid"}};
  const std::vector<std::string> names = {"sport", "politics", "tech", "weather"};
  const std::vector<std::string> seen = {"s", "ing", "er", "ed"};
  const std::vector<std::string> others = {"ation", "ously", "ist"};
  std::ofstream out(path);
  for (int i = 0; i < lines; ++i) {
    const std::size_t t = rng() % stems.size();
    out << "__label__" << names[t];
    const int n = 3 + static_cast<int>(rng() % 4);
    for (int w = 0; w < n; ++w) out << " the" << rng() % 15;  // words every label shares
    const auto& ends = unseen ? others : seen;
    out << " " << stems[t][rng() % stems[t].size()] << ends[rng() % ends.size()] << "\n";
  }
}

// Share of lines of `test` (labelled) whose label is `predicted` (one label a line).
double accuracy(const fs::path& test, const std::vector<std::string>& predicted) {
  const auto lines = lines_of(test);
  EXPECT_EQ(lines.size(), predicted.size());
  int right = 0;
  for (std::size_t i = 0; i < lines.size() && i < predicted.size(); ++i) {
    right += split(lines[i]).at(0) == predicted[i];
  }
  return lines.empty() ? 0.0 : static_cast<double>(right) / static_cast<double>(lines.size());
}

#ifdef EMBEDKIT_CLI
// Runs the embedkit command; its output goes to `out`.
int embedkit(const std::string& args, const fs::path& out) {
  const std::string cmd = quote(EMBEDKIT_CLI) + " " + args + " > " + quote(out) + " 2>&1";
  return std::system(cmd.c_str());
}

// Lines "word score" of `fasttext nn` (the first of each query after its "Query word? ").
std::vector<std::pair<std::string, float>> nn_lines(const fs::path& p) {
  std::vector<std::pair<std::string, float>> out;
  for (std::string line : lines_of(p)) {
    const std::string prompt = "Query word? ";
    while (line.starts_with(prompt)) line = line.substr(prompt.size());
    const auto t = split(line);
    if (t.size() == 2) out.emplace_back(t[0], std::stof(t[1]));
  }
  return out;
}

// `embedkit train --minn 3 --maxn 6 -o ours.bin` against fastText: `fasttext
// print-word-vectors ours.bin` prints the .vec embedkit wrote beside it, and `fasttext nn
// ours.bin` finds the neighbours `embedkit similar ours.bin` finds, for words in the
// vocabulary and outside it.
TEST(FastTextModelInterop, CommandSubwordModelAgreesWithFastText) {
  embedkit_test::TempDir dir;
  make_corpus(dir / "corpus.txt", 600, 23);
  ASSERT_EQ(embedkit("train " + quote(dir / "corpus.txt") + " -o " + quote(dir / "ours.bin") +
                         " --minn 3 --maxn 6 --buckets 5000 --dim 16 --min-count 2 --epochs 5"
                         " --threads 1 --seed 3",
                     dir / "train.log"),
            0)
      << embedkit_test::read_file(dir / "train.log");
  const auto vec = lines_of(dir / "ours.vec");
  ASSERT_GT(vec.size(), 10u);
  std::string words;
  for (std::size_t r = 1; r < vec.size(); ++r) words += split(vec[r])[0] + "\n";
  dir.write("vocabulary.txt", words);
  fasttext("print-word-vectors " + quote(dir / "ours.bin"), dir / "printed.txt",
           dir / "vocabulary.txt");
  const auto printed = lines_of(dir / "printed.txt");
  ASSERT_EQ(printed.size(), vec.size() - 1);
  for (std::size_t r = 0; r < printed.size(); ++r) {
    const auto theirs = split(printed[r]);
    const auto ours = split(vec[r + 1]);
    ASSERT_EQ(theirs.size(), 17u);
    ASSERT_EQ(theirs[0], ours[0]);
    for (std::size_t j = 1; j < 17; ++j) {
      expect_printed(std::stof(theirs[j]), std::stof(ours[j]), ours[0]);
    }
  }
  // Neighbours: the same words in the same order, the same scores (5 digits), except where two
  // scores are too close for the printed digits to order them.
  constexpr int kK = 5;
  for (const std::string query : {"walk", "garden", "walkable", "gardenly", "stonework"}) {
    dir.write("query.txt", query + "\n");
    fasttext("nn " + quote(dir / "ours.bin") + " " + std::to_string(kK), dir / "nn.txt",
             dir / "query.txt");
    ASSERT_EQ(
        embedkit("similar " + quote(dir / "ours.bin") + " " + query + " -k " + std::to_string(kK),
                 dir / "similar.txt"),
        0)
        << embedkit_test::read_file(dir / "similar.txt");
    const auto theirs = nn_lines(dir / "nn.txt");
    std::vector<std::pair<std::string, float>> ours;
    for (const auto& line : lines_of(dir / "similar.txt")) {
      const auto t = split(line);
      if (t.size() == 2) ours.emplace_back(t[0], std::stof(t[1]));
    }
    ASSERT_EQ(theirs.size(), static_cast<std::size_t>(kK)) << query;
    ASSERT_EQ(ours.size(), static_cast<std::size_t>(kK)) << query;
    for (std::size_t i = 0; i < ours.size(); ++i) {
      expect_printed(theirs[i].second, ours[i].second, query + " #" + std::to_string(i));
      const bool tie =
          (i > 0 && std::fabs(ours[i].second - ours[i - 1].second) < 2e-5f) ||
          (i + 1 < ours.size() && std::fabs(ours[i].second - ours[i + 1].second) < 2e-5f);
      if (!tie) {
        EXPECT_EQ(theirs[i].first, ours[i].first) << query << " #" << i;
      }
    }
  }
}

TEST(FastTextModelInterop, CommandReadsAndWritesFastTextModels) {
  embedkit_test::TempDir dir;
  make_corpus(dir / "corpus.txt", 400, 17);
  fasttext("skipgram -input " + quote(dir / "corpus.txt") + " -output " + quote(dir / "sg") +
               " -dim 10 -minn 3 -maxn 6 -minCount 2 -bucket 5000 -epoch 2 -thread 1",
           dir / "train.log");
  // convert: fastText's .bin (told by its magic) to .vec gives what fastText's own .vec holds.
  ASSERT_EQ(embedkit("convert " + quote(dir / "sg.bin") + " " + quote(dir / "ours.vec"),
                     dir / "convert.log"),
            0)
      << embedkit_test::read_file(dir / "convert.log");
  const auto theirs = lines_of(dir / "sg.vec");
  const auto ours = lines_of(dir / "ours.vec");
  ASSERT_EQ(ours.size(), theirs.size());
  EXPECT_EQ(ours[0], theirs[0]);
  for (std::size_t r = 1; r < ours.size(); ++r) {
    const auto a = split(ours[r]);
    const auto b = split(theirs[r]);
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(a[0], b[0]);
    for (std::size_t j = 1; j < a.size(); ++j)
      expect_printed(std::stof(b[j]), std::stof(a[j]), a[0]);
  }
  // similar reads the .bin directly.
  ASSERT_EQ(embedkit("similar " + quote(dir / "sg.bin") + " walk --topn 3", dir / "similar.txt"), 0)
      << embedkit_test::read_file(dir / "similar.txt");
  EXPECT_EQ(lines_of(dir / "similar.txt").size(), 3u);
  // And back: vectors to a fastText .bin that fastText reads.
  ASSERT_EQ(embedkit("convert " + quote(dir / "ours.vec") + " " + quote(dir / "back.bin") +
                         " --to fasttext-bin",
                     dir / "convert2.log"),
            0)
      << embedkit_test::read_file(dir / "convert2.log");
  dir.write("queries.txt", "walk\ngardens\n");
  fasttext("print-word-vectors " + quote(dir / "back.bin"), dir / "printed.txt",
           dir / "queries.txt");
  const FastTextModel original = FastTextModel::load(dir / "sg.bin");
  const auto printed = lines_of(dir / "printed.txt");
  ASSERT_EQ(printed.size(), 2u);
  for (const auto& line : printed) {
    const auto tokens = split(line);
    const auto v = original.word_vector(tokens[0]);
    ASSERT_EQ(tokens.size(), v.size() + 1);
    for (std::size_t j = 0; j < v.size(); ++j) {
      // Printed twice at 5 digits (by us in .vec, by fastText now): twice the tolerance.
      EXPECT_NEAR(std::stof(tokens[j + 1]), v[j], 2e-6 + 2e-4 * std::fabs(v[j])) << line;
    }
  }
}
TEST(FastTextModelInterop, CommandConvertsAClassifierForFastTextPredict) {
  embedkit_test::TempDir dir;
  make_labelled(dir / "train.txt", 600, 21, true);
  make_labelled(dir / "test.txt", 60, 22, false);
  ASSERT_EQ(embedkit("classify train " + quote(dir / "train.txt") + " " +
                         quote(dir / "model.safetensors") +
                         " --dim 8 --epochs 5 --lr 0.5 --word-ngrams 2 --buckets 3000",
                     dir / "train.log"),
            0)
      << embedkit_test::read_file(dir / "train.log");
  ASSERT_EQ(embedkit("convert " + quote(dir / "model.safetensors") + " " + quote(dir / "m.bin") +
                         " --to fasttext-bin",
                     dir / "convert.log"),
            0)
      << embedkit_test::read_file(dir / "convert.log");
  fasttext("predict " + quote(dir / "m.bin") + " " + quote(dir / "test.txt"), dir / "theirs.txt");
  const auto model = embedkit::models::TextClassifier::load(dir / "model.safetensors");
  const auto lines = lines_of(dir / "test.txt");
  const auto theirs = lines_of(dir / "theirs.txt");
  ASSERT_EQ(theirs.size(), lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto ours = model.predict(split(lines[i]), 1);
    EXPECT_EQ("__label__" + model.dictionary().labels().text(ours.at(0).label), theirs[i])
        << "line " << i + 1;
  }
}

// A fastText classifier trained with `-label __cls__`: its file does not store the prefix, so
// `classify test` and `predict` refuse it under fastText's default (naming --label-prefix, and
// printing nothing), and with `--label-prefix __cls__` (or fastText's `-label`) they give what
// `fasttext test` and `fasttext predict` give.
TEST(FastTextModelInterop, CommandTakesTheLabelPrefixOfAFastTextModel) {
  embedkit_test::TempDir dir;
  for (const auto& [name, lines, seed] :
       {std::tuple{"train.txt", 600, 41u}, std::tuple{"test.txt", 80, 42u}}) {
    make_labelled(dir / "default.txt", lines, seed, true);
    std::string text = embedkit_test::read_file(dir / "default.txt");
    for (std::size_t at = 0; (at = text.find("__label__", at)) != std::string::npos;) {
      text.replace(at, 9, "__cls__");
    }
    dir.write(name, text);
  }
  fasttext("supervised -input " + quote(dir / "train.txt") + " -output " + quote(dir / "m") +
               " -label __cls__ -dim 8 -epoch 5 -lr 0.5 -thread 1",
           dir / "train.log");
  const std::string model = quote(dir / "m.bin");
  const std::string test = quote(dir / "test.txt");

  EXPECT_EQ(embedkit("classify test " + model + " " + test, dir / "refused.txt"), 1 << 8);
  const std::string refused = embedkit_test::read_file(dir / "refused.txt");
  EXPECT_NE(refused.find("does not start with the label prefix '__label__'"), std::string::npos)
      << refused;
  EXPECT_NE(refused.find("--label-prefix"), std::string::npos) << refused;
  EXPECT_EQ(refused.find("P@1"), std::string::npos) << refused;

  fasttext("test " + model + " " + test, dir / "theirs-test.txt");
  for (const std::string option : {"--label-prefix __cls__", "-label __cls__"}) {
    SCOPED_TRACE(option);
    ASSERT_EQ(embedkit("classify test " + model + " " + test + " " + option, dir / "ours-test.txt"),
              0)
        << embedkit_test::read_file(dir / "ours-test.txt");
    const auto ours = lines_of(dir / "ours-test.txt");
    const auto theirs = lines_of(dir / "theirs-test.txt");
    ASSERT_GE(ours.size(), 2u);
    ASSERT_GE(theirs.size(), 2u);
    EXPECT_EQ(ours[0], theirs[0]);  // N
    EXPECT_EQ(ours[1], theirs[1]);  // P@1, three digits each
  }
  fasttext("predict " + model + " " + test, dir / "theirs-predict.txt");
  ASSERT_EQ(embedkit("classify predict " + model + " " + test + " --label-prefix __cls__",
                     dir / "ours-predict.txt"),
            0)
      << embedkit_test::read_file(dir / "ours-predict.txt");
  const auto theirs = lines_of(dir / "theirs-predict.txt");
  const auto ours = lines_of(dir / "ours-predict.txt");
  ASSERT_EQ(ours.size(), theirs.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(split(ours[i]).at(0), theirs[i]) << "line " << i + 1;  // ours adds probabilities
  }
}

// `embedkit quantize --retrain` of a fastText classifier trained with `-label __cls__`: refused
// under fastText's default prefix (naming --label-prefix, writing nothing); with `--label-prefix
// __cls__` (or fastText's `-label`) the rows the cutoff keeps are retrained on the __cls__ lines,
// and `fasttext predict-prob` and `fasttext test` read the .ftz as embedkit does.
TEST(FastTextModelInterop, CommandRetrainsAFastTextModelWithItsLabelPrefix) {
  embedkit_test::TempDir dir;
  for (const auto& [name, lines, seed] :
       {std::tuple{"train.txt", 600, 43u}, std::tuple{"labelled-test.txt", 100, 44u}}) {
    make_labelled(dir / "default.txt", lines, seed, true);
    std::string text = embedkit_test::read_file(dir / "default.txt");
    for (std::size_t at = 0; (at = text.find("__label__", at)) != std::string::npos;) {
      text.replace(at, 9, "__cls__");
    }
    dir.write(name, text);
  }
  make_labelled(dir / "test.txt", 100, 45, false);
  fasttext("supervised -input " + quote(dir / "train.txt") + " -output " + quote(dir / "m") +
               " -label __cls__ -dim 8 -wordNgrams 2 -bucket 3000 -epoch 5 -lr 0.5 -thread 1",
           dir / "train.log");
  const std::string quantize = "quantize " + quote(dir / "m.bin") + " --cutoff 300 --retrain " +
                               "--input " + quote(dir / "train.txt") + " --threads 1 -o ";

  EXPECT_EQ(embedkit(quantize + quote(dir / "refused.ftz"), dir / "refused.txt"), 1 << 8);
  const std::string refused = embedkit_test::read_file(dir / "refused.txt");
  EXPECT_NE(refused.find("does not start with the label prefix '__label__'"), std::string::npos)
      << refused;
  EXPECT_NE(refused.find("--label-prefix"), std::string::npos) << refused;
  EXPECT_FALSE(fs::exists(dir / "refused.ftz"));

  ASSERT_EQ(embedkit(quantize + quote(dir / "q.ftz") + " --label-prefix __cls__", dir / "q.log"), 0)
      << embedkit_test::read_file(dir / "q.log");
  ASSERT_EQ(embedkit(quantize + quote(dir / "q2.ftz") + " -label __cls__", dir / "q2.log"), 0)
      << embedkit_test::read_file(dir / "q2.log");
  EXPECT_EQ(embedkit_test::read_file(dir / "q.ftz"), embedkit_test::read_file(dir / "q2.ftz"));
  // Retrained: not the bytes of the same cutoff without retraining.
  ASSERT_EQ(
      embedkit("quantize " + quote(dir / "m.bin") + " --cutoff 300 -o " + quote(dir / "c.ftz"),
               dir / "c.log"),
      0)
      << embedkit_test::read_file(dir / "c.log");
  EXPECT_NE(embedkit_test::read_file(dir / "q.ftz"), embedkit_test::read_file(dir / "c.ftz"));

  const FastTextModel ours = FastTextModel::load(dir / "q.ftz");
  EXPECT_TRUE(ours.file().quantized_input);
  fasttext("predict-prob " + quote(dir / "q.ftz") + " " + quote(dir / "test.txt") + " 2",
           dir / "printed.txt");
  expect_predictions_match(ours, dir / "printed.txt", dir / "test.txt");
  fasttext("test " + quote(dir / "q.ftz") + " " + quote(dir / "labelled-test.txt"),
           dir / "theirs-test.txt");
  ASSERT_EQ(embedkit("classify test " + quote(dir / "q.ftz") + " " +
                         quote(dir / "labelled-test.txt") + " --label-prefix __cls__",
                     dir / "ours-test.txt"),
            0)
      << embedkit_test::read_file(dir / "ours-test.txt");
  const auto theirs = lines_of(dir / "theirs-test.txt");
  const auto tested = lines_of(dir / "ours-test.txt");
  ASSERT_GE(theirs.size(), 2u);
  ASSERT_GE(tested.size(), 2u);
  EXPECT_EQ(tested[0], theirs[0]);  // N
  ASSERT_EQ(theirs[1].rfind("P@1\t", 0), 0u) << theirs[1];
  ASSERT_EQ(tested[1].rfind("P@1\t", 0), 0u) << tested[1];
  // fastText prints 3 significant digits ("0.95"), embedkit 3 decimals ("0.950").
  EXPECT_NEAR(std::stod(tested[1].substr(4)), std::stod(theirs[1].substr(4)), 5e-4);
  EXPECT_GT(std::stod(theirs[1].substr(4)), 0.5);  // the retrained rows still classify
}

// A classifier with subwords (fastText's -minn/-maxn spellings on our command line) converted to
// a .bin: `fasttext predict` gives our labels on lines whose keywords were never seen, and
// `fasttext print-word-vectors` our word vectors (the mean of a word's row and its n-gram rows,
// the n-gram rows alone outside the vocabulary). Trained on the same data, `fasttext supervised
// -minn 3 -maxn 6` is no more accurate on those lines.
TEST(FastTextModelInterop, CommandSubwordClassifierAgreesWithFastText) {
  embedkit_test::TempDir dir;
  make_stem_labelled(dir / "train.txt", 800, 31, false);
  make_stem_labelled(dir / "test.txt", 200, 32, true);
  ASSERT_EQ(embedkit("classify train " + quote(dir / "train.txt") + " " +
                         quote(dir / "model.safetensors") +
                         " -dim 10 -epoch 10 -lr 0.5 -minn 3 -maxn 6 -bucket 20000 -thread 1",
                     dir / "train.log"),
            0)
      << embedkit_test::read_file(dir / "train.log");
  ASSERT_EQ(embedkit("convert " + quote(dir / "model.safetensors") + " " + quote(dir / "m.bin") +
                         " --to fasttext-bin",
                     dir / "convert.log"),
            0)
      << embedkit_test::read_file(dir / "convert.log");
  const auto model = embedkit::models::TextClassifier::load(dir / "model.safetensors");
  ASSERT_EQ(model.options().maxn, 6);
  fasttext("predict " + quote(dir / "m.bin") + " " + quote(dir / "test.txt"), dir / "theirs.txt");
  const auto lines = lines_of(dir / "test.txt");
  const auto theirs = lines_of(dir / "theirs.txt");
  ASSERT_EQ(theirs.size(), lines.size());
  std::vector<std::string> ours_predicted;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto words = split(lines[i]);
    words.erase(words.begin());  // the gold label
    ASSERT_FALSE(model.dictionary().words().find(words.back())) << words.back();
    const auto ours = model.predict(words, 1);
    ours_predicted.push_back("__label__" + model.dictionary().labels().text(ours.at(0).label));
    EXPECT_EQ(ours_predicted.back(), theirs[i]) << "line " << i + 1;
  }
  // Read back by embedkit, the .bin predicts the same.
  const FastTextModel back = FastTextModel::load(dir / "m.bin");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(back.predict(split(lines[i]), 1).at(0).text, theirs[i]) << "line " << i + 1;
  }

  // Word vectors, in the vocabulary and outside it.
  const std::vector<std::string> queries = {
      "the3", "footbals", "footbalation", "</s>", "compilously", "xyz", "é"};
  std::string text;
  for (const auto& w : queries) text += w + "\n";
  dir.write("queries.txt", text);
  fasttext("print-word-vectors " + quote(dir / "m.bin"), dir / "printed.txt", dir / "queries.txt");
  const auto printed = lines_of(dir / "printed.txt");
  ASSERT_EQ(printed.size(), queries.size());
  const std::int64_t words = model.dictionary().words().size();
  const float* table = model.input_table().data<float>();
  for (std::size_t i = 0; i < queries.size(); ++i) {
    std::vector<std::int64_t> rows;
    if (const auto id = model.dictionary().words().find(queries[i])) rows.push_back(*id);
    if (queries[i] != "</s>") {
      const std::size_t first = rows.size();
      embedkit::models::append_char_ngram_buckets("<" + queries[i] + ">", 3, 6, 20000, rows);
      for (std::size_t r = first; r < rows.size(); ++r) rows[r] += words;
    }
    const auto tokens = split(printed[i]);
    ASSERT_EQ(tokens.size(), 11u) << printed[i];
    for (std::size_t j = 0; j < 10; ++j) {
      double sum = 0;
      for (const std::int64_t r : rows) sum += table[static_cast<std::size_t>(r) * 10 + j];
      const auto mean =
          rows.empty() ? 0.0f : static_cast<float>(sum / static_cast<double>(rows.size()));
      expect_printed(std::stof(tokens[j + 1]), mean, queries[i] + "[" + std::to_string(j) + "]");
    }
  }

  // fastText's own supervised training with subwords, same data and settings.
  fasttext("supervised -input " + quote(dir / "train.txt") + " -output " + quote(dir / "ft") +
               " -dim 10 -epoch 10 -lr 0.5 -minn 3 -maxn 6 -bucket 20000 -thread 1",
           dir / "ft.log");
  fasttext("predict " + quote(dir / "ft.bin") + " " + quote(dir / "test.txt"), dir / "ft.txt");
  const double ours_accuracy = accuracy(dir / "test.txt", ours_predicted);
  const double fasttext_accuracy = accuracy(dir / "test.txt", lines_of(dir / "ft.txt"));
  std::cout << "unseen inflections: embedkit " << ours_accuracy << ", fastText "
            << fasttext_accuracy << "\n";
  EXPECT_GE(ours_accuracy, fasttext_accuracy - 0.03);
  EXPECT_GT(ours_accuracy, 0.9);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  g_fasttext = find_fasttext();
  if (g_fasttext.empty()) {
    std::cout << "skipped: no `fasttext` command on PATH (Debian: apt-get install fasttext; "
                 "or set EMBEDKIT_FASTTEXT)\n";
    return 77;
  }
  return RUN_ALL_TESTS();
}
