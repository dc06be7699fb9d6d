// functional::embedding_into / embedding_bag_into: same values as the allocating forms, into the
// caller's tensor, with every check made before anything is written.
#include <gtest/gtest.h>

#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/thread_pool.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"

namespace embedkit::nn {
namespace {

Tensor table(std::int64_t rows, std::int64_t dim, DType dtype) {
  std::vector<float> v(static_cast<std::size_t>(rows * dim));
  for (std::size_t k = 0; k < v.size(); ++k) v[k] = static_cast<float>(k % 13) * 0.25f - 1.0f;
  return Tensor::from_floats(v, {rows, dim}, dtype);
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

TEST(EmbeddingInto, MatchesEmbedding) {
  for (DType dt : {DType::Float32, DType::Float16, DType::BFloat16}) {
    Tensor w = table(20, 33, dt);
    Tensor ids = Tensor::from_vector<std::int64_t>({3, 1, 19, 3, 0, 7}, Shape{2, 3});
    Tensor out = Tensor::empty({2, 3, 33}, dt);
    functional::embedding_into(ids, w, out);
    EXPECT_TRUE(same_bits(out, functional::embedding(ids, w)));
  }
}

TEST(EmbeddingInto, IntoAView) {
  Tensor w = table(10, 4, DType::Float32);
  std::vector<float> buffer(3 * 4, -5.0f);
  Tensor out = Tensor::from_blob(buffer.data(), {3, 4}, DType::Float32);
  functional::embedding_into(Tensor::from_vector<std::int32_t>({9, 0, 9}), w, out);
  EXPECT_EQ(buffer[0], static_cast<float>(w.item_at(36)));
  EXPECT_EQ(buffer[4], static_cast<float>(w.item_at(0)));
}

TEST(EmbeddingInto, RejectsBadOutputsBeforeWriting) {
  Tensor w = table(10, 4, DType::Float32);
  Tensor ids = Tensor::from_vector<std::int64_t>({1, 2});
  Tensor undefined;
  EXPECT_THROW(functional::embedding_into(ids, w, undefined), ValueError);
  Tensor wrong_shape = Tensor::zeros({2, 5});
  EXPECT_THROW(functional::embedding_into(ids, w, wrong_shape), ValueError);
  Tensor wrong_dtype = Tensor::zeros({2, 4}, DType::Float16);
  EXPECT_THROW(functional::embedding_into(ids, w, wrong_dtype), TypeError);
  // The table's own memory as output: refused.
  Tensor alias = Tensor::from_blob(w.raw_data(), {2, 4}, DType::Float32);
  EXPECT_THROW(functional::embedding_into(ids, w, alias), ValueError);
  // A bad id: IndexError, output untouched, and max_norm has not touched the table.
  Tensor out = Tensor::zeros({2, 4});
  Tensor before = w.clone();
  EXPECT_THROW(functional::embedding_into(Tensor::from_vector<std::int64_t>({1, 10}), w, out,
                                          EmbeddingFuncOptions().max_norm(0.1)),
               IndexError);
  EXPECT_EQ(out.to_float_vector(), std::vector<float>(8, 0.0f));
  EXPECT_TRUE(same_bits(w, before));
}

TEST(EmbeddingInto, MaxNormRenormalisesLikeEmbedding) {
  Tensor w1 = table(10, 8, DType::Float32);
  Tensor w2 = w1.clone();
  Tensor ids = Tensor::from_vector<std::int64_t>({1, 2, 2, 9});
  const auto opts = EmbeddingFuncOptions().max_norm(1.0);
  Tensor out = Tensor::empty({4, 8});
  functional::embedding_into(ids, w1, out, opts);
  EXPECT_TRUE(same_bits(out, functional::embedding(ids, w2, opts)));
  EXPECT_TRUE(same_bits(w1, w2));
}

TEST(EmbeddingBagInto, MatchesEmbeddingBag) {
  for (DType dt : {DType::Float32, DType::Float16, DType::BFloat16}) {
    for (BagMode mode : {BagMode::Sum, BagMode::Mean, BagMode::Max}) {
      Tensor w = table(20, 17, dt);
      Tensor ids = Tensor::from_vector<std::int64_t>({3, 1, 19, 3, 0, 7, 7});
      Tensor offsets = Tensor::from_vector<std::int64_t>({0, 0, 3, 6});
      const auto opts = EmbeddingBagFuncOptions().mode(mode).padding_idx(0);
      Tensor out = Tensor::empty({4, 17}, dt);
      functional::embedding_bag_into(ids, w, offsets, out, opts);
      EXPECT_TRUE(same_bits(out, functional::embedding_bag(ids, w, offsets, opts)));
    }
  }
}

TEST(EmbeddingBagInto, RejectsBadOutputs) {
  Tensor w = table(10, 4, DType::Float32);
  Tensor ids = Tensor::from_vector<std::int64_t>({1, 2, 3});
  Tensor offsets = Tensor::from_vector<std::int64_t>({0, 2});
  Tensor wrong_shape = Tensor::zeros({3, 4});
  EXPECT_THROW(functional::embedding_bag_into(ids, w, offsets, wrong_shape), ValueError);
  Tensor wrong_dtype = Tensor::zeros({2, 4}, DType::BFloat16);
  EXPECT_THROW(functional::embedding_bag_into(ids, w, offsets, wrong_dtype), TypeError);
  Tensor alias = Tensor::from_blob(w.raw_data(), {2, 4}, DType::Float32);
  EXPECT_THROW(functional::embedding_bag_into(ids, w, offsets, alias), ValueError);
}

// End to end through the modules: one thread and all threads give the same bits.
TEST(Determinism, ModulesAgreeAcrossThreadCounts) {
  const int saved = get_num_threads();
  Tensor w = table(5000, 64, DType::Float32);
  std::vector<std::int64_t> idv(40000);
  for (std::size_t k = 0; k < idv.size(); ++k)
    idv[k] = static_cast<std::int64_t>((k * 7919) % 5000);
  Tensor ids = Tensor::from_vector(idv);
  std::vector<std::int64_t> offv;
  for (std::int64_t b = 0; b < 40000; b += 20) offv.push_back(b);
  Tensor offsets = Tensor::from_vector(offv);
  Tensor grad_bags = table(2000, 64, DType::Float32);
  auto run = [&](int threads) {
    set_num_threads(threads);
    std::vector<Tensor> r;
    r.push_back(functional::embedding(ids, w));
    r.push_back(functional::embedding_backward(ids, r[0], 5000).dense());
    r.push_back(functional::embedding_bag(ids, w, offsets));
    r.push_back(functional::embedding_bag_backward(ids, w, offsets, grad_bags).weight.dense());
    return r;
  };
  const auto one = run(1);
  const auto many = run(4);
  set_num_threads(saved);
  for (std::size_t k = 0; k < one.size(); ++k) EXPECT_TRUE(same_bits(one[k], many[k])) << k;
}

}  // namespace
}  // namespace embedkit::nn
