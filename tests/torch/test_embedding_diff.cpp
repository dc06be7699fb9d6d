// Differential tests: nn::Embedding / functional::embedding against LibTorch (1.13, CPU).
//
// Each random case runs the same lookup through PyTorch, following the Python front end
// (embedding_renorm_ under no_grad when max_norm is set, then torch.embedding, then .backward())
// and through embedkit, and compares the output, the table after the forward and the gradient.
//
// Comparison policy:
//  - bitwise: the output without max_norm (a gather copies rows); the table without max_norm
//    (untouched on both sides); the float32 dense gradient without scale_grad_by_freq (both add
//    the rows of grad_output in input order in float32); sparse gradients' indices and values in
//    input order (values are copies of grad_output rows).
//  - exact: which rows max_norm renormalised (a decision; max_norm is kept 10% away from every
//    referenced row's norm, or equal to one with norm_type inf, where norms are exact).
//  - tolerance, |embedkit - torch| <= atol + rtol * max(|torch|, m), m being the same sum taken
//    over absolute values (the size of what was added, which bounds rounding differences):
//      float32 atol 1e-6 rtol 1e-5; float16 atol 1e-4 rtol 1e-2; bfloat16 atol 1e-3 rtol 3e-2.
//    Used for max_norm results (the norm is a reduction computed in another order; for 16-bit
//    tables torch renormalises a float32 copy, see torch_renorm()), scale_grad_by_freq gradients,
//    16-bit dense gradients (PyTorch rounds every addition to float16/bfloat16, embedkit sums in
//    float32 and rounds once) and coalesced sparse values (PyTorch's coalesce sums repeats in its
//    sort's order, not in input order, once a row repeats 3+ times among more than 16 entries).
#include <gtest/gtest.h>

#include <cmath>

#include "cases.hpp"
#include "diff_support.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/nn/embedding.hpp"
#include "torch_oracle.hpp"

