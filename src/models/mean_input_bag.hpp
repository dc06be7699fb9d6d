// InputBag (input_bag.hpp) as word2vec.c and fastText's unsupervised models compute it: the mean
// summed in row order then scaled by 1 / rows; every row moves by -grad, undivided. A bag of one
// row is that row itself, read and written in place (skip-gram's common case: no copy).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "models/input_bag.hpp"
#include "models/vector_ops.hpp"

namespace embedkit::models::training {

class MeanInputBag final : public InputBag {
 public:
  // table: [rows, dim], shared with the model and the other workers (hogwild).
  MeanInputBag(float* table, std::size_t dim) : table_(table), dim_(dim), hidden_(dim) {}

  const float* mean(std::span<const std::int64_t> rows) override {
    rows_.assign(rows.begin(), rows.end());
    if (rows_.size() == 1) return row(rows_[0]);
    std::fill(hidden_.begin(), hidden_.end(), 0.0f);
    for (const std::int64_t r : rows_) axpy(1.0f, row(r), hidden_.data(), dim_);
    const float inv = 1.0f / static_cast<float>(rows_.size());
    for (float& h : hidden_) h *= inv;
    return hidden_.data();
  }

  void update(const float* grad) override {
    for (const std::int64_t r : rows_) axpy(-1.0f, grad, row(r), dim_);
  }

 private:
  float* row(std::int64_t r) const { return table_ + static_cast<std::size_t>(r) * dim_; }

  float* table_;
  std::size_t dim_;
  std::vector<float> hidden_;
  std::vector<std::int64_t> rows_;
};

}  // namespace embedkit::models::training
