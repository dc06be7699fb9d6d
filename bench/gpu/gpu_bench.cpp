// embedkit_gpu_bench: the CUDA backend against the device's own copy bandwidth.
//
//   embedkit_gpu_bench [--rows N] [--batch N] [--bag L] [--iters K] [--json]
//
// For D in {64, 128, 256} (float32 tables of --rows rows, --batch uniformly random int64 ids):
//   copy      device-to-device cudaMemcpy of 1 GiB: bytes read + written per second
//   gather    cuda::embedding_into: rows read + output written + ids read, as % of copy
//   bag       cuda::embedding_bag_into (sum, bags of --bag ids): rows read + output + ids
//   fused     cuda::fused_backward_step (SGD, Adagrad, RowWiseAdagrad, SparseAdam): gradient
//             read + touched rows of the table and state read and written; compare the times
//             with bench/gpu/torch_peer.py (backward, then optimizer.step()) on the same sizes;
//             and the SGD step's three phases alone (fused_sgd_validate, _group, _update)
//   host      cuda::HostTable (table in pinned host memory, device cache of --cache rows) on
//             Zipf-distributed batches, with prefetch: time per batch, hit rate, bytes moved
// Every operation is timed over --iters runs after one warm-up run, with the device
// synchronised before and after. Without a device it prints why and exits with status 2.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cuda/launch.hpp"
#include "embedkit/cuda/device.hpp"
#include "embedkit/cuda/embedding.hpp"
#include "embedkit/cuda/host_table.hpp"

namespace ek = embedkit;
namespace cu = embedkit::cuda;

namespace {

struct Args {
  std::int64_t rows = 1 << 20;
  std::int64_t batch = 1 << 20;
  std::int64_t bag = 20;
  std::int64_t cache = 1 << 18;
  std::int64_t host_rows = 1 << 24;
  int iters = 20;
  bool json = false;
};

template <class F>
double seconds_per_run(int iters, F&& f) {
  f();
  cu::synchronize();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) f();
  cu::synchronize();
  const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
  return dt.count() / iters;
}

ek::Tensor random_table(std::int64_t rows, std::int64_t dim, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  ek::Tensor t = ek::Tensor::empty({rows, dim});
  float* p = t.data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = d(gen);
  return t;
}

ek::Tensor uniform_ids(std::int64_t n, std::int64_t rows, std::uint32_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_int_distribution<std::int64_t> d(0, rows - 1);
  ek::Tensor t = ek::Tensor::empty({n}, ek::DType::Int64);
  for (std::int64_t i = 0; i < n; ++i) t.data<std::int64_t>()[i] = d(gen);
  return t;
}

// Zipf(1.05)-like ids by inverse transform over a power law, scattered by a multiplicative hash
// so the hot rows are not adjacent.
ek::Tensor zipf_ids(std::int64_t n, std::int64_t rows, std::uint32_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  ek::Tensor t = ek::Tensor::empty({n}, ek::DType::Int64);
  const double s = 1.05;
  const double max_rank = static_cast<double>(rows);
  for (std::int64_t i = 0; i < n; ++i) {
    // rank ~ x^(-s) on [1, rows]: invert the CDF of the continuous power law.
    const double a = std::pow(max_rank, 1.0 - s);
    const double r = std::pow(1.0 - u(gen) * (1.0 - a), 1.0 / (1.0 - s));
    const auto rank = std::min<std::int64_t>(static_cast<std::int64_t>(r) - 1, rows - 1);
    t.data<std::int64_t>()[i] =
        static_cast<std::int64_t>((static_cast<std::uint64_t>(rank) * 0x9E3779B97F4A7C15ULL) %
                                  static_cast<std::uint64_t>(rows));
  }
  return t;
}

