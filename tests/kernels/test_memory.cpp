// Tensor memory: the huge-page allocation option.
#include <gtest/gtest.h>

#include <cstdint>

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

}  // namespace
}  // namespace embedkit
