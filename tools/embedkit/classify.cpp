// `embedkit classify train | test | predict`: a fastText-style text classifier (see
// include/embedkit/models/text_classifier.hpp).
//
//   embedkit classify train TRAIN -o MODEL [--epochs 5 --lr 0.1 --word-ngrams 1 --threads 2 ...]
//   embedkit classify test MODEL TEST [-k 1] [--threshold 0] [--per-label] [--label-prefix P]
//                          [--json]
//   embedkit classify predict MODEL [INPUT|-] [-k 1] [--threshold 0] [--label-prefix P] [--json]
//
// MODEL for test and predict is a model of `classify train`, or a fastText model file: a .bin, or
// the .ftz of `embedkit quantize` (or `fasttext quantize`), predicted from its codes.
//
// Exit status: 0 success, 1 runtime error (bad file, bad model, ...), 2 usage error. The model
// is written atomically and only after training succeeded.
//
// '-' stands for standard input (TRAIN, TEST, INPUT, or a MODEL to read, which is copied to a
// temporary file) and for standard output (the MODEL that train writes: safetensors bytes,
// refused on a terminal; the summary then goes to stderr). Standard input can feed only one
// argument of a command. A MODEL that is the TRAIN file itself is refused.
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "bucket_table.hpp"
#include "classify_autotune.hpp"
#include "commands.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/io/atomic_file.hpp"
#include "embedkit/io/fasttext_model.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/text_classifier.hpp"
#include "fasttext_label_prefix.hpp"
#include "json.hpp"
#include "option_checks.hpp"
#include "progress_display.hpp"
#include "same_file.hpp"
#include "shared_options.hpp"
#include "std_streams.hpp"

namespace embedkit::cli {
namespace {

struct ClassifyOptions {
  // train
  std::string train_path;
  std::string model_path;
  std::string format = "auto";
  std::string loss = "softmax";
  bool no_shuffle = false;
  bool no_eol = false;
  std::string pretrained;
  models::ClassifierOptions model;
  AutotuneArguments autotune;
  // test / predict
  std::string test_path;
  std::string input = "-";
  // --label-prefix of test and predict: the prefix of the test file's labels and of the printed
  // ones; unset, the model's own (a fastText file does not store it: fastText's "__label__").
  std::optional<std::string> label_prefix;
  std::int64_t k = 1;
  double threshold = 0;
  bool per_label = false;
  bool json = false;
};

std::string fixed(double x, int digits = 4) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

std::string input_name(const std::string& path) {
  return is_std_stream(path) ? std::string(kStdinName) : path;
}

std::vector<models::LabelledExample> read_labelled_argument(
    const std::string& path, const models::LabelledTextOptions& text) {
  if (is_std_stream(path)) return models::read_labelled_text(std::cin, input_name(path), text);
  return models::read_labelled_text(path, text);
}

// The model of test and predict: embedkit's classifier, or a fastText model file (.bin, or the
// quantized .ftz of `embedkit quantize` and `fasttext quantize`, predicted from its codes).
// fastText's file does not store the label prefix it was trained with: it is fastText's default,
// "__label__", unless --label-prefix says otherwise, and every label of the file must carry it.
struct LoadedModel {
  std::optional<models::TextClassifier> ours;
  std::optional<models::FastTextModel> fasttext;
  std::string prefix;

