// embedkit_classifier: trains the textbook embedding classifier on labelled text and reports
// test accuracy.
//
//   embedkit_classifier --train train.txt --test test.txt [--epochs 10] [--dim 64] ...
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <numeric>

#include "embedkit/core/error.hpp"
#include "labelled_text.hpp"
#include "text_classifier.hpp"
#include "vocabulary.hpp"

namespace ex = embedkit::examples;

int main(int argc, char** argv) {
  CLI::App app{"Trains EmbeddingBag(mean) -> Linear -> ReLU -> Linear on labelled text."};
  std::string train_path, test_path, format_name = "auto", optimizer = "adam";
  std::int64_t epochs = 10, dim = 64, hidden = 64, batch_size = 32, min_count = 1;
  double lr = 1e-3;
  std::uint64_t seed = 1;
  app.add_option("--train", train_path, "training file")->required();
  app.add_option("--test", test_path, "test file")->required();
  app.add_option("--format", format_name, "auto, tab (sentence<TAB>label), trec, fasttext");
  app.add_option("--epochs", epochs, "passes over the training set")->check(CLI::Range(1, 1000));
  app.add_option("--dim", dim, "embedding dimension")->check(CLI::Range(1, 4096));
  app.add_option("--hidden", hidden, "hidden layer width")->check(CLI::Range(1, 4096));
  app.add_option("--batch", batch_size, "sentences per step")->check(CLI::Range(1, 1 << 20));
  app.add_option("--min-count", min_count, "rarer training words become <unk>")
      ->check(CLI::Range(1, 1 << 30));
  app.add_option("--optimizer", optimizer, "adam (SparseAdam for the table) or sgd")
      ->check(CLI::IsMember({"adam", "sgd"}));
  app.add_option("--lr", lr, "learning rate")->check(CLI::PositiveNumber);
  app.add_option("--seed", seed, "seed of initialisation and shuffling");
  CLI11_PARSE(app, argc, argv);

  try {
    const ex::TextFormat format = ex::parse_text_format(format_name);
    const auto train = ex::read_labelled_text(train_path, format);
    const auto test = ex::read_labelled_text(test_path, format);
    const ex::Vocabulary vocab = ex::Vocabulary::build(train, min_count);
    std::printf("train %zu sentences, test %zu, vocabulary %lld words, %lld labels\n", train.size(),
                test.size(), static_cast<long long>(vocab.num_words()),
                static_cast<long long>(vocab.num_labels()));

    embedkit::Generator gen(seed);
    ex::TextClassifierOptions options;
    options.vocab_size = vocab.num_words();
    options.num_classes = vocab.num_labels();
    options.embedding_dim = dim;
    options.hidden = hidden;
    options.optimizer = optimizer;
    options.lr = lr;
    ex::TextClassifier model(options, gen);

    std::vector<std::size_t> order(train.size());
    std::iota(order.begin(), order.end(), 0);
    std::vector<std::size_t> test_order(test.size());
    std::iota(test_order.begin(), test_order.end(), 0);
    const ex::Batch test_batch = ex::make_batch(test, test_order, 0, test.size(), vocab);
    const auto start = std::chrono::steady_clock::now();
    for (std::int64_t epoch = 1; epoch <= epochs; ++epoch) {
      // Fisher-Yates with embedkit's generator: the same seed gives the same run everywhere.
      for (std::size_t i = order.size(); i > 1; --i) {
        std::swap(order[i - 1], order[gen.next_u64() % i]);
      }
      double loss_sum = 0;
      std::size_t steps = 0;
      for (std::size_t b = 0; b < order.size(); b += static_cast<std::size_t>(batch_size)) {
        const std::size_t e = std::min(order.size(), b + static_cast<std::size_t>(batch_size));
        loss_sum += model.train_step(ex::make_batch(train, order, b, e, vocab));
        ++steps;
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("epoch %2lld  loss %.4f  test accuracy %.4f  (%.1f s)\n",
                  static_cast<long long>(epoch), loss_sum / static_cast<double>(steps),
                  model.accuracy(test_batch), seconds);
    }
    std::printf("final test accuracy %.4f\n", model.accuracy(test_batch));
    return 0;
  } catch (const embedkit::Error& e) {
    std::cerr << "embedkit_classifier: error: " << e.what() << "\n";
    return 1;
  }
}
