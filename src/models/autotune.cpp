// Autotune of the text classifier (autotune.hpp): the metric, the search strategy (fastText's
// distributions and schedule), and the loop that trains and scores the candidates.
#include "embedkit/models/autotune.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iterator>
#include <new>
#include <numbers>
#include <set>
#include <string>
#include <utility>

#include "core/splitmix64.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/models/dictionary.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/training_divergence.hpp"

namespace embedkit::models {

namespace {

using Clock = std::chrono::steady_clock;

// fastText's choices for minn (maxn is minn + 3): no subwords, or n-grams from 2 or 3 characters.
constexpr std::int64_t kMinnChoices[] = {0, 2, 3};
// How often a training candidate checks the deadline (its progress interval).
constexpr double kDeadlineCheckSeconds = 0.05;

// Thrown by a candidate's progress callback once the deadline has passed: stops its training.
struct DeadlineReached {};

// The spread of a mutation at schedule position t in [0, 1]: `start` until t = 0.25, then
// linearly down to `end` at t = 0.75 (fastText's schedule).
struct Spread {
  double start;
  double end;
  double at(double t) const { return start - (start - end) / 0.5 * std::clamp(t - 0.25, 0.0, 0.5); }
};

class Strategy {
 public:
  Strategy(const ClassifierOptions& start, const AutotuneSearch& search, std::uint64_t seed)
      : search_(search), rng_{detail::splitmix64_hash(seed ^ 0xa070707e5eedULL)} {
    update_best(start);
  }

  // The candidate of trial `trial` (1-based) at schedule position t: the best options so far,
  // unchanged for the first trial, mutated after it.
  ClassifierOptions ask(std::int64_t trial, double t) {
    ClassifierOptions o = best_;
    if (trial == 1) return o;
    if (search_.epochs) o.epochs = whole(scaled(real(o.epochs), {2.8, 2.5}, t), 1, 100);
    if (search_.lr) o.lr = std::clamp(scaled(o.lr, {1.9, 1.0}, t), 0.01, 5.0);
    if (search_.dim) o.dim = whole(scaled(real(o.dim), {1.4, 0.3}, t), 1, 1000);
    if (search_.word_ngrams) o.word_ngrams = whole(moved(real(o.word_ngrams), {4.3, 2.4}, t), 1, 5);
    if (search_.minn) {
      const auto last = static_cast<std::int64_t>(std::size(kMinnChoices)) - 1;
      o.minn = kMinnChoices[whole(moved(real(best_minn_index_), {4.0, 1.4}, t), 0, last)];
    }
    if (search_.maxn) o.maxn = o.minn == 0 ? 0 : o.minn + 3;
    // A searched minn must fit a maxn the user fixed (fastText would read minn 0 as 1).
    if (o.maxn > 0) o.minn = std::clamp<std::int64_t>(o.minn, 1, o.maxn);
    if (search_.buckets && o.bucket_rows() > 0) {
      o.buckets = whole(scaled(real(best_nonzero_buckets_), {2.0, 1.5}, t), 10000, 10000000);
    }
    if (search_.loss) o.loss = ClassifierLoss::Softmax;
    return o;
  }

  // The quantizer's dsub for trial `trial` (a model-size target only; drawn after ask(), so a
  // search without one draws what it drew before): 2^k, k in [1, 4] moved from the best's.
  std::int64_t ask_dsub(std::int64_t trial, double t, bool searched, std::int64_t start) {
    if (!searched) return start;
    if (trial == 1) return std::int64_t{1} << best_dsub_exponent_;
    return std::int64_t{1} << whole(moved(real(best_dsub_exponent_), {2.0, 1.0}, t), 1, 4);
  }

  void update_best_dsub(std::int64_t dsub) {
    std::int64_t k = 0;
    while ((std::int64_t{2} << k) <= dsub) ++k;  // floor(log2(dsub))
    best_dsub_exponent_ = std::clamp<std::int64_t>(k, 1, 4);
  }

  void update_best(const ClassifierOptions& best) {
    best_ = best;
    const auto* found = std::find(std::begin(kMinnChoices), std::end(kMinnChoices), best.minn);
    best_minn_index_ = found == std::end(kMinnChoices) ? 0 : found - std::begin(kMinnChoices);
    if (best.bucket_rows() > 0) best_nonzero_buckets_ = best.buckets;
  }

