// fastText's -autotune-modelsize (autotune_model_size.hpp): the size parser and the fit.
#include "embedkit/models/autotune_model_size.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "embedkit/core/error.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/fasttext_model_size.hpp"
#include "embedkit/models/fasttext_quantization.hpp"
#include "embedkit/models/fasttext_retraining.hpp"

namespace embedkit::models {

namespace {

// fastText's lower bound on autotune's cutoff (kCutoffLimit).
constexpr std::int64_t kLeastRows = 256;
// fastText quantizes the output matrix from this many labels on (Autotune::quantize).
constexpr std::int64_t kLabelsForQout = 256;
// Largest dsub fastText's autotune tries (2^4).
constexpr std::int64_t kLargestDsub = 16;

}  // namespace

std::int64_t parse_model_size(const std::string& text) {
  auto fail = [&text](const std::string& why) -> std::int64_t {
    throw ValueError("model size '" + text + "': " + why +
                     " (bytes, or a number followed by K, M or G: 2M is 2,000,000 bytes)");
  };
  if (text.empty()) return fail("empty");
  std::string digits = text;
  std::int64_t unit = 1;
  switch (digits.back()) {
    case 'k':
    case 'K':
      unit = 1000;
      break;
    case 'm':
    case 'M':
      unit = 1000000;
      break;
    case 'g':
    case 'G':
      unit = 1000000000;
      break;
    default:
      break;
  }
  if (unit > 1) digits.pop_back();
  if (digits.empty() || digits.size() > 12 ||
      !std::all_of(digits.begin(), digits.end(),
                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
    return fail("not a size");
  }
  const std::int64_t size = std::stoll(digits) * unit;
  if (size < 1) return fail("must be at least 1 byte");
  return size;
}

std::int64_t smallest_model_bytes(const std::vector<std::string>& labels,
                                  const std::string& label_prefix, std::int64_t dim) {
  io::FastTextModelFile m;
  m.args.dim = static_cast<std::int32_t>(dim);
  m.args.model = io::FastTextModelType::Supervised;
  m.args.loss = io::FastTextLoss::Softmax;
  m.args.bucket = 0;
  m.args.minn = 0;
  m.args.maxn = 0;
  m.args.word_ngrams = 1;
  m.dictionary.words.push_back({"</s>", 1});
  for (const std::string& l : labels) m.dictionary.labels.push_back({label_prefix + l, 1});
  m.input = Tensor::zeros({1, dim});
  m.output = Tensor::zeros({static_cast<std::int64_t>(labels.size()), dim});
  const bool qout = static_cast<std::int64_t>(labels.size()) >= kLabelsForQout;
  return FastTextSizeModel(m, std::min(dim, kLargestDsub), true, qout).bytes(1);
}

std::optional<ModelSizeFit> fit_model_size(
    const TextClassifier& classifier, const std::vector<LabelledExample>& lines, std::int64_t dsub,
    std::int64_t budget, std::uint64_t seed,
    const std::function<void(const ClassifierProgress&)>& on_progress, double progress_interval) {
  if (budget < 1) throw ValueError("model size: the budget must be >= 1 byte");
  const io::FastTextModelFile dense = FastTextModel::from_classifier(classifier);
  ModelSizeQuantization q;
  q.dsub = std::clamp<std::int64_t>(dsub, 1, dense.args.dim);
  q.qnorm = true;
  q.qout = static_cast<std::int64_t>(dense.dictionary.labels.size()) >= kLabelsForQout;
  const FastTextSizeModel size(dense, q.dsub, q.qnorm, q.qout);
  FastTextQuantizeOptions o;
  o.dsub = q.dsub;
  o.qnorm = q.qnorm;
  o.qout = q.qout;
  o.seed = seed;
  ModelSizeFit fit;
  if (size.bytes(0) <= budget) {
    fit.file = quantize_fasttext_model(dense, o);
  } else {
    q.cutoff = size.largest_cutoff(budget);
    if (q.cutoff < std::min(kLeastRows, size.rows())) return std::nullopt;
    o.cutoff = q.cutoff;
    const ClassifierOptions& c = classifier.options();
    FastTextRetraining r;
    r.lines = &lines;
    r.epochs = c.epochs;
    r.lr = c.lr;
    r.threads = c.threads;
    r.seed = c.seed;
    r.label_prefix = c.label_prefix;
    r.on_progress = on_progress;
    r.progress_interval = progress_interval;
    q.retrained = true;
    fit.file = quantize_fasttext_model(dense, o, &r);
  }
  q.bytes = static_cast<std::int64_t>(io::serialize_fasttext_model(fit.file).size());
  if (q.bytes != size.bytes(q.cutoff)) {
    throw Error("model size: the .ftz takes " + std::to_string(q.bytes) + " bytes, " +
                std::to_string(size.bytes(q.cutoff)) + " were computed (a bug)");
  }
  fit.quantization = q;
  return fit;
}

}  // namespace embedkit::models
