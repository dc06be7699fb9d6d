// A fastText-style text classifier (Joulin et al. 2016, "Bag of Tricks for Efficient Text
// Classification"), built from embedkit's own layers:
//
//   input ids  = the line's word ids (+ "</s>") + hashed word n-gram buckets   (ngram_hashing.hpp);
//                with subwords (maxn > 0) each word also brings its character n-gram buckets,
//                in the same bucket rows as the word n-grams (fastText's supervised input)
//   hidden     = EmbeddingBag(mean) over the input table                       [1, dim]
//   loss       = softmax:  Linear(dim -> labels, no bias) + cross entropy
//                hs:       hierarchical softmax: the label's Huffman path (huffman.hpp, over
//                          label counts) as rows of an Embedding of inner nodes, scored by a
//                          Linear whose weight is the hidden vector, + BCE-with-logits
//                ns:       negative sampling: the gold label's row and `negative` sampled rows,
//                          scored and trained the same way (labels drawn by count^0.5)
//
// Training is plain SGD, one line at a time: the loss gradient is scaled by the learning rate,
// which decays linearly from lr to 0 over all epochs' tokens; the output side is stepped with
// optim::SGD, the input table with optim::fused_backward_step (only the line's rows move).
// Threads share both tables and update them without locks ("hogwild", as fastText): thread t
// trains on its own contiguous slice of the lines, shuffled each epoch. With threads == 1, the
// same data, options and seed give bitwise identical models; with more threads the updates of
// different threads interleave, so runs differ slightly. A line with several labels trains on
// one of them, drawn at random each time (fastText's rule for softmax, hs and ns).
//
// The input table is initialised uniformly in [-1/dim, 1/dim] (each value a function of the seed
// and its index, so the same on any number of threads), the output table to zeros.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "embedkit/core/tensor.hpp"
#include "embedkit/models/dictionary.hpp"
#include "embedkit/models/labelled_text.hpp"

namespace embedkit::models {

enum class ClassifierLoss { Softmax, HierarchicalSoftmax, NegativeSampling };

// "softmax", "hs", "ns"; ValueError otherwise.
ClassifierLoss parse_classifier_loss(const std::string& name);
std::string classifier_loss_name(ClassifierLoss loss);

struct ClassifierOptions {
  std::int64_t dim = 100;
  double lr = 0.1;
  std::int64_t epochs = 5;
  std::int64_t word_ngrams = 1;  // 1: words only; 2: words and bigrams; ...
  // Rows for hashed n-grams, word n-grams and character n-grams alike (only allocated when
  // word_ngrams > 1 or maxn > 0). fastText's default.
  std::int64_t buckets = 2000000;
  // Subwords: fastText's character n-grams of minn..maxn characters of "<word>" (0: off, the
  // default of fastText's supervised mode). With maxn > 0: 1 <= minn <= maxn and buckets >= 1;
  // minn is ignored when maxn is 0, as in fastText.
  std::int64_t minn = 0;
  std::int64_t maxn = 0;
  std::int64_t min_count = 1;
  ClassifierLoss loss = ClassifierLoss::Softmax;
  std::int64_t negative = 5;  // ns only
  bool end_of_line = true;    // every line also holds "</s>"
  bool shuffle = true;        // shuffle each thread's lines every epoch
  std::int64_t threads = 1;
  std::uint64_t seed = 1;
  // How the files of this model are read (stored with the model for test and predict).
  std::string label_prefix = "__label__";
  bool lowercase = false;
  // fastText's -pretrainedVectors: a word-vectors file (any format io::load_word_vectors reads)
  // whose words join the vocabulary (Dictionary::with_words) and whose vectors start their input
  // rows; the other rows start uniform as without it. Its dimension must be `dim`. Empty: none.
  // Read by train only; not part of the model (not saved).
  std::filesystem::path pretrained_vectors;
  // Seconds between progress reports (train's on_progress); not part of the model (not saved).
  double progress_interval = 1.0;

