#include "diff_support.hpp"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace embedkit_diff {

namespace {

constexpr double kPi = 3.14159265358979323846;

std::optional<std::uint64_t> env_u64(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 0);
  if (end == nullptr || *end != '\0') {
    ADD_FAILURE() << name << "=" << text << " is not a number; ignored";
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(value);
}

std::string hex_bits(const Tensor& t, std::int64_t i) {
  char buf[32];
  const auto* bytes = static_cast<const unsigned char*>(t.raw_data());
  const std::size_t size = embedkit::dtype_size(t.dtype());
  std::uint64_t bits = 0;
  std::memcpy(&bits, bytes + static_cast<std::size_t>(i) * size, size);  // little endian
  std::snprintf(buf, sizeof buf, "0x%0*" PRIx64, static_cast<int>(2 * size), bits);
  return buf;
}

std::string value_string(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// "[i, j, k]" position of a flat index in a shape, for the reports.
std::string position(const Shape& shape, std::int64_t flat) {
  std::vector<std::int64_t> pos(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    const std::int64_t extent = shape[d] > 0 ? shape[d] : 1;
    pos[d] = flat % extent;
    flat /= extent;
  }
  std::string s = "[";  // appended step by step: GCC 12 -O3 mis-warns on "[" + std::string
  s += join(pos);
  s += "]";
  return s;
}

constexpr int kMaxReported = 6;

}  // namespace

std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::uint64_t Rng::next() {
  state_ += 0x9e3779b97f4a7c15ull;
  return mix64(state_);
}

std::int64_t Rng::uniform_int(std::int64_t lo, std::int64_t hi) {
  const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
  return lo + static_cast<std::int64_t>(next() % span);  // bias is irrelevant for tests
}

double Rng::uniform01() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

double Rng::normal() {
  const double u1 = 1.0 - uniform01();  // (0, 1]
  const double u2 = uniform01();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

std::uint64_t base_seed() {
  static const std::uint64_t seed = env_u64("EMBEDKIT_DIFF_SEED").value_or(20240611);
  return seed;
}

std::optional<int> only_case() {
  const auto value = env_u64("EMBEDKIT_DIFF_CASE");
  if (!value) return std::nullopt;
  return static_cast<int>(*value);
}

int case_count(int default_count) {
  const auto value = env_u64("EMBEDKIT_DIFF_CASES");
  return value ? static_cast<int>(*value) : default_count;
}

std::uint64_t case_seed(std::uint64_t base, std::uint64_t stream, int index) {
  return mix64(base ^ mix64((stream << 32) + static_cast<std::uint64_t>(index)));
}

std::string replay_line(std::uint64_t base, int index) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string filter = info != nullptr ? std::string(info->test_suite_name()) + "." + info->name()
                                       : std::string("*");
  return "replay: EMBEDKIT_DIFF_SEED=" + std::to_string(base) +
         " EMBEDKIT_DIFF_CASE=" + std::to_string(index) +
         " embedkit_torch_tests --gtest_filter=" + filter;
}

int failures_so_far() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return info != nullptr ? info->result()->total_part_count() : 0;
}

Tensor random_floats(Rng& rng, const Shape& shape, DType dtype) {
  const std::int64_t n = embedkit::shape_numel(shape);
  std::vector<float> values(static_cast<std::size_t>(n));
  for (float& v : values) v = static_cast<float>(rng.normal());
  return Tensor::from_floats(values, shape, dtype);
}

Tensor index_tensor(const std::vector<std::int64_t>& values, const Shape& shape, DType dtype) {
  if (dtype == DType::Int64) return Tensor::from_vector(values, shape);
  if (dtype == DType::Int32) {
    std::vector<std::int32_t> narrow(values.begin(), values.end());
    return Tensor::from_vector(narrow, shape);
  }
  // Anything else is used by the error tests (ids of a float type).
  std::vector<float> as_float(values.size());
  std::transform(values.begin(), values.end(), as_float.begin(),
                 [](std::int64_t v) { return static_cast<float>(v); });
  return Tensor::from_floats(as_float, shape, dtype);
}

std::string join(const std::vector<std::int64_t>& values) {
  std::string s;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(values[i]);
  }
  return s;
}

std::string join(const std::vector<double>& values) {
  std::string s;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) s += ", ";
    s += value_string(values[i]);
  }
  return s;
}

std::string optional_string(const std::optional<std::int64_t>& value) {
  return value ? std::to_string(*value) : "None";
}

