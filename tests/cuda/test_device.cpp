// Device tensors and transfers; what the backend does on a machine without a GPU.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "cuda_test_support.hpp"
#include "embedkit/cuda/device.hpp"
#include "embedkit/cuda/embedding.hpp"
#include "embedkit/cuda/host_table.hpp"
#include "embedkit/nn/embedding.hpp"

namespace embedkit::cuda {
namespace {

TEST(CudaDevice, StatusNeverThrowsAndExplainsAbsence) {
  const DeviceStatus s = device_status();
  EXPECT_GE(s.count, 0);
  if (s.available()) {
    EXPECT_TRUE(s.reason.empty());
  } else {
    EXPECT_FALSE(s.reason.empty());
    std::cout << "no CUDA device: " << s.reason << "\n";
  }
}

TEST(CudaDevice, WithoutADeviceAllocationsRaiseCudaError) {
  if (device_status().available()) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_THROW(DeviceBuffer(64), CudaError);
  EXPECT_THROW(DeviceTensor::empty({4, 4}), CudaError);
  EXPECT_THROW(DeviceTensor::to_device(Tensor::zeros({2, 2})), CudaError);
  EXPECT_THROW(HostTable(Tensor::zeros({8, 4}), 4), CudaError);
  // An empty tensor needs no memory and works anywhere.
  const DeviceTensor e = DeviceTensor::empty({0, 8});
  EXPECT_TRUE(e.defined());
  EXPECT_EQ(e.to_host().shape(), (Shape{0, 8}));
}

TEST(CudaDevice, ChecksThatNeedNoDeviceComeFirst) {
  // Argument errors are reported before the device is touched, so they read the same anywhere.
  DeviceTensor undefined;
  const DeviceTensor no_ids;
  EXPECT_THROW(embedding(no_ids, undefined), ValueError);
  const DeviceTensor table = DeviceTensor::empty({0, 4});
  DeviceTensor table_1d = DeviceTensor::empty({0});
  EXPECT_THROW(embedding(table, table_1d), ValueError);
  const DeviceTensor float_ids = DeviceTensor::empty({0});
  DeviceTensor t = DeviceTensor::empty({0, 4});
  EXPECT_THROW(embedding(float_ids, t), TypeError);
  EXPECT_THROW(DeviceOptimizer::sgd(optim::SGDOptions(0.1).momentum(0.9), 4, 4), ValueError);
  EXPECT_THROW(DeviceOptimizer::adagrad(optim::AdagradOptions(0.1).weight_decay(0.1), 4, 4),
               ValueError);
  EXPECT_THROW(DeviceOptimizer::sparse_adam(optim::SparseAdamOptions(-1.0), 4, 4), ValueError);
}

// The message of the embedkit error f() throws, or "no error".
std::string message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(CudaDevice, SharedChecksReadAsOnTheCpu) {
  // The checks every backend shares (nn/embedding_checks.hpp) see a DeviceTensor through its
  // desc(); these fail before the device is touched, so they run without one too.
  DeviceTensor table = DeviceTensor::empty({0, 4});
  const DeviceTensor ids = DeviceTensor::empty({0}, DType::Int64);
  const DeviceTensor float_offsets = DeviceTensor::empty({0});
  EXPECT_EQ(message([&] { embedding_bag(ids, table, DeviceTensor()); }),
            "cuda::embedding_bag: 1-D ids need offsets");
  EXPECT_EQ(message([&] { embedding_bag(ids, table, float_offsets); }),
            "cuda::embedding_bag: offsets must be int32 or int64, got float32");
  EXPECT_EQ(message([&] {
              embedding_bag(ids, table, float_offsets,
                            nn::EmbeddingBagFuncOptions().mode(nn::BagMode::Max).sparse(true));
            }),
            "cuda::embedding_bag: max mode does not support sparse gradients");
  EXPECT_EQ(message([&] { DeviceOptimizer::sgd(optim::SGDOptions(0.1).momentum(0.9), 4, 4); }),
            "SGD with momentum or weight_decay has no row-wise update (it moves rows the batch "
            "did not touch), so it cannot be fused into the backward");
  EXPECT_EQ(message([&] {
              DeviceOptimizer::adagrad(optim::AdagradOptions(0.1).weight_decay(0.1), 4, 4);
            }),
            "weight_decay option is not compatible with sparse gradients");
}

TEST(CudaDevice, LookupChecksFailAsOnTheCpu) {
  // cuda::embedding checks its arguments in the CPU's order, so an input with several faults
  // fails on both backends with the same first message (only the function's name differs). All
  // of these fail before the device is touched: they run without one too.
  DeviceTensor table = DeviceTensor::empty({0, 4});
  Tensor cpu_table = Tensor::empty({0, 4});
  const DeviceTensor long_ids = DeviceTensor::empty({0}, DType::Int64);
  const DeviceTensor float_ids = DeviceTensor::empty({0});
  const Tensor cpu_long_ids = Tensor::empty({0}, DType::Int64);
  const Tensor cpu_float_ids = Tensor::empty({0});
  const struct {
    bool float_ids;
    nn::EmbeddingFuncOptions options;
  } cases[] = {
      {false, nn::EmbeddingFuncOptions().sparse(true).scale_grad_by_freq(true)},
      {true, nn::EmbeddingFuncOptions().sparse(true).scale_grad_by_freq(true)},
      {true, nn::EmbeddingFuncOptions().padding_idx(7)},
      {true, nn::EmbeddingFuncOptions().max_norm(-1.0)},
      {true, nn::EmbeddingFuncOptions()},
  };
  for (const auto& c : cases) {
    std::string cpu = message([&] {
      nn::functional::embedding(c.float_ids ? cpu_float_ids : cpu_long_ids, cpu_table, c.options);
    });
    const std::string device =
        message([&] { embedding(c.float_ids ? float_ids : long_ids, table, c.options); });
    ASSERT_NE(cpu, "no error");
    if (cpu.rfind("Embedding", 0) == 0) cpu.replace(0, 9, "cuda::embedding");
    EXPECT_EQ(device, cpu);
  }
}

TEST(CudaDevice, RoundTripAndReshape) {
  EMBEDKIT_REQUIRE_CUDA();
  const Tensor host = test::random_table(37, 5, DType::Float32, 1);
  const DeviceTensor d = DeviceTensor::to_device(host);
  EXPECT_EQ(d.shape(), host.shape());
  EXPECT_TRUE(test::same_bits(d.to_host(), host));
  EXPECT_TRUE(test::same_bits(d.reshape({5, 37}).to_host(), host.reshape({5, 37})));
  EXPECT_THROW(d.reshape({3, 3}), ValueError);
  DeviceTensor z = DeviceTensor::zeros({3, 4}, DType::BFloat16);
  EXPECT_TRUE(test::same_bits(z.to_host(), Tensor::zeros({3, 4}, DType::BFloat16)));
  EXPECT_THROW(z.copy_from_host(Tensor::zeros({3, 4})), ValueError);  // dtype differs
}

}  // namespace
}  // namespace embedkit::cuda
