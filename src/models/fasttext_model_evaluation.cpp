// FastTextModel::evaluate: fastText's test (P@k, R@k) over a fastText model file, dense or
// quantized, counted as the text classifier counts it (text_classifier_prediction.cpp).
#include <algorithm>
#include <string>
#include <unordered_map>

#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/labelled_text.hpp"
#include "embedkit/models/text_classifier.hpp"

namespace embedkit::models {

ClassifierEvaluation FastTextModel::evaluate(const std::vector<LabelledExample>& data,
                                             std::int64_t k, double threshold,
                                             const std::string& label_prefix) const {
  const auto& labels = file_.dictionary.labels;
  std::unordered_map<std::string, std::int64_t> ids;
  for (std::size_t i = 0; i < labels.size(); ++i) ids.emplace(labels[i].text, i);
  ClassifierEvaluation r;
  r.k = k;
  r.threshold = threshold;
  r.per_label.resize(labels.size());
  std::vector<std::int64_t> gold;
  for (const LabelledExample& e : data) {
    ++r.examples;
    gold.clear();
    for (const std::string& l : e.labels) {
      const auto it = ids.find(label_prefix + l);
      if (it == ids.end()) {
        ++r.unseen_labels[l];
        ++r.gold;
        continue;
      }
      if (std::find(gold.begin(), gold.end(), it->second) != gold.end()) continue;
      gold.push_back(it->second);
      ++r.gold;
      ++r.per_label[static_cast<std::size_t>(it->second)].gold;
    }
    for (const FastTextPrediction& p : predict(e.words, k, threshold)) {
      ++r.predicted;
      LabelMetrics& m = r.per_label[static_cast<std::size_t>(p.label)];
      ++m.predicted;
      if (std::find(gold.begin(), gold.end(), p.label) != gold.end()) {
        ++r.correct;
        ++m.correct;
      }
    }
  }
  return r;
}

}  // namespace embedkit::models
