// The kernels' launchers (src/cuda/kernels.cu), callable from plain C++: raw device pointers,
// dtypes as embedkit::DType, no CUDA types. Every launcher queues work on the default stream
// unless given a stream (an opaque cudaStream_t) and checks the launch; none synchronises
// unless it says so. Argument checks happen in the callers (src/cuda/embedding.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "embedkit/core/bag_mode.hpp"
#include "embedkit/core/dtype.hpp"
#include "embedkit/cuda/optimizer_kind.hpp"

namespace embedkit::cuda::detail {

// Raises CudaError("<what>: <runtime error string>") when `status` (a cudaError_t) is not 0.
void check_status(int status, const char* what);
// Checks the last launch (cudaGetLastError).
void check_launch(const char* what);

// What the validation kernels report (device memory, zeroed by reset_flags).
struct Flags {
  unsigned long long first_bad_id;      // smallest position of an id outside [0, rows); ~0: none
  unsigned long long first_bad_offset;  // smallest b whose offsets[b] fails a check; ~0: none
};
void reset_flags(Flags* flags);
Flags read_flags(const Flags* flags);  // synchronises
// Copies `bytes` from device to host (synchronises).
void copy_to_host(void* dst, const void* src, std::size_t bytes);

// flags->first_bad_id = first i with ids[i] outside [0, num_rows).
void check_ids(const void* ids, DType id_type, std::int64_t n, std::int64_t num_rows, Flags* flags);
// flags->first_bad_offset = first b with (b == 0 && off[0] != 0) || off[b] < off[b-1] ||
// off[b] > n (the order of nn::detail::prepare_bags' checks).
void check_offsets(const void* offsets, DType offset_type, std::int64_t count, std::int64_t n,
                   Flags* flags);
// bounds[0..num_bags] (int64) from offsets (count of them; n appended unless include_last).
void offsets_to_bounds(const void* offsets, DType offset_type, std::int64_t count,
                       bool include_last, std::int64_t n, std::int64_t* bounds);
// bounds[b] = b * length for 2-D ids.
void uniform_bounds(std::int64_t num_bags, std::int64_t length, std::int64_t* bounds);

// out[i] = weight[ids[i]] for rows of row_bytes bytes (any dtype).
void gather(const void* weight, std::size_t row_bytes, const void* ids, DType id_type,
            std::int64_t n, void* out, void* stream = nullptr);

// kernels::ref::bag_forward without arg_max; weight/psw/out of dtype wt (psw may be null).
void bag_forward(const void* weight, DType wt, std::int64_t dim, const void* ids, DType id_type,
                 const std::int64_t* bounds, std::int64_t num_bags, BagMode mode, const void* psw,
                 std::int64_t padding_idx, void* out);

// The ids grouped by row (device memory owned by the Grouping's workspace):
//   order[t]      positions of the non-padding ids, sorted by row, input order within a row
//   run_rows[g]   the distinct rows, ascending; run_starts[g] their first t (num_runs + 1)
//   num_runs      on the device (read_num_runs copies it to the host)
struct Grouping {
  std::int32_t* order = nullptr;
  std::int64_t* run_rows = nullptr;
  std::int64_t* run_starts = nullptr;
  std::int64_t* num_runs = nullptr;  // device pointer
  std::int64_t n = 0;
};
// Groups n ids (already validated) of a table with num_rows rows. The result lives in a
// per-thread workspace reused by the next call on this thread.
Grouping group_by_row(const void* ids, DType id_type, std::int64_t n, std::int64_t num_rows,
                      std::int64_t padding_idx);
std::int64_t read_num_runs(const Grouping& g);  // synchronises

// kernels::ref::renorm_rows over the grouping's distinct rows.
void renorm(void* weight, DType wt, std::int64_t dim, const Grouping& g, double max_norm,
            double norm_type);

// Per-position bag index and per-bag count of non-padding ids (for bag gradients).
struct BagIndex {
  std::int32_t* bag_of = nullptr;    // [n]
  std::int64_t* bag_size = nullptr;  // [num_bags]
  const std::int64_t* bounds = nullptr;
  const float* psw = nullptr;  // per-sample weights or null
  BagMode mode = BagMode::Sum;
};
// Fills bag_of and bag_size (device buffers of n and num_bags entries).
void index_bags(const void* ids, DType id_type, const std::int64_t* bounds, std::int64_t num_bags,
                std::int64_t padding_idx, std::int32_t* bag_of, std::int64_t* bag_size);

// How a row's gradient is scaled per term: see kernels::bag_grad_scale
// (kernels/bag_grad_scale.hpp).
struct GradSource {
  const float* grad = nullptr;     // [n, dim] (embedding) or [num_bags, dim] (bag)
  const BagIndex* bags = nullptr;  // null: embedding (term t's row of grad is its position)
  bool scale_grad_by_freq = false;
};

// values[g] = the summed gradient of run g; rows[g] = its row (both sized for n runs).
void segment_sum(const Grouping& g, const GradSource& src, std::int64_t dim, std::int64_t* rows,
                 float* values);

// The fused update of one step: which update, where the table and its state live, and the
// step's scalars, computed on the host as the CPU optimizer's begin_row_step computes them
// (detail::begin_update in src/cuda/embedding.cpp). Only the kind's own scalars are read.
struct SgdScalars {
  float neg_lr = 0;  // -lr
};
struct AdagradScalars {
  float neg_clr = 0;  // -(lr / (1 + (step - 1) * lr_decay))
  float eps = 0;
};
struct RowWiseAdagradScalars {
  float lr = 0;
  float eps = 0;
  float weight_decay = 0;
  bool decay = false;  // weight_decay != 0
  bool l2 = false;     // decay in the L2 mode (added to the gradient) rather than decoupled
};
struct SparseAdamScalars {
  float neg_step_size = 0;    // -lr * sqrt(1 - beta2^t) / (1 - beta1^t)
  float one_minus_beta1 = 0;  // 1 - beta1
  float one_minus_beta2 = 0;  // 1 - beta2
  float eps = 0;
};
struct UpdateArgs {
  OptimizerKind kind = OptimizerKind::SGD;
  float* weight = nullptr;
  float* state0 = nullptr;  // Adagrad, RowWiseAdagrad: sum; SparseAdam: exp_avg
  float* state1 = nullptr;  // SparseAdam: exp_avg_sq
  bool maximize = false;    // SGD, Adagrad, SparseAdam
  SgdScalars sgd;
  AdagradScalars adagrad;
  RowWiseAdagradScalars rowwise;
  SparseAdamScalars adam;
};
void fused_update(const Grouping& g, const GradSource& src, std::int64_t dim,
                  const UpdateArgs& args);

// Fills a float buffer with `value`.
void fill(float* data, std::int64_t n, float value);

// Copies rows from a host-mapped table into cache slots: for k < count,
// cache[slots[k]] = table[rows[k]] (rows of row_bytes bytes).
void fill_slots(const void* mapped_table, std::size_t row_bytes, const std::int64_t* rows,
                const std::int64_t* slots, std::int64_t count, void* cache, void* stream);
// out[i] = slot_of[i] >= 0 ? cache[slot_of[i]] : table[ids[i]] (int64 ids and slots).
void gather_cached(const void* mapped_table, const void* cache, std::size_t row_bytes,
                   const std::int64_t* ids, const std::int64_t* slot_of, std::int64_t n, void* out,
                   void* stream);

}  // namespace embedkit::cuda::detail
