// Interoperability with the real PyTorch (LibTorch, the C++ frontend):
//   - a table trained with torch::nn::Embedding and torch::optim::SGD (momentum) is written by
//     embedkit; an independent minimal reader over the raw bytes (not embedkit's) and
//     torch::from_blob find exactly torch's values;
//   - bytes laid out by an independent writer from torch tensors of every dtype are read by
//     embedkit to exactly torch's values;
//   - training resumed in PyTorch from an embedkit checkpoint (weights and momentum) continues
//     bit for bit as if it had never stopped, and embedkit's Embedding over the loaded table
//     gives torch's forward.
#include <torch/torch.h>

#include <cstring>
#include <regex>
#include <string>
#include <vector>

#include "embedkit/io/checkpoint.hpp"
#include "embedkit/nn/embedding.hpp"
#include "io/test_support.hpp"
#include "support/temp_dir.hpp"

namespace {

using embedkit_test::TempDir;

struct Located {
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;
};

// The independent reader: finds one tensor's entry in the header with a regular expression
// (enough for the compact headers writers produce) and returns where its bytes are.
Located locate(const std::vector<std::uint8_t>& file, const std::string& name,
               std::uint64_t& buffer_start) {
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | file.at(static_cast<std::size_t>(i));
  const std::string header(file.begin() + 8, file.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  buffer_start = 8 + n;
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string&&.
  std::string pattern = "\"";
  pattern += std::regex_replace(name, std::regex(R"([.])"), R"(\.)");
  pattern += R"(\":\{\"dtype\":\"(\w+)\",\"shape\":\[([0-9,]*)\],)";
  pattern += R"(\"data_offsets\":\[(\d+),(\d+)\]\})";
  const std::regex entry(pattern);
  std::smatch m;
  if (!std::regex_search(header, m, entry)) throw std::runtime_error("no entry for " + name);
  Located out;
  out.dtype = m[1];
  const std::string dims = m[2];
  for (std::size_t pos = 0; pos < dims.size();) {
    const std::size_t comma = dims.find(',', pos);
    out.shape.push_back(std::stoll(dims.substr(pos, comma - pos)));
    pos = comma == std::string::npos ? dims.size() : comma + 1;
  }
  out.begin = std::stoull(m[3]);
  out.end = std::stoull(m[4]);
  return out;
}

torch::Tensor raw_tensor(const std::vector<std::uint8_t>& file, const std::string& name,
                         torch::ScalarType type) {
  std::uint64_t buffer_start = 0;
  const Located where = locate(file, name, buffer_start);
  EXPECT_EQ(
      where.end - where.begin,
      static_cast<std::uint64_t>(c10::multiply_integers(where.shape)) * c10::elementSize(type));
  void* data = const_cast<std::uint8_t*>(file.data() + buffer_start + where.begin);
  return torch::from_blob(data, where.shape, torch::TensorOptions().dtype(type)).clone();
}

embedkit::Tensor view_of(const torch::Tensor& t) {
  // Both libraries store little-endian IEEE (and bfloat16 = the top half of binary32), so the
  // bytes carry over unchanged.
  EXPECT_TRUE(t.is_contiguous());
  const auto type = t.scalar_type();
  const embedkit::DType dtype = type == torch::kFloat      ? embedkit::DType::Float32
                                : type == torch::kHalf     ? embedkit::DType::Float16
                                : type == torch::kBFloat16 ? embedkit::DType::BFloat16
                                : type == torch::kInt      ? embedkit::DType::Int32
                                                           : embedkit::DType::Int64;
  return embedkit::Tensor::from_blob(t.data_ptr(),
                                     embedkit::Shape(t.sizes().begin(), t.sizes().end()), dtype);
}

torch::Tensor torch_view(const embedkit::Tensor& t, torch::ScalarType type) {
  return torch::from_blob(const_cast<void*>(t.raw_data()), torch::IntArrayRef(t.shape()),
                          torch::TensorOptions().dtype(type));
}

torch::Tensor& momentum_of(torch::optim::SGD& optimizer, const torch::Tensor& param) {
  auto& state = optimizer.state().at(c10::guts::to_string(param.unsafeGetTensorImpl()));
  return static_cast<torch::optim::SGDParamState&>(*state).momentum_buffer();
}

void train(torch::nn::Embedding& embedding, torch::optim::SGD& optimizer, int steps, int first) {
  for (int s = first; s < first + steps; ++s) {
    optimizer.zero_grad();
    const auto ids = torch::tensor({s % 10, (3 * s) % 10, 7, 7}, torch::kLong);
    const auto loss = (embedding->forward(ids) * torch::arange(1, 5, torch::kFloat)).pow(2).sum();
    loss.backward();
    optimizer.step();
  }
}

TEST(TorchInterop, EmbedkitWritesWhatTorchTrained) {
  torch::manual_seed(0);
  torch::nn::Embedding embedding(torch::nn::EmbeddingOptions(10, 4));
  torch::optim::SGD optimizer(embedding->parameters(),
                              torch::optim::SGDOptions(0.05).momentum(0.9));
  train(embedding, optimizer, 3, 0);
  const torch::Tensor weight = embedding->weight.detach();
  const torch::Tensor momentum = momentum_of(optimizer, embedding->weight);

  TempDir dir;
  const auto path = dir / "torch_trained.safetensors";
  embedkit::io::save_checkpoint(path, {{"embedding.weight", view_of(weight)}},
                                {{"embedding.weight.momentum_buffer", view_of(momentum)}});

  // Read back without embedkit's reader.
  const auto bytes = embedkit_io_test::read_bytes(path);
  std::uint64_t buffer_start = 0;
  const Located entry = locate(bytes, "embedding.weight", buffer_start);
  EXPECT_EQ(entry.dtype, "F32");
  EXPECT_EQ(entry.shape, std::vector<std::int64_t>({10, 4}));
  EXPECT_TRUE(torch::equal(raw_tensor(bytes, "embedding.weight", torch::kFloat), weight));
  EXPECT_TRUE(torch::equal(
      raw_tensor(bytes, "optimizer.embedding.weight.momentum_buffer", torch::kFloat), momentum));

  // And embedkit's Embedding over the loaded table is torch's Embedding.
  embedkit::nn::Embedding ours(embedkit::nn::EmbeddingOptions(10, 4));
  embedkit::io::load_checkpoint(path, {{"embedding.weight", ours.weight()}});
  const std::vector<std::int64_t> ids = {0, 9, 3, 3, 7};
  const auto theirs = embedding->forward(torch::tensor(ids, torch::kLong)).detach().contiguous();
  const auto out = ours.forward(embedkit::Tensor::from_vector(ids));
  EXPECT_TRUE(torch::equal(torch_view(out, torch::kFloat), theirs));
}

TEST(TorchInterop, TrainingResumesFromAnEmbedkitCheckpoint) {
  torch::manual_seed(1);
  torch::nn::Embedding original(torch::nn::EmbeddingOptions(10, 4));
  torch::optim::SGD original_opt(original->parameters(),
                                 torch::optim::SGDOptions(0.05).momentum(0.9));
  train(original, original_opt, 3, 0);

  TempDir dir;
  const auto path = dir / "resume.safetensors";
  embedkit::io::save_checkpoint(
      path, {{"embedding.weight", view_of(original->weight.detach())}},
      {{"embedding.weight.momentum_buffer", view_of(momentum_of(original_opt, original->weight))}},
      {{"step", "3"}});
  train(original, original_opt, 2, 3);  // the run that never stopped

  // A new process would do this: fresh module and optimizer, state from the checkpoint.
  torch::nn::Embedding resumed(torch::nn::EmbeddingOptions(10, 4));
  torch::optim::SGD resumed_opt(resumed->parameters(),
                                torch::optim::SGDOptions(0.05).momentum(0.9));
  const auto checkpoint = embedkit::io::read_checkpoint(path);
  ASSERT_EQ(checkpoint.model.at(0).first, "embedding.weight");
  ASSERT_EQ(checkpoint.optimizer.at(0).first, "embedding.weight.momentum_buffer");
  EXPECT_EQ(checkpoint.metadata.at("step"), "3");
  {
    torch::NoGradGuard no_grad;
    resumed->weight.copy_(torch_view(checkpoint.model[0].second, torch::kFloat));
  }
  auto state = std::make_unique<torch::optim::SGDParamState>();
  state->momentum_buffer(torch_view(checkpoint.optimizer[0].second, torch::kFloat).clone());
  resumed_opt.state()[c10::guts::to_string(resumed->weight.unsafeGetTensorImpl())] =
      std::move(state);
  train(resumed, resumed_opt, 2, 3);

  EXPECT_TRUE(torch::equal(resumed->weight, original->weight));
}

TEST(TorchInterop, EmbedkitReadsIndependentlyWrittenTorchBytes) {
  torch::manual_seed(2);
  // name, tensor; laid out in the buffer in reverse of the header's order.
  const std::vector<std::pair<std::string, torch::Tensor>> tensors = {
      {"embedding.weight", torch::randn({6, 3})},
      {"half", torch::randn({5}).to(torch::kHalf)},
      {"bf16", torch::randn({2, 2}).to(torch::kBFloat16)},
      {"ids", torch::tensor({-5, 0, 2147483647}, torch::kInt)},
      {"step", torch::tensor(std::int64_t{9007199254740993}, torch::kLong)},  // 0-dim
      {"empty", torch::zeros({0, 3})},
  };
  const std::map<torch::ScalarType, std::string> names = {{torch::kFloat, "F32"},
                                                          {torch::kHalf, "F16"},
                                                          {torch::kBFloat16, "BF16"},
                                                          {torch::kInt, "I32"},
                                                          {torch::kLong, "I64"}};
  std::vector<std::uint8_t> buffer;
  std::vector<std::uint64_t> begins(tensors.size());
  for (std::size_t k = tensors.size(); k-- > 0;) {
    const auto& t = tensors[k].second;
    begins[k] = buffer.size();
    const auto* p = static_cast<const std::uint8_t*>(t.data_ptr());
    buffer.insert(buffer.end(), p, p + t.nbytes());
  }
  std::string header = "{\"__metadata__\": {\"format\": \"pt\"}";
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    const auto& t = tensors[k].second;
    header += ", \"" + tensors[k].first + "\": {\"dtype\": \"" + names.at(t.scalar_type()) +
              "\", \"shape\": [";
    for (std::int64_t d = 0; d < t.dim(); ++d) {
      if (d) header += ", ";
      header += std::to_string(t.size(d));
    }
    header += "], \"data_offsets\": [" + std::to_string(begins[k]) + ", " +
              std::to_string(begins[k] + t.nbytes()) + "]}";
  }
  header += "}";
  const auto contents = embedkit::io::parse_safetensors(
      embedkit_io_test::make_safetensors(header, buffer), "torch bytes");
  ASSERT_EQ(contents.tensors.size(), tensors.size());
  EXPECT_EQ(contents.metadata.at("format"), "pt");
  for (const auto& [name, expected] : tensors) {
    const auto found = std::find_if(contents.tensors.begin(), contents.tensors.end(),
                                    [&](const auto& e) { return e.first == name; });
    ASSERT_NE(found, contents.tensors.end()) << name;
    const torch::Tensor ours = torch_view(found->second, expected.scalar_type());
    EXPECT_EQ(ours.sizes(), expected.sizes()) << name;
    EXPECT_TRUE(torch::equal(ours, expected)) << name;
  }
  // Data order: the buffer holds the last header entry first.
  EXPECT_EQ(contents.tensors.front().first, "empty");
  EXPECT_EQ(contents.tensors.back().first, "embedding.weight");
}

}  // namespace
