// HnswIndex against the exact search (the oracle) on generated clustered vectors with fixed
// seeds: recall, exact scores for what it finds, exclusions, save/load, and every bad input
// (truncated, corrupt, foreign index; k larger than the vocabulary) refused with nothing written.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/vectors/hnsw_index.hpp"
#include "embedkit/vectors/keyed_vectors.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

using embedkit::Generator;
using embedkit::IoError;
using embedkit::Tensor;
using embedkit::ValueError;
using embedkit::vectors::HnswIndex;
using embedkit::vectors::HnswOptions;
using embedkit::vectors::KeyedVectors;
using embedkit::vectors::Neighbor;
using embedkit_test::read_file;
using embedkit_test::TempDir;
using embedkit_test::write_file;

// `rows` words around `clusters` random centres (a Gaussian mixture, spread 0.6 around centres of
// spread 1): the neighbours of a word are mostly in its cluster, but not trivially so.
KeyedVectors clustered(std::int64_t rows, std::int64_t dim, std::int64_t clusters,
                       std::uint64_t seed) {
  Generator gen(seed);
  std::vector<float> centres(static_cast<std::size_t>(clusters * dim));
  for (float& c : centres) c = static_cast<float>(gen.normal());
  Tensor m = Tensor::empty({rows, dim}, embedkit::DType::Float32);
  float* d = m.data<float>();
  std::vector<std::string> words;
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t c = static_cast<std::int64_t>(gen.next_u64() % clusters);
    for (std::int64_t j = 0; j < dim; ++j) {
      d[r * dim + j] =
          centres[static_cast<std::size_t>(c * dim + j)] + 0.6f * static_cast<float>(gen.normal());
    }
    std::string word = "w";  // (not "w" + ...: GCC 12's false -Wrestrict, bug 105329)
    word += std::to_string(r);
    words.push_back(std::move(word));
  }
  return KeyedVectors(std::move(words), std::move(m));
}

HnswOptions one_thread() {
  HnswOptions o;
  o.threads = 1;  // the same graph every run
  return o;
}

std::set<std::int64_t> rows_of(const std::vector<Neighbor>& top) {
  std::set<std::int64_t> out;
  for (const Neighbor& n : top) out.insert(n.index);
  return out;
}

// recall@k of `ann` against `exact` over the first `queries` words.
double recall(const KeyedVectors& exact, const KeyedVectors& ann, std::int64_t queries,
              std::int64_t k) {
  std::int64_t found = 0;
  for (std::int64_t q = 0; q < queries; ++q) {
    const std::string& w = exact.words()[static_cast<std::size_t>(q)];
    const auto truth = rows_of(exact.most_similar(w, k));
    for (const Neighbor& n : ann.most_similar(w, k)) found += truth.count(n.index);
  }
  return static_cast<double>(found) / static_cast<double>(queries * k);
}

TEST(HnswIndex, RecallAgainstExactSearchOnClusteredVectors) {
  const KeyedVectors exact = clustered(3000, 32, 30, 7);
  KeyedVectors ann = exact;
  ann.use_index(std::make_shared<const HnswIndex>(HnswIndex::build(exact, one_thread())));
  ASSERT_NE(ann.index(), nullptr);
  const double r = recall(exact, ann, 300, 10);
  EXPECT_GE(r, 0.95) << "recall@10 " << r;
  // A word the index finds has the exact search's score, bit for bit; answers are ranked.
  for (std::int64_t q = 0; q < 50; ++q) {
    const std::string& w = exact.words()[static_cast<std::size_t>(q)];
    const auto truth = exact.most_similar(w, 3000);
    const auto got = ann.most_similar(w, 10);
    ASSERT_EQ(got.size(), 10u);
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_NE(got[i].word, w);
      EXPECT_EQ(got[i].word, exact.words()[static_cast<std::size_t>(got[i].index)]);
      const auto same = std::find_if(truth.begin(), truth.end(),
                                     [&](const Neighbor& n) { return n.index == got[i].index; });
      ASSERT_NE(same, truth.end());
      EXPECT_EQ(got[i].score, same->score);
      if (i > 0) {
        EXPECT_GE(got[i - 1].score, got[i].score);
      }
    }
  }
}

