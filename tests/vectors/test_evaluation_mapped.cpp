// Evaluation (analogy accuracy, word-pair correlation) over a read-only matrix, as mapped from its
// file: the figures of the same matrix in memory, bit for bit, and the word-pair cosines still the
// ones unit_matrix() gives (the figures eval has always printed), with no unit-norm copy made, so
// that a row no question or pair reaches is never read.
#include <gtest/gtest.h>

#include <bit>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/io/mapped_table.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "embedkit/vectors/evaluation.hpp"
#include "io/pair_verification.hpp"
#include "kernels/cpu/isa.hpp"
#include "support/temp_dir.hpp"

namespace {

using embedkit::Generator;
using embedkit::Tensor;
using embedkit::ValueError;
using embedkit::kernels::cpu::Isa;
using namespace embedkit::vectors;

constexpr std::int64_t kRows = 1000;  // several norm blocks of 256 rows, and a partial last one

// "w<i>" (not "w" + ...: GCC 12's false -Wrestrict, bug 105329).
std::string word(std::int64_t i) {
  std::string w = "w";
  w += std::to_string(i);
  return w;
}

std::vector<std::string> words() {
  std::vector<std::string> out;
  for (std::int64_t i = 0; i < kRows; ++i) out.push_back(word(i));
  return out;
}

Tensor matrix(std::int64_t dim) {
  Generator gen(static_cast<std::uint64_t>(dim));
  Tensor m = Tensor::empty({kRows, dim}, embedkit::DType::Float32);
  for (std::int64_t i = 0; i < m.numel(); ++i) {
    m.data<float>()[i] = static_cast<float>(gen.normal());
  }
  return m;
}

std::int64_t below(Generator& gen, std::int64_t n) {
  return static_cast<std::int64_t>(gen.uniform() * static_cast<double>(n));
}

// 300 pairs among the first `rows` words (a repeated word, and one pair of a word with itself),
// with gold scores that tie now and then.
std::string pairs_text(std::int64_t rows) {
  Generator gen(7);
  std::string text = "# word1\tword2\tscore\n" + word(3) + "\t" + word(3) + "\t10\n";
  for (int i = 0; i < 300; ++i) {
    text += word(below(gen, rows)) + "\t" + word(below(gen, rows)) + "\t" +
            std::to_string(below(gen, 40)) + "\n";
  }
  return text;
}

// Two sections of 3CosAdd questions among the first `rows` words; half of them expect what the
// in-memory `reference` answers (so that some are right), half a word at random.
std::string analogies_text(const KeyedVectors& reference, std::int64_t rows) {
  Generator gen(11);
  std::string text;
  for (const char* section : {"first", "second"}) {
    text += std::string(": ") + section + "\n";
    for (int i = 0; i < 30; ++i) {
      const std::string a = word(below(gen, rows));
      const std::string b = word(below(gen, rows));
      const std::string c = word(below(gen, rows));
      std::string d = word(below(gen, rows));
      if (i % 2 == 0) d = reference.analogy(b, a, c, AnalogyMethod::Add, 1, rows).at(0).word;
      text += a + " " + b + " " + c + " " + d + "\n";
    }
  }
  return text;
}

void expect_same_bits(double got, double want, const char* what) {
  EXPECT_EQ(std::bit_cast<std::uint64_t>(got), std::bit_cast<std::uint64_t>(want))
      << what << ": " << got << " against " << want;
}

void expect_same(const SimilarityResult& got, const SimilarityResult& want) {
  EXPECT_EQ(got.pairs, want.pairs);
  EXPECT_EQ(got.oov_pairs, want.oov_pairs);
  EXPECT_EQ(got.invalid_lines, want.invalid_lines);
  expect_same_bits(got.spearman, want.spearman, "spearman");
  expect_same_bits(got.pearson, want.pearson, "pearson");
}

void expect_same(const AnalogyResult& got, const AnalogyResult& want) {
  ASSERT_EQ(got.sections.size(), want.sections.size());
  for (std::size_t s = 0; s < got.sections.size(); ++s) {
    EXPECT_EQ(got.sections[s].correct, want.sections[s].correct) << got.sections[s].name;
    EXPECT_EQ(got.sections[s].incorrect, want.sections[s].incorrect) << got.sections[s].name;
  }
  EXPECT_EQ(got.questions, want.questions);
  EXPECT_EQ(got.skipped, want.skipped);
  EXPECT_EQ(got.total.correct, want.total.correct);
  EXPECT_EQ(got.total.incorrect, want.total.incorrect);
}

// The word-pair figures as eval computed them with the unit-norm copy: each cosine the two rows
// of unit_matrix() multiplied and summed in double in ascending column order.
SimilarityResult through_unit_matrix(const KeyedVectors& kv, const std::string& text) {
  const float* unit = kv.unit_matrix().data<float>();
  const std::int64_t dim = kv.dim();
  std::vector<double> gold;
  std::vector<double> model;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = text.find('\n', pos);
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.starts_with("#")) continue;
    const std::size_t t1 = line.find('\t');
    const std::size_t t2 = line.find('\t', t1 + 1);
    const std::int64_t a = kv.at(line.substr(0, t1));
    const std::int64_t b = kv.at(line.substr(t1 + 1, t2 - t1 - 1));
    double cos = 0.0;
    for (std::int64_t j = 0; j < dim; ++j) {
      cos += static_cast<double>(unit[a * dim + j]) * unit[b * dim + j];
    }
    gold.push_back(std::stod(line.substr(t2 + 1)));
    model.push_back(cos);
  }
  SimilarityResult r;
  r.pairs = static_cast<std::int64_t>(gold.size());
  r.spearman = spearman_correlation(gold, model);
  r.pearson = pearson_correlation(gold, model);
  return r;
}

