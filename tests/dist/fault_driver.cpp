// The fault test's training program (tests/dist/fault_test.sh runs it under mpirun): trains a
// sharded table with Adagrad for --steps steps, a checkpoint every --every steps, and can make
// one rank die on purpose, after a step or while the others save. A run with --resume starts
// from the checkpoint in --checkpoint (at any P), so that a job killed mid-training can be
// finished and compared with an uninterrupted one.
//
//   fault_driver train --checkpoint DIR --steps K --every E [--resume] [--final DIR]
//                      [--die-rank R (--die-after-step S | --die-in-save-at-step S)]
//   fault_driver step-of DIR          prints the step a checkpoint was taken at (run at P = 1)
//   fault_driver compare DIR_A DIR_B  exit 0 when both hold the same rows and optimizer state
//                                     bit for bit (run at P = 1)
//
// The global batch of step t depends on t only, not on P: rank r of P takes its contiguous
// share of it (uneven, possibly empty), so every P trains on the same concatenated batches and
// the result equals one process's (the exactness docs/distributed.md states). The checkpoint
// holds its own step: Adagrad's step count, saved with the shards.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "embedkit/dist/communicator.hpp"
#include "embedkit/dist/sharded_checkpoint.hpp"
#include "embedkit/dist/sharded_embedding_bag.hpp"
#include "embedkit/optim/adagrad.hpp"
#include "embedkit/optim/module_parameters.hpp"

