// Embedding and EmbeddingBag on a CUDA device: lookups, bags, the row-grouped (coalesced)
// gradient, max_norm, and the backward fused with a row-wise optimizer step.
//
// Semantics, option checks and error messages are those of nn::functional::embedding /
// embedding_bag and optim::fused_backward_step; the arithmetic is that of the reference kernels
// (src/kernels/ref) and of src/optim, operation for operation (docs/gpu.md lists where the
// device may differ). Ids are validated on the device before anything is written: a bad id
// raises IndexError naming its position, and the table, the optimizer state and `out` are left
// as they were. Only UnknownIds::error() is supported (other policies: ValueError).
//
// Tables may be float32, float16 or bfloat16 for lookups and bags (float32 accumulation);
// gradients and updates need float32, as on the CPU. Ids are int32 or int64, on the device.
#pragma once

#include <cstdint>

#include "embedkit/cuda/device.hpp"
#include "embedkit/cuda/optimizer_kind.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/optim/adagrad.hpp"
#include "embedkit/optim/rowwise_adagrad.hpp"
#include "embedkit/optim/sgd.hpp"
#include "embedkit/optim/sparse_adam.hpp"

namespace embedkit::cuda {

// out = weight[ids] (shape ids.shape + [D]). With max_norm the referenced rows are renormalised
// in place first, as on the CPU.
DeviceTensor embedding(const DeviceTensor& ids, DeviceTensor& weight,
                       const nn::EmbeddingFuncOptions& options = {});
// The same into a caller's tensor (shape ids.shape + [D], the table's dtype).
void embedding_into(const DeviceTensor& ids, DeviceTensor& weight, DeviceTensor& out,
                    const nn::EmbeddingFuncOptions& options = {});

// EmbeddingBag forward: 2-D ids (one bag per row, no offsets) or 1-D ids with 1-D offsets
// (int32/int64, on the device), include_last_offset, padding_idx, per_sample_weights (sum mode).
// The arguments come in nn::functional::embedding_bag's order (ids, weight, offsets).
DeviceTensor embedding_bag(const DeviceTensor& ids, DeviceTensor& weight,
                           const DeviceTensor& offsets,
                           const nn::EmbeddingBagFuncOptions& options = {},
                           const DeviceTensor& per_sample_weights = DeviceTensor());
void embedding_bag_into(const DeviceTensor& ids, DeviceTensor& weight, const DeviceTensor& offsets,
                        DeviceTensor& out, const nn::EmbeddingBagFuncOptions& options = {},
                        const DeviceTensor& per_sample_weights = DeviceTensor());

// The table's gradient grouped by row: `rows` (int64, ascending, distinct, padding left out) and
// `values` (float32 [rows, D]): each row's terms summed in input order, as the dense backward
// sums them. Scattering values into zeros gives embedding_backward's dense gradient bit for bit.
struct DeviceRowGrad {
  DeviceTensor rows;
  DeviceTensor values;
};
DeviceRowGrad embedding_backward_rows(const DeviceTensor& ids, const DeviceTensor& grad_output,
                                      std::int64_t num_embeddings,
                                      const nn::EmbeddingFuncOptions& options = {});
// Sum and mean modes (max's gradient is per column): ValueError for max.
DeviceRowGrad embedding_bag_backward_rows(const DeviceTensor& ids, const DeviceTensor& offsets,
                                          const DeviceTensor& grad_output,
                                          std::int64_t num_embeddings,
                                          const nn::EmbeddingBagFuncOptions& options = {},
                                          const DeviceTensor& per_sample_weights = DeviceTensor());

class DeviceOptimizer;

namespace detail {
struct UpdateArgs;  // the fused kernels' arguments: src/cuda/launch.hpp
// Counts the optimizer's next step and gives the kernels that step's update of `weight`.
UpdateArgs begin_update(DeviceOptimizer& optimizer, DeviceTensor& weight);
}  // namespace detail

// A row-wise optimizer whose state lives on the device, for the fused backward + step. Built
// from the CPU optimizer's options and checked the same way; the update of a row is the one
// optim::<Optimizer>::begin_row_step applies. Supported: SGD (no momentum, no weight decay),
// Adagrad (no weight decay), RowWiseAdagrad, SparseAdam.
class DeviceOptimizer {
 public:
  using Kind = OptimizerKind;

  static DeviceOptimizer sgd(const optim::SGDOptions& options, std::int64_t num_rows,
                             std::int64_t dim);
  static DeviceOptimizer adagrad(const optim::AdagradOptions& options, std::int64_t num_rows,
                                 std::int64_t dim);
  static DeviceOptimizer rowwise_adagrad(const optim::RowWiseAdagradOptions& options,
                                         std::int64_t num_rows, std::int64_t dim);
  static DeviceOptimizer sparse_adam(const optim::SparseAdamOptions& options, std::int64_t num_rows,
                                     std::int64_t dim);

  Kind kind() const { return kind_; }
  std::int64_t num_rows() const { return num_rows_; }
  std::int64_t dim() const { return dim_; }
  // Steps taken so far.
  std::int64_t steps() const { return steps_; }
  // The state, for checkpoints and tests: Adagrad "sum" [N, D]; RowWiseAdagrad "sum" [N];
  // SparseAdam "exp_avg", "exp_avg_sq" [N, D] (undefined before the first step).
  const DeviceTensor& state(int index) const { return index == 0 ? state0_ : state1_; }

 private:
  // fused_backward_step's way to count a step and read its scalars (src/cuda/embedding.cpp).
  friend detail::UpdateArgs detail::begin_update(DeviceOptimizer& optimizer, DeviceTensor& weight);

  DeviceOptimizer() = default;

  Kind kind_ = Kind::SGD;
  std::int64_t num_rows_ = 0;
  std::int64_t dim_ = 0;
  std::int64_t steps_ = 0;
  float adagrad_step_ = 0.0f;  // Adagrad counts its steps in float32, as torch.optim does
  optim::SGDOptions sgd_{0.0};
  optim::AdagradOptions adagrad_{0.0};
  optim::RowWiseAdagradOptions rowwise_{0.0};
  optim::SparseAdamOptions adam_{1e-3};
  DeviceTensor state0_;
  DeviceTensor state1_;
};

// The backward of embedding() fused with the optimizer's step: ids grouped by row on the device
// (a stable radix sort of (id, position)), each touched row's gradient summed in input order and
// handed to the update; no float atomics, so the result is deterministic and equals
// optim::fused_backward_step with the same optimizer on the CPU. `weight` must be float32
// [optimizer.num_rows(), optimizer.dim()]. Everything is validated before the step counts.
void fused_backward_step(DeviceTensor& weight, const DeviceTensor& ids,
                         const DeviceTensor& grad_output, DeviceOptimizer& optimizer,
                         const nn::EmbeddingFuncOptions& options = {});
// The same for embedding_bag() (sum and mean modes).
void fused_backward_step(DeviceTensor& weight, const DeviceTensor& ids, const DeviceTensor& offsets,
                         const DeviceTensor& grad_output, DeviceOptimizer& optimizer,
                         const nn::EmbeddingBagFuncOptions& options,
                         const DeviceTensor& per_sample_weights = DeviceTensor());

}  // namespace embedkit::cuda
