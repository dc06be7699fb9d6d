#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/io/safetensors.hpp"
#include "embedkit/models/text_classifier.hpp"
#include "embedkit/models/training_divergence.hpp"
#include "models/classify_test_support.hpp"
#include "support/files.hpp"
#include "support/pinned_safetensors.hpp"
#include "support/temp_dir.hpp"

namespace embedkit::models {
namespace {

using embedkit_classify_test::keyword_lines;
using embedkit_classify_test::order_lines;
using embedkit_test::TempDir;

ClassifierOptions small_options(ClassifierLoss loss = ClassifierLoss::Softmax) {
  ClassifierOptions o;
  o.dim = 16;
  o.lr = 0.5;
  o.epochs = 10;
  o.loss = loss;
  return o;
}

double accuracy(const TextClassifier& model, const std::vector<LabelledExample>& data) {
  return model.evaluate(data, 1).precision();
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

class EveryLoss : public ::testing::TestWithParam<ClassifierLoss> {};

TEST_P(EveryLoss, SeparatesKeywordClasses) {
  const auto train = keyword_lines(800, 6, 1);
  const auto test = keyword_lines(300, 6, 2);
  ClassifierTrainStats stats;
  const TextClassifier model = TextClassifier::train(train, small_options(GetParam()), &stats);
  EXPECT_EQ(stats.examples, 800);
  EXPECT_GT(stats.final_loss, 0.0);
  EXPECT_EQ(model.dictionary().labels().size(), 6);
  EXPECT_GE(accuracy(model, test), 0.97) << classifier_loss_name(GetParam());
}

TEST_P(EveryLoss, SaveLoadRoundTripPredictsTheSame) {
  const auto train = keyword_lines(300, 5, 3);
  const auto test = keyword_lines(100, 5, 4);
  ClassifierOptions o = small_options(GetParam());
  o.word_ngrams = 2;
  o.buckets = 5000;
  o.epochs = 3;
  o.seed = 18446744073709551615ULL;  // the largest seed survives the metadata
  const TextClassifier model = TextClassifier::train(train, o);
  TempDir dir;
  model.save(dir / "m.safetensors");
  const TextClassifier loaded = TextClassifier::load(dir / "m.safetensors");
  EXPECT_TRUE(same_bits(model.input_table(), loaded.input_table()));
  EXPECT_TRUE(same_bits(model.output_table(), loaded.output_table()));
  EXPECT_EQ(loaded.dictionary().words().texts(), model.dictionary().words().texts());
  EXPECT_EQ(loaded.dictionary().labels().texts(), model.dictionary().labels().texts());
  EXPECT_EQ(loaded.options().word_ngrams, 2);
  EXPECT_EQ(loaded.options().buckets, 5000);
  EXPECT_EQ(loaded.options().loss, GetParam());
  EXPECT_EQ(loaded.options().seed, o.seed);
  for (const auto& e : test) {
    const auto a = model.predict(e.words, 3);
    const auto b = loaded.predict(e.words, 3);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].label, b[i].label);
      EXPECT_EQ(a[i].probability, b[i].probability);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Losses, EveryLoss,
                         ::testing::Values(ClassifierLoss::Softmax,
                                           ClassifierLoss::HierarchicalSoftmax,
                                           ClassifierLoss::NegativeSampling),
                         [](const auto& p) { return classifier_loss_name(p.param); });

TEST(TextClassifier, BigramsSeparateWhatWordsCannot) {
  const auto train = order_lines(1000, 5);
  const auto test = order_lines(300, 6);
  ClassifierOptions o = small_options();
  const TextClassifier words_only = TextClassifier::train(train, o);
  o.word_ngrams = 2;
  o.buckets = 10000;
  const TextClassifier bigrams = TextClassifier::train(train, o);
  EXPECT_LE(accuracy(words_only, test), 0.75);
  EXPECT_GE(accuracy(bigrams, test), 0.97);
  EXPECT_EQ(bigrams.input_table().size(0), bigrams.dictionary().words().size() + 10000);
}

TEST(TextClassifier, PretrainedVectorsStartTheirWordsRowsAndJoinTheVocabulary) {
  TempDir dir;
  const auto train = keyword_lines(200, 3, 7);
  ClassifierOptions o = small_options();
  o.dim = 3;
  o.epochs = 1;
  o.lr = 1e-30;  // nothing moves: the trained rows are the start
  o.threads = 1;
  const TextClassifier plain = TextClassifier::train(train, o);
  const std::string known = plain.dictionary().words().text(0);
  embedkit_test::write_file(dir / "p.vec", "2 3\n" + known + " 0.5 -0.25 1\nunseen 1 2 3\n");
  o.pretrained_vectors = dir / "p.vec";
  const TextClassifier m = TextClassifier::train(train, o);
  const Dictionary::Entries& words = m.dictionary().words();
  ASSERT_EQ(words.size(), plain.dictionary().words().size() + 1);
  const float* in = m.input_table().data<float>();
  auto row = [&](const std::string& w) {
    const std::int64_t r = words.at(w);
    return std::vector<float>(in + r * 3, in + r * 3 + 3);
  };
  EXPECT_EQ(row(known), (std::vector<float>{0.5f, -0.25f, 1.0f}));
  EXPECT_EQ(row("unseen"), (std::vector<float>{1.0f, 2.0f, 3.0f}));
  // A word the file does not have starts as without it (uniform in +-1/dim).
  const std::string other = plain.dictionary().words().text(1);
  for (const float x : row(other)) EXPECT_LE(std::fabs(x), 1.0f / 3.0f);
  // A prediction can use the pretrained word that training never saw.
  EXPECT_EQ(m.input_ids({"unseen"}).front(), words.at("unseen"));
}

TEST(TextClassifier, PretrainedVectorsOfAnotherDimensionOrMissingAreRefused) {
  TempDir dir;
  const auto train = keyword_lines(50, 2, 7);
  ClassifierOptions o = small_options();
  o.dim = 4;
  embedkit_test::write_file(dir / "p.vec", "1 3\nalpha 1 2 3\n");
  o.pretrained_vectors = dir / "p.vec";
  try {
    (void)TextClassifier::train(train, o);
    ADD_FAILURE() << "a dimension mismatch was accepted";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("pretrained vectors of dimension 3 do not match the "
                                         "model's dim 4"),
              std::string::npos)
        << e.what();
  }
  o.pretrained_vectors = dir / "missing.vec";
  EXPECT_THROW((void)TextClassifier::train(train, o), IoError);
}

TEST(TextClassifier, OneThreadIsDeterministicAndThreadsTrainToo) {
  const auto train = keyword_lines(400, 4, 7);
  ClassifierOptions o = small_options();
  o.epochs = 2;
  const TextClassifier a = TextClassifier::train(train, o);
  const TextClassifier b = TextClassifier::train(train, o);
  EXPECT_TRUE(same_bits(a.input_table(), b.input_table()));
  EXPECT_TRUE(same_bits(a.output_table(), b.output_table()));
  o.seed = 2;
  const TextClassifier c = TextClassifier::train(train, o);
  EXPECT_FALSE(same_bits(a.input_table(), c.input_table()));
  o.threads = 3;
  o.epochs = 10;
  const TextClassifier threaded = TextClassifier::train(train, o);
  EXPECT_GE(accuracy(threaded, keyword_lines(200, 4, 8)), 0.97);
}

TEST(TextClassifier, ProgressRisesToTheEndOnTheCallingThreadAndChangesNothing) {
  const auto train = keyword_lines(2000, 4, 21);
  ClassifierOptions o = small_options();
  o.epochs = 20;
  o.progress_interval = 1e-3;
  const TextClassifier plain = TextClassifier::train(train, o);
  std::vector<ClassifierProgress> reports;
  bool on_caller = true;
  const auto caller = std::this_thread::get_id();
  const TextClassifier watched =
      TextClassifier::train(train, o, nullptr, [&](const ClassifierProgress& p) {
        on_caller = on_caller && std::this_thread::get_id() == caller;
        reports.push_back(p);
      });
  EXPECT_TRUE(on_caller);
  ASSERT_GE(reports.size(), 1u);
  for (std::size_t i = 1; i < reports.size(); ++i) {
    EXPECT_GE(reports[i].fraction, reports[i - 1].fraction);
    EXPECT_GE(reports[i].tokens, reports[i - 1].tokens);
  }
  EXPECT_DOUBLE_EQ(reports.back().fraction, 1.0);
  EXPECT_DOUBLE_EQ(reports.back().lr, 0.0);
  EXPECT_GT(reports.back().loss, 0.0);
  EXPECT_GT(reports.back().tokens_per_second_per_thread, 0.0);
  // One thread stays deterministic: the worker runs on its own thread, the same computation.
  EXPECT_TRUE(same_bits(plain.input_table(), watched.input_table()));
  EXPECT_TRUE(same_bits(plain.output_table(), watched.output_table()));
  ClassifierOptions bad = o;
  bad.progress_interval = 0;
  EXPECT_THROW(TextClassifier::train(train, bad), ValueError);
}

struct StopTraining {};

TEST(TextClassifier, AnExceptionFromProgressStopsEveryThreadPromptlyAndPropagates) {
  const auto train = keyword_lines(20000, 4, 22);
  ClassifierOptions o = small_options();
  o.epochs = 100000;  // hours: only the callback can end it
  o.threads = 4;
  o.progress_interval = 0.01;
  int calls = 0;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(TextClassifier::train(train, o, nullptr,
                                     [&](const ClassifierProgress&) {
                                       if (++calls == 3) throw StopTraining{};
                                     }),
               StopTraining);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(calls, 3);
  EXPECT_LT(seconds, 10.0);
}

TEST(TextClassifier, PredictTopKThresholdAndProbabilities) {
  const TextClassifier model = TextClassifier::train(keyword_lines(400, 4, 9), small_options());
  const std::vector<std::string> line = {"key2_1", "common3", "key2_4"};
  const auto all = model.predict(line, 10);
  ASSERT_EQ(all.size(), 4u);  // k beyond the labels: every label
  double sum = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    sum += all[i].probability;
    if (i > 0) {
      EXPECT_GE(all[i - 1].probability, all[i].probability);
    }
  }
  EXPECT_NEAR(sum, 1.0, 1e-5);
  EXPECT_EQ(model.dictionary().labels().text(all[0].label), "c2");
  const auto confident = model.predict(line, 4, 0.5);
  ASSERT_EQ(confident.size(), 1u);
  EXPECT_EQ(confident[0].label, all[0].label);
  EXPECT_THROW(model.predict(line, 0), ValueError);
  // Words never seen still predict (from "</s>" alone).
  EXPECT_EQ(model.predict({"never", "seen"}, 1).size(), 1u);
}

