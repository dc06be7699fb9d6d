// `embedkit plot`, run as a process: outputs, --json, determinism and the error cases (exit
// status, message, and no output file left behind).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "cli/plot_test_support.hpp"
#include "support/temp_dir.hpp"

namespace {

using embedkit_test::TempDir;
using namespace embedkit_plot_test;

struct CliRun {
  int status = -1;
  std::string output;  // stdout and stderr together
};

CliRun run(const TempDir& dir, const std::string& args) {
  const std::string log = (dir / "log.txt").string();
  const std::string command =
      std::string("\"") + EMBEDKIT_CLI_PATH + "\" plot " + args + " > \"" + log + "\" 2>&1";
  const int raw = std::system(command.c_str());
  CliRun r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.output = read_file(log);
  std::filesystem::remove(log);
  return r;
}

// Two groups of words on two axes, in word2vec text format.
std::string write_vectors(const TempDir& dir) {
  const std::string path = (dir / "v.txt").string();
  std::ofstream(path) << "8 3\n"
                         "king 1 5 0.1\nqueen 1.2 5.1 0\nprince 0.9 4.8 0.2\nprincess 1.1 4.9 0\n"
                         "apple 5 1 0\npear 5.2 0.9 0.1\nplum 4.8 1.1 0\nfig 5.1 1.2 0.2\n";
  return path;
}

TEST(PlotCommand, WritesSvgAndPngWithTheWords) {
  TempDir dir;
  const std::string v = write_vectors(dir);
  const std::string svg = (dir / "p.svg").string();
  const std::string png = (dir / "p.png").string();
  const CliRun r = run(
      dir, v + " " + svg + " " + png + " --words king,queen,apple,pear --width 800 --height 600");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("4 words; PCA"), std::string::npos) << r.output;
  const auto texts = svg_texts(read_file(svg));
  for (const char* w : {"king", "queen", "apple", "pear"}) {
    EXPECT_NE(std::find(texts.begin(), texts.end(), w), texts.end()) << w;
  }
  EXPECT_EQ(std::find(texts.begin(), texts.end(), "plum"), texts.end());
  const PngSize size = png_size(read_file(png));
  ASSERT_TRUE(size.valid);
  EXPECT_EQ(size.width, 800u);
  EXPECT_EQ(size.height, 600u);
  // Nothing else in the directory (no temporary files left).
  EXPECT_EQ(dir.names(), (std::vector<std::string>{"p.png", "p.svg", "v.txt"}));
}

TEST(PlotCommand, TopNAndWordsFileAndJson) {
  TempDir dir;
  const std::string v = write_vectors(dir);
  CliRun r = run(dir, v + " " + (dir / "top.svg").string() + " --top 3 --json");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("\"words\": 3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"word\": \"prince\""), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("\"word\": \"princess\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"explained_variance_ratio\""), std::string::npos) << r.output;
  std::ofstream((dir / "words").string()) << "fig plum\nking\n";
  r = run(dir, v + " " + (dir / "f.png").string() + " --words-file " + (dir / "words").string() +
                   " --json");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("\"words\": 3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"word\": \"fig\""), std::string::npos) << r.output;
}

TEST(PlotCommand, TsneIsDeterministicForASeed) {
  TempDir dir;
  const std::string v = write_vectors(dir);
  const std::string args = " --method tsne --perplexity 2 --iterations 300 --seed 5";
  ASSERT_EQ(run(dir, v + " " + (dir / "a.svg").string() + args).status, 0);
  ASSERT_EQ(run(dir, v + " " + (dir / "b.svg").string() + args).status, 0);
  const std::string a = read_file((dir / "a.svg").string());
  EXPECT_EQ(a, read_file((dir / "b.svg").string()));
  EXPECT_NE(a.find("t-SNE of 8 word vectors"), std::string::npos);
  const CliRun r = run(dir, v + " " + (dir / "c.svg").string() + " --method tsne --perplexity 8");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("perplexity"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "c.svg"));
}

TEST(PlotCommand, UnknownWordsAreNamedAndNothingIsWritten) {
  TempDir dir;
  const std::string v = write_vectors(dir);
  const std::string out = (dir / "u.svg").string();
  CliRun r = run(dir, v + " " + out + " --words king,duke,apple,earl");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("2 words not in"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'duke', 'earl'"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out));
  r = run(dir, v + " " + out + " --words king,duke,apple --skip-unknown");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("skipping 1 word not in"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("2 words"), std::string::npos) << r.output;
}

TEST(PlotCommand, ZeroWordsNanVectorsAndUsageErrors) {
  TempDir dir;
  const std::string v = write_vectors(dir);
  std::ofstream((dir / "empty").string()) << "\n";
  CliRun r =
      run(dir, v + " " + (dir / "z.svg").string() + " --words-file " + (dir / "empty").string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("nothing to plot"), std::string::npos) << r.output;
  r = run(dir, v + " " + (dir / "z.svg").string() + " --words duke --skip-unknown");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("nothing to plot"), std::string::npos) << r.output;

  const std::string bad = (dir / "nan.txt").string();
  std::ofstream(bad) << "2 2\na 1 2\nb nan 1\n";
  r = run(dir, bad + " " + (dir / "n.svg").string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("nan.txt: line 3"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "z.svg"));
  EXPECT_FALSE(std::filesystem::exists(dir / "n.svg"));

  EXPECT_EQ(run(dir, v + " " + (dir / "x.pdf").string()).status, 2);
  EXPECT_EQ(run(dir, v + " " + (dir / "x.svg").string() + " --method umap").status, 2);
  EXPECT_EQ(run(dir, v + " " + (dir / "x.svg").string() + " --top 3 --words king").status, 2);
  EXPECT_EQ(run(dir, v + " " + (dir / "x.svg").string() + " --width 10").status, 2);
  r = run(dir, "--help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.output.find("--words"), std::string::npos);
  EXPECT_EQ(dir.names(), (std::vector<std::string>{"empty", "nan.txt", "v.txt"}));
}

}  // namespace
