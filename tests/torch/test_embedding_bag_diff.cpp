// Differential tests: nn::EmbeddingBag / functional::embedding_bag against LibTorch (1.13, CPU).
//
// Each random case runs PyTorch following F.embedding_bag (2-D ids become 1-D ids plus offsets =
// arange(0, numel, L); embedding_renorm_ under no_grad when max_norm is set; torch.embedding_bag;
// .backward()) and embedkit, and compares the output, the table after the forward, the table
// gradient (dense or sparse) and the per-sample-weight gradient.
//
// LibTorch 1.13 has no bfloat16 EmbeddingBag on CPU, so bfloat16 cases run torch in float32 on
// the same (exactly representable) values and compare within the bfloat16 tolerance.
//
// Comparison policy:
//  - bitwise: sum and max outputs without max_norm for float32/float16 tables (max selects; sum
//    adds rows in input order in float32, with per-sample weights as PyTorch does it: a fused
//    multiply-add on its fast path, i.e. without padding_idx, and a rounded product then an add
//    on its generic path, i.e. with padding_idx); the table without max_norm (untouched); sparse
//    gradients' indices (input order), their float32 values and their float16 values in sum mode
//    (a copy of grad_output[bag], or one product with the per-sample weight).
//  - exact: which rows max_norm renormalised (see test_embedding_diff.cpp).
//  - tolerance, |embedkit - torch| <= atol + rtol * max(|torch|, m), m being the same computation
//    over absolute values (bounds the rounding differences of another summation order or of
//    fused multiply-adds): float32 atol 1e-6 rtol 1e-5; float16 atol 1e-4 rtol 1e-2; bfloat16
//    atol 1e-3 rtol 3e-2. Used for mean outputs, anything after max_norm, dense gradients
//    (PyTorch sorts the ids and, for 16-bit tables, rounds every addition), per-sample-weight
//    gradients (dot products), float16 mean sparse values (PyTorch rounds 1/bag_size to float16
//    before multiplying), coalesced sparse values (PyTorch's coalesce sums in its sort's order)
//    and bfloat16 throughout.
//  - max mode after max_norm: renormalised rows tie or nearly tie, so a last-bit difference in
//    the table may move an arg-max; output and gradient are checked against the double model on
//    embedkit's own renormalised table (and torch's gradient against the model on torch's).
//
// Deliberate differences from LibTorch 1.13 are tested against the correct values in their own
// TESTs below: scale_grad_by_freq (1.13 divides by the wrong count), 2-D ids with
// include_last_offset (1.13 drops a bag), and max_norm with a bad id (1.13 renormalises first).
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "cases.hpp"
#include "diff_support.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "torch_oracle.hpp"

