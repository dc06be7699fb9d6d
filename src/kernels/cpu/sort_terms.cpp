#include "kernels/cpu/sort_terms.hpp"

#include <algorithm>
#include <array>
#include <bit>

namespace embedkit::kernels::cpu {

namespace {

constexpr int kDigitBits = 11;  // 2048 counters: 16 KiB of histogram, fits L1 with room
constexpr std::size_t kBuckets = std::size_t{1} << kDigitBits;
// Below this a comparison sort beats touching 2048 counters per pass.
constexpr std::size_t kRadixMin = 4096;

}  // namespace

void sort_terms_by_dst(std::vector<RowTerm>& terms, std::int64_t lo, std::int64_t hi,
                       std::vector<RowTerm>& scratch) {
  const std::size_t n = terms.size();
  if (n < 2 || hi - lo <= 1) return;
  if (n < kRadixMin) {
    std::stable_sort(terms.begin(), terms.end(),
                     [](const RowTerm& a, const RowTerm& b) { return a.dst < b.dst; });
    return;
  }
  const auto range = static_cast<std::uint64_t>(hi - lo - 1);
  const auto bits = static_cast<int>(std::bit_width(range));
  scratch.resize(n);
  std::array<std::size_t, kBuckets> count{};
  for (int shift = 0; shift < bits; shift += kDigitBits) {
    count.fill(0);
    auto digit = [&](const RowTerm& t) {
      return static_cast<std::size_t>((static_cast<std::uint64_t>(t.dst - lo) >> shift) &
                                      (kBuckets - 1));
    };
    for (const RowTerm& t : terms) ++count[digit(t)];
    if (count[digit(terms[0])] == n) continue;  // every key has this digit: nothing moves
    std::size_t sum = 0;
    for (std::size_t& c : count) {
      const std::size_t here = c;
      c = sum;
      sum += here;
    }
    for (const RowTerm& t : terms) scratch[count[digit(t)]++] = t;
    terms.swap(scratch);
  }
}

void group_by_row(const std::int64_t* rows, std::int64_t n, std::int64_t num_rows,
                  std::int64_t padding_idx, std::vector<RowTerm>& terms,
                  std::vector<RowTerm>& scratch) {
  terms.clear();
  for (std::int64_t i = 0; i < n; ++i) {
    if (rows[i] != padding_idx) terms.push_back({rows[i], i, 0.0f});
  }
  sort_terms_by_dst(terms, 0, num_rows, scratch);
}

}  // namespace embedkit::kernels::cpu