  // ValueError naming the first bad option.
  void validate() const;
  bool subwords() const { return maxn > 0; }
  // Rows of the input table after the words': buckets when word n-grams or subwords use them.
  std::int64_t bucket_rows() const { return word_ngrams > 1 || maxn > 0 ? buckets : 0; }
};

struct ClassifierTrainStats {
  std::int64_t examples = 0;  // lines
  std::int64_t tokens = 0;    // words per epoch, as counted for the learning-rate schedule
  double seconds = 0;         // training, table initialisation included
  double final_loss = 0;      // mean loss per line over the last epoch
};

// A progress report, given to train's callback on the thread that called train.
struct ClassifierProgress {
  double fraction = 0;      // of all epochs' tokens
  std::int64_t tokens = 0;  // tokens trained so far, all epochs
  double tokens_per_second_per_thread = 0;
  double lr = 0;    // the learning rate at `fraction`
  double loss = 0;  // mean loss per line since the start of training (0 before the first)
  double elapsed_seconds = 0;
  double eta_seconds = 0;
};

struct LabelScore {
  std::int64_t label = 0;
  double probability = 0;
};

struct LabelMetrics {
  std::int64_t gold = 0;       // lines carrying the label
  std::int64_t predicted = 0;  // times it was among the k predictions
  std::int64_t correct = 0;    // ... and carried by the line
  double precision() const;
  double recall() const;
  double f1() const;
};

// fastText's test: over N lines, precision@k = correct / predicted and recall@k = correct /
// gold, where each line predicts its top k labels (fewer when the threshold cuts them) and a
// prediction is correct when the line carries that label.
//
// A gold label never seen in training cannot be predicted: the line is still evaluated and
// counted in N, the label counts in `gold` (so it lowers recall, never precision), and each
// occurrence is counted in unseen_labels by name.
struct ClassifierEvaluation {
  std::int64_t examples = 0;
  std::int64_t k = 1;
  double threshold = 0;
  std::int64_t predicted = 0;
  std::int64_t gold = 0;
  std::int64_t correct = 0;
  std::vector<LabelMetrics> per_label;  // by label id
  std::map<std::string, std::int64_t> unseen_labels;
  std::int64_t unseen_label_count() const;
  double precision() const;
  double recall() const;
};

class TextClassifier {
 public:
  // Trains on `train` (ValueError for bad options or no data; TrainingDivergedError, from
  // training_divergence.hpp, when the loss or the tables become NaN or infinite: lr too large).
  // When stats is given, fills it.
  //
  // on_progress (optional) is called on the calling thread about every
  // options.progress_interval seconds while the worker threads train, and once at the end. An
  // exception it throws stops training: every worker stops at its next line, all are joined, and
  // the exception propagates (what Python's Ctrl-C needs: KeyboardInterrupt from the callback).
  static TextClassifier train(
      const std::vector<LabelledExample>& train, const ClassifierOptions& options,
      ClassifierTrainStats* stats = nullptr,
      const std::function<void(const ClassifierProgress&)>& on_progress = {});

  // The EmbeddingBag input of a line, as fastText's supervised getLine builds it: for each word
  // its id when known, then (with maxn > 0) the buckets of its character n-grams, offset by the
  // number of words (a word outside the vocabulary still brings its n-grams); then "</s>" (when
  // end_of_line, without n-grams); then the word n-gram buckets (offset the same way) of the
  // line's words followed by "</s>".
  std::vector<std::int64_t> input_ids(const std::vector<std::string>& words) const;

  // The input rows of one word, whose mean is its vector (fastText's getWordVector): its id when
  // known, then (with maxn > 0) its character n-gram buckets, offset by the number of words;
  // empty for a word outside the vocabulary of a model without subwords.
  std::vector<std::int64_t> word_input_ids(const std::string& word) const;

  // The k most probable labels, most probable first, leaving out those below `threshold`
  // (ties: lower label id first). Probabilities: softmax for softmax and hs (product along the
  // label's path), independent sigmoids for ns. k >= 1 (ValueError otherwise).
  std::vector<LabelScore> predict(const std::vector<std::string>& words, std::int64_t k,
                                  double threshold = 0) const;

  ClassifierEvaluation evaluate(const std::vector<LabelledExample>& data, std::int64_t k,
                                double threshold = 0) const;

  // Saves tables, vocabulary, labels and options in one safetensors file, atomically (a failed
  // save leaves an existing file as it was). ValueError, before touching the file, for a table
  // holding NaN or an infinity (load() would refuse it).
  void save(const std::filesystem::path& path) const;
  // Loads a saved model; IoError naming the file and the problem for a file that is not one:
  // every size in the metadata is checked against the tensors in the file before anything is
  // built from it, and a table holding NaN or an infinity is refused by name.
  static TextClassifier load(const std::filesystem::path& path);
  // Whether `path` is a safetensors file marked as a saved text classifier (its header only is
  // read; false for any other file, or one that cannot be read). load still checks all of it.
  static bool is_model_file(const std::filesystem::path& path);

  const ClassifierOptions& options() const { return options_; }
  const Dictionary& dictionary() const { return dictionary_; }
  const Tensor& input_table() const { return input_; }    // [words (+ buckets), dim]
  const Tensor& output_table() const { return output_; }  // [labels or inner nodes, dim]

  TextClassifier(TextClassifier&&) noexcept;
  TextClassifier& operator=(TextClassifier&&) noexcept;
  ~TextClassifier();

 private:
  struct Layers;
  TextClassifier(ClassifierOptions options, Dictionary dictionary, Tensor input, Tensor output);
  // Bucket rows in the input table (0 unless word_ngrams > 1 or maxn > 0).
  std::int64_t bucket_rows() const;
  // Appends word_input_ids(word) to ids.
  void append_word_rows(const std::string& word, std::vector<std::int64_t>& ids) const;

  ClassifierOptions options_;
  Dictionary dictionary_;
  Tensor input_;
  Tensor output_;
  std::unique_ptr<Layers> layers_;
};

}  // namespace embedkit::models
