// The blocked matrix product behind Linear equals the naive triple loop bit for bit, on shapes
// around every block edge (the 4 x 8 register tile, the 256-deep k block) and with every operand
// transposed, because both add each output's products in ascending k order.
#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "embedkit/nn/linear.hpp"
#include "layer_test_support.hpp"
#include "nn/gemm.hpp"

namespace embedkit::nn {
namespace {

using detail::MatrixView;
using layers_test::bitwise_equal;
using layers_test::randn;

struct GemmCase {
  std::int64_t m, n, k;
  bool a_t, b_t;
};

// Checks every (m, n, k) combination with the four transpose combinations; returns the count.
int check_shapes(const std::vector<std::int64_t>& ms, const std::vector<std::int64_t>& ns,
                 const std::vector<std::int64_t>& ks, Generator& gen) {
  int checked = 0;
  for (std::int64_t m : ms) {
    for (std::int64_t n : ns) {
      for (std::int64_t k : ks) {
        for (int t = 0; t < 4; ++t) {
          const bool a_t = (t & 1) != 0;
          const bool b_t = (t & 2) != 0;
          SCOPED_TRACE(testing::Message() << "m=" << m << " n=" << n << " k=" << k << " a_t=" << a_t
                                          << " b_t=" << b_t);
          Tensor a = randn({m, k}, gen);
          Tensor b = randn({k, n}, gen);
          // Transposed operands are stored transposed and read through swapped strides.
          Tensor a_store = a_t ? randn({k, m}, gen) : a;
          Tensor b_store = b_t ? randn({n, k}, gen) : b;
          const MatrixView av = a_t ? MatrixView{a_store.data<float>(), 1, m}
                                    : MatrixView{a_store.data<float>(), k, 1};
          const MatrixView bv = b_t ? MatrixView{b_store.data<float>(), 1, k}
                                    : MatrixView{b_store.data<float>(), n, 1};
          // Start from a non-zero C: the product accumulates into it.
          Tensor c0 = randn({m, n}, gen);
          Tensor fast = c0.clone();
          Tensor slow = c0.clone();
          detail::gemm_accumulate(m, n, k, av, bv, fast.data<float>(), n);
          detail::gemm_reference(m, n, k, av, bv, slow.data<float>(), n);
          EXPECT_TRUE(bitwise_equal(fast, slow));
          ++checked;
        }
      }
    }
  }
  return checked;
}

TEST(Gemm, BlockedEqualsNaiveBitwise) {
  Generator gen(11);
  // Row tiles (4), column panels (8) and k blocks (256), including the paths for fewer than 4
  // rows or fewer than 4 k, which read B in place.
  EXPECT_EQ(
      check_shapes({0, 1, 3, 4, 5, 9, 33}, {1, 7, 8, 9, 17}, {0, 1, 3, 5, 255, 256, 257, 600}, gen),
      7 * 5 * 8 * 4);
  // Column blocks (512).
  EXPECT_EQ(check_shapes({2, 5, 9}, {511, 512, 513, 1030}, {1, 7, 300}, gen), 3 * 4 * 3 * 4);
}

// Linear's three products against plain loops written from the definitions.
TEST(Gemm, LinearMatchesDefinitionLoopsBitwise) {
  Generator gen(12);
  for (auto [rows, in, out] : std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>>{
           {1, 1, 1}, {5, 13, 9}, {37, 300, 10}, {2, 0, 3}, {0, 4, 3}}) {
    SCOPED_TRACE(testing::Message() << rows << "x" << in << "->" << out);
    Linear lin(LinearOptions(in, out), gen);
    Tensor x = randn({rows, in}, gen);
    Tensor g = randn({rows, out}, gen);
    const float* xp = x.data<float>();
    const float* w = lin.weight().data<float>();
    const float* b = lin.bias().data<float>();
    const float* gp = g.data<float>();
    Tensor y = Tensor::empty({rows, out});
    Tensor gx = Tensor::empty({rows, in});
    Tensor gw = Tensor::empty({out, in});
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::int64_t o = 0; o < out; ++o) {
        float acc = 0.0f;
        for (std::int64_t i = 0; i < in; ++i) acc += xp[r * in + i] * w[o * in + i];
        y.data<float>()[r * out + o] = acc + b[o];
      }
      for (std::int64_t i = 0; i < in; ++i) {
        float acc = 0.0f;
        for (std::int64_t o = 0; o < out; ++o) acc += gp[r * out + o] * w[o * in + i];
        gx.data<float>()[r * in + i] = acc;
      }
    }
    for (std::int64_t o = 0; o < out; ++o) {
      for (std::int64_t i = 0; i < in; ++i) {
        float acc = 0.0f;
        for (std::int64_t r = 0; r < rows; ++r) acc += gp[r * out + o] * xp[r * in + i];
        gw.data<float>()[o * in + i] = acc;
      }
    }
    EXPECT_TRUE(bitwise_equal(lin.forward(x), y));
    const LinearGrad grads = std::as_const(lin).backward(x, g);
    EXPECT_TRUE(bitwise_equal(grads.input, gx));
    EXPECT_TRUE(bitwise_equal(grads.weight, gw));
  }
}

}  // namespace
}  // namespace embedkit::nn
