// sigmoid(x) and -log(sigmoid(x)) tabulated on [-kMaxExp, kMaxExp] (word2vec.c's and fastText's
// table): a look-up is several times cheaper than expf and log1pf, and the training noise dwarfs
// the table's error. Arguments beyond +-kMaxExp are saturated by the caller.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>

namespace embedkit::models::training {

inline constexpr float kMaxExp = 6.0f;
inline constexpr int kSigmoidTableSize = 1024;

struct SigmoidTable {
  std::array<float, kSigmoidTableSize + 1> sigmoid{};
  std::array<float, kSigmoidTableSize + 1> neg_log_sigmoid{};
  SigmoidTable() {
    for (int i = 0; i <= kSigmoidTableSize; ++i) {
      const double x = (2.0 * i / kSigmoidTableSize - 1.0) * kMaxExp;
      sigmoid[static_cast<std::size_t>(i)] = static_cast<float>(1.0 / (1.0 + std::exp(-x)));
      neg_log_sigmoid[static_cast<std::size_t>(i)] = static_cast<float>(std::log1p(std::exp(-x)));
    }
  }
  // The entry of x in [-kMaxExp, kMaxExp] (not NaN: converting NaN is undefined behaviour).
  static std::size_t index(float x) {
    return static_cast<std::size_t>((x + kMaxExp) * (kSigmoidTableSize / (2.0f * kMaxExp)));
  }
};

inline const SigmoidTable& sigmoid_table() {
  static const SigmoidTable table;
  return table;
}

}  // namespace embedkit::models::training
