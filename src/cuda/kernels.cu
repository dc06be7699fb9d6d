// The CUDA kernels of the embedding backend and their launchers (declared in launch.hpp).
//
// Arithmetic: every float operation whose rounding matters is an explicit intrinsic (__fmaf_rn,
// __fadd_rn, __fmul_rn, __fdiv_rn, __fsqrt_rn, and their double forms), written in the order of
// the reference kernels (src/kernels/ref) and of src/optim, so the device rounds where the CPU
// rounds; the file is also compiled with --fmad=false so nothing else is contracted.
// Determinism: gradients are summed per row by one warp, terms in input order (a stable radix
// sort of (row, position) pairs groups them); there are no float atomics.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_run_length_encode.cuh>
#include <cub/device/device_scan.cuh>

#include "cuda/launch.hpp"
#include "embedkit/cuda/device.hpp"

namespace embedkit::cuda::detail {

namespace {

using i64 = std::int64_t;
constexpr int kBlock = 256;

cudaStream_t as_stream(void* s) {
  return static_cast<cudaStream_t>(s);
}

i64 blocks_for(i64 threads) {
  return std::max<i64>(1, std::min<i64>((threads + kBlock - 1) / kBlock, i64{1} << 30));
}

// Blocks for a grid-stride loop over `items` warps (capped: the loop covers the rest).
unsigned grid_for_warps(i64 items) {
  const i64 warps_per_block = kBlock / 32;
  return static_cast<unsigned>(
      std::max<i64>(1, std::min<i64>((items + warps_per_block - 1) / warps_per_block, 65536)));
}

int group_size(i64 units) {
  int g = 1;
  while (g < 32 && g < units) g *= 2;
  return g;
}

// ---- element access ------------------------------------------------------------------------

__device__ inline float ld(const float* p) {
  return *p;
}
__device__ inline float ld(const __half* p) {
  return __half2float(*p);
}
__device__ inline float ld(const __nv_bfloat16* p) {
  return __bfloat162float(*p);
}
__device__ inline void st(float* p, float x) {
  *p = x;
}
__device__ inline void st(__half* p, float x) {
  *p = __float2half_rn(x);
}
__device__ inline void st(__nv_bfloat16* p, float x) {
  *p = __float2bfloat16_rn(x);
}

template <class W, int V>
struct alignas(sizeof(W) * V) Pack {
  W v[V];
};

// ---- validation ----------------------------------------------------------------------------

template <class I>
__global__ void check_ids_kernel(const I* ids, i64 n, i64 num_rows, Flags* flags) {
  const i64 stride = static_cast<i64>(gridDim.x) * blockDim.x;
  for (i64 i = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; i < n; i += stride) {
    const i64 k = static_cast<i64>(ids[i]);
    if (k < 0 || k >= num_rows) {
      atomicMin(&flags->first_bad_id, static_cast<unsigned long long>(i));
    }
  }
}

template <class I>
__global__ void check_offsets_kernel(const I* off, i64 count, i64 n, Flags* flags) {
  const i64 stride = static_cast<i64>(gridDim.x) * blockDim.x;
  for (i64 b = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; b < count; b += stride) {
    const i64 v = static_cast<i64>(off[b]);
    const bool bad = (b == 0 && v != 0) || (b > 0 && v < static_cast<i64>(off[b - 1])) || v > n;
    if (bad) atomicMin(&flags->first_bad_offset, static_cast<unsigned long long>(b));
  }
}

template <class I>
__global__ void offsets_to_bounds_kernel(const I* off, i64 count, bool include_last, i64 n,
                                         i64* bounds) {
  const i64 b = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x;
  if (b < count) bounds[b] = static_cast<i64>(off[b]);
  if (b == 0 && !include_last) bounds[count] = n;
}

__global__ void uniform_bounds_kernel(i64 num_bags, i64 length, i64* bounds) {
  const i64 b = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x;
  if (b <= num_bags) bounds[b] = b * length;
}

// ---- gather --------------------------------------------------------------------------------

// Group of G threads per output row, each copying units U of the row.
template <class U, class I>
__global__ void gather_kernel(const U* weight, i64 row_units, const I* ids, i64 n, U* out,
                              int group) {
  const i64 t = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x;
  const i64 i = t / group;
  if (i >= n) return;
  const int lane = static_cast<int>(t % group);
  const U* src = weight + static_cast<i64>(ids[i]) * row_units;
  U* dst = out + i * row_units;
  for (i64 c = lane; c < row_units; c += group) dst[c] = src[c];
}

template <class I>
void gather_typed(const void* weight, std::size_t row_bytes, const I* ids, i64 n, void* out,
                  cudaStream_t stream) {
  auto run = [&](auto unit) {
    using U = decltype(unit);
    const i64 units = static_cast<i64>(row_bytes / sizeof(U));
    const int g = group_size(units);
    gather_kernel<U, I><<<static_cast<unsigned>(blocks_for(n * g)), kBlock, 0, stream>>>(
        static_cast<const U*>(weight), units, ids, n, static_cast<U*>(out), g);
  };
  if (row_bytes % 16 == 0) {
    run(uint4{});
  } else if (row_bytes % 8 == 0) {
    run(uint2{});
  } else if (row_bytes % 4 == 0) {
    run(std::uint32_t{});
  } else if (row_bytes % 2 == 0) {
    run(std::uint16_t{});
  } else {
    run(std::uint8_t{});
  }
}

// ---- bags ----------------------------------------------------------------------------------

// kernels::ref::bag_forward: a group of G threads per bag, V adjacent columns per thread.
template <class W, class I, int V>
__global__ void bag_kernel(const W* weight, i64 dim, const I* ids, const i64* bounds, i64 num_bags,
                           BagMode mode, const W* psw, i64 padding, W* out, int group) {
  const i64 t = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x;
  const i64 bag = t / group;
  if (bag >= num_bags) return;
  const int lane = static_cast<int>(t % group);
  const i64 begin = bounds[bag];
  const i64 end = bounds[bag + 1];
  const bool rounded_product = psw != nullptr && padding >= 0;
  for (i64 c0 = static_cast<i64>(lane) * V; c0 < dim; c0 += static_cast<i64>(group) * V) {
    float acc[V];
    for (int v = 0; v < V; ++v) acc[v] = 0.0f;
    i64 count = 0;
    for (i64 i = begin; i < end; ++i) {
      const i64 k = static_cast<i64>(ids[i]);
      if (k == padding) continue;
      const Pack<W, V> p = *reinterpret_cast<const Pack<W, V>*>(weight + k * dim + c0);
      if (mode == BagMode::Max) {
        for (int v = 0; v < V; ++v) {
          const float x = ld(&p.v[v]);
          if (count == 0 || x > acc[v]) acc[v] = x;
        }
      } else {
        const float w = psw != nullptr ? ld(psw + i) : 1.0f;
        for (int v = 0; v < V; ++v) {
          const float x = ld(&p.v[v]);
          acc[v] = rounded_product ? __fadd_rn(acc[v], __fmul_rn(w, x)) : __fmaf_rn(w, x, acc[v]);
        }
      }
      ++count;
    }
    if (mode == BagMode::Mean && count > 0) {
      const float c = static_cast<float>(count);
      for (int v = 0; v < V; ++v) acc[v] = __fdiv_rn(acc[v], c);
    }
    Pack<W, V> o;
    for (int v = 0; v < V; ++v) st(&o.v[v], acc[v]);
    *reinterpret_cast<Pack<W, V>*>(out + bag * dim + c0) = o;
  }
}

template <class W, class I>
void bag_typed(const void* weight, i64 dim, const void* ids, const i64* bounds, i64 num_bags,
               BagMode mode, const void* psw, i64 padding, void* out) {
  auto run = [&](auto vec) {
    constexpr int V = decltype(vec)::value;
    const int g = group_size((dim + V - 1) / V);
    bag_kernel<W, I, V><<<static_cast<unsigned>(blocks_for(num_bags * g)), kBlock>>>(
        static_cast<const W*>(weight), dim, static_cast<const I*>(ids), bounds, num_bags, mode,
        static_cast<const W*>(psw), padding, static_cast<W*>(out), g);
  };
  if (dim % 4 == 0) {
    run(std::integral_constant<int, 4>{});
  } else {
    run(std::integral_constant<int, 1>{});
  }
}

// ---- grouping by row -----------------------------------------------------------------------

template <class I>
__global__ void make_keys_kernel(const I* ids, i64 n, i64 padding, std::uint64_t sentinel,
                                 std::uint64_t* keys, std::int32_t* positions) {
  const i64 stride = static_cast<i64>(gridDim.x) * blockDim.x;
  for (i64 i = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; i < n; i += stride) {
    const i64 k = static_cast<i64>(ids[i]);
    keys[i] = k == padding ? sentinel : static_cast<std::uint64_t>(k);
    positions[i] = static_cast<std::int32_t>(i);
  }
}

// The padding ids sort last (key = num_rows); their run is dropped.
__global__ void drop_sentinel_kernel(const std::uint64_t* rows, i64* num_runs,
                                     std::uint64_t sentinel) {
  const i64 r = *num_runs;
  if (r > 0 && rows[r - 1] == sentinel) *num_runs = r - 1;
}

struct Workspace {
  DeviceBuffer keys_in, keys_out, pos_in, pos_out, unique, counts, ends, num_runs, temp;
};

Workspace& workspace() {
  thread_local Workspace ws;
  return ws;
}

void ensure(DeviceBuffer& buf, std::size_t bytes) {
  if (buf.size() < bytes) buf = DeviceBuffer(std::max(bytes, buf.size() + buf.size() / 2));
}

// ---- segment reductions --------------------------------------------------------------------

struct Src {
  const float* grad;
  const std::int32_t* bag_of;  // null: embedding
  const i64* bag_size;
  const float* psw;
  BagMode mode;
  bool scale_grad_by_freq;
};

// The multiplier of term `pos` (run of `count` terms) and the row of grad it reads.
__device__ inline float term_scale(const Src& s, i64 pos, i64 count, i64* src_row) {
  if (s.bag_of == nullptr) {
    *src_row = pos;
    return s.scale_grad_by_freq ? __double2float_rn(__drcp_rn(static_cast<double>(count))) : 1.0f;
  }
  const i64 b = s.bag_of[pos];
  *src_row = b;
  // kernels::bag_grad_scale (kernels/bag_grad_scale.hpp): double, rounded to float.
  double scale = s.psw != nullptr ? static_cast<double>(s.psw[pos]) : 1.0;
  if (s.scale_grad_by_freq) scale = __ddiv_rn(scale, static_cast<double>(count));
  if (s.mode == BagMode::Mean && s.bag_size[b] != 0) {
    scale = __ddiv_rn(scale, static_cast<double>(s.bag_size[b]));
  }
  return __double2float_rn(scale);
}

// Sum of column j of a run's terms, in input order.
__device__ inline float run_sum(const Src& s, const std::int32_t* order, i64 begin, i64 end,
                                i64 dim, i64 j) {
  float acc = 0.0f;
  for (i64 t = begin; t < end; ++t) {
    i64 row = 0;
    const float scale = term_scale(s, order[t], end - begin, &row);
    acc = __fmaf_rn(scale, s.grad[row * dim + j], acc);
  }
  return acc;
}

__global__ void segment_sum_kernel(Grouping g, Src s, i64 dim, i64* rows, float* values) {
  const i64 warp = (blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x % 32);
  const i64 warps = static_cast<i64>(gridDim.x) * blockDim.x / 32;
  const i64 runs = *g.num_runs;
  for (i64 r = warp; r < runs; r += warps) {
    const i64 begin = r == 0 ? 0 : g.run_starts[r - 1];
    const i64 end = g.run_starts[r];
    if (lane == 0) rows[r] = g.run_rows[r];
    for (i64 j = lane; j < dim; j += 32)
      values[r * dim + j] = run_sum(s, g.order, begin, end, dim, j);
  }
}

// One column of a per-column update (SGD, Adagrad, SparseAdam): optim::*::begin_row_step.
__device__ inline void update_column(const UpdateArgs& a, i64 e, float g) {
  if (a.maximize) g = -g;
  float& w = a.weight[e];
  switch (a.kind) {
    case OptimizerKind::SGD:
      w = __fmaf_rn(a.sgd.neg_lr, g, w);  // add_alpha(w, g, -lr)
      break;
    case OptimizerKind::Adagrad: {
      float& sum = a.state0[e];
      sum = __fadd_rn(sum, __fmul_rn(g, g));
      const float denom = __fadd_rn(__fsqrt_rn(sum), a.adagrad.eps);
      w = __fmaf_rn(a.adagrad.neg_clr, __fdiv_rn(g, denom), w);  // add_alpha(w, g / denom, -clr)
      break;
    }
    case OptimizerKind::SparseAdam: {
      float& m = a.state0[e];
      float& v = a.state1[e];
      const float old_m = m;
      const float m_update = __fmul_rn(__fsub_rn(g, old_m), a.adam.one_minus_beta1);
      m = __fadd_rn(old_m, m_update);
      const float old_v = v;
      const float v_update = __fmul_rn(__fsub_rn(__fmul_rn(g, g), old_v), a.adam.one_minus_beta2);
      v = __fadd_rn(old_v, v_update);
      const float numer = __fadd_rn(m_update, old_m);
      const float denom = __fadd_rn(__fsqrt_rn(__fadd_rn(v_update, old_v)), a.adam.eps);
      w = __fadd_rn(w, __fmul_rn(a.adam.neg_step_size, __fdiv_rn(numer, denom)));
      break;
    }
    case OptimizerKind::RowWiseAdagrad:
      break;  // row-wise: see fused_rowwise_kernel
  }
}

__global__ void fused_column_kernel(Grouping g, Src s, i64 dim, UpdateArgs a) {
  const i64 warp = (blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x % 32);
  const i64 warps = static_cast<i64>(gridDim.x) * blockDim.x / 32;
  const i64 runs = *g.num_runs;
  for (i64 r = warp; r < runs; r += warps) {
    const i64 begin = r == 0 ? 0 : g.run_starts[r - 1];
    const i64 end = g.run_starts[r];
    const i64 row = g.run_rows[r];
    for (i64 j = lane; j < dim; j += 32) {
      update_column(a, row * dim + j, run_sum(s, g.order, begin, end, dim, j));
    }
  }
}

// optim::RowWiseAdagrad::update_row: the row's gradient is kept in shared memory (dim floats
// per warp) because the squares are summed over the whole row first, in the CPU's order: 8
// interleaved partial sums (column j into partial j % 8, in column order), one per lane of lanes
// 0-7, then added pairwise by lane 0.
__global__ void fused_rowwise_kernel(Grouping g, Src s, i64 dim, UpdateArgs a) {
  extern __shared__ float shared[];
  float* grow = shared + (threadIdx.x / 32) * dim;
  const i64 warp = (blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x % 32);
  const i64 warps = static_cast<i64>(gridDim.x) * blockDim.x / 32;
  const i64 runs = *g.num_runs;
  const float lr = a.rowwise.lr;
  const float eps = a.rowwise.eps;
  const float wd = a.rowwise.weight_decay;
  const bool l2 = a.rowwise.l2;
  for (i64 r = warp; r < runs; r += warps) {
    const i64 begin = r == 0 ? 0 : g.run_starts[r - 1];
    const i64 end = g.run_starts[r];
    const i64 row = g.run_rows[r];
    float* w = a.weight + row * dim;
    for (i64 j = lane; j < dim; j += 32) grow[j] = run_sum(s, g.order, begin, end, dim, j);
    __syncwarp();
    float partial = 0.0f;
    if (lane < 8) {
      for (i64 j = lane; j < dim; j += 8) {
        const float gj = l2 ? __fadd_rn(grow[j], __fmul_rn(wd, w[j])) : grow[j];
        partial = __fadd_rn(partial, __fmul_rn(gj, gj));
      }
    }
    float p[8];
#pragma unroll
    for (int l = 0; l < 8; ++l) p[l] = __shfl_sync(0xffffffffu, partial, l);
    float multiplier = 0.0f;
    float correction = 1.0f;
    if (lane == 0) {
      const float square_sum = __fadd_rn(__fadd_rn(__fadd_rn(p[0], p[1]), __fadd_rn(p[2], p[3])),
                                         __fadd_rn(__fadd_rn(p[4], p[5]), __fadd_rn(p[6], p[7])));
      const float mean = dim == 0 ? 0.0f : __fdiv_rn(square_sum, static_cast<float>(dim));
      float& sum = a.state0[row];
      sum = __fadd_rn(sum, mean);
      multiplier = __fdiv_rn(lr, __fadd_rn(__fsqrt_rn(sum), eps));
      if (a.rowwise.decay) {
        const double prod = static_cast<double>(l2 ? __fmul_rn(multiplier, wd) : __fmul_rn(lr, wd));
        correction = __double2float_rn(__dsub_rn(1.0, prod));
      }
    }
    multiplier = __shfl_sync(0xffffffffu, multiplier, 0);
    correction = __shfl_sync(0xffffffffu, correction, 0);
    for (i64 j = lane; j < dim; j += 32) {
      w[j] = __fsub_rn(__fmul_rn(correction, w[j]), __fmul_rn(grow[j], multiplier));
    }
    __syncwarp();
  }
}

// ---- max_norm ------------------------------------------------------------------------------

template <class W>
__device__ inline float round_to(float x) {
  W tmp;
  st(&tmp, x);
  return ld(&tmp);
}

// kernels::ref::renorm_rows: lane 0 computes the row's norm in double, in column order.
template <class W>
__global__ void renorm_kernel(W* weight, i64 dim, Grouping g, double max_norm, double p) {
  const i64 warp = (blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x % 32);
  const i64 warps = static_cast<i64>(gridDim.x) * blockDim.x / 32;
  const i64 runs = *g.num_runs;
  for (i64 r = warp; r < runs; r += warps) {
    W* row = weight + g.run_rows[r] * dim;
    float scale = 1.0f;
    int apply = 0;
    if (lane == 0) {
      double norm = 0.0;
      if (isinf(p)) {
        for (i64 j = 0; j < dim; ++j) norm = fmax(norm, fabs(static_cast<double>(ld(row + j))));
      } else if (p == 1.0) {
        for (i64 j = 0; j < dim; ++j)
          norm = __dadd_rn(norm, fabs(static_cast<double>(ld(row + j))));
      } else if (p == 2.0) {
        for (i64 j = 0; j < dim; ++j) {
          const double x = ld(row + j);
          norm = __dadd_rn(norm, __dmul_rn(x, x));
        }
        norm = __dsqrt_rn(norm);
      } else {
        for (i64 j = 0; j < dim; ++j) {
          norm = __dadd_rn(norm, pow(fabs(static_cast<double>(ld(row + j))), p));
        }
        norm = pow(norm, __ddiv_rn(1.0, p));
      }
      norm = static_cast<double>(round_to<W>(__double2float_rn(norm)));
      if (norm > max_norm) {
        apply = 1;
        scale = round_to<W>(__double2float_rn(__ddiv_rn(max_norm, __dadd_rn(norm, 1e-7))));
      }
    }
    apply = __shfl_sync(0xffffffffu, apply, 0);
    scale = __shfl_sync(0xffffffffu, scale, 0);
    if (apply) {
      for (i64 j = lane; j < dim; j += 32) st(row + j, __fmul_rn(ld(row + j), scale));
    }
  }
}

// ---- bag index -----------------------------------------------------------------------------

template <class I>
__global__ void index_bags_kernel(const I* ids, const i64* bounds, i64 num_bags, i64 padding,
                                  std::int32_t* bag_of, i64* bag_size) {
  const i64 b = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x;
  if (b >= num_bags) return;
  i64 count = 0;
  for (i64 i = bounds[b]; i < bounds[b + 1]; ++i) {
    bag_of[i] = static_cast<std::int32_t>(b);
    count += static_cast<i64>(ids[i]) != padding;
  }
  bag_size[b] = count;
}

__global__ void fill_kernel(float* data, i64 n, float value) {
  const i64 i = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x;
  if (i < n) data[i] = value;
}

// ---- host-table cache ----------------------------------------------------------------------

template <class U>
__global__ void fill_slots_kernel(const U* table, i64 units, const i64* rows, const i64* slots,
                                  i64 count, U* cache, int group) {
  const i64 t = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x;
  const i64 k = t / group;
  if (k >= count) return;
  const int lane = static_cast<int>(t % group);
  const U* src = table + rows[k] * units;
  U* dst = cache + slots[k] * units;
  for (i64 c = lane; c < units; c += group) dst[c] = src[c];
}

template <class U>
__global__ void gather_cached_kernel(const U* table, const U* cache, i64 units, const i64* ids,
                                     const i64* slot_of, i64 n, U* out, int group) {
  const i64 t = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x;
  const i64 i = t / group;
  if (i >= n) return;
  const int lane = static_cast<int>(t % group);
  const i64 slot = slot_of[i];
  const U* src = slot >= 0 ? cache + slot * units : table + ids[i] * units;
  U* dst = out + i * units;
  for (i64 c = lane; c < units; c += group) dst[c] = src[c];
}

template <class F>
void with_unit(std::size_t row_bytes, F&& f) {
  if (row_bytes % 16 == 0) {
    f(uint4{});
  } else if (row_bytes % 8 == 0) {
    f(uint2{});
  } else if (row_bytes % 4 == 0) {
    f(std::uint32_t{});
  } else if (row_bytes % 2 == 0) {
    f(std::uint16_t{});
  } else {
    f(std::uint8_t{});
  }
}

}  // namespace

// ---- launchers -----------------------------------------------------------------------------

void reset_flags(Flags* flags) {
  check_status(cudaMemsetAsync(flags, 0xff, sizeof(Flags)), "reset validation flags");
}

Flags read_flags(const Flags* flags) {
  Flags out{};
  check_status(cudaMemcpy(&out, flags, sizeof out, cudaMemcpyDeviceToHost), "read flags");
  return out;
}

void copy_to_host(void* dst, const void* src, std::size_t bytes) {
  check_status(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "copy device to host");
}

void check_ids(const void* ids, DType id_type, i64 n, i64 num_rows, Flags* flags) {
  if (n == 0) return;
  const unsigned grid = static_cast<unsigned>(std::min<i64>(blocks_for(n), 4096));
  if (id_type == DType::Int32) {
    check_ids_kernel<<<grid, kBlock>>>(static_cast<const std::int32_t*>(ids), n, num_rows, flags);
  } else {
    check_ids_kernel<<<grid, kBlock>>>(static_cast<const i64*>(ids), n, num_rows, flags);
  }
  check_launch("check ids");
}

void check_offsets(const void* offsets, DType offset_type, i64 count, i64 n, Flags* flags) {
  if (count == 0) return;
  const unsigned grid = static_cast<unsigned>(std::min<i64>(blocks_for(count), 4096));
  if (offset_type == DType::Int32) {
    check_offsets_kernel<<<grid, kBlock>>>(static_cast<const std::int32_t*>(offsets), count, n,
                                           flags);
  } else {
    check_offsets_kernel<<<grid, kBlock>>>(static_cast<const i64*>(offsets), count, n, flags);
  }
  check_launch("check offsets");
}

void offsets_to_bounds(const void* offsets, DType offset_type, i64 count, bool include_last, i64 n,
                       i64* bounds) {
  const unsigned grid = static_cast<unsigned>(blocks_for(std::max<i64>(count, 1)));
  if (offset_type == DType::Int32) {
    offsets_to_bounds_kernel<<<grid, kBlock>>>(static_cast<const std::int32_t*>(offsets), count,
                                               include_last, n, bounds);
  } else {
    offsets_to_bounds_kernel<<<grid, kBlock>>>(static_cast<const i64*>(offsets), count,
                                               include_last, n, bounds);
  }
  check_launch("offsets to bounds");
}

void uniform_bounds(i64 num_bags, i64 length, i64* bounds) {
  uniform_bounds_kernel<<<static_cast<unsigned>(blocks_for(num_bags + 1)), kBlock>>>(
      num_bags, length, bounds);
  check_launch("bag bounds");
}

void gather(const void* weight, std::size_t row_bytes, const void* ids, DType id_type, i64 n,
            void* out, void* stream) {
  if (n == 0 || row_bytes == 0) return;
  if (id_type == DType::Int32) {
    gather_typed(weight, row_bytes, static_cast<const std::int32_t*>(ids), n, out,
                 as_stream(stream));
  } else {
    gather_typed(weight, row_bytes, static_cast<const i64*>(ids), n, out, as_stream(stream));
  }
  check_launch("gather");
}

void bag_forward(const void* weight, DType wt, i64 dim, const void* ids, DType id_type,
                 const i64* bounds, i64 num_bags, BagMode mode, const void* psw, i64 padding_idx,
                 void* out) {
  if (num_bags == 0 || dim == 0) return;
  const bool i32 = id_type == DType::Int32;
  switch (wt) {
    case DType::Float32:
      (i32 ? bag_typed<float, std::int32_t> : bag_typed<float, i64>)(weight, dim, ids, bounds,
                                                                     num_bags, mode, psw,
                                                                     padding_idx, out);
      break;
    case DType::Float16:
      (i32 ? bag_typed<__half, std::int32_t> : bag_typed<__half, i64>)(weight, dim, ids, bounds,
                                                                       num_bags, mode, psw,
                                                                       padding_idx, out);
      break;
    case DType::BFloat16:
      (i32 ? bag_typed<__nv_bfloat16, std::int32_t>
           : bag_typed<__nv_bfloat16, i64>)(weight, dim, ids, bounds, num_bags, mode, psw,
                                            padding_idx, out);
      break;
    default:
      throw TypeError("bag_forward: the table must be a float type");
  }
  check_launch("embedding_bag");
}

Grouping group_by_row(const void* ids, DType id_type, i64 n, i64 num_rows, i64 padding_idx) {
  Workspace& ws = workspace();
  const auto un = static_cast<std::size_t>(std::max<i64>(n, 1));
  ensure(ws.keys_in, un * 8);
  ensure(ws.keys_out, un * 8);
  ensure(ws.pos_in, un * 4);
  ensure(ws.pos_out, un * 4);
  ensure(ws.unique, un * 8);
  ensure(ws.counts, un * 4);
  ensure(ws.ends, un * 8);
  ensure(ws.num_runs, 8);
  auto* keys_in = static_cast<std::uint64_t*>(ws.keys_in.data());
  auto* keys_out = static_cast<std::uint64_t*>(ws.keys_out.data());
  auto* pos_in = static_cast<std::int32_t*>(ws.pos_in.data());
  auto* pos_out = static_cast<std::int32_t*>(ws.pos_out.data());
  auto* unique = static_cast<std::uint64_t*>(ws.unique.data());
  auto* counts = static_cast<std::int32_t*>(ws.counts.data());
  auto* ends = static_cast<i64*>(ws.ends.data());
  auto* num_runs = static_cast<i64*>(ws.num_runs.data());

  Grouping g;
  g.order = pos_out;
  g.run_rows = reinterpret_cast<i64*>(unique);
  g.run_starts = ends;
  g.num_runs = num_runs;
  g.n = n;
  if (n == 0) {
    check_status(cudaMemsetAsync(num_runs, 0, 8), "group ids");
    return g;
  }
  const auto sentinel = static_cast<std::uint64_t>(num_rows);
  int end_bit = 1;
  while (end_bit < 64 && (sentinel >> end_bit) != 0) ++end_bit;
  const int count = static_cast<int>(n);

  const unsigned grid = static_cast<unsigned>(std::min<i64>(blocks_for(n), 4096));
  if (id_type == DType::Int32) {
    make_keys_kernel<<<grid, kBlock>>>(static_cast<const std::int32_t*>(ids), n, padding_idx,
                                       sentinel, keys_in, pos_in);
  } else {
    make_keys_kernel<<<grid, kBlock>>>(static_cast<const i64*>(ids), n, padding_idx, sentinel,
                                       keys_in, pos_in);
  }
  check_launch("group ids: keys");

  std::size_t sort_bytes = 0;
  std::size_t rle_bytes = 0;
  std::size_t scan_bytes = 0;
  check_status(cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, keys_in, keys_out, pos_in,
                                               pos_out, count, 0, end_bit),
               "group ids: sort size");
  check_status(cub::DeviceRunLengthEncode::Encode(nullptr, rle_bytes, keys_out, unique, counts,
                                                  num_runs, count),
               "group ids: encode size");
  check_status(cub::DeviceScan::InclusiveSum(nullptr, scan_bytes, counts, ends, count),
               "group ids: scan size");
  ensure(ws.temp, std::max({sort_bytes, rle_bytes, scan_bytes, std::size_t{16}}));
  std::size_t temp_bytes = ws.temp.size();
  check_status(cub::DeviceRadixSort::SortPairs(ws.temp.data(), temp_bytes, keys_in, keys_out,
                                               pos_in, pos_out, count, 0, end_bit),
               "group ids: sort");
  temp_bytes = ws.temp.size();
  check_status(cub::DeviceRunLengthEncode::Encode(ws.temp.data(), temp_bytes, keys_out, unique,
                                                  counts, num_runs, count),
               "group ids: encode");
  temp_bytes = ws.temp.size();
  // Runs past num_runs hold stale counts; their sums are never read.
  check_status(cub::DeviceScan::InclusiveSum(ws.temp.data(), temp_bytes, counts, ends, count),
               "group ids: scan");
  drop_sentinel_kernel<<<1, 1>>>(unique, num_runs, sentinel);
  check_launch("group ids: padding");
  return g;
}

