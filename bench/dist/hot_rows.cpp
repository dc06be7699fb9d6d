// Hot rows, counted: how unevenly skewed ids load the owners of a sharded table, for each
// sharding the library offers, computed with the library's own dist::Sharding in one process
// (no MPI call: what an exchange carries is fixed by the ids and the sharding, not by timing).
//
//   embedkit_dist_hot_rows [--rows N] [--bags B] [--bag-size L] [--dim D] [--seed S]
//
// Each of P ranks draws a batch of B bags of L ids, independently, from one distribution over N
// rows: uniform, or Zipf with exponent s (row of popularity rank k drawn with probability
// proportional to 1 / (k + 1)^s). Two id orders: "sorted" (id = popularity rank, a vocabulary
// sorted by frequency) and "hashed" (a fixed random permutation of the rows, as hashed ids are).
// Per owner it counts what the sharded table's calls carry to it (src/dist):
//   distinct: ids requested of it, each once per requesting rank (forward/lookup de-duplicate per
//             rank): the rows it sends back, 8 + D * 4 bytes each;
//   occurrences: id occurrences it owns: the step's 24-byte terms it receives and applies;
//   pairs: (bag, owner) pairs: the gradient rows (D * 4 bytes) it receives in the step.
// and prints max/mean over the owners (the exchange waits for the busiest owner, so this is the
// slowdown of a bandwidth-bound exchange against even load).
//
// The last table models what the library does not do: the H most popular rows replicated on
// every rank (a read cache for a lookup; for training their gradients would also have to be
// summed over the ranks each step). Counted: what would leave the exchange; modelled: the
// all-reduce it would add (ring: 2 (P - 1) / P * H * D * 4 bytes per rank per step).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "embedkit/dist/sharding.hpp"

namespace {

using embedkit::dist::Sharding;
using embedkit::dist::ShardingKind;

struct Args {
  std::int64_t rows = 1000000;
  std::int64_t bags = 2048;
  std::int64_t bag_size = 20;
  std::int64_t dim = 128;
  std::uint64_t seed = 1;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; i += 2) {
    const std::string k = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "option %s needs a value\n", k.c_str());
      std::exit(2);
    }
    const char* v = argv[i + 1];
    if (k == "--rows") {
      a.rows = std::atoll(v);
    } else if (k == "--bags") {
      a.bags = std::atoll(v);
    } else if (k == "--bag-size") {
      a.bag_size = std::atoll(v);
    } else if (k == "--dim") {
      a.dim = std::atoll(v);
    } else if (k == "--seed") {
      a.seed = std::strtoull(v, nullptr, 10);
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  if (a.rows < 1 || a.bags < 1 || a.bag_size < 1 || a.dim < 1) {
    std::fprintf(stderr, "--rows, --bags, --bag-size and --dim must be >= 1\n");
    std::exit(2);
  }
  return a;
}

// A uniform double in [0, 1) from the generator's raw bits (std::mt19937_64's output is fixed
// by the standard; the standard distributions are not, so the figures would vary by library).
double unit(std::mt19937_64& gen) {
  return static_cast<double>(gen() >> 11) * 0x1.0p-53;
}

// Popularity ranks drawn from Zipf(s) over `rows` rows (s = 0: uniform) by inverting the CDF.
class Popularity {
 public:
  Popularity(double s, std::int64_t rows) : s_(s), rows_(rows) {
    if (s_ == 0.0) return;
    cdf_.resize(static_cast<std::size_t>(rows));
    double sum = 0.0;
    for (std::int64_t k = 0; k < rows; ++k) {
      sum += std::pow(static_cast<double>(k + 1), -s);
      cdf_[static_cast<std::size_t>(k)] = sum;
    }
    for (double& c : cdf_) c /= sum;
  }
  std::int64_t draw(std::mt19937_64& gen) const {
    if (s_ == 0.0) return static_cast<std::int64_t>(gen() % static_cast<std::uint64_t>(rows_));
    const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), unit(gen));
    return std::min<std::int64_t>(it - cdf_.begin(), rows_ - 1);
  }
  // Probability of popularity rank 0.
  double top() const { return s_ == 0.0 ? 1.0 / static_cast<double>(rows_) : cdf_[0]; }

 private:
  double s_;
  std::int64_t rows_;
  std::vector<double> cdf_;
};

