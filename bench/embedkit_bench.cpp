// embedkit against LibTorch, in one process, on the same table and ids (the torch tensors are
// views of embedkit's buffers), with the machine's copy bandwidth measured in the same run.
//
// Every case reports GB/s (bytes of rows read + written, per call, 1e9 bytes), copy% (that
// rate against a large parallel memcpy with the same thread count, itself counted as read +
// written), on the large tables ceiling% (the table rows a call visits per second against the
// random-row read ceiling: the best of plain loops that only read rows at random from the same
// table, for the same id distribution, with the same thread count, with and without
// prefetching: the random_rows cases) and, for embedkit, vs_torch = LibTorch's time / embedkit's
// time for the same case
// (> 1: embedkit is faster). Cases run torch first, then embedkit, then the yardstick.
//
// Fused training steps (step_*: SGD exact and in input order, Adagrad, row-wise Adagrad,
// SparseAdam; /bag:20 an EmbeddingBag's sum-mode step) run against LibTorch's sparse gradient
// then torch.optim's update in ATen ops (torch:dense: its dense gradient and dense step); their
// GB/s counts the gradient rows read and, for every id, a table row read and written and the
// optimizer state's rows read and written (the bytes a step must move when no id repeats).
//
// Row-wise quantized bags (qbag_int8_sum, qbag_int4_sum) run on the float32 bag's table
// quantized by embedkit, against PyTorch's quantized::embedding_bag_{byte,4bit}_rowwise_offsets
// on the same packed bytes; their vs_float32 is embedkit's float32 bag_sum time on the float
// table / their time (the sizes name the table as float32; +hugepages: both tables on huge
// pages).
//
// Default: a subset that runs in a few minutes. EMBEDKIT_BENCH_FULL=1: every combination.
// EMBEDKIT_BENCH_4G=1: adds 4 GiB tables (with and without huge pages, and the quantized bags
// and the SGD step of the 4 GiB table). EMBEDKIT_BENCH_DLRM=1: adds the embedding work of one step
// of bench/python's DLRM model (327,680 ids in bags of 20 over 2 GiB of D = 64 rows; one table of
// 8M rows here, as its 8 tables of 1M rows are to the caches), with uniform ids and with the
// Zipf ids that bench/python draws. Google Benchmark's own flags
// (--benchmark_filter=...,
// --benchmark_out=...) work as usual.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <benchmark/benchmark.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench_data.hpp"
#include "embedkit/core/memory.hpp"
#include "embedkit/core/thread_pool.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/nn/quantized_embedding_bag.hpp"
#include "embedkit/optim/adagrad.hpp"
#include "embedkit/optim/fused_backward.hpp"
#include "embedkit/optim/rowwise_adagrad.hpp"
#include "embedkit/optim/sgd.hpp"
#include "embedkit/optim/sparse_adam.hpp"
#include "yardstick.hpp"

namespace embedkit::bench {
namespace {

enum class Op {
  Copy,
  RandomRows,
  ForwardAlloc,
  ForwardInto,
  BagSum,
  BagMean,
  BackwardDense,
  BackwardSparse,
  FusedSgd,
  FusedSgdInputOrder,
  FusedAdagrad,
  FusedRowWiseAdagrad,
  FusedSparseAdam,
  QuantizedBagInt8,
  QuantizedBagInt4
};
enum class Impl { Torch, Embedkit, Yardstick };

std::string op_name(Op op) {
  switch (op) {
    case Op::Copy:
      return "copy";
    case Op::RandomRows:
      return "random_rows";
    case Op::ForwardAlloc:
      return "fwd_alloc";
    case Op::ForwardInto:
      return "fwd_into";
    case Op::BagSum:
      return "bag_sum";
    case Op::BagMean:
      return "bag_mean";
    case Op::BackwardDense:
      return "bwd_dense";
    case Op::BackwardSparse:
      return "bwd_sparse";
    case Op::FusedSgd:
      return "step_sgd";
    case Op::FusedSgdInputOrder:
      return "step_sgd_input_order";
    case Op::FusedAdagrad:
      return "step_adagrad";
    case Op::FusedRowWiseAdagrad:
      return "step_rowwise_adagrad";
    case Op::FusedSparseAdam:
      return "step_sparse_adam";
    case Op::QuantizedBagInt8:
      return "qbag_int8_sum";
    case Op::QuantizedBagInt4:
      return "qbag_int4_sum";
  }
  return "?";
}

std::string impl_name(Impl i) {
  return i == Impl::Torch ? "torch" : (i == Impl::Embedkit ? "embedkit" : "plain_loop");
}

struct Case {
  Op op;
  std::int64_t rows = 0;
  std::int64_t dim = 0;
  Dist dist = Dist::Uniform;
  int threads = 1;
  std::int64_t n = 0;    // ids per call
  std::int64_t bag = 0;  // ids per bag (bag ops; fused steps: an EmbeddingBag's sum-mode step)
  bool huge = false;     // table on huge pages
  // Fused steps: LibTorch's default path (nn.Embedding(sparse=False): a dense gradient of the
  // whole table, then the optimizer's dense step) instead of the sparse one.
  bool torch_dense = false;
  int prefetch = 0;  // random_rows: rows ahead whose lines are prefetched (0: none)