i64 read_num_runs(const Grouping& g) {
  i64 runs = 0;
  copy_to_host(&runs, g.num_runs, sizeof runs);
  return runs;
}

void renorm(void* weight, DType wt, i64 dim, const Grouping& g, double max_norm, double norm_type) {
  if (g.n == 0) return;
  const unsigned grid = grid_for_warps(g.n);
  switch (wt) {
    case DType::Float32:
      renorm_kernel<<<grid, kBlock>>>(static_cast<float*>(weight), dim, g, max_norm, norm_type);
      break;
    case DType::Float16:
      renorm_kernel<<<grid, kBlock>>>(static_cast<__half*>(weight), dim, g, max_norm, norm_type);
      break;
    case DType::BFloat16:
      renorm_kernel<<<grid, kBlock>>>(static_cast<__nv_bfloat16*>(weight), dim, g, max_norm,
                                      norm_type);
      break;
    default:
      throw TypeError("renorm: the table must be a float type");
  }
  check_launch("max_norm");
}

void index_bags(const void* ids, DType id_type, const i64* bounds, i64 num_bags, i64 padding_idx,
                std::int32_t* bag_of, i64* bag_size) {
  if (num_bags == 0) return;
  const unsigned grid = static_cast<unsigned>(blocks_for(num_bags));
  if (id_type == DType::Int32) {
    index_bags_kernel<<<grid, kBlock>>>(static_cast<const std::int32_t*>(ids), bounds, num_bags,
                                        padding_idx, bag_of, bag_size);
  } else {
    index_bags_kernel<<<grid, kBlock>>>(static_cast<const i64*>(ids), bounds, num_bags, padding_idx,
                                        bag_of, bag_size);
  }
  check_launch("index bags");
}

