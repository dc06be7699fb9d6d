// Tensor memory: the huge-page allocation option and the cache of large freed buffers.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "embedkit/core/memory.hpp"
#include "embedkit/core/tensor.hpp"

namespace embedkit {
namespace {

TEST(Memory, DefaultBuffersAreCacheLineAligned) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{1000}}) {
    auto p = allocate_buffer(n);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p.get()) % 64, 0u);
  }
}

TEST(Memory, HugePageBuffersAreTwoMebibyteAligned) {
  auto p = allocate_buffer(std::size_t{5} << 20, MemoryOptions{true});
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p.get()) % (std::size_t{2} << 20), 0u);
  // Usable end to end.
  auto* bytes = static_cast<unsigned char*>(p.get());
  bytes[0] = 1;
  bytes[(std::size_t{5} << 20) - 1] = 2;
  EXPECT_EQ(bytes[0] + bytes[(std::size_t{5} << 20) - 1], 3);
}

TEST(Memory, TensorWithHugePages) {
  Tensor t = Tensor::empty({1000, 128}, DType::Float32, MemoryOptions{true});
  EXPECT_EQ(t.shape(), (Shape{1000, 128}));
  EXPECT_TRUE(t.owns_memory());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.raw_data()) % (std::size_t{2} << 20), 0u);
  t.fill_zero();
  EXPECT_EQ(t.item_at(1000 * 128 - 1), 0.0);
}

// The VmFlags of the mapping that holds p (from /proc/self/smaps), or "" when none is found.
std::string vm_flags_of(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    unsigned long long lo = 0;
    unsigned long long hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = address >= lo && address < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

// Whether this kernel has transparent huge pages at all (madvise's flag needs them).
bool kernel_has_thp() {
  return std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled");
}

// Large buffers are asked for on huge pages unless the options say otherwise: the tables an
// optimizer steps and a lookup reads at random are such buffers (a table built by nn::Embedding,
// an optimizer's state), and a random row in 4 KiB pages costs a page walk (BENCHMARKS.md).
TEST(Memory, LargeBuffersGetHugePagesByDefault) {
  EXPECT_FALSE(wants_huge_pages(kHugePagesFrom - 1, {}));
  EXPECT_TRUE(wants_huge_pages(kHugePagesFrom, {}));
  EXPECT_FALSE(wants_huge_pages(kHugePagesFrom, MemoryOptions{false}));
  EXPECT_TRUE(wants_huge_pages(64, MemoryOptions{true}));

  Tensor table = Tensor::empty({static_cast<std::int64_t>(kHugePagesFrom / 512), 128});
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(table.raw_data()) % (std::size_t{2} << 20), 0u);
  Tensor small = Tensor::empty({1000, 128});
  if (!kernel_has_thp()) GTEST_SKIP() << "no transparent huge pages in this kernel";
  // madvise(MADV_HUGEPAGE) marks the mapping "hg", whatever THP's mode and free memory.
  EXPECT_NE(vm_flags_of(table.raw_data()).find(" hg"), std::string::npos)
      << vm_flags_of(table.raw_data());
  EXPECT_EQ(vm_flags_of(small.raw_data()).find(" hg"), std::string::npos);
  auto refused = allocate_buffer(kHugePagesFrom, MemoryOptions{false});
  EXPECT_EQ(vm_flags_of(refused.get()).find(" hg"), std::string::npos);
}

// The size from which unset options ask for huge pages is the process's to change (the
// benchmark turns it off so that its cases choose their pages explicitly).
TEST(Memory, TheHugePageSizeCanBeChangedOrTurnedOff) {
  ASSERT_EQ(huge_pages_from(), kHugePagesFrom);
  set_huge_pages_from(static_cast<std::size_t>(-1));
  EXPECT_FALSE(wants_huge_pages(std::size_t{1} << 40, {}));
  EXPECT_TRUE(wants_huge_pages(64, MemoryOptions{true}));
  auto never = allocate_buffer(kHugePagesFrom);
  set_huge_pages_from(std::size_t{4} << 20);
  EXPECT_TRUE(wants_huge_pages(std::size_t{4} << 20, {}));
  EXPECT_FALSE(wants_huge_pages((std::size_t{4} << 20) - 1, {}));
  set_huge_pages_from(kHugePagesFrom);
  if (!kernel_has_thp()) GTEST_SKIP() << "no transparent huge pages in this kernel";
  EXPECT_EQ(vm_flags_of(never.get()).find(" hg"), std::string::npos);
}

// Each cache test starts from an empty cache with the default limit and leaves it so.
class BufferCache : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_limit_ = buffer_cache_limit();
    release_cached_buffers();
  }
  void TearDown() override {
    set_buffer_cache_limit(saved_limit_);
    release_cached_buffers();
  }
  std::size_t saved_limit_ = 0;
};

constexpr std::size_t kMiB = std::size_t{1} << 20;

TEST_F(BufferCache, DefaultLimitIsOneGibibyte) {
  EXPECT_EQ(saved_limit_, std::size_t{1} << 30);
}

