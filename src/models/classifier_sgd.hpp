// The text classifier's SGD over lines whose input rows and labels are already known: the loop
// that TextClassifier::train runs on a fresh model and that quantize's retraining
// (fasttext_retraining.hpp) runs on the rows a cutoff kept. One line at a time on each worker of
// the hogwild runner (hogwild_runner.hpp), the hidden vector the mean of the line's input rows
// (layered_input_bag.hpp), the output side one of the layered output losses
// (layered_output_loss.hpp); the learning rate decays linearly from options.lr to 0 over all
// epochs' tokens (text_classifier.hpp says the rest).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "embedkit/core/tensor.hpp"
#include "embedkit/models/huffman.hpp"
#include "embedkit/models/text_classifier.hpp"

namespace embedkit::models::training {

struct ClassifierLine {
  std::size_t begin = 0;  // into ClassifierLines::ids
  std::size_t end = 0;
  // Label ids (output rows; hs: leaves of the tree). A line without rows or without labels
  // still counts its tokens for the learning rate but is not trained on.
  std::vector<std::int64_t> labels;
  std::int64_t tokens = 0;
  std::int64_t number = 0;  // 1-based line number in the file, for errors
};

struct ClassifierLines {
  std::vector<std::int64_t> ids;  // every line's input rows, one after the other
  std::vector<ClassifierLine> lines;
  std::int64_t tokens = 0;  // per epoch
};

// Trains `input` [rows, dim] and `output` [output rows, dim] in place on `data`, by
// options.loss, epochs, lr, negative, shuffle, threads and seed. `label_counts`: the labels'
// counts (ns draws its negatives from them); `tree`: hs's Huffman tree (else null). Throws
// TrainingDivergedError as TextClassifier::train does, and what on_progress throws. `start`:
// when training began, for the progress reports and stats->seconds.
void train_classifier_lines(const ClassifierLines& data, Tensor& input, Tensor& output,
                            const ClassifierOptions& options,
                            const std::vector<std::int64_t>& label_counts, const HuffmanTree* tree,
                            ClassifierTrainStats* stats,
                            const std::function<void(const ClassifierProgress&)>& on_progress,
                            std::chrono::steady_clock::time_point start);

}  // namespace embedkit::models::training