namespace {
Src make_src(const GradSource& src) {
  Src s{src.grad, nullptr, nullptr, nullptr, BagMode::Sum, src.scale_grad_by_freq};
  if (src.bags != nullptr) {
    s.bag_of = src.bags->bag_of;
    s.bag_size = src.bags->bag_size;
    s.psw = src.bags->psw;
    s.mode = src.bags->mode;
  }
  return s;
}
}  // namespace

void segment_sum(const Grouping& g, const GradSource& src, i64 dim, i64* rows, float* values) {
  if (g.n == 0) return;
  segment_sum_kernel<<<grid_for_warps(g.n), kBlock>>>(g, make_src(src), dim, rows, values);
  check_launch("segment sum");
}

void fused_update(const Grouping& g, const GradSource& src, i64 dim, const UpdateArgs& args) {
  if (g.n == 0) return;
  const Src s = make_src(src);
  if (args.kind != OptimizerKind::RowWiseAdagrad) {
    fused_column_kernel<<<grid_for_warps(g.n), kBlock>>>(g, s, dim, args);
  } else {
    // dim floats of shared memory per warp; the caller keeps dim within 48 KiB.
    const i64 row_bytes = std::max<i64>(dim, 1) * 4;
    const int warps = static_cast<int>(std::clamp<i64>(49152 / row_bytes, 1, 8));
    const i64 blocks = std::min<i64>((g.n + warps - 1) / warps, 65536);
    fused_rowwise_kernel<<<static_cast<unsigned>(blocks), 32 * warps,
                           static_cast<std::size_t>(warps * row_bytes)>>>(g, s, dim, args);
  }
  check_launch("fused backward step");
}

