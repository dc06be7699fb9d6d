// KeyedVectors' exact scans split over the thread pool: the rows of a large vocabulary are scanned
// in contiguous chunks, one best-`topn` list per chunk, merged. The answers (words, rows, score
// bits, order of ties) and the errors are those of one thread, at every thread count. The shapes
// are large enough for several chunks (at least 2^23 products each: many queries at once, or
// 3CosMul's three products a row), small enough for the sanitized builds.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/core/thread_pool.hpp"
#include "embedkit/vectors/keyed_vectors.hpp"

namespace {

using embedkit::Tensor;
using embedkit::ValueError;
using embedkit::vectors::AnalogyMethod;
using embedkit::vectors::KeyedVectors;
using embedkit::vectors::Neighbor;

// "w<i>" (not "w" + ...: GCC 12's false -Wrestrict, bug 105329).
std::string word(std::int64_t i) {
  std::string w = "w";
  w += std::to_string(i);
  return w;
}

std::vector<std::string> words(std::int64_t n) {
  std::vector<std::string> out;
  for (std::int64_t i = 0; i < n; ++i) out.push_back(word(i));
  return out;
}

// rows x dim normal values; every 997th row a copy of row 3, so that equal scores fall in
// different chunks and their order (lower row first) is tested across the merge.
Tensor matrix(std::int64_t rows, std::int64_t dim) {
  embedkit::Generator gen(7);
  Tensor m = Tensor::empty({rows, dim}, embedkit::DType::Float32);
  float* x = m.data<float>();
  for (std::int64_t i = 0; i < m.numel(); ++i) x[i] = static_cast<float>(gen.normal());
  for (std::int64_t r = 997; r < rows; r += 997) {
    for (std::int64_t j = 0; j < dim; ++j) x[r * dim + j] = x[3 * dim + j];
  }
  return m;
}

// Runs under each thread count, then restores the pool's.
class KeyedVectorsThreads : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = embedkit::get_num_threads(); }
  void TearDown() override { embedkit::set_num_threads(saved_); }
  static constexpr int kThreadCounts[] = {1, 2, 3, 4, 7};

 private:
  int saved_ = 1;
};

void expect_same(const std::vector<Neighbor>& got, const std::vector<Neighbor>& want, int threads) {
  ASSERT_EQ(got.size(), want.size()) << threads << " threads";
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].word, want[i].word) << threads << " threads, answer " << i;
    EXPECT_EQ(got[i].index, want[i].index) << threads << " threads, answer " << i;
    EXPECT_EQ(std::bit_cast<std::uint32_t>(got[i].score),
              std::bit_cast<std::uint32_t>(want[i].score))
        << threads << " threads, answer " << i;
  }
}

TEST_F(KeyedVectorsThreads, BatchOfQueriesAnswersAsOneThread) {
  // 16 queries x 40,000 rows x 64 = 41M products: up to 4 chunks.
  const std::int64_t rows = 40000;
  const std::int64_t dim = 64;
  const Tensor m = matrix(rows, dim);
  Tensor queries = Tensor::empty({16, dim}, embedkit::DType::Float32);
  std::vector<std::vector<std::int64_t>> exclude;
  for (std::int64_t q = 0; q < 16; ++q) {
    // Query 0 is row 3, whose copies tie at the top in every chunk; the others are rows spread
    // over the table, each excluding itself and a row of another chunk.
    const std::int64_t row = q == 0 ? 3 : q * 2477;
    for (std::int64_t j = 0; j < dim; ++j) {
      queries.data<float>()[q * dim + j] = m.data<float>()[row * dim + j];
    }
    exclude.push_back({row, (row + rows / 2) % rows});
  }
  for (const bool mapped : {false, true}) {
    embedkit::set_num_threads(1);
    const KeyedVectors one(words(rows), mapped ? m.as_read_only() : m);
    const auto want = one.most_similar_batch(queries, 50, exclude);
    const auto want_restricted = one.most_similar_batch(queries, 5, exclude, 30001);
    // The copies of row 3 (excluded: 3 itself) come first, in row order.
    EXPECT_EQ(want[0][0].index, 997);
    EXPECT_EQ(want[0][1].index, 2 * 997);
    for (const int threads : kThreadCounts) {
      embedkit::set_num_threads(threads);
      // A fresh table too, whose norms the chunks compute (mapped: lazily, by the scan).
      const KeyedVectors fresh(words(rows), mapped ? m.as_read_only() : m);
      for (const KeyedVectors* kv : {&one, &fresh}) {
        const auto got = kv->most_similar_batch(queries, 50, exclude);
        const auto got_restricted = kv->most_similar_batch(queries, 5, exclude, 30001);
        ASSERT_EQ(got.size(), want.size());
        for (std::size_t q = 0; q < got.size(); ++q) {
          expect_same(got[q], want[q], threads);
          expect_same(got_restricted[q], want_restricted[q], threads);
        }
      }
    }
  }
}

