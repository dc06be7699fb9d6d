#include "embedkit/core/float_text.hpp"

#include <charconv>
#include <cmath>

namespace embedkit {

namespace {

template <class Float>
void append_shortest(std::string& out, Float x) {
  // The longest shortest text of a double is 24 characters ("-2.2250738585072014e-308").
  char buf[32];
  const auto result = std::to_chars(buf, buf + sizeof buf, x);
  out.append(buf, result.ptr);
}

}  // namespace

void append_shortest_float_text(std::string& out, double x) {
  append_shortest(out, x);
}

void append_shortest_float_text(std::string& out, float x) {
  append_shortest(out, x);
}

std::string shortest_float_text(double x) {
  std::string out;
  append_shortest(out, x);
  return out;
}

std::string shortest_float_text(float x) {
  std::string out;
  append_shortest(out, x);
  return out;
}

std::string python_float_repr(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  std::string s = shortest_float_text(x);
  // Python always shows a float as a float: "1.0", not "1".
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

}  // namespace embedkit
