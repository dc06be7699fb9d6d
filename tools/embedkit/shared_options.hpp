// The options that mean the same thing in every subcommand, spelled once here so that they
// stay one name per concept (docs/cli.md has the table):
//   -k               how many results (neighbours, answers, labels, items, words to plot)
//   -o, --output     what the command writes (inputs are positional, outputs named)
//   --threads        training threads, all cores by default (fastText's habit)
// and the old spellings, kept for one release as hidden aliases: they work, --help does not
// show them, and the suggestions for a mistyped option never point to them. An alias is
// another option on the same variable: given with the new name, the last one given wins, as
// for a repeated option.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "option_checks.hpp"

namespace embedkit::cli {

// Adds a check run once `app`'s command line is parsed; what it throws (a CLI::ParseError) is
// a usage error, exit status 2. CLI11 keeps one callback per app: this keeps them all.
inline void add_parse_check(CLI::App* app, std::function<void()> check) {
  using Checks = std::vector<std::function<void()>>;
  static std::map<const CLI::App*, std::shared_ptr<Checks>> all;
  std::shared_ptr<Checks>& checks = all[app];
  if (!checks) {
    checks = std::make_shared<Checks>();
    app->callback([list = checks] {
      for (const auto& c : *list) c();
    });
  }
  checks->push_back(std::move(check));
}

// An option no one sees in --help: an old spelling on its way out.
template <class T>
CLI::Option* add_hidden_alias(CLI::App* app, const std::string& name, T& variable,
                              std::optional<CLI::Validator> check = std::nullopt) {
  CLI::Option* opt = app->add_option(name, variable, "(old spelling)")->group("");
  if (check) opt->check(*check);
  return opt;
}

// -k N, with the old spellings --topn, --top and --k hidden.
inline CLI::Option* add_result_count(CLI::App* app, std::int64_t& k, const std::string& help,
                                     const CLI::Validator& check) {
  CLI::Option* opt = app->add_option("-k", k, help)->check(check);
  for (const char* old : {"--topn", "--top", "--k"}) add_hidden_alias(app, old, k, check);
  return opt;
}

// The machine's cores, as fastText counts them (1 when the standard library cannot tell).
inline std::int64_t all_cores() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<std::int64_t>(n);
}

// --threads N of a training command: all cores unless given.
inline CLI::Option* add_training_threads(CLI::App* app, std::int64_t& threads,
                                         const std::string& help) {
  threads = all_cores();
  return app
      ->add_option("--threads", threads,
                   help + " (default: all cores, here " + std::to_string(threads) + ")")
      ->check(in_range<std::int64_t>(1, 1024));
}

// -o, --output FILE: where the command writes. `positional` names the old spelling (the output
// as a positional argument after the inputs, "OUT" or "MODEL"; "" when there was none), kept
// hidden; `old_long` an old long spelling ("--out"; "" when none). With `required`, giving
// neither is a usage error; giving both is one too.
inline void add_output(CLI::App* app, std::string& out, const std::string& help, bool required,
                       const std::string& positional, const std::string& old_long = "") {
  auto old_positional = std::make_shared<std::string>();
  CLI::Option* named = app->add_option("-o,--output", out, help);
  CLI::Option* hidden = nullptr;
  if (!positional.empty()) hidden = app->add_option(positional, *old_positional)->group("");
  if (!old_long.empty()) add_hidden_alias(app, old_long, out);
  add_parse_check(app, [named, hidden, old_positional, &out, required] {
    const bool as_positional = hidden != nullptr && hidden->count() > 0;
    if (as_positional && !out.empty()) {
      throw CLI::ArgumentMismatch("the output is given twice: as an argument ('" + *old_positional +
                                  "') and with -o ('" + out + "')");
    }
    if (as_positional) out = *old_positional;
    if (required && out.empty()) throw CLI::RequiredError(named->get_name(false, true));
  });
}

// The same for a command that writes several files (plot): -o FILE, repeated.
inline void add_outputs(CLI::App* app, std::vector<std::string>& outs, const std::string& help,
                        const std::string& positional, const CLI::Validator& check) {
  auto old_positional = std::make_shared<std::vector<std::string>>();
  CLI::Option* named = app->add_option("-o,--output", outs, help)->check(check);
  CLI::Option* hidden = app->add_option(positional, *old_positional)->group("")->check(check);
  add_parse_check(app, [named, hidden, old_positional, &outs] {
    if (hidden->count() > 0)
      outs.insert(outs.begin(), old_positional->begin(), old_positional->end());
    if (outs.empty()) throw CLI::RequiredError(named->get_name(false, true));
  });
}

}  // namespace embedkit::cli
