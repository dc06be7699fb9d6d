// Helper of test_vector_pair_crash.cpp: saves pair_version(VERSION) as PATH (.npy) and its
// .vocab, REPEAT times, then exits 0 (1 with the message on stderr when a save throws).
//
//   vector_pair_writer PATH VERSION ROWS DIM PADDING REPEAT [OPTION]
//   OPTION: --trace           print the name of every fault point passed (fault_point.hpp)
//           --kill-at POINT   SIGKILL itself at fault point POINT (a crash at that step)
//           --fsize-limit N   a file larger than N bytes cannot be written (RLIMIT_FSIZE:
//                             write() fails with EFBIG, as it would with ENOSPC on a full disk)
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "embedkit/core/error.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "io/fault_point.hpp"
#include "io/pair_versions.hpp"

namespace {

std::string g_kill_at;

void trace(std::string_view point) {
  std::printf("%.*s\n", static_cast<int>(point.size()), point.data());
  std::fflush(stdout);
}

void kill_at(std::string_view point) {
  if (point == g_kill_at) ::raise(SIGKILL);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7 && argc != 8 && argc != 9) {
    std::fprintf(stderr, "usage: %s PATH VERSION ROWS DIM PADDING REPEAT [OPTION]\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  const std::int64_t version = std::atoll(argv[2]);
  const std::int64_t rows = std::atoll(argv[3]);
  const std::int64_t dim = std::atoll(argv[4]);
  const auto padding = static_cast<std::size_t>(std::atoll(argv[5]));
  const int repeat = std::atoi(argv[6]);
  if (argc >= 8 && std::strcmp(argv[7], "--trace") == 0) {
    embedkit::io::detail::set_fault_hook(trace);
  } else if (argc == 9 && std::strcmp(argv[7], "--kill-at") == 0) {
    g_kill_at = argv[8];
    embedkit::io::detail::set_fault_hook(kill_at);
  } else if (argc == 9 && std::strcmp(argv[7], "--fsize-limit") == 0) {
    // Ignored, SIGXFSZ lets write() return EFBIG instead of killing the process.
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{static_cast<rlim_t>(std::atoll(argv[8])),
                       static_cast<rlim_t>(std::atoll(argv[8]))};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) {
      std::perror("setrlimit");
      return 2;
    }
  } else if (argc != 7) {
    std::fprintf(stderr, "unknown option %s\n", argv[7]);
    return 2;
  }
  const embedkit::io::WordVectors vectors =
      embedkit_io_test::pair_version(version, rows, dim, padding);
  try {
    for (int i = 0; i < repeat; ++i) embedkit::io::save_word_vectors(path, vectors);
  } catch (const embedkit::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
