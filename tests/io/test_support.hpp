// Small helpers shared by the io tests: catching an error's message, building safetensors
// bytes by hand (independently of embedkit's writer) for the reader's tests, and running code
// in a child process (the SIGBUS rule's tests, whose code must end that process).
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace embedkit_io_test {

// The message of the exception of type E that f() throws; a test failure when it throws none
// or another type.
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw another exception type: " << e.what();
    return {};
  }
  ADD_FAILURE() << "threw nothing";
  return {};
}

#define EXPECT_CONTAINS(haystack, needle)                          \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) \
      << "expected to find [" << (needle) << "] in [" << (haystack) << "]"

// 8-byte little-endian length, header text, buffer.
inline std::vector<std::uint8_t> make_safetensors(const std::string& header,
                                                  const std::vector<std::uint8_t>& buffer = {}) {
  std::vector<std::uint8_t> out;
  const std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), buffer.begin(), buffer.end());
  return out;
}

inline void write_bytes(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// What a child process did: its exit status (when it exited; -1 when a signal ended it, then
// `signal` says which) and what it wrote on standard error.
struct ChildRun {
  int exit_status = -1;
  int signal = 0;
  std::string err;
};

// Runs child() in a forked process whose standard error is captured. child() must end the
// process itself (::_exit); it runs with the parent's memory as it was at the fork.
template <class F>
ChildRun run_in_child(F&& child) {
  ChildRun run;
  int err_pipe[2];
  if (::pipe(err_pipe) != 0) {
    ADD_FAILURE() << "pipe failed";
    return run;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    return run;
  }
  if (pid == 0) {
    ::dup2(err_pipe[1], STDERR_FILENO);
    child();
    ::_exit(125);  // child() returned
  }
  ::close(err_pipe[1]);
  char buf[256];
  for (ssize_t n; (n = ::read(err_pipe[0], buf, sizeof buf)) > 0;) {
    run.err.append(buf, static_cast<std::size_t>(n));
  }
  ::close(err_pipe[0]);
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) {
    ADD_FAILURE() << "waitpid failed";
    return run;
  }
  if (WIFEXITED(status)) run.exit_status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) run.signal = WTERMSIG(status);
  return run;
}

}  // namespace embedkit_io_test