TEST(EvaluationMapped, ReadOnlyMatrixGivesTheInMemoryFiguresBitForBit) {
  for (const std::int64_t dim : {13, 256}) {
    const Tensor m = matrix(dim);
    const std::string pairs = pairs_text(kRows);
    for (const Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
      if (!embedkit::kernels::cpu::isa_supported(isa)) continue;
      embedkit::kernels::cpu::set_isa_override(isa);
      const KeyedVectors owned(words(), m);
      const KeyedVectors mapped(words(), m.as_read_only());
      ASSERT_EQ(mapped.matrix().raw_data(), m.raw_data());  // shared, not copied
      const std::string questions = analogies_text(owned, kRows);
      for (const std::int64_t restrict_vocab : {kRows, std::int64_t{600}}) {
        SCOPED_TRACE("dim " + std::to_string(dim) + " isa " +
                     std::string(embedkit::kernels::cpu::isa_name(isa)) + " restrict " +
                     std::to_string(restrict_vocab));
        AnalogyOptions ao;
        ao.restrict_vocab = restrict_vocab;
        const AnalogyResult want_a = evaluate_word_analogies_text(owned, questions, "<q>", ao);
        EXPECT_GT(want_a.total.correct, 0);
        EXPECT_GT(want_a.total.incorrect, 0);
        expect_same(evaluate_word_analogies_text(mapped, questions, "<q>", ao), want_a);
        SimilarityOptions so;
        so.restrict_vocab = restrict_vocab;
        const SimilarityResult want_s = evaluate_word_pairs_text(owned, pairs, so);
        EXPECT_GT(want_s.pairs, 100);
        expect_same(evaluate_word_pairs_text(mapped, pairs, so), want_s);
      }
      // The cosines are still the unit-norm copy's, bit for bit: eval prints what it printed.
      const SimilarityResult mapped_s = evaluate_word_pairs_text(mapped, pairs);
      EXPECT_EQ(mapped_s.oov_pairs, 0);
      expect_same(mapped_s, through_unit_matrix(owned, pairs));
      expect_same(mapped_s, through_unit_matrix(mapped, pairs));
      embedkit::kernels::cpu::set_isa_override(std::nullopt);
    }
  }
}

