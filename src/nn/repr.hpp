// Formatting of module reprs the way PyTorch prints them (Python's float repr, True/False).
#pragma once

#include <charconv>
#include <cmath>
#include <string>

namespace embedkit::nn::detail {

inline std::string py_float(double x) {
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  if (std::isnan(x)) return "nan";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);  // shortest round-trip, like Python
  std::string s(buf, r.ptr);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

inline std::string py_bool(bool b) {
  return b ? "True" : "False";
}

}  // namespace embedkit::nn::detail
