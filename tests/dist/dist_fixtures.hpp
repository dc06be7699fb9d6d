// What the dist tests share: a global batch every rank generates from the same seed, each
// rank's slice of it (uneven, rank 1 empty), the one-process table, and bitwise comparisons.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "embedkit/core/tensor.hpp"
#include "embedkit/dist/communicator.hpp"
#include "embedkit/dist/sharded_embedding_bag.hpp"

namespace embedkit::dist::testing {

// A batch of bags in offsets form (1-D ids, offsets without the closing one), with per-sample
// weights and a gradient of the output.
struct Batch {
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> offsets;
  std::vector<float> weights;  // one per id
  std::vector<float> grad;     // [bags, dim]
  std::int64_t bags() const { return static_cast<std::int64_t>(offsets.size()); }
};

// How many bags rank r of P holds: uneven, and none on rank 1 (an empty batch).
inline std::int64_t bags_of_rank(int rank) {
  return rank == 1 ? 0 : 3 + 2 * rank;
}

// The global batch (all ranks' bags, rank order) of P ranks: bags of 0 to 6 ids drawn with a
// hot head (ids 0-3 repeat often, so rows are summed from several ranks), padding included.
inline Batch global_batch(int ranks, std::int64_t num_rows, std::int64_t dim, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  Batch b;
  std::int64_t total = 0;
  for (int r = 0; r < ranks; ++r) total += bags_of_rank(r);
  for (std::int64_t bag = 0; bag < total; ++bag) {
    b.offsets.push_back(static_cast<std::int64_t>(b.ids.size()));
    const auto size = static_cast<std::int64_t>(gen() % 7);
    for (std::int64_t i = 0; i < size; ++i) {
      const bool hot = gen() % 2 == 0;
      b.ids.push_back(
          static_cast<std::int64_t>(gen() % static_cast<std::uint64_t>(hot ? 4 : num_rows)));
      b.weights.push_back(static_cast<float>(gen() % 1000) / 250.0f - 2.0f);
    }
  }
  std::normal_distribution<float> normal;
  b.grad.resize(static_cast<std::size_t>(total * dim));
  for (float& g : b.grad) g = normal(gen);
  return b;
}

// Rank r's bags of the global batch.
inline Batch slice(const Batch& global, int rank, std::int64_t dim) {
  std::int64_t first = 0;
  for (int r = 0; r < rank; ++r) first += bags_of_rank(r);
  const std::int64_t count = bags_of_rank(rank);
  Batch b;
  const auto end_of = [&](std::int64_t bag) {
    return bag < global.bags() ? global.offsets[static_cast<std::size_t>(bag)]
                               : static_cast<std::int64_t>(global.ids.size());
  };
  const std::int64_t begin = end_of(first);
  const std::int64_t end = end_of(first + count);
  for (std::int64_t bag = first; bag < first + count; ++bag) {
    b.offsets.push_back(global.offsets[static_cast<std::size_t>(bag)] - begin);
  }
  b.ids.assign(global.ids.begin() + begin, global.ids.begin() + end);
  b.weights.assign(global.weights.begin() + begin, global.weights.begin() + end);
  b.grad.assign(global.grad.begin() + first * dim, global.grad.begin() + (first + count) * dim);
  return b;
}

inline Tensor ids_tensor(const Batch& b) {
  return Tensor::from_vector(b.ids);
}
inline Tensor offsets_tensor(const Batch& b) {
  return Tensor::from_vector(b.offsets);
}
inline Tensor weights_tensor(const Batch& b) {
  return Tensor::from_vector(b.weights);
}
inline Tensor grad_tensor(const Batch& b, std::int64_t dim) {
  return Tensor::from_vector(b.grad, Shape{b.bags(), dim});
}

// The one-process table the sharded one starts as: every row from `init`, the padding row zero.
inline Tensor full_table(std::int64_t num_rows, std::int64_t dim, const RowInit& init,
                         std::int64_t padding) {
  Tensor t = Tensor::empty({num_rows, dim});
  float* p = t.data<float>();
  for (std::int64_t r = 0; r < num_rows; ++r) init(r, p + r * dim, dim);
  if (padding >= 0) std::fill_n(p + padding * dim, dim, 0.0f);
  return t;
}

// Every row of this rank's shard equals (bit for bit) its row of the one-process table.
inline void expect_shard_equals(const ShardedEmbeddingBag& table, const Tensor& full) {
  const Tensor& shard = table.shard();
  const int rank = table.comm().rank();
  const std::int64_t dim = full.size(1);
  const std::size_t row_bytes = static_cast<std::size_t>(dim) * dtype_size(full.dtype());
  ASSERT_EQ(shard.size(0), table.sharding().shard_rows(rank));
  const auto* s = static_cast<const unsigned char*>(shard.raw_data());
  const auto* f = static_cast<const unsigned char*>(full.raw_data());
  for (std::int64_t l = 0; l < shard.size(0); ++l) {
    const std::int64_t row = table.sharding().global_row(rank, l);
    EXPECT_EQ(std::memcmp(s + static_cast<std::size_t>(l) * row_bytes,
                          f + static_cast<std::size_t>(row) * row_bytes, row_bytes),
              0)
        << "rank " << rank << ", row " << row;
  }
}

inline void expect_bitwise_equal(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.shape(), b.shape());
  ASSERT_EQ(a.dtype(), b.dtype());
  EXPECT_EQ(std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()), 0);
}

}  // namespace embedkit::dist::testing