namespace {

namespace fs = std::filesystem;
using namespace embedkit;

constexpr std::int64_t kRows = 53;
constexpr std::int64_t kDim = 8;
constexpr std::int64_t kBagsPerStep = 11;  // uneven over P = 2, 3, 4
constexpr std::uint64_t kSeed = 17;

struct Options {
  fs::path checkpoint;
  fs::path final_dir;
  int steps = 0;
  int every = 0;
  bool resume = false;
  int die_rank = -1;
  int die_after_step = -1;
  int die_in_save_at_step = -1;
};

dist::ShardedEmbeddingBag make_table(const dist::Communicator& comm) {
  return dist::ShardedEmbeddingBag(comm,
                                   dist::ShardedEmbeddingBagOptions(kRows, kDim)
                                       .mode(BagMode::Mean)
                                       .sharding(dist::ShardingKind::RowWise),
                                   dist::normal_rows(kSeed));
}

optim::Adagrad make_optimizer(dist::ShardedEmbeddingBag& table) {
  return optim::Adagrad(optim::make_parameters(table.shard_module()),
                        optim::AdagradOptions(0.2).lr_decay(0.05));
}

// The optimizer's step count (its "<param>.step" state).
int step_count(const optim::Optimizer& opt) {
  for (const auto& [name, value] : opt.state_dict()) {
    if (name.size() >= 5 && name.compare(name.size() - 5, 5, ".step") == 0) {
      return static_cast<int>(value.data<float>()[0]);
    }
  }
  return 0;  // no step taken yet: no state
}

// Rank `rank` of `ranks`'s share of step t's global batch: ids, offsets and the output gradient.
struct Share {
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> offsets;
  std::vector<float> grad;
};

Share share_of_step(int step, int rank, int ranks) {
  std::mt19937_64 gen(kSeed * 1000003u + static_cast<std::uint64_t>(step));
  const std::int64_t first = kBagsPerStep * rank / ranks;
  const std::int64_t end = kBagsPerStep * (rank + 1) / ranks;
  Share s;
  std::normal_distribution<float> normal;
  for (std::int64_t bag = 0; bag < kBagsPerStep; ++bag) {
    const bool mine = bag >= first && bag < end;
    if (mine) s.offsets.push_back(static_cast<std::int64_t>(s.ids.size()));
    const auto size = static_cast<std::int64_t>(1 + gen() % 5);
    for (std::int64_t i = 0; i < size; ++i) {
      const bool hot = gen() % 2 == 0;  // rows 0-2 come from several ranks
      const auto id = static_cast<std::int64_t>(gen() % (hot ? 3u : std::uint64_t{kRows}));
      if (mine) s.ids.push_back(id);
    }
    for (std::int64_t d = 0; d < kDim; ++d) {
      const float g = normal(gen);
      if (mine) s.grad.push_back(g);
    }
  }
  return s;
}

// Waits (at most 20 s) until `count` shard files lie in `dir` that its manifest does not name:
// the shards of a save in progress.
void wait_for_unnamed_shards(const fs::path& dir, int count) {
  for (int tries = 0; tries < 2000; ++tries) {
    std::ifstream in(dir / dist::kShardedManifestName);
    const std::string manifest((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    int unnamed = 0;
    for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("shard-", 0) == 0 && manifest.find('"' + name + '"') == std::string::npos) {
        ++unnamed;
      }
    }
    if (unnamed >= count) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

[[noreturn]] void die(int rank, const std::string& when) {
  std::fprintf(stderr, "fault_driver: rank %d kills itself %s\n", rank, when.c_str());
  std::fflush(stderr);
  std::raise(SIGKILL);
  _exit(137);  // not reached
}

int train(const Options& o) {
  dist::Communicator comm = dist::Communicator::world();
  const int rank = comm.rank();
  const int ranks = comm.size();
  dist::ShardedEmbeddingBag table = make_table(comm);
  optim::Adagrad opt = make_optimizer(table);
  int start = 0;
  if (o.resume && fs::exists(o.checkpoint / dist::kShardedManifestName)) {
    dist::load_sharded(o.checkpoint, table, &opt);
    start = step_count(opt);
    if (rank == 0) {
      std::printf("fault_driver: %d ranks resume from the checkpoint of step %d\n", ranks, start);
    }
  }
  if (rank == 0) fs::create_directories(o.checkpoint);
  comm.barrier();
  for (int t = start + 1; t <= o.steps; ++t) {
    const Share s = share_of_step(t, rank, ranks);
    const Tensor ids = Tensor::from_vector(s.ids);
    const Tensor offsets = Tensor::from_vector(s.offsets);
    const auto bags = static_cast<std::int64_t>(s.offsets.size());
    (void)table.forward(ids, offsets);
    table.fused_backward_step(ids, offsets, Tensor::from_vector(s.grad, Shape{bags, kDim}), opt);
    if (t % o.every == 0) {
      if (t == o.die_in_save_at_step && rank == o.die_rank) {
        // The other ranks are in save_sharded now: wait until they have written their new
        // shards (they then wait for this rank), so that the save is left half-written.
        wait_for_unnamed_shards(o.checkpoint, ranks - 1);
        die(rank, "while the others save the checkpoint of step " + std::to_string(t));
      }
      dist::save_sharded(o.checkpoint, table, &opt);
    }
    if (t == o.die_after_step && rank == o.die_rank) {
      die(rank, "after step " + std::to_string(t));
    }
  }
  if (!o.final_dir.empty()) {
    if (rank == 0) fs::create_directories(o.final_dir);
    comm.barrier();
    dist::save_sharded(o.final_dir, table, &opt);
  }
  if (rank == 0) std::printf("fault_driver: %d ranks trained to step %d\n", ranks, o.steps);
  return 0;
}

int step_of(const fs::path& dir) {
  dist::Communicator comm = dist::Communicator::world();
  dist::ShardedEmbeddingBag table = make_table(comm);
  optim::Adagrad opt = make_optimizer(table);
  dist::load_sharded(dir, table, &opt);
  if (comm.rank() == 0) std::printf("%d\n", step_count(opt));
  return 0;
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

int compare(const fs::path& a_dir, const fs::path& b_dir) {
  dist::Communicator comm = dist::Communicator::world();
  dist::ShardedEmbeddingBag a = make_table(comm);
  dist::ShardedEmbeddingBag b = make_table(comm);
  optim::Adagrad a_opt = make_optimizer(a);
  optim::Adagrad b_opt = make_optimizer(b);
  dist::load_sharded(a_dir, a, &a_opt);
  dist::load_sharded(b_dir, b, &b_opt);
  bool same = bitwise_equal(a.shard(), b.shard());
  const NamedTensors a_state = a_opt.state_dict();
  const NamedTensors b_state = b_opt.state_dict();
  same = same && a_state.size() == b_state.size() && !a_state.empty();
  for (std::size_t i = 0; same && i < a_state.size(); ++i) {
    same =
        a_state[i].first == b_state[i].first && bitwise_equal(a_state[i].second, b_state[i].second);
  }
  if (comm.rank() == 0) {
    std::printf("fault_driver: the tables and Adagrad states of step %d and step %d %s\n",
                step_count(a_opt), step_count(b_opt), same ? "are equal bit for bit" : "DIFFER");
  }
  return same ? 0 : 1;
}

int to_int(const char* text) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < 0 || v > 1000000) {
    throw std::invalid_argument(std::string("not a count: ") + text);
  }
  return static_cast<int>(v);
}

int run(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 2 && args[0] == "step-of") return step_of(args[1]);
  if (args.size() == 3 && args[0] == "compare") return compare(args[1], args[2]);
  if (args.empty() || args[0] != "train")
    throw std::invalid_argument("usage: see fault_driver.cpp");
  Options o;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&]() -> const char* {
      if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
      return args[++i].c_str();
    };
    if (a == "--checkpoint") {
      o.checkpoint = value();
    } else if (a == "--final") {
      o.final_dir = value();
    } else if (a == "--steps") {
      o.steps = to_int(value());
    } else if (a == "--every") {
      o.every = to_int(value());
    } else if (a == "--resume") {
      o.resume = true;
    } else if (a == "--die-rank") {
      o.die_rank = to_int(value());
    } else if (a == "--die-after-step") {
      o.die_after_step = to_int(value());
    } else if (a == "--die-in-save-at-step") {
      o.die_in_save_at_step = to_int(value());
    } else {
      throw std::invalid_argument("unknown option " + a);
    }
  }
  if (o.checkpoint.empty() || o.steps == 0 || o.every == 0) {
    throw std::invalid_argument("train needs --checkpoint, --steps and --every");
  }
  return train(o);
}

}  // namespace

int main(int argc, char** argv) {
  dist::MpiSession mpi(argc, argv);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fault_driver: %s\n", e.what());
    return 2;
  }
}
