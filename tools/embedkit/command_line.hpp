// The command line around CLI11: what `embedkit` does before CLI11 parses it (help, the usage
// for a command given without its subcommand, unknown commands, fastText's spellings) and
// the message it prints when CLI11 refuses it (the unknown option named, the nearest one
// suggested).
//
//   embedkit                       the usage, on stderr, exit status 2 (nothing was asked)
//   embedkit help [COMMAND...]     the usage of embedkit or of COMMAND, on stdout, status 0
//   embedkit classify              classify's usage, on stderr, status 2
//   embedkit trian ...             "unknown command 'trian'; did you mean 'train'?", status 2
//   embedkit train --epoch 3 ...   "unknown option '--epoch'; did you mean '--epochs'?", status 2
//   embedkit skipgram|cbow ...     embedkit train --model skipgram|cbow ... (fastText's names)
//   embedkit supervised ...        embedkit classify train ...
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace embedkit::cli {

// CLI11's help layout, with the usage line leaving out hidden positional arguments (old
// spellings, like the positional OUT that -o replaced). Set on the top-level app before the
// subcommands are added: they copy it.
std::shared_ptr<CLI::Formatter> make_help_formatter();

// Rewrites `args` (argv without the program name) for CLI11, or answers the command line
// itself and returns the exit status.
std::optional<int> prepare_command_line(const CLI::App& root, std::vector<std::string>& args);

// The message for a ParseError of CLI11 on `args` (as prepare_command_line left them).
std::string explain_parse_error(const CLI::App& root, const std::vector<std::string>& args,
                                const CLI::ParseError& error);

// Whether `token` is an option of `app` whose value is the next argument ("--lr" of
// "--lr 0.1", not "--lr=0.1", not a flag).
bool takes_separate_value(const CLI::App& app, const std::string& token);

}  // namespace embedkit::cli