TEST_F(KeyedVectorsThreads, CosMulAnalogyAndAllWordsAnswerAsOneThread) {
  // 3CosMul: 3 x 128 products a row, 45,000 rows = 17M: 2 chunks.
  const std::int64_t rows = 45000;
  const Tensor m = matrix(rows, 128);
  embedkit::set_num_threads(1);
  const KeyedVectors one(words(rows), m.as_read_only());
  const auto want = one.analogy("w1", "w20000", "w44000", AnalogyMethod::Mul, 30);
  const auto want_add = one.analogy("w1", "w20000", "w44000", AnalogyMethod::Add, 30);
  // topn above the vocabulary: every word but the three, in order.
  const auto want_all = one.analogy("w1", "w2", "w3", AnalogyMethod::Mul, rows + 5);
  ASSERT_EQ(static_cast<std::int64_t>(want_all.size()), rows - 3);
  for (const int threads : KeyedVectorsThreads::kThreadCounts) {
    embedkit::set_num_threads(threads);
    const KeyedVectors fresh(words(rows), m.as_read_only());
    expect_same(fresh.analogy("w1", "w20000", "w44000", AnalogyMethod::Mul, 30), want, threads);
    expect_same(fresh.analogy("w1", "w20000", "w44000", AnalogyMethod::Add, 30), want_add, threads);
    expect_same(one.analogy("w1", "w2", "w3", AnalogyMethod::Mul, rows + 5), want_all, threads);
  }
}

TEST_F(KeyedVectorsThreads, NonFiniteErrorIsTheFirstInRowOrderAtEveryThreadCount) {
  // Bad rows in the second half and near the end: the chunk that reaches its bad row first
  // in time is not the one a scan in row order meets first.
  const std::int64_t rows = 40000;
  const std::int64_t dim = 64;
  Tensor m = matrix(rows, dim);
  m.data<float>()[39990 * dim + 5] = std::numeric_limits<float>::infinity();
  m.data<float>()[21000 * dim + 9] = std::numeric_limits<float>::quiet_NaN();
  Tensor queries = Tensor::empty({16, dim}, embedkit::DType::Float32);
  for (std::int64_t i = 0; i < queries.numel(); ++i) queries.data<float>()[i] = 1.0f;
  for (const int threads : KeyedVectorsThreads::kThreadCounts) {
    embedkit::set_num_threads(threads);
    const KeyedVectors kv(words(rows), m.as_read_only());
    for (int attempt = 0; attempt < 2; ++attempt) {  // the error stays: no block marked done
      try {
        (void)kv.most_similar_batch(queries, 10);
        ADD_FAILURE() << "no error at " << threads << " threads";
      } catch (const ValueError& e) {
        EXPECT_NE(std::string(e.what()).find("the vector of 'w21000' holds a non-finite value "
                                             "at column 9"),
                  std::string::npos)
            << e.what() << " (" << threads << " threads)";
      }
    }
    // Restricted to the rows before the first bad one: answers, no error.
    EXPECT_EQ(kv.most_similar_batch(queries, 3, {}, 20992).size(), 16u);
  }
}

}  // namespace
