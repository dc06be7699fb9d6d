// The alternative `mpirun embedkit recommend train` did not take (docs/distributed.md, "The
// recommender across processes"), measured: data parallelism with periodic averaging. Every rank
// reads and splits the whole file as the command does, keeps the ratings k with k % P == rank,
// and trains the recommender's model on them one epoch at a time (MatrixFactorization::fit,
// epochs = 1, a fresh shuffle seed per epoch); after each epoch the five tables are averaged
// over the ranks (MPI_Allreduce, sum / P). The optimizer's state starts afresh each epoch (fit
// owns its optimizer): that and the averaging are what make it another algorithm. Rank 0 prints
// the test RMSE and the training seconds.
//
//   mpirun -np P embedkit_dist_recommend_dp RATINGS [SEED] [EPOCHS]
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "embedkit/dist/communicator.hpp"
#include "embedkit/models/id_map.hpp"
#include "embedkit/models/rating_split.hpp"
#include "embedkit/models/ratings.hpp"
#include "embedkit/models/recommender.hpp"

namespace {

using namespace embedkit;

int run(int argc, char** argv) {
  if (argc < 2) throw std::invalid_argument("usage: RATINGS [SEED] [EPOCHS]");
  int rank = 0;
  int ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  models::MfOptions o;  // the command's defaults
  if (argc > 2) o.seed = std::strtoull(argv[2], nullptr, 10);
  const std::int64_t epochs = argc > 3 ? std::atoll(argv[3]) : o.epochs;
  models::SplitOptions so;  // the command's default split (random, 0.2, seed 42)
  so.test_fraction = 0.2;
  so.seed = 42;
  const models::RatingsSplit split = models::split_ratings(models::read_ratings(argv[1]), so);

  // Rows for the whole training set (as the command maps them), then this rank's ratings.
  models::IdMap users;
  models::IdMap items;
  models::Interactions all;
  float lo = split.train.front().rating;
  float hi = lo;
  for (const models::Rating& r : split.train) {
    all.users.push_back(users.add(r.user));
    all.items.push_back(items.add(r.item));
    all.ratings.push_back(r.rating);
    lo = std::min(lo, r.rating);
    hi = std::max(hi, r.rating);
  }
  models::Interactions mine;
  for (std::size_t k = static_cast<std::size_t>(rank); k < all.size();
       k += static_cast<std::size_t>(ranks)) {
    mine.users.push_back(all.users[k]);
    mine.items.push_back(all.items[k]);
    mine.ratings.push_back(all.ratings[k]);
  }
  models::MatrixFactorization model(users.size(), items.size(), o);
  const auto start = std::chrono::steady_clock::now();
  double global = 0.0;
  for (const float r : all.ratings) global += r;
  for (std::int64_t epoch = 1; epoch <= epochs; ++epoch) {
    models::MfOptions e = o;
    e.epochs = 1;
    e.seed = o.seed + static_cast<std::uint64_t>(epoch) * 7919u + static_cast<std::uint64_t>(rank);
    model.set_options(e);
    model.fit(mine);
    for (const auto& [name, table] : model.named_parameters()) {
      Tensor t = table;
      MPI_Allreduce(MPI_IN_PLACE, t.data<float>(), static_cast<int>(t.numel()), MPI_FLOAT, MPI_SUM,
                    MPI_COMM_WORLD);
      float* p = t.data<float>();
      for (std::int64_t i = 0; i < t.numel(); ++i) p[i] /= static_cast<float>(ranks);
    }
    // fit sets the global bias to the mean of this rank's slice; the average of the slices'
    // means is not the global mean when slices differ in size: use the global mean.
    model.global_bias().weight().data<float>()[0] =
        static_cast<float>(global / static_cast<double>(all.size()));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (rank == 0) {
    models::Recommender rec{std::move(users), std::move(items), std::move(model), {}, lo, hi};
    rec.rated.resize(static_cast<std::size_t>(rec.users.size()));
    const models::RatingMetrics m = models::evaluate_ratings(rec, split.test);
    std::printf("data-parallel P = %d seed %llu epochs %lld: rmse %.6f train_seconds %.2f\n", ranks,
                static_cast<unsigned long long>(o.seed), static_cast<long long>(epochs), m.rmse,
                seconds);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  embedkit::dist::MpiSession mpi(argc, argv);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "embedkit_dist_recommend_dp: %s\n", e.what());
    return 1;
  }
}
