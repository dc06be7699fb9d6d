#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "embedkit/core/generator.hpp"
#include "embedkit/core/tensor.hpp"

namespace embedkit {
namespace {

TEST(Tensor, ShapesIncludingScalarAndEmpty) {
  Tensor s = Tensor::scalar<std::int64_t>(7);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.item(), 7);

  Tensor e = Tensor::empty({2, 0, 4});
  EXPECT_EQ(e.numel(), 0);
  EXPECT_EQ(e.dim(), 3);
  EXPECT_EQ(e.size(-1), 4);
  EXPECT_TRUE(e.defined());

  Tensor v = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  EXPECT_EQ(v.shape(), (Shape{2, 3}));
  EXPECT_EQ(v.item_at(4), 5);
  EXPECT_EQ(Tensor::from_vector<float>({3}).shape(), (Shape{1}));
  EXPECT_FALSE(Tensor().defined());
}

TEST(Tensor, BadShapesAndTypesAreErrors) {
  EXPECT_THROW(Tensor::empty({2, -1}), ValueError);
  EXPECT_THROW((Tensor::from_vector<float>({1, 2, 3}, Shape{2, 2})), ValueError);
  Tensor t = Tensor::zeros({3});
  EXPECT_THROW(t.data<std::int32_t>(), TypeError);
  EXPECT_THROW(t.reshape({2, 2}), ValueError);
  EXPECT_THROW(t.size(1), ValueError);
  EXPECT_THROW(Tensor().data<float>(), ValueError);
  EXPECT_THROW(Tensor::from_vector<std::int64_t>({1LL << 40}).to(DType::Int32), ValueError);
}

TEST(Tensor, CopiesShareStorageCloneDoesNot) {
  Tensor a = Tensor::zeros({4});
  Tensor b = a;
  b.data<float>()[0] = 3;
  EXPECT_EQ(a.item_at(0), 3);
  Tensor r = a.reshape({2, 2});
  EXPECT_TRUE(r.shares_storage_with(a));
  Tensor c = a.clone();
  c.data<float>()[0] = 5;
  EXPECT_EQ(a.item_at(0), 3);
  EXPECT_FALSE(c.shares_storage_with(a));
  EXPECT_TRUE(c.owns_memory());
}

TEST(Tensor, FromBlobIsAViewOverCallerMemory) {
  float buffer[6] = {1, 2, 3, 4, 5, 6};
  Tensor v = Tensor::from_blob(buffer, {3, 2}, DType::Float32);
  EXPECT_FALSE(v.owns_memory());
  v.data<float>()[5] = 60;
  EXPECT_EQ(buffer[5], 60);
  buffer[0] = 10;
  EXPECT_EQ(v.item_at(0), 10);
  EXPECT_THROW(Tensor::from_blob(nullptr, {2}, DType::Float32), ValueError);
  EXPECT_NO_THROW(Tensor::from_blob(nullptr, {0}, DType::Float32));
}

TEST(Tensor, FromBlobWithAnOwnerKeepsItAliveUntilTheLastCopyGoes) {
  auto buffer = std::make_shared<std::vector<float>>(std::vector<float>{1, 2, 3, 4});
  std::weak_ptr<std::vector<float>> watch = buffer;
  Tensor v = Tensor::from_blob(buffer->data(), {2, 2}, DType::Float32, buffer);
  Tensor plain = Tensor::from_blob(buffer->data(), {4}, DType::Float32);
  buffer.reset();
  EXPECT_FALSE(watch.expired());  // the view holds the owner
  EXPECT_FALSE(v.owns_memory());
  EXPECT_TRUE(v.shares_storage_with(plain));  // one identity per blob, owner or not
  Tensor copy = v.reshape({4});
  v = Tensor();
  EXPECT_FALSE(watch.expired());  // the copy still holds it
  EXPECT_EQ(copy.item_at(3), 4);
  copy = Tensor();
  EXPECT_TRUE(watch.expired());
  EXPECT_THROW(Tensor::from_blob(plain.raw_data(), {4}, DType::Float32, nullptr), ValueError);
}

TEST(Tensor, ReadOnlyMarkIsKeptByCopiesAndRefusesInPlaceWrites) {
  std::vector<float> buffer{1, 2, 3, 4};
  const Tensor writable = Tensor::from_blob(buffer.data(), {2, 2}, DType::Float32);
  EXPECT_FALSE(writable.read_only());
  Tensor ro = writable.as_read_only();
  EXPECT_TRUE(ro.read_only());
  EXPECT_TRUE(ro.shares_storage_with(writable));
  EXPECT_TRUE(ro.reshape({4}).read_only());
  Tensor copy = ro;
  EXPECT_TRUE(copy.read_only());
  EXPECT_FALSE(ro.clone().read_only());
  EXPECT_THROW(ro.fill_zero(), ValueError);
  EXPECT_THROW(ro.copy_from(Tensor::zeros({2, 2})), ValueError);
  EXPECT_THROW(ro.check_writable("test"), ValueError);
  EXPECT_NO_THROW(writable.check_writable("test"));
  EXPECT_EQ(buffer, (std::vector<float>{1, 2, 3, 4}));
}

TEST(Tensor, ConversionsRoundOnce) {
  Tensor f = Tensor::from_vector<float>({1.0f, 0.1f, -2.5f, 65520.0f});
  Tensor h = f.to(DType::Float16);
  EXPECT_EQ(h.dtype(), DType::Float16);
  EXPECT_EQ(h.item_at(0), 1.0);
  EXPECT_EQ(h.item_at(1), static_cast<float>(Half(0.1f)));
  EXPECT_TRUE(std::isinf(h.item_at(3)));
  Tensor bf = f.to(DType::BFloat16);
  EXPECT_EQ(bf.item_at(2), -2.5);
  Tensor i = Tensor::from_vector<std::int32_t>({1, -2}).to(DType::Int64);
  EXPECT_EQ(i.to_int64_vector(), (std::vector<std::int64_t>{1, -2}));
}

TEST(Generator, SameSeedSameNumbers) {
  Generator a(42), b(42), c(43);
  Tensor x = Tensor::empty({1000}), y = Tensor::empty({1000}), z = Tensor::empty({1000});
  fill_normal(x, a);
  fill_normal(y, b);
  fill_normal(z, c);
  EXPECT_EQ(x.to_float_vector(), y.to_float_vector());
  EXPECT_NE(x.to_float_vector(), z.to_float_vector());
  // Roughly N(0, 1): loose bounds that a broken generator would miss.
  double sum = 0, sq = 0;
  for (float v : x.to_float_vector()) {
    sum += v;
    sq += double{v} * v;
  }
  EXPECT_NEAR(sum / 1000, 0.0, 0.15);
  EXPECT_NEAR(sq / 1000, 1.0, 0.2);
}

}  // namespace
}  // namespace embedkit
