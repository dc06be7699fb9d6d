// The fast bag kernels of the row-wise quantized tables, written once over a lane type V and
// compiled once per instruction set (kernels_{generic,avx2,avx512}.cpp include this file next
// to kernels_impl.hpp; the same rules hold: every template takes V, nothing calls an inline
// function defined elsewhere).
//
// Exactness: per column, the operations of ref::quantized_bag_forward in its order: from +0.0f,
// acc = fma(w * scale, code, acc + w * bias) per non-padding id, then a true division by the
// count for mean. The codes are small integers, exact as floats. Vectorising across the columns
// leaves each column's sequence unchanged, so the results are bitwise ref's.
//
// 4-bit rows decode two vectors per load, the low nibbles (even columns) and the high ones (odd
// columns) into separate accumulators, which are interleaved once when the bag is stored: the
// per-column operations are the same, only the lanes they sit in differ.
//
// A bag's output row stays in registers: the columns are taken in blocks of up to
// V::kMaxAccumulators vectors (AVX-512: 256 columns, one pass for D <= 256), each block a
// compile-time count, and a partial vector for D % N. The first pass over a bag prefetches the
// rows of the ids `prefetch_ahead` positions on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "embedkit/core/dtype.hpp"
#include "kernels/cpu/inline.hpp"
#include "kernels/cpu/quantized_kernels.hpp"

#ifndef EMBEDKIT_UNROLL
#define EMBEDKIT_UNROLL _Pragma("GCC unroll 16")
#endif

