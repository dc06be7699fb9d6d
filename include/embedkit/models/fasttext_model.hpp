// A fastText model read from its .bin/.ftz file (io/fasttext_model.hpp), queried the way
// fastText 0.9.2 queries it, and the conversions from embedkit's own models to that file.
//
//   word vectors    a word's vector is the mean of its input rows: its own row when it is in
//                   the dictionary, then the rows of its character n-grams (minn..maxn of
//                   "<word>", hashed as ngram_hashing.hpp says, modulo bucket, after the nwords
//                   word rows); a word outside the dictionary gets the mean of its n-gram rows
//                   alone, and zeros when it has none (maxn 0). "</s>" has no n-grams.
//                   (fastText's getWordVector / print-word-vectors.)
//   a line          the rows fastText's getLine gives a line of words followed by its end
//                   "</s>": each word's rows as above (only its own row when maxn is 0), then
//                   the word n-gram buckets (wordNgrams > 1) of the line's word hashes.
//   sentence vector supervised: the mean of the line's rows; unsupervised: the mean of the
//                   words' vectors each divided by its norm (words with a zero vector skipped).
//   predict         supervised only: the hidden vector (the line's mean row) scored against
//                   the output matrix by the model's loss: softmax; ns and ova (a sigmoid per
//                   label, from fastText's 512-entry sigmoid table); hs (a walk down fastText's
//                   Huffman tree over the label counts). Labels are ranked by fastText's score
//                   log(p + 1e-5) and `probability` is exp of that score, the number
//                   `fasttext predict-prob` prints (so p + 1e-5 for softmax, ns and ova).
//
// The buckets of a pruned (quantized with -cutoff) model are mapped through its prune index,
// and n-grams whose bucket was pruned are left out, as fastText does.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "embedkit/io/fasttext_model.hpp"
#include "embedkit/io/vector_formats.hpp"

namespace embedkit::models {

class TextClassifier;
struct ClassifierEvaluation;
struct LabelledExample;
struct Word2VecOptions;
struct Word2VecResult;

struct FastTextPrediction {
  std::int64_t label = 0;  // label id (output row)
  std::string text;        // the label as the dictionary holds it ("__label__pos")
  double probability = 0;  // what `fasttext predict-prob` prints (see above)
};

class FastTextModel {
 public:
  // ValueError for a model that cannot be queried: matrices whose shapes disagree with the
  // arguments and dictionary, a supervised model without labels, a word that appears twice.
  explicit FastTextModel(io::FastTextModelFile file);
  static FastTextModel load(const std::filesystem::path& path);

  const io::FastTextModelFile& file() const { return file_; }
  const io::FastTextArgs& args() const { return file_.args; }
  bool supervised() const { return file_.args.model == io::FastTextModelType::Supervised; }
  std::int64_t dim() const { return file_.args.dim; }
  std::int64_t num_words() const;
  std::optional<std::int64_t> word_id(std::string_view word) const;

  // The input rows whose mean is `word`'s vector (see above).
  std::vector<std::int64_t> subword_rows(std::string_view word) const;
  std::vector<float> word_vector(std::string_view word) const;
  // Every dictionary word with its vector, in dictionary order (what fastText's .vec holds).
  io::WordVectors word_vectors() const;

  // `words`: a line's tokens, labels left out; "</s>" is added as fastText reads the line's end.
  std::vector<std::int64_t> line_rows(const std::vector<std::string>& words) const;
  std::vector<float> sentence_vector(const std::vector<std::string>& words) const;
  // The k best labels, best first, leaving out those whose probability is below `threshold`.
  // ValueError for an unsupervised model and for k < 1. No prediction for a line with no rows.
  std::vector<FastTextPrediction> predict(const std::vector<std::string>& words, std::int64_t k,
                                          double threshold = 0) const;
  // fastText's test over labelled lines, counted as TextClassifier::evaluate counts them
  // (per_label by label id). The examples' labels come without their prefix; the model's labels
  // carry it: `label_prefix` (fastText's default "__label__") joins the two.
  ClassifierEvaluation evaluate(const std::vector<LabelledExample>& data, std::int64_t k,
                                double threshold = 0,
                                const std::string& label_prefix = "__label__") const;

  // A supervised model file that `fasttext predict` reads as embedkit predicts: the classifier's
  // dictionary (labels with its label prefix), tables and word n-gram buckets. ValueError for
  // what fastText would read differently: the hs loss (fastText builds its Huffman tree in
  // another order), lowercase (fastText does not lowercase), end_of_line off with word n-grams
  // (fastText always ends a line with "</s>").
  static io::FastTextModelFile from_classifier(const TextClassifier& classifier);
  // The unsupervised model file (sg or cbow, ns or hs) of word2vec's training, trained with
  // `options`: with subwords its whole input table (words, then n-gram buckets) and minn, maxn
  // and bucket, so that fastText gives every word, seen or not, the vector embedkit gives it;
  // without, the word vectors alone (minn, maxn, bucket 0). The output table is word2vec's (with
  // hs one row per inner node of embedkit's Huffman tree, padded with a zero row to fastText's
  // V rows: fastText's tree differs, so the file is for word vectors, not for more training).
  static io::FastTextModelFile from_word2vec(const Word2VecResult& result,
                                             const Word2VecOptions& options);

 private:
  void append_ngram_row(std::int64_t bucket, std::vector<std::int64_t>& rows) const;
  std::vector<float> mean_of_rows(const std::vector<std::int64_t>& rows) const;
  // Output row `row` . v, dense or straight from the codes (fastText's dotRow).
  float output_dot(std::int64_t row, const std::vector<float>& v) const;

  io::FastTextModelFile file_;
  std::unordered_map<std::string, std::int64_t> word_ids_;
  std::unordered_map<std::int32_t, std::int32_t> pruned_;
  std::vector<std::int64_t> tree_left_, tree_right_;  // hs: fastText's Huffman tree
};

}  // namespace embedkit::models