namespace embedkit_diff {
namespace {

namespace nn = embedkit::nn;
using nn::BagMode;

struct BagResult {
  Tensor output;
  Tensor table_after;
  bool sparse = false;
  Tensor dense_grad;
  Tensor sparse_indices, sparse_values;
  Tensor coalesced_indices, coalesced_values;
  Tensor psw_grad;  // ids' shape, or undefined
};

std::int64_t mode_code(BagMode mode) {
  return mode == BagMode::Sum ? 0 : (mode == BagMode::Mean ? 1 : 2);
}

// Torch computes bfloat16 bags in float32 (see the header).
at::ScalarType torch_compute_type(DType dtype) {
  return dtype == DType::BFloat16 ? at::kFloat : to_torch(dtype);
}

// The torch inputs of a case, laid out as F.embedding_bag hands them to torch.embedding_bag.
struct TorchInputs {
  at::Tensor weight;  // leaf, requires grad
  at::Tensor psw;     // leaf in the ids' shape, requires grad; or undefined
  at::Tensor ids;     // 1-D
  at::Tensor offsets;
  at::Tensor grad_output;
};

TorchInputs torch_inputs(const BagCase& c) {
  const at::ScalarType compute = torch_compute_type(c.weight_dtype);
  TorchInputs in;
  in.weight = to_torch(c.table).to(compute).requires_grad_(true);
  const at::Tensor ids = to_torch(c.ids_tensor());
  in.ids = ids.reshape({-1});
  in.offsets = c.two_dim ? at::arange(0, ids.numel(), c.length, ids.options())
                         : to_torch(c.offsets_tensor());
  if (c.with_psw) in.psw = to_torch(c.psw).to(compute).requires_grad_(true);
  in.grad_output = to_torch(c.grad_output).to(compute);
  return in;
}

// torch.embedding_bag's output for the case. `include_last_offset` is passed separately: for 2-D
// ids embedkit ignores it (2.x semantics), so torch gets false there.
at::Tensor torch_bag(const BagCase& c, const TorchInputs& in, bool include_last_offset) {
  c10::optional<at::Tensor> psw;
  if (in.psw.defined()) psw = in.psw.reshape({-1});
  return std::get<0>(at::embedding_bag(in.weight, in.ids, in.offsets, c.scale_grad_by_freq,
                                       mode_code(c.mode), c.sparse, psw, include_last_offset,
                                       to_c10(c.padding_idx)));
}

BagResult run_torch(const BagCase& c) {
  const TorchInputs in = torch_inputs(c);
  if (c.max_norm) torch_renorm(in.weight, in.ids, *c.max_norm, c.norm_type);
  const at::Tensor out = torch_bag(c, in, c.include_last_offset && !c.two_dim);
  out.backward(in.grad_output);

  BagResult r;
  r.output = from_torch(out);
  r.table_after = from_torch(in.weight);
  const at::Tensor grad = in.weight.grad();
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
  if (in.psw.defined()) r.psw_grad = from_torch(in.psw.grad());
  return r;
}

BagResult run_embedkit(const BagCase& c) {
  BagResult r;
  Tensor table = c.table.clone();
  const Tensor ids = c.ids_tensor();
  const Tensor offsets = c.offsets_tensor();
  nn::EmbeddingBagGrad grad;
  if (c.use_module) {
    nn::EmbeddingBag module(nn::EmbeddingBagOptions(c.num_rows, c.dim)
                                .weight(table)
                                .mode(c.mode)
                                .max_norm(c.max_norm)
                                .norm_type(c.norm_type)
                                .scale_grad_by_freq(c.scale_grad_by_freq)
                                .sparse(c.sparse)
                                .include_last_offset(c.include_last_offset)
                                .padding_idx(c.padding_idx));
    r.output = module.forward(ids, offsets, c.psw);
    grad = module.backward(ids, offsets, c.grad_output, c.psw);
  } else {
    r.output = nn::functional::embedding_bag(ids, table, offsets, c.options(), c.psw);
    grad = nn::functional::embedding_bag_backward(ids, table, offsets, c.grad_output, c.options(),
                                                  c.psw);
  }
  r.table_after = table;
  r.sparse = grad.weight.is_sparse();
  if (r.sparse) {
    r.sparse_indices = grad.weight.sparse().indices();
    r.sparse_values = grad.weight.sparse().values();
    const embedkit::RowSparseTensor coalesced = grad.weight.sparse().coalesce();
    r.coalesced_indices = coalesced.indices();
    r.coalesced_values = coalesced.values();
  } else {
    r.dense_grad = grad.weight.dense();
  }
  r.psw_grad = grad.per_sample_weights;
  return r;
}

// Runs both sides; an exception from either is a failure of the case, not of the whole test.
::testing::AssertionResult run_both(const BagCase& c, BagResult* e, BagResult* t) {
  try {
    *t = run_torch(c);
  } catch (const std::exception& ex) {
    return ::testing::AssertionFailure() << "torch threw: " << ex.what();
  }
  try {
    *e = run_embedkit(c);
  } catch (const std::exception& ex) {
    return ::testing::AssertionFailure() << "embedkit threw: " << ex.what();
  }
  return ::testing::AssertionSuccess();
}

// Per-id magnitudes of the sparse values: |grad_output[bag]| * |scale| for each kept id.
std::vector<double> sparse_value_magnitude(const BagCase& c) {
  const BagProblem p = c.problem();
  const std::vector<double> g = to_doubles(c.grad_output);
  std::vector<double> out;
  for (std::int64_t b = 0; b < p.num_bags(); ++b) {
    std::int64_t size = 0;
    for (std::int64_t i = p.bounds[b]; i < p.bounds[b + 1]; ++i) size += p.ids[i] != p.padding_idx;
    for (std::int64_t i = p.bounds[b]; i < p.bounds[b + 1]; ++i) {
      if (p.ids[i] == p.padding_idx) continue;
      double scale = c.with_psw ? std::fabs(p.per_sample_weights[i]) : 1.0;
      if (c.mode == BagMode::Mean) scale /= static_cast<double>(size);
      for (std::int64_t j = 0; j < c.dim; ++j) out.push_back(scale * std::fabs(g[b * c.dim + j]));
    }
  }
  return out;
}

// float32 and float16 bags run natively in torch 1.13; bfloat16 ones run in float32.
bool native_in_torch(DType dtype) {
  return dtype == DType::Float32 || dtype == DType::Float16;
}

// Compares everything but the table gradient of scale_grad_by_freq cases (see its own TEST).
void compare_with_torch(const BagCase& c, const BagResult& e, const BagResult& t) {
  const Tolerance tol = tolerance_for(c.weight_dtype);
  const BagModel model =
      model_bag(c.problem(), to_doubles(t.table_after), to_doubles(c.grad_output));
  // max mode after max_norm: renormalised rows often tie or nearly tie (every row above max_norm
  // shrinks to about max_norm), and a last-bit difference in the renormalised table (within
  // tolerance, checked below) can then move a bag's arg-max to another row. The output and the
  // gradient are then checked against the model evaluated on embedkit's own table instead.
  const bool argmax_after_renorm = c.mode == BagMode::Max && c.max_norm.has_value();
  const BagModel own = argmax_after_renorm ? model_bag(c.problem(), to_doubles(e.table_after),
                                                       to_doubles(c.grad_output))
                                           : BagModel();

  if (argmax_after_renorm) {
    EXPECT_TRUE(all_close("output (max mode after max_norm) vs model on embedkit's table", e.output,
                          own.output, tol, own.output_magnitude));
  } else if (!c.max_norm && c.mode != BagMode::Mean && native_in_torch(c.weight_dtype)) {
    EXPECT_TRUE(bitwise_equal("output", e.output, t.output));
  } else {
    EXPECT_TRUE(all_close("output", e.output, t.output, tol, model.output_magnitude));
  }
  if (c.max_norm) {
    EXPECT_TRUE(all_close("table after forward (max_norm)", e.table_after, t.table_after, tol));
    // Which rows were renormalised is a decision, not a rounding, so it must agree.
    EXPECT_EQ(join(changed_rows(c.table, e.table_after)),
              join(changed_rows(c.table, t.table_after)))
        << "rows renormalised by embedkit (left) and torch (right)";
  } else {
    EXPECT_TRUE(bitwise_equal("table after forward", e.table_after, c.table));
  }

  ASSERT_EQ(e.sparse, t.sparse) << "gradient layout (sparse vs dense)";
  if (e.sparse) {
    EXPECT_TRUE(same_integers("sparse grad indices", e.sparse_indices, t.sparse_indices));
    const bool values_bitwise = c.weight_dtype == DType::Float32 ||
                                (c.weight_dtype == DType::Float16 && c.mode == BagMode::Sum);
    if (values_bitwise) {
      EXPECT_TRUE(bitwise_equal("sparse grad values", e.sparse_values, t.sparse_values));
    } else {
      EXPECT_TRUE(all_close("sparse grad values", e.sparse_values, t.sparse_values, tol,
                            sparse_value_magnitude(c)));
    }
    // PyTorch's coalesce sums repeats in the order its sort leaves them (not input order once a
    // row repeats 3+ times in more than 16 entries), so coalesced values are within tolerance.
    EXPECT_TRUE(same_integers("coalesced indices", e.coalesced_indices, t.coalesced_indices));
    EXPECT_TRUE(all_close("coalesced values", e.coalesced_values, t.coalesced_values, tol,
                          rows_of(model.grad_weight_magnitude, e.coalesced_indices, c.dim)));
  } else if (argmax_after_renorm) {
    EXPECT_TRUE(all_close("dense grad (max mode after max_norm) vs model on embedkit's table",
                          e.dense_grad, own.grad_weight, tol, own.grad_weight_magnitude));
    // The model's max semantics, checked on torch's side.
    EXPECT_TRUE(all_close("torch's dense grad vs model on torch's table", t.dense_grad,
                          model.grad_weight, tol, model.grad_weight_magnitude));
  } else if (!c.scale_grad_by_freq) {
    EXPECT_TRUE(
        all_close("dense grad", e.dense_grad, t.dense_grad, tol, model.grad_weight_magnitude));
  }

  ASSERT_EQ(e.psw_grad.defined(), t.psw_grad.defined()) << "per-sample-weight gradient presence";
  if (e.psw_grad.defined()) {
    EXPECT_TRUE(all_close("per_sample_weights grad", e.psw_grad, t.psw_grad, tol,
                          model.grad_psw_magnitude));
  }
}

TEST(EmbeddingBagVsTorch, RandomCases) {
  use_one_torch_thread();
  for_each_case(kBagCases, [](int index) {
    const BagCase c = BagCase::generate(base_seed(), index, BagFlavor::kGeneral);
    SCOPED_TRACE(c.describe());
    BagResult e, t;
    ASSERT_TRUE(run_both(c, &e, &t));
    compare_with_torch(c, e, t);
  });
}

// ---------------------------------------------------------------------------------------------
// scale_grad_by_freq. LibTorch 1.13's CPU embedding_bag backward divides each id's gradient by
// the count of a different row (catalogue §5.4, pytorch#190063). embedkit divides by the row's
// own count over the whole input, as nn.Embedding does. The table gradient is therefore checked
// against (a) the same bag built in torch from nn.Embedding (whose scale_grad_by_freq is right)
// plus an index_add reduction, and (b) the double-precision model; never against
// torch.embedding_bag's gradient. Output and per-sample-weight gradient are unaffected by the
// bug and are still compared with torch.embedding_bag.

// The bag rebuilt from torch.embedding: rows = embedding(W, ids, padding, scale_grad_by_freq),
// out[b] = sum over bag b of coef_i * rows_i with coef_i = psw_i / |bag| (mean) and 0 at padding.
struct TorchEquivalent {
  Tensor output;
  Tensor grad_weight;
};

TorchEquivalent torch_embedding_equivalent(const BagCase& c, const Tensor& table) {
  const BagProblem p = c.problem();
  std::vector<float> coef(p.ids.size(), 0.0f);
  std::vector<std::int64_t> bag_of(p.ids.size(), 0);
  for (std::int64_t b = 0; b < p.num_bags(); ++b) {
    std::int64_t size = 0;
    for (std::int64_t i = p.bounds[b]; i < p.bounds[b + 1]; ++i) size += p.ids[i] != p.padding_idx;
    for (std::int64_t i = p.bounds[b]; i < p.bounds[b + 1]; ++i) {
      bag_of[i] = b;
      if (p.ids[i] == p.padding_idx) continue;
      coef[i] = c.mode == BagMode::Mean ? 1.0f / static_cast<float>(size) : 1.0f;
    }
  }
  const auto n = static_cast<std::int64_t>(p.ids.size());
  at::Tensor weight = to_torch(table).to(at::kFloat).requires_grad_(true);
  at::Tensor factors = at::from_blob(coef.data(), {n}, at::kFloat).clone();
  if (c.with_psw) factors = factors * to_torch(c.psw).to(at::kFloat).reshape({-1});
  const at::Tensor ids = to_torch(c.ids_tensor()).reshape({-1});
  const at::Tensor rows = at::embedding(weight, ids, c.padding_wrapped(), true, false);
  const at::Tensor bags = at::from_blob(bag_of.data(), {n}, at::kLong).clone();
  const at::Tensor out =
      at::zeros({c.num_bags(), c.dim}, at::kFloat).index_add(0, bags, rows * factors.unsqueeze(1));
  out.backward(to_torch(c.grad_output).to(at::kFloat));
  return {from_torch(out), from_torch(weight.grad())};
}

TEST(EmbeddingBagVsTorch, ScaleGradByFreqUsesEachRowsOwnCountNotTorch113Bug) {
  use_one_torch_thread();
  for_each_case(kBagScaleGradCases, [](int index) {
    const BagCase c = BagCase::generate(base_seed(), index, BagFlavor::kScaleGradByFreq);
    SCOPED_TRACE(c.describe());
    BagResult e, t;
    ASSERT_TRUE(run_both(c, &e, &t));
    compare_with_torch(c, e, t);  // everything but the table gradient

    const Tolerance tol = tolerance_for(c.weight_dtype);
    const BagModel model =
        model_bag(c.problem(), to_doubles(t.table_after), to_doubles(c.grad_output));
    const TorchEquivalent equivalent = torch_embedding_equivalent(c, t.table_after);
    // The rebuilt bag must be the bag, or the gradient check below would prove nothing.
    EXPECT_TRUE(all_close("torch equivalent's output vs torch.embedding_bag", equivalent.output,
                          from_torch(to_torch(t.output).to(at::kFloat)),
                          tolerance_for(c.weight_dtype), model.output_magnitude));
    EXPECT_TRUE(all_close("dense grad vs torch nn.Embedding equivalent", e.dense_grad,
                          equivalent.grad_weight, tol, model.grad_weight_magnitude));
    EXPECT_TRUE(all_close("dense grad vs double model", e.dense_grad, model.grad_weight, tol,
                          model.grad_weight_magnitude));
  });
}

// The catalogue's example (§5.4): ids [1, 1, 3] in one bag, sum. Correct gradient: row 1 gets
// 2 * g / 2 = g, row 3 gets g / 1 = g. LibTorch 1.13 gives row 3 g / 2.
TEST(EmbeddingBagVsTorch, ScaleGradByFreqKnownExample) {
  use_one_torch_thread();
  const Tensor table = Tensor::from_floats({0, 0, 1, 1, 2, 2, 3, 3}, {4, 2});
  const Tensor ids = Tensor::from_vector(std::vector<std::int64_t>{1, 1, 3});
  const Tensor offsets = Tensor::from_vector(std::vector<std::int64_t>{0});
  const Tensor grad_output = Tensor::from_floats({1.0f, -2.0f}, {1, 2});
  const auto options = nn::EmbeddingBagFuncOptions().mode(BagMode::Sum).scale_grad_by_freq(true);
  const nn::EmbeddingBagGrad grad =
      nn::functional::embedding_bag_backward(ids, table, offsets, grad_output, options);
  const Tensor expected = Tensor::from_floats({0, 0, 1, -2, 0, 0, 1, -2}, {4, 2});
  EXPECT_TRUE(bitwise_equal("embedkit grad", grad.weight.dense(), expected));

  at::Tensor weight = to_torch(table).requires_grad_(true);
  std::get<0>(at::embedding_bag(weight, to_torch(ids), to_torch(offsets), true, 0, false,
                                c10::nullopt, false, c10::nullopt))
      .backward(to_torch(grad_output));
  if (kTorch113) {
    EXPECT_FALSE(bitwise_equal("torch 1.13 grad", from_torch(weight.grad()), expected))
        << "LibTorch 1.13 was expected to show pytorch#190063 here";
  }
}

// ---------------------------------------------------------------------------------------------
// 2-D ids with include_last_offset. LibTorch 1.13 builds offsets = arange(0, numel, L) and then
// treats the last one as the end of the previous bag, dropping the last bag (pytorch#167974).
// embedkit treats 2-D ids as B bags whatever include_last_offset says (PyTorch 2.x's fix), so
// these cases are compared with torch run without include_last_offset.
TEST(EmbeddingBagVsTorch, TwoDimIdsIgnoreIncludeLastOffsetUnlikeTorch113) {
  use_one_torch_thread();
  for_each_case(kBag2DLastOffsetCases, [](int index) {
    const BagCase c = BagCase::generate(base_seed(), index, BagFlavor::kTwoDimLastOffset);
    SCOPED_TRACE(c.describe());
    ASSERT_TRUE(c.two_dim && c.include_last_offset);
    BagResult e, t;
    ASSERT_TRUE(run_both(c, &e, &t));
    EXPECT_EQ(e.output.size(0), c.batch);
    compare_with_torch(c, e, t);

    // Shown only where 1.13 is safe: the dropped bag is the "offsets[-1] < numel" case, which
    // corrupts the heap outside the float32 sum fast path (catalogue §5.6).
    if (kTorch113 && c.batch > 0 && c.weight_dtype == DType::Float32 && c.mode == BagMode::Sum &&
        !c.padding_idx) {
      const TorchInputs in = torch_inputs(c);
      EXPECT_EQ(torch_bag(c, in, /*include_last_offset=*/true).size(0), c.batch - 1)
          << "LibTorch 1.13 was expected to drop the last bag";
    }
  });
}

// ---------------------------------------------------------------------------------------------
// max_norm with a bad id: PyTorch renormalises every referenced row (wrapping -1 to N-1) and
// only then fails on the id; embedkit validates first and leaves the table untouched.
TEST(EmbeddingBagVsTorch, MaxNormWithBadIdRaisesFirstAndLeavesTableUnchanged) {
  use_one_torch_thread();
  Rng rng(case_seed(base_seed(), 101, 0));
  const std::int64_t rows = 6;
  const std::int64_t dim = 4;
  for (BagMode mode : {BagMode::Sum, BagMode::Mean, BagMode::Max}) {
    for (DType dtype : {DType::Float32, DType::Float16, DType::BFloat16}) {
      for (const std::vector<std::int64_t>& ids :
           {std::vector<std::int64_t>{0, 2, rows, 1}, std::vector<std::int64_t>{1, -1, 3, 3}}) {
        SCOPED_TRACE("mode " + nn::bag_mode_name(mode) + " table " +
                     std::string(embedkit::dtype_name(dtype)) + " ids [" + join(ids) +
                     "] offsets [0, 2] max_norm 0.25");
        const Tensor original = random_floats(rng, {rows, dim}, dtype);  // norms ~2 > 0.25
        const Tensor id_tensor = Tensor::from_vector(ids);
        const Tensor offsets = Tensor::from_vector(std::vector<std::int64_t>{0, 2});
        const auto options = nn::EmbeddingBagFuncOptions().mode(mode).max_norm(0.25);

        Tensor table = original.clone();
        EXPECT_THROW(nn::functional::embedding_bag(id_tensor, table, offsets, options),
                     embedkit::IndexError);
        EXPECT_TRUE(bitwise_equal("embedkit table after the error", table, original));

        if (dtype == DType::BFloat16) continue;  // no bfloat16 embedding_bag in torch 1.13
        at::Tensor weight = to_torch(original);
        const at::Tensor torch_ids = to_torch(id_tensor);
        EXPECT_TRUE(torch_throws([&] {
          at::NoGradGuard no_grad;
          at::embedding_renorm_(weight, torch_ids, 0.25, 2.0);
          (void)at::embedding_bag(weight, torch_ids, to_torch(offsets), false, mode_code(mode));
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
