#include "embedkit/core/generator.hpp"

#include <cmath>
#include <mutex>
#include <numbers>

namespace embedkit {

namespace {
std::mutex& default_mutex() {
  static std::mutex m;
  return m;
}
}  // namespace

double Generator::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  // 1 - u keeps the logarithm's argument in (0, 1].
  const double u1 = 1.0 - uniform();
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * std::numbers::pi * u2;
  spare_ = r * std::sin(theta);
  has_spare_ = true;
  return r * std::cos(theta);
}

Generator& default_generator() {
  static Generator gen;
  return gen;
}

void manual_seed(std::uint64_t seed) {
  std::lock_guard<std::mutex> lock(default_mutex());
  default_generator().seed(seed);
}

void fill_normal(Tensor& t, Generator& gen, double mean, double std) {
  const std::int64_t n = t.numel();
  switch (t.dtype()) {
    case DType::Float32: {
      float* p = t.data<float>();
      for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(mean + std * gen.normal());
      return;
    }
    case DType::Float16: {
      Half* p = t.data<Half>();
      for (std::int64_t i = 0; i < n; ++i)
        p[i] = Half(static_cast<float>(mean + std * gen.normal()));
      return;
    }
    case DType::BFloat16: {
      BFloat16* p = t.data<BFloat16>();
      for (std::int64_t i = 0; i < n; ++i) {
        p[i] = BFloat16(static_cast<float>(mean + std * gen.normal()));
      }
      return;
    }
    default:
      throw TypeError("fill_normal needs a float tensor, got " +
                      std::string(dtype_name(t.dtype())));
  }
}

void fill_normal(Tensor& t, double mean, double std) {
  std::lock_guard<std::mutex> lock(default_mutex());
  fill_normal(t, default_generator(), mean, std);
}

}  // namespace embedkit
