#include "fasttext_spellings.hpp"

#include <cctype>
#include <filesystem>
#include <string_view>

#include "command_line.hpp"

namespace embedkit::cli {
namespace {

struct Renamed {
  std::string_view fasttext;
  std::string_view ours;
};

// fastText names that are not ours in camel case.
constexpr Renamed kRenamed[] = {
    {"-epoch", "--epochs"},       {"-ws", "--window"},      {"-neg", "--negative"},
    {"-bucket", "--buckets"},     {"-thread", "--threads"}, {"-t", "--sample"},
    {"-label", "--label-prefix"},
};

// fastText options embedkit knows under the kebab-case of their words: listed so the help
// and the suggestions can name them (the translation itself takes any camel-case name).
constexpr std::string_view kCamelCase[] = {
    "-lr",
    "-dim",
    "-seed",
    "-loss",
    "-minCount",
    "-wordNgrams",
    "-minn",
    "-maxn",
    "-pretrainedVectors",
    "-dsub",
    "-qnorm",
    "-qout",
    "-cutoff",
    "-retrain",
    // fastText's autotune options are spelled with dashes on its command line.
    "-autotune-validation",
    "-autotune-duration",
    "-autotune-metric",
    "-autotune-predictions",
    "-autotune-modelsize",
};

bool is_option(const CLI::App& app, const std::string& name) {
  return app.get_option_no_throw(name) != nullptr;
}

// "-wordNgrams" -> "--word-ngrams".
std::string kebab_case(std::string_view one_dash) {
  std::string out = "--";
  for (const char c : one_dash.substr(1)) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      out += '-';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

// A one-dash name: '-', a letter, then letters and inner dashes ("-autotune-duration"); "-5",
// "-", "--x", "-x-" and "-o=x" are not.
bool is_one_dash_name(const std::string& token) {
  if (token.size() < 2 || !std::isalpha(static_cast<unsigned char>(token[1]))) return false;
  if (token[0] != '-' || token.back() == '-') return false;
  for (std::size_t i = 1; i < token.size(); ++i) {
    if (!std::isalpha(static_cast<unsigned char>(token[i])) && token[i] != '-') return false;
  }
  return true;
}

// Our option for fastText's `token` on `leaf`, or "" when it has none.
std::string our_option(const CLI::App& leaf, const std::string& token) {
  for (const Renamed& r : kRenamed) {
    if (token == r.fasttext) return is_option(leaf, std::string(r.ours)) ? std::string(r.ours) : "";
  }
  if (token.size() < 3) return "";  // a one-letter name is CLI11's own short option
  const std::string kebab = kebab_case(token);
  return is_option(leaf, kebab) ? kebab : "";
}

// The extension -output PREFIX gets in the training commands (fastText's -input and -output
// belong to its training commands); "" for the others.
std::string output_extension(const std::string& path) {
  if (path == "train") return ".vec";
  if (path == "classify train" || path == "recommend train") return ".safetensors";
  return "";
}

// Whether the command line sets a model-size target (then `classify train` writes a .ftz).
bool has_model_size(const std::vector<std::string>& args, std::size_t first) {
  for (std::size_t i = first; i < args.size() && args[i] != "--"; ++i) {
    const std::string& a = args[i];
    if (a == "-autotune-modelsize" || a == "--autotune-modelsize" ||
        a.rfind("--autotune-modelsize=", 0) == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

void translate_fasttext_spellings(const CLI::App& leaf, const std::string& path,
                                  std::vector<std::string>& args, std::size_t first) {
  // fastText writes PREFIX.ftz, and no .bin, when autotune has a model-size target.
  const std::string extension = path == "classify train" && has_model_size(args, first)
                                    ? std::string(".ftz")
                                    : output_extension(path);
  const bool has_output = !extension.empty();
  for (std::size_t i = first; i < args.size(); ++i) {
    const std::string& token = args[i];
    if (token == "--") break;
    if (takes_separate_value(leaf, token)) {
      ++i;  // the value of an option of ours, whatever it looks like
      continue;
    }
    if (!is_one_dash_name(token) || is_option(leaf, token)) continue;
    if (token == "-input" && has_output && i + 1 < args.size()) {
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));  // the value stays, positional
      continue;
    }
    if (token == "-output" && path == "quantize" && i + 1 < args.size()) {
      // fastText's quantize reads PREFIX.bin and writes PREFIX.ftz; embedkit's own model is
      // PREFIX.safetensors (classify train -output PREFIX), read when it exists.
      const std::string prefix = args[i + 1];
      std::error_code ec;
      args[i] = std::filesystem::exists(prefix + ".safetensors", ec) ? prefix + ".safetensors"
                                                                     : prefix + ".bin";
      args[i + 1] = "--output";
      args.insert(args.begin() + static_cast<std::ptrdiff_t>(i) + 2, prefix + ".ftz");
      i += 2;
      continue;
    }
    if (token == "-output" && has_output && i + 1 < args.size()) {
      args[i] = "--output";
      args[i + 1] += extension;
      ++i;
      continue;
    }
    if (const std::string ours = our_option(leaf, token); !ours.empty()) args[i] = ours;
  }
}

std::vector<std::string> fasttext_spellings_for(const CLI::App& leaf) {
  std::vector<std::string> out;
  for (const Renamed& r : kRenamed) {
    if (is_option(leaf, std::string(r.ours))) out.emplace_back(r.fasttext);
  }
  for (const std::string_view name : kCamelCase) {
    if (is_option(leaf, kebab_case(name))) out.emplace_back(name);
  }
  return out;
}

std::vector<std::string> fasttext_spellings_for(const CLI::App& leaf, const std::string& path) {
  std::vector<std::string> out = fasttext_spellings_for(leaf);
  if (!output_extension(path).empty()) {
    out.emplace_back("-input");
    out.emplace_back("-output");
  }
  if (path == "quantize") {
    out.emplace_back("-output");
    out.emplace_back("-input");  // --retrain's training file
  }
  return out;
}

}  // namespace embedkit::cli