TEST(HnswIndex, LowEfSearchFindsLessThanHighEf) {
  const KeyedVectors exact = clustered(3000, 32, 30, 11);
  KeyedVectors low = exact, high = exact;
  HnswOptions o = one_thread();
  o.m = 4;
  o.ef_construction = 10;
  o.ef_search = 1;
  low.use_index(std::make_shared<const HnswIndex>(HnswIndex::build(exact, o)));
  o.ef_search = 400;
  high.use_index(std::make_shared<const HnswIndex>(HnswIndex::build(exact, o)));
  EXPECT_LT(recall(exact, low, 200, 10), recall(exact, high, 200, 10));
}

TEST(HnswIndex, OneThreadBuildsTheSameGraphEveryTime) {
  const KeyedVectors kv = clustered(1500, 16, 10, 3);
  KeyedVectors a = kv, b = kv;
  a.use_index(std::make_shared<const HnswIndex>(HnswIndex::build(kv, one_thread())));
  b.use_index(std::make_shared<const HnswIndex>(HnswIndex::build(kv, one_thread())));
  for (std::int64_t q = 0; q < 100; ++q) {
    const std::string& w = kv.words()[static_cast<std::size_t>(q)];
    EXPECT_EQ(rows_of(a.most_similar(w, 10)), rows_of(b.most_similar(w, 10))) << w;
  }
}

TEST(HnswIndex, SavedAndLoadedIndexAnswersAsBuilt) {
  const TempDir dir;
  const KeyedVectors kv = clustered(1500, 16, 10, 5);
  const HnswIndex built = HnswIndex::build(kv, one_thread());
  built.save(dir / "v.npy.hnsw");
  EXPECT_EQ(dir.names(), std::vector<std::string>{"v.npy.hnsw"});
  const HnswIndex loaded = HnswIndex::load(dir / "v.npy.hnsw", kv);
  EXPECT_EQ(loaded.size(), 1500);
  EXPECT_EQ(loaded.dim(), 16);
  EXPECT_EQ(loaded.graph_bytes(), built.graph_bytes());
  EXPECT_TRUE(loaded.matches(kv));
  KeyedVectors a = kv, b = kv;
  a.use_index(std::make_shared<const HnswIndex>(built));
  b.use_index(std::make_shared<const HnswIndex>(loaded));
  for (std::int64_t q = 0; q < 100; ++q) {
    const std::string& w = kv.words()[static_cast<std::size_t>(q)];
    const auto x = a.most_similar(w, 10), y = b.most_similar(w, 10);
    ASSERT_EQ(x.size(), y.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(x[i].index, y[i].index);
      EXPECT_EQ(x[i].score, y[i].score);
    }
  }
}

TEST(HnswIndex, OpenOrBuildBuildsOnceThenLoads) {
  const TempDir dir;
  const KeyedVectors kv = clustered(800, 8, 8, 9);
  const auto path = HnswIndex::path_for(dir / "v.npy");
  EXPECT_EQ(path, dir / "v.npy.hnsw");
  bool built = false;
  (void)HnswIndex::open_or_build(path, kv, one_thread(), &built);
  EXPECT_TRUE(built);
  const std::string bytes = read_file(path);
  (void)HnswIndex::open_or_build(path, kv, one_thread(), &built);
  EXPECT_FALSE(built);
  EXPECT_EQ(read_file(path), bytes);
  EXPECT_EQ(dir.names(), std::vector<std::string>{"v.npy.hnsw"});
}

