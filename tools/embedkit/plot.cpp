// `embedkit plot VECTORS OUT...`: chosen words (or the first N of the file) projected to 2-D by
// PCA or t-SNE and drawn as a labelled scatter plot, written as SVG and/or PNG (by each OUT's
// extension). Every output is checked first (its directory writable, no output the same file
// as an input or as another output), before the words are even projected; all are rendered
// before any is written, and each is written atomically. OUT '-' writes SVG to standard
// output (the summary then goes to stderr); VECTORS or --words-file '-' reads standard input.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include "commands.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/io/atomic_file.hpp"
#include "embedkit/vectors/projection.hpp"
#include "json.hpp"
#include "option_checks.hpp"
#include "plot_render.hpp"
#include "same_file.hpp"
#include "std_streams.hpp"
#include "terminal_text.hpp"
#include "vectors_options.hpp"

namespace embedkit::cli {
namespace {

// Exact t-SNE keeps N x N matrices: 5000 points is 400 MB already.
constexpr std::int64_t kMaxTsnePoints = 5000;

struct PlotOptions {
  std::string vectors;
  std::vector<std::string> outputs;
  std::string format;
  std::vector<std::string> words;
  std::string words_file;
  std::int64_t top = 0;
  bool skip_unknown = false;
  std::string method = "pca";
  double perplexity = 0.0;
  std::int64_t iterations = 1000;
  std::uint64_t seed = 0;
  std::string title;
  int width = 1000;
  int height = 750;
  double font_size = 12.0;
  bool json = false;
};

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

std::vector<std::string> read_words_file(const std::string& path) {
  std::ifstream file;
  if (!is_std_stream(path)) {
    open_input_file(file, path, "the words file");
  }
  std::istream& in = is_std_stream(path) ? std::cin : file;
  std::vector<std::string> words;
  std::string word;
  while (in >> word) words.push_back(word);
  if (in.bad()) throw IoError(is_std_stream(path) ? std::string(kStdinName) : path, "read error");
  return words;
}

bool writes_svg(const std::string& out) {
  return is_std_stream(out) || lower_extension(out) == ".svg";
}

std::string format_percent(double ratio) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * ratio);
  return buf;
}

