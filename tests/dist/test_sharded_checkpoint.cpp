// Sharded checkpoints: saved at one P, loaded at another (resharding, sub-communicators of the
// world), equal to the one-process table bit for bit; a missing or altered shard is an error
// on every rank and changes nothing.
#include <gtest/gtest.h>
#include <mpi.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "dist/dist_fixtures.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/dist/mpi_interop.hpp"
#include "embedkit/dist/sharded_checkpoint.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/optim/adagrad.hpp"
#include "embedkit/optim/fused_backward.hpp"
#include "embedkit/optim/module_parameters.hpp"
#include "embedkit/optim/rowwise_adagrad.hpp"
#include "embedkit/optim/sgd.hpp"
#include "support/temp_dir.hpp"

namespace embedkit::dist {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kRows = 29;
constexpr std::int64_t kDim = 6;

// A directory every rank sees: rank 0 makes it (and removes it at the end).
class SharedDir {
 public:
  SharedDir() {
    if (rank() == 0) dir_.emplace();
    std::string path = dir_ ? dir_->path().string() : std::string();
    auto length = static_cast<long long>(path.size());
    MPI_Bcast(&length, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    path.resize(static_cast<std::size_t>(length));
    MPI_Bcast(path.data(), static_cast<int>(length), MPI_CHAR, 0, MPI_COMM_WORLD);
    path_ = path;
  }
  ~SharedDir() { MPI_Barrier(MPI_COMM_WORLD); }  // no rank still reads when rank 0 removes it
  const fs::path& path() const { return path_; }

 private:
  static int rank() {
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
  }
  std::optional<embedkit_test::TempDir> dir_;
  fs::path path_;
};

// The first `ranks` ranks of the world as a Communicator (the others get none).
std::optional<Communicator> first_ranks(int ranks) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm sub = MPI_COMM_NULL;
  MPI_Comm_split(MPI_COMM_WORLD, rank < ranks ? 0 : MPI_UNDEFINED, rank, &sub);
  if (sub == MPI_COMM_NULL) return std::nullopt;
  Communicator comm = from_mpi_comm(sub);
  MPI_Comm_free(&sub);
  return comm;
}

ShardedEmbeddingBagOptions options_for(int variant) {
  switch (variant % 3) {
    case 0:
      return ShardedEmbeddingBagOptions(kRows, kDim).sharding(ShardingKind::RowWise);
    case 1:
      return ShardedEmbeddingBagOptions(kRows, kDim).sharding(ShardingKind::RowWiseCyclic);
    default:
      return ShardedEmbeddingBagOptions(kRows, kDim).sharding(ShardingKind::TableWise);
  }
}

TEST(ShardedCheckpoint, SavedAtOnePLoadsAtEveryOther) {
  int world = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  const Tensor expected = testing::full_table(kRows, kDim, normal_rows(41), -1);
  for (int save_ranks = 1; save_ranks <= world; ++save_ranks) {
    SharedDir dir;
    if (std::optional<Communicator> comm = first_ranks(save_ranks)) {
      ShardedEmbeddingBag table(*comm, options_for(save_ranks), normal_rows(41));
      save_sharded(dir.path(), table);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    for (int load_ranks = 1; load_ranks <= world; ++load_ranks) {
      for (int variant = 0; variant < 3; ++variant) {
        SCOPED_TRACE("saved at " + std::to_string(save_ranks) + ", loaded at " +
                     std::to_string(load_ranks) + " " +
                     sharding_kind_name(options_for(variant).sharding()));
        if (std::optional<Communicator> comm = first_ranks(load_ranks)) {
          ShardedEmbeddingBag table(*comm, options_for(variant), normal_rows(99));
          load_sharded(dir.path(), table);
          testing::expect_shard_equals(table, expected);
        }
      }
    }
  }
}

std::unique_ptr<optim::Optimizer> make_optimizer(bool rowwise, std::vector<optim::Parameter> p) {
  if (rowwise) {
    return std::make_unique<optim::RowWiseAdagrad>(std::move(p), optim::RowWiseAdagradOptions(0.3));
  }
  return std::make_unique<optim::Adagrad>(std::move(p), optim::AdagradOptions(0.3).lr_decay(0.1));
}

// Two steps at one P, a checkpoint with the optimizer's state, two more steps at another P (and
// another sharding) from the checkpoint: every row as one process after the four steps.
TEST(ShardedCheckpoint, TrainingResumedAtAnotherPEqualsOneUninterruptedProcess) {
  int world = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const std::int64_t padding = 1;
  const auto options = [&](int variant) {
    return options_for(variant).mode(BagMode::Sum).padding_idx(padding);
  };
  const auto steps = [&](int ranks, unsigned seed, auto&& step) {
    for (unsigned k = 0; k < 2; ++k) step(testing::global_batch(ranks, kRows, kDim, seed + k));
  };
  for (bool rowwise : {false, true}) {
    for (int save_ranks = 1; save_ranks <= world; ++save_ranks) {
      for (int load_ranks = 1; load_ranks <= world; ++load_ranks) {
        SCOPED_TRACE(std::string(rowwise ? "RowWiseAdagrad" : "Adagrad") + ", saved at " +
                     std::to_string(save_ranks) + ", resumed at " + std::to_string(load_ranks));
        nn::EmbeddingBag reference(
            nn::EmbeddingBagOptions(kRows, kDim)
                .mode(BagMode::Sum)
                .padding_idx(padding)
                .weight(testing::full_table(kRows, kDim, normal_rows(61), padding)));
        std::unique_ptr<optim::Optimizer> reference_opt =
            make_optimizer(rowwise, optim::make_parameters(reference));
        const auto reference_step = [&](const testing::Batch& global) {
          optim::fused_backward_step(
              reference, testing::ids_tensor(global), testing::offsets_tensor(global),
              testing::grad_tensor(global, kDim), *reference_opt, testing::weights_tensor(global));
        };
        steps(save_ranks, 500, reference_step);
        steps(load_ranks, 600, reference_step);

        SharedDir dir;
        if (std::optional<Communicator> comm = first_ranks(save_ranks)) {
          ShardedEmbeddingBag table(*comm, options(save_ranks), normal_rows(61));
          std::unique_ptr<optim::Optimizer> opt =
              make_optimizer(rowwise, optim::make_parameters(table.shard_module()));
          steps(save_ranks, 500, [&](const testing::Batch& global) {
            const testing::Batch mine = testing::slice(global, rank, kDim);
            table.fused_backward_step(testing::ids_tensor(mine), testing::offsets_tensor(mine),
                                      testing::grad_tensor(mine, kDim), *opt,
                                      testing::weights_tensor(mine));
          });
          save_sharded(dir.path(), table, opt.get());
        }
        MPI_Barrier(MPI_COMM_WORLD);
        if (std::optional<Communicator> comm = first_ranks(load_ranks)) {
          ShardedEmbeddingBag table(*comm, options(load_ranks + 1), normal_rows(62));
          std::unique_ptr<optim::Optimizer> opt =
              make_optimizer(rowwise, optim::make_parameters(table.shard_module()));
          load_sharded(dir.path(), table, opt.get());
          steps(load_ranks, 600, [&](const testing::Batch& global) {
            const testing::Batch mine = testing::slice(global, rank, kDim);
            table.fused_backward_step(testing::ids_tensor(mine), testing::offsets_tensor(mine),
                                      testing::grad_tensor(mine, kDim), *opt,
                                      testing::weights_tensor(mine));
          });
          testing::expect_shard_equals(table, reference.weight());
        }
      }
    }
  }
}

TEST(ShardedCheckpoint, OptimizerStateOfAnotherKindOrNoneIsRefused) {
  const Communicator comm = Communicator::world();
  SharedDir dir;
  ShardedEmbeddingBag table(comm, options_for(0), normal_rows(5));
  save_sharded(dir.path(), table);  // no optimizer state
  optim::SGD sgd(optim::make_parameters(table.shard_module()), optim::SGDOptions(0.1));
  EXPECT_THROW(load_sharded(dir.path(), table, &sgd), ValueError);
  std::unique_ptr<optim::Optimizer> adagrad =
      make_optimizer(false, optim::make_parameters(table.shard_module()));
  save_sharded(dir.path(), table, adagrad.get());
  std::unique_ptr<optim::Optimizer> rowwise =
      make_optimizer(true, optim::make_parameters(table.shard_module()));
  const Tensor before = table.shard().clone();
  EXPECT_THROW(load_sharded(dir.path(), table, rowwise.get()), ValueError);
  testing::expect_bitwise_equal(table.shard(), before);
  load_sharded(dir.path(), table);  // the table alone: the state is left unread
}

TEST(ShardedCheckpoint, ANewSaveReplacesTheOldShardsWhole) {
  const Communicator comm = Communicator::world();
  SharedDir dir;
  ShardedEmbeddingBag table(comm, options_for(0), normal_rows(1));
  save_sharded(dir.path(), table);
  ShardedEmbeddingBag second(comm, options_for(0), normal_rows(2));
  save_sharded(dir.path(), second);
  comm.barrier();
  std::int64_t shard_files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    shard_files += entry.path().filename().string().rfind("shard-", 0) == 0 ? 1 : 0;
  }
  EXPECT_EQ(shard_files, comm.size());
  load_sharded(dir.path(), table);
  testing::expect_shard_equals(table, testing::full_table(kRows, kDim, normal_rows(2), -1));
}

// The shard file of rank `of` in the directory.
fs::path shard_of(const fs::path& dir, int of) {
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "shard-%05d-", of);
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) return entry.path();
  }
  return {};
}

