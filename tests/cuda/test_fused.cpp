// The device's fused backward + optimizer step against optim::fused_backward_step on the CPU
// (itself tested equal to backward + step), several steps, bit for bit.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "cuda_test_support.hpp"
#include "embedkit/cuda/embedding.hpp"
#include "embedkit/optim/fused_backward.hpp"

namespace embedkit::cuda {
namespace {

using test::ids_tensor;
using test::random_ids;
using test::random_table;
using test::same_bits;

struct Pair {
  const char* name;
  std::function<std::unique_ptr<optim::Optimizer>(std::vector<optim::Parameter>)> cpu;
  std::function<DeviceOptimizer(std::int64_t, std::int64_t)> device;
};

std::vector<Pair> pairs() {
  const auto sgd = optim::SGDOptions(0.1);
  const auto ada =
      optim::AdagradOptions(0.05).lr_decay(0.01).eps(1e-6).initial_accumulator_value(0.1);
  const auto rw = optim::RowWiseAdagradOptions(0.05);
  const auto rw_l2 = optim::RowWiseAdagradOptions(0.05).weight_decay(0.01);
  const auto rw_dec = optim::RowWiseAdagradOptions(0.05).weight_decay(0.01).weight_decay_mode(
      optim::WeightDecayMode::Decoupled);
  const auto adam = optim::SparseAdamOptions(0.01);
  const auto adam_max = optim::SparseAdamOptions(0.01).maximize(true);
  return {
      {"SGD", [=](auto p) { return std::make_unique<optim::SGD>(std::move(p), sgd); },
       [=](auto r, auto d) { return DeviceOptimizer::sgd(sgd, r, d); }},
      {"Adagrad", [=](auto p) { return std::make_unique<optim::Adagrad>(std::move(p), ada); },
       [=](auto r, auto d) { return DeviceOptimizer::adagrad(ada, r, d); }},
      {"RowWiseAdagrad",
       [=](auto p) { return std::make_unique<optim::RowWiseAdagrad>(std::move(p), rw); },
       [=](auto r, auto d) { return DeviceOptimizer::rowwise_adagrad(rw, r, d); }},
      {"RowWiseAdagrad-L2",
       [=](auto p) { return std::make_unique<optim::RowWiseAdagrad>(std::move(p), rw_l2); },
       [=](auto r, auto d) { return DeviceOptimizer::rowwise_adagrad(rw_l2, r, d); }},
      {"RowWiseAdagrad-decoupled",
       [=](auto p) { return std::make_unique<optim::RowWiseAdagrad>(std::move(p), rw_dec); },
       [=](auto r, auto d) { return DeviceOptimizer::rowwise_adagrad(rw_dec, r, d); }},
      {"SparseAdam",
       [=](auto p) { return std::make_unique<optim::SparseAdam>(std::move(p), adam); },
       [=](auto r, auto d) { return DeviceOptimizer::sparse_adam(adam, r, d); }},
      {"SparseAdam-maximize",
       [=](auto p) { return std::make_unique<optim::SparseAdam>(std::move(p), adam_max); },
       [=](auto r, auto d) { return DeviceOptimizer::sparse_adam(adam_max, r, d); }},
  };
}

TEST(CudaFused, EmbeddingMatchesCpuFusedStep) {
  EMBEDKIT_REQUIRE_CUDA();
  const std::int64_t rows = 30;
  for (const Pair& pair : pairs()) {
    for (std::int64_t dim :
         {std::int64_t{1}, std::int64_t{5}, std::int64_t{64}, std::int64_t{130}}) {
      for (std::int64_t padding : {std::int64_t{-1}, std::int64_t{3}}) {
        for (bool freq : {false, true}) {
          const Tensor table = random_table(rows, dim, DType::Float32, 21);
          auto emb_opts =
              nn::EmbeddingOptions(rows, dim).scale_grad_by_freq(freq).weight(table.clone());
          if (padding >= 0) emb_opts.padding_idx(padding);
          nn::Embedding emb(emb_opts);
          auto cpu = pair.cpu({{"weight", emb.weight(), emb.options().padding_idx()}});
          DeviceTensor w = DeviceTensor::to_device(table);
          DeviceOptimizer dev = pair.device(rows, dim);
          auto opts = nn::EmbeddingFuncOptions().scale_grad_by_freq(freq);
          if (padding >= 0) opts.padding_idx(padding);
          for (std::uint32_t step = 0; step < 3; ++step) {
            const std::vector<std::int64_t> ids = random_ids(120, rows, 30 + step);
            const Tensor grad = random_table(120, dim, DType::Float32, 40 + step);
            optim::fused_backward_step(emb, ids_tensor(ids, DType::Int64), grad, *cpu);
            fused_backward_step(w, DeviceTensor::to_device(ids_tensor(ids, DType::Int32)),
                                DeviceTensor::to_device(grad), dev, opts);
          }
          EXPECT_EQ(dev.steps(), 3);
          EXPECT_TRUE(same_bits(w.to_host(), emb.weight()))
              << pair.name << " D=" << dim << " padding " << padding << " freq " << freq;
        }
      }
    }
  }
}

TEST(CudaFused, EmbeddingBagMatchesCpuFusedStep) {
  EMBEDKIT_REQUIRE_CUDA();
  const std::int64_t rows = 16;
  for (const Pair& pair : pairs()) {
    for (std::int64_t dim : {std::int64_t{3}, std::int64_t{64}}) {
      for (nn::BagMode mode : {nn::BagMode::Sum, nn::BagMode::Mean}) {
        for (bool weighted : {false, true}) {
          if (weighted && mode != nn::BagMode::Sum) continue;
          const Tensor table = random_table(rows, dim, DType::Float32, 22);
          nn::EmbeddingBag bag(nn::EmbeddingBagOptions(rows, dim)
                                   .mode(mode)
                                   .padding_idx(1)
                                   .include_last_offset(true)
                                   .weight(table.clone()));
          auto cpu = pair.cpu({{"weight", bag.weight(), bag.options().padding_idx()}});
          DeviceTensor w = DeviceTensor::to_device(table);
          DeviceOptimizer dev = pair.device(rows, dim);
          const auto opts =
              nn::EmbeddingBagFuncOptions().mode(mode).padding_idx(1).include_last_offset(true);
          for (std::uint32_t step = 0; step < 3; ++step) {
            const std::vector<std::int64_t> ids = random_ids(60, rows, 50 + step);
            const std::vector<std::int64_t> offsets = {0, 0, 7, 19, 19, 33, 60};
            const Tensor grad = random_table(6, dim, DType::Float32, 60 + step);
            const Tensor psw = random_table(1, 60, DType::Float32, 70 + step).reshape({60});
            const Tensor host_ids = ids_tensor(ids, DType::Int64);
            const Tensor host_off = ids_tensor(offsets, DType::Int64);
            optim::fused_backward_step(bag, host_ids, host_off, grad, *cpu,
                                       weighted ? psw : Tensor());
            fused_backward_step(w, DeviceTensor::to_device(host_ids),
                                DeviceTensor::to_device(host_off), DeviceTensor::to_device(grad),
                                dev, opts,
                                weighted ? DeviceTensor::to_device(psw) : DeviceTensor());
          }
          EXPECT_TRUE(same_bits(w.to_host(), bag.weight()))
              << pair.name << " D=" << dim << " mode " << nn::bag_mode_name(mode) << " weighted "
              << weighted;
        }
      }
    }
  }
}

TEST(CudaFused, BadIdChangesNothing) {
  EMBEDKIT_REQUIRE_CUDA();
  const Tensor table = random_table(8, 4, DType::Float32, 1);
  DeviceTensor w = DeviceTensor::to_device(table);
  DeviceOptimizer dev = DeviceOptimizer::sparse_adam(optim::SparseAdamOptions(0.01), 8, 4);
  const Tensor ids = ids_tensor({1, 2, 8}, DType::Int64);
  EXPECT_THROW(fused_backward_step(w, DeviceTensor::to_device(ids),
                                   DeviceTensor::to_device(Tensor::zeros({3, 4})), dev),
               IndexError);
  EXPECT_EQ(dev.steps(), 0);
  EXPECT_FALSE(dev.state(0).defined());
  EXPECT_TRUE(same_bits(w.to_host(), table));
  // A grad of the wrong shape is a ValueError, also before anything moves.
  EXPECT_THROW(fused_backward_step(w, DeviceTensor::to_device(ids_tensor({1}, DType::Int64)),
                                   DeviceTensor::to_device(Tensor::zeros({1, 5})), dev),
               ValueError);
  EXPECT_EQ(dev.steps(), 0);
}

// Deterministic: the same inputs give the same bits on every run (no float atomics).
TEST(CudaFused, RepeatsBitForBit) {
  EMBEDKIT_REQUIRE_CUDA();
  const Tensor table = random_table(1000, 128, DType::Float32, 2);
  const std::vector<std::int64_t> ids = random_ids(200000, 1000, 3);
  const Tensor grad = random_table(200000, 128, DType::Float32, 4);
  Tensor first;
  for (int run = 0; run < 3; ++run) {
    DeviceTensor w = DeviceTensor::to_device(table);
    DeviceOptimizer dev = DeviceOptimizer::adagrad(optim::AdagradOptions(0.1), 1000, 128);
    fused_backward_step(w, DeviceTensor::to_device(ids_tensor(ids, DType::Int64)),
                        DeviceTensor::to_device(grad), dev);
    const Tensor got = w.to_host();
    if (run == 0) {
      first = got;
    } else {
      EXPECT_TRUE(same_bits(got, first)) << "run " << run;
    }
  }
}

}  // namespace
}  // namespace embedkit::cuda