TEST_F(BufferCache, ALargeFreedBufferServesTheNextAllocationOfItsSize) {
  const BufferCacheStats before = buffer_cache_stats();
  void* first = nullptr;
  {
    auto p = allocate_buffer(4 * kMiB);
    first = p.get();
    static_cast<unsigned char*>(p.get())[4 * kMiB - 1] = 7;  // usable to the end
  }
  EXPECT_EQ(buffer_cache_stats().cached_buffers, 1u);
  EXPECT_EQ(buffer_cache_stats().cached_bytes, 4 * kMiB);
  // A size that rounds to the same 64 KiB multiple gets the same buffer back.
  auto again = allocate_buffer(4 * kMiB - 1000);
  EXPECT_EQ(again.get(), first);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(again.get()) % 64, 0u);
  const BufferCacheStats after = buffer_cache_stats();
  EXPECT_EQ(after.hits, before.hits + 1);
  EXPECT_EQ(after.misses, before.misses + 1);  // the first allocation found nothing
  EXPECT_EQ(after.cached_buffers, 0u);
}

TEST_F(BufferCache, OtherSizesAndKindsAreNotServedAndAMissReleasesTheCache) {
  void* four = nullptr;
  {
    auto p = allocate_buffer(4 * kMiB);
    four = p.get();
  }
  {
    auto huge = allocate_buffer(4 * kMiB, MemoryOptions{true});  // same size, other kind
    EXPECT_NE(huge.get(), four);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(huge.get()) % (2 * kMiB), 0u);
    EXPECT_EQ(buffer_cache_stats().cached_buffers, 0u);  // the miss let the 4 MiB one go
  }
  { auto p = allocate_buffer(6 * kMiB); }  // a miss: frees the huge one cached above
  EXPECT_EQ(buffer_cache_stats().cached_buffers, 1u);
  EXPECT_EQ(buffer_cache_stats().cached_bytes, 6 * kMiB);
}

// A buffer that grows (each size asked for once) does not pile up dead buffers.
TEST_F(BufferCache, GrowingSizesDoNotAccumulate) {
  for (std::size_t mib = 1; mib <= 20; ++mib) {
    auto p = allocate_buffer(mib * kMiB);
    EXPECT_EQ(buffer_cache_stats().cached_bytes, 0u) << mib;
  }
  EXPECT_EQ(buffer_cache_stats().cached_bytes, 20 * kMiB);
}

TEST_F(BufferCache, SmallBuffersAreLeftToMalloc) {
  { auto p = allocate_buffer(kMiB - 64); }
  EXPECT_EQ(buffer_cache_stats().cached_buffers, 0u);
  { auto p = allocate_buffer(kMiB); }
  EXPECT_EQ(buffer_cache_stats().cached_buffers, 1u);
}

TEST_F(BufferCache, TheLimitEvictsTheLongestUnused) {
  set_buffer_cache_limit(10 * kMiB);
  auto a = allocate_buffer(4 * kMiB);
  auto b = allocate_buffer(4 * kMiB);
  auto c = allocate_buffer(3 * kMiB);
  void* b_ptr = b.get();
  void* c_ptr = c.get();
  a.reset();  // cached: 4
  b.reset();  // cached: 8
  c.reset();  // 11 > 10: a goes
  EXPECT_EQ(buffer_cache_stats().cached_bytes, 7 * kMiB);
  EXPECT_EQ(buffer_cache_stats().cached_buffers, 2u);
  auto b2 = allocate_buffer(4 * kMiB);
  auto c2 = allocate_buffer(3 * kMiB);
  EXPECT_EQ(b2.get(), b_ptr);
  EXPECT_EQ(c2.get(), c_ptr);
  // Lowering the limit evicts at once; a buffer larger than the limit is never kept (and
  // asking for it, a miss, released the 3 MiB one).
  b2.reset();
  c2.reset();
  set_buffer_cache_limit(3 * kMiB);
  EXPECT_EQ(buffer_cache_stats().cached_bytes, 3 * kMiB);
  { auto p = allocate_buffer(5 * kMiB); }
  EXPECT_EQ(buffer_cache_stats().cached_bytes, 0u);
}

TEST_F(BufferCache, ZeroLimitTurnsItOffAndReleaseEmptiesIt) {
  { auto p = allocate_buffer(2 * kMiB); }
  EXPECT_EQ(buffer_cache_stats().cached_buffers, 1u);
  release_cached_buffers();
  EXPECT_EQ(buffer_cache_stats().cached_buffers, 0u);
  EXPECT_EQ(buffer_cache_stats().cached_bytes, 0u);
  set_buffer_cache_limit(0);
  { auto p = allocate_buffer(2 * kMiB); }
  EXPECT_EQ(buffer_cache_stats().cached_buffers, 0u);
}

// Tensors share the cache: a step that allocates the same large output every call reuses it,
// and what it finds there is only garbage to overwrite (zeros() still zeroes).
TEST_F(BufferCache, TensorsReuseCachedMemory) {
  const void* first = nullptr;
  {
    Tensor t = Tensor::empty({4096, 128});
    first = t.raw_data();
    t.fill_zero();
    t.data<float>()[5] = 3.0f;
  }
  Tensor z = Tensor::zeros({4096, 128});
  EXPECT_EQ(z.raw_data(), first);
  EXPECT_EQ(z.item_at(5), 0.0);
}

}  // namespace
}  // namespace embedkit
