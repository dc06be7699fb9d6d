// A .npy + .vocab pair is one unit: whatever stops a save (a full disk, a SIGKILL at any step,
// another process saving the same pair at the same time), the pair afterwards loads as one
// complete save or is refused with an error that says the two files are not one save; it never
// loads as the matrix of one save with the words of another.
//
// A real child process (vector_pair_writer) does the saving, so that it can be killed, limited
// (RLIMIT_FSIZE stands in for a full disk: write() fails the same way) and run 40 times at once.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/io/atomic_file.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "io/pair_versions.hpp"
#include "io/test_support.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

using embedkit::IoError;
using embedkit::io::load_word_vectors;
using embedkit::io::save_word_vectors;
using embedkit::io::vocabulary_path_for;
using embedkit_io_test::pair_version;
using embedkit_io_test::version_of;
using embedkit_test::TempDir;

struct Shape {
  std::int64_t rows;
  std::int64_t dim;
  std::size_t padding;
};

constexpr Shape kSmall{300, 8, 0};

class Child {
 public:
  Child(const TempDir& dir, const std::vector<std::string>& args) {
    static int serial = 0;
    const std::string tag = std::to_string(serial++);
    out_path_ = dir / ("child-" + tag + ".out");
    err_path_ = dir / ("child-" + tag + ".err");
    std::vector<const char*> argv{EMBEDKIT_IO_PAIR_WRITER};
    for (const std::string& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    const std::string out = out_path_.string(), err = err_path_.string();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec.
      const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (o < 0 || e < 0) ::_exit(126);
      ::dup2(o, STDOUT_FILENO);
      ::dup2(e, STDERR_FILENO);
      ::execv(argv[0], const_cast<char* const*>(argv.data()));
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Whether the child has exited (then wait() returns its status at once).
  bool exited() {
    if (exited_) return true;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      status_ = status;
      pid_ = -1;
    }
    return exited_;
  }
  // The wait status.
  int wait() {
    if (exited_) return status_;
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }
  std::string out() const { return embedkit_test::read_file(out_path_); }
  std::string err() const { return embedkit_test::read_file(err_path_); }
  void remove_logs() const {
    std::filesystem::remove(out_path_);
    std::filesystem::remove(err_path_);
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
  std::filesystem::path out_path_;
  std::filesystem::path err_path_;
};

std::vector<std::string> writer_args(const std::filesystem::path& path, std::int64_t version,
                                     const Shape& shape, int repeat = 1) {
  return {path.string(),
          std::to_string(version),
          std::to_string(shape.rows),
          std::to_string(shape.dim),
          std::to_string(shape.padding),
          std::to_string(repeat)};
}

std::vector<std::string> with(std::vector<std::string> args, const std::string& option,
                              const std::string& value = "") {
  args.push_back(option);
  if (!value.empty()) args.push_back(value);
  return args;
}

// The version the pair holds; -1 when the loader refused it as not one save (which the tests
// allow only where a kill or a failed rename can leave it so). A mix that loads fails the test.
std::int64_t pair_state(const std::filesystem::path& path, std::string* refusal = nullptr) {
  try {
    const std::int64_t version = version_of(load_word_vectors(path));
    EXPECT_NE(version, -1) << "the pair loaded as a mix of two saves";
    return version;
  } catch (const IoError& e) {
    if (refusal != nullptr) *refusal = e.what();
    return -1;
  }
}

bool no_temporary_files(const TempDir& dir) {
  for (const auto& name : dir.names()) {
    if (name.find("embedkit-tmp") != std::string::npos) return false;
  }
  return true;
}

// What a full disk does mid-save: here write() fails once a file passes a size. Either file
// may be the one that does not fit; the old pair stays whole in both cases. (Before the fix,
// the .npy was renamed before the .vocab was written: a .vocab that did not fit left the new
// matrix with the old words, which loaded without an error.)
TEST(VectorPairCrash, AFailedWriteLeavesTheOldPairWhole) {
  struct Case {
    const char* what;
    Shape shape;
    const char* limit;
  };
  // 50 x 1 floats make a 328-byte .npy; words of 100 bytes make a 5 KB .vocab; and the reverse.
  for (const Case& c : {Case{"the .vocab does not fit", Shape{50, 1, 100}, "2048"},
                        Case{"the .npy does not fit", Shape{500, 64, 0}, "65536"}}) {
    SCOPED_TRACE(c.what);
    TempDir dir;
    const auto path = dir / "pair.npy";
    save_word_vectors(path, pair_version(1, c.shape.rows, c.shape.dim, c.shape.padding));
    Child child(dir, with(writer_args(path, 2, c.shape), "--fsize-limit", c.limit));
    const int status = child.wait();
    ASSERT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 1) << child.err();
    EXPECT_CONTAINS(child.err(), "File too large");
    EXPECT_CONTAINS(child.err(), "(the previous file is unchanged)");
    child.remove_logs();
    EXPECT_EQ(pair_state(path), 1);
    EXPECT_TRUE(no_temporary_files(dir));
  }
}

// The names of the fault points a save of a pair passes, in order.
std::vector<std::string> traced_points(const Shape& shape) {
  TempDir dir;
  Child child(dir, with(writer_args(dir / "pair.npy", 1, shape), "--trace"));
  EXPECT_EQ(child.wait(), 0) << child.err();
  std::vector<std::string> points;
  std::string out = child.out();
  for (std::size_t nl; (nl = out.find('\n')) != std::string::npos; out.erase(0, nl + 1)) {
    points.push_back(out.substr(0, nl));
  }
  return points;
}

TEST(VectorPairCrash, SigkillAtEveryStepLeavesOneWholeSaveOrARefusal) {
  const std::vector<std::string> points = traced_points(kSmall);
  // Temporary files made, matrix written, vocabulary written, both synced, two renames, the
  // directory synced: every step of the save.
  ASSERT_EQ(points.size(), 7u);
  for (const bool old_pair : {true, false}) {
    for (std::size_t step = 0; step < points.size(); ++step) {
      const std::string& point = points[step];
      SCOPED_TRACE((old_pair ? "over a saved pair, killed at " : "new pair, killed at ") + point);
      TempDir dir;
      const auto path = dir / "pair.npy";
      if (old_pair) save_word_vectors(path, pair_version(1, kSmall.rows, kSmall.dim));
      Child child(dir, with(writer_args(path, 2, kSmall), "--kill-at", point));
      const int status = child.wait();
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status << child.err();
      child.remove_logs();

      std::string refusal;
      const std::int64_t state = pair_state(path, &refusal);
      if (point == "commit: renamed 1 of 2") {
        // Between the two renames: the new .vocab with the old .npy (or with none).
        EXPECT_EQ(state, -1);
        EXPECT_CONTAINS(refusal, old_pair ? "was written with another pair.npy"
                                          : "pair.npy: cannot open: No such file");
      } else if (point == "commit: renamed 2 of 2" || point == "commit: directory synced") {
        EXPECT_EQ(state, 2) << refusal;
      } else if (old_pair) {
        EXPECT_EQ(state, 1) << refusal;
      } else {
        EXPECT_EQ(state, -1);
        EXPECT_CONTAINS(refusal, "cannot open: No such file");
      }
      // The next save removes what the killed one left and makes the pair whole again.
      save_word_vectors(path, pair_version(3, kSmall.rows, kSmall.dim));
      EXPECT_EQ(pair_state(path), 3);
      EXPECT_EQ(dir.names(), std::vector<std::string>({"pair.npy", "pair.vocab"}));
    }
  }
}

// 40 processes save two different pairs to one path at once, while this process loads it:
// every load, and the pair left at the end, is one complete save.
TEST(VectorPairCrash, FortyConcurrentWritersNeverMix) {
  TempDir dir;
  const auto path = dir / "pair.npy";
  save_word_vectors(path, pair_version(1, kSmall.rows, kSmall.dim));
  std::vector<std::unique_ptr<Child>> writers;
  for (int i = 0; i < 40; ++i) {
    writers.push_back(
        std::make_unique<Child>(dir, writer_args(path, 1 + i % 2, kSmall, /*repeat=*/5)));
  }
  const auto running = [&writers] {
    bool any = false;
    for (auto& writer : writers) any = !writer->exited() || any;
    return any;
  };
  int loads = 0, seen[3] = {0, 0, 0};
  while (running()) {
    std::string refusal;
    const std::int64_t state = pair_state(path, &refusal);
    ASSERT_TRUE(state == 1 || state == 2) << "load " << loads << ": " << refusal;
    ++seen[state];
    ++loads;
  }
  for (auto& writer : writers) {
    const int status = writer->wait();
    EXPECT_EQ(status, 0) << writer->err();
    writer->remove_logs();
  }
  std::printf("%d loads while 40 writers saved: %d of version 1, %d of version 2\n", loads, seen[1],
              seen[2]);
  EXPECT_GT(loads, 0);
  const std::int64_t final_state = pair_state(path);
  EXPECT_TRUE(final_state == 1 || final_state == 2) << final_state;
  EXPECT_EQ(dir.names(), std::vector<std::string>({"pair.npy", "pair.vocab"}));
}

}  // namespace