TEST(HnswIndex, ExclusionsRestrictionAndCosMulStayCorrect) {
  const KeyedVectors exact = clustered(2000, 16, 20, 13);
  KeyedVectors ann = exact;
  ann.use_index(std::make_shared<const HnswIndex>(HnswIndex::build(exact, one_thread())));
  // 3CosAdd analogies go through the index and never answer their own words.
  for (std::int64_t q = 0; q + 2 < 60; q += 3) {
    const auto& w = exact.words();
    const auto top = ann.analogy(w[q], w[q + 1], w[q + 2], embedkit::vectors::AnalogyMethod::Add);
    ASSERT_EQ(top.size(), 10u);
    for (const Neighbor& n : top) EXPECT_TRUE(n.index < q || n.index > q + 2) << n.word;
  }
  // A search restricted to the first N words, and 3CosMul, are exact.
  for (std::int64_t q = 0; q < 20; ++q) {
    const std::string& w = exact.words()[static_cast<std::size_t>(q)];
    const auto x = exact.most_similar(w, 10, 500), y = ann.most_similar(w, 10, 500);
    ASSERT_EQ(x.size(), y.size());
    for (std::size_t i = 0; i < x.size(); ++i) EXPECT_EQ(x[i].index, y[i].index);
  }
  const auto& w = exact.words();
  const auto x = exact.analogy(w[0], w[1], w[2], embedkit::vectors::AnalogyMethod::Mul);
  const auto y = ann.analogy(w[0], w[1], w[2], embedkit::vectors::AnalogyMethod::Mul);
  ASSERT_EQ(x.size(), y.size());
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_EQ(x[i].index, y[i].index);
}

TEST(HnswIndex, KLargerThanTheVocabularyIsAnError) {
  const KeyedVectors exact = clustered(50, 4, 3, 17);
  KeyedVectors ann = exact;
  ann.use_index(std::make_shared<const HnswIndex>(HnswIndex::build(exact, one_thread())));
  EXPECT_THROW((void)ann.most_similar("w0", 51), ValueError);
  try {
    (void)ann.most_similar("w0", 60);
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("k = 60 is larger than the vocabulary (50 words)"),
              std::string::npos)
        << e.what();
  }
  // k = size(): every other word (the graph is small enough to be searched whole).
  EXPECT_EQ(ann.most_similar("w0", 50).size(), 49u);
  EXPECT_EQ(ann.most_similar("w0", 0).size(), 0u);
}

