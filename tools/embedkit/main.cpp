// embedkit: the command-line tool. Parses the command line with CLI11 and runs one subcommand.
//
// Exit status: 0 success, 1 runtime error (message on stderr), 2 usage error.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/version.hpp"

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
    app.exit(e);  // prints the message and "Run with --help for more information."
    return kExitUsageError;
  }

  for (const auto& command : commands) {
    if (!command.app->parsed()) continue;
    const std::string name = command.app->get_name();
    try {
      return command.run();
    } catch (const embedkit::Error& e) {
      std::cerr << "embedkit " << name << ": error: " << e.what() << '\n';
    } catch (const std::exception& e) {
      std::cerr << "embedkit " << name << ": error: " << e.what() << '\n';
    }
    return kExitRuntimeError;
  }
  return kExitUsageError;  // unreachable: require_subcommand(1) guarantees one was chosen
}
