// The AVX-512 lane type of the fast kernels: 16 float32 lanes, with exact float16/bfloat16
// widening and round-to-nearest-even narrowing. Included only by kernels_avx512.cpp (compiled
// with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx2 -mfma -mf16c).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "embedkit/core/dtype.hpp"
#include "kernels/cpu/inline.hpp"

namespace embedkit::kernels::cpu::avx512 {

struct Vec {
  using T = __m512;
  static constexpr int N = 16;
  // Accumulator vectors kept in registers by the bag kernel: 16 of the 32 zmm registers covers
  // D = 256 in one pass and leaves room for loads and the weight.
  static constexpr int kMaxAccumulators = 16;

  EMBEDKIT_ALWAYS_INLINE static T zero() { return _mm512_setzero_ps(); }
  EMBEDKIT_ALWAYS_INLINE static T set1(float x) { return _mm512_set1_ps(x); }
  EMBEDKIT_ALWAYS_INLINE static T add(T a, T b) { return _mm512_add_ps(a, b); }
  EMBEDKIT_ALWAYS_INLINE static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  EMBEDKIT_ALWAYS_INLINE static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  EMBEDKIT_ALWAYS_INLINE static T div(T a, T b) { return _mm512_div_ps(a, b); }
  EMBEDKIT_ALWAYS_INLINE static T sqrt(T a) { return _mm512_sqrt_ps(a); }
  EMBEDKIT_ALWAYS_INLINE static T fma(T a, T b, T c) {
    return _mm512_fmadd_ps(a, b, c);
  }  // a * b + c, one rounding
  // Lanes where x > acc (ordered: false when either is NaN), as a bit mask.
  EMBEDKIT_ALWAYS_INLINE static std::uint32_t greater_mask(T x, T acc) {
    return _mm512_cmp_ps_mask(x, acc, _CMP_GT_OQ);
  }
  // PyTorch's max scan: a lane takes x only when x > acc, so the first of equal values and a
  // leading NaN stay.
  EMBEDKIT_ALWAYS_INLINE static T max_first_wins(T acc, T x) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, acc, _CMP_GT_OQ), acc, x);
  }
  // The arg-min scan of k-means: lanes where x < best (ordered) take x, and idx into best_idx.
  EMBEDKIT_ALWAYS_INLINE static void keep_less(T& best, T& best_idx, T x, T idx) {
    const __mmask16 less = _mm512_cmp_ps_mask(x, best, _CMP_LT_OQ);
    best = _mm512_mask_blend_ps(less, best, x);
    best_idx = _mm512_mask_blend_ps(less, best_idx, idx);
  }
  // The index of keep_less's smallest lane, ties to the lowest index (best holds no NaN).
  EMBEDKIT_ALWAYS_INLINE static float first_min_index(T best, T best_idx) {
    const __mmask16 lowest =
        _mm512_cmp_ps_mask(best, _mm512_set1_ps(_mm512_reduce_min_ps(best)), _CMP_EQ_OQ);
    return _mm512_reduce_min_ps(
        _mm512_mask_blend_ps(lowest, _mm512_set1_ps(__builtin_huge_valf()), best_idx));
  }

  EMBEDKIT_ALWAYS_INLINE static __mmask16 lanes(int n) {
    return static_cast<__mmask16>((1u << n) - 1u);
  }

  // Widening loads: all N lanes, or the first n (0 < n < N; other lanes zero).
  EMBEDKIT_ALWAYS_INLINE static T load(const float* p) { return _mm512_loadu_ps(p); }
  EMBEDKIT_ALWAYS_INLINE static T load(const Half* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(cast256(p)));
  }
  EMBEDKIT_ALWAYS_INLINE static T load(const BFloat16* p) {
    return bf16_widen(_mm256_loadu_si256(cast256(p)));
  }
  EMBEDKIT_ALWAYS_INLINE static T load_n(const float* p, int n) {
    return _mm512_maskz_loadu_ps(lanes(n), p);
  }
  // load_n(p, 8) as a plain 256-bit load (the upper lanes zeroed): a masked load of data just
  // stored is not forwarded from the store buffer and waits for the store to commit, which made
  // rowwise_adagrad_row's sum of squares over a freshly summed row 38% of the step's time.
  EMBEDKIT_ALWAYS_INLINE static T load8(const float* p) {
    return _mm512_zextps256_ps512(_mm256_loadu_ps(p));
  }
  EMBEDKIT_ALWAYS_INLINE static T load_n(const Half* p, int n) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(lanes(n), p));
  }
  EMBEDKIT_ALWAYS_INLINE static T load_n(const BFloat16* p, int n) {
    return bf16_widen(_mm256_maskz_loadu_epi16(lanes(n), p));
  }

  // Narrowing stores, rounding to nearest even exactly as Half / BFloat16 do (NaN stays NaN).
  EMBEDKIT_ALWAYS_INLINE static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  EMBEDKIT_ALWAYS_INLINE static void store(Half* p, T v) {
    _mm256_storeu_si256(cast256(p), half_narrow(v));
  }
  EMBEDKIT_ALWAYS_INLINE static void store(BFloat16* p, T v) {
    _mm256_storeu_si256(cast256(p), bf16_narrow(v));
  }
  EMBEDKIT_ALWAYS_INLINE static void store_n(float* p, T v, int n) {
    _mm512_mask_storeu_ps(p, lanes(n), v);
  }
  EMBEDKIT_ALWAYS_INLINE static void store_n(Half* p, T v, int n) {
    _mm256_mask_storeu_epi16(p, lanes(n), half_narrow(v));
  }
  EMBEDKIT_ALWAYS_INLINE static void store_n(BFloat16* p, T v, int n) {
    _mm256_mask_storeu_epi16(p, lanes(n), bf16_narrow(v));
  }

  // Scalar a * b + c with one rounding.
  EMBEDKIT_ALWAYS_INLINE static float fma1(float a, float b, float c) {
    return _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c)));
  }

  // One element widened, and one float rounded to W's precision (and widened back).
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
    return _mm_cvtss_f32(_mm512_castps512_ps128(bf16_round(_mm512_set1_ps(x))));
  }

  // The codes of N consecutive elements of a row-wise quantized row (core/quantized_format.hpp),
  // as floats: BITS = 8, 4 or 2, `p` at the byte of the first (whose codes start a byte).
  template <int BITS>
  EMBEDKIT_ALWAYS_INLINE static T codes(const std::uint8_t* p) {
    if constexpr (BITS == 8) {
      return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(as128(p))));
    } else if constexpr (BITS == 4) {
      const __m128i b = _mm_loadl_epi64(as128(p));  // 8 bytes, 16 codes: low nibble first
      const __m128i lo = _mm_and_si128(b, _mm_set1_epi8(0x0f));
      const __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), _mm_set1_epi8(0x0f));
      return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_unpacklo_epi8(lo, hi)));
    } else {
      static_assert(BITS == 2);
      std::uint32_t w = 0;  // 4 bytes, 16 codes: each byte to 4 lanes, shifted by 0, 2, 4, 6
      std::memcpy(&w, p, sizeof w);
      const __m128i spread =
          _mm_shuffle_epi8(_mm_cvtsi32_si128(static_cast<int>(w)),
                           _mm_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
      const __m512i shifted =
          _mm512_srlv_epi32(_mm512_cvtepu8_epi32(spread),
                            _mm512_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6, 0, 2, 4, 6, 0, 2, 4, 6));
      return _mm512_cvtepi32_ps(_mm512_and_si512(shifted, _mm512_set1_epi32(3)));
    }
  }

  // 2N 4-bit codes (N bytes at p) as two vectors: `even` holds elements 0, 2, .., 2N - 2 and
  // `odd` elements 1, 3, .., 2N - 1 (each byte's low and high nibble), so no lane shuffle is
  // needed per row; store_interleaved puts the columns back in order once per bag.
  EMBEDKIT_ALWAYS_INLINE static void codes4_pair(const std::uint8_t* p, T& even, T& odd) {
    const __m512i x = _mm512_cvtepu8_epi32(_mm_loadu_si128(as128(p)));
    even = _mm512_cvtepi32_ps(_mm512_and_si512(x, _mm512_set1_epi32(15)));
    odd = _mm512_cvtepi32_ps(_mm512_srli_epi32(x, 4));
  }
  // out[2i] = even[i], out[2i + 1] = odd[i] for i < N.
  EMBEDKIT_ALWAYS_INLINE static void store_interleaved(float* out, T even, T odd) {
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi =
        _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    _mm512_storeu_ps(out, _mm512_permutex2var_ps(even, lo, odd));
    _mm512_storeu_ps(out + N, _mm512_permutex2var_ps(even, hi, odd));
  }

  EMBEDKIT_ALWAYS_INLINE static void prefetch(const void* p) {
    _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0);
  }
  EMBEDKIT_ALWAYS_INLINE static void stream_fence() { _mm_sfence(); }

  // Copies BYTES bytes (a multiple of 32); STREAM (64-byte aligned dst, BYTES % 64 == 0)
  // writes around the cache.
  template <std::size_t BYTES, bool STREAM>
  EMBEDKIT_ALWAYS_INLINE static void copy_fixed(unsigned char* dst, const unsigned char* src) {
    static_assert(BYTES % 32 == 0);
    if constexpr (BYTES % 64 == 0) {
      for (std::size_t k = 0; k < BYTES; k += 64) {
        const __m512i r = _mm512_loadu_si512(src + k);
        if constexpr (STREAM) {
          _mm512_stream_si512(as512(dst + k), r);
        } else {
          _mm512_storeu_si512(dst + k, r);
        }
      }
    } else {
      for (std::size_t k = 0; k < BYTES; k += 32) {
        _mm256_storeu_si256(cast256(dst + k), _mm256_loadu_si256(cast256(src + k)));
      }
    }
  }

  EMBEDKIT_ALWAYS_INLINE static void copy_bytes(unsigned char* dst, const unsigned char* src,
                                                std::size_t n, bool stream) {
    std::size_t k = 0;
    if (stream) {
      for (; k + 64 <= n; k += 64) _mm512_stream_si512(as512(dst + k), _mm512_loadu_si512(src + k));
    } else {
      for (; k + 64 <= n; k += 64) _mm512_storeu_si512(dst + k, _mm512_loadu_si512(src + k));
    }
    if (k < n) {
      const __mmask64 m = (std::uint64_t{1} << (n - k)) - 1;  // n - k < 64
      _mm512_mask_storeu_epi8(dst + k, m, _mm512_maskz_loadu_epi8(m, src + k));
    }
  }

 private:
  template <class P>
  EMBEDKIT_ALWAYS_INLINE static __m256i* cast256(P* p) {
    return reinterpret_cast<__m256i*>(const_cast<std::remove_const_t<P>*>(p));
  }
  EMBEDKIT_ALWAYS_INLINE static const __m128i* as128(const std::uint8_t* p) {
    return reinterpret_cast<const __m128i*>(p);
  }
  EMBEDKIT_ALWAYS_INLINE static __m512i* as512(unsigned char* p) {
    return reinterpret_cast<__m512i*>(p);
  }

  EMBEDKIT_ALWAYS_INLINE static T bf16_widen(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  EMBEDKIT_ALWAYS_INLINE static __m256i half_narrow(T v) {
    return _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  // BFloat16::from_float in 16 lanes, result in the low half of each 32-bit lane (as a float
  // bit pattern: the rounded value with its low 16 bits clear).
  EMBEDKIT_ALWAYS_INLINE static T bf16_round(T v) {
    const __m512i x = _mm512_castps_si512(v);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(1));
    const __m512i rounded = _mm512_add_epi32(x, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), lsb));
    // NaN: keep the payload's top bits and make it quiet, as BFloat16::from_float does.
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    const __m512i quiet = _mm512_or_si512(x, _mm512_set1_epi32(0x400000));
    const __m512i r = _mm512_mask_blend_epi32(nan, rounded, quiet);
    return _mm512_castsi512_ps(
        _mm512_and_si512(r, _mm512_set1_epi32(static_cast<int>(0xffff0000u))));
  }
  EMBEDKIT_ALWAYS_INLINE static __m256i bf16_narrow(T v) {
    return _mm512_cvtepi32_epi16(_mm512_srli_epi32(_mm512_castps_si512(bf16_round(v)), 16));
  }
};

}  // namespace embedkit::kernels::cpu::avx512
