// fastText's spellings of the command line, understood where they mean what ours mean.
//
// fastText writes its options with one dash and in camel case (`-epoch 10 -wordNgrams 2
// -minCount 1`); CLI11 takes one-dash names of one letter only, so these are translated before
// CLI11 sees the command line, for the chosen subcommand only and only into options that
// subcommand has (a fastText option embedkit lacks, `-lrUpdateRate`, stays unknown and is
// reported as such). The translation:
//   - a table of the names that are not our names in camel case: -epoch -> --epochs,
//     -ws -> --window, -neg -> --negative, -bucket -> --buckets, -thread -> --threads,
//     -t -> --sample, -label -> --label-prefix;
//   - every other one-dash name in camel case to the double-dash kebab-case option of the same
//     words when the subcommand has it: -lr, -dim, -seed, -loss, -minCount -> --min-count,
//     -wordNgrams -> --word-ngrams, and those of options added later (-pretrainedVectors);
//   - in the training commands (train, classify train, recommend train), -input FILE is the
//     input argument, and -output PREFIX the output, as in fastText a prefix to which the
//     command adds its extension: PREFIX.vec for word vectors, PREFIX.safetensors for a model;
//   - in quantize, -output PREFIX names both files, as in fastText: the model PREFIX.safetensors
//     (PREFIX.bin when there is no such file) and the output PREFIX.ftz.
// Tokens that are options of the subcommand as they are (-k, -o, -v), numbers and anything
// after `--` are left alone.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace embedkit::cli {

// Rewrites args[first..] (the arguments of subcommand `leaf`, whose path from the top is
// `path`, "train" or "classify train") in place.
void translate_fasttext_spellings(const CLI::App& leaf, const std::string& path,
                                  std::vector<std::string>& args, std::size_t first);

// fastText's one-dash spellings that `leaf` understands (for suggestions and the help text),
// with -input and -output for the training commands (`path` "train", "classify train"...).
std::vector<std::string> fasttext_spellings_for(const CLI::App& leaf);
std::vector<std::string> fasttext_spellings_for(const CLI::App& leaf, const std::string& path);

}  // namespace embedkit::cli
