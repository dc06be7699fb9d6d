// KeyedVectors: a vocabulary and its vectors (a float32 matrix [V, D], row i = words[i]), with
// nearest neighbors and analogies by cosine similarity, as gensim's KeyedVectors does them.
//
// Rows are assumed sorted by decreasing frequency (as word2vec, fastText and GloVe write
// them), so `restrict_vocab = N` means "search only the N most frequent words" (gensim's
// restrict_vocab). Queries are answered with a blocked matrix product of the queries against
// the rows, each product scaled by the row's inverse norm: no unit-norm copy of the matrix is
// made for them. The norms of an in-memory matrix are computed (and its values checked finite)
// in the constructor; those of a read-only matrix (mapped from its file) by the first scan that
// reaches each block of rows, so that the first answer on a mapped file costs one pass over it,
// not three (docs/memory-mapping.md). Either way a const KeyedVectors can be queried from many
// threads (a block's norms are computed once, under a lock; a block that held a non-finite value
// is scanned, and refused, again by the next query that reaches it).
//
// Errors: a word not in the vocabulary is a KeyError (core/error.hpp, a ValueError) whose message
// and key() name it; bad arguments are ValueError.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/key_index.hpp"
#include "embedkit/core/tensor.hpp"

namespace embedkit::vectors {

// One search result: a word, its row, and its score (cosine for most_similar and 3CosAdd,
// the 3CosMul ratio for Mul).
struct Neighbor {
  std::string word;
  std::int64_t index = 0;
  float score = 0.0f;
};

enum class AnalogyMethod {
  // 3CosAdd: argmax cos(x, unit(unit(a) - unit(b) + unit(c))), which ranks as
  // cos(x, a) - cos(x, b) + cos(x, c) (Levy & Goldberg 2014; gensim's most_similar).
  Add,
  // 3CosMul: argmax cos'(x, a) * cos'(x, c) / (cos'(x, b) + epsilon), with the cosines shifted
  // to [0, 1] by cos' = (1 + cos) / 2 (Levy & Goldberg 2014; gensim's most_similar_cosmul).
  Mul,
};

// Levy & Goldberg's epsilon for 3CosMul (gensim uses 1e-6).
inline constexpr float kCosMulEpsilon = 0.001f;
// "No limit" for restrict_vocab.
inline constexpr std::int64_t kAllWords = std::numeric_limits<std::int64_t>::max();

class HnswIndex;  // hnsw_index.hpp

class KeyedVectors {
 public:
  // `matrix` is float32 [words.size(), D] with D >= 1 (copied; shared when read_only(), as a
  // matrix mapped from its file is, which nothing can change). Throws ValueError for a size
  // mismatch, an empty or duplicate word, or a non-finite value (naming the word; for a read-only
  // matrix, by the first query that reaches its row, since checking would read the whole file).
  KeyedVectors(std::vector<std::string> words, Tensor matrix);
  // The same with the words already in a KeyIndex (distinct by construction, row i its key i),
  // taken over instead of indexed again: a vocabulary read into an index
  // (io::map_indexed_word_vectors) is not indexed twice. ValueError for a size mismatch or an
  // empty word.
  KeyedVectors(KeyIndex words, Tensor matrix);
  // The same for a read-only matrix whose rows' inverse norms are known already, as the first
  // scan would compute them (kernels/cpu/row_norms.hpp's inverse_row_norms, the same bits): taken
  // instead of computed, so the first query reads the matrix once, for its products only. They
  // come from the word index stored beside a mapped pair (io::map_indexed_word_vectors,
  // docs/memory-mapping.md), whose writer stores them only for a matrix whose values are all
  // finite; the caller vouches that they are this matrix's. Empty: computed as above.
  // ValueError for a size mismatch, an empty word, a count of norms other than the rows', a
  // norm that is negative or not finite, or norms given with a matrix that is not read-only.
  KeyedVectors(KeyIndex words, Tensor matrix, std::vector<float> inverse_norms);

  // The inverse norms of `count` float32 rows of `dim` values at `rows`, into `inverse`, exactly
  // as the queries compute them (kernels/cpu/row_norms.hpp); false when a row holds a
  // non-finite value (`inverse` then partly written). What a caller stores beside a mapped pair
  // (io::MapOptions::word_index_norms) and hands back to the constructor above.
  static bool inverse_norms(const float* rows, std::int64_t count, std::int64_t dim,
                            float* inverse);

