// Fast CPU kernels for EmbeddingBag: the twins of kernels/ref/embedding_bag_ref.hpp, same
// signatures and contract, same results bit for bit (a NaN may come out with another payload).
//
// Bag pooling keeps each output row in vector registers while it sums (or maxes) the bag's
// rows: D = 16, 32, 64, 128 and 256 are compiled with D known, other widths run in
// register-sized column blocks. Bags are split among threads by their number of ids.
#pragma once

#include <cstdint>

#include "embedkit/core/bag_mode.hpp"
#include "embedkit/core/dtype.hpp"
#include "kernels/ref/embedding_bag_ref.hpp"

namespace embedkit::kernels::cpu {

// num_rows (the table's, when known) lets small tables, which live in cache, skip prefetching.
template <class W, class I>
void bag_forward(const W* weight, std::int64_t dim, const I* ids, const std::int64_t* bounds,
                 std::int64_t num_bags, BagMode mode, const W* per_sample_weights,
                 std::int64_t padding_idx, W* out, std::int64_t* arg_max,
                 std::int64_t num_rows = -1);

template <class W, class I>
void bag_backward_dense(const W* grad_out, const I* ids, const std::int64_t* bounds,
                        std::int64_t num_bags, std::int64_t dim, std::int64_t num_rows,
                        BagMode mode, const W* per_sample_weights, std::int64_t padding_idx,
                        bool scale_grad_by_freq, const std::int64_t* arg_max, W* grad_weight);

template <class W, class I>
std::int64_t bag_backward_sparse(const W* grad_out, const I* ids, const std::int64_t* bounds,
                                 std::int64_t num_bags, std::int64_t dim, BagMode mode,
                                 const W* per_sample_weights, std::int64_t padding_idx,
                                 std::int64_t* out_indices, W* out_values);

template <class W, class I>
void bag_backward_per_sample_weights(const W* grad_out, const W* weight, const I* ids,
                                     const std::int64_t* bounds, std::int64_t num_bags,
                                     std::int64_t dim, std::int64_t padding_idx, W* grad_psw);

}  // namespace embedkit::kernels::cpu
