// Error parity with LibTorch: for each invalid input, PyTorch raises (any exception; its C++
// errors are c10::Error) and embedkit raises its typed error (IndexError, ValueError or
// TypeError) from the functional forward, the functional backward and the module, leaving the
// table bitwise unchanged, also when max_norm is set (so an early renormalisation would show).
//
// Torch is driven through its C++ front end (torch::nn::functional::embedding / embedding_bag),
// because several checks (2-D ids with offsets, 1-D ids without offsets, per-sample-weight shape
// and mode) exist only in the front ends, not in the aten ops.
//
// No values are compared here, so there is no tolerance.
#include <gtest/gtest.h>
#include <torch/nn/functional/embedding.h>

#include <functional>
#include <string>
#include <typeinfo>

#include "diff_support.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "torch_oracle.hpp"

namespace embedkit_diff {
namespace {

namespace nn = embedkit::nn;
namespace F = torch::nn::functional;
using nn::BagMode;

enum class Expect { kIndexError, kValueError, kTypeError };

std::string expect_name(Expect e) {
  switch (e) {
    case Expect::kIndexError:
      return "embedkit::IndexError";
    case Expect::kValueError:
      return "embedkit::ValueError";
    case Expect::kTypeError:
      return "embedkit::TypeError";
  }
  return "?";
}

// Passes when f throws exactly the expected embedkit error type.
::testing::AssertionResult throws_expected(Expect expected, const std::string& what,
                                           const std::function<void()>& f) {
  const auto wrong = [&](const std::string& got) {
    return ::testing::AssertionFailure()
           << what << ": expected " << expect_name(expected) << ", got " << got;
  };
  try {
    f();
  } catch (const embedkit::IndexError& e) {
    if (expected == Expect::kIndexError) return ::testing::AssertionSuccess();
    return wrong(std::string("IndexError: ") + e.what());
  } catch (const embedkit::ValueError& e) {
    if (expected == Expect::kValueError) return ::testing::AssertionSuccess();
    return wrong(std::string("ValueError: ") + e.what());
  } catch (const embedkit::TypeError& e) {
    if (expected == Expect::kTypeError) return ::testing::AssertionSuccess();
    return wrong(std::string("TypeError: ") + e.what());
  } catch (const std::exception& e) {
    return wrong(std::string("another exception (") + typeid(e).name() + "): " + e.what());
  }
  return wrong("no exception");
}

constexpr std::int64_t kRows = 8;
constexpr std::int64_t kDim = 3;

// A table whose rows all have a norm above the max_norm used below.
Tensor error_table() {
  std::vector<float> values;
  for (std::int64_t i = 0; i < kRows * kDim; ++i) {
    values.push_back(1.0f + 0.25f * static_cast<float>(i % 5));
  }
  return Tensor::from_floats(values, {kRows, kDim});
}

constexpr double kTinyMaxNorm = 1e-3;

// ---------------------------------------------------------------------------------------------
// Embedding

struct EmbeddingErrorCase {
  std::string name;
  Tensor ids;
  std::optional<std::int64_t> padding_idx;
  bool sparse = false;
  bool scale_grad_by_freq = false;
  Expect expected = Expect::kIndexError;
};

void check_embedding_error(const EmbeddingErrorCase& c) {
  SCOPED_TRACE("Embedding error case '" + c.name + "': ids " +
               std::string(embedkit::dtype_name(c.ids.dtype())) +
               embedkit::shape_string(c.ids.shape()) + " [" + join(to_doubles(c.ids)) +
               "] padding_idx=" + optional_string(c.padding_idx) +
               " sparse=" + (c.sparse ? "true" : "false") +
               " scale_grad_by_freq=" + (c.scale_grad_by_freq ? "true" : "false"));
  const Tensor original = error_table();

  // PyTorch: forward and backward (sparse + scale_grad_by_freq only fails at backward).
  std::string torch_message;
  EXPECT_TRUE(torch_throws(
      [&] {
        at::Tensor weight = to_torch(original).requires_grad_(true);
        auto options = F::EmbeddingFuncOptions()
                           .padding_idx(to_c10(c.padding_idx))
                           .scale_grad_by_freq(c.scale_grad_by_freq)
                           .sparse(c.sparse);
        const at::Tensor out = F::embedding(to_torch(c.ids), weight, options);
        out.backward(at::ones_like(out));
      },
      &torch_message))
      << "torch accepted it";

  for (const bool with_max_norm : {false, true}) {
    SCOPED_TRACE(with_max_norm ? "embedkit with max_norm 1e-3" : "embedkit without max_norm");
    auto options = nn::EmbeddingFuncOptions()
                       .padding_idx(c.padding_idx)
                       .scale_grad_by_freq(c.scale_grad_by_freq)
                       .sparse(c.sparse);
    if (with_max_norm) options.max_norm(kTinyMaxNorm);

    Tensor table = original.clone();
    EXPECT_TRUE(throws_expected(c.expected, "functional::embedding",
                                [&] { nn::functional::embedding(c.ids, table, options); }));
    EXPECT_TRUE(bitwise_equal("table after functional::embedding", table, original));

    Shape grad_shape = c.ids.shape();
    grad_shape.push_back(kDim);
    const Tensor grad_output = Tensor::zeros(grad_shape);
    EXPECT_TRUE(throws_expected(c.expected, "functional::embedding_backward", [&] {
      nn::functional::embedding_backward(c.ids, grad_output, kRows, options);
    }));

    Tensor module_table = original.clone();
    EXPECT_TRUE(throws_expected(c.expected, "nn::Embedding", [&] {
      nn::Embedding module(nn::EmbeddingOptions(kRows, kDim)
                               .weight(module_table)
                               .padding_idx(c.padding_idx)
                               .max_norm(options.max_norm())
                               .scale_grad_by_freq(c.scale_grad_by_freq)
                               .sparse(c.sparse));
      module.forward(c.ids);
    }));
    EXPECT_TRUE(bitwise_equal("table after nn::Embedding", module_table, original));
  }
}

EmbeddingErrorCase embedding_case(std::string name, Tensor ids, Expect expected) {
  EmbeddingErrorCase c;
  c.name = std::move(name);
  c.ids = std::move(ids);
  c.expected = expected;
  return c;
}

TEST(ErrorParity, Embedding) {
  use_one_torch_thread();
  std::vector<EmbeddingErrorCase> cases;
  for (DType dtype : {DType::Int64, DType::Int32}) {
    const std::string t(embedkit::dtype_name(dtype));
    const auto bad_ids = [&](const std::string& name, std::vector<std::int64_t> v, Shape shape) {
      return embedding_case(name + " (" + t + ")", index_tensor(v, shape, dtype),
                            Expect::kIndexError);
    };
    cases.push_back(bad_ids("id == num_embeddings", {1, kRows, 2}, {3}));
    cases.push_back(bad_ids("id far out of range", {1000000}, {1}));
    cases.push_back(bad_ids("negative id", {1, 2, -1, 0}, {2, 2}));
    cases.push_back(bad_ids("0-dim out-of-range id", {kRows}, {}));
    EmbeddingErrorCase c = bad_ids("bad id with padding_idx", {0, kRows + 3}, {2});
    c.padding_idx = 0;
    cases.push_back(c);
    c = bad_ids("bad id, sparse", {-2, 1}, {2});
    c.sparse = true;
    cases.push_back(c);
  }
  for (DType dtype : {DType::Float32, DType::Float16}) {
    cases.push_back(embedding_case(std::string(embedkit::dtype_name(dtype)) + " ids",
                                   index_tensor({1, 2}, {2}, dtype), Expect::kTypeError));
  }
  const Tensor good_ids = Tensor::from_vector(std::vector<std::int64_t>{1, 1, 2});
  EmbeddingErrorCase c =
      embedding_case("padding_idx == num_embeddings", good_ids, Expect::kValueError);
  c.padding_idx = kRows;
  cases.push_back(c);
  c.name = "padding_idx < -num_embeddings";
  c.padding_idx = -kRows - 1;
  cases.push_back(c);
  // PyTorch accepts the options and fails in backward; embedkit refuses them before any work.
  c = embedding_case("sparse with scale_grad_by_freq", good_ids, Expect::kValueError);
  c.sparse = true;
  c.scale_grad_by_freq = true;
  cases.push_back(c);
  for (const auto& error_case : cases) check_embedding_error(error_case);
}

// ---------------------------------------------------------------------------------------------
// EmbeddingBag

struct BagErrorCase {
  std::string name;
  Tensor ids;
  Tensor offsets;  // may be undefined
  Tensor psw;      // may be undefined
  BagMode mode = BagMode::Sum;
  bool include_last_offset = false;
  std::optional<std::int64_t> padding_idx;
  bool sparse = false;
  bool scale_grad_by_freq = false;
  Expect expected = Expect::kValueError;
};

torch::nn::EmbeddingBagMode torch_mode(BagMode mode) {
  switch (mode) {
    case BagMode::Sum:
      return torch::kSum;
    case BagMode::Mean:
      return torch::kMean;
    case BagMode::Max:
      return torch::kMax;
  }
  return torch::kSum;
}

BagErrorCase bag_case(std::string name, Tensor ids, Tensor offsets, Tensor psw = Tensor()) {
  BagErrorCase c;
  c.name = std::move(name);
  c.ids = std::move(ids);
  c.offsets = std::move(offsets);
  c.psw = std::move(psw);
  return c;
}

std::string describe(const BagErrorCase& c) {
  const auto tensor_string = [](const Tensor& t) {
    if (!t.defined()) return std::string("None");
    return std::string(embedkit::dtype_name(t.dtype())) + embedkit::shape_string(t.shape()) + " [" +
           join(to_doubles(t)) + "]";
  };
  return "EmbeddingBag error case '" + c.name + "': mode=" + nn::bag_mode_name(c.mode) +
         " ids=" + tensor_string(c.ids) + " offsets=" + tensor_string(c.offsets) +
         " per_sample_weights=" + tensor_string(c.psw) +
         " include_last_offset=" + (c.include_last_offset ? "true" : "false") +
         " padding_idx=" + optional_string(c.padding_idx) +
         " sparse=" + (c.sparse ? "true" : "false") +
         " scale_grad_by_freq=" + (c.scale_grad_by_freq ? "true" : "false");
}

// What embedkit would call the number of bags, for a grad_output of a plausible shape.
std::int64_t guess_bags(const BagErrorCase& c) {
  if (c.ids.dim() == 2) return c.ids.size(0);
  if (!c.offsets.defined() || c.offsets.dim() != 1) return 1;
  return std::max<std::int64_t>(c.offsets.numel() - (c.include_last_offset ? 1 : 0), 0);
}

bool torch_bag_throws(const BagErrorCase& c, const Tensor& table, std::string* message) {
  return torch_throws(
      [&] {
        at::Tensor weight = to_torch(table).requires_grad_(true);
        auto options = F::EmbeddingBagFuncOptions()
                           .mode(torch_mode(c.mode))
                           .include_last_offset(c.include_last_offset)
                           .padding_idx(to_c10(c.padding_idx))
                           .sparse(c.sparse)
                           .scale_grad_by_freq(c.scale_grad_by_freq);
        if (c.offsets.defined()) options.offsets(to_torch(c.offsets));
        if (c.psw.defined()) options.per_sample_weights(to_torch(c.psw));
        const at::Tensor out = F::embedding_bag(to_torch(c.ids), weight, options);
        out.backward(at::ones_like(out));
      },
      message);
}

void check_bag_error(const BagErrorCase& c) {
  SCOPED_TRACE(describe(c));
  const Tensor original = error_table();

  std::string torch_message;
  EXPECT_TRUE(torch_bag_throws(c, original, &torch_message)) << "torch accepted it";

  for (const bool with_max_norm : {false, true}) {
    SCOPED_TRACE(with_max_norm ? "embedkit with max_norm 1e-3" : "embedkit without max_norm");
    auto options = nn::EmbeddingBagFuncOptions()
                       .mode(c.mode)
                       .include_last_offset(c.include_last_offset)
                       .padding_idx(c.padding_idx)
                       .sparse(c.sparse)
                       .scale_grad_by_freq(c.scale_grad_by_freq);
    if (with_max_norm) options.max_norm(kTinyMaxNorm);

    Tensor table = original.clone();
    EXPECT_TRUE(throws_expected(c.expected, "functional::embedding_bag", [&] {
      nn::functional::embedding_bag(c.ids, table, c.offsets, options, c.psw);
    }));
    EXPECT_TRUE(bitwise_equal("table after functional::embedding_bag", table, original));

    const Tensor grad_output = Tensor::zeros({guess_bags(c), kDim});
    EXPECT_TRUE(throws_expected(c.expected, "functional::embedding_bag_backward", [&] {
      nn::functional::embedding_bag_backward(c.ids, table, c.offsets, grad_output, options, c.psw);
    }));

    Tensor module_table = original.clone();
    EXPECT_TRUE(throws_expected(c.expected, "nn::EmbeddingBag", [&] {
      nn::EmbeddingBag module(nn::EmbeddingBagOptions(kRows, kDim)
                                  .weight(module_table)
                                  .mode(c.mode)
                                  .include_last_offset(c.include_last_offset)
                                  .padding_idx(c.padding_idx)
                                  .max_norm(options.max_norm())
                                  .sparse(c.sparse)
                                  .scale_grad_by_freq(c.scale_grad_by_freq));
      module.forward(c.ids, c.offsets, c.psw);
    }));
    EXPECT_TRUE(bitwise_equal("table after nn::EmbeddingBag", module_table, original));
  }
}

Tensor i64(std::vector<std::int64_t> v, std::optional<Shape> shape = std::nullopt) {
  return Tensor::from_vector(v, shape);
}

TEST(ErrorParity, EmbeddingBag) {
  use_one_torch_thread();
  const Tensor six_ids = i64({1, 2, 3, 4, 5, 6});
  std::vector<BagErrorCase> cases;

  // Bad ids, in every mode, on PyTorch's fast path (no padding_idx) and generic path (with one).
  for (BagMode mode : {BagMode::Sum, BagMode::Mean, BagMode::Max}) {
    for (const std::optional<std::int64_t> padding :
         {std::optional<std::int64_t>(), std::optional<std::int64_t>(0)}) {
      const std::string suffix =
          " (" + nn::bag_mode_name(mode) + (padding ? ", padding_idx 0)" : ")");
      BagErrorCase c = bag_case("id == num_embeddings" + suffix, i64({1, kRows, 2}), i64({0, 1}));
      c.mode = mode;
      c.padding_idx = padding;
      c.expected = Expect::kIndexError;
      cases.push_back(c);
      c.name = "negative id" + suffix;
      c.ids = i64({1, 2, -1});
      cases.push_back(c);
      c.name = "2-D ids with a bad id" + suffix;
      c.ids = i64({1, 2, kRows + 5, 0}, Shape{2, 2});
      c.offsets = Tensor();
      cases.push_back(c);
      c.name = "int32 ids with a bad id" + suffix;
      c.ids = index_tensor({1, -7, 2}, {3}, DType::Int32);
      c.offsets = index_tensor({0, 2}, {2}, DType::Int32);
      cases.push_back(c);
    }
  }
  {
    BagErrorCase c = bag_case("bad id with per_sample_weights", i64({0, kRows}), i64({0}),
                              Tensor::from_floats({0.5f, 2.0f}, {2}));
    c.expected = Expect::kIndexError;
    cases.push_back(c);
  }
  // Offsets.
  for (BagMode mode : {BagMode::Sum, BagMode::Mean, BagMode::Max}) {
    BagErrorCase c =
        bag_case("offsets[0] != 0 (" + nn::bag_mode_name(mode) + ")", six_ids, i64({1, 3}));
    c.mode = mode;
    cases.push_back(c);
    c.name = "offsets[-1] > numel (" + nn::bag_mode_name(mode) + ")";
    c.offsets = i64({0, 3, 7});
    cases.push_back(c);
    c.name = "include_last_offset, offsets[-1] > numel (" + nn::bag_mode_name(mode) + ")";
    c.include_last_offset = true;
    cases.push_back(c);
  }
  // PyTorch detects decreasing offsets only on its fast path (float32/float16 sum or mean without
  // padding_idx); elsewhere 1.13 does not check and reads past its buffers, so only fast-path
  // cases are run against it.
  for (BagMode mode : {BagMode::Sum, BagMode::Mean}) {
    for (const auto& offsets :
         {std::vector<std::int64_t>{0, 4, 2}, std::vector<std::int64_t>{0, 2, 1},
          std::vector<std::int64_t>{0, 3, 3, 1}}) {
      BagErrorCase c =
          bag_case("decreasing offsets [" + join(offsets) + "] (" + nn::bag_mode_name(mode) + ")",
                   six_ids, i64(offsets));
      c.mode = mode;
      cases.push_back(c);
    }
  }
  {
    BagErrorCase c = bag_case("include_last_offset with no offsets", six_ids, i64({}));
    c.include_last_offset = true;
    cases.push_back(c);
  }
  // Element types.
  {
    BagErrorCase c = bag_case("float32 ids", index_tensor({1, 2}, {2}, DType::Float32), i64({0}));
    c.expected = Expect::kTypeError;
    cases.push_back(c);
    c.name = "float32 offsets";
    c.ids = i64({1, 2});
    c.offsets = Tensor::from_floats({0.0f, 1.0f}, {2});
    cases.push_back(c);
    c.name = "per_sample_weights float16 for a float32 table";
    c.offsets = i64({0});
    c.psw = Tensor::from_floats({1.0f, 2.0f}, {2}, DType::Float16);
    cases.push_back(c);
  }
  // per_sample_weights.
  for (BagMode mode : {BagMode::Mean, BagMode::Max}) {
    BagErrorCase c = bag_case("per_sample_weights with mode " + nn::bag_mode_name(mode), six_ids,
                              i64({0, 2}), Tensor::from_floats({1, 2, 3, 4, 5, 6}, {6}));
    c.mode = mode;
    cases.push_back(c);
  }
  cases.push_back(bag_case("per_sample_weights too short", six_ids, i64({0, 2}),
                           Tensor::from_floats({1, 2, 3, 4, 5}, {5})));
  cases.push_back(bag_case("per_sample_weights 1-D for 2-D ids",
                           i64({1, 2, 3, 4, 5, 6}, Shape{2, 3}), Tensor(),
                           Tensor::from_floats({1, 2, 3, 4, 5, 6}, {6})));
  // Input forms.
  cases.push_back(bag_case("2-D ids with offsets", i64({1, 2, 3, 4}, Shape{2, 2}), i64({0, 2})));
  cases.push_back(bag_case("1-D ids without offsets", six_ids, Tensor()));
  cases.push_back(bag_case("3-D ids", i64({1, 2, 3, 4}, Shape{1, 2, 2}), Tensor()));
  cases.push_back(bag_case("0-dim ids", i64({1}, Shape{}), i64({0})));
  // Options.
  {
    BagErrorCase c = bag_case("padding_idx == num_embeddings", six_ids, i64({0, 3}));
    c.padding_idx = kRows;
    cases.push_back(c);
    c.name = "padding_idx < -num_embeddings";
    c.padding_idx = -kRows - 1;
    cases.push_back(c);
    c.padding_idx.reset();
    c.name = "max mode with sparse";
    c.mode = BagMode::Max;
    c.sparse = true;
    cases.push_back(c);
    c.name = "max mode with scale_grad_by_freq";
    c.sparse = false;
    c.scale_grad_by_freq = true;
    cases.push_back(c);
    // PyTorch fails in backward; embedkit refuses the pair before any work.
    c.name = "sparse with scale_grad_by_freq";
    c.mode = BagMode::Sum;
    c.sparse = true;
    cases.push_back(c);
  }
  for (const auto& c : cases) check_bag_error(c);
}

// Deliberate difference (catalogue §5.6, pytorch#52851): with include_last_offset the last offset
// must equal the number of ids in embedkit (ValueError otherwise). LibTorch 1.13 does not check:
// its float32 sum fast path silently drops the ids after the last offset (other paths may corrupt
// the heap, so only that one is run).
TEST(ErrorParity, IncludeLastOffsetMustEndAtNumelUnlikeTorch113) {
  use_one_torch_thread();
  const Tensor original = error_table();
  for (const auto& offsets : {std::vector<std::int64_t>{0, 2, 4},
                              std::vector<std::int64_t>{0, 3, 3}, std::vector<std::int64_t>{0}}) {
    BagErrorCase c =
        bag_case("include_last_offset, offsets[-1] < numel", i64({1, 2, 3, 4, 5, 6}), i64(offsets));
    c.include_last_offset = true;
    SCOPED_TRACE(describe(c));
    for (BagMode mode : {BagMode::Sum, BagMode::Mean, BagMode::Max}) {
      Tensor table = original.clone();
      EXPECT_TRUE(throws_expected(Expect::kValueError, "functional::embedding_bag", [&] {
        nn::functional::embedding_bag(
            c.ids, table, c.offsets,
            nn::EmbeddingBagFuncOptions().mode(mode).include_last_offset(true).max_norm(
                kTinyMaxNorm));
      }));
      EXPECT_TRUE(bitwise_equal("table", table, original));
    }
    if (kTorch113 && offsets.size() > 1) {
      at::Tensor out;
      EXPECT_FALSE(torch_throws([&] {
        out = std::get<0>(at::embedding_bag(to_torch(original), to_torch(c.ids),
                                            to_torch(c.offsets), false, /*sum*/ 0, false,
                                            c10::nullopt, /*include_last_offset=*/true));
      }));
      EXPECT_EQ(out.size(0), static_cast<std::int64_t>(offsets.size()) - 1);
    }
  }
}

}  // namespace
}  // namespace embedkit_diff
