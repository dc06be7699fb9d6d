// A seedable random number generator with a fixed, documented algorithm, so that the same
// seed gives the same numbers on every platform and standard library (std::normal_distribution
// does not promise that).
#pragma once

#include <cstdint>
#include <random>

#include "embedkit/core/tensor.hpp"

namespace embedkit {

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0x5eed) : engine_(seed) {}

  void seed(std::uint64_t s) {
    engine_.seed(s);
    has_spare_ = false;
  }
  std::uint64_t next_u64() { return engine_(); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Standard normal by the Box-Muller transform (pairs; the second value is kept).
  double normal();

 private:
  std::mt19937_64 engine_;
  double spare_ = 0;
  bool has_spare_ = false;
};

// The process-wide default generator (like torch's), guarded for use from several threads.
Generator& default_generator();
void manual_seed(std::uint64_t seed);

// Fills a float tensor (float32/16/bf16) with draws from N(mean, std^2), element by element.
void fill_normal(Tensor& t, Generator& gen, double mean = 0.0, double std = 1.0);
// Same, with the default generator (locked while it draws).
void fill_normal(Tensor& t, double mean = 0.0, double std = 1.0);

}  // namespace embedkit
