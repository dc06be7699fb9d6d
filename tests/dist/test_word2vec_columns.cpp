// dist::train_word2vec_by_columns at P ranks: the same bits as the column shards trained by P
// threads of one process (tests/models/column_shards_in_process.hpp: scores summed in part
// order, as TableAveraging::add_up sums them in rank order; columns put side by side, as the
// ranks' are assembled), at one thread a rank and at two (which split the rank's columns), and
// the same tables on every rank. Arguments that differ between the ranks, or that the shards
// cannot train, stop every rank before training.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <tuple>

#include "embedkit/core/error.hpp"
#include "embedkit/dist/communicator.hpp"
#include "embedkit/dist/word2vec_training.hpp"
#include "models/column_shards_in_process.hpp"
#include "models/corpus_files.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace embedkit::dist {
namespace {

namespace M = embedkit::models;

M::Word2VecOptions options(M::Word2VecArchitecture arch, M::Word2VecLoss loss) {
  M::Word2VecOptions o;
  o.architecture = arch;
  o.loss = loss;
  o.dim = 16;  // 16 * r / P columns: uneven at P = 3
  o.window = 3;
  o.min_count = 1;
  o.sample = 1e-2;
  o.epochs = 2;
  o.seed = 11;
  return o;
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

TEST(Word2VecColumns, EqualsThePartsTrainedInOneProcessBitForBit) {
  const Communicator comm = Communicator::world();
  embedkit_test::TempDir dir;  // each rank's own copy of the same corpus
  embedkit_test::write_file(dir / "c.txt", embedkit_models_test::two_group_corpus(300, 10, 5));
  for (const auto& [arch, loss, subwords, threads] :
       {std::tuple{M::Word2VecArchitecture::SkipGram, M::Word2VecLoss::NegativeSampling, false, 1},
        std::tuple{M::Word2VecArchitecture::Cbow, M::Word2VecLoss::HierarchicalSoftmax, false, 1},
        std::tuple{M::Word2VecArchitecture::SkipGram, M::Word2VecLoss::NegativeSampling, true, 1},
        std::tuple{M::Word2VecArchitecture::Cbow, M::Word2VecLoss::NegativeSampling, false, 2}}) {
    SCOPED_TRACE(testing::Message()
                 << "architecture " << static_cast<int>(arch) << " loss " << static_cast<int>(loss)
                 << " subwords " << subwords << " threads " << threads);
    M::Word2VecOptions o = options(arch, loss);
    o.threads = threads;
    if (subwords) {
      o.minn = 2;
      o.maxn = 3;
      o.bucket = 50;
    }
    const M::Word2VecResult r = train_word2vec_by_columns(comm, dir / "c.txt", o, 24);
    const auto parts = embedkit_models_test::train_column_parts(dir / "c.txt", o, comm.size(), 24);
    EXPECT_EQ(r.vectors.shape(), (Shape{r.dictionary.words().size(), 16}));
    using embedkit_models_test::side_by_side;
    EXPECT_TRUE(bitwise_equal(r.vectors, side_by_side(parts, &M::Word2VecResult::vectors)));
    EXPECT_TRUE(bitwise_equal(r.output, side_by_side(parts, &M::Word2VecResult::output)));
    EXPECT_EQ(r.input.defined(), subwords);
    if (subwords) {
      EXPECT_TRUE(bitwise_equal(r.input, side_by_side(parts, &M::Word2VecResult::input)));
    }
    EXPECT_EQ(r.final_loss, parts[0].final_loss);
    EXPECT_EQ(r.words_trained, parts[0].words_trained);
  }
}

TEST(Word2VecColumns, ArgumentsThatDifferOrCannotBeShardedStopEveryRank) {
  const Communicator comm = Communicator::world();
  embedkit_test::TempDir dir;
  embedkit_test::write_file(dir / "c.txt", embedkit_models_test::two_group_corpus(50, 10, 6));
  const M::Word2VecOptions o =
      options(M::Word2VecArchitecture::SkipGram, M::Word2VecLoss::NegativeSampling);
  auto message = [&](auto&& train) -> std::string {
    try {
      train();
    } catch (const ValueError& e) {
      return e.what();
    }
    return "no error";
  };
  if (comm.size() > 1) {
    // One rank's batches are a word longer: the scores would not line up.
    const std::string m = message([&] {
      train_word2vec_by_columns(comm, dir / "c.txt", o, comm.rank() == comm.size() - 1 ? 25 : 24);
    });
    EXPECT_NE(m.find("disagree"), std::string::npos) << m;
    EXPECT_NE(m.find("batch_words"), std::string::npos) << m;
  }
  M::Word2VecOptions narrow = o;
  narrow.dim = comm.size() - 1;
  if (narrow.dim >= 1) {
    const std::string n =
        message([&] { train_word2vec_by_columns(comm, dir / "c.txt", narrow, 24); });
    EXPECT_NE(n.find("at least one column"), std::string::npos) << n;
  }
}

}  // namespace
}  // namespace embedkit::dist
