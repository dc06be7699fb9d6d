// The AVX2 lane type of the fast kernels: 8 float32 lanes (AVX2 + FMA + F16C), with exact
// float16/bfloat16 widening and round-to-nearest-even narrowing. Included only by
// kernels_avx2.cpp (compiled with -mavx2 -mfma -mf16c).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "embedkit/core/dtype.hpp"
#include "kernels/cpu/inline.hpp"

namespace embedkit::kernels::cpu::avx2 {

struct Vec {
  using T = __m256;
  static constexpr int N = 8;
  // 8 of the 16 ymm registers hold accumulators (D = 64 per pass); the rest serve loads,
  // conversions and the weight, so nothing spills.
  static constexpr int kMaxAccumulators = 8;

  EMBEDKIT_ALWAYS_INLINE static T zero() { return _mm256_setzero_ps(); }
  EMBEDKIT_ALWAYS_INLINE static T set1(float x) { return _mm256_set1_ps(x); }
  EMBEDKIT_ALWAYS_INLINE static T add(T a, T b) { return _mm256_add_ps(a, b); }
  EMBEDKIT_ALWAYS_INLINE static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  EMBEDKIT_ALWAYS_INLINE static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  EMBEDKIT_ALWAYS_INLINE static T div(T a, T b) { return _mm256_div_ps(a, b); }
  EMBEDKIT_ALWAYS_INLINE static T sqrt(T a) { return _mm256_sqrt_ps(a); }
  EMBEDKIT_ALWAYS_INLINE static T fma(T a, T b, T c) {
    return _mm256_fmadd_ps(a, b, c);
  }  // a * b + c, one rounding
  EMBEDKIT_ALWAYS_INLINE static std::uint32_t greater_mask(T x, T acc) {
    return static_cast<std::uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(x, acc, _CMP_GT_OQ)));
  }
  // PyTorch's max scan: a lane takes x only when x > acc (ordered), so the first of equal
  // values and a leading NaN stay.
  EMBEDKIT_ALWAYS_INLINE static T max_first_wins(T acc, T x) {
    return _mm256_blendv_ps(acc, x, _mm256_cmp_ps(x, acc, _CMP_GT_OQ));
  }
  // The arg-min scan of k-means: lanes where x < best (ordered) take x, and idx into best_idx.
  EMBEDKIT_ALWAYS_INLINE static void keep_less(T& best, T& best_idx, T x, T idx) {
    const T less = _mm256_cmp_ps(x, best, _CMP_LT_OQ);
    best = _mm256_blendv_ps(best, x, less);
    best_idx = _mm256_blendv_ps(best_idx, idx, less);
  }
  // The index of keep_less's smallest lane, ties to the lowest index (best holds no NaN).
  EMBEDKIT_ALWAYS_INLINE static float first_min_index(T best, T best_idx) {
    const T lowest = lane_min(best);
    const T candidates = _mm256_blendv_ps(_mm256_set1_ps(__builtin_huge_valf()), best_idx,
                                          _mm256_cmp_ps(best, lowest, _CMP_EQ_OQ));
    return _mm256_cvtss_f32(lane_min(candidates));
  }

  EMBEDKIT_ALWAYS_INLINE static T load(const float* p) { return _mm256_loadu_ps(p); }
  EMBEDKIT_ALWAYS_INLINE static T load(const Half* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(cast128(p)));
  }
  EMBEDKIT_ALWAYS_INLINE static T load(const BFloat16* p) {
    return bf16_widen(_mm_loadu_si128(cast128(p)));
  }
  // The first n lanes (0 < n < N), others zero.
  EMBEDKIT_ALWAYS_INLINE static T load_n(const float* p, int n) {
    return _mm256_maskload_ps(p, lane_mask(n));
  }
  EMBEDKIT_ALWAYS_INLINE static T load_n(const Half* p, int n) {
    return _mm256_cvtph_ps(load16_n(p, n));
  }
  EMBEDKIT_ALWAYS_INLINE static T load_n(const BFloat16* p, int n) {
    return bf16_widen(load16_n(p, n));
  }

  EMBEDKIT_ALWAYS_INLINE static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  EMBEDKIT_ALWAYS_INLINE static void store(Half* p, T v) {
    _mm_storeu_si128(cast128(p), half_narrow(v));
  }
  EMBEDKIT_ALWAYS_INLINE static void store(BFloat16* p, T v) {
    _mm_storeu_si128(cast128(p), bf16_narrow(v));
  }
  EMBEDKIT_ALWAYS_INLINE static void store_n(float* p, T v, int n) {
    _mm256_maskstore_ps(p, lane_mask(n), v);
  }
  EMBEDKIT_ALWAYS_INLINE static void store_n(Half* p, T v, int n) {
    store16_n(p, half_narrow(v), n);
  }
  EMBEDKIT_ALWAYS_INLINE static void store_n(BFloat16* p, T v, int n) {
    store16_n(p, bf16_narrow(v), n);
  }

  // Scalar a * b + c with one rounding.
  EMBEDKIT_ALWAYS_INLINE static float fma1(float a, float b, float c) {
    return _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c)));
  }

  EMBEDKIT_ALWAYS_INLINE static float scalar(float x) { return x; }
  EMBEDKIT_ALWAYS_INLINE static float scalar(Half x) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(x.bits)));
  }
  EMBEDKIT_ALWAYS_INLINE static float scalar(BFloat16 x) {
    return _mm_cvtss_f32(_mm_castsi128_ps(_mm_cvtsi32_si128(static_cast<int>(x.bits) << 16)));
  }
  EMBEDKIT_ALWAYS_INLINE static float round_to(float x, const float*) { return x; }
  EMBEDKIT_ALWAYS_INLINE static float round_to(float x, const Half*) {
    return _mm_cvtss_f32(
        _mm_cvtph_ps(_mm_cvtps_ph(_mm_set_ss(x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
  }
  EMBEDKIT_ALWAYS_INLINE static float round_to(float x, const BFloat16*) {
    return _mm256_cvtss_f32(bf16_round(_mm256_set1_ps(x)));
  }

  // The codes of N consecutive elements of a row-wise quantized row (core/quantized_format.hpp),
  // as floats: BITS = 8, 4 or 2, `p` at the byte of the first (whose codes start a byte).
  template <int BITS>
  EMBEDKIT_ALWAYS_INLINE static T codes(const std::uint8_t* p) {
    if constexpr (BITS == 8) {
      return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(as128(p))));
    } else if constexpr (BITS == 4) {
      std::uint32_t w = 0;  // 4 bytes, 8 codes: low nibble first
      std::memcpy(&w, p, sizeof w);
      const __m128i b = _mm_cvtsi32_si128(static_cast<int>(w));
      const __m128i lo = _mm_and_si128(b, _mm_set1_epi8(0x0f));
      const __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), _mm_set1_epi8(0x0f));
      return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_unpacklo_epi8(lo, hi)));
    } else {
      static_assert(BITS == 2);
      std::uint16_t w = 0;  // 2 bytes, 8 codes: each byte to 4 lanes, shifted by 0, 2, 4, 6
      std::memcpy(&w, p, sizeof w);
      const __m128i spread =
          _mm_shuffle_epi8(_mm_cvtsi32_si128(static_cast<int>(w)),
                           _mm_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0));
      const __m256i shifted = _mm256_srlv_epi32(_mm256_cvtepu8_epi32(spread),
                                                _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6));
      return _mm256_cvtepi32_ps(_mm256_and_si256(shifted, _mm256_set1_epi32(3)));
    }
  }

  // 2N 4-bit codes (N bytes at p) as two vectors: `even` holds elements 0, 2, .., 2N - 2 and
  // `odd` elements 1, 3, .., 2N - 1 (each byte's low and high nibble), so no lane shuffle is
  // needed per row; store_interleaved puts the columns back in order once per bag.
  EMBEDKIT_ALWAYS_INLINE static void codes4_pair(const std::uint8_t* p, T& even, T& odd) {
    const __m256i x = _mm256_cvtepu8_epi32(_mm_loadl_epi64(as128(p)));
    even = _mm256_cvtepi32_ps(_mm256_and_si256(x, _mm256_set1_epi32(15)));
    odd = _mm256_cvtepi32_ps(_mm256_srli_epi32(x, 4));
  }
  // out[2i] = even[i], out[2i + 1] = odd[i] for i < N.
  EMBEDKIT_ALWAYS_INLINE static void store_interleaved(float* out, T even, T odd) {
    const __m256 lo = _mm256_unpacklo_ps(even, odd);  // e0 o0 e1 o1 | e4 o4 e5 o5
    const __m256 hi = _mm256_unpackhi_ps(even, odd);  // e2 o2 e3 o3 | e6 o6 e7 o7
    _mm256_storeu_ps(out, _mm256_permute2f128_ps(lo, hi, 0x20));
    _mm256_storeu_ps(out + N, _mm256_permute2f128_ps(lo, hi, 0x31));
  }

  EMBEDKIT_ALWAYS_INLINE static void prefetch(const void* p) {
    _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0);
  }
  EMBEDKIT_ALWAYS_INLINE static void stream_fence() { _mm_sfence(); }

  // Copies BYTES bytes (a multiple of 32); STREAM (32-byte aligned dst) writes around the
  // cache.
  template <std::size_t BYTES, bool STREAM>
  EMBEDKIT_ALWAYS_INLINE static void copy_fixed(unsigned char* dst, const unsigned char* src) {
    static_assert(BYTES % 32 == 0);
    for (std::size_t k = 0; k < BYTES; k += 32) {
      const __m256i r = _mm256_loadu_si256(cast256(src + k));
      if constexpr (STREAM) {
        _mm256_stream_si256(cast256(dst + k), r);
      } else {
        _mm256_storeu_si256(cast256(dst + k), r);
      }
    }
  }

  EMBEDKIT_ALWAYS_INLINE static void copy_bytes(unsigned char* dst, const unsigned char* src,
                                                std::size_t n, bool stream) {
    std::size_t k = 0;
    if (stream) {
      for (; k + 32 <= n; k += 32) {
        _mm256_stream_si256(cast256(dst + k), _mm256_loadu_si256(cast256(src + k)));
      }
    } else {
      for (; k + 32 <= n; k += 32) {
        _mm256_storeu_si256(cast256(dst + k), _mm256_loadu_si256(cast256(src + k)));
      }
    }
    if (k < n) std::memcpy(dst + k, src + k, n - k);
  }

 private:
  // Every lane the smallest of x's lanes.
  EMBEDKIT_ALWAYS_INLINE static T lane_min(T x) {
    x = _mm256_min_ps(x, _mm256_permute2f128_ps(x, x, 1));
    x = _mm256_min_ps(x, _mm256_shuffle_ps(x, x, 0x4e));
    return _mm256_min_ps(x, _mm256_shuffle_ps(x, x, 0xb1));
  }
  EMBEDKIT_ALWAYS_INLINE static const __m128i* as128(const std::uint8_t* p) {
    return reinterpret_cast<const __m128i*>(p);
  }
  template <class P>
  EMBEDKIT_ALWAYS_INLINE static __m128i* cast128(P* p) {
    return reinterpret_cast<__m128i*>(const_cast<std::remove_const_t<P>*>(p));
  }
  template <class P>
  EMBEDKIT_ALWAYS_INLINE static __m256i* cast256(P* p) {
    return reinterpret_cast<__m256i*>(const_cast<std::remove_const_t<P>*>(p));
  }
  EMBEDKIT_ALWAYS_INLINE static __m256i lane_mask(int n) {
    alignas(32) static constexpr std::int32_t kTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                            0,  0,  0,  0,  0,  0,  0,  0};
    return _mm256_loadu_si256(cast256(kTable + 8 - n));
  }
  template <class H>
  EMBEDKIT_ALWAYS_INLINE static __m128i load16_n(const H* p, int n) {
    alignas(16) std::uint16_t buf[8] = {};
    std::memcpy(buf, p, static_cast<std::size_t>(n) * 2);
    return _mm_load_si128(cast128(buf));
  }
  template <class H>
  EMBEDKIT_ALWAYS_INLINE static void store16_n(H* p, __m128i v, int n) {
    alignas(16) std::uint16_t buf[8];
    _mm_store_si128(cast128(buf), v);
    std::memcpy(p, buf, static_cast<std::size_t>(n) * 2);
  }

  EMBEDKIT_ALWAYS_INLINE static T bf16_widen(__m128i h) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  EMBEDKIT_ALWAYS_INLINE static __m128i half_narrow(T v) {
    return _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  // BFloat16::from_float in 8 lanes; the rounded value with its low 16 bits clear.
  EMBEDKIT_ALWAYS_INLINE static T bf16_round(T v) {
    const __m256i x = _mm256_castps_si256(v);
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
    const __m256i rounded = _mm256_add_epi32(x, _mm256_add_epi32(_mm256_set1_epi32(0x7fff), lsb));
    // NaN: keep the payload's top bits and make it quiet, as BFloat16::from_float does.
    const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    const __m256i quiet = _mm256_or_si256(x, _mm256_set1_epi32(0x400000));
    const __m256i r = _mm256_blendv_epi8(rounded, quiet, nan);
    return _mm256_castsi256_ps(
        _mm256_and_si256(r, _mm256_set1_epi32(static_cast<int>(0xffff0000u))));
  }
  EMBEDKIT_ALWAYS_INLINE static __m128i bf16_narrow(T v) {
    const __m256i hi = _mm256_srli_epi32(_mm256_castps_si256(bf16_round(v)), 16);
    // packus works per 128-bit lane: qwords 0 and 2 hold the 8 results in order.
    const __m256i packed = _mm256_packus_epi32(hi, hi);
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(packed, 0x08));
  }
};

}  // namespace embedkit::kernels::cpu::avx2