  const std::string& label_prefix() const { return prefix; }
  bool lowercase() const { return ours && ours->options().lowercase; }
  std::int64_t num_labels() const {
    return ours ? ours->dictionary().labels().size()
                : static_cast<std::int64_t>(fasttext->file().dictionary.labels.size());
  }
  // Label `id` without its prefix.
  std::string label(std::int64_t id) const {
    if (ours) return ours->dictionary().labels().text(id);
    return fasttext->file().dictionary.labels[static_cast<std::size_t>(id)].text.substr(
        prefix.size());
  }
  std::vector<models::LabelScore> predict(const std::vector<std::string>& words, std::int64_t k,
                                          double threshold) const {
    if (ours) return ours->predict(words, k, threshold);
    std::vector<models::LabelScore> out;
    for (const models::FastTextPrediction& p : fasttext->predict(words, k, threshold)) {
      out.push_back({p.label, p.probability});
    }
    return out;
  }
  models::ClassifierEvaluation evaluate(const std::vector<models::LabelledExample>& data,
                                        std::int64_t k, double threshold) const {
    if (ours) return ours->evaluate(data, k, threshold);
    return fasttext->evaluate(data, k, threshold, prefix);
  }
};

LoadedModel load_model_argument(const std::string& path,
                                const std::optional<std::string>& label_prefix) {
  const SpilledInput input(path, /*spill_non_regular=*/false);
  return input.run([&] {
    LoadedModel m;
    if (io::file_has_fasttext_magic(input.path())) {
      m.fasttext.emplace(models::FastTextModel::load(input.path()));
      if (!m.fasttext->supervised()) {
        throw IoError(path, "a fastText model of word vectors, not a classifier (no labels)");
      }
      m.prefix = label_prefix.value_or("__label__");
      check_fasttext_label_prefix(path, m.fasttext->file(), m.prefix, label_prefix.has_value());
    } else {
      m.ours.emplace(models::TextClassifier::load(input.path()));
      m.prefix = label_prefix.value_or(m.ours->options().label_prefix);
    }
    return m;
  });
}

int run_train(ClassifyOptions& o, const CLI::App& train) {
  o.model.loss = models::parse_classifier_loss(o.loss);
  o.model.shuffle = !o.no_shuffle;
  o.model.end_of_line = !o.no_eol;
  o.model.validate();
  if (o.model.bucket_rows() > 0) check_bucket_table_fits(o.model.buckets, o.model.dim, "n-gram");
  models::LabelledTextOptions text;
  text.format = models::parse_text_format(o.format);
  text.label_prefix = o.model.label_prefix;
  text.lowercase = o.model.lowercase;
  o.model.pretrained_vectors = o.pretrained;
  std::vector<NamedFile> inputs{{"TRAIN", o.train_path}};
  if (!o.pretrained.empty()) inputs.push_back({"--pretrained-vectors", o.pretrained});
  const bool autotune = !o.autotune.validation.empty();
  if (autotune) {
    if (is_std_stream(o.train_path) && is_std_stream(o.autotune.validation)) {
      throw ValueError(
          "TRAIN and --autotune-validation cannot both be '-' (standard input is read once)");
    }
    inputs.push_back({"--autotune-validation", o.autotune.validation});
  }
  refuse_outputs_over_inputs(inputs, {{"--output", o.model_path}});
  if (is_std_stream(o.model_path)) {
    refuse_binary_on_terminal("a safetensors model");
  } else {
    // Fails at once when the model's directory is not writable, not after training.
    io::AtomicFile probe(o.model_path);
  }
  const auto data = read_labelled_argument(o.train_path, text);
#if defined(M_MXFAST)
  // Training makes a few dozen small tensors per line; with glibc's fast bins on, freeing them
  // keeps triggering malloc_consolidate (measured: about 16% of a training run's CPU time).
  // Before the autotune too: every trial is a training run, and a slower trial means fewer
  // trials in the budget.
  ::mallopt(M_MXFAST, 0);
#endif
  std::optional<AutotuneOutcome> tuned;
  if (autotune) {
    const auto validation = read_labelled_argument(o.autotune.validation, text);
    tuned = run_autotune(o.autotune, train, data, validation, o.model);
    o.model = tuned->best;  // fastText trains again with the best options on the training file
  }
  models::ClassifierTrainStats stats;
  ProgressDisplay progress("classify train");
  o.model.progress_interval = progress.interval();
  const models::TextClassifier model = models::TextClassifier::train(
      data, o.model, &stats, [&progress](const models::ClassifierProgress& p) {
        progress.update({.fraction = p.fraction,
                         .rate = p.elapsed_seconds > 0
                                     ? static_cast<double>(p.tokens) / p.elapsed_seconds
                                     : 0.0,
                         .unit = "tokens",
                         .loss = p.loss,
                         .lr = p.lr,
                         .eta_seconds = p.eta_seconds});
      });
  progress.finish(stats.final_loss);
  // fastText's -autotune-modelsize: the model written is the .ftz that fits (fastText writes
  // only model.ftz then), quantized with the best trial's dsub.
  std::optional<models::ModelSizeFit> fit;
  if (tuned && tuned->model_size > 0) {
    fit = models::fit_model_size(model, data, tuned->quantization->dsub, tuned->model_size);
    if (!fit) {
      throw Error("autotune: the final model, trained again with the best options, does not fit " +
                  std::to_string(tuned->model_size) +
                  " bytes (with more than one thread training differs from run to run): raise "
                  "--autotune-modelsize or train with --threads 1");
    }
    tuned->report.set("final_quantization", quantization_json(fit->quantization));
  }
  if (is_std_stream(o.model_path)) {
    write_via_temp_file(fit ? "model.ftz" : "model.safetensors",
                        [&](const std::filesystem::path& file) {
                          if (fit) {
                            io::save_fasttext_model(file, fit->file);
                          } else {
                            model.save(file);
                          }
                        });
  } else if (fit) {
    io::save_fasttext_model(o.model_path, fit->file);
  } else {
    model.save(o.model_path);
  }
  const models::Dictionary& d = model.dictionary();
  std::ostream& summary = is_std_stream(o.model_path) ? std::cerr : std::cout;
  if (o.json) {
    Json j = Json::object();
    j.set("train", o.train_path)
        .set("model", o.model_path)
        .set("lines", stats.examples)
        .set("tokens", stats.tokens)
        .set("words", d.words().size())
        .set("labels", d.labels().size())
        .set("loss", models::classifier_loss_name(o.model.loss))
        .set("dim", o.model.dim)
        .set("epochs", o.model.epochs)
        .set("lr", o.model.lr)
        .set("word_ngrams", o.model.word_ngrams)
        .set("buckets", o.model.bucket_rows())
        .set("minn", o.model.subwords() ? o.model.minn : 0)
        .set("maxn", o.model.maxn)
        .set("threads", o.model.threads)
        .set("pretrained_vectors", o.pretrained.empty() ? Json() : Json(o.pretrained))
        .set("final_loss", stats.final_loss)
        .set("seconds", stats.seconds)
        .set("autotune", tuned ? std::move(tuned->report) : Json());
    summary << j.dump();
  } else {
    summary << "trained on " << stats.examples << " lines (" << stats.tokens << " tokens), "
            << d.words().size() << " words, " << d.labels().size() << " labels, final loss "
            << fixed(stats.final_loss) << ", " << fixed(stats.seconds, 2) << " s, "
            << o.model.threads << (o.model.threads == 1 ? " thread" : " threads");
    if (fit) {
      const models::ModelSizeQuantization& q = fit->quantization;
      summary << "; quantized (dsub " << q.dsub << ", qnorm" << (q.qout ? ", qout" : "")
              << (q.cutoff > 0 ? ", cutoff " + std::to_string(q.cutoff) + ", retrained" : "")
              << ") to " << q.bytes << " bytes";
    }
    summary << "; wrote " << o.model_path << "\n";
  }
  return 0;
}

models::LabelledTextOptions reading_options(const LoadedModel& model, const std::string& format) {
  models::LabelledTextOptions text;
  text.format = models::parse_text_format(format);
  text.label_prefix = model.label_prefix();
  text.lowercase = model.lowercase();
  return text;
}

int run_test(ClassifyOptions& o) {
  if (is_std_stream(o.model_path) && is_std_stream(o.test_path)) {
    throw ValueError("MODEL and TEST cannot both be '-' (standard input is read once)");
  }
  const LoadedModel model = load_model_argument(o.model_path, o.label_prefix);
  const auto data = read_labelled_argument(o.test_path, reading_options(model, o.format));
  const models::ClassifierEvaluation r = model.evaluate(data, o.k, o.threshold);
  const std::string k = std::to_string(o.k);
  if (o.json) {
    Json j = Json::object();
    j.set("model", o.model_path)
        .set("test", o.test_path)
        .set("N", r.examples)
        .set("k", r.k)
        .set("threshold", r.threshold)
        .set("precision", r.precision())
        .set("recall", r.recall())
        .set("predicted", r.predicted)
        .set("gold", r.gold)
        .set("correct", r.correct)
        .set("unseen_labels", r.unseen_label_count());
    if (o.per_label) {
      Json labels = Json::array();
      for (std::int64_t i = 0; i < model.num_labels(); ++i) {
        const models::LabelMetrics& m = r.per_label[static_cast<std::size_t>(i)];
        Json l = Json::object();
        l.set("label", model.label(i))
            .set("precision", m.precision())
            .set("recall", m.recall())
            .set("f1", m.f1())
            .set("gold", m.gold)
            .set("predicted", m.predicted)
            .set("correct", m.correct);
        labels.push(std::move(l));
      }
      j.set("per_label", std::move(labels));
    }
    std::cout << j.dump();
    return 0;
  }
  std::cout << "N\t" << r.examples << "\nP@" << k << "\t" << fixed(r.precision(), 3) << "\nR@" << k
            << "\t" << fixed(r.recall(), 3) << "\n";
  if (r.unseen_label_count() > 0) {
    std::cout << "unseen labels\t" << r.unseen_label_count() << " (";
    bool first = true;
    for (const auto& [name, count] : r.unseen_labels) {
      std::cout << (first ? "" : ", ") << name << " x" << count;
      first = false;
    }
    std::cout << "; never predicted, counted as missed)\n";
  }
  if (o.per_label) {
    std::cout << "label\tprecision\trecall\tf1\tgold\tpredicted\n";
    for (std::int64_t i = 0; i < model.num_labels(); ++i) {
      const models::LabelMetrics& m = r.per_label[static_cast<std::size_t>(i)];
      std::cout << model.label(i) << "\t" << fixed(m.precision()) << "\t" << fixed(m.recall())
                << "\t" << fixed(m.f1()) << "\t" << m.gold << "\t" << m.predicted << "\n";
    }
  }
  return 0;
}

int run_predict(ClassifyOptions& o) {
  if (is_std_stream(o.model_path) && is_std_stream(o.input)) {
    throw ValueError(
        "MODEL and INPUT cannot both be '-' (standard input is read once): give "
        "the text as an INPUT file");
  }
  const LoadedModel model = load_model_argument(o.model_path, o.label_prefix);
  const models::LabelledTextOptions text = reading_options(model, "fasttext");
  std::ifstream file;
  if (!is_std_stream(o.input)) {
    open_input_file(file, o.input, "a text file");
  }
  std::istream& in = is_std_stream(o.input) ? std::cin : file;
  const std::string prefix = model.label_prefix();
  std::string line;
  std::vector<std::string> labels, words;
  Json all = Json::array();
  std::string out;
  while (std::getline(in, line)) {
    models::split_fasttext_line(line, text, labels, words);
    const auto predictions = model.predict(words, o.k, o.threshold);
    if (o.json) {
      Json row = Json::array();
      for (const models::LabelScore& p : predictions) {
        Json item = Json::object();
        item.set("label", model.label(p.label)).set("probability", p.probability);
        row.push(std::move(item));
      }
      all.push(std::move(row));
      continue;
    }
    out.clear();
    for (std::size_t i = 0; i < predictions.size(); ++i) {
      if (i > 0) out += ' ';
      out +=
          prefix + model.label(predictions[i].label) + ' ' + fixed(predictions[i].probability, 5);
    }
    out += '\n';
    std::cout << out;
  }
  if (in.bad()) throw IoError(input_name(o.input), "read error");
  if (o.json) std::cout << all.dump();
  return 0;
}

void add_eval_options(CLI::App* app, ClassifyOptions& o) {
  add_result_count(app, o.k, "Number of labels to predict per line",
                   in_range<std::int64_t>(1, std::int64_t{1} << 31))
      ->capture_default_str();
  app->add_option("--threshold", o.threshold, "Leave out labels with a lower probability")
      ->check(in_range<double>(0.0, 1.0))
      ->capture_default_str();
  app->add_flag("--json", o.json, "Machine-readable output");
  app->add_option("--label-prefix", o.label_prefix,
                  "Label prefix of the text and of the printed labels (default: the model's; "
                  "'__label__' for a fastText file)")
      ->check(CLI::Validator(
          [](const std::string& prefix) {
            return prefix.empty() ? std::string("the label prefix must not be empty")
                                  : std::string();
          },
          "PREFIX"));
}

}  // namespace

Command add_classify(CLI::App& parent) {
  auto o = std::make_shared<ClassifyOptions>();
  CLI::App* app =
      parent.add_subcommand("classify", "fastText-style text classifier: train, test, predict");
  app->require_subcommand(1);

  CLI::App* train =
      app->add_subcommand("train",
                          "Train a classifier on labelled lines (fastText '__label__x words', "
                          "'sentence<TAB>label' or TREC 'COARSE:fine words')");
  train->add_option("TRAIN", o->train_path, "Labelled training file ('-': standard input)")
      ->required();
  add_output(train, o->model_path,
             "Output model (safetensors); '-': standard output (not a terminal), the "
             "summary then goes to stderr",
             /*required=*/true, "MODEL");
  train->add_option("--format", o->format, "auto, fasttext, tab or trec")
      ->check(CLI::IsMember({"auto", "fasttext", "tab", "trec"}))
      ->capture_default_str();
  train->add_option("--dim", o->model.dim, "Embedding dimension")
      ->check(in_range<std::int64_t>(1, 100000))
      ->capture_default_str();
  train->add_option("--lr", o->model.lr, "Starting learning rate (decays linearly to 0)")
      ->check(positive<double>())
      ->capture_default_str();
  train->add_option("--epochs", o->model.epochs, "Passes over the training lines")
      ->check(in_range<std::int64_t>(1, 100000))
      ->capture_default_str();
  train->add_option("--word-ngrams", o->model.word_ngrams, "Longest word n-gram (1: words only)")
      ->check(in_range<std::int64_t>(1, 100))
      ->capture_default_str();
  train
      ->add_option("--minn", o->model.minn,
                   "Subwords: the shortest character n-gram of each word (fastText's -minn)")
      ->check(in_range<std::int64_t>(0, 1000))
      ->capture_default_str();
  train
      ->add_option("--maxn", o->model.maxn,
                   "Subwords: the longest character n-gram (0: no subwords; fastText's -maxn)")
      ->check(in_range<std::int64_t>(0, 1000))
      ->capture_default_str();
  train->add_option("--buckets", o->model.buckets, "Hash buckets for n-grams (rows of the table)")
      ->check(in_range<std::int64_t>(1, std::int64_t{1} << 40))
      ->capture_default_str();
  train->add_option("--min-count", o->model.min_count, "Drop words seen fewer times")
      ->check(in_range<std::int64_t>(1, std::int64_t{1} << 40))
      ->capture_default_str();
  train->add_option("--pretrained-vectors", o->pretrained,
                    "Word vectors (.vec, .txt, .bin, .npy, .safetensors) to start the word rows "
                    "from; their words join the vocabulary (fastText's -pretrainedVectors)");
  train
      ->add_option("--loss", o->loss,
                   "softmax, hs (hierarchical softmax) or ns (negative sampling)")
      ->check(CLI::IsMember({"softmax", "hs", "ns"}))
      ->capture_default_str();
  train->add_option("--negative", o->model.negative, "Negative samples per line (ns)")
      ->check(in_range<std::int64_t>(1, 10000))
      ->capture_default_str();
  add_training_threads(train, o->model.threads,
                       "Training threads (> 1: hogwild, not reproducible)");
  train->add_option("--seed", o->model.seed, "Random seed (1 thread: same seed, same model)")
      ->check(uint64_value())
      ->capture_default_str();
  train->add_option("--label-prefix", o->model.label_prefix, "Label prefix of the fasttext format")
      ->capture_default_str();
  train->add_flag("--lowercase", o->model.lowercase, "Lower-case ASCII letters of words");
  train->add_flag("--no-shuffle", o->no_shuffle, "Train each epoch in file order");
  train->add_flag("--no-eol", o->no_eol, "Leave out the end-of-line word </s>");
  train->add_flag("--json", o->json, "Print a machine-readable summary");
  add_autotune_options(train, o->autotune);

  CLI::App* test =
      app->add_subcommand("test", "Print N, precision@k and recall@k of a model on labelled lines");
  test->add_option("MODEL", o->model_path,
                   "Model written by 'classify train' ('-': standard input)")
      ->required();
  test->add_option("TEST", o->test_path, "Labelled test file ('-': standard input)")->required();
  test->add_option("--format", o->format, "auto, fasttext, tab or trec")
      ->check(CLI::IsMember({"auto", "fasttext", "tab", "trec"}))
      ->capture_default_str();
  test->add_flag("--per-label", o->per_label, "Also print precision, recall and F1 per label");
  add_eval_options(test, *o);

  CLI::App* predict = app->add_subcommand(
      "predict", "Print the top-k labels with probabilities for each input line");
  predict
      ->add_option("MODEL", o->model_path,
                   "Model written by 'classify train' ('-': standard input, with an INPUT file)")
      ->required();
  predict
      ->add_option("INPUT", o->input,
                   "Text, one line per prediction ('-': stdin); label "
                   "tokens on a line are ignored")
      ->capture_default_str();
  add_eval_options(predict, *o);

  return Command{app, [o, train, test] {
                   if (train->parsed()) return run_train(*o, *train);
                   if (test->parsed()) return run_test(*o);
                   return run_predict(*o);
                 }};
}

}  // namespace embedkit::cli
