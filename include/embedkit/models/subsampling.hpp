// Subsampling of frequent words (Mikolov et al. 2013, as word2vec.c implements it): a word with
// corpus frequency f = count / total is kept with probability
//     (sqrt(f / sample) + 1) * sample / f
// (capped at 1), which keeps rare words always and drops most occurrences of "the".
// sample <= 0 turns subsampling off.
#pragma once

#include <cmath>
#include <cstdint>

namespace embedkit::models {

inline double keep_probability(std::int64_t count, std::int64_t total, double sample) {
  if (sample <= 0 || count <= 0 || total <= 0) return 1.0;
  const double threshold = sample * static_cast<double>(total);
  const double c = static_cast<double>(count);
  const double p = (std::sqrt(c / threshold) + 1.0) * threshold / c;
  return p < 1.0 ? p : 1.0;
}

}  // namespace embedkit::models
