// KeyedVectors over a read-only matrix (as mapped from its file): no unit-norm copy, the norms and
// the finiteness check done by the first scan that reaches each block of rows, and answers equal,
// bit for bit, to those over the same matrix in memory.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/vectors/keyed_vectors.hpp"
#include "kernels/cpu/isa.hpp"
#include "kernels/ref/dot_ref.hpp"
#include "kernels/ref/row_norms_ref.hpp"

namespace {

using embedkit::Tensor;
using embedkit::ValueError;
using embedkit::kernels::cpu::Isa;
using embedkit::vectors::AnalogyMethod;
using embedkit::vectors::KeyedVectors;
using embedkit::vectors::Neighbor;

// "w<i>" (not "w" + ...: GCC 12's false -Wrestrict, bug 105329).
std::string word(std::size_t i) {
  std::string w = "w";
  w += std::to_string(i);
  return w;
}

std::vector<std::string> words(std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(word(i));
  return out;
}

// 1000 rows (several norm blocks and a partial last one) of dimension 13, row 7 all zero.
Tensor matrix() {
  embedkit::Generator gen(42);
  Tensor m = Tensor::empty({1000, 13}, embedkit::DType::Float32);
  for (std::int64_t i = 0; i < m.numel(); ++i) {
    m.data<float>()[i] = static_cast<float>(gen.normal());
  }
  for (std::int64_t j = 0; j < 13; ++j) m.data<float>()[7 * 13 + j] = 0.0f;
  return m;
}

void expect_same(const std::vector<Neighbor>& a, const std::vector<Neighbor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].index, b[i].index);
    EXPECT_EQ(a[i].score, b[i].score);
  }
}

TEST(KeyedVectorsLazyNorms, ReadOnlyMatrixAnswersAsAnInMemoryOne) {
  const Tensor m = matrix();
  const KeyedVectors owned(words(1000), m);
  const KeyedVectors mapped(words(1000), m.as_read_only());
  EXPECT_EQ(mapped.matrix().raw_data(), m.raw_data());  // shared, not copied
  for (const std::string w : {"w0", "w7", "w999", "w500"}) {
    expect_same(mapped.most_similar(w, 20), owned.most_similar(w, 20));
    expect_same(mapped.most_similar(w, 5, 300), owned.most_similar(w, 5, 300));
  }
  expect_same(mapped.analogy("w1", "w2", "w3"), owned.analogy("w1", "w2", "w3"));
  expect_same(mapped.analogy("w1", "w2", "w3", AnalogyMethod::Mul),
              owned.analogy("w1", "w2", "w3", AnalogyMethod::Mul));
  EXPECT_EQ(mapped.similarity("w4", "w9"), owned.similarity("w4", "w9"));
  EXPECT_EQ(mapped.similarity("w4", "w9"), mapped.similarity("w9", "w4"));
  // The all-zero row scores 0 against everything, and its unit row stays zero.
  EXPECT_EQ(mapped.similarity("w7", "w1"), 0.0f);
  for (const float x : mapped.unit_vector("w7")) EXPECT_EQ(x, 0.0f);
  // unit_matrix() (made on first use) holds what unit_row gives, rows of length 1.
  const float* u = mapped.unit_matrix().data<float>();
  std::vector<float> row(13);
  mapped.unit_row(123, row.data());
  double sq = 0.0;
  for (std::int64_t j = 0; j < 13; ++j) {
    EXPECT_EQ(u[123 * 13 + j], row[static_cast<std::size_t>(j)]);
    sq += static_cast<double>(row[static_cast<std::size_t>(j)]) * row[static_cast<std::size_t>(j)];
  }
  EXPECT_NEAR(sq, 1.0, 1e-6);
}

TEST(KeyedVectorsLazyNorms, ConcurrentFirstQueriesAgree) {
  const Tensor m = matrix();
  const KeyedVectors owned(words(1000), m);
  const KeyedVectors mapped(words(1000), m.as_read_only());
  std::vector<std::vector<Neighbor>> got(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&, t] { got[t] = mapped.most_similar(word(t), 10); });
  }
  for (std::thread& t : threads) t.join();
  for (std::size_t t = 0; t < got.size(); ++t) {
    expect_same(got[t], owned.most_similar(word(t), 10));
  }
}