TEST(TextClassifier, EvaluationCountsUnseenLabelsAndSeveralLabels) {
  const TextClassifier model = TextClassifier::train(keyword_lines(400, 3, 10), small_options());
  std::vector<LabelledExample> test(3);
  test[0].labels = {"c0"};
  test[0].words = {"key0_1", "key0_2"};
  test[1].labels = {"c1", "c2"};  // two gold labels: recall counts both
  test[1].words = {"key1_0", "key1_3"};
  test[2].labels = {"brand_new"};  // never seen in training
  test[2].words = {"key2_0"};
  const ClassifierEvaluation r = model.evaluate(test, 1);
  EXPECT_EQ(r.examples, 3);
  EXPECT_EQ(r.predicted, 3);
  EXPECT_EQ(r.gold, 4);
  EXPECT_EQ(r.correct, 2);
  EXPECT_DOUBLE_EQ(r.precision(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.recall(), 0.5);
  EXPECT_EQ(r.unseen_label_count(), 1);
  EXPECT_EQ(r.unseen_labels.at("brand_new"), 1);
  const auto c0 = static_cast<std::size_t>(model.dictionary().labels().at("c0"));
  EXPECT_EQ(r.per_label[c0].gold, 1);
  EXPECT_EQ(r.per_label[c0].correct, 1);
  EXPECT_DOUBLE_EQ(r.per_label[c0].f1(), 1.0);
}

TEST(TextClassifier, BadOptionsAndNoData) {
  const auto train = keyword_lines(10, 2, 11);
  auto bad = [&](auto edit) {
    ClassifierOptions o = small_options();
    edit(o);
    EXPECT_THROW(TextClassifier::train(train, o), ValueError);
  };
  bad([](ClassifierOptions& o) { o.dim = 0; });
  bad([](ClassifierOptions& o) { o.lr = -1; });
  bad([](ClassifierOptions& o) { o.epochs = 0; });
  bad([](ClassifierOptions& o) { o.threads = 0; });
  bad([](ClassifierOptions& o) {
    o.word_ngrams = 2;
    o.buckets = 0;
  });
  EXPECT_THROW(TextClassifier::train({}, small_options()), ValueError);
  ClassifierOptions rare = small_options();
  rare.min_count = 1000;
  rare.end_of_line = false;
  EXPECT_THROW(TextClassifier::train(train, rare), ValueError);
}

TEST(TextClassifier, LoadRejectsFilesThatAreNotModels) {
  TempDir dir;
  auto error_of = [&](const std::filesystem::path& p) -> std::string {
    try {
      TextClassifier::load(p);
    } catch (const IoError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of(dir / "missing.safetensors"), "");
  EXPECT_NE(error_of(dir.write("garbage", "not a model at all")), "");
  EXPECT_NE(error_of(dir.write("empty", "")), "");
  // A valid safetensors file that is not a classifier.
  io::save_safetensors(dir / "other.safetensors", {{"w", Tensor::zeros({2, 2})}});
  EXPECT_NE(error_of(dir / "other.safetensors").find("not an embedkit text classifier"),
            std::string::npos);
  // A classifier whose table does not fit its vocabulary.
  const TextClassifier model = TextClassifier::train(keyword_lines(50, 2, 12), small_options());
  model.save(dir / "m.safetensors");
  io::SafetensorsContents c = io::load_safetensors(dir / "m.safetensors");
  c.metadata["dim"] = "17";
  io::save_safetensors(dir / "bad_dim.safetensors", c.tensors, c.metadata);
  EXPECT_NE(error_of(dir / "bad_dim.safetensors").find("input.weight"), std::string::npos);
  c = io::load_safetensors(dir / "m.safetensors");
  c.metadata["words"] += "\nextra";
  io::save_safetensors(dir / "bad_words.safetensors", c.tensors, c.metadata);
  EXPECT_NE(error_of(dir / "bad_words.safetensors").find("counts"), std::string::npos);
  c = io::load_safetensors(dir / "m.safetensors");
  c.metadata.erase("loss");
  io::save_safetensors(dir / "no_loss.safetensors", c.tensors, c.metadata);
  EXPECT_NE(error_of(dir / "no_loss.safetensors").find("'loss' is missing"), std::string::npos);
  // Truncated: the safetensors reader refuses it.
  const auto size = std::filesystem::file_size(dir / "m.safetensors");
  std::filesystem::copy_file(dir / "m.safetensors", dir / "cut.safetensors");
  std::filesystem::resize_file(dir / "cut.safetensors", size - 5);
  EXPECT_NE(error_of(dir / "cut.safetensors"), "");
}

TEST(TextClassifier, WordsWithAnyBytesSurviveSaving) {
  std::vector<LabelledExample> train(2);
  train[0].labels = {"caf\xC3\xA9"};
  train[0].words = {"na\xEFve", "100%", "\x01odd"};
  train[1].labels = {"b"};
  train[1].words = {"plain"};
  const TextClassifier model = TextClassifier::train(train, small_options());
  TempDir dir;
  model.save(dir / "m.safetensors");
  const TextClassifier loaded = TextClassifier::load(dir / "m.safetensors");
  EXPECT_EQ(loaded.dictionary().words().texts(), model.dictionary().words().texts());
  EXPECT_EQ(loaded.dictionary().labels().texts(), model.dictionary().labels().texts());
}

// An absurd learning rate overflows the tables to inf and NaN. Training must stop with an error
// naming the epoch, the line and the option to lower, never return a model whose predictions
// are NaN (which printed as empty lines).
TEST_P(EveryLoss, DivergenceIsAnErrorNamingTheEpochAndTheRate) {
  ClassifierOptions o = small_options(GetParam());
  o.lr = 1e30;
  for (const std::int64_t threads : {1, 3}) {
    o.threads = threads;
    std::string message;
    try {
      TextClassifier::train(keyword_lines(400, 4, 13), o);
    } catch (const TrainingDivergedError& e) {
      message = e.what();
      EXPECT_GE(e.epoch(), 1);
      EXPECT_LE(e.epoch(), o.epochs);
    }
    EXPECT_NE(message.find("training diverged at epoch "), std::string::npos) << message;
    EXPECT_NE(message.find(", line "), std::string::npos) << message;
    EXPECT_NE(message.find("; lower --lr"), std::string::npos) << message;
  }
}

// The model file as written by save(), to be altered by a test.
io::SafetensorsContents saved_model(const TempDir& dir, const ClassifierOptions& o) {
  const TextClassifier model = TextClassifier::train(keyword_lines(50, 3, 12), o);
  model.save(dir / "m.safetensors");
  return io::load_safetensors(dir / "m.safetensors");
}

std::string load_error(const std::filesystem::path& path) {
  try {
    TextClassifier::load(path);
  } catch (const IoError& e) {
    return e.what();
  }
  return "";
}

Tensor& tensor_named(io::SafetensorsContents& c, const std::string& name) {
  for (auto& [n, t] : c.tensors) {
    if (n == name) return t;
  }
  throw std::runtime_error("no tensor " + name);
}

TEST(TextClassifier, LoadRejectsNonFiniteParametersNamingTheTensor) {
  TempDir dir;
  for (const std::string name : {"input.weight", "output.weight"}) {
    for (const float bad :
         {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
      io::SafetensorsContents c = saved_model(dir, small_options());
      Tensor& t = tensor_named(c, name);
      t.data<float>()[t.numel() - 1] = bad;
      io::save_safetensors(dir / "bad.safetensors", c.tensors, c.metadata);
      const std::string message = load_error(dir / "bad.safetensors");
      EXPECT_NE(message.find("tensor '" + name + "'"), std::string::npos) << message;
      EXPECT_NE(message.find("non-finite"), std::string::npos) << message;
    }
  }
}

// Metadata that lies about the tensors (huge or negative sizes, counts that overflow or disagree
// with the shapes) is refused quickly with an error, before anything is allocated from it.
TEST(TextClassifier, LoadChecksMetadataAgainstTheTensorsBeforeAllocating) {
  TempDir dir;
  ClassifierOptions o = small_options(ClassifierLoss::HierarchicalSoftmax);
  o.word_ngrams = 2;
  o.buckets = 100;
  const io::SafetensorsContents good = saved_model(dir, o);
  const std::vector<std::pair<std::string, std::string>> lies = {
      {"buckets", "9223372036854775807"},  // words + buckets overflows int64
      {"buckets", "-5"},
      {"buckets", "101"},
      {"dim", "100000"},
      {"dim", "-16"},
      {"dim", "1000000000000"},
      {"min_count", "-1"},
      {"threads", "0"},
      {"epochs", "-3"},
      {"word_ngrams", "1"},  // then the table has 100 rows too many
      {"labels", "c0\nc1"},
  };
  for (const auto& [key, value] : lies) {
    io::SafetensorsContents c = good;
    c.metadata[key] = value;
    io::save_safetensors(dir / "lie.safetensors", c.tensors, c.metadata);
    const auto start = std::chrono::steady_clock::now();
    const std::string message = load_error(dir / "lie.safetensors");
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_NE(message, "") << key << "=" << value;
    EXPECT_LT(seconds, 1.0) << key << "=" << value;
  }
  // Counts whose sum overflows (the Huffman tree of hs adds them up).
  io::SafetensorsContents c = good;
  std::vector<std::int64_t> huge(3, std::numeric_limits<std::int64_t>::max() / 2);
  tensor_named(c, "label_counts") = Tensor::from_vector(huge);
  io::save_safetensors(dir / "lie.safetensors", c.tensors, c.metadata);
  EXPECT_NE(load_error(dir / "lie.safetensors").find("label_counts"), std::string::npos);
  // Negative counts.
  c = good;
  std::vector<std::int64_t> counts = tensor_named(c, "word_counts").to_int64_vector();
  counts[0] = -1;
  tensor_named(c, "word_counts") = Tensor::from_vector(counts);
  io::save_safetensors(dir / "lie.safetensors", c.tensors, c.metadata);
  EXPECT_NE(load_error(dir / "lie.safetensors"), "");
}

// The bytes of a saved classifier are pinned: a model file written by one embedkit must be
// written the same by the next (files are compared, cached and checksummed). The model is read
// from a file made here (so its tables are exact literals, not the result of training) and saved
// again; the saved file must be exactly this header and these tensors.
TEST(TextClassifier, SavedFileBytesArePinned) {
  const std::vector<float> input = {0.5f, -0.25f, 1e-3f, 3.0f, -2.0f, 0.1f};  // [3, 2]
  const std::vector<float> output = {1.0f, -1.0f, 0.375f, 7.5f};              // [2, 2]
  const std::vector<std::int64_t> word_counts = {4, 2, 1};
  const std::vector<std::int64_t> label_counts = {3, 1};
  const NamedTensors tensors = {{"input.weight", Tensor::from_floats(input, {3, 2})},
                                {"output.weight", Tensor::from_floats(output, {2, 2})},
                                {"word_counts", Tensor::from_vector(word_counts)},
                                {"label_counts", Tensor::from_vector(label_counts)}};
  const io::Metadata metadata = {{"embedkit.model", "text_classifier"},
                                 {"text_classifier.version", "1"},
                                 {"dim", "2"},
                                 {"lr", "0.1"},
                                 {"epochs", "3"},
                                 {"word_ngrams", "1"},
                                 {"buckets", "2000000"},
                                 {"min_count", "1"},
                                 {"loss", "softmax"},
                                 {"negative", "5"},
                                 {"end_of_line", "1"},
                                 {"shuffle", "1"},
                                 {"threads", "1"},
                                 {"seed", "18446744073709551615"},
                                 {"label_prefix", "__label__"},
                                 {"lowercase", "0"},
                                 {"words", "</s>\nna%C3%AFve\n100%25"},
                                 {"labels", "caf%C3%A9\nb"}};
  TempDir dir;
  io::save_safetensors(dir / "made.safetensors", tensors, metadata);
  TextClassifier::load(dir / "made.safetensors").save(dir / "saved.safetensors");

  const std::string header =
      R"({"__metadata__":{"buckets":"2000000","dim":"2","embedkit.model":"text_classifier",)"
      R"("end_of_line":"1","epochs":"3","label_prefix":"__label__","labels":"caf%C3%A9\u000ab",)"
      R"("loss":"softmax","lowercase":"0","lr":"0.1","min_count":"1","negative":"5",)"
      R"("seed":"18446744073709551615","shuffle":"1","text_classifier.version":"1",)"
      R"("threads":"1","word_ngrams":"1","words":"</s>\u000ana%C3%AFve\u000a100%25"},)"
      R"("input.weight":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]},)"
      R"("output.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[24,40]},)"
      R"("word_counts":{"dtype":"I64","shape":[3],"data_offsets":[40,64]},)"
      R"("label_counts":{"dtype":"I64","shape":[2],"data_offsets":[64,80]}})";
  embedkit_test::PinnedSafetensors expected(header);
  expected.add(input).add(output).add(word_counts).add(label_counts);
  for (const char* name : {"made.safetensors", "saved.safetensors"}) {
    EXPECT_EQ(embedkit_test::read_file(dir / name), expected.bytes()) << name;
  }
}

}  // namespace
}  // namespace embedkit::models
