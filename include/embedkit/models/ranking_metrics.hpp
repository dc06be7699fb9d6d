// Top-N ranking metrics with binary relevance, for one user's ranked list.
//   recall@k = |relevant in the top k| / |relevant|
//   NDCG@k   = DCG@k / IDCG@k, DCG@k = sum over hits at rank r (1-based) of 1 / log2(r + 1),
//              IDCG@k the DCG of min(k, |relevant|) hits at the top.
// Both are 0 for a user with no relevant items (callers usually skip such users).
#pragma once

#include <cstdint>
#include <span>

namespace embedkit::models {

// `ranked`: item rows best first (only the first k are read). `relevant`: sorted ascending,
// without duplicates.
double recall_at_k(std::span<const std::int64_t> ranked, std::span<const std::int64_t> relevant,
                   std::int64_t k);
double ndcg_at_k(std::span<const std::int64_t> ranked, std::span<const std::int64_t> relevant,
                 std::int64_t k);

}  // namespace embedkit::models
