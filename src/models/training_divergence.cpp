#include "embedkit/models/training_divergence.hpp"

#include <bit>
#include <cmath>

namespace embedkit::models {

TrainingDivergedError::TrainingDivergedError(std::int64_t epoch, std::string_view unit,
                                             std::int64_t position, const std::string& problem,
                                             std::string_view rate_option)
    : Error("training diverged at epoch " + std::to_string(epoch) + ", " + std::string(unit) + " " +
            std::to_string(position) + ": " + problem + "; lower " + std::string(rate_option)),
      epoch_(epoch),
      position_(position) {}

std::string non_finite_loss(double loss) {
  if (std::isnan(loss)) return "loss is NaN";
  return loss > 0 ? "loss is inf" : "loss is -inf";
}

std::int64_t first_non_finite(const float* values, std::size_t count) {
  // A float is NaN or infinite exactly when its exponent bits are all ones. Or-ing that test
  // over the whole table vectorizes (an early exit on std::isfinite does not): one fast pass in
  // the common all-finite case, a second only to find the position.
  constexpr std::uint32_t kExponent = 0x7f800000u;
  std::uint32_t any = 0;
  for (std::size_t i = 0; i < count; ++i) {
    any |= (std::bit_cast<std::uint32_t>(values[i]) & kExponent) == kExponent ? 1u : 0u;
  }
  if (any == 0) return -1;
  for (std::size_t i = 0; i < count; ++i) {
    if (!std::isfinite(values[i])) return static_cast<std::int64_t>(i);
  }
  return -1;
}

std::int64_t first_non_finite(const Tensor& table) {
  return first_non_finite(table.data<float>(), static_cast<std::size_t>(table.numel()));
}

std::string non_finite_tensor(const Tensor& table, std::string_view name) {
  const std::int64_t at = first_non_finite(table);
  if (at < 0) return "";
  const float value = table.data<float>()[at];
  return "tensor '" + std::string(name) + "' holds a non-finite value (" +
         (std::isnan(value) ? "NaN"
          : value > 0       ? "inf"
                            : "-inf") +
         " at element " + std::to_string(at) + ")";
}

}  // namespace embedkit::models
