#include "embedkit/models/ngram_hashing.hpp"

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

}  // namespace embedkit::models
