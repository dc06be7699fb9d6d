#include "classify_autotune.hpp"

#include <cstdio>
#include <iostream>
#include <string>
#include <utility>

#include "bucket_table.hpp"
#include "embedkit/core/error.hpp"
#include "option_checks.hpp"
#include "progress_display.hpp"

namespace embedkit::cli {
namespace {

// The model options the search may change, each with the command-line option that fixes it.
struct Searchable {
  const char* option;
  bool models::AutotuneSearch::*searched;
};
constexpr Searchable kSearchable[] = {
    {"--epochs", &models::AutotuneSearch::epochs},
    {"--lr", &models::AutotuneSearch::lr},
    {"--dim", &models::AutotuneSearch::dim},
    {"--word-ngrams", &models::AutotuneSearch::word_ngrams},
    {"--buckets", &models::AutotuneSearch::buckets},
    {"--minn", &models::AutotuneSearch::minn},
    {"--maxn", &models::AutotuneSearch::maxn},
    {"--loss", &models::AutotuneSearch::loss},
};

std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

// The options found, as the command line that trains them.
std::string as_arguments(const models::ClassifierOptions& o) {
  std::string out = "--epochs " + std::to_string(o.epochs) + " --lr " + number(o.lr) + " --dim " +
                    std::to_string(o.dim) + " --word-ngrams " + std::to_string(o.word_ngrams);
  if (o.bucket_rows() > 0) out += " --buckets " + std::to_string(o.buckets);
  out += " --minn " + std::to_string(o.subwords() ? o.minn : 0) + " --maxn " +
         std::to_string(o.maxn) + " --loss " + models::classifier_loss_name(o.loss);
  return out;
}

Json options_json(const models::ClassifierOptions& o) {
  Json j = Json::object();
  j.set("epochs", o.epochs)
      .set("lr", o.lr)
      .set("dim", o.dim)
      .set("word_ngrams", o.word_ngrams)
      .set("buckets", o.bucket_rows())
      .set("minn", o.subwords() ? o.minn : 0)
      .set("maxn", o.maxn)
      .set("loss", models::classifier_loss_name(o.loss));
  return j;
}

}  // namespace

Json quantization_json(const models::ModelSizeQuantization& q) {
  Json j = Json::object();
  j.set("dsub", q.dsub)
      .set("cutoff", q.cutoff)
      .set("qnorm", q.qnorm)
      .set("qout", q.qout)
      .set("retrained", q.retrained)
      .set("bytes", q.bytes);
  return j;
}

void add_autotune_options(CLI::App* train, AutotuneArguments& a) {
  const std::string group = "Autotune (fastText's -autotune-*)";
  CLI::Option* validation =
      train
          ->add_option("--autotune-validation", a.validation,
                       "Search the training options that score best on this labelled file, then "
                       "train with them on TRAIN (options given here are not searched)")
          ->group(group);
  train
      ->add_option("--autotune-duration", a.duration,
                   "Seconds the search may take (a trial still training then is dropped)")
      ->check(positive<double>())
      ->capture_default_str()
      ->needs(validation)
      ->group(group);
  train
      ->add_option("--autotune-metric", a.metric,
                   "What the search maximises: f1, f1:LABEL, precisionAtRecall:P[:LABEL] or "
                   "recallAtPrecision:P[:LABEL] (P in percent)")
      ->capture_default_str()
      ->needs(validation)
      ->group(group);
  train
      ->add_option("--autotune-predictions", a.predictions,
                   "Labels predicted per validation line when scoring")
      ->check(in_range<std::int64_t>(1, std::int64_t{1} << 31))
      ->capture_default_str()
      ->needs(validation)
      ->group(group);
  train
      ->add_option("--autotune-trials", a.trials,
                   "At most this many trials; the search then follows the trial count, not the "
                   "clock (1 thread: the same seed and count give the same result)")
      ->check(in_range<std::int64_t>(1, std::int64_t{1} << 40))
      ->needs(validation)
      ->group(group);
  train
      ->add_option("--autotune-modelsize", a.model_size,
                   "The model must fit this many bytes (2M: 2,000,000; K, M, G): candidates are "
                   "also quantized (dsub searched, qnorm, the largest cutoff that fits, retrain) "
                   "and --output is written as fastText's .ftz")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            try {
              (void)models::parse_model_size(text);
            } catch (const ValueError& e) {
              return e.what();
            }
            return "";
          },
          "SIZE"))
      ->needs(validation)
      ->group(group);
}

AutotuneOutcome run_autotune(const AutotuneArguments& a, const CLI::App& train,
                             const std::vector<models::LabelledExample>& lines,
                             const std::vector<models::LabelledExample>& validation,
                             const models::ClassifierOptions& start) {
  models::AutotuneOptions options;
  options.duration_seconds = a.duration;
  options.max_trials = a.trials;
  options.predictions = a.predictions;
  options.metric = models::AutotuneMetric::parse(a.metric, start.label_prefix);
  Json searched = Json::array();
  for (const Searchable& s : kSearchable) {
    options.search.*s.searched = train.count(s.option) == 0;
    if (options.search.*s.searched) searched.push(std::string(s.option).substr(2));
  }
  if (!a.model_size.empty()) {
    options.model_size = models::parse_model_size(a.model_size);
    searched.push(std::string("dsub"));
  }
  // Half the memory for one candidate's tables: the data and the best model so far need room.
  options.max_table_bytes = static_cast<std::uint64_t>(machine_memory_bytes() / 2);

  ProgressDisplay progress("classify train (autotune)");
  options.progress_interval = progress.interval();
  const std::string score_name = "best " + options.metric.name();
  const models::AutotuneResult r = models::autotune_classifier(
      lines, validation, start, options, [&](const models::AutotuneProgress& p) {
        progress.update({.fraction = p.fraction,
                         .unit = "trials",
                         .loss = p.best.value_or(0.0),
                         .loss_name = score_name,
                         .count = p.trials,
                         .lr = std::nullopt,
                         .eta_seconds = p.eta_seconds});
      });
  progress.finish(r.best_score);
  std::cerr << "autotune: " << options.metric.name() << " " << number(r.best_score)
            << " on the validation lines, trial " << r.best_trial << " of " << r.trials.size()
            << " (" << number(r.seconds) << " s" << (r.deadline_reached ? ", duration reached" : "")
            << "); training with " << as_arguments(r.best);
  if (r.best_quantization) {
    std::cerr << ", quantized with dsub " << r.best_quantization->dsub << " to fit "
              << options.model_size << " bytes";
  }
  std::cerr << "\n";

  Json history = Json::array();
  for (const models::AutotuneTrial& t : r.trials) {
    Json j = options_json(t.options);
    j.set("trial", t.number)
        .set("score", t.score ? Json(*t.score) : Json())
        .set("outcome", t.outcome)
        .set("seconds", t.seconds);
    if (t.quantization) j.set("quantization", quantization_json(*t.quantization));
    history.push(std::move(j));
  }
  Json report = Json::object();
  report.set("validation", a.validation)
      .set("metric", options.metric.name())
      .set("predictions", a.predictions)
      .set("score", r.best_score)
      .set("best", options_json(r.best))
      .set("best_trial", r.best_trial)
      .set("trials", static_cast<std::int64_t>(r.trials.size()))
      .set("seconds", r.seconds)
      .set("deadline_reached", r.deadline_reached)
      .set("searched", std::move(searched))
      .set("model_size", options.model_size > 0 ? Json(options.model_size) : Json())
      .set("history", std::move(history));
  return {r.best, std::move(report), options.model_size, r.best_quantization};
}

}  // namespace embedkit::cli
