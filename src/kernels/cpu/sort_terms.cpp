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
// input order come out sorted by (row, input order).
template <class Key>
void radix_sort_keys(std::vector<Key>& keys, int lo_bit, int bits, std::vector<Key>& spare) {
  if (keys.size() < 2 || bits <= 0) return;
  const int passes = (bits + kDigitBits - 1) / kDigitBits;
  lsd_radix_sort(keys, spare, lo_bit, bits, (bits + passes - 1) / passes,
                 [](Key k) { return static_cast<std::uint64_t>(k); });
}

// (row, src) packed into one Key, row above src_bits, made in input order: a third (64-bit) or
// a sixth (32-bit) of a term's bytes to move in each radix pass, and the sort on the row bits
// alone keeps a row's keys in input order. Then expanded to terms {row, src, 0}. Below the
// radix sort's size any sort is the stable one: keys that compare equal are equal.
template <class Key, class ForEachPair>
void group_packed(ForEachPair for_each_pair, std::size_t capacity, int src_bits, int row_bits,
                  std::vector<Key>& keys, std::vector<Key>& spare, std::vector<RowTerm>& terms) {
  keys.clear();
  keys.reserve(capacity);
  for_each_pair([&](std::int64_t row, std::int64_t src) {
    keys.push_back(static_cast<Key>((static_cast<Key>(row) << src_bits) | static_cast<Key>(src)));
  });
  if (keys.size() < kRadixMin) {
    std::sort(keys.begin(), keys.end());
  } else {
    radix_sort_keys(keys, src_bits, row_bits, spare);
  }
  const Key src_mask =
      src_bits == 0 ? Key{0} : static_cast<Key>(~Key{0} >> (sizeof(Key) * 8 - src_bits));
  terms.resize(keys.size());
  for (std::size_t k = 0; k < keys.size(); ++k) {
    terms[k] = {static_cast<std::int64_t>(keys[k] >> src_bits),
                static_cast<std::int64_t>(keys[k] & src_mask), 0.0f};
  }
}

// The terms {row, src, 0} of for_each_pair's (row, src) pairs (src in [0, max_src]), sorted by
// row, a row's terms in the order made: in the narrowest packed key they fit, else (a row range
// of 2^40 and more) by the terms' own sort.
template <class ForEachPair>
void group_pairs(ForEachPair for_each_pair, std::size_t capacity, std::int64_t max_src,
                 std::int64_t num_rows, std::vector<RowTerm>& terms, RowGroupingScratch& scratch) {
  const auto src_bits = static_cast<int>(std::bit_width(static_cast<std::uint64_t>(max_src)));
  const auto row_bits = static_cast<int>(
      std::bit_width(static_cast<std::uint64_t>(std::max<std::int64_t>(num_rows, 1) - 1)));
  // (A shift by the key's whole width is undefined: a one-row table's 2^32 ids take 64 bits.)
  if (src_bits + row_bits <= 32 && src_bits < 32) {
    group_packed<std::uint32_t>(for_each_pair, capacity, src_bits, row_bits, scratch.keys32,
                                scratch.spare32, terms);
  } else if (src_bits + row_bits <= 64) {
    group_packed<std::uint64_t>(for_each_pair, capacity, src_bits, row_bits, scratch.keys,
                                scratch.spare, terms);
  } else {
    terms.clear();
    terms.reserve(capacity);
    for_each_pair([&](std::int64_t row, std::int64_t src) { terms.push_back({row, src, 0.0f}); });
    sort_terms_by_dst(terms, 0, num_rows, scratch.terms);
  }
}

}  // namespace

void group_by_row(const std::int64_t* rows, std::int64_t n, std::int64_t num_rows,
                  std::int64_t padding_idx, std::vector<RowTerm>& terms,
                  RowGroupingScratch& scratch) {
  terms.clear();
  if (n <= 0) return;
  group_pairs(
      [&](auto&& emit) {
        for (std::int64_t i = 0; i < n; ++i) {
          if (rows[i] != padding_idx) emit(rows[i], i);
        }
      },
      static_cast<std::size_t>(n), n - 1, num_rows, terms, scratch);
}

void group_bags_by_row(const std::int64_t* rows, const std::int64_t* bounds, std::int64_t num_bags,
                       std::int64_t num_rows, std::int64_t padding_idx, std::vector<RowTerm>& terms,
                       RowGroupingScratch& scratch) {
  terms.clear();
  if (num_bags <= 0 || bounds[num_bags] <= bounds[0]) return;
  group_pairs(
      [&](auto&& emit) {
        for (std::int64_t b = 0; b < num_bags; ++b) {
          for (std::int64_t i = bounds[b]; i < bounds[b + 1]; ++i) {
            if (rows[i] != padding_idx) emit(rows[i], b);
          }
        }
      },
      static_cast<std::size_t>(bounds[num_bags] - bounds[0]), num_bags - 1, num_rows, terms,
      scratch);
}

}  // namespace embedkit::kernels::cpu
