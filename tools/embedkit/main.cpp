// embedkit: the command-line tool. Parses the command line with CLI11 and runs one subcommand.
//
// Exit status: 0 success, 1 runtime error (message on stderr), 2 usage error. What happens
// around CLI11 (help, unknown commands and options, fastText's spellings) is command_line.hpp's.
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "command_line.hpp"
#include "commands.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/version.hpp"
#include "terminal_text.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRuntimeError = 1;
constexpr int kExitUsageError = 2;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"embedkit: embedding tables with PyTorch's semantics, in C++.", "embedkit"};
  app.set_version_flag("--version", std::string("embedkit ") + EMBEDKIT_VERSION_STRING,
                       "Print the version and exit");
  app.require_subcommand(1);
  app.formatter(embedkit::cli::make_help_formatter());
  app.footer(
      "Run 'embedkit help COMMAND' (or 'embedkit COMMAND --help') for a command's options.\n"
      "fastText's names work too: 'embedkit skipgram|cbow' is 'embedkit train --model "
      "skipgram|cbow', 'embedkit supervised' is 'embedkit classify train', and one-dash options "
      "(-input, -output PREFIX, -epoch, -lr, -dim, -ws, -minCount, -neg, -loss, -wordNgrams, "
      "-bucket, -thread, -t, -seed, -label) are read as the command's own.");

  std::vector<embedkit::cli::Command> commands;
  commands.push_back(embedkit::cli::add_tour(app));
  commands.push_back(embedkit::cli::add_similar(app));
  commands.push_back(embedkit::cli::add_analogy(app));
  commands.push_back(embedkit::cli::add_eval(app));
  commands.push_back(embedkit::cli::add_convert(app));
  commands.push_back(embedkit::cli::add_train(app));
  commands.push_back(embedkit::cli::add_recommend(app));
  commands.push_back(embedkit::cli::add_plot(app));
  commands.push_back(embedkit::cli::add_classify(app));
  commands.push_back(embedkit::cli::add_quantize(app));

  std::vector<std::string> args(argv + 1, argv + argc);
  if (const auto answered = embedkit::cli::prepare_command_line(app, args)) return *answered;
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 pops from the back
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    app.exit(e);
    return kExitOk;
  } catch (const CLI::CallForAllHelp& e) {
    app.exit(e);
    return kExitOk;
  } catch (const CLI::CallForVersion& e) {
    app.exit(e);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    // Names the unknown option and the nearest known one; escapes what it quotes.
    std::cerr << embedkit::cli::explain_parse_error(app, args, e) << '\n';
    return kExitUsageError;
  }

  for (const auto& command : commands) {
    if (!command.app->parsed()) continue;
    const std::string name = command.app->get_name();
    try {
      return command.run();
    } catch (...) {
      embedkit::cli::print_current_error(name);
    }
    return kExitRuntimeError;
  }
  return kExitUsageError;  // unreachable: require_subcommand(1) guarantees one was chosen
}
