// Helpers shared by the ported PyTorch tests: tensor builders, seeded random tensors, and the
// comparisons PyTorch's assertEqual makes (shape, then values within a dtype-dependent tolerance).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "embedkit/embedkit.hpp"

namespace embedkit::ported {

// The table dtypes embedkit supports (PyTorch's float/double map to Float32).
inline const std::vector<DType>& float_dtypes() {
  static const std::vector<DType> all{DType::Float32, DType::Float16, DType::BFloat16};
  return all;
}
// The id / offset dtypes (PyTorch's torch.int and torch.long).
inline const std::vector<DType>& index_dtypes() {
  static const std::vector<DType> all{DType::Int32, DType::Int64};
  return all;
}

inline std::string trace(DType t) {
  return "dtype " + std::string(dtype_name(t));
}

// 1-D int64 ids, or ids of a given shape, optionally converted to int32.
inline Tensor ids(const std::vector<std::int64_t>& values, DType dtype = DType::Int64) {
  Tensor t = Tensor::from_vector(values);
  return dtype == DType::Int64 ? t : t.to(dtype);
}
inline Tensor ids(const std::vector<std::int64_t>& values, const Shape& shape,
                  DType dtype = DType::Int64) {
  Tensor t = Tensor::from_vector(values, shape);
  return dtype == DType::Int64 ? t : t.to(dtype);
}

inline Tensor floats(const std::vector<float>& values, const Shape& shape,
                     DType dtype = DType::Float32) {
  return Tensor::from_floats(values, shape, dtype);
}

inline Tensor full(const Shape& shape, float value, DType dtype = DType::Float32) {
  return floats(std::vector<float>(static_cast<std::size_t>(shape_numel(shape)), value), shape,
                dtype);
}

// torch.arange(1, N*D + 1).view(N, D), as the upstream tests fill their 5 x 2 table.
inline Tensor arange_table(std::int64_t n, std::int64_t d, DType dtype = DType::Float32) {
  std::vector<float> v(static_cast<std::size_t>(n * d));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i + 1);
  return floats(v, {n, d}, dtype);
}

// Sets row `r` of a 2-D float table to `value` (weight[r] = value under torch.no_grad()).
inline void fill_row(Tensor& table, std::int64_t r, float value) {
  std::vector<float> v = table.to_float_vector();
  const std::int64_t d = table.size(1);
  for (std::int64_t j = 0; j < d; ++j) v[static_cast<std::size_t>(r * d + j)] = value;
  table.copy_from(floats(v, table.shape(), table.dtype()));
}

// Seeded stand-ins for torch.randn / torch.rand / torch.randint.
inline Tensor randn(const Shape& shape, Generator& gen, DType dtype = DType::Float32) {
  Tensor t = Tensor::empty(shape, dtype);
  fill_normal(t, gen);
  return t;
}
inline std::vector<float> rand_values(std::int64_t n, Generator& gen) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (float& x : v) x = static_cast<float>(gen.uniform());
  return v;
}
inline Tensor rand(const Shape& shape, Generator& gen, DType dtype = DType::Float32) {
  return floats(rand_values(shape_numel(shape), gen), shape, dtype);
}
// Uniform integer in [low, high].
inline std::int64_t randint(Generator& gen, std::int64_t low, std::int64_t high) {
  const auto span = static_cast<std::uint64_t>(high - low + 1);
  return low + static_cast<std::int64_t>(gen.next_u64() % span);
}
inline std::vector<std::int64_t> randint_values(Generator& gen, std::int64_t high, std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = randint(gen, 0, high - 1);
  return v;
}

inline std::vector<double> values_of(const Tensor& t) {
  std::vector<double> v(static_cast<std::size_t>(t.numel()));
  for (std::int64_t i = 0; i < t.numel(); ++i) v[static_cast<std::size_t>(i)] = t.item_at(i);
  return v;
}

// Row `r` of a 2-D tensor (or of a tensor viewed as [-1, last dim]) as doubles.
inline std::vector<double> row_of(const Tensor& t, std::int64_t r) {
  const std::int64_t d = t.size(-1);
  std::vector<double> v(static_cast<std::size_t>(d));
  for (std::int64_t j = 0; j < d; ++j) v[static_cast<std::size_t>(j)] = t.item_at(r * d + j);
  return v;
}

struct Tolerance {
  double atol;
  double rtol;
};

// PyTorch's dtype2prec_DONTUSE as atol, and torch.testing's default rtol for the dtype.
inline Tolerance prec(DType t) {
  switch (t) {
    case DType::Float16:
      return {1e-3, 1e-3};
    case DType::BFloat16:
      return {1e-1, 1.6e-2};
    default:
      return {1e-5, 1.3e-6};
  }
}
inline Tolerance exact() {
  return {0.0, 0.0};
}

// assertEqual(actual, expected): same shape and |a - e| <= atol + rtol * |e| elementwise
// (NaN equal to NaN).
inline void expect_close(const Tensor& actual, const std::vector<double>& expected,
                         const Shape& expected_shape, Tolerance tol = exact(),
                         const std::string& what = "") {
  ASSERT_TRUE(actual.defined()) << what;
  ASSERT_EQ(actual.shape(), expected_shape) << what;
  ASSERT_EQ(static_cast<std::size_t>(actual.numel()), expected.size()) << what;
  for (std::int64_t i = 0; i < actual.numel(); ++i) {
    const double a = actual.item_at(i);
    const double e = expected[static_cast<std::size_t>(i)];
    if (std::isnan(e)) {
      EXPECT_TRUE(std::isnan(a)) << what << " element " << i;
      continue;
    }
    EXPECT_LE(std::fabs(a - e), tol.atol + tol.rtol * std::fabs(e))
        << what << " element " << i << ": got " << a << ", expected " << e;
  }
}
inline void expect_close(const Tensor& actual, const Tensor& expected, Tolerance tol = exact(),
                         const std::string& what = "") {
  expect_close(actual, values_of(expected), expected.shape(), tol, what);
}

// x rounded to what a tensor of dtype `t` can hold.
inline double round_to(double x, DType t) {
  const auto f = static_cast<float>(x);
  switch (t) {
    case DType::Float16:
      return static_cast<double>(static_cast<float>(Half(f)));
    case DType::BFloat16:
      return static_cast<double>(static_cast<float>(BFloat16(f)));
    default:
      return static_cast<double>(f);
  }
}

// Comparing a result of dtype `t` with a reference computed in double: the reference is rounded
// to `t` (as upstream's reference, computed in `t`, is) and may differ by one unit in the last
// place of the format (the accumulation order differs), plus dtype2prec as atol.
inline Tolerance out_tol(DType t) {
  switch (t) {
    case DType::Float16:
      return {prec(t).atol, 0x1p-10};
    case DType::BFloat16:
      return {prec(t).atol, 0x1p-7};
    default:
      return prec(t);
  }
}
inline void expect_close_rounded(const Tensor& actual, std::vector<double> expected,
                                 const Shape& expected_shape, DType t,
                                 const std::string& what = "") {
  for (double& x : expected) x = round_to(x, t);
  expect_close(actual, expected, expected_shape, out_tol(t), what);
}

// p-norm of a row (p > 0, finite), in double.
inline double p_norm(const std::vector<double>& row, double p) {
  double s = 0;
  for (double x : row) s += std::pow(std::fabs(x), p);
  return std::pow(s, 1.0 / p);
}

}  // namespace embedkit::ported
