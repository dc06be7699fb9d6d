// FastTextModel::evaluate: fastText's test (P@k, R@k) over a fastText model file, dense or
// quantized, counted as the text classifier counts it (classifier_tally.hpp).
#include <optional>
#include <string>
#include <unordered_map>

#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/labelled_text.hpp"
#include "embedkit/models/text_classifier.hpp"
#include "models/classifier_tally.hpp"

namespace embedkit::models {

ClassifierEvaluation FastTextModel::evaluate(const std::vector<LabelledExample>& data,
                                             std::int64_t k, double threshold,
                                             const std::string& label_prefix) const {
  const auto& labels = file_.dictionary.labels;
  std::unordered_map<std::string, std::int64_t> ids;
  for (std::size_t i = 0; i < labels.size(); ++i) ids.emplace(labels[i].text, i);
  ClassifierTally tally(k, threshold, labels.size());
  for (const LabelledExample& e : data) {
    tally.add(
        e,
        [&](const std::string& l) -> std::optional<std::int64_t> {
          const auto it = ids.find(label_prefix + l);
          if (it == ids.end()) return std::nullopt;
          return it->second;
        },
        predict(e.words, k, threshold));
  }
  return tally.result();
}

}  // namespace embedkit::models