struct Row {
  std::string op;
  std::int64_t dim;
  double ms;
  double gbps;
  double pct_copy;
  std::string note;
};

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::int64_t {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(1);
      }
      return std::atoll(argv[++i]);
    };
    if (arg == "--rows") {
      a.rows = next();
    } else if (arg == "--batch") {
      a.batch = next();
    } else if (arg == "--bag") {
      a.bag = next();
    } else if (arg == "--cache") {
      a.cache = next();
    } else if (arg == "--host-rows") {
      a.host_rows = next();
    } else if (arg == "--iters") {
      a.iters = static_cast<int>(next());
    } else if (arg == "--json") {
      a.json = true;
    } else if (arg == "--help" || arg == "-h") {
      std::printf(
          "usage: embedkit_gpu_bench [--rows N] [--batch N] [--bag L] [--cache N] "
          "[--host-rows N] [--iters K] [--json]\n");
      return 0;
    } else {
      std::fprintf(stderr, "unknown argument %s (see --help)\n", arg.c_str());
      return 1;
    }
  }
  if (a.rows < 1 || a.batch < 1 || a.bag < 1 || a.iters < 1 || a.cache < 0 || a.host_rows < 1) {
    std::fprintf(stderr, "sizes must be positive\n");
    return 1;
  }
  const cu::DeviceStatus status = cu::device_status();
  if (!status.available()) {
    std::fprintf(stderr, "no CUDA device: %s\n", status.reason.c_str());
    return 2;
  }

  std::vector<Row> rows;
  try {
    // Copy bandwidth: 1 GiB device to device, read + write counted.
    const std::size_t copy_bytes = std::size_t{1} << 30;
    cu::DeviceBuffer src(copy_bytes);
    cu::DeviceBuffer dst(copy_bytes);
    const double copy_s = seconds_per_run(
        a.iters, [&] { cu::copy_device_to_device(dst.data(), src.data(), copy_bytes); });
    const double copy_gbps = 2.0 * static_cast<double>(copy_bytes) / copy_s / 1e9;
    rows.push_back({"copy", 0, copy_s * 1e3, copy_gbps, 100.0, "1 GiB cudaMemcpy D2D"});
    auto add = [&](const std::string& op, std::int64_t dim, double s, double bytes,
                   const std::string& note) {
      const double gbps = bytes / s / 1e9;
      rows.push_back({op, dim, s * 1e3, gbps, 100.0 * gbps / copy_gbps, note});
    };

    for (std::int64_t dim : {64, 128, 256}) {
      const double row_bytes = static_cast<double>(dim) * 4.0;
      cu::DeviceTensor table = cu::DeviceTensor::to_device(random_table(a.rows, dim, 1));
      const cu::DeviceTensor ids = cu::DeviceTensor::to_device(uniform_ids(a.batch, a.rows, 2));
      cu::DeviceTensor out = cu::DeviceTensor::empty({a.batch, dim});
      const double n = static_cast<double>(a.batch);
      const double gather_s =
          seconds_per_run(a.iters, [&] { cu::embedding_into(ids, table, out); });
      add("gather", dim, gather_s, n * (2.0 * row_bytes + 8.0), "ids validated on the device");

      const std::int64_t bags = a.batch / a.bag;
      std::vector<std::int64_t> offs(static_cast<std::size_t>(bags));
      for (std::int64_t b = 0; b < bags; ++b) offs[static_cast<std::size_t>(b)] = b * a.bag;
      const cu::DeviceTensor ids_used =
          cu::DeviceTensor::to_device(uniform_ids(bags * a.bag, a.rows, 3));
      const cu::DeviceTensor offsets = cu::DeviceTensor::to_device(ek::Tensor::from_vector(offs));
      cu::DeviceTensor bag_out = cu::DeviceTensor::empty({bags, dim});
      const auto bag_opts = ek::nn::EmbeddingBagFuncOptions().mode(ek::nn::BagMode::Sum);
      const double bag_s = seconds_per_run(
          a.iters, [&] { cu::embedding_bag_into(ids_used, table, offsets, bag_out, bag_opts); });
      const double bn = static_cast<double>(bags * a.bag);
      add("bag_sum", dim, bag_s,
          bn * (row_bytes + 8.0) + static_cast<double>(bags) * (row_bytes + 8.0),
          "bags of " + std::to_string(a.bag));

      // Fused backward + step. Touched rows: the distinct ids of the batch.
      std::vector<std::int64_t> host_ids = ids.to_host().to_int64_vector();
      std::sort(host_ids.begin(), host_ids.end());
      const double unique =
          static_cast<double>(std::unique(host_ids.begin(), host_ids.end()) - host_ids.begin());
      const cu::DeviceTensor grad = cu::DeviceTensor::to_device(random_table(a.batch, dim, 4));
      struct Opt {
        const char* name;
        cu::DeviceOptimizer opt;
        double state_rows;  // state bytes per touched row, in rows of the table
      };
      std::vector<Opt> opts;
      opts.push_back(
          {"fused_sgd", cu::DeviceOptimizer::sgd(ek::optim::SGDOptions(0.01), a.rows, dim), 0.0});
      opts.push_back({"fused_adagrad",
                      cu::DeviceOptimizer::adagrad(ek::optim::AdagradOptions(0.01), a.rows, dim),
                      1.0});
      opts.push_back({"fused_rowwise_adagrad",
                      cu::DeviceOptimizer::rowwise_adagrad(ek::optim::RowWiseAdagradOptions(0.01),
                                                           a.rows, dim),
                      0.0});
      opts.push_back(
          {"fused_sparse_adam",
           cu::DeviceOptimizer::sparse_adam(ek::optim::SparseAdamOptions(0.001), a.rows, dim),
           2.0});
      for (Opt& o : opts) {
        const double s =
            seconds_per_run(a.iters, [&] { cu::fused_backward_step(table, ids, grad, o.opt); });
        // Minimum traffic: the gradient once, ids, and each touched row (and its state) read
        // and written once.
        const double bytes =
            n * (row_bytes + 8.0) + unique * 2.0 * row_bytes * (1.0 + o.state_rows);
        add(o.name, dim, s, bytes,
            std::to_string(static_cast<long long>(unique)) + " distinct rows");
      }

      // Where the SGD step's time goes: its three phases, each timed alone (the launchers of
      // src/cuda/launch.hpp, as cuda::fused_backward_step calls them). validate: the ids'
      // check and the wait for its flags; group: keys, radix sort, run-length encoding, scan,
      // and the wait for the count of runs; update: the per-row sums and SGD updates.
      {
        namespace dt = cu::detail;
        cu::DeviceTensor flag_buffer = cu::DeviceTensor::empty({2}, ek::DType::Int64);
        auto* flags = static_cast<dt::Flags*>(flag_buffer.raw_data());
        const double validate_s = seconds_per_run(a.iters, [&] {
          dt::reset_flags(flags);
          dt::check_ids(ids.raw_data(), ids.dtype(), a.batch, a.rows, flags);
          (void)dt::read_flags(flags);
        });
        add("fused_sgd_validate", dim, validate_s, n * 8.0, "phase of fused_sgd: ids checked");
        const double group_s = seconds_per_run(a.iters, [&] {
          const dt::Grouping g = dt::group_by_row(ids.raw_data(), ids.dtype(), a.batch, a.rows, -1);
          (void)dt::read_num_runs(g);
        });
        add("fused_sgd_group", dim, group_s, n * 8.0, "phase of fused_sgd: ids grouped by row");
        const dt::Grouping g = dt::group_by_row(ids.raw_data(), ids.dtype(), a.batch, a.rows, -1);
        dt::GradSource source;
        source.grad = static_cast<const float*>(grad.raw_data());
        const dt::UpdateArgs args = dt::begin_update(opts[0].opt, table);
        const double update_s =
            seconds_per_run(a.iters, [&] { dt::fused_update(g, source, dim, args); });
        add("fused_sgd_update", dim, update_s, n * (row_bytes + 8.0) + unique * 2.0 * row_bytes,
            "phase of fused_sgd: rows summed and updated");
      }
    }

    // Host-resident table with a device cache.
    {
      const std::int64_t dim = 128;
      const std::int64_t batch = std::min<std::int64_t>(a.batch, 1 << 16);
      cu::HostTable host(random_table(a.host_rows, dim, 5), a.cache, 8);
      std::vector<ek::Tensor> batches;
      for (int b = 0; b < a.iters + 1; ++b) {
        batches.push_back(zipf_ids(batch, a.host_rows, 100 + static_cast<std::uint32_t>(b)));
      }
      host.prefetch(batches[0]);
      cu::DeviceTensor out = cu::DeviceTensor::empty({batch, dim});
      host.forward_into(batches[0], out);  // warm-up
      host.synchronize();
      host.reset_stats();
      const auto t0 = std::chrono::steady_clock::now();
      for (int b = 1; b <= a.iters; ++b) {
        host.forward_into(batches[static_cast<std::size_t>(b)], out);
        if (b < a.iters) host.prefetch(batches[static_cast<std::size_t>(b + 1)]);
      }
      host.synchronize();
      const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
      const double s = dt.count() / a.iters;
      const cu::HostTableStats st = host.stats();
      char note[256];
      std::snprintf(note, sizeof note,
                    "%lld rows on host, cache %lld rows, batch %lld zipf(1.05): hit rate %.3f, "
                    "%.1f MB rows + %.1f MB indices over the bus per batch",
                    static_cast<long long>(a.host_rows), static_cast<long long>(a.cache),
                    static_cast<long long>(batch), st.cache.hit_rate(),
                    static_cast<double>(st.row_bytes_moved) / 1e6 / a.iters,
                    static_cast<double>(st.index_bytes_moved) / 1e6 / a.iters);
      // GB/s here is the lookup's output (batch x D float32) per second.
      add("host_table_cached", dim, s, static_cast<double>(batch) * static_cast<double>(dim) * 4.0,
          note);
    }
  } catch (const ek::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }

  if (a.json) {
    std::printf("[\n");
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      std::printf(
          "  {\"op\": \"%s\", \"dim\": %lld, \"ms\": %.4f, \"gbps\": %.1f, \"pct_copy\": %.1f, "
          "\"note\": \"%s\"}%s\n",
          r.op.c_str(), static_cast<long long>(r.dim), r.ms, r.gbps, r.pct_copy, r.note.c_str(),
          i + 1 < rows.size() ? "," : "");
    }
    std::printf("]\n");
  } else {
    std::printf("%-24s %5s %10s %10s %8s  %s\n", "op", "D", "ms", "GB/s", "% copy", "note");
    for (const Row& r : rows) {
      std::printf("%-24s %5lld %10.4f %10.1f %8.1f  %s\n", r.op.c_str(),
                  static_cast<long long>(r.dim), r.ms, r.gbps, r.pct_copy, r.note.c_str());
    }
  }
  return 0;
}
