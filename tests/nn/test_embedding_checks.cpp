// The argument checks every backend shares (src/nn/embedding_checks.hpp), driven through
// TensorDesc values built from bare shapes, with no Tensor behind them (as for a device, quantized
// or mapped table): each message and exception type once, and what the checks return.
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <string>
#include <typeinfo>

#include "embedkit/core/tensor.hpp"
#include "embedkit/core/tensor_desc.hpp"
#include "nn/embedding_checks.hpp"

namespace embedkit::nn::detail {
namespace {

const std::string kWho = "Backend";

// `f` throws exactly E (not only something derived from it) with exactly `message`.
template <class E>
void expect_error(const std::function<void()>& f, const std::string& message) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected: " << message;
  } catch (const E& e) {
    EXPECT_EQ(typeid(e), typeid(E)) << e.what();
    EXPECT_EQ(std::string(e.what()), message);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "another exception type: " << e.what();
  }
}

TEST(TensorDesc, DescribesAShapeItDoesNotOwn) {
  const Shape shape{4, 3};
  const TensorDesc d(DType::BFloat16, shape);
  EXPECT_TRUE(d.defined());
  EXPECT_EQ(d.dtype(), DType::BFloat16);
  EXPECT_EQ(&d.shape(), &shape);
  EXPECT_EQ(d.dim(), 2);
  EXPECT_EQ(d.size(0), 4);
  EXPECT_EQ(d.size(-1), 3);
  EXPECT_EQ(d.numel(), 12);
  expect_error<ValueError>([&] { (void)d.size(2); }, "dimension 2 out of range for a 2-D tensor");

  const TensorDesc none;
  EXPECT_FALSE(none.defined());
  EXPECT_EQ(none.dim(), 0);
  EXPECT_EQ(none.numel(), 0);

  const Shape scalar{};
  EXPECT_EQ(TensorDesc(DType::Float32, scalar).numel(), 1);
}

TEST(TensorDesc, TensorGivesItsOwn) {
  const Tensor t = Tensor::zeros({2, 5}, DType::Float16);
  const TensorDesc d = t.desc();
  EXPECT_TRUE(d.defined());
  EXPECT_EQ(d.dtype(), DType::Float16);
  EXPECT_EQ(&d.shape(), &t.shape());
  EXPECT_EQ(d.numel(), t.numel());
  EXPECT_FALSE(Tensor().desc().defined());
}

TEST(EmbeddingChecks, Table) {
  const Shape table{10, 4};
  const Shape flat{40};
  expect_error<ValueError>([&] { check_table(TensorDesc(), kWho); },
                           "Backend: the table (weight) is undefined");
  expect_error<ValueError>([&] { check_table(TensorDesc(DType::Float32, flat), kWho); },
                           "Backend: the table (weight) must be 2-D, got shape [40]");
  expect_error<TypeError>([&] { check_table(TensorDesc(DType::Int64, table), kWho); },
                          "Backend: the table must be float32, float16 or bfloat16, got int64");
  for (DType t : {DType::Float32, DType::Float16, DType::BFloat16}) {
    EXPECT_NO_THROW(check_table(TensorDesc(t, table), kWho));
  }

  expect_error<ValueError>([&] { check_table_size(-1, 4, kWho); },
                           "Backend: num_embeddings and embedding_dim must be >= 0, got -1 and 4");
  EXPECT_NO_THROW(check_table_size(0, 0, kWho));
  expect_error<ValueError>(
      [&] { check_given_table(TensorDesc(DType::Float32, table), 10, 5, kWho); },
      "Backend: the given weight has shape [10, 4], expected [10, 5]");
  EXPECT_NO_THROW(check_given_table(TensorDesc(DType::Float32, table), 10, 4, kWho));
  expect_error<ValueError>([&] { check_num_embeddings(-3, kWho); },
                           "Backend: num_embeddings must be >= 0");
  EXPECT_NO_THROW(check_num_embeddings(0, kWho));
}

