// HostTable: lookups of a pinned host table through the device cache equal the reference
// gather, batch after batch, with and without prefetch; the statistics add up.
#include <gtest/gtest.h>

#include "cuda_test_support.hpp"
#include "embedkit/cuda/host_table.hpp"
#include "kernels/ref/embedding_ref.hpp"

namespace embedkit::cuda {
namespace {

using test::ids_tensor;
using test::random_ids;
using test::random_table;
using test::same_bits;

Tensor ref_lookup(const Tensor& table, const std::vector<std::int64_t>& ids) {
  Tensor out = Tensor::empty({static_cast<std::int64_t>(ids.size()), table.size(1)});
  kernels::ref::gather(table.data<float>(), table.size(1), ids.data(),
                       static_cast<std::int64_t>(ids.size()), out.data<float>());
  return out;
}

TEST(CudaHostTable, LookupsMatchReferenceWithPrefetch) {
  EMBEDKIT_REQUIRE_CUDA();
  for (std::int64_t cache_rows : {std::int64_t{0}, std::int64_t{16}, std::int64_t{5000}}) {
    for (std::int64_t dim : {std::int64_t{3}, std::int64_t{64}}) {
      const Tensor table = random_table(2000, dim, DType::Float32, 1);
      HostTable host(table, cache_rows, 4);
      std::vector<std::vector<std::int64_t>> batches;
      for (std::uint32_t b = 0; b < 12; ++b) batches.push_back(random_ids(700, 2000, 10 + b));
      host.prefetch(ids_tensor(batches[0], DType::Int64));
      for (std::size_t b = 0; b < batches.size(); ++b) {
        const DeviceTensor out = host.forward(ids_tensor(batches[b], DType::Int64));
        if (b + 1 < batches.size()) host.prefetch(ids_tensor(batches[b + 1], DType::Int32));
        EXPECT_TRUE(same_bits(out.to_host(), ref_lookup(table, batches[b])))
            << "cache " << cache_rows << " D=" << dim << " batch " << b;
      }
      const HostTableStats s = host.stats();
      EXPECT_EQ(s.cache.lookups, 12 * 700);
      EXPECT_EQ(s.cache.hits + s.cache.misses, s.cache.lookups);
      EXPECT_EQ(s.row_bytes_moved, (s.cache.fills + s.cache.bypassed) * dim *
                                       static_cast<std::int64_t>(sizeof(float)));
      if (cache_rows == 0) {
        EXPECT_EQ(s.cache.bypassed, s.cache.lookups);
      }
      if (cache_rows > 0) {
        // A set whose ways all hold rows of the two batches in flight bypasses; the rest hit.
        EXPECT_GT(s.cache.hits, 0);
        EXPECT_LT(s.cache.bypassed, s.cache.lookups);
      }
    }
  }
}

TEST(CudaHostTable, UnprefetchedAndMismatchedBatchesArePlannedOnTheSpot) {
  EMBEDKIT_REQUIRE_CUDA();
  const Tensor table = random_table(100, 8, DType::Float32, 2);
  HostTable host(table, 32, 8);
  const std::vector<std::int64_t> a = random_ids(50, 100, 3);
  const std::vector<std::int64_t> b = random_ids(50, 100, 4);
  host.prefetch(ids_tensor(a, DType::Int64));
  EXPECT_TRUE(same_bits(host.forward(ids_tensor(b, DType::Int64)).to_host(), ref_lookup(table, b)));
  EXPECT_TRUE(same_bits(host.forward(ids_tensor(a, DType::Int64)).to_host(), ref_lookup(table, a)));
}

TEST(CudaHostTable, BadIdRaisesIndexError) {
  EMBEDKIT_REQUIRE_CUDA();
  HostTable host(random_table(10, 4, DType::Float32, 1), 4);
  EXPECT_THROW(host.forward(ids_tensor({1, 10}, DType::Int64)), IndexError);
  EXPECT_THROW(host.prefetch(ids_tensor({-1}, DType::Int64)), IndexError);
  EXPECT_EQ(host.stats().cache.lookups, 0);
}

}  // namespace
}  // namespace embedkit::cuda
