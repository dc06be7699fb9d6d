// splitmix64 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators"): the
// library's one small, fixed-algorithm generator and 64-bit hash. Training loops draw from it
// millions of times per second (a std::mt19937_64 step costs several times more), and every
// value is a function of the seed alone, on every platform and standard library.
//
//   splitmix64_finalize(x)  the bijective bit mixer alone (murmur3-style)
//   splitmix64_hash(x)      one splitmix64 step from state x: finalize(x + golden gamma)
//   SplitMix64              the generator: state += gamma; return finalize(state)
#pragma once

#include <cstdint>

namespace embedkit::detail {

// The golden-ratio increment: 2^64 / phi, odd.
inline constexpr std::uint64_t kSplitMix64Gamma = 0x9e3779b97f4a7c15ULL;

// A bijection of 64-bit words where every input bit flips about half the output bits.
constexpr std::uint64_t splitmix64_finalize(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A fixed, well-mixed 64-bit hash: the value SplitMix64{x}.next() returns.
constexpr std::uint64_t splitmix64_hash(std::uint64_t x) {
  return splitmix64_finalize(x + kSplitMix64Gamma);
}

struct SplitMix64 {
  std::uint64_t state;

  std::uint64_t next() { return splitmix64_finalize(state += kSplitMix64Gamma); }
  // Uniform in [0, 1) with 24 random bits: every value a float represents exactly.
  float uniform_float() { return static_cast<float>(next() >> 40) * 0x1.0p-24f; }
};

}  // namespace embedkit::detail
