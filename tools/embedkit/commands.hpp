// The embedkit command's subcommands. Each one lives in its own file and registers itself on
// the top-level CLI11 app; main.cpp parses the command line, then runs the one that was chosen.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace embedkit::cli {

// A registered subcommand: its CLI11 app (to see whether it was chosen) and what running it
// does. run() returns the process exit status (0 ok, 1 failure) and may throw embedkit::Error
// or other std::exception, which main() reports on stderr with exit status 1.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// `embedkit tour`: what an embedding table is, shown step by step on a tiny table (tour.cpp).
Command add_tour(CLI::App& parent);
// Word vectors: nearest neighbors, analogies, evaluation, format conversion
// (similar.cpp, analogy.cpp, eval.cpp, convert.cpp).
Command add_similar(CLI::App& parent);
Command add_analogy(CLI::App& parent);
Command add_eval(CLI::App& parent);
Command add_convert(CLI::App& parent);

// `embedkit plot`: words projected to 2-D (PCA, t-SNE), drawn as SVG/PNG (plot.cpp).
Command add_plot(CLI::App& parent);

// `embedkit train`: word2vec training on a text corpus (train.cpp).
Command add_train(CLI::App& parent);

// `embedkit recommend train|eval|topn|similar`: matrix-factorization recommender (recommend.cpp).
Command add_recommend(CLI::App& parent);

// `embedkit classify train|test|predict`: fastText-style text classification (classify.cpp).
Command add_classify(CLI::App& parent);

// `embedkit quantize`: a classifier compressed into fastText's .ftz (quantize.cpp).
Command add_quantize(CLI::App& parent);

}  // namespace embedkit::cli
