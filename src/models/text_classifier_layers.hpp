// The text classifier's private parts that its files share (text_classifier.cpp: the model and
// its input ids; text_classifier_training.cpp; text_classifier_prediction.cpp;
// text_classifier_file.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "embedkit/core/generator.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/models/huffman.hpp"
#include "embedkit/models/text_classifier.hpp"
#include "embedkit/nn/linear.hpp"

namespace embedkit::models {

// What prediction needs besides the tables: Linear(dim -> output rows) sharing the output table,
// and the Huffman tree for hs.
struct TextClassifier::Layers {
  Layers(const ClassifierOptions& options, const std::vector<std::int64_t>& label_counts,
         const Tensor& output, Generator& gen)
      : scorer(nn::LinearOptions(options.dim, output.size(0)).bias(false), gen) {
    scorer.weight() = output;
    if (options.loss == ClassifierLoss::HierarchicalSoftmax) {
      tree = std::make_unique<HuffmanTree>(label_counts);
    }
  }
  nn::Linear scorer;
  std::unique_ptr<HuffmanTree> tree;
};

namespace text_classifier_detail {

// The tables' names in the model file and in error messages.
inline constexpr const char* kInputName = "input.weight";
inline constexpr const char* kOutputName = "output.weight";

// The offsets of a single bag (one line): {0}.
inline const Tensor& only_offset() {
  static const Tensor zero = Tensor::from_vector(std::vector<std::int64_t>{0});
  return zero;
}

}  // namespace text_classifier_detail

}  // namespace embedkit::models