void fill(float* data, i64 n, float value) {
  if (n == 0) return;
  fill_kernel<<<static_cast<unsigned>(blocks_for(n)), kBlock>>>(data, n, value);
  check_launch("fill");
}

void fill_slots(const void* mapped_table, std::size_t row_bytes, const i64* rows, const i64* slots,
                i64 count, void* cache, void* stream) {
  if (count == 0 || row_bytes == 0) return;
  with_unit(row_bytes, [&](auto unit) {
    using U = decltype(unit);
    const i64 units = static_cast<i64>(row_bytes / sizeof(U));
    const int g = group_size(units);
    fill_slots_kernel<U>
        <<<static_cast<unsigned>(blocks_for(count * g)), kBlock, 0, as_stream(stream)>>>(
            static_cast<const U*>(mapped_table), units, rows, slots, count, static_cast<U*>(cache),
            g);
  });
  check_launch("cache fill");
}

void gather_cached(const void* mapped_table, const void* cache, std::size_t row_bytes,
                   const i64* ids, const i64* slot_of, i64 n, void* out, void* stream) {
  if (n == 0 || row_bytes == 0) return;
  with_unit(row_bytes, [&](auto unit) {
    using U = decltype(unit);
    const i64 units = static_cast<i64>(row_bytes / sizeof(U));
    const int g = group_size(units);
    gather_cached_kernel<U>
        <<<static_cast<unsigned>(blocks_for(n * g)), kBlock, 0, as_stream(stream)>>>(
            static_cast<const U*>(mapped_table), static_cast<const U*>(cache), units, ids, slot_of,
            n, static_cast<U*>(out), g);
  });
  check_launch("cached gather");
}

}  // namespace embedkit::cuda::detail
