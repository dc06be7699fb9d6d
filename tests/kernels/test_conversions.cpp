// The kernels' float16 / bfloat16 conversions (F16C, AVX-512 and integer rounding) against
// dtype.hpp's Half and BFloat16, which define them: every 16-bit pattern widened, and narrowing
// of every float near a rounding boundary plus a spread of all float bit patterns.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernel_test_support.hpp"
#include "kernels/cpu/isa_kernels.hpp"

namespace embedkit::kernels::test {
namespace {

using Conversions = KernelTest;

template <class W>
void check_widen() {
  std::vector<W> all(65536);
  for (std::size_t b = 0; b < all.size(); ++b) all[b].bits = static_cast<std::uint16_t>(b);
  std::vector<float> out(all.size());
  // Odd lengths reach the partial-vector paths.
  for (std::int64_t n : {std::int64_t{65536}, std::int64_t{65535}, std::int64_t{5}}) {
    cpu::isa_kernels<W, std::int64_t>().widen(all.data(), n, out.data());
    for (std::int64_t b = 0; b < n; ++b) {
      const float expected = to_f32(all[static_cast<std::size_t>(b)]);
      const float actual = out[static_cast<std::size_t>(b)];
      if (std::isnan(expected)) {
        EXPECT_TRUE(std::isnan(actual)) << type_name<W>() << " bits " << b;
      } else {
        EXPECT_EQ(float_bits(expected), float_bits(actual)) << type_name<W>() << " bits " << b;
      }
    }
  }
}

template <class W>
void check_narrow() {
  std::vector<float> in;
  // Around every 16-bit value: the value itself, the midpoints to its neighbours and one float
  // ulp either side of them (ties to even, and just off the tie).
  for (std::uint32_t b = 0; b < 65536; ++b) {
    W lo;
    lo.bits = static_cast<std::uint16_t>(b);
    W hi;
    hi.bits = static_cast<std::uint16_t>(b + 1);
    const float a = to_f32(lo);
    const float c = to_f32(hi);
    in.push_back(a);
    if (std::isfinite(a) && std::isfinite(c) && (b & 0x7fffu) != 0x7fffu) {
      const float mid = static_cast<float>((static_cast<double>(a) + static_cast<double>(c)) / 2);
      in.push_back(mid);
      in.push_back(std::nextafter(mid, -INFINITY));
      in.push_back(std::nextafter(mid, INFINITY));
    }
  }
  // A spread over all float bit patterns (NaNs with payloads, subnormals, huge values).
  for (std::uint64_t u = 0; u < (std::uint64_t{1} << 32); u += 65537) {
    in.push_back(bits_float(static_cast<std::uint32_t>(u)));
  }
  in.push_back(65520.0f);  // float16: rounds to infinity
  in.push_back(65519.996f);
  std::vector<W> out(in.size());
  cpu::isa_kernels<W, std::int64_t>().narrow(in.data(), static_cast<std::int64_t>(in.size()),
                                             out.data());
  for (std::size_t k = 0; k < in.size(); ++k) {
    const W expected = from_f32<W>(in[k]);
    if (std::isnan(in[k])) {
      EXPECT_TRUE(std::isnan(to_f32(out[k])))
          << type_name<W>() << " input bits 0x" << std::hex << float_bits(in[k]);
    } else {
      EXPECT_EQ(expected.bits, out[k].bits)
          << type_name<W>() << " input " << in[k] << " bits 0x" << std::hex << float_bits(in[k]);
    }
  }
}

TEST_P(Conversions, WidenIsExact) {
  check_widen<Half>();
  check_widen<BFloat16>();
}

TEST_P(Conversions, NarrowRoundsToNearestEven) {
  check_narrow<Half>();
  check_narrow<BFloat16>();
}

INSTANTIATE_TEST_SUITE_P(AllLevels, Conversions,
                         ::testing::Values(Config{Isa::Generic, 1}, Config{Isa::Avx2, 1},
                                           Config{Isa::Avx512, 1}),
                         config_name);

}  // namespace
}  // namespace embedkit::kernels::test