// Per owner: what the calls carry to it.
struct Loads {
  std::vector<double> distinct;
  std::vector<double> occurrences;
  std::vector<double> pairs;
};

double max_over_mean(const std::vector<double>& v) {
  double sum = 0.0;
  double high = 0.0;
  for (double x : v) {
    sum += x;
    high = std::max(high, x);
  }
  return sum > 0.0 ? high / (sum / static_cast<double>(v.size())) : 0.0;
}

double share(const std::vector<double>& v, std::size_t i) {
  double sum = 0.0;
  for (double x : v) sum += x;
  return sum > 0.0 ? 100.0 * v[i] / sum : 0.0;
}

double highest(const std::vector<double>& v) {
  return *std::max_element(v.begin(), v.end());
}

// batches[r]: rank r's ids as popularity ranks, B * L of them, bag after bag. `id_of` maps a
// popularity rank to its row; ranks below `replicated` are served locally and count nowhere.
Loads count(const std::vector<std::vector<std::int64_t>>& batches,
            const std::vector<std::int64_t>& id_of, const Sharding& sharding, std::int64_t bag_size,
            std::int64_t replicated) {
  const auto owners = static_cast<std::size_t>(sharding.ranks());
  Loads loads{std::vector<double>(owners, 0.0), std::vector<double>(owners, 0.0),
              std::vector<double>(owners, 0.0)};
  std::vector<std::int64_t> rows;
  std::vector<int> bag_owners;
  for (const std::vector<std::int64_t>& batch : batches) {
    rows.clear();
    for (std::size_t i = 0; i < batch.size(); i += static_cast<std::size_t>(bag_size)) {
      bag_owners.clear();
      for (std::size_t j = i; j < i + static_cast<std::size_t>(bag_size); ++j) {
        if (batch[j] < replicated) continue;
        const std::int64_t row = id_of[static_cast<std::size_t>(batch[j])];
        const int owner = sharding.owner(row);
        rows.push_back(row);
        loads.occurrences[static_cast<std::size_t>(owner)] += 1.0;
        bag_owners.push_back(owner);
      }
      std::sort(bag_owners.begin(), bag_owners.end());
      const auto end = std::unique(bag_owners.begin(), bag_owners.end());
      for (auto it = bag_owners.begin(); it != end; ++it) {
        loads.pairs[static_cast<std::size_t>(*it)] += 1.0;
      }
    }
    std::sort(rows.begin(), rows.end());
    const auto end = std::unique(rows.begin(), rows.end());
    for (auto it = rows.begin(); it != end; ++it) {
      loads.distinct[static_cast<std::size_t>(sharding.owner(*it))] += 1.0;
    }
  }
  // The counts must add up, whatever the sharding: every id not replicated is owned once, each
  // rank asks for at most as many rows as it has ids, and a bag meets at most bag_size owners.
  double ids = 0.0;
  for (const std::vector<std::int64_t>& batch : batches) {
    for (std::int64_t k : batch) ids += k >= replicated ? 1.0 : 0.0;
  }
  double occurrences = 0.0;
  double distinct = 0.0;
  double pairs = 0.0;
  for (std::size_t o = 0; o < owners; ++o) {
    occurrences += loads.occurrences[o];
    distinct += loads.distinct[o];
    pairs += loads.pairs[o];
  }
  if (occurrences != ids || distinct > ids || pairs > ids) {
    std::fprintf(stderr, "hot_rows: inconsistent counts (%.0f ids, %.0f, %.0f, %.0f)\n", ids,
                 occurrences, distinct, pairs);
    std::exit(1);
  }
  return loads;
}

