// Element types a Tensor can hold, and the two 16-bit float formats.
//
// float16 and bfloat16 are storage formats: kernels widen them to float32, compute,
// and round back with round-to-nearest-even, so results do not depend on the CPU.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace embedkit {

enum class DType : std::uint8_t { Float32, Float16, BFloat16, Int32, Int64 };

constexpr std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::Float32:
    case DType::Int32:
      return 4;
    case DType::Float16:
    case DType::BFloat16:
      return 2;
    case DType::Int64:
      return 8;
  }
  return 0;
}

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::Float32:
      return "float32";
    case DType::Float16:
      return "float16";
    case DType::BFloat16:
      return "bfloat16";
    case DType::Int32:
      return "int32";
    case DType::Int64:
      return "int64";
  }
  return "?";
}

constexpr bool is_floating(DType t) {
  return t == DType::Float32 || t == DType::Float16 || t == DType::BFloat16;
}
constexpr bool is_index(DType t) {
  return t == DType::Int32 || t == DType::Int64;
}

inline std::uint32_t float_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
inline float bits_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// IEEE 754 binary16.
struct Half {
  std::uint16_t bits = 0;

  Half() = default;
  explicit Half(float f) : bits(from_float(f)) {}
  explicit operator float() const { return to_float(bits); }

  static std::uint16_t from_float(float f) {
    const std::uint32_t x = float_bits(f);
    const std::uint32_t sign = (x >> 16) & 0x8000u;
    const std::uint32_t abs = x & 0x7fffffffu;
    if (abs >= 0x7f800000u) {  // inf or nan; keep nan quiet
      return static_cast<std::uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x0200u : 0u));
    }
    if (abs >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // rounds to inf
    if (abs < 0x38800000u) {  // result is subnormal or zero: scale so the FPU rounds for us
      const float magic = bits_float(0x3f000000u);  // 0.5: adds 2^-1 * 2^-24 units
      const float r = bits_float(abs) + magic;
      return static_cast<std::uint16_t>(sign | (float_bits(r) - float_bits(magic)));
    }
    const std::uint32_t mant_odd = (abs >> 13) & 1u;
    std::uint32_t v = abs + 0xc8000fffu + mant_odd;  // rebias exponent, round to nearest even
    return static_cast<std::uint16_t>(sign | (v >> 13));
  }

  static float to_float(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1fu;
    const std::uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f) return bits_float(sign | 0x7f800000u | (mant << 13));
    if (exp == 0) {
      // subnormal: mant * 2^-24
      const float m = static_cast<float>(mant) * bits_float(0x33800000u);
      return sign ? -m : m;
    }
    return bits_float(sign | ((exp + 112u) << 23) | (mant << 13));
  }
};

// bfloat16: the top half of a float32.
struct BFloat16 {
  std::uint16_t bits = 0;

  BFloat16() = default;
  explicit BFloat16(float f) : bits(from_float(f)) {}
  explicit operator float() const { return to_float(bits); }

  static std::uint16_t from_float(float f) {
    const std::uint32_t x = float_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);
    const std::uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
    return static_cast<std::uint16_t>((x + rounding) >> 16);
  }
  static float to_float(std::uint16_t b) { return bits_float(static_cast<std::uint32_t>(b) << 16); }
};

template <class T>
struct dtype_of;
template <>
struct dtype_of<float> {
  static constexpr DType value = DType::Float32;
};
template <>
struct dtype_of<Half> {
  static constexpr DType value = DType::Float16;
};
template <>
struct dtype_of<BFloat16> {
  static constexpr DType value = DType::BFloat16;
};
template <>
struct dtype_of<std::int32_t> {
  static constexpr DType value = DType::Int32;
};
template <>
struct dtype_of<std::int64_t> {
  static constexpr DType value = DType::Int64;
};

// Widen any stored float element to float32, and round float32 back to storage.
inline float to_f32(float x) {
  return x;
}
inline float to_f32(Half x) {
  return static_cast<float>(x);
}
inline float to_f32(BFloat16 x) {
  return static_cast<float>(x);
}
template <class T>
T from_f32(float x) {
  return T(x);
}

}  // namespace embedkit
