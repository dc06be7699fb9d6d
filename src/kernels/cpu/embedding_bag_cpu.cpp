#include "kernels/cpu/embedding_bag_cpu.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "embedkit/core/thread_pool.hpp"
#include "kernels/bag_grad_scale.hpp"
#include "kernels/cpu/isa_kernels.hpp"
#include "kernels/cpu/row_gradient.hpp"
#include "kernels/cpu/tuning.hpp"

namespace embedkit::kernels::cpu {

namespace {

// Bag b's cost: its ids plus one for its output row. Chunk c of `chunks` starts at the first
// bag whose cumulative cost reaches c / chunks of the total, so threads get equal numbers of
// ids however the bag sizes vary.
std::int64_t bag_chunk_begin(const std::int64_t* bounds, std::int64_t num_bags, int chunks, int c) {
  const std::int64_t target = chunk_begin(bounds[num_bags] + num_bags, chunks, c);
  std::int64_t lo = 0;
  std::int64_t hi = num_bags;
  while (lo < hi) {  // first b with bounds[b] + b >= target (strictly increasing in b)
    const std::int64_t mid = lo + (hi - lo) / 2;
    if (bounds[mid] + mid < target) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// f(c, b0, b1) for each piece c of the bags, [b0, b1): one piece per thread (parallel_chunks;
// callers that keep an array per chunk rely on it) or, with `tasks`, kTasksPerThread per thread
// (parallel_tasks, for work whose bags are independent).
template <class F>
void for_bag_chunks(const std::int64_t* bounds, std::int64_t num_bags, std::int64_t row_bytes,
                    const F& f, bool tasks = false) {
  const std::int64_t bytes = (bounds[num_bags] + num_bags) * row_bytes;
  const auto piece = [&](int c, int pieces) {
    const std::int64_t b0 = bag_chunk_begin(bounds, num_bags, pieces, c);
    const std::int64_t b1 =
        c + 1 == pieces ? num_bags : bag_chunk_begin(bounds, num_bags, pieces, c + 1);
    f(c, b0, b1);
  };
  if (tasks) {
    parallel_tasks(tasks_for_bytes(bytes), piece);
  } else {
    parallel_chunks(threads_for_bytes(bytes), piece);
  }
}

}  // namespace

template <class W, class I>
void bag_forward(const W* weight, std::int64_t dim, const I* ids, const std::int64_t* bounds,
                 std::int64_t num_bags, BagMode mode, const W* per_sample_weights,
                 std::int64_t padding_idx, W* out, std::int64_t* arg_max, std::int64_t num_rows) {
  if (num_bags <= 0) return;
  if (dim <= 0) return;
  const IsaKernels<W, I>& k = isa_kernels<W, I>();
  const auto row_bytes = dim * static_cast<std::int64_t>(sizeof(W));
  const BagArgs<W, I> args{
      weight,      dim,
      ids,         bounds,
      mode,        per_sample_weights,
      padding_idx, out,
      arg_max,     table_prefetch_ahead(num_rows < 0 ? -1 : num_rows * row_bytes, row_bytes)};
  for_bag_chunks(
      bounds, num_bags, row_bytes,
      [&](int, std::int64_t b0, std::int64_t b1) { k.bag(args, b0, b1); }, /*tasks=*/true);
}

template <class W, class I>
void bag_backward_dense(const W* grad_out, const I* ids, const std::int64_t* bounds,
                        std::int64_t num_bags, std::int64_t dim, std::int64_t num_rows,
                        BagMode mode, const W* per_sample_weights, std::int64_t padding_idx,
                        bool scale_grad_by_freq, const std::int64_t* arg_max, W* grad_weight) {
  const auto row_bytes = dim * static_cast<std::int64_t>(sizeof(W));
  if (mode == BagMode::Max) {
    // Element-wise scatter of the arg-max; each thread owns a range of rows and adds, in bag
    // order, the elements that land in it (ref's order for each element).
    const int threads = threads_for_bytes((num_rows + num_bags) * row_bytes);
    parallel_chunks(threads, [&](int c, int chunks) {
      const std::int64_t r0 = chunk_begin(num_rows, chunks, c);
      const std::int64_t r1 = chunk_begin(num_rows, chunks, c + 1);
      if (r0 == r1 || dim == 0) return;
      const auto elems = static_cast<std::size_t>((r1 - r0) * dim);
      std::vector<float> scratch;
      float* acc = nullptr;
      if constexpr (std::is_same_v<W, float>) {
        acc = grad_weight + r0 * dim;
        std::memset(acc, 0, elems * sizeof(float));
      } else {
        scratch.assign(elems, 0.0f);
        acc = scratch.data();
      }
      for (std::int64_t b = 0; b < num_bags; ++b) {
        for (std::int64_t j = 0; j < dim; ++j) {
          const std::int64_t r = arg_max[b * dim + j];
          if (r >= r0 && r < r1) acc[(r - r0) * dim + j] += to_f32(grad_out[b * dim + j]);
        }
      }
      if constexpr (!std::is_same_v<W, float>) {
        W* dst = grad_weight + r0 * dim;
        for (std::size_t e = 0; e < elems; ++e) dst[e] = from_f32<W>(acc[e]);
      }
    });
    return;
  }

  // Sum / mean: term (row ids[i], source grad_out[bag], scale) per non-padding id.
  std::vector<std::int64_t> sizes;
  if (mode == BagMode::Mean) {
    sizes.resize(static_cast<std::size_t>(num_bags));
    for_bag_chunks(bounds, num_bags, 8, [&](int, std::int64_t b0, std::int64_t b1) {
      for (std::int64_t b = b0; b < b1; ++b) {
        sizes[static_cast<std::size_t>(b)] = bag_count(ids, bounds, b, padding_idx);
      }
    });
  }
  auto produce = [&](std::int64_t r0, std::int64_t r1, auto&& emit) {
    std::vector<std::int64_t> counts;  // of this thread's rows only
    if (scale_grad_by_freq) {
      counts.assign(static_cast<std::size_t>(r1 - r0), 0);
      for (std::int64_t i = 0; i < bounds[num_bags]; ++i) {
        const auto k = static_cast<std::int64_t>(ids[i]);
        if (k >= r0 && k < r1) ++counts[static_cast<std::size_t>(k - r0)];
      }
    }
    for (std::int64_t b = 0; b < num_bags; ++b) {
      const std::int64_t size = mode == BagMode::Mean ? sizes[static_cast<std::size_t>(b)] : 0;
      for (std::int64_t i = bounds[b]; i < bounds[b + 1]; ++i) {
        const auto k = static_cast<std::int64_t>(ids[i]);
        if (k < r0 || k >= r1 || k == padding_idx) continue;
        const double psw = per_sample_weights != nullptr ? to_f32(per_sample_weights[i]) : 1.0;
        const float scale =
            bag_grad_scale(psw, scale_grad_by_freq ? counts[static_cast<std::size_t>(k - r0)] : 1,
                           size, mode == BagMode::Mean, scale_grad_by_freq);
        emit(RowTerm{k, b, scale});
      }
    }
  };
  dense_row_gradient(grad_out, dim, num_rows, bounds[num_bags], produce, grad_weight);
}

template <class W, class I>
std::int64_t bag_backward_sparse(const W* grad_out, const I* ids, const std::int64_t* bounds,
                                 std::int64_t num_bags, std::int64_t dim, BagMode mode,
                                 const W* per_sample_weights, std::int64_t padding_idx,
                                 std::int64_t* out_indices, W* out_values) {
  // No entries when dim == 0 (ref: a gradient without elements is empty, as PyTorch's).
  if (num_bags <= 0 || dim <= 0) return 0;
  const IsaKernels<W, I>& k = isa_kernels<W, I>();
  const auto row_bytes = std::max<std::int64_t>(dim * static_cast<std::int64_t>(sizeof(W)), 8);
  const int threads = get_num_threads();
  std::vector<std::int64_t> chunk_start(static_cast<std::size_t>(threads) + 1, 0);
  for_bag_chunks(bounds, num_bags, 2 * row_bytes, [&](int c, std::int64_t b0, std::int64_t b1) {
    std::int64_t nnz = 0;
    for (std::int64_t b = b0; b < b1; ++b) nnz += bag_count(ids, bounds, b, padding_idx);
    chunk_start[static_cast<std::size_t>(c) + 1] = nnz;
  });
  for (std::size_t c = 1; c < chunk_start.size(); ++c) chunk_start[c] += chunk_start[c - 1];
  for_bag_chunks(bounds, num_bags, 2 * row_bytes, [&](int c, std::int64_t b0, std::int64_t b1) {
    const std::int64_t o = chunk_start[static_cast<std::size_t>(c)];
    std::vector<RowTerm> terms;
    terms.reserve(static_cast<std::size_t>(chunk_start[static_cast<std::size_t>(c) + 1] - o));
    for (std::int64_t b = b0; b < b1; ++b) {
      const std::int64_t size = bag_count(ids, bounds, b, padding_idx);
      for (std::int64_t i = bounds[b]; i < bounds[b + 1]; ++i) {
        const auto id = static_cast<std::int64_t>(ids[i]);
        if (id == padding_idx) continue;
        const double psw = per_sample_weights != nullptr ? to_f32(per_sample_weights[i]) : 1.0;
        out_indices[o + static_cast<std::int64_t>(terms.size())] = id;
        terms.push_back(RowTerm{id, b, bag_grad_scale(psw, 1, size, mode == BagMode::Mean, false)});
      }
    }
    k.scale_rows(grad_out, dim, terms.data(), static_cast<std::int64_t>(terms.size()),
                 out_values + o * dim, prefetch_ahead(dim * static_cast<std::int64_t>(sizeof(W))));
  });
  return chunk_start.back();
}

template <class W, class I>
void bag_backward_per_sample_weights(const W* grad_out, const W* weight, const I* ids,
                                     const std::int64_t* bounds, std::int64_t num_bags,
                                     std::int64_t dim, std::int64_t padding_idx, W* grad_psw) {
  if (num_bags <= 0) return;
  const IsaKernels<W, I>& k = isa_kernels<W, I>();
  for_bag_chunks(bounds, num_bags, std::max<std::int64_t>(dim * 8, 8),
                 [&](int, std::int64_t b0, std::int64_t b1) {
                   k.per_sample_weights_grad(grad_out, weight, dim, ids, bounds, b0, b1,
                                             padding_idx, grad_psw);
                 });
}

#define EMBEDKIT_INSTANTIATE(W, I)                                                               \
  template void bag_forward<W, I>(const W*, std::int64_t, const I*, const std::int64_t*,         \
                                  std::int64_t, BagMode, const W*, std::int64_t, W*,             \
                                  std::int64_t*, std::int64_t);                                  \
  template void bag_backward_dense<W, I>(const W*, const I*, const std::int64_t*, std::int64_t,  \
                                         std::int64_t, std::int64_t, BagMode, const W*,          \
                                         std::int64_t, bool, const std::int64_t*, W*);           \
  template std::int64_t bag_backward_sparse<W, I>(const W*, const I*, const std::int64_t*,       \
                                                  std::int64_t, std::int64_t, BagMode, const W*, \
                                                  std::int64_t, std::int64_t*, W*);              \
  template void bag_backward_per_sample_weights<W, I>(const W*, const W*, const I*,              \
                                                      const std::int64_t*, std::int64_t,         \
                                                      std::int64_t, std::int64_t, W*);

EMBEDKIT_INSTANTIATE(float, std::int32_t)
EMBEDKIT_INSTANTIATE(float, std::int64_t)
EMBEDKIT_INSTANTIATE(Half, std::int32_t)
EMBEDKIT_INSTANTIATE(Half, std::int64_t)
EMBEDKIT_INSTANTIATE(BFloat16, std::int32_t)
EMBEDKIT_INSTANTIATE(BFloat16, std::int64_t)
#undef EMBEDKIT_INSTANTIATE

}  // namespace embedkit::kernels::cpu