int run_plot(const PlotOptions& o) {
  if (is_std_stream(o.vectors) && is_std_stream(o.words_file)) {
    throw ValueError("VECTORS and --words-file cannot both be '-' (standard input is read once)");
  }
  if (std::count_if(o.outputs.begin(), o.outputs.end(), is_std_stream) > 1) {
    throw ValueError("only one OUT can be '-' (standard output)");
  }
  std::vector<NamedFile> inputs;
  add_vector_files(inputs, "VECTORS", o.vectors, format_for(o.vectors, o.format, std::nullopt),
                   Direction::Input);
  if (!o.words_file.empty()) inputs.push_back({"--words-file", o.words_file});
  std::vector<NamedFile> outputs;
  for (const std::string& out : o.outputs) outputs.push_back({"--output", out});
  refuse_outputs_over_inputs(inputs, outputs);
  // Every output file is opened (as its temporary file) before any work: one that cannot be
  // written fails the command before anything is written (or computed).
  std::vector<std::unique_ptr<io::AtomicFile>> files;
  for (const std::string& out : o.outputs) {
    files.push_back(is_std_stream(out) ? nullptr : std::make_unique<io::AtomicFile>(out));
  }

  const vectors::KeyedVectors kv = load_keyed_vectors(o.vectors, o.format);

  // The words, in the order given (first occurrence), or the file's first N rows.
  std::vector<std::string> chosen = o.words;
  if (!o.words_file.empty()) {
    const auto more = read_words_file(o.words_file);
    chosen.insert(chosen.end(), more.begin(), more.end());
  }
  const bool by_name = !o.words.empty() || !o.words_file.empty();
  std::vector<std::int64_t> rows;
  if (by_name) {
    std::unordered_set<std::string> seen;
    std::vector<std::string> unknown;
    for (const std::string& w : chosen) {
      if (!seen.insert(w).second) continue;
      if (const auto row = kv.find(w)) {
        rows.push_back(*row);
      } else {
        unknown.push_back(w);
      }
    }
    if (!unknown.empty()) {
      std::string names;
      for (const std::string& w : unknown) names += (names.empty() ? "'" : ", '") + w + "'";
      const std::string message = std::to_string(unknown.size()) + " word" +
                                  (unknown.size() == 1 ? "" : "s") + " not in " + o.vectors + ": " +
                                  names;
      if (!o.skip_unknown) throw ValueError(message + " (--skip-unknown leaves them out)");
      std::cerr << "embedkit plot: skipping " << printable(message) << '\n';
    }
  } else {
    const std::int64_t n = std::min(o.top > 0 ? o.top : 100, kv.size());
    for (std::int64_t i = 0; i < n; ++i) rows.push_back(i);
  }
  if (rows.empty()) throw ValueError("nothing to plot: no words chosen");

  const auto n = static_cast<std::int64_t>(rows.size());
  const std::int64_t dim = kv.dim();
  Tensor selected = Tensor::empty({n, dim});
  float* dst = selected.data<float>();
  const float* src = kv.matrix().data<float>();
  std::vector<std::string> labels;
  for (std::int64_t i = 0; i < n; ++i) {
    std::copy_n(src + rows[static_cast<std::size_t>(i)] * dim, dim, dst + i * dim);
    labels.push_back(kv.words()[static_cast<std::size_t>(rows[static_cast<std::size_t>(i)])]);
  }

  PlotInput input;
  input.labels = labels;
  input.width = o.width;
  input.height = o.height;
  input.font_size = o.font_size;
  const std::string source = std::filesystem::path(o.vectors).filename().string();
  Json extra = Json::object();
  std::string summary;
  if (o.method == "pca") {
    const vectors::PcaResult r = vectors::pca_2d(selected);
    input.points = r.points;
    input.x_label = "PC1 (" + format_percent(r.explained_variance_ratio[0]) + " of variance)";
    input.y_label = "PC2 (" + format_percent(r.explained_variance_ratio[1]) + " of variance)";
    input.title = "PCA of " + std::to_string(n) + " word vectors (" + source + ")";
    extra.set("explained_variance_ratio",
              Json::array_of(std::vector<double>{r.explained_variance_ratio[0],
                                                 r.explained_variance_ratio[1]}));
    summary = "PCA, PC1 " + format_percent(r.explained_variance_ratio[0]) + " and PC2 " +
              format_percent(r.explained_variance_ratio[1]) + " of the variance";
  } else {
    if (n > kMaxTsnePoints) {
      throw ValueError("t-SNE here is exact (N^2 memory): at most " +
                       std::to_string(kMaxTsnePoints) + " words, got " + std::to_string(n));
    }
    vectors::TsneOptions t;
    t.perplexity = o.perplexity > 0 ? o.perplexity : vectors::perplexity_for(n);
    if (n > 1 && t.perplexity >= static_cast<double>(n)) {
      throw ValueError("--perplexity must be less than the number of words (" + std::to_string(n) +
                       ")");
    }
    t.iterations = o.iterations;
    t.seed = o.seed;
    const vectors::TsneResult r = vectors::tsne_2d(selected, t);
    input.points = r.points;
    input.x_label = "t-SNE 1";
    input.y_label = "t-SNE 2";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", t.perplexity);
    input.title =
        "t-SNE of " + std::to_string(n) + " word vectors (" + source + ", perplexity " + buf + ")";
    extra.set("perplexity", t.perplexity).set("kl_divergence", r.kl_divergence);
    summary = std::string("t-SNE, perplexity ") + buf;
    std::snprintf(buf, sizeof buf, "%.3f", r.kl_divergence);
    summary += std::string(", KL divergence ") + buf;
  }
  if (!o.title.empty()) input.title = o.title;

  // Render everything first: a failure writes nothing.
  const PlotLayout layout = layout_plot(input);
  std::vector<std::string> contents;
  for (const std::string& out : o.outputs) {
    contents.push_back(writes_svg(out) ? render_svg(layout) : render_png(layout));
  }
  for (std::size_t i = 0; i < o.outputs.size(); ++i) {
    if (files[i]) files[i]->write(contents[i].data(), contents[i].size());
  }
  for (std::size_t i = 0; i < o.outputs.size(); ++i) {
    if (files[i]) {
      files[i]->commit();
    } else {
      std::cout << contents[i] << std::flush;
    }
  }
  std::ostream& report =
      std::any_of(o.outputs.begin(), o.outputs.end(), is_std_stream) ? std::cerr : std::cout;

  if (o.json) {
    Json points = Json::array();
    for (std::size_t i = 0; i < labels.size(); ++i) {
      points.push(Json::object()
                      .set("word", labels[i])
                      .set("x", input.points[i][0])
                      .set("y", input.points[i][1]));
    }
    Json j = Json::object();
    j.set("vectors", o.vectors)
        .set("method", o.method)
        .set("words", static_cast<std::int64_t>(n))
        .set("outputs", Json::array_of(o.outputs));
    j.set("details", extra).set("points", points);
    report << j.dump();
  } else {
    std::string names;
    for (const std::string& out : o.outputs) names += (names.empty() ? "" : ", ") + out;
    report << "wrote " << names << " (" << n << " words; " << summary << ")\n";
  }
  return 0;
}

}  // namespace

