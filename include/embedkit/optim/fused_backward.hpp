// The backward of an embedding lookup fused with the optimizer step.
//
// A plain training step computes the table's gradient (dense: num_embeddings x dim; sparse:
// one row per id), then the optimizer walks it. Fused, the ids are grouped by row, each touched
// row's gradient is summed (in input order, as backward() sums it) and immediately handed to
// the optimizer's row update. The gradient never exists as a whole: the extra memory is the
// grouping of the ids plus one row per thread.
//
//   optim::SparseAdam opt(optim::make_parameters(emb), ...);  // "weight", with the padding row
//   Tensor out = emb.forward(ids);
//   ...
//   optim::fused_backward_step(emb, ids, grad_out, opt);  // == backward + coalesce + step
//
// The result equals backward(ids, grad_out) (its row sums), coalesced, then step(), bit for bit,
// for every optimizer with a row-wise update: SGD (no momentum, no weight decay), Adagrad (no
// weight decay), RowWiseAdagrad, SparseAdam and LazyAdam. Others raise ValueError, as do
// EmbeddingBag's max mode (its gradient is per column, not per row) and frozen tables.
// Everything is validated before the optimizer counts the step or any row changes.
//
// Memory: the grouping (32 bytes per id) lives in buffers of the calling thread that are kept
// for its next call, sized by the largest batch it has stepped (fresh buffers were page-faulted
// in on every call: on 1024 rows at D = 16 that cost two thirds of the step's time).
#pragma once

#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/optim/optimizer.hpp"

namespace embedkit::optim {

// How the fused step turns a batch's id occurrences into row updates.
//  Exact (the default): each touched row's gradient is summed first (in input order), then the
//    optimizer updates the row once; bit for bit backward + coalesce + step, at any thread
//    count. FBGEMM's EXACT_* optimizers.
//  InputOrder: each occurrence's update is applied straight into the table, in input order:
//    row = fma(-lr * scale, grad_output row, row), with no grouping, sorting or summing
//    (FBGEMM's non-exact SGD, kernel "approx_sgd"; word2vec's update). Only for an update
//    linear in the gradient, i.e. optim::SGD without momentum and weight decay (ValueError
//    otherwise, and for scale_grad_by_freq, which needs every row's count first). A row's
//    occurrences are always applied by one thread in input order (threads own rows), so the
//    result does not depend on the thread count; it differs from Exact only by float32
//    rounding: per element, |input_order - exact| <= 2 * (k + 1) * 2^-24 *
//    (|w| + lr * sum over the row's k occurrences of |scale * g|) (tests/optim checks it).
enum class FusedSummation { Exact, InputOrder };

// The optimizer parameter updated is the one that is the module's table (shares its storage,
// same first element and shape), wherever it is among the optimizer's parameters; ValueError,
// before anything changes, when the optimizer has none.
void fused_backward_step(nn::Embedding& embedding, const Tensor& ids, const Tensor& grad_output,
                         Optimizer& optimizer, FusedSummation summation = FusedSummation::Exact);

// Per-sample weights scale each id's contribution, as in backward(); their own gradient is not
// computed here (use nn::functional::embedding_bag_backward for it).
void fused_backward_step(nn::EmbeddingBag& bag, const Tensor& ids, const Tensor& offsets,
                         const Tensor& grad_output, Optimizer& optimizer,
                         const Tensor& per_sample_weights = Tensor(),
                         FusedSummation summation = FusedSummation::Exact);

}  // namespace embedkit::optim
