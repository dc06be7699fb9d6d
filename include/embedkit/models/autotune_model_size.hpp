// fastText's -autotune-modelsize: a byte budget that the final model's .ftz must fit (fastText's
// Autotune::quantize). A trained classifier is quantized as fastText's autotune quantizes it:
// qnorm; qout when it has at least 256 labels; the kept rows retrained on the training lines at
// the classifier's epochs and lr (fastText's -retrain); and the largest cutoff whose file fits,
// found exactly (fasttext_model_size.hpp) where fastText estimates it. When every row fits, none
// is dropped and nothing is retrained (fastText's quantize does not prune a cutoff at or above
// the rows). A classifier that would have to keep fewer than 256 rows (or fewer than all of
// them, when it has fewer) does not fit: fastText's lower bound on the cutoff.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "embedkit/io/fasttext_model.hpp"
#include "embedkit/models/labelled_text.hpp"
#include "embedkit/models/text_classifier.hpp"

namespace embedkit::models {

// fastText's sizes: digits, optionally followed by k or K (x 1000), m or M (x 10^6), g or G
// (x 10^9): "2M" is 2,000,000 bytes. ValueError naming the text for anything else, and for 0.
std::int64_t parse_model_size(const std::string& text);

// How a model was quantized to fit.
struct ModelSizeQuantization {
  std::int64_t dsub = 2;
  std::int64_t cutoff = 0;  // rows kept; 0: none dropped
  bool qnorm = true;
  bool qout = false;
  bool retrained = false;
  std::int64_t bytes = 0;  // the .ftz's size
};

struct ModelSizeFit {
  io::FastTextModelFile file;  // the .ftz
  ModelSizeQuantization quantization;
};

// `classifier` (trained on `lines`) quantized to fit `budget` bytes with `dsub` (clamped to its
// dimension), or nothing when it cannot fit (see above). `seed`: the k-means'. on_progress is
// given to the retraining (an exception it throws stops it and propagates). ValueError for a
// classifier fastText cannot read (FastTextModel::from_classifier) and a budget < 1.
std::optional<ModelSizeFit> fit_model_size(
    const TextClassifier& classifier, const std::vector<LabelledExample>& lines, std::int64_t dsub,
    std::int64_t budget, std::uint64_t seed = 1234,
    const std::function<void(const ClassifierProgress&)>& on_progress = {},
    double progress_interval = 1.0);

// The fewest bytes any classifier of `dim` dimensions with these labels (counted as fastText
// stores them, each with `label_prefix`) can take quantized: "</s>" its only row, dsub as large
// as it gets; a budget below it fits no model.
std::int64_t smallest_model_bytes(const std::vector<std::string>& labels,
                                  const std::string& label_prefix, std::int64_t dim);

}  // namespace embedkit::models
