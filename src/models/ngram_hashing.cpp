#include "embedkit/models/ngram_hashing.hpp"

#include <algorithm>

#include "embedkit/core/error.hpp"

namespace embedkit::models {

std::uint32_t word_hash(std::string_view word) {
  std::uint32_t h = 2166136261u;
  for (const char c : word) {
    // Sign-extend the byte as fastText does (it hashes plain, signed chars).
    const auto byte = static_cast<std::int8_t>(static_cast<unsigned char>(c));
    h ^= static_cast<std::uint32_t>(static_cast<std::int32_t>(byte));
    h *= 16777619u;
  }
  return h;
}

void append_word_ngrams(std::span<const std::uint32_t> hashes, std::int64_t max_n,
                        std::int64_t buckets, std::int64_t offset, std::vector<std::int64_t>& out) {
  if (buckets < 0 || offset < 0) {
    throw ValueError("append_word_ngrams: buckets and offset must be >= 0");
  }
  if (max_n < 2 || buckets == 0) return;
  const auto n = static_cast<std::size_t>(max_n);
  const auto b = static_cast<std::uint64_t>(buckets);
  // fastText keeps the word hashes as int32, so they enter the 64-bit arithmetic sign-extended.
  auto widen = [](std::uint32_t h) {
    return static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int32_t>(h)));
  };
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    std::uint64_t h = widen(hashes[i]);
    for (std::size_t j = i + 1; j < hashes.size() && j < i + n; ++j) {
      h = h * 116049371u + widen(hashes[j]);
      out.push_back(offset + static_cast<std::int64_t>(h % b));
    }
  }
}

void append_char_ngram_buckets(std::string_view wrapped, std::int64_t minn, std::int64_t maxn,
                               std::int64_t buckets, std::vector<std::int64_t>& out) {
  if (minn < 0 || maxn < 0)
    throw ValueError("append_char_ngram_buckets: minn and maxn must be >= 0");
  if (maxn < 1) return;
  if (buckets < 1) throw ValueError("append_char_ngram_buckets: buckets must be >= 1");
  const auto b = static_cast<std::uint32_t>(std::min<std::int64_t>(buckets, 0xffffffffLL));
  auto continuation = [](char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; };
  const std::size_t size = wrapped.size();
  for (std::size_t i = 0; i < size; ++i) {
    if (continuation(wrapped[i])) continue;
    std::size_t j = i;
    for (std::int64_t n = 1; j < size && n <= maxn; ++n) {
      ++j;
      while (j < size && continuation(wrapped[j])) ++j;
      // A lone first or last character is the boundary "<" or ">" (fastText's rule).
      if (n >= minn && !(n == 1 && (i == 0 || j == size))) {
        out.push_back(static_cast<std::int64_t>(word_hash(wrapped.substr(i, j - i)) % b));
      }
    }
  }
}

}  // namespace embedkit::models