namespace embedkit_diff {
namespace {

namespace nn = embedkit::nn;

struct Result {
  Tensor output;
  Tensor table_after;
  bool sparse = false;
  Tensor dense_grad;
  Tensor sparse_indices, sparse_values;        // input order
  Tensor coalesced_indices, coalesced_values;  // sorted, repeats summed
};

// PyTorch's F.embedding, step by step.
Result run_torch(const EmbeddingCase& c) {
  at::Tensor weight = to_torch(c.table).requires_grad_(true);
  at::Tensor ids = to_torch(c.ids_tensor());
  at::Tensor grad_output = to_torch(c.grad_output);
  // LibTorch 1.13's sparse backward with a padding_idx fails on 0-dim ids ("too many indices
  // for tensor of dimension 0"); the same id as a 1-element 1-D tensor is the same lookup.
  const bool reshape_scalar = ids.dim() == 0 && c.sparse && c.padding_idx.has_value();
  if (reshape_scalar) {
    ids = ids.reshape({1});
    grad_output = grad_output.reshape({1, c.dim});
  }
  if (c.max_norm) torch_renorm(weight, ids, *c.max_norm, c.norm_type);
  const at::Tensor out =
      at::embedding(weight, ids, c.padding_wrapped(), c.scale_grad_by_freq, c.sparse);
  out.backward(grad_output);

  Result r;
  r.output = from_torch(reshape_scalar ? out.reshape({c.dim}) : out);
  r.table_after = from_torch(weight);
  const at::Tensor grad = weight.grad();
  r.sparse = grad.is_sparse();
  if (r.sparse) {
    const TorchSparse raw = from_torch_sparse(grad);
    r.sparse_indices = raw.indices;
    r.sparse_values = raw.values;
    const TorchSparse coalesced = from_torch_sparse(grad.coalesce());
    r.coalesced_indices = coalesced.indices;
    r.coalesced_values = coalesced.values;
  } else {
    r.dense_grad = from_torch(grad);
  }
  return r;
}

Result run_embedkit(const EmbeddingCase& c) {
  Result r;
  Tensor table = c.table.clone();
  const Tensor ids = c.ids_tensor();
  nn::WeightGrad grad;
  if (c.use_module) {
    // The module adopts the given table without copying it, as PyTorch's _weight.
    nn::Embedding module(nn::EmbeddingOptions(c.num_rows, c.dim)
                             .weight(table)
                             .padding_idx(c.padding_idx)
                             .max_norm(c.max_norm)
                             .norm_type(c.norm_type)
                             .scale_grad_by_freq(c.scale_grad_by_freq)
                             .sparse(c.sparse));
    r.output = module.forward(ids);
    grad = module.backward(ids, c.grad_output);
  } else {
    r.output = nn::functional::embedding(ids, table, c.options());
    grad = nn::functional::embedding_backward(ids, c.grad_output, c.num_rows, c.options());
  }
  r.table_after = table;
  r.sparse = grad.is_sparse();
  if (r.sparse) {
    r.sparse_indices = grad.sparse().indices();
    r.sparse_values = grad.sparse().values();
    const embedkit::RowSparseTensor coalesced = grad.sparse().coalesce();
    r.coalesced_indices = coalesced.indices();
    r.coalesced_values = coalesced.values();
  } else {
    r.dense_grad = grad.dense();
  }
  return r;
}

// Per-element magnitude of the table gradient: the sum of |scaled grad_output rows| added there.
std::vector<double> grad_magnitude(const EmbeddingCase& c) {
  BagProblem p;  // one bag per id, mode sum: the lookup's gradient
  p.num_rows = c.num_rows;
  p.dim = c.dim;
  p.ids = c.ids;
  for (std::size_t i = 0; i <= c.ids.size(); ++i) p.bounds.push_back(static_cast<std::int64_t>(i));
  p.padding_idx = c.padding_wrapped();
  p.scale_grad_by_freq = c.scale_grad_by_freq;
  const std::vector<double> table(static_cast<std::size_t>(c.num_rows * c.dim), 0.0);
  return model_bag(p, table, to_doubles(c.grad_output)).grad_weight_magnitude;
}

void check_case(const EmbeddingCase& c) {
  SCOPED_TRACE(c.describe());
  Result t, e;
  try {
    t = run_torch(c);
  } catch (const std::exception& ex) {
    FAIL() << "torch threw: " << ex.what();
  }
  try {
    e = run_embedkit(c);
  } catch (const std::exception& ex) {
    FAIL() << "embedkit threw: " << ex.what();
  }
  const Tolerance tol = tolerance_for(c.weight_dtype);

  if (c.max_norm) {
    EXPECT_TRUE(all_close("output", e.output, t.output, tol));
    EXPECT_TRUE(all_close("table after forward (max_norm)", e.table_after, t.table_after, tol));
    // Which rows were renormalised is a decision, not a rounding, so it must agree.
    EXPECT_EQ(join(changed_rows(c.table, e.table_after)),
              join(changed_rows(c.table, t.table_after)))
        << "rows renormalised by embedkit (left) and torch (right)";
  } else {
    EXPECT_TRUE(bitwise_equal("output", e.output, t.output));
    EXPECT_TRUE(bitwise_equal("table after forward", e.table_after, c.table));
  }

  ASSERT_EQ(e.sparse, t.sparse) << "gradient layout (sparse vs dense)";
  if (e.sparse) {
    EXPECT_TRUE(same_integers("sparse grad indices", e.sparse_indices, t.sparse_indices));
    EXPECT_TRUE(bitwise_equal("sparse grad values", e.sparse_values, t.sparse_values));
    // PyTorch's coalesce sums repeats in the order its sort leaves them (not input order once a
    // row repeats 3+ times in more than 16 entries), so coalesced values are within tolerance.
    EXPECT_TRUE(same_integers("coalesced indices", e.coalesced_indices, t.coalesced_indices));
    EXPECT_TRUE(all_close("coalesced values", e.coalesced_values, t.coalesced_values, tol,
                          rows_of(grad_magnitude(c), e.coalesced_indices, c.dim)));
  } else if (c.weight_dtype == DType::Float32 && !c.scale_grad_by_freq) {
    EXPECT_TRUE(bitwise_equal("dense grad", e.dense_grad, t.dense_grad));
  } else {
    EXPECT_TRUE(all_close("dense grad", e.dense_grad, t.dense_grad, tol, grad_magnitude(c)));
  }
}

TEST(EmbeddingVsTorch, RandomCases) {
  use_one_torch_thread();
  for_each_case(kEmbeddingCases,
                [](int index) { check_case(EmbeddingCase::generate(base_seed(), index)); });
}

// Deliberate difference (catalogue §2, §3): with max_norm, PyTorch renormalises the referenced
// rows before it looks at the ids, so a bad id leaves some rows already rescaled (for id -1 it
// even rescales row N-1, as renorm wraps negatives). embedkit validates every id first and
// raises IndexError with the table untouched. Compared with the expected behaviour, not torch.
TEST(EmbeddingVsTorch, MaxNormWithBadIdRaisesFirstAndLeavesTableUnchanged) {
  use_one_torch_thread();
  Rng rng(case_seed(base_seed(), 100, 0));
  const std::int64_t rows = 6;
  const std::int64_t dim = 3;
  for (DType dtype : {DType::Float32, DType::Float16, DType::BFloat16}) {
    for (DType ids_dtype : {DType::Int64, DType::Int32}) {
      // Valid ids sorted before the bad one (torch renorms those first), and -1.
      for (const std::vector<std::int64_t>& ids :
           {std::vector<std::int64_t>{0, 2, rows, 1}, std::vector<std::int64_t>{1, -1}}) {
        SCOPED_TRACE(std::string("table ") + std::string(embedkit::dtype_name(dtype)) + " ids " +
                     std::string(embedkit::dtype_name(ids_dtype)) + " [" + join(ids) +
                     "] max_norm 0.25");
        const Tensor original = random_floats(rng, {rows, dim}, dtype);  // norms ~1.7 > 0.25
        const Tensor id_tensor =
            index_tensor(ids, {static_cast<std::int64_t>(ids.size())}, ids_dtype);
        const auto options = nn::EmbeddingFuncOptions().max_norm(0.25);

        Tensor table = original.clone();
        EXPECT_THROW(nn::functional::embedding(id_tensor, table, options), embedkit::IndexError);
        EXPECT_TRUE(bitwise_equal("embedkit table after the error", table, original));

        nn::Embedding module(
            nn::EmbeddingOptions(rows, dim).weight(original.clone()).max_norm(0.25));
        const Tensor before = module.weight().clone();
        EXPECT_THROW(module.forward(id_tensor), embedkit::IndexError);
        EXPECT_TRUE(bitwise_equal("module table after the error", module.weight(), before));

        // What LibTorch 1.13 does instead: it raises too, but only after renormalising.
        at::Tensor weight = to_torch(original);
        const at::Tensor torch_ids = to_torch(id_tensor);
        EXPECT_TRUE(torch_throws([&] {
          at::NoGradGuard no_grad;
          at::embedding_renorm_(weight, torch_ids, 0.25, 2.0);
          (void)at::embedding(weight, torch_ids, -1, false, false);
        }));
        if (kTorch113) {
          EXPECT_FALSE(bitwise_equal("torch table", from_torch(weight), original))
              << "LibTorch 1.13 was expected to have renormalised rows before raising";
        }
      }
    }
  }
}

}  // namespace
}  // namespace embedkit_diff