  std::string table_name() const {
    const std::int64_t bytes = rows * dim * 4;
    if (bytes >= (std::int64_t{1} << 30)) return std::to_string(bytes >> 30) + "GiB";
    if (bytes >= (std::int64_t{1} << 20)) return std::to_string(bytes >> 20) + "MiB";
    return std::to_string(rows) + "rows";
  }
  QuantizedFormat format() const {
    return op == Op::QuantizedBagInt4 ? QuantizedFormat::Int4 : QuantizedFormat::Int8;
  }
  // The name without the implementation: the key that pairs torch and embedkit.
  std::string key() const {
    std::string s = op_name(op);
    if (op != Op::Copy) {
      s += "/" + table_name() + (huge ? "+hugepages" : "") + "/D:" + std::to_string(dim) + "/" +
           dist_name(dist);
      if (bag > 0) s += "/bag:" + std::to_string(bag);
      if (n >= 1000000) s += "/ids:" + std::to_string((n + 500000) / 1000000) + "M";
      if (torch_dense) s += "/torch:dense";
      if (op == Op::RandomRows) s += "/prefetch:" + std::to_string(prefetch);
    }
    return s + "/threads:" + std::to_string(threads);
  }
  // The key of the random-row read ceiling that applies to this case: same table, same width,
  // same pages, same id distribution, same threads.
  std::string ceiling_key() const {
    return table_name() + (huge ? "+hugepages" : "") + "/D:" + std::to_string(dim) + "/" +
           dist_name(dist) + "/threads:" + std::to_string(threads);
  }
  // Id windows cycled through (see run_case): enough that the rows touched over a cycle are
  // ~512 MiB, far more than the last-level cache (at most 256 windows).
  std::int64_t windows() const {
    const std::int64_t per_call = n * dim * 4;
    if (op == Op::Copy || rows * dim * 4 <= (std::int64_t{64} << 20)) return 1;
    return std::clamp<std::int64_t>((std::int64_t{512} << 20) / per_call, 1, 256);
  }
  bool fused_step() const {
    return op == Op::FusedSgd || op == Op::FusedSgdInputOrder || op == Op::FusedAdagrad ||
           op == Op::FusedRowWiseAdagrad || op == Op::FusedSparseAdam;
  }
  // Rows of the lookup's gradient: one per id, or one per bag.
  std::int64_t grad_row_count() const { return bag > 0 ? n / bag : n; }
  // Bytes of rows read + written by one call.
  double bytes() const {
    const double row = static_cast<double>(dim) * 4.0;
    // A fused step reads the gradient's rows and reads and writes one table row per id (as if
    // every id were a distinct row: the bytes it must move at most).
    const double step =
        (static_cast<double>(grad_row_count()) + 2.0 * static_cast<double>(n)) * row;
    switch (op) {
      case Op::Copy:
        return 2.0 * static_cast<double>(n);
      case Op::RandomRows:
        return static_cast<double>(n) * row;
      case Op::ForwardAlloc:
      case Op::ForwardInto:
      case Op::BackwardSparse:
        return 2.0 * static_cast<double>(n) * row;  // rows read, rows written
      case Op::BagSum:
      case Op::BagMean:
        return (static_cast<double>(n) + static_cast<double>(n / bag)) * row;
      case Op::BackwardDense:
        return (static_cast<double>(n) + static_cast<double>(rows)) * row;  // grad in, table out
      case Op::FusedSgd:
      case Op::FusedSgdInputOrder:
        return step;
      case Op::FusedAdagrad:  // and the optimizer state's rows read and written
        return step + 2.0 * static_cast<double>(n) * row;
      case Op::FusedRowWiseAdagrad:  // and one float of state per row, read and written
        return step + 8.0 * static_cast<double>(n);
      case Op::FusedSparseAdam:  // and the two moments' rows read and written
        return step + 4.0 * static_cast<double>(n) * row;
      case Op::QuantizedBagInt8:  // packed rows read, float32 bags written
      case Op::QuantizedBagInt4:
        return static_cast<double>(n) * static_cast<double>(quantized_row_bytes(format(), dim)) +
               static_cast<double>(n / bag) * row;
    }
    return 0;
  }
};

std::map<std::string, double> g_torch_seconds;  // per case key
// embedkit's float32 bag_sum seconds, per case key without the op (for vs_float32).
std::map<std::string, double> g_float_bag_seconds;
std::map<int, double> g_copy_gbs;  // per thread count
// Table rows a second of the random_rows cases, per Case::ceiling_key and prefetch distance:
// the last run of each (Google Benchmark's final run; its shorter estimation runs can find the
// id window they read still in the cache). The ceiling is the best distance's.
std::map<std::string, std::map<int, double>> g_random_rows;

at::Tensor view(const Tensor& t) {
  std::vector<std::int64_t> sizes(t.shape().begin(), t.shape().end());
  const auto type = t.dtype() == DType::Int64 ? at::kLong : at::kFloat;
  return at::from_blob(const_cast<void*>(t.raw_data()), sizes, type);
}

// Gradient of the lookup output: [n, dim], cached.
const Tensor& grad_rows(std::int64_t n, std::int64_t dim) {
  static std::map<std::pair<std::int64_t, std::int64_t>, Tensor> cache;
  auto [it, fresh] = cache.try_emplace({n, dim});
  if (fresh) {
    it->second = Tensor::empty({n, dim});
    float* g = it->second.data<float>();
    for (std::int64_t i = 0; i < n * dim; ++i) g[i] = static_cast<float>(i % 97) * 0.01f - 0.5f;
  }
  return it->second;
}

template <class F>
void timed(benchmark::State& state, const Case& c, Impl impl, F&& body) {
  set_num_threads(c.threads);
  at::set_num_threads(c.threads);
  body();  // warm-up: caches, page faults of reused buffers, pools
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) body();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
      static_cast<double>(state.iterations());
  const double gbs = c.bytes() / seconds / 1e9;
  state.counters["GB/s"] = gbs;
  if (c.fused_step()) {
    state.counters["Mrows/s"] = static_cast<double>(c.n) / seconds / 1e6;
  }
  if (c.op == Op::Copy) {
    g_copy_gbs[c.threads] = gbs;
    return;
  }
  if (auto it = g_copy_gbs.find(c.threads); it != g_copy_gbs.end()) {
    state.counters["copy%"] = 100.0 * gbs / it->second;
  }
  // Every op visits one table row per id (a fused step reads and writes it).
  const double rows_per_s = static_cast<double>(c.n) / seconds;
  if (c.op == Op::RandomRows) {
    g_random_rows[c.ceiling_key()][c.prefetch] = rows_per_s;
    state.counters["Mrows/s"] = rows_per_s / 1e6;
    return;
  }
  if (auto it = g_random_rows.find(c.ceiling_key()); it != g_random_rows.end()) {
    double ceiling = 0.0;
    for (const auto& [distance, rows] : it->second) ceiling = std::max(ceiling, rows);
    state.counters["ceiling%"] = 100.0 * rows_per_s / ceiling;
  }
  if (impl == Impl::Torch) {
    g_torch_seconds[c.key()] = seconds;
  } else if (auto it = g_torch_seconds.find(c.key()); it != g_torch_seconds.end()) {
    state.counters["vs_torch"] = it->second / seconds;
  }
  const std::string shape_key = c.key().substr(op_name(c.op).size());
  if (impl == Impl::Embedkit && c.op == Op::BagSum) g_float_bag_seconds[shape_key] = seconds;
  if (c.op == Op::QuantizedBagInt8 || c.op == Op::QuantizedBagInt4) {
    if (auto it = g_float_bag_seconds.find(shape_key); it != g_float_bag_seconds.end()) {
      state.counters["vs_float32"] = it->second / seconds;
    }
  }
}

// The bench table quantized by embedkit, on huge pages when the float table is (one packed
// table kept at a time, as table() keeps one float table).
const nn::QuantizedTable& packed_table(const Tensor& w, QuantizedFormat format, bool huge) {
  static std::tuple<const void*, std::int64_t, std::int64_t, QuantizedFormat, bool> key{
      nullptr, -1, -1, QuantizedFormat::Int8, false};
  static nn::QuantizedTable q;
  const auto wanted = std::make_tuple(w.raw_data(), w.size(0), w.size(1), format, huge);
  if (key != wanted) {
    q = nn::QuantizedTable();
    q = nn::quantize(w, format, MemoryOptions{huge});
    key = wanted;
  }
  return q;
}

// PyTorch's quantized bag sum on packed rows (a view of embedkit's bytes).
at::Tensor torch_quantized_bag(const at::Tensor& packed, QuantizedFormat format,
                               const at::Tensor& ids, const at::Tensor& offsets) {
  using Opt = c10::optional<at::Tensor>;
  using Signature = at::Tensor(const at::Tensor&, const at::Tensor&, const Opt&, bool, std::int64_t,
                               bool, const Opt&, const Opt&, bool);
  static auto int8 = c10::Dispatcher::singleton()
                         .findSchemaOrThrow("quantized::embedding_bag_byte_rowwise_offsets", "")
                         .typed<Signature>();
  static auto int4 = c10::Dispatcher::singleton()
                         .findSchemaOrThrow("quantized::embedding_bag_4bit_rowwise_offsets", "")
                         .typed<Signature>();
  auto& op = format == QuantizedFormat::Int8 ? int8 : int4;
  return op.call(packed, ids, Opt(offsets), false, 0, false, Opt(), Opt(), false);
}

// One training step of the table from the lookup's gradient. LibTorch: the sparse gradient
// (what nn.Embedding(sparse=True) or nn.EmbeddingBag(sparse=True) gives), then the update
// torch.optim applies to it (SGD, Adagrad, SparseAdam: their sparse branches, in ATen ops), or
// with Case::torch_dense LibTorch's default path (a dense gradient, then the dense step).
// Row-wise Adagrad (FBGEMM's, not in torch.optim) is the same update written in ATen ops as a
// PyTorch user would. embedkit: fused_backward_step. Tiny rates keep the table finite.
template <class Next>
void run_step(benchmark::State& state, const Case& c, Impl impl, Tensor& w,
              const std::vector<Tensor>& id_windows, const std::vector<at::Tensor>& tid_windows,
              Next&& next) {
  const at::Tensor tw = view(w);
  const Tensor& g = grad_rows(c.grad_row_count(), c.dim);
  const at::Tensor tg = view(g);
  const double lr = 1e-9;
  const double eps = 1e-10;
  const double beta1 = 0.9;
  const double beta2 = 0.999;
  // Bags: every bag holds c.bag ids, so the offsets, and the bag of each id, are the same for
  // every window.
  Tensor off;
  at::Tensor toff, offset2bag, bag_size;
  if (c.bag > 0) {
    off = offsets(c.n, c.bag);
    toff = view(off);
    offset2bag = at::div(at::arange(c.n, at::kLong), c.bag, "floor");
    bag_size = at::full({c.n / c.bag}, c.bag, at::kLong);
  }
  // The sparse gradient of the next window's lookup.
  auto torch_grad = [&](bool sparse) {
    const at::Tensor& ids = tid_windows[static_cast<std::size_t>(next())];
    if (c.bag == 0) return at::embedding_backward(tg, ids, c.rows, -1, false, sparse);
    if (sparse) {
      return at::_embedding_bag_sparse_backward(tg, ids, toff, offset2bag, bag_size, c.rows, false,
                                                0, c10::nullopt, -1);
    }
    return at::_embedding_bag_dense_backward(tg, ids, offset2bag, bag_size, at::Tensor(), c.rows,
                                             false, 0, c10::nullopt, -1);
  };
  if (impl == Impl::Torch && c.torch_dense) {
    at::Tensor state_sum = at::zeros_like(tw);
    timed(state, c, impl, [&] {
      const at::Tensor grad = torch_grad(false);
      if (c.op == Op::FusedSgd || c.op == Op::FusedSgdInputOrder) {
        tw.add_(grad, -lr);  // torch.optim.SGD's step on a dense gradient
        return;
      }
      // torch.optim.Adagrad's dense step (lr_decay 0, weight_decay 0).
      state_sum.addcmul_(grad, grad, 1);
      tw.addcdiv_(grad, state_sum.sqrt().add_(eps), -lr);
    });
    return;
  }
  if (impl == Impl::Torch) {
    at::Tensor state_a = at::zeros_like(tw);  // Adagrad's sum; SparseAdam's exp_avg
    at::Tensor state_b = c.op == Op::FusedSparseAdam ? at::zeros_like(tw) : at::Tensor();
    at::Tensor row_sum = at::zeros({c.rows}, at::kFloat);  // row-wise Adagrad's state
    std::int64_t step = 0;
    timed(state, c, impl, [&] {
      at::Tensor grad = torch_grad(true);
      if (c.op == Op::FusedSgd || c.op == Op::FusedSgdInputOrder) {
        tw.add_(grad, -lr);  // torch.optim.SGD: the uncoalesced gradient, entry by entry
        return;
      }
      grad = grad.coalesce();
      const at::Tensor idx = grad._indices();
      const at::Tensor values = grad._values();
      auto make_sparse = [&](const at::Tensor& v) {
        return at::sparse_coo_tensor(idx, v, grad.sizes());
      };
      if (c.op == Op::FusedAdagrad) {
        // torch.optim.Adagrad's sparse branch (lr_decay 0, weight_decay 0).
        state_a.add_(make_sparse(values.pow(2)));
        const at::Tensor std_values = state_a.sparse_mask(grad)._values().sqrt_().add_(eps);
        tw.add_(make_sparse(values / std_values), -lr);
      } else if (c.op == Op::FusedRowWiseAdagrad) {
        const at::Tensor rows = idx[0];
        row_sum.index_add_(0, rows, values.pow(2).mean(1));
        const at::Tensor std_values = row_sum.index_select(0, rows).sqrt_().add_(eps);
        tw.index_add_(0, rows, values / std_values.unsqueeze(1), -lr);
      } else {
        // torch.optim.SparseAdam's step (torch/optim/_functional.py, sparse_adam).
        ++step;
        const at::Tensor old_avg = state_a.sparse_mask(grad)._values();
        const at::Tensor avg_update = values.sub(old_avg).mul_(1 - beta1);
        state_a.add_(make_sparse(avg_update));
        const at::Tensor old_sq = state_b.sparse_mask(grad)._values();
        const at::Tensor sq_update = values.pow(2).sub_(old_sq).mul_(1 - beta2);
        state_b.add_(make_sparse(sq_update));
        const at::Tensor numer = avg_update.add_(old_avg);
        const at::Tensor denom = sq_update.add_(old_sq).sqrt_().add_(eps);
        const double bias1 = 1 - std::pow(beta1, static_cast<double>(step));
        const double bias2 = 1 - std::pow(beta2, static_cast<double>(step));
        const double step_size = lr * std::sqrt(bias2) / bias1;
        tw.add_(make_sparse(numer.div_(denom).mul_(-step_size)));
      }
    });
    return;
  }
  std::vector<optim::Parameter> params = {{"weight", w, std::nullopt}};
  std::unique_ptr<optim::Optimizer> opt;
  switch (c.op) {
    case Op::FusedAdagrad:
      opt = std::make_unique<optim::Adagrad>(params, optim::AdagradOptions(lr).eps(eps));
      break;
    case Op::FusedRowWiseAdagrad:
      opt = std::make_unique<optim::RowWiseAdagrad>(params,
                                                    optim::RowWiseAdagradOptions(lr).eps(eps));
      break;
    case Op::FusedSparseAdam:
      opt = std::make_unique<optim::SparseAdam>(params, optim::SparseAdamOptions(lr).eps(eps));
      break;
    default:
      opt = std::make_unique<optim::SGD>(params, optim::SGDOptions(lr));
      break;
  }
  const auto summation = c.op == Op::FusedSgdInputOrder ? optim::FusedSummation::InputOrder
                                                        : optim::FusedSummation::Exact;
  if (c.bag > 0) {
    nn::EmbeddingBag bag = nn::EmbeddingBag::from_pretrained(
        w, nn::EmbeddingBagFromPretrainedOptions().freeze(false).mode(nn::BagMode::Sum));
    timed(state, c, impl, [&] {
      optim::fused_backward_step(bag, id_windows[static_cast<std::size_t>(next())], off, g, *opt,
                                 Tensor(), summation);
    });
    return;
  }
  nn::Embedding emb =
      nn::Embedding::from_pretrained(w, nn::EmbeddingFromPretrainedOptions().freeze(false));
  timed(state, c, impl, [&] {
    optim::fused_backward_step(emb, id_windows[static_cast<std::size_t>(next())], g, *opt,
                               summation);
  });
}

void run_case(benchmark::State& state, const Case& c, Impl impl) {
  if (c.op == Op::Copy) {
    // Two buffers of n bytes, copied in as many contiguous chunks as threads.
    static std::vector<char> src, dst;
    src.assign(static_cast<std::size_t>(c.n), 1);
    dst.assign(static_cast<std::size_t>(c.n), 0);
    timed(state, c, impl, [&] {
      parallel_for(c.n, 1 << 20, [&](std::int64_t b, std::int64_t e) {
        std::memcpy(dst.data() + b, src.data() + b, static_cast<std::size_t>(e - b));
      });
      benchmark::DoNotOptimize(dst.data());
    });
    return;
  }
  Tensor w = table(c.rows, c.dim, c.huge);
  const at::Tensor tw = view(w);
  // Successive calls use successive windows of one long id stream, so that a large table is
  // read at new random rows each call (the same ids every call would leave their rows in the
  // last-level cache). Both libraries see the same windows in the same order.
  const std::int64_t windows = c.windows();
  const Tensor& all_ids = ids(c.n * windows, c.rows, c.dist);
  std::vector<Tensor> id_windows;
  std::vector<at::Tensor> tid_windows;
  for (std::int64_t k = 0; k < windows; ++k) {
    id_windows.push_back(Tensor::from_blob(
        const_cast<std::int64_t*>(all_ids.data<std::int64_t>()) + k * c.n, {c.n}, DType::Int64));
    tid_windows.push_back(view(id_windows.back()));
  }
  std::int64_t window = 0;
  // The ids of the next call.
  auto next = [&]() -> std::int64_t {
    const std::int64_t k = window;
    window = window + 1 == windows ? 0 : window + 1;
    return k;
  };
  switch (c.op) {
    case Op::RandomRows:
      timed(state, c, impl, [&] {
        const std::int64_t* call_ids =
            id_windows[static_cast<std::size_t>(next())].data<std::int64_t>();
        parallel_for(c.n, 4096, [&](std::int64_t i0, std::int64_t i1) {
          thread_local std::vector<float> sink;
          sink.resize(static_cast<std::size_t>(c.dim));
          plain_random_rows(w.data<float>(), c.dim, call_ids, i0, i1, c.prefetch, sink.data());
          benchmark::DoNotOptimize(sink.data());
        });
      });
      break;
    case Op::ForwardAlloc:
      if (impl == Impl::Torch) {
        timed(state, c, impl, [&] {
          benchmark::DoNotOptimize(
              at::embedding(tw, tid_windows[static_cast<std::size_t>(next())]).data_ptr());
        });
      } else {
        timed(state, c, impl, [&] {
          benchmark::DoNotOptimize(
              nn::functional::embedding(id_windows[static_cast<std::size_t>(next())], w)
                  .raw_data());
        });
      }
      break;
    case Op::ForwardInto: {
      Tensor out = Tensor::empty({c.n, c.dim});
      at::Tensor tout = view(out);
      if (impl == Impl::Torch) {
        timed(state, c, impl, [&] {
          at::index_select_out(tout, tw, 0, tid_windows[static_cast<std::size_t>(next())]);
        });
      } else {
        timed(state, c, impl, [&] {
          nn::functional::embedding_into(id_windows[static_cast<std::size_t>(next())], w, out);
        });
      }
      benchmark::DoNotOptimize(out.raw_data());
      break;
    }
    case Op::BagSum:
    case Op::BagMean: {
      const Tensor& off = offsets(c.n, c.bag);
      const at::Tensor toff = view(off);
      const bool sum = c.op == Op::BagSum;
      if (impl == Impl::Torch) {
        timed(state, c, impl, [&] {
          benchmark::DoNotOptimize(
              std::get<0>(at::embedding_bag(tw, tid_windows[static_cast<std::size_t>(next())], toff,
                                            false, sum ? 0 : 1))
                  .data_ptr());
        });
      } else if (impl == Impl::Embedkit) {
        const auto opts =
            nn::EmbeddingBagFuncOptions().mode(sum ? nn::BagMode::Sum : nn::BagMode::Mean);
        timed(state, c, impl, [&] {
          benchmark::DoNotOptimize(nn::functional::embedding_bag(
                                       id_windows[static_cast<std::size_t>(next())], w, off, opts)
                                       .raw_data());
        });
      } else {
        const std::int64_t bags = off.numel();
        Tensor out = Tensor::empty({bags, c.dim});
        timed(state, c, impl, [&] {
          const std::int64_t* call_ids =
              id_windows[static_cast<std::size_t>(next())].data<std::int64_t>();
          parallel_for(bags, 1, [&](std::int64_t b0, std::int64_t b1) {
            plain_bag_sum(w.data<float>(), c.dim, call_ids, off.data<std::int64_t>(), bags, c.n, b0,
                          b1, out.data<float>());
          });
          benchmark::DoNotOptimize(out.raw_data());
        });
      }
      break;
    }
    case Op::BackwardDense:
    case Op::BackwardSparse: {
      const Tensor& g = grad_rows(c.n, c.dim);
      const at::Tensor tg = view(g);
      const bool sparse = c.op == Op::BackwardSparse;
      if (impl == Impl::Torch) {
        timed(state, c, impl, [&] {
          benchmark::DoNotOptimize(at::embedding_backward(
              tg, tid_windows[static_cast<std::size_t>(next())], c.rows, -1, false, sparse));
        });
      } else {
        const auto opts = nn::EmbeddingFuncOptions().sparse(sparse);
        timed(state, c, impl, [&] {
          benchmark::DoNotOptimize(nn::functional::embedding_backward(
              id_windows[static_cast<std::size_t>(next())], g, c.rows, opts));
        });
      }
      break;
    }
    case Op::FusedSgd:
    case Op::FusedSgdInputOrder:
    case Op::FusedAdagrad:
    case Op::FusedRowWiseAdagrad:
    case Op::FusedSparseAdam:
      run_step(state, c, impl, w, id_windows, tid_windows, next);
      break;
    case Op::QuantizedBagInt8:
    case Op::QuantizedBagInt4: {
      const nn::QuantizedTable& q = packed_table(w, c.format(), c.huge);
      const at::Tensor tq = at::from_blob(const_cast<std::uint8_t*>(q.data()),
                                          {q.num_embeddings(), q.row_bytes()}, at::kByte);
      const Tensor& off = offsets(c.n, c.bag);
      const at::Tensor toff = view(off);
      if (impl == Impl::Torch) {
        timed(state, c, impl, [&] {
          benchmark::DoNotOptimize(
              torch_quantized_bag(tq, c.format(), tid_windows[static_cast<std::size_t>(next())],
                                  toff)
                  .data_ptr());
        });
      } else {
        timed(state, c, impl, [&] {
          benchmark::DoNotOptimize(nn::functional::quantized_embedding_bag(
                                       id_windows[static_cast<std::size_t>(next())], q, off)
                                       .raw_data());
        });
      }
      break;
    }
    case Op::Copy:
      break;
  }
}

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && std::string(v) != "0" && !std::string(v).empty();
}

