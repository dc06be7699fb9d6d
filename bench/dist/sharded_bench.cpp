// What a sharded lookup and a sharded fused step cost against the same work on one local
// table: bytes exchanged per call, and the time spent in MPI (exchange, waiting included)
// versus embedkit's own work. Every rank runs the same loop on its own batch; rank 0 prints one
// Markdown table row per phase: bytes summed over the ranks, times the slowest rank's.
//
//   mpirun -np P embedkit_dist_bench [--rows N] [--dim D] [--bags B] [--bag-size L]
//                                    [--iters K] [--sharding row_wise|row_wise_cyclic]
//
// The ids are uniform over the table, so 1 - 1/P of each rank's rows live elsewhere.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "embedkit/dist/communicator.hpp"
#include "embedkit/dist/sharded_embedding_bag.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/optim/fused_backward.hpp"
#include "embedkit/optim/module_parameters.hpp"
#include "embedkit/optim/sgd.hpp"

namespace {

using namespace embedkit;
using Clock = std::chrono::steady_clock;

struct Args {
  std::int64_t rows = 200000;
  std::int64_t dim = 64;
  std::int64_t bags = 512;
  std::int64_t bag_size = 20;
  int iters = 20;
  std::string sharding = "row_wise";
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--rows") {
      a.rows = std::atoll(v);
    } else if (k == "--dim") {
      a.dim = std::atoll(v);
    } else if (k == "--bags") {
      a.bags = std::atoll(v);
    } else if (k == "--bag-size") {
      a.bag_size = std::atoll(v);
    } else if (k == "--iters") {
      a.iters = std::atoi(v);
    } else if (k == "--sharding") {
      a.sharding = v;
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  return a;
}

struct Totals {
  double bytes = 0;  // sent by this rank, per call
  double exchange = 0;
  double compute = 0;
  double wall = 0;
};

// Per call: bytes summed over the ranks, times of the slowest rank.
void report(const char* phase, const Totals& t, int iters, int ranks, const Args& a) {
  double sums[1] = {t.bytes / iters};
  double maxes[3] = {t.exchange / iters, t.compute / iters, t.wall / iters};
  double sum_out[1] = {0};
  double max_out[3] = {0, 0, 0};
  MPI_Reduce(sums, sum_out, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
  MPI_Reduce(maxes, max_out, 3, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) return;
  std::printf("| %d | %s | %s | %.0f | %.3f | %.3f | %.3f |\n", ranks, a.sharding.c_str(), phase,
              sum_out[0] / 1024.0, max_out[0] * 1e3, max_out[1] * 1e3, max_out[2] * 1e3);
}

}  // namespace

int main(int argc, char** argv) {
  dist::MpiSession mpi(argc, argv);
  const Args a = parse(argc, argv);
  const dist::Communicator comm = dist::Communicator::world();
  const int rank = comm.rank();
  const int ranks = comm.size();
  dist::ShardedEmbeddingBag table(comm,
                                  dist::ShardedEmbeddingBagOptions(a.rows, a.dim)
                                      .mode(BagMode::Sum)
                                      .sharding(dist::parse_sharding_kind(a.sharding)),
                                  dist::normal_rows(1));
  optim::SGD opt(optim::make_parameters(table.shard_module()), optim::SGDOptions(0.01));
  // The local baseline: the same lookup and step on a whole table in this process.
  nn::EmbeddingBag local(nn::EmbeddingBagOptions(a.rows, a.dim).mode(BagMode::Sum));
  optim::SGD local_opt(optim::make_parameters(local), optim::SGDOptions(0.01));

  std::mt19937_64 gen(1234 + static_cast<unsigned>(rank));
  std::vector<std::int64_t> ids(static_cast<std::size_t>(a.bags * a.bag_size));
  std::vector<std::int64_t> offsets(static_cast<std::size_t>(a.bags));
  for (std::int64_t b = 0; b < a.bags; ++b) offsets[b] = b * a.bag_size;
  const Tensor offsets_t = Tensor::from_vector(offsets);
  const Tensor grad = Tensor::zeros({a.bags, a.dim});

  Totals lookup;
  Totals step;
  Totals local_lookup;
  Totals local_step;
  Totals partial_sums;                     // counted, not run: see below
  for (int it = -2; it < a.iters; ++it) {  // two warm-up rounds
    for (std::int64_t& id : ids) id = static_cast<std::int64_t>(gen() % a.rows);
    const Tensor ids_t = Tensor::from_vector(ids);
    comm.barrier();
    auto start = Clock::now();
    const Tensor out = table.forward(ids_t, offsets_t);
    const double fwd = std::chrono::duration<double>(Clock::now() - start).count();
    const dist::ExchangeStats fs = table.last_stats();
    start = Clock::now();
    table.fused_backward_step(ids_t, offsets_t, grad, opt);
    const double bwd = std::chrono::duration<double>(Clock::now() - start).count();
    const dist::ExchangeStats bs = table.last_stats();
    start = Clock::now();
    const Tensor local_out = local.forward(ids_t, offsets_t);
    const double lf = std::chrono::duration<double>(Clock::now() - start).count();
    start = Clock::now();
    optim::fused_backward_step(local, ids_t, offsets_t, grad, local_opt);
    const double lb = std::chrono::duration<double>(Clock::now() - start).count();
    if (it < 0) continue;
    // What owners returning per-bag partial sums instead of rows would send (counted from this
    // batch, not run): each id with its bag index (16 bytes) to its owner, and one partial sum
    // per (bag, owner) pair back.
    std::int64_t pairs = 0;
    for (std::int64_t b = 0; b < a.bags; ++b) {
      std::vector<int> owners;
      for (std::int64_t i = b * a.bag_size; i < (b + 1) * a.bag_size; ++i) {
        owners.push_back(table.sharding().owner(ids[static_cast<std::size_t>(i)]));
      }
      std::sort(owners.begin(), owners.end());
      pairs += std::unique(owners.begin(), owners.end()) - owners.begin();
    }
    partial_sums.bytes +=
        static_cast<double>(static_cast<std::int64_t>(ids.size()) * 16 + pairs * a.dim * 4);
    lookup.bytes += static_cast<double>(fs.bytes_sent);
    lookup.exchange += fs.exchange_seconds;
    lookup.compute += fs.compute_seconds;
    lookup.wall += fwd;
    step.bytes += static_cast<double>(bs.bytes_sent);
    step.exchange += bs.exchange_seconds;
    step.compute += bs.compute_seconds;
    step.wall += bwd;
    local_lookup.compute += lf;
    local_lookup.wall += lf;
    local_step.compute += lb;
    local_step.wall += lb;
  }
  if (rank == 0) {
    std::printf("rows %lld, dim %lld, %lld bags of %lld ids per rank, %d iterations\n\n",
                static_cast<long long>(a.rows), static_cast<long long>(a.dim),
                static_cast<long long>(a.bags), static_cast<long long>(a.bag_size), a.iters);
    std::printf(
        "| P | sharding | phase | KiB sent (all ranks) | exchange ms | compute ms | wall ms |\n"
        "|---|---|---|---|---|---|---|\n");
  }
  report("sharded lookup", lookup, a.iters, ranks, a);
  report("sharded step", step, a.iters, ranks, a);
  report("local lookup", local_lookup, a.iters, ranks, a);
  report("local step", local_step, a.iters, ranks, a);
  report("partial sums (counted, not run)", partial_sums, a.iters, ranks, a);
  return 0;
}
