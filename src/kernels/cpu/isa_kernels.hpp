// The per-instruction-set kernels: what kernels_generic.cpp, kernels_avx2.cpp and
// kernels_avx512.cpp each provide, as one table of function pointers per (table element type W,
// id type I). They work on a slice of the problem ([begin, end) of ids, bags or terms) on the
// calling thread; splitting the work among threads, sorting and bookkeeping happen in the
// dispatchers (embedding_cpu.cpp, embedding_bag_cpu.cpp, row_sparse_cpu.cpp).
//
// Every kernel computes each output element with exactly the operations, in exactly the order,
// of its kernels::ref twin, so the variants agree bitwise with ref and with each other.
#pragma once

#include <cstdint>

#include "embedkit/core/bag_mode.hpp"
#include "embedkit/core/dtype.hpp"
#include "embedkit/core/thread_pool.hpp"
#include "kernels/cpu/isa.hpp"

namespace embedkit::kernels::cpu {

// One contribution to a destination row: dst_row(dst) <- scale * src_row(src) (how it combines
// is up to the kernel that takes it).
struct RowTerm {
  std::int64_t dst;
  std::int64_t src;
  float scale;
};

// Memory that a per-row callback reads and writes for row r in [0, rows): base + r * row_bytes
// (a table, an optimizer's per-row state).
struct TouchedRows {
  const void* base;
  std::int64_t row_bytes;
  std::int64_t rows;
};

// What reduce_runs prefetches: the gradient row of the term `ahead` terms ahead (0: none), and
// every row of `touched` (count tables) for the dst of the term `touched_ahead` terms ahead (0:
// none).
struct RunPrefetch {
  std::int64_t ahead;
  const TouchedRows* touched;
  std::int64_t count;
  std::int64_t touched_ahead;
};

template <class W, class I>
struct BagArgs {
  const W* weight;
  std::int64_t dim;
  const I* ids;
  const std::int64_t* bounds;  // CSR: bag b = ids[bounds[b], bounds[b + 1])
  BagMode mode;
  const W* per_sample_weights;  // or null
  std::int64_t padding_idx;     // < 0: none
  W* out;                       // num_bags x dim
  std::int64_t* arg_max;        // max only, or null: winning row per column, -1 for empty bags
  std::int64_t prefetch_ahead;  // prefetch the row this many ids ahead; 0: none
};

template <class W, class I>
struct IsaKernels {
  // out[i] = weight[ids[i]] for i in [begin, end). `stream`: out is 64-byte aligned and rows are
  // a multiple of 64 bytes; write around the cache. Every kernel's `ahead` (> 0) prefetches the
  // rows of the item that many positions ahead; 0 prefetches nothing.
  void (*gather)(const W* weight, std::int64_t dim, const I* ids, std::int64_t begin,
                 std::int64_t end, W* out, bool stream, std::int64_t ahead);
  // Bags [b0, b1) of ref::bag_forward.
  void (*bag)(const BagArgs<W, I>& args, std::int64_t b0, std::int64_t b1);
  // ref::bag_backward_per_sample_weights for the ids of bags [b0, b1).
  void (*per_sample_weights_grad)(const W* grad_out, const W* weight, std::int64_t dim,
                                  const I* ids, const std::int64_t* bounds, std::int64_t b0,
                                  std::int64_t b1, std::int64_t padding_idx, W* out);
  // In term order: dst[t.dst] = fma(t.scale, src[t.src], dst[t.dst]) (float32 only: null for the
  // 16-bit types, whose sums must stay in float32 until the end).
  void (*accumulate)(const W* src, std::int64_t dim, const RowTerm* terms, std::int64_t count,
                     W* dst, std::int64_t ahead);
  // Terms sorted by dst: each run of equal dst is summed in float32 from 0 in term order,
  // acc = fma(t.scale, src[t.src], acc), then rounded once into dst[run's dst].
  void (*segment_reduce)(const W* src, std::int64_t dim, const RowTerm* terms, std::int64_t count,
                         W* dst, std::int64_t ahead);
  // Terms in runs of one dst (every dst in one run; sorted, or not): each run summed exactly as
  // segment_reduce sums it, but into `sum` (dim elements), which is handed to on_row(run's dst,
  // sum) before the next run is summed, while it is still in L1.
  void (*reduce_runs)(const W* src, std::int64_t dim, const RowTerm* terms, std::int64_t count,
                      const RunPrefetch& prefetch, W* sum,
                      FunctionRef<void(std::int64_t row, const W* sum)> on_row);
  // Terms in runs of one dst, as reduce_runs': each run summed exactly as reduce_runs sums it,
  // then table row dst = fma(step, sum, table row dst) per element (plain SGD, step = -lr),
  // except the runs of frozen_row (< 0: none). float32 only (null for the 16-bit types).
  void (*sgd_runs)(const W* src, std::int64_t dim, const RowTerm* terms, std::int64_t count,
                   const RunPrefetch& prefetch, W* table, float step, std::int64_t frozen_row);
  // Terms in runs of one dst, as reduce_runs': each run summed exactly as reduce_runs sums it
  // into `sum` (dim elements), then row-wise Adagrad without weight decay applied to table row
  // dst and accumulators[dst] (ref::rowwise_adagrad_step_runs), except the runs of frozen_row.
  // float32 only (null for the 16-bit types).
  void (*rowwise_adagrad_runs)(const W* src, std::int64_t dim, const RowTerm* terms,
                               std::int64_t count, const RunPrefetch& prefetch, W* sum, W* table,
                               float* accumulators, float lr, float eps, std::int64_t frozen_row);
  // The same with Adagrad's element-wise update (no weight decay, not maximizing; accumulators:
  // a row of dim floats per table row): ref::adagrad_step_runs. float32 only.
  void (*adagrad_runs)(const W* src, std::int64_t dim, const RowTerm* terms, std::int64_t count,
                       const RunPrefetch& prefetch, W* sum, W* table, float* accumulators,
                       float neg_clr, float eps, std::int64_t frozen_row);
  // dst row e = round(terms[e].scale * src[terms[e].src]) for e in [0, count).
  void (*scale_rows)(const W* src, std::int64_t dim, const RowTerm* terms, std::int64_t count,
                     W* dst, std::int64_t ahead);
  // Element conversions, exactly to_f32 / from_f32 (round to nearest even); n elements.
  void (*widen)(const W* in, std::int64_t n, float* out);
  void (*narrow)(const float* in, std::int64_t n, W* out);
  // ref::renorm_rows on the given distinct rows.
  void (*renorm)(W* weight, std::int64_t dim, const std::int64_t* rows, std::int64_t count,
                 double max_norm, double norm_type);
  // ref::first_id_out_of_range and ref::first_bad_bound (index_checks.hpp; W plays no part).
  std::int64_t (*first_id_out_of_range)(const I* ids, std::int64_t n, std::int64_t num_rows);
  std::int64_t (*first_bad_bound)(const std::int64_t* bounds, std::int64_t count,
                                  std::int64_t limit);
};

template <class W, class I>
const IsaKernels<W, I>& generic_kernels();
template <class W, class I>
const IsaKernels<W, I>& avx2_kernels();
template <class W, class I>
const IsaKernels<W, I>& avx512_kernels();

// The table of active_isa().
template <class W, class I>
const IsaKernels<W, I>& isa_kernels() {
#if defined(EMBEDKIT_X86_KERNELS)
  switch (active_isa()) {
    case Isa::Avx512:
      return avx512_kernels<W, I>();
    case Isa::Avx2:
      return avx2_kernels<W, I>();
    case Isa::Generic:
      break;
  }
#endif
  return generic_kernels<W, I>();
}

}  // namespace embedkit::kernels::cpu
