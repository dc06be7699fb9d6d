// How one labelled example counts into a ClassifierEvaluation (fastText's `test`: P@k, R@k and
// per-label counts), shared by TextClassifier::evaluate and FastTextModel::evaluate so that a
// model file of either kind is scored alike.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "embedkit/models/labelled_text.hpp"
#include "embedkit/models/text_classifier.hpp"

namespace embedkit::models {

class ClassifierTally {
 public:
  ClassifierTally(std::int64_t k, double threshold, std::size_t num_labels) {
    result_.k = k;
    result_.threshold = threshold;
    result_.per_label.resize(num_labels);
  }

  // find(label) -> the label's id, or nullopt for a label the model does not know (counted as
  // gold that no prediction can match, and in unseen_labels). predictions: the model's answers
  // for the example (anything with a `label` id). A label repeated in the example counts once.
  template <class FindLabel, class Predictions>
  void add(const LabelledExample& e, const FindLabel& find, const Predictions& predictions) {
    ClassifierEvaluation& r = result_;
    ++r.examples;
    gold_.clear();
    for (const std::string& l : e.labels) {
      const std::optional<std::int64_t> id = find(l);
      if (!id) {
        ++r.unseen_labels[l];
        ++r.gold;
        continue;
      }
      if (std::find(gold_.begin(), gold_.end(), *id) != gold_.end()) continue;
      gold_.push_back(*id);
      ++r.gold;
      ++r.per_label[static_cast<std::size_t>(*id)].gold;
    }
    for (const auto& p : predictions) {
      ++r.predicted;
      LabelMetrics& m = r.per_label[static_cast<std::size_t>(p.label)];
      ++m.predicted;
      if (std::find(gold_.begin(), gold_.end(), p.label) != gold_.end()) {
        ++r.correct;
        ++m.correct;
      }
    }
  }

  const ClassifierEvaluation& result() const { return result_; }

 private:
  ClassifierEvaluation result_;
  std::vector<std::int64_t> gold_;
};

}  // namespace embedkit::models