TEST(EmbeddingChecks, Options) {
  EXPECT_EQ(normalize_padding_idx(std::nullopt, 10, kWho), -1);
  EXPECT_EQ(normalize_padding_idx(3, 10, kWho), 3);
  EXPECT_EQ(normalize_padding_idx(-1, 10, kWho), 9);
  expect_error<ValueError>([&] { normalize_padding_idx(10, 10, kWho); },
                           "Backend: padding_idx must be within [-10, 10), got 10");

  EXPECT_NO_THROW(check_max_norm(std::nullopt, -1.0, kWho));  // norm_type unused then
  expect_error<ValueError>([&] { check_max_norm(0.0, 2.0, kWho); },
                           "Backend: max_norm must be > 0, got 0.000000");
  expect_error<ValueError>(
      [&] { check_max_norm(1.0, std::numeric_limits<double>::quiet_NaN(), kWho); },
      "Backend: norm_type must be > 0 (or infinity), got nan");

  expect_error<ValueError>([&] { check_unknown_ids(UnknownIds::map_to_row(5), 5, kWho); },
                           "Backend: unknown ids are mapped to row 5, outside the table's [0, 5)");
  expect_error<ValueError>([&] { check_unknown_ids(UnknownIds::hash(), 0, kWho); },
                           "Backend: unknown ids cannot be hashed into an empty table");
  EXPECT_NO_THROW(check_unknown_ids(UnknownIds::error(), 0, kWho));

  expect_error<ValueError>([&] { check_sparse_options(true, true, kWho); },
                           "Backend: scale_grad_by_freq is not supported with sparse gradients");
  EXPECT_NO_THROW(check_sparse_options(true, false, kWho));
  expect_error<ValueError>([&] { check_bag_options(BagMode::Max, true, false, kWho); },
                           "Backend: max mode does not support sparse gradients");
  expect_error<ValueError>([&] { check_bag_options(BagMode::Max, false, true, kWho); },
                           "Backend: max mode does not support scale_grad_by_freq");
  expect_error<ValueError>([&] { check_bag_options(BagMode::Sum, true, true, kWho); },
                           "Backend: scale_grad_by_freq is not supported with sparse gradients");
  EXPECT_NO_THROW(check_bag_options(BagMode::Mean, false, true, kWho));
}

TEST(EmbeddingChecks, Ids) {
  const Shape ids{6};
  expect_error<ValueError>([&] { check_ids_dtype(TensorDesc(), "ids"); }, "ids are undefined");
  expect_error<TypeError>([&] { check_ids_dtype(TensorDesc(DType::Float32, ids), "ids"); },
                          "ids must be int32 or int64, got float32");
  EXPECT_NO_THROW(check_ids_dtype(TensorDesc(DType::Int32, ids), "ids"));
}

TEST(EmbeddingChecks, BagArgumentsInOrder) {
  const Shape table{10, 4};
  const Shape ids{6};
  // The table is checked before the ids, the ids before the options.
  expect_error<ValueError>(
      [&] { check_bag_arguments(TensorDesc(), TensorDesc(), EmbeddingBagFuncOptions(), kWho); },
      "Backend: the table (weight) is undefined");
  expect_error<ValueError>(
      [&] {
        check_bag_arguments(TensorDesc(DType::Float32, table), TensorDesc(),
                            EmbeddingBagFuncOptions().mode(BagMode::Max).sparse(true), kWho);
      },
      "ids are undefined");
  expect_error<ValueError>(
      [&] {
        check_bag_arguments(
            TensorDesc(DType::Float32, table), TensorDesc(DType::Int64, ids),
            EmbeddingBagFuncOptions().mode(BagMode::Max).sparse(true).padding_idx(99), kWho);
      },
      "Backend: max mode does not support sparse gradients");
  EXPECT_EQ(check_bag_arguments(TensorDesc(DType::Float32, table), TensorDesc(DType::Int64, ids),
                                EmbeddingBagFuncOptions().padding_idx(-2), kWho),
            8);
}

TEST(EmbeddingChecks, BagLayout) {
  const Shape rows{3, 2};
  const Shape flat{6};
  const Shape cube{1, 2, 3};
  const TensorDesc none;
  EXPECT_EQ(check_bag_layout(TensorDesc(DType::Int64, rows), none, kWho), BagLayout::Rows);
  EXPECT_EQ(check_bag_layout(TensorDesc(DType::Int64, flat), TensorDesc(DType::Int32, flat), kWho),
            BagLayout::Offsets);
  expect_error<ValueError>(
      [&] {
        check_bag_layout(TensorDesc(DType::Int64, rows), TensorDesc(DType::Int64, flat), kWho);
      },
      "Backend: offsets must not be given with 2-D ids (each row of ids is a bag)");
  expect_error<ValueError>([&] { check_bag_layout(TensorDesc(DType::Int64, flat), none, kWho); },
                           "Backend: 1-D ids need offsets");
  expect_error<TypeError>(
      [&] {
        check_bag_layout(TensorDesc(DType::Int64, flat), TensorDesc(DType::Float32, flat), kWho);
      },
      "Backend: offsets must be int32 or int64, got float32");
  expect_error<ValueError>(
      [&] {
        check_bag_layout(TensorDesc(DType::Int64, flat), TensorDesc(DType::Int64, rows), kWho);
      },
      "Backend: offsets must be 1-D, got shape [3, 2]");
  expect_error<ValueError>([&] { check_bag_layout(TensorDesc(DType::Int64, cube), none, kWho); },
                           "Backend: ids must be 1-D (with offsets) or 2-D, got shape [1, 2, 3]");
}

