// The embedkit side of pytorch_roundtrip.py:
//
//   pytorch_roundtrip_tool write FILE   writes the starting checkpoint (values below)
//   pytorch_roundtrip_tool check FILE   loads what PyTorch wrote after one SGD step and checks
//                                       every value against the step computed here
//
// The numbers are multiples of 1/16 with SGD lr = 0.5 and momentum = 0.5, so every result is
// exact in float32 and the check is equality, whatever order or instructions (FMA or not)
// either side uses.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "embedkit/io/checkpoint.hpp"

namespace {

using embedkit::DType;
using embedkit::NamedTensors;
using embedkit::Tensor;

constexpr std::int64_t kRows = 10, kDim = 4;
constexpr float kLr = 0.5f, kMomentum = 0.5f;
const std::vector<std::int64_t> kStepIds = {1, 2, 2, 9};  // loss = embedding(ids).sum()

float initial_weight(std::int64_t r, std::int64_t c) {
  return static_cast<float>(r * kDim + c) / 8.0f - 2.0f;
}
float initial_momentum(std::int64_t r, std::int64_t c) {
  return static_cast<float>(r - c) / 4.0f;
}

Tensor table(float (*value)(std::int64_t, std::int64_t)) {
  Tensor t = Tensor::empty({kRows, kDim});
  for (std::int64_t r = 0; r < kRows; ++r) {
    for (std::int64_t c = 0; c < kDim; ++c) t.data<float>()[r * kDim + c] = value(r, c);
  }
  return t;
}

// Tensors that ride along unchanged, one of each other dtype.
NamedTensors passengers() {
  return {{"table.half", Tensor::from_floats({0.5f, -1.5f, 1024.0f}, {3}, DType::Float16)},
          {"table.bf16", Tensor::from_floats({1.0f, -2.0f, 0.25f, 3.0f}, {2, 2}, DType::BFloat16)},
          {"ids", Tensor::from_vector<std::int32_t>({-1, 0, 7})}};
}

int write(const std::string& path) {
  NamedTensors model = {{"embedding.weight", table(initial_weight)}};
  for (auto& p : passengers()) model.push_back(p);
  embedkit::io::save_checkpoint(path, model,
                                {{"embedding.weight.momentum_buffer", table(initial_momentum)},
                                 {"embedding.weight.step", Tensor::scalar<std::int64_t>(3)}},
                                {{"epoch", "3"}});
  return 0;
}

int failures = 0;
void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "check failed: %s\n", what.c_str());
    ++failures;
  }
}

int check(const std::string& path) {
  // Destinations of the model, with the shapes and dtypes embedkit expects (strict load).
  NamedTensors model = {{"embedding.weight", Tensor::zeros({kRows, kDim})}};
  for (auto& [name, t] : passengers())
    model.emplace_back(name, Tensor::zeros(t.shape(), t.dtype()));
  NamedTensors optimizer;
  const auto checkpoint = embedkit::io::load_checkpoint(
      path, model, [&](const NamedTensors& state) { optimizer = state; });

  // The step, as torch.optim.SGD does it: buf = momentum * buf + grad; w -= lr * buf.
  std::vector<float> grad(kRows * kDim, 0.0f);
  for (const std::int64_t id : kStepIds) {
    for (std::int64_t c = 0; c < kDim; ++c) grad[static_cast<std::size_t>(id * kDim + c)] += 1.0f;
  }
  std::vector<float> weight(kRows * kDim), momentum(kRows * kDim);
  for (std::int64_t r = 0; r < kRows; ++r) {
    for (std::int64_t c = 0; c < kDim; ++c) {
      const auto i = static_cast<std::size_t>(r * kDim + c);
      momentum[i] = kMomentum * initial_momentum(r, c) + grad[i];
      weight[i] = initial_weight(r, c) - kLr * momentum[i];
    }
  }
  expect(model[0].second.to_float_vector() == weight, "embedding.weight after the SGD step");
  const auto passengers_expected = passengers();
  for (std::size_t k = 0; k < passengers_expected.size(); ++k) {
    const Tensor& got = model[k + 1].second;
    const Tensor& want = passengers_expected[k].second;
    expect(std::memcmp(got.raw_data(), want.raw_data(), want.nbytes()) == 0,
           model[k + 1].first + " unchanged");
  }
  expect(optimizer.size() == 2, "two optimizer tensors");
  for (const auto& [name, t] : optimizer) {
    if (name == "embedding.weight.momentum_buffer") {
      expect(t.shape() == embedkit::Shape({kRows, kDim}) && t.dtype() == DType::Float32 &&
                 t.to_float_vector() == momentum,
             "momentum buffer after the SGD step");
    } else if (name == "embedding.weight.step") {
      expect(t.dim() == 0 && t.dtype() == DType::Int64 && t.to_int64_vector()[0] == 4,
             "step counter 4");
    } else {
      expect(false, "unexpected optimizer tensor " + name);
    }
  }
  const auto epoch = checkpoint.metadata.find("epoch");
  expect(epoch != checkpoint.metadata.end() && epoch->second == "4", "metadata epoch 4");
  if (failures == 0) std::printf("embedkit loaded PyTorch's checkpoint: all values exact\n");
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s write|check FILE\n", argv[0]);
    return 2;
  }
  try {
    const std::string command = argv[1];
    if (command == "write") return write(argv[2]);
    if (command == "check") return check(argv[2]);
    std::fprintf(stderr, "unknown command %s\n", argv[1]);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
