// The fast kernels, written once over a lane type V (vec_generic.hpp, vec_avx2.hpp,
// vec_avx512.hpp) and compiled once per instruction set. Every template here takes V, so each
// translation unit's instantiations have their own symbols and code built with one set of -m
// flags can never stand in for another's. For the same reason nothing here calls an inline
// function defined elsewhere (dtype.hpp's conversions, <algorithm>): the V types carry their
// own.
//
// Exactness: each output element is computed with the operations of its kernels::ref twin in
// the same order (sums accumulate row after row from +0.0f; fma where ref has std::fma, a
// rounded product then an add where ref has those; mean divides by the count; max keeps the
// first of equal values).
// Vectorising across the columns of a row leaves every column's own sequence of operations
// unchanged, so the results are bitwise ref's.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "kernels/cpu/inline.hpp"
#include "kernels/cpu/isa_kernels.hpp"

// Fully unrolled loops over the accumulator vectors keep them in registers.
#define EMBEDKIT_UNROLL _Pragma("GCC unroll 16")

namespace embedkit::kernels::cpu::impl {

// Every cache line of a row: BYTES > 0 is the row size known at compile time (an unrolled run
// of prefetches), 0 reads it from `bytes`.
//
// Every function that only prefetches is forced inline (EMBEDKIT_ALWAYS_INLINE): GCC 12 finds
// such a function "looping const" (a prefetch changes no memory it models), and a call to it
// left out of line is then deleted as dead code, prefetches and all. Seen: the table-row
// prefetches of the fused SGD kernels, every prefetch of the fused Adagrad kernels, of
// reduce_runs and of the run-time-width bag kernels, absent from release builds
// (tests/kernels/prefetches.sh reads the built objects for them).
template <class V, std::int64_t BYTES>
EMBEDKIT_ALWAYS_INLINE void prefetch_row(const void* row, std::int64_t bytes) {
  const auto* p = static_cast<const char*>(row);
  if constexpr (BYTES > 0) {
    for (std::int64_t off = 0; off < BYTES; off += 64) V::prefetch(p + off);
    // A row that is not a whole number of lines straddles one more.
    if constexpr (BYTES % 64 != 0) V::prefetch(p + BYTES - 1);
  } else {
    if (bytes <= 0) return;
    const auto first = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{63};
    const auto last = reinterpret_cast<std::uintptr_t>(p) + static_cast<std::uintptr_t>(bytes - 1);
    for (std::uintptr_t a = first; a <= last; a += 64)
      V::prefetch(reinterpret_cast<const void*>(a));
  }
}

// ---------------------------------------------------------------------------------------------
// gather: a byte copy per row (float16/bfloat16 rows are copied, never converted).

template <class V, class I, std::size_t BYTES, bool STREAM>
void gather_fixed(const unsigned char* table, const I* ids, std::int64_t begin, std::int64_t end,
                  unsigned char* out, std::int64_t ahead) {
  constexpr auto kBytes = static_cast<std::int64_t>(BYTES);
  std::int64_t i = begin;
  if (ahead > 0) {
    for (; i + ahead < end; ++i) {
      prefetch_row<V, kBytes>(table + static_cast<std::int64_t>(ids[i + ahead]) * kBytes, kBytes);
      V::template copy_fixed<BYTES, STREAM>(out + i * kBytes,
                                            table + static_cast<std::int64_t>(ids[i]) * kBytes);
    }
  }
  for (; i < end; ++i) {
    V::template copy_fixed<BYTES, STREAM>(out + i * kBytes,
                                          table + static_cast<std::int64_t>(ids[i]) * kBytes);
  }
}

template <class V, class I, std::size_t BYTES>
void gather_fixed(const unsigned char* table, const I* ids, std::int64_t begin, std::int64_t end,
                  unsigned char* out, bool stream, std::int64_t ahead) {
  if (stream) {
    gather_fixed<V, I, BYTES, true>(table, ids, begin, end, out, ahead);
  } else {
    gather_fixed<V, I, BYTES, false>(table, ids, begin, end, out, ahead);
  }
}

template <class V, class I>
void gather_bytes(const unsigned char* table, std::int64_t bytes, const I* ids, std::int64_t begin,
                  std::int64_t end, unsigned char* out, bool stream, std::int64_t ahead) {
  const auto n = static_cast<std::size_t>(bytes);
  std::int64_t i = begin;
  if (ahead > 0) {
    for (; i + ahead < end; ++i) {
      prefetch_row<V, 0>(table + static_cast<std::int64_t>(ids[i + ahead]) * bytes, bytes);
      V::copy_bytes(out + i * bytes, table + static_cast<std::int64_t>(ids[i]) * bytes, n, stream);
    }
  }
  for (; i < end; ++i) {
    V::copy_bytes(out + i * bytes, table + static_cast<std::int64_t>(ids[i]) * bytes, n, stream);
  }
}

template <class V, class W, class I>
void gather(const W* weight, std::int64_t dim, const I* ids, std::int64_t begin, std::int64_t end,
            W* out, bool stream, std::int64_t ahead) {
  const auto* t = reinterpret_cast<const unsigned char*>(weight);
  auto* o = reinterpret_cast<unsigned char*>(out);
  const std::int64_t bytes = dim * static_cast<std::int64_t>(sizeof(W));
  switch (bytes) {
    case 32:
      gather_fixed<V, I, 32>(t, ids, begin, end, o, stream, ahead);
      break;
    case 64:
      gather_fixed<V, I, 64>(t, ids, begin, end, o, stream, ahead);
      break;
    case 128:
      gather_fixed<V, I, 128>(t, ids, begin, end, o, stream, ahead);
      break;
    case 256:
      gather_fixed<V, I, 256>(t, ids, begin, end, o, stream, ahead);
      break;
    case 512:
      gather_fixed<V, I, 512>(t, ids, begin, end, o, stream, ahead);
      break;
    case 1024:
      gather_fixed<V, I, 1024>(t, ids, begin, end, o, stream, ahead);
      break;
    default:
      gather_bytes<V, I>(t, bytes, ids, begin, end, o, stream, ahead);
      break;
  }
  if (stream) V::stream_fence();
}

// ---------------------------------------------------------------------------------------------
// Row reductions: the heart of bag pooling and of the sorted gradient sums. A "source" says,
// for each item e of a range, whether to skip it (padding), which row to read and with what
// weight, and prefetches item e's row. D > 0 is the row length known at compile time.
// at(col) gives the same source with rows starting at column col, so that the loads of a
// column block address rows with constant offsets.

enum class Op {
  Add,     // acc = acc + x            (ref: fma(1, x, acc), which is the same number)
  Fma,     // acc = fma(w, x, acc)
  MulAdd,  // acc = acc + round(w * x)  (ref, for per-sample weights with a padding_idx)
  Max,     // first-wins max
  MaxArg,  // first-wins max, recording the winning row per column
  // As Fma, then the sum is not stored but applied to out, a table row, as plain SGD applies
  // it: out = fma(step, acc, out) (ref: add_alpha(w, g, -lr), std::fma(-lr, g, w)).
  FmaStep,
};

template <class V, class W, class I, int D>
struct BagSource {
  const W* weight;
  std::int64_t runtime_dim;
  const I* ids;
  const W* psw;
  std::int64_t padding;

