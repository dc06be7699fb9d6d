// A writer killed with SIGKILL at any moment of a save leaves the previous checkpoint intact
// and loadable, and its temporary file is removed by the next save.
//
// A real child process (checkpoint_kill_writer) saves large checkpoints in a loop; the parent
// kills it several times, in three ways: right after it sees the child's temporary file appear
// (a kill in the middle of writing), at a random moment after a save completed, and at a random
// moment right after the child started (during cleanup or the first save). After each kill the
// checkpoint must be exactly one complete version, no older than the last save the child
// reported finished.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>

#include "embedkit/io/atomic_file.hpp"
#include "embedkit/io/checkpoint.hpp"
#include "io/test_support.hpp"
#include "support/temp_dir.hpp"

namespace {

using embedkit::NamedTensors;
using embedkit::Tensor;
using embedkit_test::TempDir;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kRows = 1024;
constexpr std::int64_t kDim = 512;  // 2 MiB per table, two tables per save

class Writer {
 public:
  Writer(const std::filesystem::path& checkpoint, std::int64_t first_version) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    const std::string path = checkpoint.string(), rows = std::to_string(kRows),
                      dim = std::to_string(kDim), first = std::to_string(first_version);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec.
      ::dup2(fds[1], STDOUT_FILENO);
      const char* argv[] = {EMBEDKIT_IO_KILL_WRITER, path.c_str(), rows.c_str(), dim.c_str(),
                            first.c_str(),           nullptr};
      ::execv(argv[0], const_cast<char* const*>(argv));
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
  }
  ~Writer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(out_);
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Reads what the child printed within `timeout`; returns false at end of output.
  bool read_some(std::chrono::milliseconds timeout) {
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return true;
    char buffer[4096];
    const ssize_t n = ::read(out_, buffer, sizeof buffer);
    if (n <= 0) return false;
    pending_.append(buffer, static_cast<std::size_t>(n));
    for (std::size_t nl; (nl = pending_.find('\n')) != std::string::npos;) {
      last_saved_ = std::stoll(pending_.substr(0, nl));
      pending_.erase(0, nl + 1);
    }
    return true;
  }
  void wait_for_a_save() {
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    const std::int64_t before = last_saved_;
    while (last_saved_ == before) {
      ASSERT_LT(Clock::now(), deadline) << "the writer saved nothing";
      ASSERT_TRUE(read_some(std::chrono::milliseconds(100))) << "the writer exited";
    }
  }
  void kill_and_reap() {
    ASSERT_EQ(::kill(pid_, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid_, &status, 0), pid_);
    pid_ = -1;
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
    while (read_some(std::chrono::milliseconds(1000))) {
    }
  }
  std::int64_t last_saved() const { return last_saved_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string pending_;
  std::int64_t last_saved_ = -1;
};

std::vector<std::filesystem::path> temp_files(const TempDir& dir,
                                              const std::filesystem::path& target) {
  std::vector<std::filesystem::path> out;
  for (const auto& name : dir.names()) {
    if (embedkit::io::is_atomic_temp_file_of(dir / name, target)) out.push_back(dir / name);
  }
  return out;
}

// The version the checkpoint holds, after checking that every tensor belongs to it.
std::int64_t complete_version(const std::filesystem::path& path) {
  Tensor weight = Tensor::empty({kRows, kDim});
  NamedTensors optimizer_state;
  const auto checkpoint = embedkit::io::load_checkpoint(
      path, {{"embedding.weight", weight}},
      [&](const embedkit::NamedTensors& state) { optimizer_state = state; });
  const std::int64_t version = std::stoll(checkpoint.metadata.at("version"));
  EXPECT_EQ(optimizer_state.size(), 2u);
  const Tensor& momentum = optimizer_state.at(0).second;
  EXPECT_EQ(optimizer_state.at(1).second.to_int64_vector(), std::vector<std::int64_t>({version}));
  const float* w = weight.data<float>();
  const float* m = momentum.data<float>();
  std::int64_t wrong = 0;
  for (std::int64_t i = 0; i < weight.numel(); ++i) {
    const float expected = static_cast<float>(version) + static_cast<float>(i % 1024) / 1024.0f;
    wrong += (w[i] != expected) + (m[i] != -expected);
  }
  EXPECT_EQ(wrong, 0) << "checkpoint version " << version << " mixes versions";
  return version;
}

TEST(CheckpointKill, SigkillMidSaveNeverLosesTheCheckpoint) {
  TempDir dir;
  const auto path = dir / "ckpt.safetensors";
  std::mt19937 rng(12345);
  std::int64_t next_version = 1, newest_saved = 0;
  int kills_mid_write = 0;
  std::vector<std::filesystem::path> strays;
  constexpr int kRounds = 9;
  for (int round = 0; round < kRounds; ++round) {
    const int mode = round % 3;
    Writer writer(path, next_version);
    if (mode == 2 && round > 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 5000));
    } else {
      ASSERT_NO_FATAL_FAILURE(writer.wait_for_a_save());
      // The writer has saved since the last kill, so its cleanup removed the last stray.
      for (const auto& stray : strays) {
        EXPECT_FALSE(std::filesystem::exists(stray)) << stray << " survived the next save";
      }
      if (mode == 0) {
        const auto deadline = Clock::now() + std::chrono::seconds(120);
        while (temp_files(dir, path).empty()) ASSERT_LT(Clock::now(), deadline);
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 100000));
      }
    }
    ASSERT_NO_FATAL_FAILURE(writer.kill_and_reap());
    newest_saved = std::max(newest_saved, writer.last_saved());

    strays = temp_files(dir, path);
    EXPECT_LE(strays.size(), 1u);
    if (mode == 0 && !strays.empty()) ++kills_mid_write;
    // Nothing but the checkpoint and at most the killed writer's temporary file.
    EXPECT_EQ(dir.names().size(), 1 + strays.size());

    const std::int64_t version = complete_version(path);
    // Saves that returned are durable; the kill may also land between the rename and the
    // child's report of it.
    EXPECT_GE(version, newest_saved) << "round " << round;
    EXPECT_LE(version, newest_saved + 1) << "round " << round;
    std::printf(
        "round %d (%s): killed after version %lld was reported; the file holds %lld; "
        "%zu temporary file(s) left\n",
        round,
        mode == 0   ? "mid-write"
        : mode == 1 ? "random, after a save"
                    : "at start",
        static_cast<long long>(writer.last_saved()), static_cast<long long>(version),
        strays.size());
    newest_saved = version;
    next_version = version + 1;
  }
  // Seeing the temporary file and killing take microseconds; the write and fsync of 4 MiB
  // take far longer, so these kills land mid-save.
  EXPECT_GE(kills_mid_write, 1);

  // The next save removes what the last killed writer left.
  const Tensor w = Tensor::zeros({1});
  embedkit::io::save_checkpoint(path, {{"w", w}});
  EXPECT_EQ(dir.names(), std::vector<std::string>({"ckpt.safetensors"}));
}

}  // namespace
