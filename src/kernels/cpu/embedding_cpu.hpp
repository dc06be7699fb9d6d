// Fast CPU kernels for Embedding: the twins of kernels/ref/embedding_ref.hpp, same signatures,
// same contract (validated ids, contiguous buffers), same results bit for bit (a NaN may come
// out with another payload). Multithreaded on the embedkit thread pool with a split that never
// changes an element's arithmetic, and vectorised for the CPU's instruction set (isa.hpp).
#pragma once

#include <cstdint>

#include "embedkit/core/dtype.hpp"

namespace embedkit::kernels::cpu {

// out[i, :] = weight[ids[i], :]. num_rows (the table's, when known) lets small tables, which
// live in cache, skip prefetching.
template <class W, class I>
void gather(const W* weight, std::int64_t dim, const I* ids, std::int64_t n, W* out,
            std::int64_t num_rows = -1);

// ref::renorm_rows: each distinct referenced row with p-norm > max_norm is scaled in place.
template <class W, class I>
void renorm_rows(W* weight, std::int64_t dim, const I* ids, std::int64_t n, double max_norm,
                 double norm_type);

// ref::embedding_backward_dense. Rows are owned by threads (each thread sums its rows' ids in
// input order), so there are no atomics and the sums are ref's.
template <class W, class I>
void embedding_backward_dense(const W* grad_out, const I* ids, std::int64_t n, std::int64_t dim,
                              std::int64_t num_rows, std::int64_t padding_idx,
                              bool scale_grad_by_freq, W* grad_weight);

// ref::embedding_backward_sparse: one entry per non-padding id, in input order.
template <class W, class I>
std::int64_t embedding_backward_sparse(const W* grad_out, const I* ids, std::int64_t n,
                                       std::int64_t dim, std::int64_t padding_idx,
                                       std::int64_t* out_indices, W* out_values);

}  // namespace embedkit::kernels::cpu
