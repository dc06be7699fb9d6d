#include "embedkit/models/negative_sampler.hpp"

#include <cmath>
#include <string>

#include "embedkit/core/error.hpp"

namespace embedkit::models {

NegativeSampler::NegativeSampler(std::span<const std::int64_t> counts, double power) {
  if (counts.empty()) throw ValueError("NegativeSampler: no words");
  if (counts.size() > 0x7fffffffu) throw ValueError("NegativeSampler: more than 2^31 - 1 words");
  if (!std::isfinite(power)) throw ValueError("NegativeSampler: the power must be finite");
  const std::size_t n = counts.size();
  std::vector<double> scaled(n);
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (counts[i] < 0) throw ValueError("NegativeSampler: negative count");
    scaled[i] = std::pow(static_cast<double>(counts[i]), power);
    sum += scaled[i];
  }
  // count^power overflows double when the power is large (1000^150; the sum is then infinite
  // and every share NaN, which the table below turned into a uniform draw) and underflows to 0
  // for a large negative power. Then each count is taken relative to the largest (power > 0)
  // or the smallest (power < 0), which keeps every term in [0, 1] and that count's at 1: the
  // same shares, computable. Below the overflow the plain powers stay, as before.
  if (!std::isfinite(sum) || (sum == 0 && power < 0)) {
    std::int64_t reference = 0;
    for (const std::int64_t c : counts) {
      if (c == 0 && power < 0) {
        throw ValueError("NegativeSampler: a count of 0 has no share with the negative power " +
                         std::to_string(power));
      }
      if (c > 0 && (reference == 0 || (power > 0 ? c > reference : c < reference))) reference = c;
    }
    sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      scaled[i] = std::pow(static_cast<double>(counts[i]) / static_cast<double>(reference), power);
      sum += scaled[i];
    }
  }
  if (!(sum > 0)) throw ValueError("NegativeSampler: all counts are zero");
  // Vose's alias method: every column holds mass 1/n, split between itself and one alias.
  std::vector<std::size_t> small, large;
  for (std::size_t i = 0; i < n; ++i) {
    scaled[i] = scaled[i] * static_cast<double>(n) / sum;
    (scaled[i] < 1.0 ? small : large).push_back(i);
  }
  threshold_.assign(n, 0xffffffffu);
  alias_.resize(n);
  for (std::size_t i = 0; i < n; ++i) alias_[i] = static_cast<std::int32_t>(i);
  std::vector<double> prob(n, 1.0);
  while (!small.empty() && !large.empty()) {
    const std::size_t s = small.back();
    small.pop_back();
    const std::size_t l = large.back();
    prob[s] = scaled[s];
    alias_[s] = static_cast<std::int32_t>(l);
    scaled[l] = (scaled[l] + scaled[s]) - 1.0;
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // What is left is 1 up to rounding: those columns keep themselves always.
  for (std::size_t i = 0; i < n; ++i) {
    const double t = std::round(prob[i] * 4294967296.0);
    threshold_[i] = t >= 4294967295.0 ? 0xffffffffu : static_cast<std::uint32_t>(t);
    if (prob[i] >= 1.0) alias_[i] = static_cast<std::int32_t>(i);
  }
  size_ = n;
}

double NegativeSampler::probability(std::size_t id) const {
  // Mass of column id kept for itself, plus what other columns give it as their alias.
  double p = 0;
  for (std::size_t c = 0; c < size_; ++c) {
    const double keep = static_cast<double>(threshold_[c]) / 4294967296.0;
    if (c == id) p += keep;
    if (static_cast<std::size_t>(alias_[c]) == id) p += 1.0 - keep;
  }
  return p / static_cast<double>(size_);
}

}  // namespace embedkit::models
