// nn.Dropout: in training mode, zeroes each element with probability p and scales the kept ones
// by 1 / (1 - p) ("inverted" dropout, as PyTorch), so the expected output equals the input; in
// evaluation mode (eval()) it is the identity.
//
// The mask comes from the module's own Generator, so a seed gives the same masks on every
// platform; it is not PyTorch's random stream. The arithmetic is PyTorch's (ATen's CPU
// _dropout_impl): noise = mask / (1 - p) in float32, output = input * noise, and backward
// multiplies by the same noise, so given the same mask the results equal PyTorch's bit for bit.
// p = 1 gives input * 0 (as PyTorch: zeros, and nan for an infinite input).
//
// Dropout is a Layer (layer.hpp). A copy has its own Generator with the same state, so it draws
// the same masks; what else a copy shares: module.hpp.
#pragma once

#include <cstdint>
#include <string>

#include "embedkit/core/arg.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/layer.hpp"

namespace embedkit::nn {

struct DropoutOptions {
  DropoutOptions() = default;
  /* implicit */ DropoutOptions(double p) : p_(p) {}  // NOLINT: Dropout(0.2) reads naturally
  // Probability of zeroing an element, in [0, 1] (ValueError otherwise).
  EMBEDKIT_ARG(double, p) = 0.5;
};

class Dropout : public Layer {
 public:
  // The mask generator is seeded with one draw from the default generator (so manual_seed()
  // makes a model's masks reproducible) ...
  explicit Dropout(const DropoutOptions& options = {});
  // ... or with one draw from `gen`.
  Dropout(const DropoutOptions& options, Generator& gen);

  // Any shape, float32. Training with 0 < p and a non-empty input: a fresh mask per call;
  // otherwise the input itself is returned (shared, as PyTorch returns the same tensor).
  Tensor forward(const Tensor& input) override;
  // grad_output * noise of the latest forward(); grad_output itself when that was the
  // identity.
  Tensor backward(const Tensor& grad_output) override;
  std::string repr() const override;

  const DropoutOptions& options() const { return options_; }
  // The mask generator, e.g. to reseed it.
  Generator& generator() { return gen_; }
  // The latest forward()'s multiplier: 0 where dropped, 1 / (1 - p) where kept; undefined
  // when that forward() was the identity.
  const Tensor& noise() const { return noise_; }

 private:
  DropoutOptions options_;
  Generator gen_;
  Tensor noise_;
  Shape shape_;  // of the latest forward()'s input
  bool forward_done_ = false;
};

}  // namespace embedkit::nn
