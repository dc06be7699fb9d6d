// The float32 arithmetic of the ATen CPU kernels that torch.optim's updates call, one function
// per kernel, so each optimizer can be written as the same sequence of operations as its
// torch/optim/*.py and round exactly where PyTorch rounds.
//
// ATen's vectorised kernels (AVX2/AVX-512, what x86-64 builds run) fuse a multiply and an add
// into one rounding where the kernel is written as fmadd (add with alpha) or where the compiler
// contracts it (addcmul); it was checked against PyTorch 1.13, whose kernels round the same way in
// their vector body and scalar tail. embedkit is built without implicit contraction
// (-std=c++20, not gnu++20), so every fused operation is an explicit std::fma and every other
// one rounds on its own. A PyTorch running its non-vectorised DEFAULT kernels rounds twice where
// these fuse, and may differ from embedkit in the last bit.
#pragma once

#include <cmath>

namespace embedkit::optim::detail {

// A scalar argument (lr, alpha, value, a beta) as ATen uses it on a float tensor: the Python
// float rounded once to float32.
inline float f32(double x) {
  return static_cast<float>(x);
}

// a.add(b, alpha=alpha), dense += dense or dense += sparse: fmadd(b, alpha, a).
inline float add_alpha(float a, float b, float alpha) {
  return std::fma(alpha, b, a);
}

// self.addcmul(t1, t2, value=value): (value * t1) rounded, then fused with * t2 + self.
inline float addcmul(float self, float t1, float t2, float value) {
  return std::fma(value * t1, t2, self);
}

// self.addcdiv(t1, t2, value=value): self + (value * t1) / t2, each operation rounded.
inline float addcdiv(float self, float t1, float t2, float value) {
  return self + value * t1 / t2;
}

// torch.maximum: NaN in either operand gives NaN.
inline float maximum(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::nanf("");
  return a > b ? a : b;
}

}  // namespace embedkit::optim::detail
