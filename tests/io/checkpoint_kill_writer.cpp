// Helper of test_checkpoint_kill.cpp: saves checkpoint versions first, first+1, ... to one
// path until it is killed, printing each version once its save has returned.
//
// Version v holds model "embedding.weight" with element i = v + (i % 1024) / 1024, optimizer
// "embedding.weight.momentum_buffer" with the negated values, "embedding.weight.step" = v, and
// metadata "version" = v: a reader can tell a complete version from a mix of two.
//
//   checkpoint_kill_writer PATH ROWS DIM FIRST_VERSION
#include <cstdio>
#include <cstdlib>
#include <string>

#include "embedkit/io/checkpoint.hpp"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s PATH ROWS DIM FIRST_VERSION\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  const std::int64_t rows = std::atoll(argv[2]);
  const std::int64_t dim = std::atoll(argv[3]);
  std::int64_t version = std::atoll(argv[4]);

  embedkit::Tensor weight = embedkit::Tensor::empty({rows, dim});
  embedkit::Tensor momentum = embedkit::Tensor::empty({rows, dim});
  embedkit::Tensor step = embedkit::Tensor::scalar<std::int64_t>(0);
  for (;; ++version) {
    float* w = weight.data<float>();
    float* m = momentum.data<float>();
    for (std::int64_t i = 0; i < weight.numel(); ++i) {
      w[i] = static_cast<float>(version) + static_cast<float>(i % 1024) / 1024.0f;
      m[i] = -w[i];
    }
    step.data<std::int64_t>()[0] = version;
    embedkit::io::save_checkpoint(
        path, {{"embedding.weight", weight}},
        {{"embedding.weight.momentum_buffer", momentum}, {"embedding.weight.step", step}},
        {{"version", std::to_string(version)}});
    std::printf("%lld\n", static_cast<long long>(version));
    std::fflush(stdout);
  }
}