TEST(ShardedCheckpoint, AMissingOrCorruptedShardIsAnErrorOnEveryRank) {
  const Communicator comm = Communicator::world();
  const int last = comm.size() - 1;
  for (const std::string what : {"corrupted", "missing", "truncated"}) {
    SCOPED_TRACE(what);
    SharedDir dir;
    ShardedEmbeddingBag saved(comm, options_for(0), normal_rows(5));
    save_sharded(dir.path(), saved);
    comm.barrier();
    if (comm.rank() == 0) {
      const fs::path file = shard_of(dir.path(), last);
      if (what == "missing") {
        fs::remove(file);
      } else if (what == "truncated") {
        fs::resize_file(file, fs::file_size(file) / 2);
      } else {
        std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(-3, std::ios::end);
        f.put('\x7f');
      }
    }
    comm.barrier();
    ShardedEmbeddingBag table(comm, options_for(0), normal_rows(6));
    const Tensor before = table.shard().clone();
    try {
      load_sharded(dir.path(), table);
      ADD_FAILURE() << "no error";
    } catch (const IoError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("rank " + std::to_string(last) + ": "), std::string::npos) << message;
      EXPECT_NE(message.find(shard_of(dir.path(), last).filename().string()), std::string::npos)
          << message;
      if (what != "missing") {
        EXPECT_NE(message.find("XXH64"), std::string::npos) << message;
      }
    }
    testing::expect_bitwise_equal(table.shard(), before);
  }
}

TEST(ShardedCheckpoint, AManifestOfAnotherTableIsRefused) {
  const Communicator comm = Communicator::world();
  SharedDir dir;
  ShardedEmbeddingBag saved(comm, ShardedEmbeddingBagOptions(kRows, kDim + 1), normal_rows(5));
  save_sharded(dir.path(), saved);
  ShardedEmbeddingBag table(comm, ShardedEmbeddingBagOptions(kRows, kDim), normal_rows(6));
  EXPECT_THROW(load_sharded(dir.path(), table), ValueError);
  comm.barrier();
  if (comm.rank() == 0) {
    std::ofstream(dir.path() / kShardedManifestName) << "{\"format\": \"something else\"}";
  }
  comm.barrier();
  EXPECT_THROW(load_sharded(dir.path(), table), IoError);
}

}  // namespace
}  // namespace embedkit::dist
