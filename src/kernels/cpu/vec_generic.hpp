// The portable lane type of the fast kernels: 8 float32 lanes as a plain array, for CPUs
// without AVX2 (and non-x86 builds). Loops over the lanes are left to the compiler's
// vectoriser; conversions are dtype.hpp's own. Included only by kernels_generic.cpp, which is
// compiled with the project's baseline flags.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "embedkit/core/dtype.hpp"
#include "kernels/cpu/inline.hpp"

namespace embedkit::kernels::cpu::generic {

struct Vec {
  // Two halves of four lanes in GCC's and Clang's vector types, which every target has natively
  // (SSE2, NEON): the element-wise arithmetic is one instruction per half, where a plain float[8]
  // left it to the vectoriser to rediscover in every kernel (and cost minutes of compile time).
  // Each lane is still one IEEE operation, so results equal the scalar loops bit for bit.
  using Half4 = float __attribute__((vector_size(16)));
  struct T {
    Half4 lo, hi;
    float get(int i) const { return i < 4 ? lo[i] : hi[i - 4]; }
    void put(int i, float x) {
      if (i < 4) {
        lo[i] = x;
      } else {
        hi[i - 4] = x;
      }
    }
  };
  static constexpr int N = 8;
  static constexpr int kMaxAccumulators = 8;

  static T zero() { return T{}; }
  static T set1(float x) {
    const Half4 h = {x, x, x, x};
    return T{h, h};
  }
  static T add(T a, T b) { return T{a.lo + b.lo, a.hi + b.hi}; }
  static T sub(T a, T b) { return T{a.lo - b.lo, a.hi - b.hi}; }
  static T mul(T a, T b) { return T{a.lo * b.lo, a.hi * b.hi}; }
  static T div(T a, T b) { return T{a.lo / b.lo, a.hi / b.hi}; }
  static T sqrt(T a) {
    for (int i = 0; i < 4; ++i) {
      a.lo[i] = std::sqrt(a.lo[i]);
      a.hi[i] = std::sqrt(a.hi[i]);
    }
    return a;
  }
  static T fma(T a, T b, T c) {
    for (int i = 0; i < 4; ++i) {
      c.lo[i] = std::fma(a.lo[i], b.lo[i], c.lo[i]);
      c.hi[i] = std::fma(a.hi[i], b.hi[i], c.hi[i]);
    }
    return c;
  }
  static std::uint32_t greater_mask(T x, T acc) {
    std::uint32_t m = 0;
    for (int i = 0; i < N; ++i) m |= static_cast<std::uint32_t>(x.get(i) > acc.get(i)) << i;
    return m;
  }
  static T max_first_wins(T acc, T x) {
    return T{x.lo > acc.lo ? x.lo : acc.lo, x.hi > acc.hi ? x.hi : acc.hi};
  }
  // The arg-min scan of k-means: lanes where x < best (false for NaN) take x, and idx into
  // best_idx.
  static void keep_less(T& best, T& best_idx, T x, T idx) {
    const auto lo = x.lo < best.lo;
    const auto hi = x.hi < best.hi;
    best = T{lo ? x.lo : best.lo, hi ? x.hi : best.hi};
    best_idx = T{lo ? idx.lo : best_idx.lo, hi ? idx.hi : best_idx.hi};
  }
  // The index of keep_less's smallest lane, ties to the lowest index (best holds no NaN).
  static float first_min_index(T best, T best_idx) {
    float v = best.get(0);
    float i = best_idx.get(0);
    for (int l = 1; l < N; ++l) {
      if (best.get(l) < v || (best.get(l) == v && best_idx.get(l) < i)) {
        v = best.get(l);
        i = best_idx.get(l);
      }
    }
    return i;
  }

  template <class W>
  static T load(const W* p) {
    if constexpr (std::is_same_v<W, float>) {
      T r;
      std::memcpy(&r.lo, p, sizeof r.lo);
      std::memcpy(&r.hi, p + 4, sizeof r.hi);
      return r;
    } else {
      return load_converted(p);
    }
  }
  template <class W>
  static T load_n(const W* p, int n) {
    T r{};
    for (int i = 0; i < n; ++i) r.put(i, to_f32(p[i]));
    return r;
  }
  template <class W>
  static void store(W* p, T v) {
    if constexpr (std::is_same_v<W, float>) {
      std::memcpy(p, &v.lo, sizeof v.lo);
      std::memcpy(p + 4, &v.hi, sizeof v.hi);
    } else {
      store_converted(p, v);
    }
  }
  template <class W>
  static void store_n(W* p, T v, int n) {
    for (int i = 0; i < n; ++i) p[i] = from_f32<W>(v.get(i));
  }

  // The 16-bit formats convert in software at this level (dtype.hpp): out of line, once, rather
  // than inlined into every load and store of every kernel, which multiplied the object's code
  // (and its compile time) for a level whose speed on 16-bit tables is not the point.
  template <class W>
  [[gnu::noinline]] static T load_converted(const W* p) {
    T r;
    for (int i = 0; i < 4; ++i) {
      r.lo[i] = to_f32(p[i]);
      r.hi[i] = to_f32(p[i + 4]);
    }
    return r;
  }
  template <class W>
  [[gnu::noinline]] static void store_converted(W* p, T v) {
    for (int i = 0; i < 4; ++i) {
      p[i] = from_f32<W>(v.lo[i]);
      p[i + 4] = from_f32<W>(v.hi[i]);
    }
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
      r.put(i, static_cast<float>((p[i / kPerByte] >> shift) & ((1u << BITS) - 1u)));
    }
    return r;
  }

  // 2N 4-bit codes (N bytes at p): `even` the low nibbles (elements 0, 2, ..), `odd` the high
  // ones; store_interleaved puts the columns back in order.
  static void codes4_pair(const std::uint8_t* p, T& even, T& odd) {
    for (int i = 0; i < N; ++i) {
      even.put(i, static_cast<float>(p[i] & 15u));
      odd.put(i, static_cast<float>(p[i] >> 4));
    }
  }
  static void store_interleaved(float* out, T even, T odd) {
    for (int i = 0; i < N; ++i) {
      out[2 * i] = even.get(i);
      out[2 * i + 1] = odd.get(i);
    }
  }

  EMBEDKIT_ALWAYS_INLINE static void prefetch(const void* p) {
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
