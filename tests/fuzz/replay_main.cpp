// Replays files through a fuzz target's entry point, without libFuzzer: the seed corpus of
// tests/fuzz/corpus/<target>/ runs in every `make test` build (Release and the sanitizers),
// through the same LLVMFuzzerTestOneInput the fuzzer calls.
//
//   embedkit_fuzz_replay_<target> <file or folder>...
//
// Exit status 0 when every file went through; 1 when the entry point let an exception escape
// (it catches only the documented error types, so anything else is a bug: the file and the
// exception are printed), or when there was no file at all (a replay of nothing proves
// nothing). A crash ends the process, which CTest reports as a failure; under AddressSanitizer
// and UBSan so does any memory error or undefined behaviour.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::vector<std::uint8_t> bytes;
  std::transform(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(),
                 std::back_inserter(bytes), [](char c) { return static_cast<std::uint8_t>(c); });
  if (in.bad()) throw std::runtime_error("cannot read " + path.string());
  return bytes;
}

// The files named on the command line, folders expanded (recursively, in name order, so runs
// are reproducible).
std::vector<std::filesystem::path> collect(int argc, char** argv) {
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    if (std::filesystem::is_directory(arg)) {
      std::vector<std::filesystem::path> found;
      for (const auto& entry : std::filesystem::recursive_directory_iterator(arg)) {
        if (entry.is_regular_file()) found.push_back(entry.path());
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(arg);
    }
  }
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> files;
  try {
    files = collect(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "replay: %s\n", e.what());
    return 1;
  }
  if (files.empty()) {
    std::fprintf(stderr, "replay: no input files (usage: %s <file or folder>...)\n", argv[0]);
    return 1;
  }
  int failures = 0;
  for (const auto& path : files) {
    std::vector<std::uint8_t> bytes;
    try {
      bytes = read_file(path);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "replay: %s\n", e.what());
      return 1;
    }
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", path.string().c_str(), bytes.size());
    try {
      (void)LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "FAILED: %s: the entry point let an exception escape: %s\n",
                   path.string().c_str(), e.what());
      ++failures;
    } catch (...) {
      std::fprintf(stderr, "FAILED: %s: the entry point let a non-std exception escape\n",
                   path.string().c_str());
      ++failures;
    }
  }
  std::printf("replayed %zu files, %d failed\n", files.size(), failures);
  return failures == 0 ? 0 : 1;
}