 private:
  // N(0, 1) by Box-Muller from two uniform draws of the generator (the same on every standard
  // library, unlike std::normal_distribution).
  double normal() {
    const double u1 = static_cast<double>((rng_.next() >> 11) + 1) * 0x1.0p-53;  // (0, 1]
    const double u2 = static_cast<double>(rng_.next() >> 11) * 0x1.0p-53;        // [0, 1)
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  static double real(std::int64_t value) { return static_cast<double>(value); }
  double scaled(double value, Spread spread, double t) {
    return value * std::exp2(spread.at(t) * normal());
  }
  double moved(double value, Spread spread, double t) { return value + spread.at(t) * normal(); }
  // Truncated toward zero, as fastText's conversion to an integer, then clamped.
  static std::int64_t whole(double value, std::int64_t low, std::int64_t high) {
    return static_cast<std::int64_t>(
        std::clamp(std::trunc(value), static_cast<double>(low), static_cast<double>(high)));
  }

  AutotuneSearch search_;
  detail::SplitMix64 rng_;
  ClassifierOptions best_;
  std::int64_t best_minn_index_ = 0;
  std::int64_t best_nonzero_buckets_ = 2000000;
  std::int64_t best_dsub_exponent_ = 1;  // fastText's start: dsub 2
};

// One validation pass, recorded as fastText's Meter records it: counts for F1, and each
// prediction's probability and correctness for the precision-recall curve.
class Meter {
 public:
  explicit Meter(std::optional<std::int64_t> label) : label_(label) {}

  void log(const std::vector<std::int64_t>& gold, const std::vector<LabelScore>& predicted) {
    for (const std::int64_t g : gold) gold_ += !label_ || g == *label_;
    for (const LabelScore& p : predicted) {
      if (label_ && p.label != *label_) continue;
      const bool correct = std::find(gold.begin(), gold.end(), p.label) != gold.end();
      ++predicted_;
      correct_ += correct;
      scored_.emplace_back(p.probability, correct);
    }
  }

  double score(const AutotuneMetric& metric) const {
    switch (metric.kind) {
      case AutotuneMetric::Kind::F1:
        // 0, not fastText's NaN, when nothing was predicted nor expected: NaN would never
        // compare better or worse than a later score.
        return predicted_ + gold_ == 0
                   ? 0.0
                   : 2.0 * static_cast<double>(correct_) / static_cast<double>(predicted_ + gold_);
      case AutotuneMetric::Kind::PrecisionAtRecall: {
        double best = 0;
        for (const auto& [precision, recall] : curve()) {
          if (recall >= metric.value) best = std::max(best, precision);
        }
        return best;
      }
      case AutotuneMetric::Kind::RecallAtPrecision: {
        double best = 0;
        for (const auto& [precision, recall] : curve()) {
          if (precision >= metric.value) best = std::max(best, recall);
        }
        return best;
      }
    }
    return 0;
  }

 private:
  // (precision, recall) at every distinct probability threshold, from the most probable
  // prediction down to the first threshold that reaches full recall, then (1, 0).
  std::vector<std::pair<double, double>> curve() const {
    std::vector<std::pair<double, bool>> sorted = scored_;
    std::sort(sorted.begin(), sorted.end(), std::greater<>());
    std::vector<std::pair<double, double>> out;
    std::int64_t tp = 0, fp = 0;
    for (std::size_t i = 0; i < sorted.size(); ++i) {
      (sorted[i].second ? tp : fp) += 1;
      if (i + 1 < sorted.size() && sorted[i + 1].first == sorted[i].first) continue;  // a tie
      const double recall =
          gold_ > 0 ? static_cast<double>(tp) / static_cast<double>(gold_) : std::nan("");
      out.emplace_back(static_cast<double>(tp) / static_cast<double>(tp + fp), recall);
      if (tp >= gold_) break;
    }
    out.emplace_back(1.0, 0.0);
    return out;
  }

