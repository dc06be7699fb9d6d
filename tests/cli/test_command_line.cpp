// The pieces of the command line that run before CLI11 parses it: the nearest name offered for
// a typo, and fastText's spellings translated into ours (tools/embedkit/nearest_name.hpp,
// fasttext_spellings.hpp). The command as a whole is tested by cli_usage.sh.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "fasttext_spellings.hpp"
#include "nearest_name.hpp"

namespace {

using embedkit::cli::edit_distance;
using embedkit::cli::nearest_name;
using Args = std::vector<std::string>;

TEST(NearestName, EditDistanceCountsASwapAsOneStep) {
  EXPECT_EQ(edit_distance("train", "train"), 0u);
  EXPECT_EQ(edit_distance("trian", "train"), 1u);  // two letters swapped
  EXPECT_EQ(edit_distance("--epoch", "--epochs"), 1u);
  EXPECT_EQ(edit_distance("tain", "train"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
}

TEST(NearestName, OffersOnlyPlausibleTypos) {
  const std::vector<std::string> commands = {"tour", "similar", "analogy", "train", "classify"};
  EXPECT_EQ(nearest_name("trian", commands), "train");
  EXPECT_EQ(nearest_name("simlar", commands), "similar");
  EXPECT_EQ(nearest_name("zzzzzz", commands), "");
  EXPECT_EQ(nearest_name("predict", commands), "");
  const std::vector<std::string> options = {"-h", "--help", "-k", "--epochs", "--dim"};
  EXPECT_EQ(nearest_name("--epoch", options), "--epochs");
  EXPECT_EQ(nearest_name("--dimm", options), "--dim");
  EXPECT_EQ(nearest_name("-n", options), "");  // one letter: no typo of another letter
  EXPECT_EQ(nearest_name("-", options), "");
}

// A stand-in for `classify train`: the options the translation looks for.
struct ClassifyTrain {
  CLI::App app{"classify train", "train"};
  std::string input, output, label;
  int dim = 0, epochs = 0, word_ngrams = 0, buckets = 0, threads = 0, k = 0;
  double lr = 0;
  ClassifyTrain() {
    app.add_option("TRAIN", input);
    app.add_option("-o,--output", output);
    app.add_option("--dim", dim);
    app.add_option("--epochs", epochs);
    app.add_option("--lr", lr);
    app.add_option("--word-ngrams", word_ngrams);
    app.add_option("--buckets", buckets);
    app.add_option("--threads", threads);
    app.add_option("--label-prefix", label);
    app.add_option("-k", k);
  }
};

TEST(FastTextSpellings, TranslatesIntoTheSubcommandsOwnOptions) {
  ClassifyTrain c;
  Args args = {"-input",  "t.txt", "-output", "m",           "-dim", "8",       "-epoch",
               "5",       "-lr",   "0.5",     "-wordNgrams", "2",    "-bucket", "1000",
               "-thread", "1",     "-label",  "__x__",       "-k",   "3"};
  embedkit::cli::translate_fasttext_spellings(c.app, "classify train", args, 0);
  const Args want = {"t.txt",
                     "--output",
                     "m.safetensors",
                     "--dim",
                     "8",
                     "--epochs",
                     "5",
                     "--lr",
                     "0.5",
                     "--word-ngrams",
                     "2",
                     "--buckets",
                     "1000",
                     "--threads",
                     "1",
                     "--label-prefix",
                     "__x__",
                     "-k",
                     "3"};
  EXPECT_EQ(args, want);
}

TEST(FastTextSpellings, LeavesValuesUnknownNamesAndWhatFollowsDoubleDashAlone) {
  ClassifyTrain c;
  // -inf is --lr's value; -lrUpdateRate is no option of ours; after "--" nothing is touched.
  Args args = {"--lr", "-inf", "-lrUpdateRate", "100", "-5", "--", "-dim"};
  const Args same = args;
  embedkit::cli::translate_fasttext_spellings(c.app, "classify train", args, 0);
  EXPECT_EQ(args, same);
  // Word vectors get fastText's .vec; outside the training commands -output has no extension.
  Args train = {"-output", "vec"};
  embedkit::cli::translate_fasttext_spellings(c.app, "train", train, 0);
  EXPECT_EQ(train, (Args{"--output", "vec.vec"}));
  Args other = {"-output", "x"};
  embedkit::cli::translate_fasttext_spellings(c.app, "convert", other, 0);
  EXPECT_EQ(other, (Args{"--output", "x"}));
}

TEST(FastTextSpellings, ReadsDashedNamesAsTheirTwoDashOptions) {
  CLI::App app;
  std::string validation;
  double duration = 0;
  app.add_option("--autotune-validation", validation);
  app.add_option("--autotune-duration", duration);
  Args args = {"-autotune-validation", "v.txt", "-autotune-duration", "60"};
  embedkit::cli::translate_fasttext_spellings(app, "classify train", args, 0);
  EXPECT_EQ(args, (Args{"--autotune-validation", "v.txt", "--autotune-duration", "60"}));
  // Not names: a trailing dash, a digit after the dash; not ours: left alone.
  Args odd = {"-autotune-", "-1-2", "-autotune-metric"};
  const Args same = odd;
  embedkit::cli::translate_fasttext_spellings(app, "classify train", odd, 0);
  EXPECT_EQ(odd, same);
}

TEST(FastTextSpellings, NamesWhatASubcommandUnderstands) {
  ClassifyTrain c;
  const std::vector<std::string> names =
      embedkit::cli::fasttext_spellings_for(c.app, "classify train");
  for (const char* name : {"-epoch", "-bucket", "-thread", "-label", "-lr", "-dim", "-wordNgrams",
                           "-input", "-output"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
  for (const char* name : {"-ws", "-neg", "-t", "-minCount", "-minn"}) {
    EXPECT_EQ(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
}

}  // namespace
