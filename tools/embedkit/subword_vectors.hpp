// Words outside the vocabulary in `similar`, `analogy` and `eval`: when VECTORS is a fastText
// model with subwords (a .bin with maxn > 0, as `embedkit train --minn/--maxn` or fastText
// writes it), a word the model never saw gets the vector fastText gives it, the mean of its
// character n-grams' rows (FastTextModel::word_vector), and the commands say so (a note on
// stderr, "out_of_vocabulary" in JSON; eval counts such questions apart). Answers still come
// from the vocabulary only, as fastText's `nn` and `analogies` search it. Any other input (word
// vectors, a model without subwords, standard input) behaves as before: an unknown word is an
// error, an eval question with one is skipped.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "embedkit/io/fasttext_model.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/vectors/keyed_vectors.hpp"
#include "std_streams.hpp"
#include "vectors_options.hpp"

namespace embedkit::cli {

class QueryVectors {
 public:
  // Loads VECTORS as load_keyed_vectors does, keeping a fastText model when it has subwords.
  static QueryVectors load(const std::string& path, const std::string& format) {
    if (!is_std_stream(path)) {
      const io::VectorFormat chosen = format_for(path, format, std::nullopt);
      if (chosen == io::VectorFormat::FastTextModel ||
          (chosen == io::VectorFormat::Word2VecBinary && io::file_has_fasttext_magic(path))) {
        models::FastTextModel model = models::FastTextModel::load(path);
        io::WordVectors v = model.word_vectors();
        QueryVectors q(std::move(v.words), std::move(v.matrix));
        if (model.args().maxn > 0 && model.args().bucket > 0) q.model_.emplace(std::move(model));
        return q;
      }
    }
    // .npy and safetensors vectors are mapped, not read (vectors_options.hpp).
    if (std::optional<io::IndexedWordVectors> mapped =
            map_vectors_argument(path, format, "--format")) {
      return QueryVectors(vectors::KeyedVectors(std::move(mapped->words), std::move(mapped->matrix),
                                                std::move(mapped->inverse_norms)));
    }
    io::WordVectors v = load_vectors_argument(path, format);
    return QueryVectors(std::move(v.words), std::move(v.matrix));
  }

  const vectors::KeyedVectors& keyed() const { return kv_; }
  // --ann (vectors_options.hpp): answer from the HNSW index beside the file at `path`.
  void use_ann_index(const NeighborQuery& q, const std::string& path, const std::string& command) {
    cli::use_ann_index(kv_, path, q, command);
  }
  bool has_subwords() const { return model_.has_value(); }
  const models::FastTextModel* model() const { return model_ ? &*model_ : nullptr; }

  // The vector of `word` when it is outside the vocabulary and built from its n-grams; nullopt
  // when it is in the vocabulary, or cannot be built (no subwords; no n-gram row: a pruned
  // model's).
  std::optional<std::vector<float>> built_vector(const std::string& word) const {
    if (!model_ || kv_.contains(word)) return std::nullopt;
    if (model_->subword_rows(word).empty()) return std::nullopt;
    return model_->word_vector(word);
  }

  // The note for a word answered from its n-grams.
  static std::string note(const std::string& command, const std::string& word) {
    return command + ": '" + word + "' is out of vocabulary: its vector is built from its " +
           "character n-grams\n";
  }

 private:
  QueryVectors(std::vector<std::string> words, Tensor matrix)
      : kv_(std::move(words), std::move(matrix)) {}
  explicit QueryVectors(vectors::KeyedVectors kv) : kv_(std::move(kv)) {}

  vectors::KeyedVectors kv_;
  std::optional<models::FastTextModel> model_;
};

}  // namespace embedkit::cli