// Loading `path` against `kv` fails with an IoError whose message holds `expected`.
void expect_refused(const std::filesystem::path& path, const KeyedVectors& kv,
                    const std::string& expected) {
  try {
    (void)HnswIndex::load(path, kv);
    ADD_FAILURE() << "no error; expected: " << expected;
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

TEST(HnswIndex, BadIndexFilesAreClearErrorsAndNothingIsWritten) {
  const TempDir dir;
  const KeyedVectors kv = clustered(600, 8, 6, 19);
  const auto good = dir / "v.npy.hnsw";
  HnswIndex::build(kv, one_thread()).save(good);
  const std::string bytes = read_file(good);

  expect_refused(dir.write("empty.hnsw", ""), kv, "truncated HNSW index: 0 bytes");
  expect_refused(dir.write("short.hnsw", bytes.substr(0, 50)), kv, "truncated HNSW index: 50");
  expect_refused(dir.write("half.hnsw", bytes.substr(0, bytes.size() / 2)), kv,
                 "truncated or corrupt HNSW index");
  expect_refused(dir.write("long.hnsw", bytes + "x"), kv, "truncated or corrupt HNSW index");
  std::string flipped = bytes;
  flipped[bytes.size() - 7] = static_cast<char>(flipped[bytes.size() - 7] ^ 0x40);
  expect_refused(dir.write("flipped.hnsw", flipped), kv, "checksum does not match");
  std::string text_file(200, ' ');
  text_file.replace(0, 12, "2 3\na 1 2 3\n");
  expect_refused(dir.write("vectors.hnsw", text_file), kv, "not an embedkit HNSW index");
  std::string newer = bytes;
  newer[16] = 2;
  expect_refused(dir.write("newer.hnsw", newer), kv, "format 2, which this embedkit does not");

  // An index of other vectors: another shape, or the same shape with other values.
  expect_refused(good, clustered(601, 8, 6, 19),
                 "belongs to other vectors: it was built from "
                 "600 x 8 vectors");
  const KeyedVectors same_shape = clustered(600, 8, 6, 20);
  expect_refused(good, same_shape, "delete it to rebuild it from these vectors");
  EXPECT_THROW(HnswIndex::open_or_build(good, same_shape, one_thread()), IoError);
  KeyedVectors other = same_shape;
  EXPECT_THROW(other.use_index(std::make_shared<const HnswIndex>(HnswIndex::build(kv))),
               ValueError);
  EXPECT_EQ(other.index(), nullptr);

  // Nothing was changed or added by the refusals.
  EXPECT_EQ(read_file(good), bytes);
  EXPECT_EQ(dir.names(),
            (std::vector<std::string>{"empty.hnsw", "flipped.hnsw", "half.hnsw", "long.hnsw",
                                      "newer.hnsw", "short.hnsw", "v.npy.hnsw", "vectors.hnsw"}));
  EXPECT_THROW(HnswIndex::build(kv, one_thread()).save(dir / "missing" / "v.hnsw"), IoError);
  EXPECT_FALSE(std::filesystem::exists(dir / "missing"));
}

// A header whose m or ef_construction is not its graph's: the checksum covers only the graph's
// bytes, so the header's fields are checked against the graph hnswlib read (one byte rewritten:
// the low byte of the little-endian field).
void expect_header_field_refused(std::size_t offset, char value, const std::string& expected) {
  const TempDir dir;
  const KeyedVectors kv = clustered(600, 8, 6, 19);
  const auto good = dir / "v.npy.hnsw";
  HnswIndex::build(kv, one_thread()).save(good);  // m 16, ef_construction 200
  const std::string bytes = read_file(good);
  std::string forged = bytes;
  forged[offset] = value;
  const auto bad = dir.write("forged.hnsw", forged);
  expect_refused(bad, kv, expected);
  KeyedVectors ann = kv;
  EXPECT_THROW(ann.use_index(std::make_shared<const HnswIndex>(HnswIndex::load(bad, kv))), IoError);
  EXPECT_EQ(ann.index(), nullptr);

  // Nothing was changed or added by the refusals, and the true file still loads.
  EXPECT_EQ(read_file(bad), forged);
  EXPECT_EQ(read_file(good), bytes);
  EXPECT_EQ(dir.names(), (std::vector<std::string>{"forged.hnsw", "v.npy.hnsw"}));
  EXPECT_EQ(HnswIndex::load(good, kv).size(), 600);
}

TEST(HnswIndex, HeaderMThatIsNotTheGraphsIsRefused) {
  expect_header_field_refused(56, 17, "its header says m = 17, its graph has m = 16");
}

TEST(HnswIndex, HeaderEfConstructionThatIsNotTheGraphsIsRefused) {
  expect_header_field_refused(
      64, static_cast<char>(201),
      "its header says ef_construction = 201, its graph has ef_construction = 200");
}

TEST(HnswIndex, BadOptionsAreValueErrors) {
  const KeyedVectors kv = clustered(100, 4, 3, 23);
  HnswOptions o;
  o.m = 1;
  EXPECT_THROW(HnswIndex::build(kv, o), ValueError);
  o = HnswOptions{};
  o.ef_construction = 0;
  EXPECT_THROW(HnswIndex::build(kv, o), ValueError);
  o = HnswOptions{};
  o.ef_search = 0;
  EXPECT_THROW(HnswIndex::build(kv, o), ValueError);
  o = HnswOptions{};
  o.threads = -1;
  EXPECT_THROW(HnswIndex::build(kv, o), ValueError);
}

}  // namespace
