// The text classifier's predictions: the hidden vector of a line, every output row's score, and
// the labels' probabilities under the model's loss; and fastText's test over labelled lines.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "embedkit/core/error.hpp"
#include "embedkit/models/text_classifier.hpp"
#include "embedkit/nn/activation.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/nn/linear.hpp"
#include "models/classifier_tally.hpp"
#include "models/text_classifier_layers.hpp"

namespace embedkit::models {

using text_classifier_detail::only_offset;

std::vector<LabelScore> TextClassifier::predict(const std::vector<std::string>& words,
                                                std::int64_t k, double threshold) const {
  if (k < 1) throw ValueError("text classifier: k must be >= 1, got " + std::to_string(k));
  std::vector<std::int64_t> ids = input_ids(words);
  const std::int64_t dim = options_.dim;
  Tensor hidden = Tensor::zeros({1, dim});
  if (!ids.empty()) {
    Tensor table = input_;  // shares the storage; the lookup does not write it
    nn::functional::embedding_bag_into(
        Tensor::from_blob(ids.data(), {static_cast<std::int64_t>(ids.size())}, DType::Int64), table,
        only_offset(), hidden, nn::EmbeddingBagFuncOptions().mode(nn::BagMode::Mean));
  }
  // Scores of every output row: Linear(dim -> rows) over the output table.
  const Tensor scores = nn::functional::linear(hidden, layers_->scorer.weight());
  const float* z = scores.data<float>();
  const auto labels = static_cast<std::size_t>(dictionary_.labels().size());
  std::vector<double> prob(labels);
  switch (options_.loss) {
    case ClassifierLoss::Softmax: {
      const Tensor p = nn::functional::softmax(scores);
      for (std::size_t i = 0; i < labels; ++i) prob[i] = static_cast<double>(p.data<float>()[i]);
      break;
    }
    case ClassifierLoss::NegativeSampling:
      for (std::size_t i = 0; i < labels; ++i) {
        prob[i] = 1.0 / (1.0 + std::exp(-static_cast<double>(z[i])));
      }
      break;
    case ClassifierLoss::HierarchicalSoftmax:
      for (std::size_t i = 0; i < labels; ++i) {
        const auto code = layers_->tree->code(i);
        const auto points = layers_->tree->points(i);
        double p = 1;
        for (std::size_t d = 0; d < code.size(); ++d) {
          const double x = static_cast<double>(z[points[d]]);
          p *= 1.0 / (1.0 + std::exp(code[d] != 0 ? -x : x));
        }
        prob[i] = p;
      }
      break;
  }
  std::vector<LabelScore> out;
  for (std::size_t i = 0; i < labels; ++i) {
    if (prob[i] >= threshold) out.push_back({static_cast<std::int64_t>(i), prob[i]});
  }
  const auto keep = std::min<std::size_t>(out.size(), static_cast<std::size_t>(k));
  std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(keep), out.end(),
                    [](const LabelScore& a, const LabelScore& b) {
                      return a.probability > b.probability ||
                             (a.probability == b.probability && a.label < b.label);
                    });
  out.resize(keep);
  return out;
}

ClassifierEvaluation TextClassifier::evaluate(const std::vector<LabelledExample>& data,
                                              std::int64_t k, double threshold) const {
  ClassifierTally tally(k, threshold, static_cast<std::size_t>(dictionary_.labels().size()));
  for (const LabelledExample& e : data) {
    tally.add(
        e, [&](const std::string& l) { return dictionary_.labels().find(l); },
        predict(e.words, k, threshold));
  }
  return tally.result();
}

}  // namespace embedkit::models
