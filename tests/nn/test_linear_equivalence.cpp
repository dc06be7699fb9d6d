// An embedding is a linear layer over one-hot inputs: Embedding(ids) == Linear(one_hot(ids))
// with the table as the transposed weight, in forward and in backward. The lookup reads
// n x D numbers where the matrix product reads n x N x D.
#include <gtest/gtest.h>

#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/linear.hpp"
#include "embedkit/nn/one_hot.hpp"

namespace embedkit::nn {
namespace {

TEST(LinearEquivalence, EmbeddingEqualsLinearOverOneHot) {
  const std::int64_t num = 13, dim = 5;
  Generator gen(2024);
  Embedding emb(EmbeddingOptions(num, dim), gen);
  Linear lin(LinearOptions(num, dim).bias(false), gen);
  // Linear's weight is [out = dim, in = num]: the table transposed.
  for (std::int64_t r = 0; r < num; ++r) {
    for (std::int64_t d = 0; d < dim; ++d) {
      lin.weight().data<float>()[d * num + r] = emb.weight().data<float>()[r * dim + d];
    }
  }
  Tensor ids = Tensor::from_vector<std::int64_t>({3, 0, 12, 3, 7, 3}, Shape{2, 3});
  Tensor one_hot = functional::one_hot(ids, num);
  EXPECT_EQ(one_hot.shape(), (Shape{2, 3, num}));

  Tensor a = emb.forward(ids);
  Tensor b = lin.forward(one_hot);
  ASSERT_EQ(a.shape(), b.shape());
  EXPECT_EQ(a.to_float_vector(), b.to_float_vector());  // bitwise: 1*w + 0*... is exact

  std::vector<float> g(static_cast<std::size_t>(6 * dim));
  Generator gg(5);
  for (float& x : g) x = static_cast<float>(gg.normal());
  Tensor grad_out = Tensor::from_vector(g, Shape{2, 3, dim});
  Tensor emb_grad = emb.backward(ids, grad_out).dense();
  Tensor lin_grad =
      functional::linear_backward(one_hot, lin.weight(), grad_out, /*has_bias=*/false).weight;
  for (std::int64_t r = 0; r < num; ++r) {
    for (std::int64_t d = 0; d < dim; ++d) {
      // Sums of the same terms in the same order (zeros add nothing): equal bitwise.
      EXPECT_EQ(emb_grad.item_at(r * dim + d), lin_grad.item_at(d * num + r)) << r << "," << d;
    }
  }
}

TEST(LinearEquivalence, OneHotChecksIds) {
  EXPECT_THROW(functional::one_hot(Tensor::from_vector<std::int64_t>({3}), 3), IndexError);
  Tensor oh = functional::one_hot(Tensor::from_vector<std::int32_t>({1, 0}), 2);
  EXPECT_EQ(oh.to_float_vector(), (std::vector<float>{0, 1, 1, 0}));
}

}  // namespace
}  // namespace embedkit::nn