namespace embedkit::kernels::cpu::qimpl {

// The scale (OFFSET 0) or bias (OFFSET 1) of a row, given where they start.
template <class V, int BITS, int OFFSET>
EMBEDKIT_ALWAYS_INLINE float row_param(const std::uint8_t* p) {
  if constexpr (BITS == 8) {
    float x = 0;
    std::memcpy(&x, p + 4 * OFFSET, sizeof x);
    return x;
  } else {
    Half h;
    std::memcpy(&h.bits, p + 2 * OFFSET, sizeof h.bits);
    return V::scalar(h);
  }
}

// The codes of the first n (0 < n < N) elements at `p` (whose codes start a byte), the other
// lanes zero.
template <class V, int BITS>
EMBEDKIT_ALWAYS_INLINE typename V::T codes_n(const std::uint8_t* p, int n) {
  constexpr int kPerByte = 8 / BITS;
  float lanes[V::N] = {};
  for (int i = 0; i < n; ++i) {
    const unsigned shift = static_cast<unsigned>((i % kPerByte) * BITS);
    lanes[i] = static_cast<float>((p[i / kPerByte] >> shift) & ((1u << BITS) - 1u));
  }
  return V::load_n(lanes, n);
}

template <class V>
EMBEDKIT_ALWAYS_INLINE void prefetch_bytes(const std::uint8_t* p, std::int64_t bytes) {
  const auto first = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{63};
  const auto last = reinterpret_cast<std::uintptr_t>(p) + static_cast<std::uintptr_t>(bytes - 1);
  for (std::uintptr_t a = first; a <= last; a += 64) V::prefetch(reinterpret_cast<const void*>(a));
}

// Bag b, columns [j0, j0 + NV * N) (PARTIAL: NV == 1 and only the first n of them).
template <class V, int BITS, class I, int NV, bool PARTIAL>
void bag_block(const QuantizedBagArgs<I>& a, std::int64_t b, std::int64_t j0, int n,
               std::int64_t ahead, std::int64_t prefetch_end) {
  using T = typename V::T;
  constexpr std::int64_t kVectorBytes = std::int64_t{V::N} * BITS / 8;
  T acc[NV];
  EMBEDKIT_UNROLL
  for (int v = 0; v < NV; ++v) acc[v] = V::zero();
  const std::int64_t first_byte = j0 * BITS / 8;
  std::int64_t count = 0;
  for (std::int64_t i = a.bounds[b]; i < a.bounds[b + 1]; ++i) {
    if (i + ahead < prefetch_end) {
      prefetch_bytes<V>(a.table + static_cast<std::int64_t>(a.ids[i + ahead]) * a.row_bytes,
                        a.row_bytes);
    }
    const auto k = static_cast<std::int64_t>(a.ids[i]);
    if (k == a.padding_idx) continue;
    ++count;
    const std::uint8_t* row = a.table + k * a.row_bytes;
    float scale = row_param<V, BITS, 0>(row + a.code_bytes);
    float bias = row_param<V, BITS, 1>(row + a.code_bytes);
    if (a.per_sample_weights != nullptr) {
      const float w = a.per_sample_weights[i];
      scale = w * scale;
      bias = w * bias;
    }
    const T vs = V::set1(scale);
    const T vb = V::set1(bias);
    const std::uint8_t* c = row + first_byte;
    if constexpr (PARTIAL) {
      acc[0] = V::fma(vs, codes_n<V, BITS>(c, n), V::add(acc[0], vb));
    } else if constexpr (BITS == 4) {
      // Pairs of vectors from one load: acc[2p] the even columns, acc[2p + 1] the odd ones of
      // the pair's 2N columns (reordered at the store); an odd last vector on its own.
      EMBEDKIT_UNROLL
      for (int v = 0; v + 1 < NV; v += 2) {
        T even;
        T odd;
        V::codes4_pair(c + v * kVectorBytes, even, odd);
        acc[v] = V::fma(vs, even, V::add(acc[v], vb));
        acc[v + 1] = V::fma(vs, odd, V::add(acc[v + 1], vb));
      }
      if constexpr (NV % 2 == 1) {
        acc[NV - 1] = V::fma(vs, V::template codes<BITS>(c + (NV - 1) * kVectorBytes),
                             V::add(acc[NV - 1], vb));
      }
    } else {
      EMBEDKIT_UNROLL
      for (int v = 0; v < NV; ++v) {
        acc[v] = V::fma(vs, V::template codes<BITS>(c + v * kVectorBytes), V::add(acc[v], vb));
      }
    }
  }
  if (a.mode == BagMode::Mean && count > 0) {
    const T d = V::set1(static_cast<float>(count));
    EMBEDKIT_UNROLL
    for (int v = 0; v < NV; ++v) acc[v] = V::div(acc[v], d);
  }
  float* out = a.out + b * a.dim + j0;
  if constexpr (PARTIAL) {
    V::store_n(out, acc[0], n);
  } else if constexpr (BITS == 4) {
    EMBEDKIT_UNROLL
    for (int v = 0; v + 1 < NV; v += 2) V::store_interleaved(out + v * V::N, acc[v], acc[v + 1]);
    if constexpr (NV % 2 == 1) V::store(out + (NV - 1) * V::N, acc[NV - 1]);
  } else {
    EMBEDKIT_UNROLL
    for (int v = 0; v < NV; ++v) V::store(out + v * V::N, acc[v]);
  }
}

// bag_block for `vectors` (1 .. NV) full vectors, the count made a compile-time one.
template <class V, int BITS, class I, int NV>
EMBEDKIT_ALWAYS_INLINE void bag_vectors(int vectors, const QuantizedBagArgs<I>& a, std::int64_t b,
                                        std::int64_t j0, std::int64_t ahead,
                                        std::int64_t prefetch_end) {
  if constexpr (NV >= 1) {
    if (vectors == NV) {
      bag_block<V, BITS, I, NV, false>(a, b, j0, 0, ahead, prefetch_end);
    } else {
      bag_vectors<V, BITS, I, NV - 1>(vectors, a, b, j0, ahead, prefetch_end);
    }
  }
}

template <class V, int BITS, class I>
void bag(const QuantizedBagArgs<I>& a, std::int64_t b0, std::int64_t b1) {
  constexpr int kMax = V::kMaxAccumulators;
  const std::int64_t full = a.dim / V::N;
  const int tail = static_cast<int>(a.dim % V::N);
  // Prefetches stay within this call's ids (the next chunk's thread reads its own).
  const std::int64_t prefetch_end = a.prefetch_ahead > 0 ? a.bounds[b1] : 0;
  for (std::int64_t b = b0; b < b1; ++b) {
    std::int64_t ahead = a.prefetch_ahead;  // the first pass over the bag prefetches
    std::int64_t pf_end = prefetch_end;
    std::int64_t v = 0;
    for (; full - v >= kMax; v += kMax) {
      bag_block<V, BITS, I, kMax, false>(a, b, v * V::N, 0, ahead, pf_end);
      pf_end = 0;
    }
    if (full > v) {
      bag_vectors<V, BITS, I, kMax - 1>(static_cast<int>(full - v), a, b, v * V::N, ahead, pf_end);
      pf_end = 0;
    }
    if (tail > 0) bag_block<V, BITS, I, 1, true>(a, b, full * V::N, tail, ahead, pf_end);
  }
}

template <class V, class I>
constexpr QuantizedIsaKernels<I> make_quantized_table() {
  QuantizedIsaKernels<I> k{};
  k.bag_int8 = &bag<V, 8, I>;
  k.bag_int4 = &bag<V, 4, I>;
  k.bag_int2 = &bag<V, 2, I>;
  return k;
}

}  // namespace embedkit::kernels::cpu::qimpl