TEST(KeyedVectorsLazyNorms, NonFiniteValueIsAnErrorOfTheQueriesThatReachIt) {
  Tensor m = matrix();
  m.data<float>()[900 * 13 + 4] = std::numeric_limits<float>::quiet_NaN();
  // In memory: the constructor checks, as before.
  EXPECT_THROW(KeyedVectors(words(1000), m), ValueError);
  // Read-only (mapped): the constructor does not read the values; a query that reaches row 900
  // fails, naming the word, every time; a search restricted to rows before its block does not.
  const KeyedVectors kv(words(1000), m.as_read_only());
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      (void)kv.most_similar("w1", 10);
      ADD_FAILURE() << "no error for the NaN of w900";
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("the vector of 'w900' holds a non-finite value at "
                                           "column 4"),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(kv.most_similar("w1", 10, 512).size(), 10u);
  EXPECT_THROW((void)kv.similarity("w1", "w900"), ValueError);
  EXPECT_THROW((void)kv.unit_matrix(), ValueError);
}

// Every score is the documented formula, bit for bit, under each instruction set the CPU has:
// the query scaled by 1 / its norm (summed in double), its eight-lane dot product with the row
// (ref::dot_eight_lanes), times the row's inverse norm, 1 / sqrt of its squares summed in double
// in ascending column order (ref::squared_row_norms). The first scan of a read-only matrix
// computes the norms on the way; a second query reuses them.
TEST(KeyedVectorsLazyNorms, ScoresAreTheDocumentedFormulaBitForBit) {
  const std::int64_t rows = 1000;
  for (const std::int64_t dim : {13, 256}) {
    embedkit::Generator gen(static_cast<std::uint64_t>(dim));
    Tensor m = Tensor::empty({rows, dim}, embedkit::DType::Float32);
    float* x = m.data<float>();
    for (std::int64_t i = 0; i < m.numel(); ++i) x[i] = static_cast<float>(gen.normal());
    std::vector<float> query(static_cast<std::size_t>(dim));
    for (float& v : query) v = static_cast<float>(gen.normal());
    double qsq = 0.0;
    for (const float v : query) qsq += static_cast<double>(v) * v;
    std::vector<float> unit(query.size());
    for (std::size_t j = 0; j < query.size(); ++j) {
      unit[j] = static_cast<float>(query[j] / std::sqrt(qsq));
    }
    std::vector<double> sq(static_cast<std::size_t>(rows));
    embedkit::kernels::ref::squared_row_norms(x, rows, dim, sq.data());
    for (const Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
      if (!embedkit::kernels::cpu::isa_supported(isa)) continue;
      embedkit::kernels::cpu::set_isa_override(isa);
      const KeyedVectors kv(words(static_cast<std::size_t>(rows)), m.as_read_only());
      for (int pass = 0; pass < 2; ++pass) {  // computing the norms, then reusing them
        const std::vector<Neighbor> all = kv.most_similar(query, rows);
        ASSERT_EQ(all.size(), static_cast<std::size_t>(rows));
        for (const Neighbor& n : all) {
          const auto r = static_cast<std::size_t>(n.index);
          const float inverse = static_cast<float>(1.0 / std::sqrt(sq[r]));
          const float expected =
              embedkit::kernels::ref::dot_eight_lanes(unit.data(), x + n.index * dim, dim) *
              inverse;
          ASSERT_EQ(std::bit_cast<std::uint32_t>(n.score), std::bit_cast<std::uint32_t>(expected))
              << "dim " << dim << " row " << n.index << " isa "
              << embedkit::kernels::cpu::isa_name(isa) << " pass " << pass;
        }
      }
      embedkit::kernels::cpu::set_isa_override(std::nullopt);
    }
  }
}

// The values are checked through each row's squared norm (a sum is finite exactly when the
// row is): the error still names the first row of the block holding a non-finite value, and
// that row's first non-finite column, wherever they sit in the norms' groups of sixteen rows and
// steps of four columns, as a check of value after value would.
TEST(KeyedVectorsLazyNorms, NonFiniteErrorNamesTheFirstRowAndColumn) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  struct Bad {
    std::int64_t row, column;
    float value;
  };
  // Row 998 and 999 lie in the last, partial block's last, partial group of sixteen.
  const std::vector<std::vector<Bad>> cases = {
      {{897, 12, inf}, {900, 0, nan}},                  // the earlier row, its last column
      {{903, 5, -inf}, {903, 11, nan}, {910, 1, inf}},  // the earlier column of the first row
      {{999, 9, nan}},
      {{998, 3, inf}, {998, 2, -inf}}};
  for (const auto& bad : cases) {
    Tensor m = matrix();
    for (const Bad& b : bad) m.data<float>()[b.row * 13 + b.column] = b.value;
    std::int64_t row = bad[0].row;
    std::int64_t column = 13;
    for (const Bad& b : bad) {
      if (b.row == row) column = std::min(column, b.column);
    }
    const std::string expected = "the vector of '" + word(static_cast<std::size_t>(row)) +
                                 "' holds a non-finite value at column " + std::to_string(column);
    for (const bool mapped : {false, true}) {
      try {
        const KeyedVectors kv(words(1000), mapped ? m.as_read_only() : m);
        (void)kv.most_similar("w1", 10);
        ADD_FAILURE() << "no error for " << expected;
      } catch (const ValueError& e) {
        EXPECT_NE(std::string(e.what()).find(expected), std::string::npos)
            << e.what() << " (expected: " << expected << ")";
      }
    }
  }
}

}  // namespace

