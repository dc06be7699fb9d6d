#include "command_line.hpp"

#include <cctype>
#include <iostream>

#include "fasttext_spellings.hpp"
#include "nearest_name.hpp"
#include "terminal_text.hpp"

namespace embedkit::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsageError = 2;

// fastText's training commands, kept as names of ours: what a fastText user types first.
struct CommandAlias {
  const char* fasttext;
  std::vector<std::string> command;  // our command
  std::vector<std::string> options;  // and what the name says beyond it
};
const std::vector<CommandAlias>& command_aliases() {
  static const std::vector<CommandAlias> aliases = {
      {"skipgram", {"train"}, {"--model", "skipgram"}},
      {"cbow", {"train"}, {"--model", "cbow"}},
      {"supervised", {"classify", "train"}, {}},
  };
  return aliases;
}

// fastText's other commands, which embedkit has under other names (not aliased: fastText's take
// their count as a positional argument, `predict model.bin test.txt 5`, where ours take -k).
struct CommandHint {
  const char* fasttext;
  const char* ours;
};
constexpr CommandHint kCommandHints[] = {
    {"test", "classify test"},
    {"predict", "classify predict"},
    {"predict-prob", "classify predict"},
    {"nn", "similar"},
    {"analogies", "analogy"},
};

const CLI::App* find_subcommand(const CLI::App& app, const std::string& name) {
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_name() == name) return sub;
  }
  return nullptr;
}

// The subcommands named by args[first..], from the top: "classify train" gives
// {root, classify, train}, and `next` the index of the first argument after them.
struct Chain {
  std::vector<const CLI::App*> apps;
  std::size_t next = 0;

  const CLI::App& leaf() const { return *apps.back(); }
  bool wants_subcommand() const { return !leaf().get_subcommands({}).empty(); }
  // "embedkit classify train"
  std::string name() const {
    std::string out;
    for (const CLI::App* app : apps) out += (out.empty() ? "" : " ") + app->get_name();
    return out;
  }
  // "classify train"
  std::string path() const {
    std::string out;
    for (std::size_t i = 1; i < apps.size(); ++i) out += (i > 1 ? " " : "") + apps[i]->get_name();
    return out;
  }
};

Chain resolve(const CLI::App& root, const std::vector<std::string>& args, std::size_t first) {
  Chain chain{{&root}, first};
  while (chain.next < args.size()) {
    const CLI::App* sub = find_subcommand(chain.leaf(), args[chain.next]);
    if (sub == nullptr) break;
    chain.apps.push_back(sub);
    ++chain.next;
  }
  return chain;
}

std::vector<std::string> subcommand_names(const CLI::App& app, bool top) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  if (top) {
    names.emplace_back("help");
    for (const CommandAlias& alias : command_aliases()) names.emplace_back(alias.fasttext);
  }
  return names;
}

std::string did_you_mean(const std::string& typed, const std::vector<std::string>& candidates) {
  const std::string nearest = nearest_name(typed, candidates);
  return nearest.empty() ? "" : "; did you mean '" + nearest + "'?";
}

// "embedkit: unknown command 'trian'; did you mean 'train'?"
int unknown_command(const Chain& chain, const std::string& typed) {
  std::string hint = did_you_mean(typed, subcommand_names(chain.leaf(), chain.apps.size() == 1));
  for (const CommandHint& h : kCommandHints) {
    if (chain.apps.size() == 1 && typed == h.fasttext) {
      hint = std::string("; fastText's '") + h.fasttext + "' is 'embedkit " + h.ours +
             "' (the count with -k)";
    }
  }
  std::cerr << chain.name() << ": unknown command '" << printable(typed) << "'" << hint << "\nRun '"
            << chain.name() << " --help' for the commands.\n";
  return kExitUsageError;
}

// The names of the options of `app` a user should be pointed to: the visible ones and
// fastText's spellings it understands (hidden aliases are left out: they are on their way out).
std::vector<std::string> option_names(const CLI::App& app, const std::string& path) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_group().empty()) continue;
    for (const std::string& s : opt->get_snames()) names.push_back("-" + s);
    for (const std::string& l : opt->get_lnames()) names.push_back("--" + l);
  }
  for (std::string& name : fasttext_spellings_for(app, path)) names.push_back(std::move(name));
  return names;
}

// A token CLI11 reads as an option: "-x...", "--x...", not "-" or a negative number.
bool looks_like_option(const std::string& token) {
  if (token.size() < 2 || token[0] != '-') return false;
  if (std::isdigit(static_cast<unsigned char>(token[1])) || token[1] == '.') return false;
  return token != "--";
}

