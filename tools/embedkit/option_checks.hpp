// Validators for numeric options, used instead of CLI11's Range / PositiveNumber /
// NonNegativeNumber, which (CLI11 2.1) print their bounds with std::to_string (a 309-digit
// number for "no upper bound") and let NaN and infinity through (every comparison with NaN is
// false). These refuse NaN and infinity for every floating-point option, say the bounds the
// way a person writes them ("from 0 to 1", "> 0"), and parse the value as the option's own
// type, so a check and the option never disagree.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <type_traits>

#include <CLI/CLI.hpp>

namespace embedkit::cli {

namespace detail {

// A bound as a person writes it: 1e+06 rather than 1000000.000000, 0.99 rather than 0.990000.
template <class T>
std::string readable_number(T value) {
  if constexpr (std::is_floating_point_v<T>) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", static_cast<double>(value));
    return buf;
  } else {
    return std::to_string(value);
  }
}

// Parses `text` as T; false when it is not a T or, for floating-point types, not finite. Whole
// numbers are decimal digits with an optional '-' for signed types, nothing else: CLI11 alone
// would wrap "-3" around to 2^64 - 3 for an unsigned option.
template <class T>
bool parse_number(const std::string& text, T& value, std::string& problem) {
  if constexpr (std::is_floating_point_v<T>) {
    if (!CLI::detail::lexical_cast(text, value)) {
      problem = "expected a number";
      return false;
    }
    if (!std::isfinite(value)) {
      problem = "expected a finite number (not NaN or infinity)";
      return false;
    }
  } else {
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end) {
      problem = "expected a whole number from " + readable_number(std::numeric_limits<T>::min()) +
                " to " + readable_number(std::numeric_limits<T>::max());
      return false;
    }
  }
  return true;
}

inline std::string got(const std::string& text) {
  return ", got '" + text + "'";
}

}  // namespace detail

// A whole number from 0 to 2^64 - 1 (a seed): CLI11 alone would wrap "-3" around to 2^64 - 3.
inline CLI::Validator uint64_value() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::uint64_t value = 0;
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, value);
        if (text.empty() || ec != std::errc() || ptr != end) {
          return "expected a whole number from 0 to 2^64 - 1" + detail::got(text);
        }
        return {};
      },
      "UINT64");
}

// A T from `low` to `high`, both included.
template <class T>
CLI::Validator in_range(T low, T high) {
  const std::string bounds =
      "from " + detail::readable_number(low) + " to " + detail::readable_number(high);
  return CLI::Validator(
      [low, high, bounds](std::string& text) -> std::string {
        T value{};
        std::string problem;
        if (!detail::parse_number(text, value, problem)) return problem + detail::got(text);
        if (value < low || value > high) return "expected a value " + bounds + detail::got(text);
        return {};
      },
      bounds);
}

// A T greater than 0 (finite for floating-point types).
template <class T>
CLI::Validator positive() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        T value{};
        std::string problem;
        if (!detail::parse_number(text, value, problem)) return problem + detail::got(text);
        if (!(value > T{0})) return "expected a value > 0" + detail::got(text);
        return {};
      },
      "> 0");
}

// A T of 0 or more (finite for floating-point types).
template <class T>
CLI::Validator non_negative() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        T value{};
        std::string problem;
        if (!detail::parse_number(text, value, problem)) return problem + detail::got(text);
        if (!(value >= T{0})) return "expected a value >= 0" + detail::got(text);
        return {};
      },
      ">= 0");
}

// Any finite double (an option without bounds that still must not be NaN or infinity).
inline CLI::Validator finite_number() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double value = 0;
        std::string problem;
        if (!detail::parse_number(text, value, problem)) return problem + detail::got(text);
        return {};
      },
      "finite");
}

}  // namespace embedkit::cli
