// word2vec (Mikolov et al. 2013; the algorithm of word2vec.c): skip-gram or CBOW, trained with
// negative sampling or hierarchical softmax, with subsampling of frequent words, a dynamic
// (randomly shrunk) window and a learning rate decaying linearly over all epochs' words, from alpha
// to alpha * 1e-4 (word2vec.c) or to min_alpha when set (gensim).
//
// The corpus is read twice or more, never held whole: once to count the vocabulary, then once
// per epoch, streamed. Each thread trains on its own byte slice of the corpus and updates the
// shared tables without locks ("hogwild", as word2vec.c does): updates of different threads may
// interleave, so results with threads > 1 are not reproducible run to run. With threads == 1 the
// same corpus, options and seed give bitwise identical vectors.
//
// Subwords (maxn > 0; fastText's unsupervised models, Bojanowski et al. 2017): each word also
// has the rows of its character n-grams of minn..maxn characters (of "<word>", hashed into
// `bucket` rows after the words' rows, exactly as fastText hashes them: ngram_hashing.hpp), and
// the input of a word is the mean of its own row and its n-gram rows; every one of those rows
// moves by the whole gradient (fastText's rule). The output side is word2vec's. Skip-gram takes
// the centre word's bag as the input and predicts each context word (fastText's direction), with
// one update of the bag per centre: the gradients of its context predictions are summed and
// applied once (as word2vec.c's CBOW applies one gradient to all its context rows), instead of
// fastText's re-averaging and update after each context word: one mean and one update of the
// bag's ~20 rows per centre rather than per context word (on Brown, 3.5x fastText's words/s
// with analogy accuracy and word-pair rho at least fastText's: BENCHMARKS.md). CBOW's input is the
// mean of all rows of all context words, as fastText's. A word's vector is then the mean of its
// rows, what fastText's getWordVector gives (and gives any word, seen or not: FastTextModel,
// fasttext_model.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "embedkit/core/tensor.hpp"
#include "embedkit/models/dictionary.hpp"

namespace embedkit::models {

enum class Word2VecArchitecture { SkipGram, Cbow };
enum class Word2VecLoss { NegativeSampling, HierarchicalSoftmax };

struct Word2VecOptions {
  Word2VecArchitecture architecture = Word2VecArchitecture::SkipGram;
  Word2VecLoss loss = Word2VecLoss::NegativeSampling;
  std::int64_t dim = 100;
  std::int64_t window = 5;
  std::int64_t negative = 5;  // negative samples per prediction (negative sampling only)
  double ns_exponent = 0.75;  // negatives drawn with probability count^ns_exponent
  std::int64_t min_count = 5;
  std::int64_t max_vocab = 0;  // 0: no limit
  double sample = 1e-3;        // subsampling threshold; 0 turns it off
  std::int64_t epochs = 5;
  double alpha = 0;  // 0: 0.025 for skip-gram, 0.05 for CBOW (word2vec.c's defaults)
  // The learning rate at the end. Unset: word2vec.c's schedule, start_alpha() * (1 - progress)
  // floored at start_alpha() * 1e-4. Set: gensim's, linear from start_alpha() to min_alpha.
  std::optional<double> min_alpha;
  std::int64_t threads = 1;
  std::uint64_t seed = 1;
  double progress_interval = 1.0;  // seconds between progress reports
  // Character n-grams (fastText's names; see above): maxn 0 turns them off (word2vec, the
  // default). With maxn > 0: 1 <= minn <= maxn and bucket >= 1 (fastText's defaults for its
  // unsupervised models are minn 3, maxn 6, bucket 2000000). minn is ignored when maxn is 0, as
  // fastText ignores it.
  std::int64_t minn = 0;
  std::int64_t maxn = 0;
  std::int64_t bucket = 2000000;

  bool subwords() const { return maxn > 0; }

