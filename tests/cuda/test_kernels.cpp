// The CUDA lookups, bags, max_norm and row-grouped gradients against the reference kernels
// (src/kernels/ref) on the same inputs, bit for bit; errors against the CPU functional API's.
// Every test here needs a device and skips without one.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "cuda_test_support.hpp"
#include "embedkit/cuda/embedding.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "kernels/ref/embedding_bag_ref.hpp"
#include "kernels/ref/embedding_ref.hpp"

namespace embedkit::cuda {
namespace {

using test::ids_tensor;
using test::random_ids;
using test::random_table;
using test::same_bits;

const std::vector<std::int64_t> kDims = {1, 3, 8, 64, 130};
const std::vector<DType> kTables = {DType::Float32, DType::Float16, DType::BFloat16};
const std::vector<DType> kIds = {DType::Int32, DType::Int64};

// The reference kernels, typed by the table's dtype.
template <class F>
void with_float_type(DType t, F&& f) {
  if (t == DType::Float32) {
    f(float{});
  } else if (t == DType::Float16) {
    f(Half{});
  } else {
    f(BFloat16{});
  }
}

Tensor ref_gather(const Tensor& table, const std::vector<std::int64_t>& ids) {
  const std::int64_t dim = table.size(1);
  Tensor out = Tensor::empty({static_cast<std::int64_t>(ids.size()), dim}, table.dtype());
  with_float_type(table.dtype(), [&](auto w) {
    using W = decltype(w);
    kernels::ref::gather(table.data<W>(), dim, ids.data(), static_cast<std::int64_t>(ids.size()),
                         out.data<W>());
  });
  return out;
}

Tensor ref_bag(const Tensor& table, const std::vector<std::int64_t>& ids,
               const std::vector<std::int64_t>& bounds, BagMode mode, const Tensor& psw,
               std::int64_t padding) {
  const std::int64_t dim = table.size(1);
  const auto bags = static_cast<std::int64_t>(bounds.size()) - 1;
  Tensor out = Tensor::empty({bags, dim}, table.dtype());
  with_float_type(table.dtype(), [&](auto w) {
    using W = decltype(w);
    kernels::ref::bag_forward(table.data<W>(), dim, ids.data(), bounds.data(), bags, mode,
                              psw.defined() ? psw.data<W>() : nullptr, padding, out.data<W>(),
                              nullptr);
  });
  return out;
}

TEST(CudaKernels, GatherMatchesReference) {
  EMBEDKIT_REQUIRE_CUDA();
  for (DType wt : kTables) {
    for (DType it : kIds) {
      for (std::int64_t dim : kDims) {
        const Tensor table = random_table(50, dim, wt, 3);
        std::vector<std::int64_t> ids = random_ids(301, 50, 4);
        DeviceTensor w = DeviceTensor::to_device(table);
        const DeviceTensor d_ids = DeviceTensor::to_device(ids_tensor(ids, it));
        const Tensor got = embedding(d_ids, w).to_host();
        EXPECT_TRUE(same_bits(got, ref_gather(table, ids)))
            << dtype_name(wt) << " " << dtype_name(it) << " D=" << dim;
        // 2-D ids keep their shape.
        const DeviceTensor ids2 = DeviceTensor::to_device(
            ids_tensor(std::vector<std::int64_t>(ids.begin(), ids.begin() + 300), it, {30, 10}));
        EXPECT_EQ(embedding(ids2, w).shape(), (Shape{30, 10, dim}));
      }
    }
  }
}

TEST(CudaKernels, EmptyIdsGiveEmptyOutput) {
  EMBEDKIT_REQUIRE_CUDA();
  DeviceTensor w = DeviceTensor::to_device(random_table(4, 3, DType::Float32, 1));
  const DeviceTensor none = DeviceTensor::to_device(ids_tensor({}, DType::Int64));
  EXPECT_EQ(embedding(none, w).shape(), (Shape{0, 3}));
}

TEST(CudaKernels, BadIdRaisesIndexErrorAndWritesNothing) {
  EMBEDKIT_REQUIRE_CUDA();
  Tensor table = random_table(10, 4, DType::Float32, 2);
  for (std::int64_t bad : {std::int64_t{10}, std::int64_t{-1}, std::int64_t{1} << 40}) {
    std::vector<std::int64_t> ids = {1, 2, 3, bad, 4, bad};
    const Tensor host_ids = ids_tensor(ids, DType::Int64);
    std::string cpu_message;
    try {
      nn::functional::embedding(host_ids, table);
    } catch (const IndexError& e) {
      cpu_message = e.what();
    }
    DeviceTensor w = DeviceTensor::to_device(table);
    DeviceTensor out = DeviceTensor::to_device(Tensor::zeros({6, 4}));
    try {
      embedding_into(DeviceTensor::to_device(host_ids), w, out,
                     nn::EmbeddingFuncOptions().max_norm(0.5));
      ADD_FAILURE() << "no IndexError for id " << bad;
    } catch (const IndexError& e) {
      EXPECT_EQ(std::string(e.what()), cpu_message);
      EXPECT_EQ(e.position(), 3);
    }
    EXPECT_TRUE(same_bits(out.to_host(), Tensor::zeros({6, 4})));
    EXPECT_TRUE(same_bits(w.to_host(), table));  // max_norm did not run
  }
}

TEST(CudaKernels, MaxNormMatchesCpu) {
  EMBEDKIT_REQUIRE_CUDA();
  for (DType wt : kTables) {
    for (double p : {2.0, 1.0, std::numeric_limits<double>::infinity()}) {
      for (std::int64_t dim : {std::int64_t{1}, std::int64_t{7}, std::int64_t{64}}) {
        Tensor cpu_table = random_table(40, dim, wt, 5);
        DeviceTensor w = DeviceTensor::to_device(cpu_table);
        const std::vector<std::int64_t> ids = random_ids(200, 40, 6);
        const auto opts = nn::EmbeddingFuncOptions().max_norm(1.5).norm_type(p);
        const Tensor cpu_out =
            nn::functional::embedding(ids_tensor(ids, DType::Int64), cpu_table, opts);
        const Tensor got =
            embedding(DeviceTensor::to_device(ids_tensor(ids, DType::Int32)), w, opts).to_host();
        EXPECT_TRUE(same_bits(got, cpu_out)) << dtype_name(wt) << " p=" << p << " D=" << dim;
        EXPECT_TRUE(same_bits(w.to_host(), cpu_table)) << dtype_name(wt) << " p=" << p;
      }
    }
  }
}

struct BagCase {
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> offsets;  // without the last
};

// Bags of sizes 0..7 including empty ones at the start, middle and end.
BagCase make_bags(std::int64_t rows, std::uint32_t seed) {
  BagCase c;
  std::mt19937 gen(seed);
  const std::vector<std::int64_t> sizes = {0, 3, 1, 0, 0, 7, 2, 5, 0, 4, 6, 0};
  std::int64_t total = 0;
  for (std::int64_t s : sizes) {
    c.offsets.push_back(total);
    total += s;
  }
  c.ids = random_ids(total, rows, seed);
  return c;
}

TEST(CudaKernels, BagMatchesReference) {
  EMBEDKIT_REQUIRE_CUDA();
  for (DType wt : kTables) {
    for (DType it : kIds) {
      for (std::int64_t dim : kDims) {
        const Tensor table = random_table(20, dim, wt, 7);
        const BagCase c = make_bags(20, 8);
        std::vector<std::int64_t> bounds = c.offsets;
        bounds.push_back(static_cast<std::int64_t>(c.ids.size()));
        DeviceTensor w = DeviceTensor::to_device(table);
        const DeviceTensor d_ids = DeviceTensor::to_device(ids_tensor(c.ids, it));
        for (BagMode mode : {BagMode::Sum, BagMode::Mean, BagMode::Max}) {
          for (std::int64_t padding : {std::int64_t{-1}, std::int64_t{2}}) {
            for (bool last : {false, true}) {
              for (bool weighted : {false, true}) {
                if (weighted && mode != nn::BagMode::Sum) continue;
                auto opts = nn::EmbeddingBagFuncOptions().mode(mode).include_last_offset(last);
                if (padding >= 0) opts.padding_idx(padding);
                const Tensor offsets = ids_tensor(last ? bounds : c.offsets, it);
                Tensor psw;
                if (weighted) {
                  psw = random_table(1, static_cast<std::int64_t>(c.ids.size()), wt, 9)
                            .reshape({static_cast<std::int64_t>(c.ids.size())});
                }
                const Tensor got =
                    embedding_bag(d_ids, w, DeviceTensor::to_device(offsets), opts,
                                  weighted ? DeviceTensor::to_device(psw) : DeviceTensor())
                        .to_host();
                EXPECT_TRUE(same_bits(got, ref_bag(table, c.ids, bounds, mode, psw, padding)))
                    << dtype_name(wt) << " " << dtype_name(it) << " D=" << dim << " mode "
                    << nn::bag_mode_name(mode) << " padding " << padding << " last " << last
                    << " weighted " << weighted;
              }
            }
          }
        }
      }
    }
  }
}

TEST(CudaKernels, BagOf2DIds) {
  EMBEDKIT_REQUIRE_CUDA();
  const Tensor table = random_table(30, 16, DType::Float32, 1);
  const std::vector<std::int64_t> ids = random_ids(40, 30, 2);
  std::vector<std::int64_t> bounds;
  for (std::int64_t b = 0; b <= 8; ++b) bounds.push_back(b * 5);
  DeviceTensor w = DeviceTensor::to_device(table);
  const Tensor got = embedding_bag(DeviceTensor::to_device(ids_tensor(ids, DType::Int64, {8, 5})),
                                   w, DeviceTensor(), nn::EmbeddingBagFuncOptions())
                         .to_host();
  EXPECT_TRUE(same_bits(got, ref_bag(table, ids, bounds, BagMode::Mean, Tensor(), -1)));
}

// Offsets and ids errors: the same exception type and message as the CPU.
TEST(CudaKernels, BagErrorsMatchCpu) {
  EMBEDKIT_REQUIRE_CUDA();
  Tensor table = random_table(10, 4, DType::Float32, 1);
  DeviceTensor w = DeviceTensor::to_device(table);
  struct Case {
    std::vector<std::int64_t> ids, offsets;
    bool last;
  };
  const std::vector<Case> cases = {
      {{1, 2, 3}, {1, 2}, false},     // offsets[0] != 0
      {{1, 2, 3}, {0, 2, 1}, false},  // decreasing
      {{1, 2, 3}, {0, 5}, false},     // past the end
      {{1, 2, 3}, {0, 2}, true},      // last offset != n
      {{1, 2, 3}, {}, true},          // include_last_offset without offsets
      {{1, 2, 3}, {}, false},         // ids in no bag
      {{1, 12, 3}, {0, 1}, false},    // bad id
      {{1, 12, 3}, {0, 5}, false},    // bad offset reported before the bad id
  };
  for (const Case& c : cases) {
    const auto opts =
        nn::EmbeddingBagFuncOptions().mode(nn::BagMode::Sum).include_last_offset(c.last);
    const Tensor ids = ids_tensor(c.ids, DType::Int64);
    const Tensor off = ids_tensor(c.offsets, DType::Int64);
    std::string cpu;
    try {
      nn::functional::embedding_bag(ids, table, off, opts);
    } catch (const Error& e) {
      cpu = e.what();
    }
    ASSERT_FALSE(cpu.empty());
    std::string gpu;
    try {
      embedding_bag(DeviceTensor::to_device(ids), w, DeviceTensor::to_device(off), opts);
    } catch (const Error& e) {
      gpu = e.what();
    }
    // The CPU names itself "embedding_bag", the device "cuda::embedding_bag".
    const auto strip = [](std::string s) {
      const std::size_t colon = s.find(": ");
      return colon == std::string::npos ? s : s.substr(colon);
    };
    EXPECT_EQ(strip(gpu), strip(cpu));
  }
}

Tensor scatter_rows(const DeviceRowGrad& g, std::int64_t rows, std::int64_t dim) {
  Tensor dense = Tensor::zeros({rows, dim});
  const std::vector<std::int64_t> r = g.rows.to_host().to_int64_vector();
  const Tensor v = g.values.to_host();
  for (std::size_t k = 0; k < r.size(); ++k) {
    if (k > 0) {
      EXPECT_LT(r[k - 1], r[k]) << "rows not ascending";
    }
    std::memcpy(dense.data<float>() + r[k] * dim,
                v.data<float>() + static_cast<std::int64_t>(k) * dim,
                static_cast<std::size_t>(dim) * sizeof(float));
  }
  return dense;
}

TEST(CudaKernels, RowGradientMatchesReferenceDense) {
  EMBEDKIT_REQUIRE_CUDA();
  for (DType it : kIds) {
    for (std::int64_t dim : kDims) {
      for (std::int64_t padding : {std::int64_t{-1}, std::int64_t{1}}) {
        for (bool freq : {false, true}) {
          const std::int64_t rows = 25;
          const std::vector<std::int64_t> ids = random_ids(500, rows, 11);
          const Tensor grad = random_table(500, dim, DType::Float32, 12);
          Tensor expected = Tensor::empty({rows, dim});
          kernels::ref::embedding_backward_dense(grad.data<float>(), ids.data(), 500, dim, rows,
                                                 padding, freq, expected.data<float>());
          auto opts = nn::EmbeddingFuncOptions().scale_grad_by_freq(freq);
          if (padding >= 0) opts.padding_idx(padding);
          const DeviceRowGrad g =
              embedding_backward_rows(DeviceTensor::to_device(ids_tensor(ids, it)),
                                      DeviceTensor::to_device(grad), rows, opts);
          EXPECT_TRUE(same_bits(scatter_rows(g, rows, dim), expected))
              << dtype_name(it) << " D=" << dim << " padding " << padding << " freq " << freq;
        }
      }
    }
  }
}

TEST(CudaKernels, BagRowGradientMatchesReferenceDense) {
  EMBEDKIT_REQUIRE_CUDA();
  for (std::int64_t dim : kDims) {
    for (BagMode mode : {BagMode::Sum, BagMode::Mean}) {
      for (std::int64_t padding : {std::int64_t{-1}, std::int64_t{0}}) {
        for (bool freq : {false, true}) {
          for (bool weighted : {false, true}) {
            if (weighted && mode != nn::BagMode::Sum) continue;
            const std::int64_t rows = 12;
            const BagCase c = make_bags(rows, 13);
            const auto n = static_cast<std::int64_t>(c.ids.size());
            std::vector<std::int64_t> bounds = c.offsets;
            bounds.push_back(n);
            const auto bags = static_cast<std::int64_t>(c.offsets.size());
            const Tensor grad = random_table(bags, dim, DType::Float32, 14);
            const Tensor psw = random_table(1, n, DType::Float32, 15).reshape({n});
            Tensor expected = Tensor::empty({rows, dim});
            kernels::ref::bag_backward_dense(grad.data<float>(), c.ids.data(), bounds.data(), bags,
                                             dim, rows, mode,
                                             weighted ? psw.data<float>() : nullptr, padding, freq,
                                             nullptr, expected.data<float>());
            auto opts = nn::EmbeddingBagFuncOptions().mode(mode).scale_grad_by_freq(freq);
            if (padding >= 0) opts.padding_idx(padding);
            const DeviceRowGrad g = embedding_bag_backward_rows(
                DeviceTensor::to_device(ids_tensor(c.ids, DType::Int64)),
                DeviceTensor::to_device(ids_tensor(c.offsets, DType::Int64)),
                DeviceTensor::to_device(grad), rows, opts,
                weighted ? DeviceTensor::to_device(psw) : DeviceTensor());
            EXPECT_TRUE(same_bits(scatter_rows(g, rows, dim), expected))
                << "D=" << dim << " mode " << nn::bag_mode_name(mode) << " padding " << padding
                << " freq " << freq << " weighted " << weighted;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace embedkit::cuda
