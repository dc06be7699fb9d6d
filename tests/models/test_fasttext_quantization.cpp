// fastText's quantize (models/fasttext_quantization.hpp): the product quantizer's encoding and
// decoding (exact on few distinct sub-vectors, bounded error on known data), the rows `cutoff`
// keeps, predictions of the quantized model, determinism, and the inputs it refuses.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/thread_pool.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/fasttext_quantization.hpp"

namespace embedkit::models {
namespace {

Tensor from_rows(const std::vector<std::vector<float>>& rows) {
  Tensor t = Tensor::empty(
      {static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(rows[0].size())});
  float* out = t.data<float>();
  for (const auto& r : rows) out = std::copy(r.begin(), r.end(), out);
  return t;
}

Tensor normal_matrix(std::int64_t rows, std::int64_t cols, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  Tensor t = Tensor::empty({rows, cols});
  for (std::int64_t i = 0; i < rows * cols; ++i) t.data<float>()[i] = normal(rng);
  return t;
}

TEST(ProductQuantization, ExactOnAtMost256DistinctSubVectors) {
  // 3000 rows of dim 5 made of 200 distinct rows (so at most 200 distinct sub-vectors a column),
  // dsub 2: sub-vectors of 2, 2 and 1.
  const Tensor base = normal_matrix(200, 5, 1);
  std::mt19937 rng(2);
  std::vector<std::vector<float>> rows;
  for (int i = 0; i < 3000; ++i) {
    const std::int64_t r = static_cast<std::int64_t>(rng() % 200);
    rows.emplace_back(base.data<float>() + r * 5, base.data<float>() + r * 5 + 5);
  }
  const Tensor m = from_rows(rows);
  const io::FastTextQuantizedMatrix q = product_quantize(m, 2, false, {});
  EXPECT_EQ(q.pq.nsubq, 3);
  EXPECT_EQ(q.pq.lastdsub, 1);
  EXPECT_EQ(q.decode().to_float_vector(), m.to_float_vector());
  // Fewer rows than centroids (fastText refuses those): exact too.
  const Tensor small = normal_matrix(3, 4, 3);
  EXPECT_EQ(product_quantize(small, 2, false, {}).decode().to_float_vector(),
            small.to_float_vector());
  EXPECT_EQ(product_quantize(small, 4, false, {}).decode().to_float_vector(),
            small.to_float_vector());
}

TEST(ProductQuantization, ErrorIsBoundedOnKnownData) {
  // dsub 1 on 20000 values uniform in [0, 1): 256 centroids on a line, so each value is within
  // about half a cell (1/512 for equal cells) of its centroid. Lloyd's iterations from a random
  // start leave cells a few times wider than that, not more.
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  Tensor m = Tensor::empty({20000, 2});
  for (std::int64_t i = 0; i < m.numel(); ++i) m.data<float>()[i] = uniform(rng);
  const auto decoded = product_quantize(m, 1, false, {}).decode().to_float_vector();
  double max_error = 0, sum = 0;
  for (std::int64_t i = 0; i < m.numel(); ++i) {
    const double e = std::fabs(decoded[static_cast<std::size_t>(i)] - m.data<float>()[i]);
    max_error = std::max(max_error, e);
    sum += e;
  }
  const double mean_error = sum / static_cast<double>(m.numel());
  std::printf("uniform [0, 1), dsub 1: max error %.5f, mean %.6f\n", max_error, mean_error);
  EXPECT_LT(max_error, 8.0 / 512);
  EXPECT_LT(mean_error, 2.0 / 1024);  // uniform cells of 1/256 give 1/1024
  // Rows on 256 well separated points of the plane plus noise of at most 0.01: every value is
  // decoded within 0.01 + the spread of its cluster's mean, or the k-means missed a cluster.
  std::vector<std::vector<float>> rows;
  std::uniform_real_distribution<float> noise(-0.01f, 0.01f);
  for (int i = 0; i < 20000; ++i) {
    const int c = i % 256;
    rows.push_back(
        {static_cast<float>(c % 16) + noise(rng), static_cast<float>(c / 16) + noise(rng)});
  }
  const Tensor clustered = from_rows(rows);
  const auto back = product_quantize(clustered, 2, false, {}).decode().to_float_vector();
  std::int64_t far = 0;
  for (std::int64_t i = 0; i < clustered.numel(); ++i) {
    if (std::fabs(back[static_cast<std::size_t>(i)] - clustered.data<float>()[i]) > 0.02) ++far;
  }
  // Lloyd's iterations may still merge a few clusters (and split others); from fastText's uniform
  // start about 14% of these values ended far, from the k-means++ start few do.
  std::printf("256 clusters: %lld of %lld values decoded more than 0.02 away\n",
              static_cast<long long>(far), static_cast<long long>(clustered.numel()));
  EXPECT_LT(far, clustered.numel() / 50);
}

TEST(ProductQuantization, NormsAreQuantizedApart) {
  // Rows of 4 directions times norms of 1, 2 ... 100: the directions (4 distinct sub-vectors a
  // column) are exact, the norms (100 distinct) too.
  std::vector<std::vector<float>> rows;
  const std::vector<std::vector<float>> dirs = {
      {0.6f, 0.8f, 0, 0}, {0, 0, 1, 0}, {0.5f, 0.5f, 0.5f, 0.5f}, {1, 0, 0, 0}};
  for (int i = 0; i < 400; ++i) {
    std::vector<float> r = dirs[static_cast<std::size_t>(i % 4)];
    for (float& x : r) x *= static_cast<float>(i / 4 + 1);
    rows.push_back(r);
  }
  const Tensor m = from_rows(rows);
  const io::FastTextQuantizedMatrix q = product_quantize(m, 2, true, {});
  ASSERT_TRUE(q.qnorm);
  const auto back = q.decode().to_float_vector();
  for (std::int64_t i = 0; i < m.numel(); ++i) {
    EXPECT_NEAR(back[static_cast<std::size_t>(i)], m.data<float>()[i], 1e-4f * 100) << i;
  }
  for (std::int64_t r = 0; r < 400; ++r)
    EXPECT_NEAR(q.norm(r), static_cast<float>(r / 4 + 1), 1e-4);
}

TEST(ProductQuantization, SameSeedSameCodesOnAnyThreadCount) {
  const Tensor m = normal_matrix(5000, 12, 7);
  set_num_threads(1);
  const io::FastTextQuantizedMatrix a = product_quantize(m, 3, true, {});
  set_num_threads(3);
  const io::FastTextQuantizedMatrix b = product_quantize(m, 3, true, {});
  FastTextQuantizeOptions other;
  other.seed = 99;
  const io::FastTextQuantizedMatrix c = product_quantize(m, 3, true, other);
  set_num_threads(1);
  EXPECT_EQ(a.codes, b.codes);
  EXPECT_EQ(a.pq.centroids, b.pq.centroids);
  EXPECT_EQ(a.norm_codes, b.norm_codes);
  EXPECT_NE(a.pq.centroids, c.pq.centroids);
}

TEST(ProductQuantization, RefusesBadMatrices) {
  const Tensor m = normal_matrix(10, 4, 8);
  EXPECT_THROW(product_quantize(m, 0, false, {}), ValueError);
  EXPECT_THROW(product_quantize(m, 5, false, {}), ValueError);
  Tensor bad = m.clone();
  bad.data<float>()[7] = std::nanf("");
  EXPECT_THROW(product_quantize(bad, 2, false, {}), ValueError);
}

// Supervised, dim 2, words "</s>", "good", "bad", "meh"; bigrams into 4 buckets; row norms set
// so that the order is known: rows 0..7 = words then buckets.
io::FastTextModelFile small_model() {
  io::FastTextModelFile f;
  f.args.dim = 2;
  f.args.model = io::FastTextModelType::Supervised;
  f.args.loss = io::FastTextLoss::Softmax;
  f.args.word_ngrams = 2;
  f.args.bucket = 4;
  f.args.minn = 0;
  f.args.maxn = 0;
  f.dictionary.words = {{"</s>", 9}, {"good", 5}, {"bad", 4}, {"meh", 1}};
  f.dictionary.labels = {{"__label__pos", 5}, {"__label__neg", 4}};
  f.dictionary.tokens = 20;
  //                      </s>    good    bad     meh      b0      b1      b2     b3
  f.input = from_rows({{0, 0.1f}, {3, 0}, {0, -4}, {0.2f, 0}, {0, 1}, {-5, 0}, {0, 0}, {2, 2}});
  f.output = from_rows({{1, 0}, {0, 1}});
  return f;
}

TEST(FastTextQuantize, CutoffKeepsTheRowsOfLargestNormEndOfLineFirst) {
  const FastTextPruning p = select_fasttext_rows(small_model(), 5);
  // By norm: </s> first, then b1 (5), bad (4), good (3), b3 (2.83); words in dictionary order,
  // then buckets in norm order.
  EXPECT_EQ(p.rows, (std::vector<std::int64_t>{0, 1, 2, 5, 7}));
  ASSERT_EQ(p.dictionary.words.size(), 3u);
  EXPECT_EQ(p.dictionary.words[1].text, "good");
  EXPECT_EQ(p.dictionary.words[2].text, "bad");
  EXPECT_EQ(p.dictionary.labels.size(), 2u);
  EXPECT_EQ(p.dictionary.prune_index_size, 2);
  EXPECT_EQ(p.dictionary.prune_index,
            (std::vector<std::pair<std::int32_t, std::int32_t>>{{1, 0}, {3, 1}}));
  // Only words kept: no buckets at all (prune_index_size 0, as fastText writes it).
  const FastTextPruning words_only = select_fasttext_rows(small_model(), 1);
  EXPECT_EQ(words_only.rows, std::vector<std::int64_t>{0});
  EXPECT_EQ(words_only.dictionary.prune_index_size, 0);
}

TEST(FastTextQuantize, QuantizedModelPredictsAsTheDenseOneWhereCodesAreExact) {
  // 8 input rows and 2 output rows: fewer than 256, so the codes are exact and the predictions
  // (probabilities included) are the dense model's, with every row kept.
  const io::FastTextModelFile dense = small_model();
  FastTextQuantizeOptions o;
  o.dsub = 1;
  o.qout = true;
  o.cutoff = 8;
  const io::FastTextModelFile q = quantize_fasttext_model(dense, o);
  EXPECT_TRUE(q.quantized_input);
  EXPECT_TRUE(q.quantized_output);
  EXPECT_EQ(q.dictionary.prune_index_size, 4);
  const FastTextModel a(dense), b(q);
  for (const std::vector<std::string>& line : std::vector<std::vector<std::string>>{
           {"good"}, {"bad", "meh"}, {"good", "bad", "good"}, {"x"}}) {
    const auto pa = a.predict(line, 2);
    const auto pb = b.predict(line, 2);
    ASSERT_EQ(pa.size(), pb.size());
    for (std::size_t i = 0; i < pa.size(); ++i) {
      EXPECT_EQ(pa[i].label, pb[i].label);
      EXPECT_EQ(pa[i].probability, pb[i].probability);
    }
  }
  // A cutoff that drops rows: the rows left still predict, and the file round-trips.
  o.cutoff = 3;
  const io::FastTextModelFile pruned = quantize_fasttext_model(dense, o);
  EXPECT_EQ(pruned.input_rows(), 3);
  const std::string bytes = io::serialize_fasttext_model(pruned);
  const FastTextModel c(io::parse_fasttext_model(
      std::vector<std::uint8_t>(bytes.begin(), bytes.end()), "pruned.ftz"));
  EXPECT_EQ(c.predict({"bad"}, 1).at(0).text, FastTextModel(pruned).predict({"bad"}, 1).at(0).text);
}

TEST(FastTextQuantize, RefusesWhatItCannotQuantize) {
  const io::FastTextModelFile dense = small_model();
  auto message = [&](const io::FastTextModelFile& m, FastTextQuantizeOptions o) {
    try {
      (void)quantize_fasttext_model(m, o);
    } catch (const ValueError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  FastTextQuantizeOptions o;
  o.dsub = 3;
  EXPECT_NE(message(dense, o).find("dsub must be in [1, dim] = [1, 2], got 3"), std::string::npos);
  o = {};
  o.cutoff = 9;
  EXPECT_NE(message(dense, o).find("cutoff must be in [1, 8]"), std::string::npos);
  o.cutoff = -1;
  EXPECT_NE(message(dense, o).find("cutoff must be >= 0"), std::string::npos);
  o = {};
  const io::FastTextModelFile q = quantize_fasttext_model(dense, o);
  EXPECT_NE(message(q, o).find("already quantized"), std::string::npos);
  io::FastTextModelFile vectors = dense;
  vectors.args.model = io::FastTextModelType::SkipGram;
  vectors.args.word_ngrams = 1;
  vectors.args.bucket = 0;
  vectors.dictionary.labels.clear();
  vectors.input = from_rows({{0, 1}, {1, 0}, {2, 2}, {3, 1}});
  vectors.output = vectors.input.clone();
  o.cutoff = 2;
  EXPECT_NE(message(vectors, o).find("cutoff needs a supervised model"), std::string::npos);
  // Word vectors without cutoff are quantized (fastText refuses them).
  o.cutoff = 0;
  EXPECT_EQ(quantize_fasttext_model(vectors, o).input_codes.decode().to_float_vector(),
            vectors.input.to_float_vector());
}

}  // namespace
}  // namespace embedkit::models