TEST(EmbeddingChecks, Offsets) {
  EXPECT_EQ(std::string(bad_offset_error(0, 2, 0, 6, kWho).what()),
            "Backend: offsets[0] must be 0, got 2");
  EXPECT_EQ(std::string(bad_offset_error(2, 1, 3, 6, kWho).what()),
            "Backend: offsets must be non-decreasing, but offsets[2] = 1 < offsets[1] = 3");
  EXPECT_EQ(std::string(bad_offset_error(2, 7, 3, 6, kWho).what()),
            "Backend: offsets[2] = 7 is past the end of the 6 ids");

  EXPECT_EQ(offsets_bag_count(3, 4, 6, false, kWho), 3);
  EXPECT_EQ(offsets_bag_count(0, 0, 0, false, kWho), 0);
  EXPECT_EQ(offsets_bag_count(3, 6, 6, true, kWho), 2);
  expect_error<ValueError>([&] { offsets_bag_count(0, 0, 6, false, kWho); },
                           "Backend: offsets is empty, so the 6 ids belong to no bag");
  expect_error<ValueError>([&] { offsets_bag_count(0, 0, 0, true, kWho); },
                           "Backend: include_last_offset needs at least one offset");
  expect_error<ValueError>(
      [&] { offsets_bag_count(3, 5, 6, true, kWho); },
      "Backend: with include_last_offset the last offset must equal the number of ids (6), got 5");
}

TEST(EmbeddingChecks, PerSampleWeights) {
  const Shape ids{6};
  const Shape other{5};
  const TensorDesc id_desc(DType::Int64, ids);
  EXPECT_NO_THROW(
      check_per_sample_weights(TensorDesc(), id_desc, BagMode::Max, DType::Float32, kWho));
  EXPECT_NO_THROW(check_per_sample_weights(TensorDesc(DType::Float16, ids), id_desc, BagMode::Sum,
                                           DType::Float16, kWho));
  expect_error<ValueError>(
      [&] {
        check_per_sample_weights(TensorDesc(DType::Float32, ids), id_desc, BagMode::Mean,
                                 DType::Float32, kWho);
      },
      "Backend: per_sample_weights are only supported with mode sum, not mean");
  expect_error<TypeError>(
      [&] {
        check_per_sample_weights(TensorDesc(DType::Float32, ids), id_desc, BagMode::Sum,
                                 DType::BFloat16, kWho);
      },
      "Backend: per_sample_weights are float32 but the table is bfloat16");
  expect_error<ValueError>(
      [&] {
        check_per_sample_weights(TensorDesc(DType::Float32, other), id_desc, BagMode::Sum,
                                 DType::Float32, kWho);
      },
      "Backend: per_sample_weights must have the shape of ids [6], got [5]");
}

TEST(EmbeddingChecks, FusedStep) {
  expect_error<ValueError>(
      [&] { check_row_wise_bag_mode(BagMode::Max, kWho); },
      "Backend: max mode's gradient is per column, not per row; use backward() and step()");
  EXPECT_NO_THROW(check_row_wise_bag_mode(BagMode::Mean, kWho));

  const Shape grad{2, 4};
  const Shape expected{2, 4};
  EXPECT_NO_THROW(check_float32_grad_output(TensorDesc(DType::Float32, grad), expected, kWho));
  const std::string message = "Backend: grad_output must be float32 with shape [2, 4]";
  expect_error<ValueError>([&] { check_float32_grad_output(TensorDesc(), expected, kWho); },
                           message);
  expect_error<ValueError>(
      [&] { check_float32_grad_output(TensorDesc(DType::Float16, grad), expected, kWho); },
      message);
  const Shape transposed{4, 2};
  expect_error<ValueError>(
      [&] { check_float32_grad_output(TensorDesc(DType::Float32, transposed), expected, kWho); },
      message);
}

}  // namespace
}  // namespace embedkit::nn::detail