// No unit-norm copy: making one reads (and checks) every row, so a non-finite value in a row that
// no pair or question reaches (the last norm block, beyond restrict_vocab) would be its error.
// Evaluation never reads that block; unit_matrix() itself refuses it, so the value is there.
TEST(EvaluationMapped, NoUnitNormCopyIsMadeSoUnreachedRowsAreNeverRead) {
  const std::int64_t dim = 24;
  const Tensor clean = matrix(dim);
  Tensor poisoned = clean.clone();
  poisoned.data<float>()[(kRows - 1) * dim + 5] = std::numeric_limits<float>::quiet_NaN();
  const std::int64_t reached = 512;  // norm blocks 0 and 1; the NaN's block starts at row 768
  const KeyedVectors owned(words(), clean);
  const std::string pairs = pairs_text(reached);
  const std::string questions = analogies_text(owned, reached);
  SimilarityOptions so;
  so.restrict_vocab = reached;
  AnalogyOptions ao;
  ao.restrict_vocab = reached;

  const KeyedVectors mapped(words(), poisoned.as_read_only());
  std::optional<SimilarityResult> s;
  EXPECT_NO_THROW(s = evaluate_word_pairs_text(mapped, pairs, so));
  if (s) expect_same(*s, evaluate_word_pairs_text(owned, pairs, so));
  std::optional<AnalogyResult> a;
  EXPECT_NO_THROW(a = evaluate_word_analogies_text(mapped, questions, "<q>", ao));
  if (a) expect_same(*a, evaluate_word_analogies_text(owned, questions, "<q>", ao));
  // The value is there: a unit-norm copy, or a pair that reaches its row, fails on it.
  EXPECT_THROW((void)mapped.unit_matrix(), ValueError);
  EXPECT_THROW(
      (void)evaluate_word_pairs_text(
          mapped, word(1) + "\t" + word(kRows - 1) + "\t3\n" + word(2) + "\t" + word(4) + "\t1\n",
          SimilarityOptions{kAllWords, true, kAllWords}),
      ValueError);
}

}  // namespace

// A pair mapped with its word index and norms stored beside it (io::MapOptions::
// remember_word_index), as the command maps: the figures of the same matrix in memory, bit for
// bit, under each instruction set, from the open that writes the store (norms computed for it)
// and from the one that takes it back (norms read from it).
TEST(EvaluationMapped, StoredWordIndexAndNormsGiveTheInMemoryFiguresBitForBit) {
  embedkit::io::detail::set_pair_record_settle(std::chrono::nanoseconds(0));
  for (const std::int64_t dim : {13, 256}) {
    const Tensor m = matrix(dim);
    const embedkit_test::TempDir dir;
    embedkit::io::save_word_vectors(dir / "v.npy", embedkit::io::WordVectors{words(), m});
    embedkit::io::MapOptions options;
    options.verify_pair_checksum = true;
    options.remember_pair_verification = true;
    options.remember_word_index = true;
    options.word_index_norms = &KeyedVectors::inverse_norms;
    std::vector<KeyedVectors> opened;
    for (const bool stored : {false, true}) {
      embedkit::io::WordVectorsMapReport report;
      embedkit::io::IndexedWordVectors v =
          embedkit::io::map_indexed_word_vectors(dir / "v.npy", std::nullopt, options, &report);
      ASSERT_EQ(report.index_recorded, !stored);
      ASSERT_EQ(report.norms_remembered, stored);
      ASSERT_EQ(v.inverse_norms.size(), static_cast<std::size_t>(kRows));
      opened.emplace_back(std::move(v.words), std::move(v.matrix), std::move(v.inverse_norms));
    }
    const std::string pairs = pairs_text(kRows);
    for (const Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
      if (!embedkit::kernels::cpu::isa_supported(isa)) continue;
      embedkit::kernels::cpu::set_isa_override(isa);
      SCOPED_TRACE("dim " + std::to_string(dim) + " isa " +
                   std::string(embedkit::kernels::cpu::isa_name(isa)));
      const KeyedVectors owned(words(), m);
      const std::string questions = analogies_text(owned, kRows);
      const AnalogyResult want_a = evaluate_word_analogies_text(owned, questions, "<q>");
      const SimilarityResult want_s = evaluate_word_pairs_text(owned, pairs);
      EXPECT_GT(want_a.total.correct, 0);
      for (const KeyedVectors& kv : opened) {
        expect_same(evaluate_word_analogies_text(kv, questions, "<q>"), want_a);
        expect_same(evaluate_word_pairs_text(kv, pairs), want_s);
        for (const std::string w : {"w0", "w500", "w999"}) {
          const std::vector<Neighbor> got = kv.most_similar(w, 10);
          const std::vector<Neighbor> want = owned.most_similar(w, 10);
          ASSERT_EQ(got.size(), want.size());
          for (std::size_t i = 0; i < got.size(); ++i) {
            EXPECT_EQ(got[i].index, want[i].index);
            EXPECT_EQ(std::bit_cast<std::uint32_t>(got[i].score),
                      std::bit_cast<std::uint32_t>(want[i].score));
          }
        }
      }
      embedkit::kernels::cpu::set_isa_override(std::nullopt);
    }
  }
  embedkit::io::detail::set_pair_record_settle(std::chrono::seconds(2));
}