// Whether `token` is an option of `app`: "--epochs", "--epochs=3", "-k", "-k5" (a short
// option with its value attached), and the help flag.
bool is_known_option(const CLI::App& app, const std::string& token) {
  const std::string name = token.substr(0, token.find('='));
  if (name == "-h" || name == "--help" || app.get_option_no_throw(name) != nullptr) return true;
  return token[1] != '-' && app.get_option_no_throw(token.substr(0, 2)) != nullptr;
}

class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_usage(const CLI::App* app, std::string name) const override {
    std::string out = get_label("Usage") + ":" + (name.empty() ? "" : " ") + name;
    if (!app->get_options([](const CLI::Option* opt) { return opt->nonpositional(); }).empty()) {
      out += " [" + get_label("OPTIONS") + "]";
    }
    for (const CLI::Option* opt : app->get_options(
             [](const CLI::Option* o) { return o->get_positional() && !o->get_group().empty(); })) {
      out += " " + make_option_usage(opt);
    }
    if (!app->get_subcommands({}).empty()) out += " " + get_label("SUBCOMMAND");
    return out + "\n";
  }
};

// The help of the last app of `chain`, its usage line naming the whole command.
std::string help_of(const Chain& chain) {
  std::string prefix;
  for (std::size_t i = 0; i + 1 < chain.apps.size(); ++i) {
    prefix += (prefix.empty() ? "" : " ") + chain.apps[i]->get_name();
  }
  return chain.leaf().help(prefix);
}

}  // namespace

bool takes_separate_value(const CLI::App& app, const std::string& token) {
  if (token.find('=') != std::string::npos) return false;
  const CLI::Option* opt = app.get_option_no_throw(token);
  return opt != nullptr && opt->nonpositional() && opt->get_items_expected_min() > 0;
}

std::shared_ptr<CLI::Formatter> make_help_formatter() {
  return std::make_shared<HelpFormatter>();
}

std::optional<int> prepare_command_line(const CLI::App& root, std::vector<std::string>& args) {
  if (args.empty()) {
    std::cerr << root.help();
    return kExitUsageError;
  }
  if (args[0] == "help") {
    for (const CommandAlias& alias : command_aliases()) {
      if (args.size() > 1 && args[1] == alias.fasttext) {  // help skipgram: train's help
        args.erase(args.begin() + 1);
        args.insert(args.begin() + 1, alias.command.begin(), alias.command.end());
        break;
      }
    }
    const Chain chain = resolve(root, args, 1);
    if (chain.next < args.size()) return unknown_command(chain, args[chain.next]);
    std::cout << help_of(chain);
    return kExitOk;
  }
  for (const CommandAlias& alias : command_aliases()) {
    if (args[0] == alias.fasttext) {
      args.erase(args.begin());
      args.insert(args.begin(), alias.options.begin(), alias.options.end());
      args.insert(args.begin(), alias.command.begin(), alias.command.end());
      break;
    }
  }
  const Chain chain = resolve(root, args, 0);
  if (chain.wants_subcommand()) {
    // A command of commands (embedkit, classify, recommend) needs one of them.
    if (chain.next >= args.size()) {
      std::cerr << help_of(chain);
      return kExitUsageError;
    }
    if (!looks_like_option(args[chain.next])) return unknown_command(chain, args[chain.next]);
    return std::nullopt;  // --help, --version, or an option CLI11 will refuse
  }
  translate_fasttext_spellings(chain.leaf(), chain.path(), args, chain.next);
  return std::nullopt;
}

std::string explain_parse_error(const CLI::App& root, const std::vector<std::string>& args,
                                const CLI::ParseError& error) {
  const Chain chain = resolve(root, args, 0);
  const CLI::App& leaf = chain.leaf();
  for (std::size_t i = chain.next; i < args.size(); ++i) {
    const std::string& token = args[i];
    if (token == "--") break;
    if (!looks_like_option(token)) continue;
    if (is_known_option(leaf, token)) {
      if (takes_separate_value(leaf, token)) ++i;  // "--threshold -inf": -inf is a value
      continue;
    }
    const std::string name = token.substr(0, token.find('='));
    return chain.name() + ": unknown option '" + printable(name) + "'" +
           did_you_mean(name, option_names(leaf, chain.path())) + "\nRun '" + chain.name() +
           " --help' for its options.";
  }
  return chain.name() + ": " + printable(error.what()) + "\nRun '" + chain.name() +
         " --help' for more information.";
}

}  // namespace embedkit::cli