std::vector<Case> cases() {
  const bool full = env_flag("EMBEDKIT_BENCH_FULL");
  const int all = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::vector<int> thread_counts = {1};
  if (all > 1) thread_counts.push_back(all);
  const std::int64_t small_rows = 1024;  // cache-sized: 64 KiB (D = 16) .. 1 MiB (D = 256)
  const std::int64_t big = std::int64_t{512} << 20;
  const std::vector<std::int64_t> all_dims = {16, 32, 64, 128, 256};
  const std::int64_t fwd_n = 16384;
  // Ids per bag call: 65536, but 16384 for bags of 1, whose output is as large as the rows read
  // (65536 rows of D = 128 would be a 32 MiB output, which glibc maps fresh on every call: page
  // faults would dominate both libraries' time).
  const std::int64_t bag_ids = 65536;
  auto bag_n = [&](std::int64_t bag) { return (bag == 1 ? 16384 : bag_ids) / bag * bag; };

  std::vector<Case> out;
  for (int t : thread_counts) out.push_back({Op::Copy, 0, 0, Dist::Uniform, t, big, 0, false});
  auto add = [&](Case c) {
    for (int t : thread_counts) {
      c.threads = t;
      out.push_back(c);
    }
  };
  // The random-row read ceiling of a large table: plain loops reading 65536 rows at random,
  // prefetching 0, 8 or 32 rows ahead (the best of the three is the ceiling).
  auto add_ceiling = [&](std::int64_t rows, std::int64_t d, bool huge, Dist dist = Dist::Uniform) {
    for (int distance : {0, 8, 32}) {
      Case c{Op::RandomRows, rows, d, dist, 1, 65536, 0};
      c.huge = huge;
      c.prefetch = distance;
      add(c);
    }
  };
  for (bool is_big : {false, true}) {
    for (std::int64_t d : all_dims) {
      const std::int64_t rows = is_big ? rows_for_bytes(big, d) : small_rows;
      const bool main_dim = d == 16 || d == 128;
      if (!full && !is_big && !main_dim) continue;
      if (is_big) add_ceiling(rows, d, false);
      for (Dist dist : {Dist::Uniform, Dist::Zipf}) {
        if (!full && dist == Dist::Zipf && !main_dim) continue;
        for (Op op : {Op::ForwardAlloc, Op::ForwardInto}) add({op, rows, d, dist, 1, fwd_n, 0});
        for (std::int64_t bag : {1, 20, 100}) {
          for (Op op : {Op::BagSum, Op::BagMean}) {
            const bool wanted = full || (main_dim && dist == Dist::Uniform) ||
                                (bag == 20 && op == Op::BagSum && (d == 128 || is_big));
            if (wanted) add({op, rows, d, dist, 1, bag_n(bag), bag});
          }
          // The quantized bags of the same table (D = 128, bags of 20, uniform).
          if (bag == 20 && (full || (is_big && d == 128 && dist == Dist::Uniform))) {
            for (Op op : {Op::QuantizedBagInt8, Op::QuantizedBagInt4})
              add({op, rows, d, dist, 1, bag_n(bag), bag});
          }
        }
        if (full || (main_dim && dist == Dist::Uniform)) {
          for (Op op : {Op::BackwardDense, Op::BackwardSparse, Op::FusedSgd, Op::FusedAdagrad})
            add({op, rows, d, dist, 1, fwd_n, 0});
        }
      }
    }
  }
  // The shape of the reference figures: 1M x 128 (512 MiB), 1M uniform ids per call.
  // A forward allocates a 512 MiB output here (LibTorch faults in fresh pages every call), a
  // dense backward a 512 MiB gradient, and LibTorch's default training step is a dense one.
  {
    const std::int64_t rows = std::int64_t{1} << 20;
    const std::int64_t n = std::int64_t{1} << 20;
    for (Op op : {Op::ForwardAlloc, Op::ForwardInto, Op::BackwardDense})
      add({op, rows, 128, Dist::Uniform, 1, n, 0});
    add({Op::BagSum, rows, 128, Dist::Uniform, 1, n / 20 * 20, 20});
    for (Op op : {Op::FusedSgd, Op::FusedAdagrad}) {
      for (bool dense : {false, true}) {
        Case step{op, rows, 128, Dist::Uniform, 1, n, 0};
        step.torch_dense = dense;
        add(step);
      }
    }
    // Issue 18's other steps on the same shape: the input-order SGD (against FBGEMM's
    // per-occurrence kernel), row-wise Adagrad (against full Adagrad), SparseAdam, and the
    // EmbeddingBag's SGD step with bags of 20, exact and in input order.
    for (Op op : {Op::FusedSgdInputOrder, Op::FusedRowWiseAdagrad, Op::FusedSparseAdam})
      add({op, rows, 128, Dist::Uniform, 1, n, 0});
    for (Op op : {Op::FusedSgd, Op::FusedSgdInputOrder})
      add({op, rows, 128, Dist::Uniform, 1, n / 20 * 20, 20});
  }
  // The fused steps on tables the caches hold (4 MiB: 16K x 64, in L3; 32 MiB: 64K x 128, about
  // the L3), where prefetching buys nothing and a step must still beat LibTorch's.
  for (const auto& [rows, d] : {std::pair<std::int64_t, std::int64_t>{16384, 64}, {65536, 128}}) {
    for (Op op : {Op::FusedSgd, Op::FusedAdagrad, Op::FusedRowWiseAdagrad, Op::FusedSparseAdam})
      add({op, rows, d, Dist::Uniform, 1, fwd_n, 0});
  }
  // Huge pages on the 512 MiB table (D = 128), and the optional 4 GiB tables.
  std::vector<std::int64_t> huge_tables = {big};
  if (env_flag("EMBEDKIT_BENCH_4G")) huge_tables.push_back(std::int64_t{4} << 30);
  for (std::int64_t bytes : huge_tables) {
    for (bool huge : {false, true}) {
      if (bytes == big && !huge) continue;  // the plain 512 MiB cases are above
      const std::int64_t rows = rows_for_bytes(bytes, 128);
      if (bytes > big || huge) add_ceiling(rows, 128, huge);
      for (Dist dist : {Dist::Uniform, Dist::Zipf}) {
        Case into{Op::ForwardInto, rows, 128, dist, 1, fwd_n, 0};
        into.huge = huge;
        add(into);
        Case bag{Op::BagSum, rows, 128, dist, 1, bag_n(20), 20};
        bag.huge = huge;
        add(bag);
        if ((bytes > big || huge) && dist == Dist::Uniform) {
          for (Op op : {Op::QuantizedBagInt8, Op::QuantizedBagInt4}) {
            Case q{op, rows, 128, dist, 1, bag_n(20), 20};
            q.huge = huge;
            add(q);
          }
        }
        // The SGD step of issue 18's shape (1M ids) on the 4 GiB table.
        if (bytes > big && dist == Dist::Uniform) {
          Case step{Op::FusedSgd, rows, 128, dist, 1, std::int64_t{1} << 20, 0};
          step.huge = huge;
          add(step);
        }
      }
    }
  }
  // One step of bench/python's DLRM model, embeddings only (see the top of the file).
  if (env_flag("EMBEDKIT_BENCH_DLRM")) {
    const std::int64_t rows = rows_for_bytes(std::int64_t{2} << 30, 64);
    const std::int64_t n = std::int64_t{2048} * 20 * 8;
    for (Dist dist : {Dist::Uniform, Dist::Zipf}) {
      add_ceiling(rows, 64, false, dist);
      add({Op::BagSum, rows, 64, dist, 1, n, 20});
      add({Op::FusedSgd, rows, 64, dist, 1, n, 0});
    }
  }
  // Group by table so each big table is built once (copy cases first, then on each table the
  // random-row ceiling, which the other cases on it are measured against).
  std::stable_sort(out.begin(), out.end(), [](const Case& a, const Case& b) {
    auto k = [](const Case& c) {
      return std::make_tuple(c.op != Op::Copy, c.rows * c.dim, c.dim, c.huge,
                             c.op != Op::RandomRows);
    };
    return k(a) < k(b);
  });
  return out;
}

