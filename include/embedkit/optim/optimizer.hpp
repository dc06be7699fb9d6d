// The optimizer interface: torch.optim's update rules over explicit gradients.
//
// embedkit has no autograd, so a step takes the gradients explicitly: grads[i] belongs to
// params()[i]. A gradient is dense or row-sparse (nn::WeightGrad); an undefined one means "no
// gradient this step" and leaves that parameter and its state alone, as PyTorch skips a
// parameter whose .grad is None.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "embedkit/core/named_tensors.hpp"
#include "embedkit/core/row_sparse.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/weight_grad.hpp"

namespace embedkit::optim {

// One trainable float32 tensor, shared with its module and updated in place.
struct Parameter {
  std::string name;  // state_dict name, e.g. "embedding.weight"
  Tensor value;
  // A row that never moves under any optimizer, weight decay included (an Embedding's padding
  // row). PyTorch lets weight decay and momentum move it; embedkit does not.
  std::optional<std::int64_t> padding_idx;
};

// One step's update of a single row from that row's summed gradient (embedding_dim floats).
// The fused backward (optim/fused_backward.hpp) calls it for each touched row as soon as the
// row's gradient is complete, so the full gradient never exists. Rows do not repeat within a
// step; distinct rows may be updated from different threads at once. The padding row is a
// no-op.
using RowStep = std::function<void(std::int64_t row, const float* grad)>;

// A table of per-row optimizer state that a RowStep reads and writes: row r's state lies at
// base + r * row_bytes.
struct RowStateTable {
  const void* base = nullptr;
  std::int64_t row_bytes = 0;
};

class Optimizer {
 public:
  explicit Optimizer(std::vector<Parameter> params);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Validates every gradient (count, shapes, dtypes, sparse support) before updating anything.
  void step(const std::vector<nn::WeightGrad>& grads);

  const std::vector<Parameter>& params() const { return params_; }

  // State as named tensors "<param name>.<state>" (e.g. "embedding.weight.exp_avg",
  // "embedding.weight.step"); load_state_dict checks every name, shape and dtype first and
  // changes nothing on error.
  virtual NamedTensors state_dict() const = 0;
  virtual void load_state_dict(const NamedTensors& state) = 0;

  // Row-sparse support, and the name used in error messages.
  virtual bool supports_sparse() const = 0;
  virtual bool supports_dense() const { return true; }
  virtual std::string name() const = 0;

  // Begins one row-sparse step of params()[index] (counts the step, creates state) and returns
  // its per-row update. Applying it to the rows of a coalesced row-sparse gradient gives exactly
  // what step() gives for that gradient. ValueError where the update is not row-wise (momentum,
  // weight decay, dense-only optimizers): such a step moves rows the batch did not touch.
  virtual RowStep begin_row_step(std::size_t index);
  // The per-row state a RowStep of params()[index] touches besides the row itself (valid after
  // begin_row_step), so that the fused backward can prefetch a row's state with the row: on a
  // table far larger than the caches each is otherwise a miss the update waits for. Default:
  // none.
  virtual std::vector<RowStateTable> row_state_tables(std::size_t index) const;

 protected:
  // The ValueError text for a gradient of a kind this optimizer refuses (PyTorch's where it has
  // one); the default is "<name> does not support sparse|dense gradients".
  virtual std::string unsupported_grad_message(bool sparse) const;

  virtual void update_dense(std::size_t index, const Tensor& grad) = 0;
  // grad is passed as given (rows in production order, repeats allowed), because PyTorch applies
  // an uncoalesced gradient entry by entry where the update is linear (SGD); optimizers whose
  // update is not linear in the gradient coalesce it first, as PyTorch does.
  virtual void update_sparse(std::size_t index, const RowSparseTensor& grad) = 0;

  std::vector<Parameter> params_;
};

}  // namespace embedkit::optim