namespace {

embedkit::KeyIndex index_of(std::size_t n) {
  embedkit::KeyIndex index;
  for (const std::string& w : words(n)) index.add(w);
  return index;
}

// The inverse norms as the first scan computes them (its documented formula, from the ref sums).
std::vector<float> known_norms(const Tensor& m) {
  std::vector<double> sums(static_cast<std::size_t>(m.size(0)));
  embedkit::kernels::ref::squared_row_norms(m.data<float>(), m.size(0), m.size(1), sums.data());
  std::vector<float> inverse;
  for (const double s : sums)
    inverse.push_back(s > 0.0 ? static_cast<float>(1.0 / std::sqrt(s)) : 0.0f);
  return inverse;
}

}  // namespace

// Norms known ahead (the word index stored beside a mapped pair keeps them) give the answers of
// norms computed by the first scan, bit for bit.
TEST(KeyedVectorsLazyNorms, KnownNormsAnswerAsComputedOnes) {
  const Tensor m = matrix().as_read_only();
  const KeyedVectors lazy(index_of(1000), m);
  const KeyedVectors known(index_of(1000), m, known_norms(m));
  const KeyedVectors none(index_of(1000), m, {});
  for (const std::string w : {"w0", "w7", "w999", "w500"}) {
    expect_same(known.most_similar(w, 20), lazy.most_similar(w, 20));
    expect_same(none.most_similar(w, 20), lazy.most_similar(w, 20));
    expect_same(known.most_similar(w, 5, 300), lazy.most_similar(w, 5, 300));
  }
  expect_same(known.analogy("w1", "w2", "w3"), lazy.analogy("w1", "w2", "w3"));
  expect_same(known.analogy("w1", "w2", "w3", AnalogyMethod::Mul),
              lazy.analogy("w1", "w2", "w3", AnalogyMethod::Mul));
  EXPECT_EQ(known.similarity("w4", "w9"), lazy.similarity("w4", "w9"));
  std::vector<float> a(13), b(13);
  for (const std::int64_t r : {0, 7, 255, 256, 999}) {
    known.unit_row(r, a.data());
    lazy.unit_row(r, b.data());
    for (std::size_t j = 0; j < a.size(); ++j) {
      EXPECT_EQ(std::bit_cast<std::uint32_t>(a[j]), std::bit_cast<std::uint32_t>(b[j]));
    }
  }
}

// KeyedVectors::inverse_norms, what a store of the norms computes them with, is the formula.
TEST(KeyedVectorsLazyNorms, InverseNormsAreTheQueriesNorms) {
  Tensor m = matrix();
  const std::vector<float> want = known_norms(m);
  std::vector<float> got(want.size());
  ASSERT_TRUE(KeyedVectors::inverse_norms(m.data<float>(), m.size(0), m.size(1), got.data()));
  for (std::size_t r = 0; r < want.size(); ++r) {
    EXPECT_EQ(std::bit_cast<std::uint32_t>(got[r]), std::bit_cast<std::uint32_t>(want[r])) << r;
  }
  m.data<float>()[700 * 13 + 4] = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(KeyedVectors::inverse_norms(m.data<float>(), m.size(0), m.size(1), got.data()));
}

TEST(KeyedVectorsLazyNorms, KnownNormsAreChecked) {
  const Tensor m = matrix();
  const std::vector<float> good = known_norms(m);
  const auto message = [&](const Tensor& t, std::vector<float> norms) {
    try {
      const KeyedVectors kv(index_of(1000), t, std::move(norms));
    } catch (const ValueError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message(m.as_read_only(), good), "accepted");
  EXPECT_NE(message(m, good).find("only with a read-only matrix"), std::string::npos);
  std::vector<float> bad(good.begin(), good.end() - 1);
  EXPECT_NE(message(m.as_read_only(), bad).find("999 known norms for 1000 rows"),
            std::string::npos);
  for (const float x :
       {-1.0f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    bad = good;
    bad[500] = x;
    EXPECT_NE(message(m.as_read_only(), bad).find("inverse norm of row 500"), std::string::npos)
        << x;
  }
}
