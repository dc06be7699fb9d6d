// The portable lane type of the fast kernels: 8 float32 lanes as a plain array, for CPUs
// without AVX2 (and non-x86 builds). Loops over the lanes are left to the compiler's
// vectoriser; conversions are dtype.hpp's own. Included only by kernels_generic.cpp, which is
// compiled with the project's baseline flags.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "embedkit/core/dtype.hpp"

namespace embedkit::kernels::cpu::generic {

struct Vec {
  struct T {
    float v[8];
  };
  static constexpr int N = 8;
  static constexpr int kMaxAccumulators = 8;

  static T zero() { return T{}; }
  static T set1(float x) {
    T r;
    for (float& e : r.v) e = x;
    return r;
  }
  static T add(T a, T b) {
    for (int i = 0; i < N; ++i) a.v[i] += b.v[i];
    return a;
  }
  static T mul(T a, T b) {
    for (int i = 0; i < N; ++i) a.v[i] *= b.v[i];
    return a;
  }
  static T div(T a, T b) {
    for (int i = 0; i < N; ++i) a.v[i] /= b.v[i];
    return a;
  }
  static T fma(T a, T b, T c) {
    for (int i = 0; i < N; ++i) c.v[i] = std::fma(a.v[i], b.v[i], c.v[i]);
    return c;
  }
  static std::uint32_t greater_mask(T x, T acc) {
    std::uint32_t m = 0;
    for (int i = 0; i < N; ++i) m |= static_cast<std::uint32_t>(x.v[i] > acc.v[i]) << i;
    return m;
  }
  static T max_first_wins(T acc, T x) {
    for (int i = 0; i < N; ++i) acc.v[i] = x.v[i] > acc.v[i] ? x.v[i] : acc.v[i];
    return acc;
  }

  template <class W>
  static T load(const W* p) {
    T r;
    for (int i = 0; i < N; ++i) r.v[i] = to_f32(p[i]);
    return r;
  }
  template <class W>
  static T load_n(const W* p, int n) {
    T r{};
    for (int i = 0; i < n; ++i) r.v[i] = to_f32(p[i]);
    return r;
  }
  template <class W>
  static void store(W* p, T v) {
    for (int i = 0; i < N; ++i) p[i] = from_f32<W>(v.v[i]);
  }
  template <class W>
  static void store_n(W* p, T v, int n) {
    for (int i = 0; i < n; ++i) p[i] = from_f32<W>(v.v[i]);
  }

  // Scalar a * b + c with one rounding.
  static float fma1(float a, float b, float c) { return std::fma(a, b, c); }

  template <class W>
  static float scalar(W x) {
    return to_f32(x);
  }
  template <class W>
  static float round_to(float x, const W*) {
    return to_f32(from_f32<W>(x));
  }

  // The codes of N consecutive elements of a row-wise quantized row (core/quantized_format.hpp),
  // as floats: BITS = 8, 4 or 2, `p` at the byte of the first (whose codes start a byte).
  template <int BITS>
  static T codes(const std::uint8_t* p) {
    constexpr int kPerByte = 8 / BITS;
    T r;
    for (int i = 0; i < N; ++i) {
      const unsigned shift = static_cast<unsigned>((i % kPerByte) * BITS);
      r.v[i] = static_cast<float>((p[i / kPerByte] >> shift) & ((1u << BITS) - 1u));
    }
    return r;
  }

  // 2N 4-bit codes (N bytes at p): `even` the low nibbles (elements 0, 2, ..), `odd` the high
  // ones; store_interleaved puts the columns back in order.
  static void codes4_pair(const std::uint8_t* p, T& even, T& odd) {
    for (int i = 0; i < N; ++i) {
      even.v[i] = static_cast<float>(p[i] & 15u);
      odd.v[i] = static_cast<float>(p[i] >> 4);
    }
  }
  static void store_interleaved(float* out, T even, T odd) {
    for (int i = 0; i < N; ++i) {
      out[2 * i] = even.v[i];
      out[2 * i + 1] = odd.v[i];
    }
  }

  static void prefetch(const void* p) {
#if defined(__GNUC__)
    __builtin_prefetch(p, 0, 3);
#else
    (void)p;
#endif
  }
  static void stream_fence() {}

  template <std::size_t BYTES, bool STREAM>
  static void copy_fixed(unsigned char* dst, const unsigned char* src) {
    std::memcpy(dst, src, BYTES);
  }
  static void copy_bytes(unsigned char* dst, const unsigned char* src, std::size_t n, bool) {
    std::memcpy(dst, src, n);
  }
};

}  // namespace embedkit::kernels::cpu::generic