  std::optional<std::int64_t> label_;
  std::int64_t gold_ = 0;
  std::int64_t predicted_ = 0;
  std::int64_t correct_ = 0;
  std::vector<std::pair<double, bool>> scored_;
};

// `predict(words, k)`: the model's k best labels (the classifier's, or its quantized file's,
// whose label ids are the classifier's).
double validation_score(const TextClassifier& model, const std::vector<LabelledExample>& validation,
                        const AutotuneOptions& options,
                        const std::function<std::vector<LabelScore>(const std::vector<std::string>&,
                                                                    std::int64_t)>& predict) {
  const auto& labels = model.dictionary().labels();
  std::optional<std::int64_t> label;
  if (!options.metric.label.empty()) label = labels.find(options.metric.label);
  Meter meter(label);
  std::vector<std::int64_t> gold;
  for (const LabelledExample& e : validation) {
    gold.clear();
    for (const std::string& l : e.labels) {
      const std::int64_t id = *labels.find(l);  // checked before the search
      if (std::find(gold.begin(), gold.end(), id) == gold.end()) gold.push_back(id);
    }
    meter.log(gold, predict(e.words, options.predictions));
  }
  return meter.score(options.metric);
}

// ValueError for a validation label that no training line carries, and for a metric label
// that none does.
void check_labels(const std::vector<LabelledExample>& train,
                  const std::vector<LabelledExample>& validation, const AutotuneMetric& metric) {
  std::set<std::string, std::less<>> known;
  for (const LabelledExample& e : train) known.insert(e.labels.begin(), e.labels.end());
  std::int64_t unknown = 0;
  std::string first;
  for (const LabelledExample& e : validation) {
    for (const std::string& l : e.labels) {
      if (known.count(l) != 0) continue;
      if (unknown++ == 0) {
        first = "label '" + l + "' on validation line " + std::to_string(e.line);
      }
    }
  }
  if (unknown > 0) {
    throw ValueError("autotune: " + first + " never occurs in the training lines (" +
                     std::to_string(unknown) +
                     " such label(s) in all): a model trained on them can never predict it");
  }
  if (!metric.label.empty() && known.count(metric.label) == 0) {
    throw ValueError("autotune: the metric's label '" + metric.label +
                     "' never occurs in the training lines");
  }
}

// A model-size target that no candidate can meet, or options fastText cannot read, refused
// before any training.
void check_model_size(const ClassifierOptions& start, const AutotuneSearch& search,
                      const Dictionary& dictionary, const AutotuneOptions& options) {
  auto fail = [](const std::string& why) { throw ValueError("autotune: " + why); };
  // The first trial trains the starting options as given, loss included.
  if (start.loss == ClassifierLoss::HierarchicalSoftmax) {
    fail("a model size needs a loss fastText reads as embedkit trains it: softmax or ns, not hs");
  }
  if (start.lowercase) fail("a model size needs a model without lowercase (fastText has none)");
  if (!start.end_of_line) fail("a model size needs \"</s>\" at the end of lines (no --no-eol)");
  std::vector<std::string> labels;
  for (std::int64_t i = 0; i < dictionary.labels().size(); ++i) {
    labels.push_back(dictionary.labels().text(i));
  }
  const std::int64_t dim = search.dim ? 1 : start.dim;
  const std::int64_t least = smallest_model_bytes(labels, start.label_prefix, dim);
  if (options.model_size < least) {
    fail("a model size of " + std::to_string(options.model_size) +
         " bytes is below the smallest model these " + std::to_string(labels.size()) +
         " labels allow, " + std::to_string(least) + " bytes (dim " + std::to_string(dim) +
         ", \"</s>\" its only row: the header, the labels, the quantizers" +
         (labels.size() >= 256 ? "" : ", the output matrix") + ")");
  }
}

// Bytes of a candidate's input and output tables (float32).
double table_bytes(const ClassifierOptions& o, std::int64_t words, std::int64_t labels) {
  return static_cast<double>(words + o.bucket_rows() + labels) * static_cast<double>(o.dim) * 4.0;
}

}  // namespace

AutotuneMetric AutotuneMetric::parse(const std::string& text, const std::string& label_prefix) {
  auto fail = [&text](const std::string& why) -> AutotuneMetric {
    throw ValueError("autotune metric '" + text + "': " + why +
                     " (f1, f1:LABEL, precisionAtRecall:P[:LABEL] or "
                     "recallAtPrecision:P[:LABEL], P a percentage)");
  };
  auto label_of = [&](std::string label) {
    if (label.rfind(label_prefix, 0) == 0) label.erase(0, label_prefix.size());
    if (label.empty()) fail("empty label");
    return label;
  };
  AutotuneMetric m;
  if (text == "f1") return m;
  if (text.rfind("f1:", 0) == 0) {
    m.label = label_of(text.substr(3));
    return m;
  }
  for (const auto& [name, kind] :
       {std::pair{std::string("precisionAtRecall:"), Kind::PrecisionAtRecall},
        std::pair{std::string("recallAtPrecision:"), Kind::RecallAtPrecision}}) {
    if (text.rfind(name, 0) != 0) continue;
    m.kind = kind;
    const std::size_t colon = text.find(':', name.size());
    const std::string number = text.substr(name.size(), colon - name.size());
    double percent = 0;
    const auto [end, error] =
        std::from_chars(number.data(), number.data() + number.size(), percent);
    if (number.empty() || error != std::errc() || end != number.data() + number.size() ||
        !(percent >= 0 && percent <= 100)) {
      return fail("'" + number + "' is not a percentage in [0, 100]");
    }
    m.value = percent / 100.0;
    if (colon != std::string::npos) m.label = label_of(text.substr(colon + 1));
    return m;
  }
  return fail("unknown metric");
}

std::string AutotuneMetric::name() const {
  std::string out;
  char percent[32];
  std::snprintf(percent, sizeof percent, "%g", value * 100.0);
  switch (kind) {
    case Kind::F1:
      out = "f1";
      break;
    case Kind::PrecisionAtRecall:
      out = std::string("precisionAtRecall:") + percent;
      break;
    case Kind::RecallAtPrecision:
      out = std::string("recallAtPrecision:") + percent;
      break;
  }
  return label.empty() ? out : out + ":" + label;
}

void AutotuneOptions::validate() const {
  auto fail = [](const std::string& what) { throw ValueError("autotune: " + what); };
  if (!(duration_seconds > 0) || !std::isfinite(duration_seconds)) {
    fail("the duration must be > 0 seconds, got " + std::to_string(duration_seconds));
  }
  if (max_trials < 0) fail("the trial bound must be >= 0, got " + std::to_string(max_trials));
  if (predictions < 1) fail("predictions must be >= 1, got " + std::to_string(predictions));
  if (!(progress_interval > 0) || !std::isfinite(progress_interval)) {
    fail("progress_interval must be > 0");
  }
  if (model_size < 0) fail("the model size must be >= 0 bytes, got " + std::to_string(model_size));
  if (dsub < 1) fail("dsub must be >= 1, got " + std::to_string(dsub));
}

AutotuneResult autotune_classifier(
    const std::vector<LabelledExample>& train, const std::vector<LabelledExample>& validation,
    const ClassifierOptions& start, const AutotuneOptions& options,
    const std::function<void(const AutotuneProgress&)>& on_progress) {
  start.validate();
  options.validate();
  if (train.empty()) throw ValueError("autotune: no training line");
  if (validation.empty()) throw ValueError("autotune: no validation line");
  check_labels(train, validation, options.metric);

  const auto began = Clock::now();
  auto elapsed = [&began] { return std::chrono::duration<double>(Clock::now() - began).count(); };
  const double duration = options.duration_seconds;
  AutotuneSearch search = options.search;
  // Pretrained vectors fix the dimension.
  if (!start.pretrained_vectors.empty()) search.dim = false;
  Strategy strategy(start, search, start.seed);
  // The rows every candidate has (min_count is not searched), for the memory bound; the words
  // pretrained vectors would add are left out of the count.
  const Dictionary dictionary =
      Dictionary::from_examples(train, start.min_count, start.end_of_line);
  const std::int64_t words = dictionary.words().size();
  const std::int64_t labels = dictionary.labels().size();
  if (options.model_size > 0) check_model_size(start, search, dictionary, options);

  AutotuneResult result;
  result.best = start;
  bool scored = false;
  std::int64_t diverged = 0, too_large = 0, oversize = 0;
  auto progress = [&] {
    AutotuneProgress p;
    p.elapsed_seconds = elapsed();
    p.trials = static_cast<std::int64_t>(result.trials.size());
    if (scored) p.best = result.best_score;
    const double by_time = std::min(1.0, p.elapsed_seconds / duration);
    const double by_trials = options.max_trials > 0 ? static_cast<double>(p.trials) /
                                                          static_cast<double>(options.max_trials)
                                                    : 0.0;
    p.fraction = std::max(by_time, by_trials);
    p.eta_seconds = duration - p.elapsed_seconds;
    if (by_trials > by_time && by_trials > 0) {
      p.eta_seconds = std::min(p.eta_seconds, p.elapsed_seconds * (1 - by_trials) / by_trials);
    }
    p.eta_seconds = std::max(0.0, p.eta_seconds);
    return p;
  };
  double last_report = 0;
  auto report = [&](bool now) {
    if (!on_progress || (!now && elapsed() - last_report < options.progress_interval)) return;
    last_report = elapsed();
    on_progress(progress());
  };

  for (std::int64_t trial = 1; options.max_trials == 0 || trial <= options.max_trials; ++trial) {
    if (elapsed() >= duration) {
      result.deadline_reached = true;
      break;
    }
    const double t = options.max_trials > 0
                         ? static_cast<double>(trial - 1) / static_cast<double>(options.max_trials)
                         : elapsed() / duration;
    AutotuneTrial record;
    record.number = trial;
    record.options = strategy.ask(trial, t);
    std::int64_t dsub = 0;
    if (options.model_size > 0) {
      dsub = strategy.ask_dsub(trial, t, search.dsub, options.dsub);
      record.quantization = ModelSizeQuantization{};
      record.quantization->dsub = std::min(dsub, record.options.dim);
    }
    ClassifierOptions candidate = record.options;
    candidate.progress_interval = kDeadlineCheckSeconds;
    const auto trial_began = Clock::now();
    // With a model size the tables are held twice: the classifier's and the copy quantized.
    const double copies = options.model_size > 0 ? 2.0 : 1.0;
    if (options.max_table_bytes > 0 && copies * table_bytes(candidate, words, labels) >
                                           static_cast<double>(options.max_table_bytes)) {
      record.outcome = "tables too large";
      ++too_large;
    } else {
      try {
        const auto check_deadline = [&](const ClassifierProgress&) {
          if (elapsed() >= duration) throw DeadlineReached{};
          report(false);
        };
        const TextClassifier model =
            TextClassifier::train(train, candidate, nullptr, check_deadline);
        if (options.model_size == 0) {
          record.score = validation_score(model, validation, options,
                                          [&](const std::vector<std::string>& line,
                                              std::int64_t k) { return model.predict(line, k); });
          record.outcome = "scored";
        } else {
          const std::optional<ModelSizeFit> fit =
              fit_model_size(model, train, dsub, options.model_size, options.quantize_seed,
                             check_deadline, kDeadlineCheckSeconds);
          if (!fit) {
            record.outcome = "over the model size";
            ++oversize;
          } else {
            const FastTextModel quantized(fit->file);
            record.quantization = fit->quantization;
            record.score =
                validation_score(model, validation, options,
                                 [&](const std::vector<std::string>& line, std::int64_t k) {
                                   std::vector<LabelScore> out;
                                   for (const FastTextPrediction& p : quantized.predict(line, k)) {
                                     out.push_back({p.label, p.probability});
                                   }
                                   return out;
                                 });
            record.outcome = "scored";
          }
        }
      } catch (const DeadlineReached&) {
        result.deadline_reached = true;
        break;
      } catch (const TrainingDivergedError&) {
        record.outcome = "diverged";  // fastText passes over a NaN loss too
        ++diverged;
      } catch (const std::bad_alloc&) {
        record.outcome = "out of memory";
        ++too_large;
      }
    }
    record.seconds = std::chrono::duration<double>(Clock::now() - trial_began).count();
    if (record.score && (!scored || *record.score > result.best_score)) {
      scored = true;
      result.best = record.options;
      result.best_score = *record.score;
      result.best_trial = trial;
      result.best_quantization = record.quantization;
      strategy.update_best(record.options);
      if (record.quantization) strategy.update_best_dsub(record.quantization->dsub);
    }
    result.trials.push_back(std::move(record));
    report(false);
  }
  result.seconds = elapsed();
  if (!scored && oversize > 0) {
    throw Error("autotune: no candidate fit the model size of " +
                std::to_string(options.model_size) + " bytes (" + std::to_string(oversize) +
                " of " + std::to_string(result.trials.size()) +
                " trial(s) would have had to keep fewer than 256 input rows): raise the model "
                "size (fastText: \"Couldn't fulfil model size constraint\")");
  }
  if (!scored) {
    const auto n = static_cast<std::int64_t>(result.trials.size());
    throw Error("autotune: no candidate was scored: " + std::to_string(n) + " trial(s) finished (" +
                std::to_string(diverged) + " diverged, " + std::to_string(too_large) +
                " too large for memory) in " +
                std::to_string(static_cast<std::int64_t>(result.seconds)) +
                " s; a longer duration lets the first trial finish");
  }
  report(true);
  return result;
}

}  // namespace embedkit::models
