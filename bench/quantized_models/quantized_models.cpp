// What row-wise quantization (int8, int4, int2: docs/quantization.md) does to trained models:
// the text classifier's P@1 on SST-2 and TREC, and the recommender's RMSE and ranking metrics on
// MovieLens, each with its float32 tables and with them quantized.
//
//   quantized_models --sst2 TRAIN TEST --trec TRAIN TEST --ratings ratings.csv [--threads N]
//
// The classify files are in fastText's format (bench/classify/convert.sh writes them). Each
// model is trained once, saved, and the saved file is rewritten with its embedding tables
// replaced by dequantize(quantize(table)): the values a quantized lookup reads (up to the last
// bit of fma against the product rounded first, docs/quantization.md), loaded back through the
// ordinary model loader and evaluated as the float model is. The classifier's input table (words
// and n-gram buckets, nearly all of its bytes) is quantized and its small output table kept;
// the recommender's user and item factor tables are quantized and its biases kept.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "embedkit/core/quantized_format.hpp"
#include "embedkit/io/safetensors.hpp"
#include "embedkit/models/labelled_text.hpp"
#include "embedkit/models/rating_split.hpp"
#include "embedkit/models/ratings.hpp"
#include "embedkit/models/recommender.hpp"
#include "embedkit/models/text_classifier.hpp"
#include "embedkit/nn/quantized_table.hpp"