void register_all() {
  for (const Case& c : cases()) {
    std::vector<Impl> impls = {Impl::Torch, Impl::Embedkit};
    if (c.op == Op::Copy) impls = {Impl::Embedkit};
    if (c.op == Op::RandomRows) impls = {Impl::Yardstick};
    if (c.op == Op::BagSum && c.bag == 20) impls.push_back(Impl::Yardstick);
    for (Impl impl : impls) {
      const std::string name = c.op == Op::Copy ? c.key()
                                                : op_name(c.op) + "/" + impl_name(impl) +
                                                      c.key().substr(op_name(c.op).size());
      benchmark::RegisterBenchmark(name.c_str(),
                                   [c, impl](benchmark::State& s) { run_case(s, c, impl); })
          ->UseRealTime()
          ->MinTime(0.3)
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace
}  // namespace embedkit::bench

int main(int argc, char** argv) {
  c10::InferenceMode no_autograd;  // torch as a user would call it for inference: no graph
  // Every case chooses its table's pages (`+hugepages`); the rest of embedkit's memory (outputs,
  // optimizer state) stays on 4 KiB pages as LibTorch's allocations do, so that both sides of a
  // comparison have the same pages.
  embedkit::set_huge_pages_from(static_cast<std::size_t>(-1));
  benchmark::Initialize(&argc, argv);
  embedkit::bench::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
