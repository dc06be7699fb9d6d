// Inputs: every reader names the path in its errors ("PATH: is a directory", not a bare
// "basic_filebuf::underflow error"), reads pipes to their end within a stated limit, and
// refuses devices that never end (/dev/zero) before reading a byte.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "embedkit/core/error.hpp"
#include "embedkit/io/checkpoint.hpp"
#include "embedkit/io/safetensors.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "io/file_reading.hpp"
#include "io/test_support.hpp"
#include "support/temp_dir.hpp"

namespace {

using embedkit::IoError;
using embedkit::io::detail::read_file_bytes;
using embedkit_io_test::message_of;
using embedkit_test::TempDir;

// A child process that writes `text` into the FIFO `path` `times` times (forever when times is
// negative), then closes it; killed when the test is done with it.
class FifoWriter {
 public:
  FifoWriter(const std::filesystem::path& path, const std::string& text, long times) {
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::signal(SIGPIPE, SIG_DFL);
      const int fd = ::open(path.c_str(), O_WRONLY);
      if (fd < 0) ::_exit(1);
      for (long i = 0; times < 0 || i < times; ++i) {
        for (std::size_t done = 0; done < text.size();) {
          const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
          if (n <= 0) ::_exit(0);  // the reader closed its end
          done += static_cast<std::size_t>(n);
        }
      }
      ::close(fd);
      ::_exit(0);
    }
  }
  ~FifoWriter() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  FifoWriter(const FifoWriter&) = delete;
  FifoWriter& operator=(const FifoWriter&) = delete;

 private:
  pid_t pid_ = -1;
};

std::filesystem::path make_fifo(const TempDir& dir, const std::string& name) {
  const auto path = dir / name;
  if (::mkfifo(path.c_str(), 0600) != 0) throw std::runtime_error("mkfifo failed");
  return path;
}

TEST(FileReading, ADirectoryIsNamedWithItsPath) {
  TempDir dir;
  const auto sub = dir / "vectors.vec";
  std::filesystem::create_directory(sub);
  EXPECT_EQ(message_of<IoError>([&] { read_file_bytes(sub); }), sub.string() + ": is a directory");
  // Every reader of the io layer says the same.
  EXPECT_EQ(message_of<IoError>([&] { embedkit::io::load_word_vectors(sub); }),
            sub.string() + ": is a directory");
  const auto st = dir / "model.safetensors";
  std::filesystem::create_directory(st);
  EXPECT_EQ(message_of<IoError>([&] { embedkit::io::load_safetensors(st); }),
            st.string() + ": is a directory");
  EXPECT_EQ(message_of<IoError>([&] { embedkit::io::read_safetensors_header(st); }),
            st.string() + ": is a directory");
  EXPECT_EQ(message_of<IoError>([&] { embedkit::io::read_checkpoint(st); }),
            st.string() + ": is a directory");
  const auto npy = dir / "v.npy";
  std::filesystem::create_directory(npy);
  EXPECT_EQ(message_of<IoError>([&] { embedkit::io::load_word_vectors(npy); }),
            npy.string() + ": is a directory");
}

TEST(FileReading, AMissingFileGivesThePathAndTheSystemsReason) {
  TempDir dir;
  EXPECT_EQ(message_of<IoError>([&] { read_file_bytes(dir / "absent.txt"); }),
            (dir / "absent.txt").string() + ": cannot open: No such file or directory");
  EXPECT_EQ(message_of<IoError>([&] { embedkit::io::load_safetensors(dir / "absent"); }),
            (dir / "absent").string() + ": cannot open: No such file or directory");
}

TEST(FileReading, EndlessDevicesAreRefusedBeforeReading) {
  if (!std::filesystem::exists("/dev/zero")) GTEST_SKIP() << "no /dev/zero";
  const auto start = std::chrono::steady_clock::now();
  for (const char* format : {"word2vec", "word2vec-binary", "glove", "npy", "safetensors"}) {
    const std::string m = message_of<IoError>([&] {
      embedkit::io::load_word_vectors("/dev/zero", embedkit::io::parse_vector_format(format));
    });
    EXPECT_CONTAINS(m, "/dev/zero: is a character device, not a regular file or a pipe");
  }
  EXPECT_CONTAINS(message_of<IoError>([&] { embedkit::io::load_safetensors("/dev/zero"); }),
                  "/dev/zero: is a character device");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(FileReading, APipeIsReadToItsEnd) {
  TempDir dir;
  const auto fifo = make_fifo(dir, "vectors.txt");
  const std::string text = "2 2\na 1.5 2.25\nb 3.5 4.125\n";
  {
    FifoWriter writer(fifo, text, 1);
    const auto v = embedkit::io::load_word_vectors(fifo);
    EXPECT_EQ(v.words, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(v.matrix.to_float_vector(), (std::vector<float>{1.5f, 2.25f, 3.5f, 4.125f}));
  }
  // Longer than the first buffer (64 KiB), so that it grows.
  const std::string chunk(1000, 'x');
  FifoWriter writer(fifo, chunk, 300);
  EXPECT_EQ(read_file_bytes(fifo).size(), 300'000u);
}

TEST(FileReading, AnEndlessPipeStopsAtTheStatedLimit) {
  TempDir dir;
  const auto fifo = make_fifo(dir, "endless.txt");
  FifoWriter writer(fifo, std::string(4096, '\0'), -1);
  const std::string m = message_of<IoError>([&] { read_file_bytes(fifo, 1 << 20); });
  EXPECT_EQ(m, fifo.string() +
                   ": a pipe that did not end within 1048576 bytes (the most read from a pipe; "
                   "save it to a file first)");
  // The default limit is half the machine's memory: far more than a test may read, but
  // stated, and never zero.
  EXPECT_GT(embedkit::io::detail::default_stream_limit(), std::uint64_t{1} << 20);
}

TEST(FileReading, SafetensorsFromAPipe) {
  TempDir dir;
  const embedkit::Tensor t = embedkit::Tensor::from_floats({1, 2, 3}, {3});
  const auto bytes = embedkit::io::serialize_safetensors({{"t", t}}, {{"k", "v"}});
  const auto fifo = make_fifo(dir, "t.safetensors");
  {
    FifoWriter writer(fifo, std::string(bytes.begin(), bytes.end()), 1);
    const auto contents = embedkit::io::load_safetensors(fifo);
    ASSERT_EQ(contents.tensors.size(), 1u);
    EXPECT_EQ(contents.tensors[0].second.to_float_vector(), (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(contents.metadata.at("k"), "v");
  }
  FifoWriter writer(fifo, std::string(bytes.begin(), bytes.end()), 1);
  EXPECT_EQ(embedkit::io::read_safetensors_header(fifo).entries.size(), 1u);
}

}  // namespace