namespace {

namespace fs = std::filesystem;
using embedkit::QuantizedFormat;
using embedkit::Tensor;
namespace io = embedkit::io;
namespace models = embedkit::models;
namespace nn = embedkit::nn;

struct Variant {
  const char* name;
  std::optional<QuantizedFormat> format;  // none: float32 as trained
};
constexpr Variant kVariants[] = {{"float32", std::nullopt},
                                 {"int8", QuantizedFormat::Int8},
                                 {"int4", QuantizedFormat::Int4},
                                 {"int2", QuantizedFormat::Int2}};

struct TableError {
  double max_abs = 0;
  double mean_abs = 0;
  std::int64_t bytes = 0;  // the table as stored: float32 or packed rows
};

// Replaces each named table in the saved model `from` by its quantized-then-dequantized values
// and writes the result to `to`; returns the tables' error and stored size.
TableError rewrite_quantized(const fs::path& from, const fs::path& to,
                             const std::vector<std::string>& names,
                             std::optional<QuantizedFormat> format) {
  io::SafetensorsContents model = io::load_safetensors(from);
  TableError e;
  double sum = 0;
  std::int64_t count = 0;
  for (auto& [name, tensor] : model.tensors) {
    bool chosen = false;
    for (const std::string& n : names) chosen = chosen || n == name;
    if (!chosen) continue;
    if (!format) {
      e.bytes += static_cast<std::int64_t>(tensor.nbytes());
      continue;
    }
    const nn::QuantizedTable q = nn::quantize(tensor, *format);
    e.bytes += q.num_embeddings() * q.row_bytes();
    Tensor back = nn::dequantize(q);
    const float* a = tensor.data<float>();
    const float* b = back.data<float>();
    for (std::int64_t i = 0; i < tensor.numel(); ++i) {
      const double d = std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
      e.max_abs = std::max(e.max_abs, d);
      sum += d;
    }
    count += tensor.numel();
    tensor = back;
  }
  e.mean_abs = count > 0 ? sum / static_cast<double>(count) : 0;
  io::save_safetensors(to, model.tensors, model.metadata);
  return e;
}

void classify(const char* task, const fs::path& train_path, const fs::path& test_path,
              const models::ClassifierOptions& options, const fs::path& work) {
  models::LabelledTextOptions text;
  text.format = models::parse_text_format("fasttext");
  const auto train = models::read_labelled_text(train_path, text);
  const auto test = models::read_labelled_text(test_path, text);
  const models::TextClassifier model = models::TextClassifier::train(train, options);
  const fs::path saved = work / (std::string(task) + ".safetensors");
  model.save(saved);
  std::printf("\n%s (classifier: dim %lld, %lld epochs, lr %g, word n-grams %lld, %lld threads)\n",
              task, static_cast<long long>(options.dim), static_cast<long long>(options.epochs),
              options.lr, static_cast<long long>(options.word_ngrams),
              static_cast<long long>(options.threads));
  std::printf("%-8s %8s %12s %12s %14s\n", "table", "P@1", "max |err|", "mean |err|", "input MB");
  for (const Variant& v : kVariants) {
    const fs::path file = work / (std::string(task) + "-" + v.name + ".safetensors");
    const TableError e = rewrite_quantized(saved, file, {"input.weight"}, v.format);
    const double p1 = models::TextClassifier::load(file).evaluate(test, 1).precision();
    std::printf("%-8s %8.4f %12.3g %12.3g %14.1f\n", v.name, p1, e.max_abs, e.mean_abs,
                static_cast<double>(e.bytes) / 1e6);
  }
}

void recommend(const fs::path& ratings_path, const fs::path& work) {
  const models::Ratings ratings = models::read_ratings(ratings_path);
  models::SplitOptions so;  // random 80/20, seed 42: the split of BENCHMARKS.md's recommender
  const models::RatingsSplit split = models::split_ratings(ratings, so);
  const models::MfOptions options;  // the command's defaults
  const models::Recommender rec = models::train_recommender(split.train, options);
  const fs::path saved = work / "movielens.safetensors";
  rec.save(saved);
  std::printf("\nMovieLens (matrix factorization: the defaults, dim %lld, %lld epochs)\n",
              static_cast<long long>(options.dim), static_cast<long long>(options.epochs));
  std::printf("%-8s %8s %8s %10s %10s %12s %12s %12s\n", "tables", "RMSE", "MAE", "recall@10",
              "NDCG@10", "max |err|", "mean |err|", "factors MB");
  for (const Variant& v : kVariants) {
    const fs::path file = work / (std::string("movielens-") + v.name + ".safetensors");
    const TableError e =
        rewrite_quantized(saved, file, {"user_factors.weight", "item_factors.weight"}, v.format);
    const models::Recommender q = models::Recommender::load(file);
    const models::RatingMetrics rm = models::evaluate_ratings(q, split.test);
    // Relevant: a held-out rating of 4 or more, as the command's default --min-rating.
    const models::RankingMetrics km = models::evaluate_ranking(q, split.test, 10, 4.0);
    std::printf("%-8s %8.4f %8.4f %10.4f %10.4f %12.3g %12.3g %12.2f\n", v.name, rm.rmse, rm.mae,
                km.recall, km.ndcg, e.max_abs, e.mean_abs, static_cast<double>(e.bytes) / 1e6);
  }
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: quantized_models --sst2 TRAIN TEST --trec TRAIN TEST --ratings "
               "ratings.csv [--threads N]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  fs::path sst2_train, sst2_test, trec_train, trec_test, ratings;
  std::int64_t threads = 2;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "--sst2" || a == "--trec") && i + 2 < args.size()) {
      (a == "--sst2" ? sst2_train : trec_train) = args[i + 1];
      (a == "--sst2" ? sst2_test : trec_test) = args[i + 2];
      i += 2;
    } else if (a == "--ratings" && i + 1 < args.size()) {
      ratings = args[++i];
    } else if (a == "--threads" && i + 1 < args.size()) {
      threads = std::stoll(args[++i]);
    } else {
      usage();
    }
  }
  if (sst2_train.empty() || trec_train.empty() || ratings.empty()) usage();
  const fs::path work =
      fs::temp_directory_path() / ("quantized-models-" + std::to_string(::getpid()));
  fs::create_directories(work);
  try {
    // The README's SST-2 settings (bigrams, 25 epochs, lr 0.5) and bench/classify's TREC ones.
    models::ClassifierOptions sst2;
    sst2.epochs = 25;
    sst2.lr = 0.5;
    sst2.word_ngrams = 2;
    sst2.threads = threads;
    classify("SST-2", sst2_train, sst2_test, sst2, work);
    models::ClassifierOptions trec = sst2;
    classify("TREC", trec_train, trec_test, trec, work);
    recommend(ratings, work);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "quantized_models: %s\n", e.what());
    fs::remove_all(work);
    return 1;
  }
  fs::remove_all(work);
  return 0;
}
