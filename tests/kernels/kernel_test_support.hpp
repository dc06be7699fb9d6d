// Shared pieces of the fast-vs-ref kernel tests: the (instruction set, thread count)
// configurations every test runs under, typed loops, random inputs and bitwise comparison.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "embedkit/core/dtype.hpp"
#include "embedkit/core/thread_pool.hpp"
#include "kernels/cpu/isa.hpp"

namespace embedkit::kernels::test {

using cpu::Isa;

struct Config {
  Isa isa;
  int threads;
};

inline int all_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

// Every level (levels the CPU lacks are skipped at run time, so the list is the same on every
// machine) with 1 thread, 3 threads (uneven splits) and all hardware threads.
inline std::vector<Config> all_configs() {
  std::vector<Config> c;
  for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
    for (int t : {1, 3, all_threads()}) c.push_back({isa, t});
  }
  return c;
}

inline std::string config_name(const ::testing::TestParamInfo<Config>& info) {
  return std::string(cpu::isa_name(info.param.isa)) + "_" + std::to_string(info.param.threads) +
         "threads_" + std::to_string(info.index);
}

// Runs each test under its configuration's forced level and thread count.
class KernelTest : public ::testing::TestWithParam<Config> {
 protected:
  void SetUp() override {
    if (!cpu::isa_supported(GetParam().isa)) {
      GTEST_SKIP() << "this CPU lacks " << cpu::isa_name(GetParam().isa);
    }
    saved_threads_ = get_num_threads();
    cpu::set_isa_override(GetParam().isa);
    set_num_threads(GetParam().threads);
  }
  void TearDown() override {
    cpu::set_isa_override(std::nullopt);
    if (saved_threads_ > 0) set_num_threads(saved_threads_);
  }

 private:
  int saved_threads_ = 0;
};

// f(W{}, I{}) for every table type and id type.
template <class F>
void for_each_type(F&& f) {
  f(float{}, std::int32_t{});
  f(float{}, std::int64_t{});
  f(Half{}, std::int32_t{});
  f(Half{}, std::int64_t{});
  f(BFloat16{}, std::int32_t{});
  f(BFloat16{}, std::int64_t{});
}

template <class W>
std::string type_name() {
  return std::string(dtype_name(dtype_of<W>::value));
}

// n values: N(0, 1) rounded to W; `levels` > 0 gives small integers in [-levels, levels]
// instead, so that ties (for max) and exact sums are common.
template <class W>
std::vector<W> random_values(std::int64_t n, std::uint64_t seed, int levels = 0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> level(-levels, levels);
  std::vector<W> v(static_cast<std::size_t>(n));
  for (W& x : v) x = from_f32<W>(levels > 0 ? static_cast<float>(level(rng)) : normal(rng));
  return v;
}

enum class IdPattern { Uniform, HotRow, FewRows };

template <class I>
std::vector<I> random_ids(std::int64_t n, std::int64_t num_rows, std::uint64_t seed,
                          IdPattern pattern = IdPattern::Uniform) {
  std::mt19937_64 rng(seed);
  std::vector<I> ids(static_cast<std::size_t>(n));
  if (num_rows == 0) return ids;
  const std::int64_t span =
      pattern == IdPattern::FewRows ? std::min<std::int64_t>(num_rows, 5) : num_rows;
  std::uniform_int_distribution<std::int64_t> dist(0, span - 1);
  const std::int64_t hot = num_rows / 2;
  for (I& id : ids) id = static_cast<I>(pattern == IdPattern::HotRow ? hot : dist(rng));
  return ids;
}

// CSR bounds for `num_bags` bags of random sizes in [0, max_size] (empty bags included).
inline std::vector<std::int64_t> random_bounds(std::int64_t num_bags, std::int64_t max_size,
                                               std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> size(0, max_size);
  std::vector<std::int64_t> b(static_cast<std::size_t>(num_bags) + 1, 0);
  for (std::size_t i = 1; i < b.size(); ++i) b[i] = b[i - 1] + size(rng);
  return b;
}

template <class W>
auto bits_of(W x) {
  if constexpr (sizeof(W) == 4) {
    std::uint32_t u;
    std::memcpy(&u, &x, 4);
    return u;
  } else {
    std::uint16_t u;
    std::memcpy(&u, &x, 2);
    return u;
  }
}

// Equal bit patterns, or both NaN (payloads are not part of the contract).
template <class W>
::testing::AssertionResult bitwise_equal(const std::vector<W>& expected,
                                         const std::vector<W>& actual) {
  if (expected.size() != actual.size()) {
    return ::testing::AssertionFailure()
           << "sizes differ: " << expected.size() << " vs " << actual.size();
  }
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const float e = to_f32(expected[i]);
    const float a = to_f32(actual[i]);
    if (std::isnan(e) && std::isnan(a)) continue;
    if (bits_of(expected[i]) != bits_of(actual[i])) {
      return ::testing::AssertionFailure()
             << "first difference at element " << i << ": expected " << e << " (bits 0x" << std::hex
             << bits_of(expected[i]) << "), got " << a << " (bits 0x" << bits_of(actual[i])
             << std::dec << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace embedkit::kernels::test