struct Distribution {
  const char* name;
  double s;
};

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  const std::vector<Distribution> distributions = {
      {"uniform", 0.0}, {"zipf 1.05", 1.05}, {"zipf 1.2", 1.2}};
  const std::vector<int> rank_counts = {2, 4, 8, 64};
  const std::vector<ShardingKind> kinds = {ShardingKind::RowWise, ShardingKind::RowWiseCyclic,
                                           ShardingKind::TableWise};
  const auto n = static_cast<std::size_t>(a.rows);
  std::vector<std::int64_t> sorted(n);
  for (std::size_t k = 0; k < n; ++k) sorted[k] = static_cast<std::int64_t>(k);
  std::vector<std::int64_t> hashed = sorted;
  std::mt19937_64 shuffle(a.seed ^ 0x9e3779b97f4a7c15ULL);
  for (std::size_t k = n - 1; k > 0; --k) {  // Fisher-Yates, from the raw bits
    std::swap(hashed[k], hashed[static_cast<std::size_t>(shuffle() % (k + 1))]);
  }

  std::printf(
      "rows %lld, %lld bags of %lld ids per rank (%lld ids), dim %lld for bytes, seed %llu\n\n",
      static_cast<long long>(a.rows), static_cast<long long>(a.bags),
      static_cast<long long>(a.bag_size), static_cast<long long>(a.bags * a.bag_size),
      static_cast<long long>(a.dim), static_cast<unsigned long long>(a.seed));

  struct Run {
    Distribution dist;
    int ranks;
    std::vector<std::vector<std::int64_t>> batches;
  };
  std::vector<Run> runs;
  std::vector<Popularity> popularity;
  for (const Distribution& d : distributions) {
    popularity.emplace_back(d.s, a.rows);
    for (int p : rank_counts) {
      Run run{d, p, {}};
      for (int r = 0; r < p; ++r) {
        std::mt19937_64 gen(a.seed * 1000003ULL + static_cast<std::uint64_t>(p) * 1009ULL +
                            static_cast<std::uint64_t>(r));
        std::vector<std::int64_t> batch(static_cast<std::size_t>(a.bags * a.bag_size));
        for (std::int64_t& k : batch) k = popularity.back().draw(gen);
        run.batches.push_back(std::move(batch));
      }
      runs.push_back(std::move(run));
    }
  }

  // The distributions themselves: how much per-rank de-duplication removes.
  std::printf("| ids | top row's share of draws | distinct ids per rank (of %lld), P = 8 mean |\n",
              static_cast<long long>(a.bags * a.bag_size));
  std::printf("|---|---|---|\n");
  for (std::size_t d = 0; d < distributions.size(); ++d) {
    for (const Run& run : runs) {
      if (run.dist.name != distributions[d].name || run.ranks != 8) continue;
      const Loads l =
          count(run.batches, sorted, Sharding(ShardingKind::RowWise, a.rows, 8), a.bag_size, 0);
      double distinct = 0.0;
      for (double x : l.distinct) distinct += x;
      std::printf("| %s | %.4f %% | %.0f |\n", distributions[d].name, 100.0 * popularity[d].top(),
                  distinct / 8.0);
    }
  }

  std::printf(
      "\nmax/mean over the owners of: distinct ids requested / id occurrences / (bag, owner) "
      "pairs\n\n| ids | order | sharding |");
  for (int p : rank_counts) std::printf(" P = %d |", p);
  std::printf("\n|---|---|---|");
  for (std::size_t i = 0; i < rank_counts.size(); ++i) std::printf("---|");
  std::printf("\n");
  for (const Distribution& d : distributions) {
    for (const char* order : {"sorted", "hashed"}) {
      const bool is_hashed = std::string(order) == "hashed";
      // Uniform ids permuted are uniform ids: one order is enough.
      if (d.s == 0.0 && is_hashed) continue;
      for (ShardingKind kind : kinds) {
        // One table held whole by one rank: every load on it whatever the ids, shown once.
        if (kind == ShardingKind::TableWise && d.s != 0.0) continue;
        std::printf("| %s | %s | %s |", d.name, d.s == 0.0 ? "any" : order,
                    embedkit::dist::sharding_kind_name(kind).c_str());
        for (const Run& run : runs) {
          if (run.dist.name != d.name) continue;
          const Loads l = count(run.batches, is_hashed ? hashed : sorted,
                                Sharding(kind, a.rows, run.ranks), a.bag_size, 0);
          std::printf(" %.2f / %.2f / %.2f |", max_over_mean(l.distinct),
                      max_over_mean(l.occurrences), max_over_mean(l.pairs));
        }
        std::printf("\n");
      }
    }
  }

  std::printf(
      "\nP = 4, share of each owner (%%): distinct ids requested / id occurrences\n\n"
      "| ids | order | sharding | owner 0 | owner 1 | owner 2 | owner 3 |\n"
      "|---|---|---|---|---|---|---|\n");
  for (const Distribution& d : distributions) {
    for (const char* order : {"sorted", "hashed"}) {
      const bool is_hashed = std::string(order) == "hashed";
      if (d.s == 0.0 && is_hashed) continue;
      for (ShardingKind kind : {ShardingKind::RowWise, ShardingKind::RowWiseCyclic}) {
        for (const Run& run : runs) {
          if (run.dist.name != d.name || run.ranks != 4) continue;
          const Loads l = count(run.batches, is_hashed ? hashed : sorted, Sharding(kind, a.rows, 4),
                                a.bag_size, 0);
          std::printf("| %s | %s | %s |", d.name, d.s == 0.0 ? "any" : order,
                      embedkit::dist::sharding_kind_name(kind).c_str());
          for (std::size_t o = 0; o < 4; ++o) {
            std::printf(" %.1f / %.1f |", share(l.distinct, o), share(l.occurrences, o));
          }
          std::printf("\n");
        }
      }
    }
  }

  // Modelled: the H most popular rows replicated on every rank (hashed ids, cyclic sharding).
  const double row_bytes = static_cast<double>(a.dim) * 4.0;
  const double mb = 1e6;
  std::printf(
      "\nModelled, not implemented: the H most popular rows replicated on every rank (hashed "
      "ids, row_wise_cyclic; uniform ids: the even-load control). Busiest owner, per call: rows it "
      "answers in a lookup (8 + D * 4 "
      "bytes each) and bytes it receives in a step (24 per occurrence + D * 4 per pair); the "
      "all-reduce a trained replica would add per rank per step (ring).\n\n"
      "| ids | P | H | replicas MB/rank | occurrences on replicas | lookup: busiest owner's "
      "rows (MB) | step: busiest owner receives MB | max/mean d / o / p | all-reduce MB/rank |\n"
      "|---|---|---|---|---|---|---|---|---|\n");
  for (const Run& run : runs) {
    if (run.ranks != 8 && run.ranks != 64) continue;
    const Sharding sharding(ShardingKind::RowWiseCyclic, a.rows, run.ranks);
    double all = 0.0;
    {
      const Loads l = count(run.batches, hashed, sharding, a.bag_size, 0);
      for (double x : l.occurrences) all += x;
    }
    // Uniform ids: the even-load control, with nothing worth replicating.
    const std::vector<std::int64_t> hot = run.dist.s == 0.0
                                              ? std::vector<std::int64_t>{0}
                                              : std::vector<std::int64_t>{0, 100, 1000, 10000};
    for (std::int64_t h : hot) {
      const Loads l = count(run.batches, hashed, sharding, a.bag_size, h);
      double left = 0.0;
      for (double x : l.occurrences) left += x;
      // The step's bytes at the busiest owner: its terms plus its gradient rows.
      double step_max = 0.0;
      for (std::size_t o = 0; o < l.pairs.size(); ++o) {
        step_max = std::max(step_max, 24.0 * l.occurrences[o] + row_bytes * l.pairs[o]);
      }
      const double p = static_cast<double>(run.ranks);
      std::printf(
          "| %s | %d | %lld | %.2f | %.1f %% | %.0f (%.2f) | %.2f | %.2f / %.2f / %.2f | %.2f |\n",
          run.dist.name, run.ranks, static_cast<long long>(h),
          static_cast<double>(h) * row_bytes / mb, 100.0 * (all - left) / all, highest(l.distinct),
          highest(l.distinct) * (8.0 + row_bytes) / mb, step_max / mb, max_over_mean(l.distinct),
          max_over_mean(l.occurrences), max_over_mean(l.pairs),
          2.0 * (p - 1.0) / p * static_cast<double>(h) * row_bytes / mb);
    }
  }
  return 0;
}
