// Ports of the Embedding / EmbeddingBag cases of PyTorch's test/cpp/api/modules.cpp (the
// LibTorch C++ frontend's module tests). LibTorch's autograd `s.backward()` becomes embedkit's
// explicit backward() with an all-ones output gradient (the gradient of y.sum()).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "ported/helpers.hpp"

namespace embedkit::ported {
namespace {

using nn::Embedding;
using nn::EmbeddingBag;
using nn::EmbeddingOptions;

// Upstream: test/cpp/api/modules.cpp ModulesTest.EmbeddingBasic
TEST(PortedModulesTest, EmbeddingBasic) {
  const std::int64_t dict_size = 10;
  Embedding model(EmbeddingOptions(dict_size, 2));
  ASSERT_TRUE(model.weight().defined());  // named_parameters() contains "weight"
  ASSERT_EQ(model.weight().dim(), 2);
  ASSERT_EQ(model.weight().size(0), dict_size);
  ASSERT_EQ(model.weight().size(1), 2);

  // Cannot get gradients to change indices (input) - only for embedding params
  const Tensor x = ids(std::vector<std::int64_t>(10, dict_size - 1));
  const Tensor y = model.forward(x);
  ASSERT_EQ(y.dim(), 2);
  ASSERT_EQ(y.size(0), 10);
  ASSERT_EQ(y.size(1), 2);
  const Tensor grad = model.backward(x, full({10, 2}, 1.0f)).dense();
  ASSERT_EQ(grad.numel(), 2 * dict_size);
  // Hand-computed: ten lookups of row 9, each with gradient 1.
  std::vector<double> expected(20, 0.0);
  expected[18] = expected[19] = 10.0;
  expect_close(grad, expected, {dict_size, 2});
}

// Upstream: test/cpp/api/modules.cpp ModulesTest.EmbeddingList
TEST(PortedModulesTest, EmbeddingList) {
  Embedding model(EmbeddingOptions(6, 4));
  const Tensor x = ids(std::vector<std::int64_t>(6, 5), {2, 3});
  const Tensor y = model.forward(x);
  ASSERT_EQ(y.dim(), 3);
  ASSERT_EQ(y.size(0), 2);
  ASSERT_EQ(y.size(1), 3);
  ASSERT_EQ(y.size(2), 4);
  const Tensor grad = model.backward(x, full({2, 3, 4}, 1.0f)).dense();
  ASSERT_EQ(grad.shape(), (Shape{6, 4}));
  EXPECT_EQ(row_of(grad, 5), std::vector<double>(4, 6.0));  // six lookups of row 5
}

// Upstream: test/cpp/api/modules.cpp ModulesTest.EmbeddingFromPretrained
TEST(PortedModulesTest, EmbeddingFromPretrained) {
  const Tensor weight = floats({1.f, 2.3f, 3.f, 4.f, 5.1f, 6.3f}, {2, 3});
  Embedding embedding = Embedding::from_pretrained(weight);
  const Tensor input = ids({1});
  // torch::allclose defaults: rtol 1e-5, atol 1e-8
  expect_close(embedding.forward(input), {4.0, 5.1, 6.3}, {1, 3}, {1e-8, 1e-5});
}

// Upstream: test/cpp/api/modules.cpp ModulesTest.EmbeddingBagFromPretrained (mean of rows 1, 0)
TEST(PortedModulesTest, EmbeddingBagFromPretrained) {
  const Tensor weight = floats({1.f, 2.3f, 3.f, 4.f, 5.1f, 6.3f}, {2, 3});
  EmbeddingBag embeddingbag = EmbeddingBag::from_pretrained(weight);
  const Tensor input = ids({1, 0}, {1, 2});
  expect_close(embeddingbag.forward(input), {2.5, 3.7, 4.65}, {1, 3}, {1e-8, 1e-5});
}

}  // namespace
}  // namespace embedkit::ported