  std::int64_t size() const { return index_.size(); }
  std::int64_t dim() const { return dim_; }
  const std::vector<std::string>& words() const { return index_.keys(); }
  const Tensor& matrix() const { return matrix_; }
  // Rows scaled to unit length (an all-zero row stays zero): a copy made on the first call (the
  // queries do not need it).
  const Tensor& unit_matrix() const;
  // The row scaled to unit length, into `out` (dim() floats): the matrix's value times the
  // row's inverse norm, as the queries scale it. ValueError (naming the word) when the row holds
  // a non-finite value.
  void unit_row(std::int64_t row, float* out) const;

  bool contains(std::string_view word) const { return index_.contains(word); }
  // The word's row, or std::nullopt when absent.
  std::optional<std::int64_t> find(std::string_view word) const { return index_.find(word); }
  // The word's row; KeyError "word 'x' is not in the vocabulary" when absent.
  std::int64_t at(std::string_view word) const;
  std::span<const float> vector(std::string_view word) const;
  std::span<const float> unit_vector(std::string_view word) const;
  // Cosine similarity of two words.
  float similarity(std::string_view a, std::string_view b) const;

  // The `topn` words most similar to `word` (by cosine), the word itself excluded, among the
  // first `restrict_vocab` rows, best first (ties: lower row first).
  std::vector<Neighbor> most_similar(std::string_view word, std::int64_t topn = 10,
                                     std::int64_t restrict_vocab = kAllWords) const;
  // The same for a vector (of length dim(); normalized here), excluding the given words.
  std::vector<Neighbor> most_similar(std::span<const float> query, std::int64_t topn = 10,
                                     const std::vector<std::string>& exclude = {},
                                     std::int64_t restrict_vocab = kAllWords) const;
  // Many queries at once: `queries` is float32 [Q, D] (rows normalized here); `exclude[q]`
  // (when given, one list per query) are rows left out of query q's answers.
  std::vector<std::vector<Neighbor>> most_similar_batch(
      const Tensor& queries, std::int64_t topn,
      const std::vector<std::vector<std::int64_t>>& exclude = {},
      std::int64_t restrict_vocab = kAllWords) const;

  // a - b + c ("king" - "man" + "woman" -> "queen"): gensim's positive=[a, c], negative=[b].
  // The three words are excluded from the answers.
  std::vector<Neighbor> analogy(std::string_view a, std::string_view b, std::string_view c,
                                AnalogyMethod method = AnalogyMethod::Add, std::int64_t topn = 10,
                                std::int64_t restrict_vocab = kAllWords,
                                float epsilon = kCosMulEpsilon) const;
  // Many 3CosAdd analogies by rows: each entry is {a, b, c} (a - b + c).
  std::vector<std::vector<Neighbor>> analogy_batch(
      const std::vector<std::array<std::int64_t, 3>>& questions, std::int64_t topn,
      std::int64_t restrict_vocab = kAllWords) const;

  // Answers the cosine neighbour queries over the whole vocabulary (most_similar, its batch,
  // 3CosAdd analogies) from an approximate HNSW index instead of the exact scan; a search
  // restricted to the first N < size() words and 3CosMul stay exact. The scores of the words
  // it returns are the exact ones. With an index, topn > size() is a ValueError (an
  // approximate search cannot promise every word). nullptr: exact again. ValueError when the
  // index was not built from this matrix (HnswIndex::matches).
  void use_index(std::shared_ptr<const HnswIndex> index);
  const HnswIndex* index() const { return ann_.get(); }

 private:
  std::int64_t limit(std::int64_t restrict_vocab) const;
  void check_topn(std::int64_t topn) const;

  // The inverse norms of rows [first, first + kNormBlock), computed once (values checked).
  void ensure_norms(std::int64_t first, std::int64_t last) const;
  // The ValueError for a row holding a non-finite value, naming its first such column.
  [[noreturn]] void throw_non_finite(std::int64_t row) const;
  // Row r's 1 / L2 norm (0 for an all-zero row); ensure_norms must have covered it.
  float inverse_norm(std::int64_t r) const;

  // The rows' inverse norms, by blocks that are computed once; shared by copies, as the matrix
  // (which nothing changes) is.
  struct RowNorms;

  // What both constructors share once the words are indexed.
  void adopt(KeyIndex words, Tensor matrix, std::vector<float> inverse_norms = {});

  KeyIndex index_;  // the words, row i = words()[i]
  Tensor matrix_;
  std::shared_ptr<RowNorms> norms_;
  std::int64_t dim_ = 0;
  std::shared_ptr<const HnswIndex> ann_;  // approximate neighbours, when use_index() gave one
};

}  // namespace embedkit::vectors
