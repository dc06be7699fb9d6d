// '-' as a file argument: standard input for an input, standard output for an output, in every
// subcommand.
//
// Inputs. A reader that goes through its input once (ratings, labelled text, word lists,
// analogy and similarity files, `classify predict`) reads standard input directly
// (read_standard_input). A reader that needs a real file (a corpus, which word2vec reads once
// per epoch and per thread, seeking; a model; a vectors file) gets a copy: SpilledInput copies
// standard input, or a pipe, FIFO or process substitution, to an unlinked temporary file in
// $TMPDIR (/tmp when unset), and the reader opens that. Either way at most kSpillLimitBytes
// are taken; more is an error that says so (save the data to a file and pass its path).
//
// Outputs. StandardOutput::write runs a saver on a temporary file and copies the result to
// standard output, so every format writes to '-' exactly as it writes to a file. A binary
// format is refused when standard output is a terminal (refuse_binary_on_terminal, called
// before any work), and formats that write two files (.npy and its .vocab) cannot go to '-'.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>

namespace embedkit::cli {

// The name of standard input or output on the command line.
inline constexpr std::string_view kStdStream = "-";
// How messages name standard input.
inline constexpr std::string_view kStdinName = "<stdin>";

// The most bytes taken from standard input or a pipe (64 GiB).
inline constexpr std::uint64_t kSpillLimitBytes = std::uint64_t{64} << 30;

inline bool is_std_stream(std::string_view argument) {
  return argument == kStdStream;
}

// All of standard input (IoError beyond kSpillLimitBytes or on a read error).
std::string read_standard_input();

// Opens the file `path` for reading, or throws IoError naming it: "is a directory" (which
// opens as a stream whose first read fails, with nothing better to say than "read error"),
// else "cannot open: " and the reason. `what` names the file's role ("the file of queries").
void open_input_file(std::ifstream& file, const std::string& path, std::string_view what);

// An input argument made into a file that can be opened (and reopened, and seeked) by path.
class SpilledInput {
 public:
  // `argument` is '-' (standard input) or a path. A path to a regular file (or to anything that
  // is not there: its reader reports that) is used as it is; '-' always, and a pipe, FIFO,
  // socket or character device when `spill_non_regular` is set, are copied to a temporary
  // file first.
  SpilledInput(std::string argument, bool spill_non_regular);
  ~SpilledInput();
  SpilledInput(const SpilledInput&) = delete;
  SpilledInput& operator=(const SpilledInput&) = delete;

  // The path to open.
  const std::filesystem::path& path() const { return path_; }
  // How messages name the input: the argument, or <stdin>.
  std::string name() const;
  bool spilled() const { return fd_ >= 0; }
  // Runs `f`; an embedkit::IoError that names the temporary file is rethrown naming the input.
  template <class F>
  decltype(auto) run(F&& f) const {
    try {
      return f();
    } catch (...) {
      rethrow_with_name();
    }
  }

 private:
  [[noreturn]] void rethrow_with_name() const;

  std::string argument_;
  std::filesystem::path path_;
  std::filesystem::path named_temp_;  // set only where /proc/self/fd is unavailable
  int fd_ = -1;
};

// Throws ValueError when standard output is a terminal: `what` ("word2vec binary vectors")
// would be unreadable bytes on the screen.
void refuse_binary_on_terminal(std::string_view what);

// Calls save(path) with a path in a fresh temporary directory (its name ends in `filename`, so
// a saver that guesses by extension sees the right one), then copies the file to standard
// output. IoError naming <stdout> when the copy fails (a closed pipe, a full disk).
void write_via_temp_file(std::string_view filename,
                         const std::function<void(const std::filesystem::path&)>& save);

}  // namespace embedkit::cli
