// The one float-to-text function (embedkit/core/float_text.hpp): the shortest text that reads
// back to the same value, for floats and doubles, and Python's repr of a float.
#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>

#include "embedkit/core/float_text.hpp"

namespace {

using embedkit::append_shortest_float_text;
using embedkit::python_float_repr;
using embedkit::shortest_float_text;

template <class Float>
Float read_back(const std::string& text) {
  Float value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  EXPECT_EQ(ec, std::errc()) << text;
  EXPECT_EQ(end, text.data() + text.size()) << text;
  return value;
}

TEST(FloatText, ShortestTextOfDoubles) {
  EXPECT_EQ(shortest_float_text(0.1), "0.1");
  EXPECT_EQ(shortest_float_text(0.05), "0.05");
  EXPECT_EQ(shortest_float_text(1.0), "1");
  EXPECT_EQ(shortest_float_text(-0.0), "-0");
  EXPECT_EQ(shortest_float_text(1e-7), "1e-07");
  EXPECT_EQ(shortest_float_text(1e300), "1e+300");
  EXPECT_EQ(shortest_float_text(static_cast<double>(3.7f)), "3.700000047683716");
  EXPECT_EQ(shortest_float_text(std::numeric_limits<double>::lowest()), "-1.7976931348623157e+308");
  EXPECT_EQ(shortest_float_text(-std::numeric_limits<double>::min()), "-2.2250738585072014e-308");
  EXPECT_EQ(shortest_float_text(std::numeric_limits<double>::infinity()), "inf");
}

TEST(FloatText, ShortestTextOfFloats) {
  EXPECT_EQ(shortest_float_text(0.1f), "0.1");
  EXPECT_EQ(shortest_float_text(3.7f), "3.7");
  EXPECT_EQ(shortest_float_text(-0.25f), "-0.25");
  EXPECT_EQ(shortest_float_text(1e-3f), "0.001");
  EXPECT_EQ(shortest_float_text(std::numeric_limits<float>::denorm_min()), "1e-45");
  EXPECT_EQ(shortest_float_text(-std::numeric_limits<float>::infinity()), "-inf");
}

TEST(FloatText, AppendsWhatShortestTextReturns) {
  std::string out = "x=";
  append_shortest_float_text(out, 0.1f);
  out += ',';
  append_shortest_float_text(out, 0.1);
  EXPECT_EQ(out, "x=0.1,0.1");
}

// Every float pattern of a sweep reads back bit for bit, and no shorter text would.
TEST(FloatText, ReadsBackToTheSameBits) {
  for (std::uint32_t bits = 0; bits < 0x7f800000u; bits += 0x00012345u) {
    for (const std::uint32_t sign : {0u, 0x80000000u}) {
      float x = 0;
      const std::uint32_t pattern = bits | sign;
      std::memcpy(&x, &pattern, sizeof x);
      const std::string text = shortest_float_text(x);
      const float back = read_back<float>(text);
      EXPECT_EQ(std::memcmp(&back, &x, sizeof x), 0) << text;
      const double wide = static_cast<double>(x) * 1.000000123;
      EXPECT_EQ(read_back<double>(shortest_float_text(wide)), wide);
    }
  }
}

// As Python prints a float: whole numbers keep ".0", exponents and non-finite values as Python.
TEST(FloatText, PythonFloatRepr) {
  EXPECT_EQ(python_float_repr(1.0), "1.0");
  EXPECT_EQ(python_float_repr(-2.0), "-2.0");
  EXPECT_EQ(python_float_repr(0.0), "0.0");
  EXPECT_EQ(python_float_repr(0.1), "0.1");
  EXPECT_EQ(python_float_repr(1e-10), "1e-10");
  EXPECT_EQ(python_float_repr(1e20), "1e+20");
  EXPECT_EQ(python_float_repr(static_cast<double>(0.1f)), "0.10000000149011612");
  EXPECT_EQ(python_float_repr(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(python_float_repr(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(python_float_repr(std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(python_float_repr(-std::numeric_limits<double>::quiet_NaN()), "nan");
}

}  // namespace