Command add_plot(CLI::App& parent) {
  auto o = std::make_shared<PlotOptions>();
  CLI::App* app = parent.add_subcommand(
      "plot",
      "Plot words in 2-D (PCA or t-SNE) as a labelled scatter plot, written as SVG and/or PNG");
  app->add_option("VECTORS", o->vectors, kVectorsInputHelp)->required();
  add_outputs(app, o->outputs,
              "Output file ending in .svg or .png ('-': SVG on standard output); repeat -o for "
              "several",
              "OUT",
              CLI::Validator(
                  [](std::string& path) -> std::string {
                    const std::string ext = lower_extension(path);
                    if (ext == ".svg" || ext == ".png" || is_std_stream(path)) return "";
                    return "an output must end in .svg or .png (or be '-'), got '" + path + "'";
                  },
                  "FILE.svg|FILE.png|-"));
  CLI::Option* words =
      app->add_option("--words", o->words, "Words to plot, comma-separated (in this order)")
          ->delimiter(',');
  CLI::Option* words_file =
      app->add_option("--words-file", o->words_file,
                      "A file of words to plot, separated by spaces or newlines ('-': standard "
                      "input)");
  add_result_count(app, o->top,
                   "Without --words: plot the first (most frequent) k words (default 100)",
                   positive<std::int64_t>())
      ->excludes(words)
      ->excludes(words_file);
  // The old spellings too, without showing them in --words' help ("Excludes: --top").
  for (const char* old : {"--topn", "--top", "--k"}) {
    CLI::Option* alias = app->get_option(old);
    add_parse_check(app, [alias, words, words_file] {
      if (alias->count() > 0 && (words->count() > 0 || words_file->count() > 0)) {
        throw CLI::ExcludesError(alias->get_name(),
                                 words->count() > 0 ? "--words" : "--words-file");
      }
    });
  }
  app->add_flag("--skip-unknown", o->skip_unknown,
                "Leave out words that are not in the file (a warning) instead of failing");
  app->add_option("--method", o->method, "pca or tsne")
      ->check(CLI::IsMember({"pca", "tsne"}))
      ->capture_default_str();
  app->add_option("--perplexity", o->perplexity, "t-SNE perplexity (default min(30, (N - 1) / 3))")
      ->check(positive<double>());
  app->add_option("--iterations", o->iterations, "t-SNE iterations")
      ->check(in_range<std::int64_t>(1, 100000))
      ->capture_default_str();
  app->add_option("--seed", o->seed, "t-SNE random seed (same seed, same plot)")
      ->check(non_negative<std::uint64_t>())
      ->capture_default_str();
  app->add_option("--title", o->title, "Plot title (default: method, word count and file)");
  app->add_option("--width", o->width, "Width in pixels (raise it, and --height, for many words)")
      ->check(in_range<int>(200, 10000))
      ->capture_default_str();
  app->add_option("--height", o->height, "Height in pixels")
      ->check(in_range<int>(200, 10000))
      ->capture_default_str();
  app->add_option("--font-size", o->font_size, "Label font size in pixels")
      ->check(in_range<double>(4.0, 100.0))
      ->capture_default_str();
  app->add_option("--format", o->format, kVectorFormatHelp)->check(vector_format_validator());
  app->add_flag("--json", o->json, "Print the 2-D coordinates (and a summary) as JSON");
  return Command{app, [o] { return run_plot(*o); }};
}

}  // namespace embedkit::cli
