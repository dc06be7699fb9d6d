// embedkit: the command-line tool. Parses the command line with CLI11 and runs one subcommand.
//
// Exit status: 0 success, 1 runtime error (message on stderr), 2 usage error.
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

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

  try {
    app.parse(argc, argv);
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
    // app.exit(e) would echo the offending argument as it is: escape it like every message.
    std::cerr << embedkit::cli::printable(e.what()) << "\nRun with --help for more information.\n";
    return kExitUsageError;
  }

  for (const auto& command : commands) {
    if (!command.app->parsed()) continue;
    const std::string name = command.app->get_name();
    try {
      return command.run();
    } catch (const std::bad_alloc&) {
      // Where a size is known in advance the command says how much it needs before trying;
      // this is the rest (a size that no check foresaw).
      std::cerr << "embedkit " << name
                << ": error: out of memory (the input or the options ask for more memory than "
                   "this machine can give)\n";
    } catch (const std::exception& e) {
      // embedkit::Error and everything else; messages quote paths and words from the user or
      // from files, which may hold any bytes.
      std::cerr << "embedkit " << name << ": error: " << embedkit::cli::printable(e.what()) << '\n';
    }
    return kExitRuntimeError;
  }
  return kExitUsageError;  // unreachable: require_subcommand(1) guarantees one was chosen
}