  // Throws ValueError naming the first bad option.
  void validate() const;
  double start_alpha() const;
  // The learning rate once `progress` (in [0, 1]) of all epochs' words are done.
  double alpha_at(double progress) const;
};

// A progress report, given to the callback from the thread that called train_word2vec.
struct Word2VecProgress {
  double fraction = 0;     // of all epochs' words
  std::int64_t words = 0;  // corpus words processed (kept words before subsampling)
  double words_per_second = 0;
  double loss = 0;   // mean loss per prediction over the interval since the last report
  double alpha = 0;  // current learning rate
  double elapsed_seconds = 0;
  double eta_seconds = 0;
};

struct Word2VecResult {
  Dictionary dictionary;  // words only
  // float32 [V, dim], row i = word i: the input vectors; with subwords, each word's vector as
  // fastText computes it (the mean of its own row and its n-gram rows).
  Tensor vectors;
  // With subwords: the whole input table, float32 [V + bucket, dim] (the words' rows, then the
  // n-gram buckets'), what a fastText .bin holds; undefined without subwords.
  Tensor input;
  // The output table, float32: [V, dim] with negative sampling, [V - 1, dim] (one row per inner
  // node of the Huffman tree) with hierarchical softmax.
  Tensor output;
  CorpusStats corpus;
  std::int64_t words_trained = 0;  // all epochs, before subsampling
  double seconds = 0;              // training time (the counting pass excluded)
  double words_per_second = 0;
  // Mean loss per prediction over the last epoch. A prediction is one (context, centre) pair for
  // skip-gram, one centre for CBOW; its loss is the sum of the logistic losses -log sigmoid(+-x)
  // over the positive word and its negative samples, or over the centre's Huffman path.
  double final_loss = 0;
};

// Data-parallel training across processes (docs/distributed.md): each of `parts` processes
// trains its own copy of the tables on its byte range of the corpus (part `part`: bytes
// [size * part / parts, size * (part + 1) / parts), cut on token boundaries, its threads each
// taking a sub-range), and `periods_per_epoch` times an epoch every process stops between two
// sentences and calls `synchronize` on the thread that called train_word2vec, with its threads
// paused. synchronize must replace `input` and `output` by their mean over the processes, in
// place, and each value of `sums` by its sum over the processes (sums[0]: the corpus words this
// process has trained, so the learning rate decays over the words of all processes; the others:
// this epoch's loss and predictions, for final_loss); an exception from it stops training and
// propagates. Each process's learning rate is `parts` times the schedule's: the mean moves a
// row by 1/parts of the processes' summed changes, and without the factor a rare word (seen
// by one process in a period) would learn at 1/parts of one process's rate (BENCHMARKS.md,
// "word2vec across MPI processes", has the figures). The models layer knows nothing of MPI:
// the dist layer fills the callback (dist/table_averaging.hpp). With parts == 1 and an exact
// mean (a sum over one process, divided by 1), the vectors equal those trained without it, bit
// for bit at one thread.
struct Word2VecDataParallel {
  std::int64_t part = 0;
  std::int64_t parts = 1;
  std::int64_t periods_per_epoch = 4;
  std::function<void(std::span<float> input, std::span<float> output, std::span<double> sums)>
      synchronize;
};

// Column-sharded training across processes (docs/distributed.md, "word2vec across processes"):
// each of `parts` processes holds columns [dim * part / parts, dim * (part + 1) / parts) of both
// tables for every word, and every process walks the whole corpus alike (the same sentences,
// subsampling, windows and negatives: the same seeds). A batch of predictions (the sentences
// read until it holds `batch_words` kept words, or fewer: it also ends as soon as one row has
// been used 128 times in it, within a sentence if need be) is trained in two phases: each
// process scores every (hidden, output row) pair of the batch on its columns, `reduce_dots` sums
// those partial scores over the processes in place (so every process holds the whole scores),
// and each process then applies every update of the batch, in order, to its own columns. So no
// process holds a whole table, and the processes train one model: what differs from one
// process's run is the order in which a score's columns are added. Within a batch the scores
// are those of the rows as the batch began (the updates of the batch's earlier predictions are
// not in them), which costs nothing measurable on Brown (BENCHMARKS.md, "word2vec over column
// shards"); a row used n times in a batch moves n times on one stale coefficient, hence the cap.
// With parts == 1 and a reduce_dots that changes nothing, the same training in one process.
// Every model (skip-gram and CBOW, negative sampling and hierarchical softmax, subwords); the
// process's `threads` split its columns (deterministic at any thread count).
struct Word2VecColumnShards {
  std::int64_t part = 0;
  std::int64_t parts = 1;
  std::int64_t batch_words = 1000;
  std::function<void(std::span<float> partial_scores)> reduce_dots;
};

// Trains word vectors on the corpus at `corpus` (plain or gzip text). Throws IoError on an
// unreadable or invalid corpus, ValueError on bad options, an empty corpus, or a corpus where no
// word reaches min_count, and TrainingDivergedError (training_divergence.hpp) when the loss or the
// vectors become NaN or infinite (alpha too large): each thread checks its loss every 10000
// words, and the vectors are checked once at the end. on_progress (optional) is called about
// every progress_interval seconds (while the vocabulary is counted too, with fraction and words
// 0), and once at the end. An exception from on_progress (a
// cancelled run: Python's KeyboardInterrupt) stops training: the worker threads stop within a
// sentence, are joined, and the exception propagates out of train_word2vec.
// With `parallel` (above), the
// result is the same on every process, and words_trained and final_loss count all processes.
// With `columns` (above), vectors, input and output hold this process's columns only
// ([rows, its column count]); parallel and columns cannot both be given.
Word2VecResult train_word2vec(const std::filesystem::path& corpus, const Word2VecOptions& options,
                              const std::function<void(const Word2VecProgress&)>& on_progress = {},
                              const Word2VecDataParallel* parallel = nullptr,
                              const Word2VecColumnShards* columns = nullptr);

}  // namespace embedkit::models
