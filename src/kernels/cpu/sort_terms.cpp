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

// Stable LSD radix sort of items by key(item) on bits [lo_bit, lo_bit + bits), digit_bits
// (<= kDigitBits) at a time; a pass whose digit is the same for every item moves nothing.
// sort_terms_by_dst and group_by_row's packed keys share it.
template <class T, class Key>
void lsd_radix_sort(std::vector<T>& items, std::vector<T>& spare, int lo_bit, int bits,
                    int digit_bits, Key key) {
  const std::size_t n = items.size();
  const std::uint64_t mask = (std::uint64_t{1} << digit_bits) - 1;
  spare.resize(n);
  std::array<std::size_t, kBuckets> count{};
  for (int shift = lo_bit; shift < lo_bit + bits; shift += digit_bits) {
    auto digit = [&](const T& t) { return static_cast<std::size_t>((key(t) >> shift) & mask); };
    std::fill(count.begin(), count.begin() + static_cast<std::ptrdiff_t>(mask + 1), 0);
    for (const T& t : items) ++count[digit(t)];
    if (count[digit(items[0])] == n) continue;  // every key has this digit: nothing moves
    std::size_t sum = 0;
    for (std::size_t d = 0; d <= mask; ++d) {
      const std::size_t here = count[d];
      count[d] = sum;
      sum += here;
    }
    for (const T& t : items) spare[count[digit(t)]++] = t;
    items.swap(spare);
  }
}

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
  lsd_radix_sort(terms, scratch, 0, bits, kDigitBits,
                 [lo](const RowTerm& t) { return static_cast<std::uint64_t>(t.dst - lo); });
}

namespace {

// Stable LSD radix sort of keys on bits [lo_bit, lo_bit + bits), digits of at most kDigitBits
// spread evenly over the passes (8-bit digits for a 23-bit row, three passes). Keys made in
// position order come out sorted by (row, position).
void radix_sort_keys(std::vector<std::uint64_t>& keys, int lo_bit, int bits,
                     std::vector<std::uint64_t>& spare) {
  if (keys.size() < 2 || bits <= 0) return;
  const int passes = (bits + kDigitBits - 1) / kDigitBits;
  lsd_radix_sort(keys, spare, lo_bit, bits, (bits + passes - 1) / passes,
                 [](std::uint64_t k) { return k; });
}

}  // namespace

void group_by_row(const std::int64_t* rows, std::int64_t n, std::int64_t num_rows,
                  std::int64_t padding_idx, std::vector<RowTerm>& terms,
                  RowGroupingScratch& scratch) {
  terms.clear();
  if (n <= 0) return;
  const auto pos_bits = static_cast<int>(std::bit_width(static_cast<std::uint64_t>(n - 1)));
  const auto row_bits = static_cast<int>(
      std::bit_width(static_cast<std::uint64_t>(std::max<std::int64_t>(num_rows, 1) - 1)));
  if (pos_bits + row_bits > 64) {
    // Rows and positions too wide to share a key (a row range of 2^40 and more): the terms'
    // own sort.
    for (std::int64_t i = 0; i < n; ++i) {
      if (rows[i] != padding_idx) terms.push_back({rows[i], i, 0.0f});
    }
    sort_terms_by_dst(terms, 0, num_rows, scratch.terms);
    return;
  }
  // (row, position) packed into one 64-bit key, made in position order: a third of a term's
  // bytes to move in each radix pass, and the sort on the row bits alone keeps the positions of
  // a row in input order. Distinct keys: below the radix sort's size any sort is the stable one.
  std::vector<std::uint64_t>& keys = scratch.keys;
  keys.clear();
  keys.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    if (rows[i] != padding_idx) {
      keys.push_back((static_cast<std::uint64_t>(rows[i]) << pos_bits) |
                     static_cast<std::uint64_t>(i));
    }
  }
  if (keys.size() < kRadixMin) {
    std::sort(keys.begin(), keys.end());
  } else {
    radix_sort_keys(keys, pos_bits, row_bits, scratch.spare);
  }
  const std::uint64_t pos_mask = pos_bits == 0 ? 0 : (~std::uint64_t{0} >> (64 - pos_bits));
  terms.resize(keys.size());
  for (std::size_t k = 0; k < keys.size(); ++k) {
    terms[k] = {static_cast<std::int64_t>(keys[k] >> pos_bits),
                static_cast<std::int64_t>(keys[k] & pos_mask), 0.0f};
  }
}

}  // namespace embedkit::kernels::cpu
