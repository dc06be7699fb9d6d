#include "layer_test_support.hpp"

#include <cmath>
#include <sstream>

namespace embedkit::layers_test {

Tensor randn(const Shape& shape, Generator& gen, double std) {
  Tensor t = Tensor::empty(shape);
  fill_normal(t, gen, 0.0, std);
  return t;
}

Tensor uniform(const Shape& shape, Generator& gen, double lo, double hi) {
  Tensor t = Tensor::empty(shape);
  float* p = t.data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i)
    p[i] = static_cast<float>(lo + (hi - lo) * gen.uniform());
  return t;
}

Tensor randint(const Shape& shape, Generator& gen, std::int64_t high) {
  Tensor t = Tensor::empty(shape, DType::Int64);
  auto* p = t.data<std::int64_t>();
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    p[i] = static_cast<std::int64_t>(gen.next_u64() % static_cast<std::uint64_t>(high));
  }
  return t;
}

Tensor full(const Shape& shape, float value) {
  Tensor t = Tensor::empty(shape);
  float* p = t.data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = value;
  return t;
}

namespace {

::testing::AssertionResult same_layout(const Tensor& ours, const Tensor& ref) {
  if (ours.shape() != ref.shape()) {
    return ::testing::AssertionFailure()
           << "shape " << shape_string(ours.shape()) << " != " << shape_string(ref.shape());
  }
  if (ours.dtype() != DType::Float32 || ref.dtype() != DType::Float32) {
    return ::testing::AssertionFailure() << "expected float32 tensors";
  }
  return ::testing::AssertionSuccess();
}

std::string where(std::int64_t i, double a, double b) {
  std::ostringstream s;
  s.precision(9);
  s << "element " << i << ": ours " << a << " vs reference " << b;
  return s.str();
}

}  // namespace

::testing::AssertionResult bitwise_equal(const Tensor& ours, const Tensor& ref) {
  if (auto r = same_layout(ours, ref); !r) return r;
  const float* a = ours.data<float>();
  const float* b = ref.data<float>();
  std::int64_t bad = 0;
  std::int64_t first = -1;
  for (std::int64_t i = 0; i < ours.numel(); ++i) {
    const bool same = (std::isnan(a[i]) && std::isnan(b[i])) || a[i] == b[i];
    if (!same) {
      if (first < 0) first = i;
      ++bad;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << bad << " of " << ours.numel() << " differ; first " << where(first, a[first], b[first]);
}

namespace {

::testing::AssertionResult close_impl(const Tensor& ours, const Tensor& ref, double rtol,
                                      const std::function<double(std::int64_t)>& scale) {
  if (auto r = same_layout(ours, ref); !r) return r;
  const float* a = ours.data<float>();
  const float* b = ref.data<float>();
  std::int64_t bad = 0;
  std::int64_t worst = -1;
  double worst_ratio = 0;
  for (std::int64_t i = 0; i < ours.numel(); ++i) {
    const double x = a[i];
    const double y = b[i];
    if (std::isnan(y) || std::isinf(y)) {
      if (!((std::isnan(x) && std::isnan(y)) || x == y)) {
        ++bad;
        if (worst < 0) worst = i;
        worst_ratio = INFINITY;
      }
      continue;
    }
    const double allowed = rtol * (std::abs(y) + scale(i));
    const double diff = std::abs(x - y);
    if (!(diff <= allowed)) {
      ++bad;
      const double ratio = allowed > 0 ? diff / allowed : INFINITY;
      if (worst < 0 || ratio > worst_ratio) {
        worst = i;
        worst_ratio = ratio;
      }
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << bad << " of " << ours.numel() << " outside rtol " << rtol << "; worst "
         << where(worst, a[worst], b[worst]) << " (scale " << scale(worst) << ", " << worst_ratio
         << "x the tolerance)";
}

}  // namespace

::testing::AssertionResult close(const Tensor& ours, const Tensor& ref, double rtol, double scale) {
  return close_impl(ours, ref, rtol, [scale](std::int64_t) { return scale; });
}

::testing::AssertionResult close(const Tensor& ours, const Tensor& ref, double rtol,
                                 const Tensor& scale) {
  if (scale.shape() != ref.shape()) {
    return ::testing::AssertionFailure() << "scale shape " << shape_string(scale.shape());
  }
  const float* s = scale.data<float>();
  return close_impl(ours, ref, rtol, [s](std::int64_t i) { return static_cast<double>(s[i]); });
}

double max_abs(const Tensor& t) {
  double m = 0;
  const float* p = t.data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    if (std::isfinite(p[i])) m = std::max(m, static_cast<double>(std::abs(p[i])));
  }
  return m;
}

std::vector<double> numeric_gradient(Tensor& x, const std::function<double()>& f, double h) {
  std::vector<double> grad(static_cast<std::size_t>(x.numel()));
  float* p = x.data<float>();
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    const float saved = p[i];
    p[i] = static_cast<float>(saved + h);
    const double up = f();
    const double step_up = static_cast<double>(p[i]) - saved;
    p[i] = static_cast<float>(saved - h);
    const double down = f();
    const double step_down = saved - static_cast<double>(p[i]);
    p[i] = saved;
    // The float32 steps actually taken, not h: x + h is rounded.
    grad[static_cast<std::size_t>(i)] = (up - down) / (step_up + step_down);
  }
  return grad;
}

::testing::AssertionResult gradient_matches(const Tensor& analytic,
                                            const std::vector<double>& numeric, double tol) {
  if (static_cast<std::size_t>(analytic.numel()) != numeric.size()) {
    return ::testing::AssertionFailure() << "size " << analytic.numel() << " vs " << numeric.size();
  }
  const float* a = analytic.data<float>();
  for (std::size_t i = 0; i < numeric.size(); ++i) {
    const double diff = std::abs(static_cast<double>(a[i]) - numeric[i]);
    if (!(diff <= tol * (std::abs(numeric[i]) + 1.0))) {
      return ::testing::AssertionFailure()
             << "element " << i << ": analytic " << a[i] << " vs numeric " << numeric[i];
    }
  }
  return ::testing::AssertionSuccess();
}

double dot(const Tensor& y, const Tensor& c) {
  double s = 0;
  const float* a = y.data<float>();
  const float* b = c.data<float>();
  for (std::int64_t i = 0; i < y.numel(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

}  // namespace embedkit::layers_test