std::string optional_string(const std::optional<double>& value) {
  if (!value) return "None";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", *value);
  return buf;
}

Tolerance tolerance_for(DType dtype) {
  switch (dtype) {
    case DType::Float16:
      return {1e-4, 1e-2};
    case DType::BFloat16:
      return {1e-3, 3e-2};
    default:
      return {1e-6, 1e-5};
  }
}

::testing::AssertionResult bitwise_equal(const std::string& what, const Tensor& actual,
                                         const Tensor& expected) {
  if (actual.dtype() != expected.dtype() || actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure()
           << what << ": got " << embedkit::dtype_name(actual.dtype())
           << embedkit::shape_string(actual.shape()) << ", expected "
           << embedkit::dtype_name(expected.dtype()) << embedkit::shape_string(expected.shape());
  }
  const std::size_t size = embedkit::dtype_size(actual.dtype());
  const auto* a = static_cast<const unsigned char*>(actual.raw_data());
  const auto* e = static_cast<const unsigned char*>(expected.raw_data());
  int mismatches = 0;
  std::ostringstream report;
  for (std::int64_t i = 0; i < actual.numel(); ++i) {
    const std::size_t at = static_cast<std::size_t>(i) * size;
    if (std::memcmp(a + at, e + at, size) == 0) continue;
    if (mismatches < kMaxReported) {
      report << "\n  at " << position(actual.shape(), i) << ": embedkit "
             << value_string(actual.item_at(i)) << " (" << hex_bits(actual, i) << "), torch "
             << value_string(expected.item_at(i)) << " (" << hex_bits(expected, i) << ")";
    }
    ++mismatches;
  }
  if (mismatches == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": " << mismatches << " of " << actual.numel()
                                       << " elements differ bitwise" << report.str();
}

::testing::AssertionResult all_close(const std::string& what, const Tensor& actual,
                                     const std::vector<double>& expected, Tolerance tol,
                                     const std::vector<double>& magnitude) {
  if (static_cast<std::int64_t>(expected.size()) != actual.numel() ||
      (!magnitude.empty() && magnitude.size() != expected.size())) {
    return ::testing::AssertionFailure()
           << what << ": got " << actual.numel() << " elements "
           << embedkit::shape_string(actual.shape()) << ", expected " << expected.size();
  }
  int mismatches = 0;
  std::ostringstream report;
  for (std::int64_t i = 0; i < actual.numel(); ++i) {
    const double a = actual.item_at(i);
    const double e = expected[static_cast<std::size_t>(i)];
    const double scale =
        std::max(std::fabs(e), magnitude.empty() ? 0.0 : magnitude[static_cast<std::size_t>(i)]);
    const double diff = std::fabs(a - e);
    if (diff <= tol.atol + tol.rtol * scale) continue;  // false for NaN, as wanted
    if (mismatches < kMaxReported) {
      report << "\n  at " << position(actual.shape(), i) << ": embedkit " << value_string(a)
             << ", expected " << value_string(e) << ", |diff| " << value_string(diff)
             << " > allowed " << value_string(tol.atol + tol.rtol * scale);
    }
    ++mismatches;
  }
  if (mismatches == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": " << mismatches << " of " << actual.numel()
                                       << " elements out of tolerance (atol " << tol.atol
                                       << ", rtol " << tol.rtol << ")" << report.str();
}

::testing::AssertionResult all_close(const std::string& what, const Tensor& actual,
                                     const Tensor& expected, Tolerance tol,
                                     const std::vector<double>& magnitude) {
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure()
           << what << ": got shape " << embedkit::shape_string(actual.shape()) << ", expected "
           << embedkit::shape_string(expected.shape());
  }
  return all_close(what, actual, to_doubles(expected), tol, magnitude);
}

::testing::AssertionResult same_integers(const std::string& what, const Tensor& actual,
                                         const Tensor& expected) {
  const std::vector<std::int64_t> a = actual.to_int64_vector();
  const std::vector<std::int64_t> e = expected.to_int64_vector();
  if (a == e) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << what << ": embedkit [" << join(a) << "], torch [" << join(e) << "]";
}

std::vector<double> to_doubles(const Tensor& t) {
  std::vector<double> out(static_cast<std::size_t>(t.numel()));
  for (std::int64_t i = 0; i < t.numel(); ++i) out[static_cast<std::size_t>(i)] = t.item_at(i);
  return out;
}

std::vector<double> rows_of(const std::vector<double>& matrix, const Tensor& rows,
                            std::int64_t dim) {
  std::vector<double> out;
  for (std::int64_t r : rows.to_int64_vector()) {
    out.insert(out.end(), matrix.begin() + r * dim, matrix.begin() + (r + 1) * dim);
  }
  return out;
}

std::vector<std::int64_t> changed_rows(const Tensor& before, const Tensor& after) {
  std::vector<std::int64_t> rows;
  const std::int64_t dim = before.size(1);
  for (std::int64_t r = 0; r < before.size(0); ++r) {
    for (std::int64_t j = 0; j < dim; ++j) {
      if (before.item_at(r * dim + j) != after.item_at(r * dim + j)) {
        rows.push_back(r);
        break;
      }
    }
  }
  return rows;
}

BagModel model_bag(const BagProblem& p, const std::vector<double>& table,
                   const std::vector<double>& grad_output) {
  using embedkit::nn::BagMode;
  const std::int64_t bags = p.num_bags();
  const std::int64_t dim = p.dim;
  const auto at = [](std::int64_t i) { return static_cast<std::size_t>(i); };
  const bool has_psw = !p.per_sample_weights.empty();
  BagModel m;
  m.output.assign(at(bags * dim), 0.0);
  m.output_magnitude.assign(at(bags * dim), 0.0);
  m.grad_weight.assign(at(p.num_rows * dim), 0.0);
  m.grad_weight_magnitude.assign(at(p.num_rows * dim), 0.0);
  m.grad_psw.assign(p.ids.size(), 0.0);
  m.grad_psw_magnitude.assign(p.ids.size(), 0.0);

  std::vector<std::int64_t> counts(at(p.num_rows), 0);
  for (std::int64_t id : p.ids) ++counts[at(id)];

  for (std::int64_t b = 0; b < bags; ++b) {
    std::int64_t size = 0;
    for (std::int64_t i = p.bounds[at(b)]; i < p.bounds[at(b + 1)]; ++i) {
      size += p.ids[at(i)] != p.padding_idx;
    }
    const double* g = grad_output.data() + b * dim;
    double* out = m.output.data() + b * dim;
    double* out_mag = m.output_magnitude.data() + b * dim;
    if (p.mode == BagMode::Max) {
      // Per column, the first of the largest values wins (PyTorch's `value > current` scan).
      for (std::int64_t j = 0; j < dim; ++j) {
        std::int64_t best = -1;
        for (std::int64_t i = p.bounds[at(b)]; i < p.bounds[at(b + 1)]; ++i) {
          const std::int64_t k = p.ids[at(i)];
          if (k == p.padding_idx) continue;
          if (best < 0 || table[at(k * dim + j)] > table[at(best * dim + j)]) best = k;
        }
        if (best < 0) continue;
        out[j] = table[at(best * dim + j)];
        out_mag[j] = std::fabs(out[j]);
        m.grad_weight[at(best * dim + j)] += g[j];
        m.grad_weight_magnitude[at(best * dim + j)] += std::fabs(g[j]);
      }
      continue;
    }
    for (std::int64_t i = p.bounds[at(b)]; i < p.bounds[at(b + 1)]; ++i) {
      const std::int64_t k = p.ids[at(i)];
      if (k == p.padding_idx) continue;
      double scale = has_psw ? p.per_sample_weights[at(i)] : 1.0;
      if (p.mode == BagMode::Mean) scale /= static_cast<double>(size);
      double grad_scale = scale;
      if (p.scale_grad_by_freq) grad_scale /= static_cast<double>(counts[at(k)]);
      const double* row = table.data() + k * dim;
      double dot = 0.0;
      double dot_mag = 0.0;
      for (std::int64_t j = 0; j < dim; ++j) {
        out[j] += scale * row[j];
        out_mag[j] += std::fabs(scale * row[j]);
        m.grad_weight[at(k * dim + j)] += grad_scale * g[j];
        m.grad_weight_magnitude[at(k * dim + j)] += std::fabs(grad_scale * g[j]);
        dot += g[j] * row[j];
        dot_mag += std::fabs(g[j] * row[j]);
      }
      m.grad_psw[at(i)] = dot;
      m.grad_psw_magnitude[at(i)] = dot_mag;
    }
  }
  return m;
}

}  // namespace embedkit_diff