  std::int64_t dim() const {
    if constexpr (D > 0) {
      return D;
    } else {
      return runtime_dim;
    }
  }
  BagSource at(std::int64_t col) const {
    BagSource s = *this;
    s.weight += col;
    return s;
  }
  bool skip(std::int64_t e) const { return static_cast<std::int64_t>(ids[e]) == padding; }
  const W* row(std::int64_t e) const { return weight + static_cast<std::int64_t>(ids[e]) * dim(); }
  std::int64_t id(std::int64_t e) const { return static_cast<std::int64_t>(ids[e]); }
  float scale(std::int64_t e) const { return psw != nullptr ? V::scalar(psw[e]) : 1.0f; }
  EMBEDKIT_ALWAYS_INLINE void prefetch(std::int64_t e) const {
    prefetch_row<V, std::int64_t{D} * static_cast<std::int64_t>(sizeof(W))>(
        row(e), dim() * static_cast<std::int64_t>(sizeof(W)));
  }
};

template <class V, class W, int D>
struct TermSource {
  const W* src;
  std::int64_t runtime_dim;
  const RowTerm* terms;

  std::int64_t dim() const {
    if constexpr (D > 0) {
      return D;
    } else {
      return runtime_dim;
    }
  }
  TermSource at(std::int64_t col) const {
    TermSource s = *this;
    s.src += col;
    return s;
  }
  bool skip(std::int64_t) const { return false; }
  const W* row(std::int64_t e) const { return src + terms[e].src * dim(); }
  std::int64_t id(std::int64_t e) const { return terms[e].dst; }
  float scale(std::int64_t e) const { return terms[e].scale; }
  EMBEDKIT_ALWAYS_INLINE void prefetch(std::int64_t e) const {
    prefetch_row<V, std::int64_t{D} * static_cast<std::int64_t>(sizeof(W))>(
        row(e), dim() * static_cast<std::int64_t>(sizeof(W)));
  }
};

// Reduces items [e0, e1) over columns [col, col + NV * V::N + tail) into out (and arg), with
// NV full vectors and, if TAIL, one partial vector of `tail` lanes, all in registers.
// Prefetches item e + ahead while e + ahead < prefetch_end (0: no prefetching).
template <class V, class W, int NV, bool TAIL, Op OP, class Src>
void reduce_columns(const Src src, std::int64_t e0, std::int64_t e1, std::int64_t col, int tail,
                    bool mean, std::int64_t ahead, std::int64_t prefetch_end, W* out,
                    std::int64_t* arg, float step = 0.0f) {
  using T = typename V::T;
  constexpr int N = V::N;
  const Src s = src.at(col);
  T acc[NV > 0 ? NV : 1];
  T acct = V::zero();
  EMBEDKIT_UNROLL for (int v = 0; v < NV; ++v) acc[v] = V::zero();
  std::int64_t count = 0;
  for (std::int64_t e = e0; e < e1; ++e) {
    if (e + ahead < prefetch_end) src.prefetch(e + ahead);
    if (s.skip(e)) continue;
    const W* r = s.row(e);
    if constexpr (OP == Op::Add) {
      EMBEDKIT_UNROLL for (int v = 0; v < NV; ++v) acc[v] = V::add(acc[v], V::load(r + v * N));
      if constexpr (TAIL) acct = V::add(acct, V::load_n(r + NV * N, tail));
    } else if constexpr (OP == Op::Fma || OP == Op::FmaStep) {
      const T w = V::set1(s.scale(e));
      EMBEDKIT_UNROLL for (int v = 0; v < NV; ++v) acc[v] = V::fma(w, V::load(r + v * N), acc[v]);
      if constexpr (TAIL) acct = V::fma(w, V::load_n(r + NV * N, tail), acct);
    } else if constexpr (OP == Op::MulAdd) {
      const T w = V::set1(s.scale(e));
      EMBEDKIT_UNROLL for (int v = 0; v < NV; ++v) {
        acc[v] = V::add(acc[v], V::mul(w, V::load(r + v * N)));
      }
      if constexpr (TAIL) acct = V::add(acct, V::mul(w, V::load_n(r + NV * N, tail)));
    } else {
      if (count == 0) {
        EMBEDKIT_UNROLL for (int v = 0; v < NV; ++v) acc[v] = V::load(r + v * N);
        if constexpr (TAIL) acct = V::load_n(r + NV * N, tail);
        if constexpr (OP == Op::MaxArg) {
          const std::int64_t k = s.id(e);
          for (int j = 0; j < NV * N + (TAIL ? tail : 0); ++j) arg[col + j] = k;
        }
      } else {
        EMBEDKIT_UNROLL for (int v = 0; v < NV; ++v) {
          const T x = V::load(r + v * N);
          if constexpr (OP == Op::MaxArg) {
            std::uint32_t m = V::greater_mask(x, acc[v]);
            while (m != 0) {
              arg[col + v * N + __builtin_ctz(m)] = s.id(e);
              m &= m - 1;
            }
          }
          acc[v] = V::max_first_wins(acc[v], x);
        }
        if constexpr (TAIL) {
          const T x = V::load_n(r + NV * N, tail);
          if constexpr (OP == Op::MaxArg) {
            std::uint32_t m = V::greater_mask(x, acct) & ((1u << tail) - 1u);
            while (m != 0) {
              arg[col + NV * N + __builtin_ctz(m)] = s.id(e);
              m &= m - 1;
            }
          }
          acct = V::max_first_wins(acct, x);
        }
      }
    }
    ++count;
  }
  if ((OP == Op::Add || OP == Op::Fma || OP == Op::MulAdd) && mean && count > 0) {
    // ref: a true float32 division by the count (not a multiply by its reciprocal).
    const T c = V::set1(static_cast<float>(count));
    EMBEDKIT_UNROLL for (int v = 0; v < NV; ++v) acc[v] = V::div(acc[v], c);
    if constexpr (TAIL) acct = V::div(acct, c);
  }
  if constexpr (OP == Op::FmaStep) {
    // The row was prefetched for writing a few runs ahead; the sum never leaves the registers.
    const T c = V::set1(step);
    EMBEDKIT_UNROLL for (int v = 0; v < NV; ++v) {
      V::store(out + col + v * N, V::fma(c, acc[v], V::load(out + col + v * N)));
    }
    if constexpr (TAIL) {
      V::store_n(out + col + NV * N, V::fma(c, acct, V::load_n(out + col + NV * N, tail)), tail);
    }
    return;
  }
  EMBEDKIT_UNROLL for (int v = 0; v < NV; ++v) V::store(out + col + v * N, acc[v]);
  if constexpr (TAIL) V::store_n(out + col + NV * N, acct, tail);
}

// One output row: all columns, in register-sized blocks (the first block prefetches, the
// others find the rows in L1). D > 0: the row length is a compile-time constant; 0: runtime.
template <class V, class W, int D, Op OP, class Src>
void reduce_row(const Src& s, std::int64_t e0, std::int64_t e1, std::int64_t dim, bool mean,
                std::int64_t ahead, std::int64_t prefetch_end, W* out, std::int64_t* arg,
                float step = 0.0f) {
  constexpr int N = V::N;
  constexpr int kMax = V::kMaxAccumulators;
  if constexpr (D > 0) {
    // Blocks of kMax vectors, then the rest of the vectors and the partial one in one pass (D =
    // 100 on AVX-512: one pass of 6 vectors and 4 lanes, where the run-time width takes three).
    constexpr int kVectors = D / N;
    constexpr int kTail = D % N;
    constexpr int kFull = kVectors / kMax;
    constexpr int kRest = kVectors % kMax;
    if constexpr (kFull > 0) {
      reduce_columns<V, W, kMax, false, OP>(s, e0, e1, 0, 0, mean, ahead, prefetch_end, out, arg,
                                            step);
      for (int b = 1; b < kFull; ++b) {
        reduce_columns<V, W, kMax, false, OP>(s, e0, e1, std::int64_t{b} * kMax * N, 0, mean, ahead,
                                              0, out, arg, step);
      }
    }
    if constexpr (kRest > 0 || kTail > 0) {
      reduce_columns<V, W, kRest, (kTail > 0), OP>(s, e0, e1, std::int64_t{kFull} * kMax * N, kTail,
                                                   mean, ahead, kFull > 0 ? 0 : prefetch_end, out,
                                                   arg, step);
    }
  } else {
    const std::int64_t vectors = dim / N;
    const int tail = static_cast<int>(dim % N);
    std::int64_t col = 0;
    std::int64_t pf = prefetch_end;
    std::int64_t left = vectors;
    // Full blocks, then 4, 2, 1 vectors, then the partial vector: a few instantiations cover
    // every D, each keeping its accumulators in registers.
    for (; left >= kMax; left -= kMax, col += std::int64_t{kMax} * N, pf = 0) {
      reduce_columns<V, W, kMax, false, OP>(s, e0, e1, col, 0, mean, ahead, pf, out, arg, step);
    }
    if constexpr (kMax > 4) {
      for (; left >= 4; left -= 4, col += 4 * N, pf = 0) {
        reduce_columns<V, W, 4, false, OP>(s, e0, e1, col, 0, mean, ahead, pf, out, arg, step);
      }
    }
    if (left >= 2) {
      if (left == 3 && tail > 0) {
        reduce_columns<V, W, 3, true, OP>(s, e0, e1, col, tail, mean, ahead, pf, out, arg, step);
        return;
      }
      reduce_columns<V, W, 2, false, OP>(s, e0, e1, col, 0, mean, ahead, pf, out, arg, step);
      left -= 2;
      col += 2 * N;
      pf = 0;
    }
    if (left == 1) {
      if (tail > 0) {
        reduce_columns<V, W, 1, true, OP>(s, e0, e1, col, tail, mean, ahead, pf, out, arg, step);
      } else {
        reduce_columns<V, W, 1, false, OP>(s, e0, e1, col, 0, mean, ahead, pf, out, arg, step);
      }
    } else if (tail > 0) {
      reduce_columns<V, W, 0, true, OP>(s, e0, e1, col, tail, mean, ahead, pf, out, arg, step);
    }
  }
}

// Calls f(std::integral_constant<int, D>) with D = dim for the specialised widths, else 0.
template <class F>
void with_dim(std::int64_t dim, F&& f) {
  switch (dim) {
    case 16:
      f(std::integral_constant<int, 16>{});
      break;
    case 32:
      f(std::integral_constant<int, 32>{});
      break;
    case 64:
      f(std::integral_constant<int, 64>{});
      break;
    case 128:
      f(std::integral_constant<int, 128>{});
      break;
    case 256:
      f(std::integral_constant<int, 256>{});
      break;
    // word2vec's and fastText's default width, and that of most published word vectors.
    case 100:
      f(std::integral_constant<int, 100>{});
      break;
    case 300:
      f(std::integral_constant<int, 300>{});
      break;
    default:
      f(std::integral_constant<int, 0>{});
      break;
  }
}

template <class V, class W, class I, int D, Op OP>
void bag_loop(const BagArgs<W, I>& a, std::int64_t b0, std::int64_t b1) {
  const BagSource<V, W, I, D> s{a.weight, a.dim, a.ids, a.per_sample_weights, a.padding_idx};
  const std::int64_t ahead = a.prefetch_ahead;
  const std::int64_t prefetch_end = ahead > 0 ? a.bounds[b1] : 0;
  const bool mean = a.mode == BagMode::Mean;
  for (std::int64_t b = b0; b < b1; ++b) {
    W* out = a.out + b * a.dim;
    std::int64_t* arg = nullptr;
    if constexpr (OP == Op::MaxArg) {
      arg = a.arg_max + b * a.dim;
      for (std::int64_t j = 0; j < a.dim; ++j) arg[j] = -1;
    }
    reduce_row<V, W, D, OP>(s, a.bounds[b], a.bounds[b + 1], a.dim, mean, ahead, prefetch_end, out,
                            arg);
  }
}

// bag_loop with every call inlined, for rows of one or two vectors, where a bag's sum costs
// little more than the call that computes it (cache-sized table, D = 16, one thread: bags of
// 20 summed in 46.5 against 51.5 µs, averaged in 47 against 71). Wide rows keep the calls:
// inlining everything there measured 1.6x slower on a 512 MiB table.
template <class V, class W, class I, int D, Op OP>
[[gnu::flatten]] void bag_loop_inlined(const BagArgs<W, I>& a, std::int64_t b0, std::int64_t b1) {
  bag_loop<V, W, I, D, OP>(a, b0, b1);
}

// bag_loop, or its inlined form for narrow rows.
template <class V, class W, class I, int D, Op OP>
void run_bag_loop(const BagArgs<W, I>& a, std::int64_t b0, std::int64_t b1) {
  if constexpr (D > 0 && D <= 2 * V::N) {
    bag_loop_inlined<V, W, I, D, OP>(a, b0, b1);
  } else {
    bag_loop<V, W, I, D, OP>(a, b0, b1);
  }
}

// Bags [b0, b1), each of exactly one id, summed or averaged without weights: each output row
// is its row plus zero (which makes -0.0 +0.0, as the sum does; the mean divides by 1), or
// zeros where the id is padding (an empty sum). Through reduce_row the per-bag call made bags
// of one slower than LibTorch; a check inside bag_loop's loop slowed the large bags instead.
template <class V, class W, class I, int D>
void single_id_bags(const BagArgs<W, I>& a, std::int64_t b0, std::int64_t b1) {
  const BagSource<V, W, I, D> s{a.weight, a.dim, a.ids, a.per_sample_weights, a.padding_idx};
  const std::int64_t ahead = a.prefetch_ahead;
  const std::int64_t prefetch_end = ahead > 0 ? a.bounds[b1] : 0;
  for (std::int64_t b = b0; b < b1; ++b) {
    const std::int64_t e = a.bounds[b];
    if (e + ahead < prefetch_end) s.prefetch(e + ahead);
    W* out = a.out + b * D;
    if (s.skip(e)) {
      EMBEDKIT_UNROLL for (int v = 0; v < D / V::N; ++v) V::store(out + v * V::N, V::zero());
      continue;
    }
    const W* r = s.row(e);
    EMBEDKIT_UNROLL for (int v = 0; v < D / V::N; ++v) {
      V::store(out + v * V::N, V::add(V::zero(), V::load(r + v * V::N)));
    }
  }
}

// Whether every bag in [b0, b1) holds exactly one id. Only as many ids as bags can be that,
// which spares every other layout (bags of 20, say) the scan; then an OR over the sizes,
// vectorised.
template <class V>
bool all_single_id(const std::int64_t* bounds, std::int64_t b0, std::int64_t b1) {
  if (bounds[b1] - bounds[b0] != b1 - b0) return false;
  std::int64_t other = 0;
  for (std::int64_t b = b0; b < b1; ++b) other |= (bounds[b + 1] - bounds[b]) ^ 1;
  return other == 0;
}

template <class V, class W, class I>
void bag(const BagArgs<W, I>& a, std::int64_t b0, std::int64_t b1) {
  if (b0 >= b1) return;
  with_dim(a.dim, [&](auto d) {
    constexpr int D = decltype(d)::value;
    if constexpr (D > 0 && D % V::N == 0) {
      if (a.mode != BagMode::Max && a.per_sample_weights == nullptr &&
          all_single_id<V>(a.bounds, b0, b1)) {
        single_id_bags<V, W, I, D>(a, b0, b1);
        return;
      }
    }
    if (a.mode == BagMode::Max) {
      if (a.arg_max != nullptr) {
        run_bag_loop<V, W, I, D, Op::MaxArg>(a, b0, b1);
      } else {
        run_bag_loop<V, W, I, D, Op::Max>(a, b0, b1);
      }
    } else if (a.per_sample_weights != nullptr && a.padding_idx >= 0) {
      run_bag_loop<V, W, I, D, Op::MulAdd>(a, b0, b1);
    } else if (a.per_sample_weights != nullptr) {
      run_bag_loop<V, W, I, D, Op::Fma>(a, b0, b1);
    } else {
      run_bag_loop<V, W, I, D, Op::Add>(a, b0, b1);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Gradient pieces.

template <class V, class W>
void segment_reduce(const W* src, std::int64_t dim, const RowTerm* terms, std::int64_t count,
                    W* dst, std::int64_t ahead) {
  with_dim(dim, [&](auto d) {
    constexpr int D = decltype(d)::value;
    const TermSource<V, W, D> s{src, dim, terms};
    std::int64_t e = 0;
    while (e < count) {
      std::int64_t end = e + 1;
      while (end < count && terms[end].dst == terms[e].dst) ++end;
      reduce_row<V, W, D, Op::Fma>(s, e, end, dim, false, ahead, ahead > 0 ? count : 0,
                                   dst + terms[e].dst * dim, nullptr);
      e = end;
    }
  });
}

// The rows of `touched` for `row`, every line each covers.
// Prefetched with write intent (the rows are updated): a line fetched for reading must be fetched
// again for ownership when the update stores to it. Without -mprfchw (docs/design.md) x86 builds
// emit the hint as prefetcht0.
EMBEDKIT_ALWAYS_INLINE void prefetch_touched(const RunPrefetch& p, std::int64_t row) {
  for (std::int64_t t = 0; t < p.count; ++t) {
    const TouchedRows& r = p.touched[t];
    const char* first = static_cast<const char*>(r.base) + row * r.row_bytes;
    const auto start = reinterpret_cast<std::uintptr_t>(first) & ~std::uintptr_t{63};
    const auto stop = reinterpret_cast<std::uintptr_t>(first + r.row_bytes);
    for (std::uintptr_t line = start; line < stop; line += 64) {
      __builtin_prefetch(reinterpret_cast<const void*>(line), 1);
    }
  }
}

// Walks the runs of equal dst in terms[0, count) in order and calls run(first, end) for each,
// after prefetching the touched rows (prefetch.touched) of the runs up to a fixed distance
// ahead, in term order: terms [0, next) have had theirs prefetched (a run's first term stands
// for it). reduce_runs and sgd_runs share it.
template <class F>
EMBEDKIT_ALWAYS_INLINE void for_each_run(const RowTerm* terms, std::int64_t count,
                                         const RunPrefetch& prefetch, F&& run) {
  const std::int64_t touched_ahead = prefetch.count > 0 ? prefetch.touched_ahead : 0;
  std::int64_t next = 0;
  std::int64_t e = 0;
  while (e < count) {
    std::int64_t end = e + 1;
    while (end < count && terms[end].dst == terms[e].dst) ++end;
    if (touched_ahead > 0) {
      const std::int64_t limit = std::min(end + touched_ahead, count);
      for (; next < limit; ++next) {
        if (next == 0 || terms[next].dst != terms[next - 1].dst) {
          prefetch_touched(prefetch, terms[next].dst);
        }
      }
    }
    run(e, end);
    e = end;
  }
}

template <class V, class W>
void reduce_runs(const W* src, std::int64_t dim, const RowTerm* terms, std::int64_t count,
                 const RunPrefetch& prefetch, W* sum,
                 FunctionRef<void(std::int64_t row, const W* sum)> on_row) {
  with_dim(dim, [&](auto d) {
    constexpr int D = decltype(d)::value;
    const TermSource<V, W, D> s{src, dim, terms};
    const std::int64_t ahead = prefetch.ahead;
    for_each_run(terms, count, prefetch, [&](std::int64_t e, std::int64_t end) {
      reduce_row<V, W, D, Op::Fma>(s, e, end, dim, false, ahead, ahead > 0 ? count : 0, sum,
                                   nullptr);
      on_row(terms[e].dst, sum);
    });
  });
}

// reduce_runs with plain SGD in place of on_row: each run is summed exactly as reduce_runs sums
// it, in registers, and its table row updated, row = fma(step, sum, row), straight from them
// (Op::FmaStep): no sum row stored and read back, no call per row. Runs of frozen_row (< 0:
// none) are left alone. Prefetching as reduce_runs' (prefetch.touched: the table).
template <class V>
void sgd_runs(const float* src, std::int64_t dim, const RowTerm* terms, std::int64_t count,
              const RunPrefetch& prefetch, float* table, float step, std::int64_t frozen_row) {
  with_dim(dim, [&](auto d) {
    constexpr int D = decltype(d)::value;
    const TermSource<V, float, D> s{src, dim, terms};
    const std::int64_t ahead = prefetch.ahead;
    for_each_run(terms, count, prefetch, [&](std::int64_t e, std::int64_t end) {
      const std::int64_t row = terms[e].dst;
      if (row == frozen_row) return;
      reduce_row<V, float, D, Op::FmaStep>(s, e, end, dim, false, ahead, ahead > 0 ? count : 0,
                                           table + row * dim, nullptr, step);
    });
  });
}

// optim::RowWiseAdagrad's row update without weight decay, from the row's summed gradient g (in
// L1), with its operations (ref::rowwise_adagrad_step_runs): the squares into 8 interleaved
// partial sums, one vector's 8 lanes (the low 8 of a wider vector; a partial last block adds
// +0 to the lanes past the row, which changes no sum of squares), added pairwise; the mean into
// the row's accumulator; w = 1 * w - g * multiplier.
template <class V>
EMBEDKIT_ALWAYS_INLINE void rowwise_adagrad_row(const float* g, std::int64_t dim, float* w,
                                                float& accumulator, float lr, float eps) {
  using T = typename V::T;
  constexpr int N = V::N;
  static_assert(N >= 8, "the 8 partial sums are one vector's lanes");
  auto load8 = [](const float* p) {
    if constexpr (N == 8) {
      return V::load(p);
    } else {
      return V::load8(p);  // load_n(p, 8), unmasked
    }
  };
  T squares = V::zero();
  std::int64_t k = 0;
  for (; k + 8 <= dim; k += 8) {
    const T x = load8(g + k);
    squares = V::add(squares, V::mul(x, x));
  }
  if (k < dim) {
    const T x = V::load_n(g + k, static_cast<int>(dim - k));
    squares = V::add(squares, V::mul(x, x));
  }
  float p[N];
  V::store(p, squares);
  const float square_sum = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
  accumulator += dim == 0 ? 0.0f : square_sum / static_cast<float>(dim);
  const T m = V::set1(lr / (std::sqrt(accumulator) + eps));
  const T one = V::set1(1.0f);
  std::int64_t j = 0;
  for (; j + N <= dim; j += N) {
    V::store(w + j, V::sub(V::mul(one, V::load(w + j)), V::mul(V::load(g + j), m)));
  }
  if (j < dim) {
    const int t = static_cast<int>(dim - j);
    V::store_n(w + j, V::sub(V::mul(one, V::load_n(w + j, t)), V::mul(V::load_n(g + j, t), m)), t);
  }
}

// reduce_runs with a row update in place of on_row, inlined: each run summed into `sum` exactly
// as reduce_runs sums it, then update(row, sum) while the sum is in L1; no call per row. Runs of
// frozen_row (< 0: none) are left alone. Prefetching as reduce_runs' (prefetch.touched: the
// table and the optimizer state the update writes).
template <class V, class Update>
EMBEDKIT_ALWAYS_INLINE void update_runs(const float* src, std::int64_t dim, const RowTerm* terms,
                                        std::int64_t count, const RunPrefetch& prefetch, float* sum,
                                        std::int64_t frozen_row, Update&& update) {
  with_dim(dim, [&](auto d) {
    constexpr int D = decltype(d)::value;
    const TermSource<V, float, D> s{src, dim, terms};
    const std::int64_t ahead = prefetch.ahead;
    for_each_run(terms, count, prefetch, [&](std::int64_t e, std::int64_t end) {
      const std::int64_t row = terms[e].dst;
      if (row == frozen_row) return;
      reduce_row<V, float, D, Op::Fma>(s, e, end, dim, false, ahead, ahead > 0 ? count : 0, sum,
                                       nullptr);
      update(row, sum);
    });
  });
}

// update_runs with row-wise Adagrad without weight decay (rowwise_adagrad_row).
template <class V>
void rowwise_adagrad_runs(const float* src, std::int64_t dim, const RowTerm* terms,
                          std::int64_t count, const RunPrefetch& prefetch, float* sum, float* table,
                          float* accumulators, float lr, float eps, std::int64_t frozen_row) {
  update_runs<V>(src, dim, terms, count, prefetch, sum, frozen_row,
                 [&](std::int64_t row, const float* g) {
                   rowwise_adagrad_row<V>(g, dim, table + row * dim, accumulators[row], lr, eps);
                 });
}

// optim::Adagrad's sparse row update (no weight decay, not maximizing) from the row's summed
// gradient g (in L1), with its operations (ref::adagrad_step_runs): acc = acc + g * g;
// w = fma(neg_clr, g / (sqrt(acc) + eps), w).
template <class V>
EMBEDKIT_ALWAYS_INLINE void adagrad_row(const float* g, std::int64_t dim, float* w, float* acc,
                                        float neg_clr, float eps) {
  using T = typename V::T;
  constexpr int N = V::N;
  const T c = V::set1(neg_clr);
  const T e = V::set1(eps);
  std::int64_t j = 0;
  for (; j + N <= dim; j += N) {
    const T gj = V::load(g + j);
    const T a = V::add(V::load(acc + j), V::mul(gj, gj));
    V::store(acc + j, a);
    V::store(w + j, V::fma(c, V::div(gj, V::add(V::sqrt(a), e)), V::load(w + j)));
  }
  if (j < dim) {
    const int t = static_cast<int>(dim - j);
    const T gj = V::load_n(g + j, t);
    const T a = V::add(V::load_n(acc + j, t), V::mul(gj, gj));
    V::store_n(acc + j, a, t);
    V::store_n(w + j, V::fma(c, V::div(gj, V::add(V::sqrt(a), e)), V::load_n(w + j, t)), t);
  }
}

// update_runs with Adagrad's element-wise update, not maximizing (adagrad_row).
template <class V>
void adagrad_runs(const float* src, std::int64_t dim, const RowTerm* terms, std::int64_t count,
                  const RunPrefetch& prefetch, float* sum, float* table, float* accumulators,
                  float neg_clr, float eps, std::int64_t frozen_row) {
  update_runs<V>(
      src, dim, terms, count, prefetch, sum, frozen_row, [&](std::int64_t row, const float* g) {
        adagrad_row<V>(g, dim, table + row * dim, accumulators + row * dim, neg_clr, eps);
      });
}

template <class V>
void accumulate(const float* src, std::int64_t dim, const RowTerm* terms, std::int64_t count,
                float* dst, std::int64_t ahead) {
  constexpr int N = V::N;
  const std::int64_t row_bytes = dim * static_cast<std::int64_t>(sizeof(float));
  const std::int64_t full = dim / N * N;
  const int tail = static_cast<int>(dim - full);
  for (std::int64_t e = 0; e < count; ++e) {
    if (ahead > 0 && e + ahead < count) {
      prefetch_row<V, 0>(dst + terms[e + ahead].dst * dim, row_bytes);
      prefetch_row<V, 0>(src + terms[e + ahead].src * dim, row_bytes);
    }
    const float* s = src + terms[e].src * dim;
    float* d = dst + terms[e].dst * dim;
    const typename V::T w = V::set1(terms[e].scale);
    std::int64_t j = 0;
    for (; j < full; j += N) V::store(d + j, V::fma(w, V::load(s + j), V::load(d + j)));
    if (tail > 0)
      V::store_n(d + j, V::fma(w, V::load_n(s + j, tail), V::load_n(d + j, tail)), tail);
  }
}

template <class V, class W>
void scale_rows(const W* src, std::int64_t dim, const RowTerm* terms, std::int64_t count, W* dst,
                std::int64_t ahead) {
  constexpr int N = V::N;
  const std::int64_t row_bytes = dim * static_cast<std::int64_t>(sizeof(W));
  const std::int64_t full = dim / N * N;
  const int tail = static_cast<int>(dim - full);
  for (std::int64_t e = 0; e < count; ++e) {
    if (ahead > 0 && e + ahead < count)
      prefetch_row<V, 0>(src + terms[e + ahead].src * dim, row_bytes);
    const W* s = src + terms[e].src * dim;
    W* d = dst + e * dim;
    const typename V::T w = V::set1(terms[e].scale);
    std::int64_t j = 0;
    for (; j < full; j += N) V::store(d + j, V::mul(w, V::load(s + j)));
    if (tail > 0) V::store_n(d + j, V::mul(w, V::load_n(s + j, tail)), tail);
  }
}

// dot(grad_out[bag], W[id]) accumulated column after column (fma), as ref does. The sequence
// is inherently serial per id, so four ids run side by side for instruction-level parallelism.
template <class V, class W, class I>
void per_sample_weights_grad(const W* grad_out, const W* weight, std::int64_t dim, const I* ids,
                             const std::int64_t* bounds, std::int64_t b0, std::int64_t b1,
                             std::int64_t padding, W* out) {
  for (std::int64_t b = b0; b < b1; ++b) {
    const W* g = grad_out + b * dim;
    std::int64_t i = bounds[b];
    const std::int64_t end = bounds[b + 1];
    auto row_of = [&](std::int64_t p) -> const W* {
      const auto k = static_cast<std::int64_t>(ids[p]);
      return k == padding ? nullptr : weight + k * dim;
    };
    for (; i + 4 <= end; i += 4) {
      const W* r[4] = {row_of(i), row_of(i + 1), row_of(i + 2), row_of(i + 3)};
      float dot[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      for (std::int64_t j = 0; j < dim; ++j) {
        const float gj = V::scalar(g[j]);
        for (int q = 0; q < 4; ++q) {
          if (r[q] != nullptr) dot[q] = V::fma1(gj, V::scalar(r[q][j]), dot[q]);
        }
      }
      for (int q = 0; q < 4; ++q) V::store_n(out + i + q, V::set1(r[q] ? dot[q] : 0.0f), 1);
    }
    for (; i < end; ++i) {
      const W* r = row_of(i);
      float dot = 0.0f;
      if (r != nullptr) {
        for (std::int64_t j = 0; j < dim; ++j) dot = V::fma1(V::scalar(g[j]), V::scalar(r[j]), dot);
      }
      V::store_n(out + i, V::set1(dot), 1);
    }
  }
}

// ref::row_norm and the in-place rescale of ref::renorm_rows. The norm is a serial double sum
// per row, kept serial so it is ref's number to the last bit.
template <class V, class W>
void renorm(W* weight, std::int64_t dim, const std::int64_t* rows, std::int64_t count,
            double max_norm, double p) {
  constexpr int N = V::N;
  const auto* as_w = static_cast<const W*>(nullptr);
  const std::int64_t full = dim / N * N;
  const int tail = static_cast<int>(dim - full);
  for (std::int64_t e = 0; e < count; ++e) {
    W* row = weight + rows[e] * dim;
    double norm = 0;
    if (__builtin_isinf(p)) {
      for (std::int64_t j = 0; j < dim; ++j) {
        const double x = __builtin_fabs(double{V::scalar(row[j])});
        norm = norm < x ? x : norm;  // std::max's choice: NaN never replaces
      }
    } else if (p == 1.0) {
      for (std::int64_t j = 0; j < dim; ++j) norm += __builtin_fabs(double{V::scalar(row[j])});
    } else if (p == 2.0) {
      for (std::int64_t j = 0; j < dim; ++j) {
        const double x = V::scalar(row[j]);
        norm += x * x;
      }
      norm = __builtin_sqrt(norm);
    } else {
      for (std::int64_t j = 0; j < dim; ++j)
        norm += __builtin_pow(__builtin_fabs(double{V::scalar(row[j])}), p);
      norm = __builtin_pow(norm, 1.0 / p);
    }
    norm = V::round_to(static_cast<float>(norm), as_w);
    if (norm > max_norm) {
      const float scale = V::round_to(static_cast<float>(max_norm / (norm + 1e-7)), as_w);
      const typename V::T s = V::set1(scale);
      std::int64_t j = 0;
      for (; j < full; j += N) V::store(row + j, V::mul(V::load(row + j), s));
      if (tail > 0) V::store_n(row + j, V::mul(V::load_n(row + j, tail), s), tail);
    }
  }
}

template <class V, class W>
void widen(const W* in, std::int64_t n, float* out) {
  constexpr int N = V::N;
  std::int64_t j = 0;
  for (; j + N <= n; j += N) V::store(out + j, V::load(in + j));
  if (j < n)
    V::store_n(out + j, V::load_n(in + j, static_cast<int>(n - j)), static_cast<int>(n - j));
}

template <class V, class W>
void narrow(const float* in, std::int64_t n, W* out) {
  constexpr int N = V::N;
  std::int64_t j = 0;
  for (; j + N <= n; j += N) V::store(out + j, V::load(in + j));
  if (j < n)
    V::store_n(out + j, V::load_n(in + j, static_cast<int>(n - j)), static_cast<int>(n - j));
}

// ---------------------------------------------------------------------------------------------
// Index checks. Blocks are checked without an early exit (comparisons OR-ed, a loop the
// compiler vectorises with this file's instruction set), and only a block that fails is
// searched for its first bad element. V only keeps each instruction set's copy apart.

constexpr std::int64_t kCheckBlock = 256;

template <class V, class I>
std::int64_t first_id_out_of_range(const I* ids, std::int64_t n, std::int64_t num_rows) {
  for (std::int64_t b = 0; b < n; b += kCheckBlock) {
    const std::int64_t end = b + kCheckBlock < n ? b + kCheckBlock : n;
    std::int64_t bad = 0;  // an integer OR: GCC 12 does not vectorise a bool one
    for (std::int64_t i = b; i < end; ++i) {
      const auto id = static_cast<std::int64_t>(ids[i]);
      bad |= static_cast<std::int64_t>(id < 0) | static_cast<std::int64_t>(id >= num_rows);
    }
    if (bad == 0) continue;
    for (std::int64_t i = b; i < end; ++i) {
      const auto id = static_cast<std::int64_t>(ids[i]);
      if (id < 0 || id >= num_rows) return i;
    }
  }
  return -1;
}

template <class V>
std::int64_t first_bad_bound(const std::int64_t* bounds, std::int64_t count, std::int64_t limit) {
  for (std::int64_t b = 1; b < count; b += kCheckBlock) {
    const std::int64_t end = b + kCheckBlock < count ? b + kCheckBlock : count;
    std::int64_t bad = 0;
    for (std::int64_t i = b; i < end; ++i) {
      bad |= static_cast<std::int64_t>(bounds[i] < bounds[i - 1]) |
             static_cast<std::int64_t>(bounds[i] > limit);
    }
    if (bad == 0) continue;
    for (std::int64_t i = b; i < end; ++i) {
      if (bounds[i] < bounds[i - 1] || bounds[i] > limit) return i;
    }
  }
  return -1;
}

template <class V, class W, class I>
constexpr IsaKernels<W, I> make_table() {
  IsaKernels<W, I> k{};
  k.gather = &gather<V, W, I>;
  k.bag = &bag<V, W, I>;
  k.per_sample_weights_grad = &per_sample_weights_grad<V, W, I>;
  if constexpr (std::is_same_v<W, float>) {
    k.accumulate = &accumulate<V>;
    k.sgd_runs = &sgd_runs<V>;
    k.rowwise_adagrad_runs = &rowwise_adagrad_runs<V>;
    k.adagrad_runs = &adagrad_runs<V>;
  } else {
    k.accumulate = nullptr;
    k.sgd_runs = nullptr;
    k.rowwise_adagrad_runs = nullptr;
    k.adagrad_runs = nullptr;
  }
  k.segment_reduce = &segment_reduce<V, W>;
  k.reduce_runs = &reduce_runs<V, W>;
  k.scale_rows = &scale_rows<V, W>;
  k.widen = &widen<V, W>;
  k.narrow = &narrow<V, W>;
  k.renorm = &renorm<V, W>;
  k.first_id_out_of_range = &first_id_out_of_range<V, I>;
  k.first_bad_bound = &first_bad_bound<V>;
  return k;
}

}  // namespace embedkit::kernels::cpu::impl
