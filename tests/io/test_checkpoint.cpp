// Checkpoints: model + optimizer state in one safetensors file, loaded all-or-nothing.
#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "embedkit/io/checkpoint.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/optim/optimizer.hpp"
#include "io/test_support.hpp"
#include "support/files.hpp"
#include "support/pinned_safetensors.hpp"
#include "support/temp_dir.hpp"

namespace {

using embedkit::DType;
using embedkit::IoError;
using embedkit::NamedTensors;
using embedkit::Shape;
using embedkit::Tensor;
using embedkit::TypeError;
using embedkit::ValueError;
using embedkit::io::CheckpointLoadOptions;
using embedkit::io::Metadata;
using embedkit_io_test::message_of;
using embedkit_test::PinnedSafetensors;
using embedkit_test::TempDir;

// Stands in for an optimizer: records what it was given, or rejects it as a real one would.
struct FakeOptimizer {
  NamedTensors loaded;
  bool reject = false;
  void load_state_dict(const NamedTensors& state) {
    if (reject) throw ValueError("FakeOptimizer: state does not match");
    loaded = state;
  }
};

struct Model {
  Tensor weight = Tensor::from_floats({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor bias = Tensor::from_floats({0.5f, -0.5f}, {2});
  NamedTensors params() const { return {{"embedding.weight", weight}, {"linear.bias", bias}}; }
};

NamedTensors optimizer_state() {
  return {{"embedding.weight.momentum_buffer", Tensor::from_floats({9, 9, 9, 9, 9, 9}, {3, 2})},
          {"embedding.weight.step", Tensor::scalar<std::int64_t>(12)}};
}

TEST(Checkpoint, FileLayout) {
  TempDir dir;
  const auto path = dir / "ckpt.safetensors";
  Model model;
  embedkit::io::save_checkpoint(path, model.params(), optimizer_state(), {{"epoch", "4"}});
  // An ordinary safetensors file: model names as given, optimizer names prefixed.
  const auto raw = embedkit::io::load_safetensors(path);
  ASSERT_EQ(raw.tensors.size(), 4u);
  EXPECT_EQ(raw.tensors[0].first, "embedding.weight");
  EXPECT_EQ(raw.tensors[1].first, "linear.bias");
  EXPECT_EQ(raw.tensors[2].first, "optimizer.embedding.weight.momentum_buffer");
  EXPECT_EQ(raw.tensors[3].first, "optimizer.embedding.weight.step");
  EXPECT_EQ(raw.metadata,
            Metadata({{"epoch", "4"}, {"format", "pt"}, {"embedkit.checkpoint", "1"}}));
}

// The bytes of a checkpoint are pinned, metadata strings with characters JSON must escape
// included: a file written by one embedkit must be written the same by the next.
TEST(Checkpoint, FileBytesArePinned) {
  TempDir dir;
  const auto path = dir / "ckpt.safetensors";
  const std::vector<float> weight = {1.5f, -0.1f};
  const std::vector<std::int64_t> step = {3};
  embedkit::io::save_checkpoint(
      path, {{"w", Tensor::from_floats(weight, {2})}}, {{"w.step", Tensor::from_vector(step)}},
      {{"note", "a \"quoted\" \\ path\nline two\ttab\x01 caf\xC3\xA9"}, {"epoch", "7"}});
  const std::string header =
      R"({"__metadata__":{"embedkit.checkpoint":"1","epoch":"7","format":"pt",)"
      R"("note":"a \"quoted\" \\ path\u000aline two\u0009tab\u0001 caf)"
      "\xC3\xA9"
      R"("},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("optimizer.w.step":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}})";
  const PinnedSafetensors expected = PinnedSafetensors(header).add(weight).add(step);
  EXPECT_EQ(embedkit_test::read_file(path), expected.bytes());
}

TEST(Checkpoint, SaveLoadRoundTrip) {
  TempDir dir;
  const auto path = dir / "ckpt.safetensors";
  Model trained;
  embedkit::io::save_checkpoint(path, trained.params(), optimizer_state(), {{"epoch", "4"}});

  Model fresh;
  fresh.weight.fill_zero();
  fresh.bias.fill_zero();
  FakeOptimizer optimizer;
  const auto checkpoint = embedkit::io::load_checkpoint(path, fresh.params(), optimizer);
  EXPECT_EQ(fresh.weight.to_float_vector(), trained.weight.to_float_vector());
  EXPECT_EQ(fresh.bias.to_float_vector(), trained.bias.to_float_vector());
  ASSERT_EQ(optimizer.loaded.size(), 2u);
  EXPECT_EQ(optimizer.loaded[0].first, "embedding.weight.momentum_buffer");
  EXPECT_EQ(optimizer.loaded[1].first, "embedding.weight.step");
  EXPECT_EQ(optimizer.loaded[1].second.to_int64_vector(), std::vector<std::int64_t>({12}));
  EXPECT_EQ(checkpoint.metadata, Metadata({{"epoch", "4"}}));  // reserved keys stripped
  EXPECT_EQ(checkpoint.model.size(), 2u);
  EXPECT_EQ(checkpoint.optimizer.size(), 2u);

  const auto read = embedkit::io::read_checkpoint(path);
  EXPECT_EQ(read.model[0].second.to_float_vector(), trained.weight.to_float_vector());
  EXPECT_EQ(read.optimizer[0].first, "embedding.weight.momentum_buffer");
}

TEST(Checkpoint, LoadsIntoAModulesParameters) {
  TempDir dir;
  const auto path = dir / "emb.safetensors";
  embedkit::nn::Embedding source(embedkit::nn::EmbeddingOptions(5, 3));
  embedkit::io::save_checkpoint(path, {{"embedding.weight", source.weight()}});
  embedkit::nn::Embedding target(embedkit::nn::EmbeddingOptions(5, 3));
  ASSERT_NE(target.weight().to_float_vector(), source.weight().to_float_vector());
  embedkit::io::load_checkpoint(path, {{"embedding.weight", target.weight()}});
  EXPECT_EQ(target.weight().to_float_vector(), source.weight().to_float_vector());
  const Tensor ids = Tensor::from_vector<std::int64_t>({4, 0});
  EXPECT_EQ(target.forward(ids).to_float_vector(), source.forward(ids).to_float_vector());
}

TEST(Checkpoint, APyTorchSafetensorsFileIsACheckpoint) {
  // What safetensors.torch.save_file(model.state_dict(), path) writes: no embedkit metadata.
  TempDir dir;
  const auto path = dir / "torch.safetensors";
  embedkit::io::save_safetensors(path, {{"weight", Tensor::from_floats({1, 2}, {1, 2})}},
                                 {{"format", "pt"}});
  Tensor weight = Tensor::zeros({1, 2});
  const auto checkpoint = embedkit::io::load_checkpoint(path, {{"weight", weight}});
  EXPECT_EQ(weight.to_float_vector(), std::vector<float>({1, 2}));
  EXPECT_TRUE(checkpoint.optimizer.empty());
  EXPECT_TRUE(checkpoint.metadata.empty());
}

// Every mismatch is found before anything is written: the model keeps its values.
class CheckpointMismatch : public ::testing::Test {
 protected:
  void SetUp() override {
    Model saved;
    embedkit::io::save_checkpoint(path, saved.params(), optimizer_state());
    model.weight = Tensor::zeros({3, 2});
    model.bias = Tensor::zeros({2});
  }
  void expect_untouched() const {
    EXPECT_EQ(model.weight.to_float_vector(), std::vector<float>(6, 0.0f));
    EXPECT_EQ(model.bias.to_float_vector(), std::vector<float>(2, 0.0f));
  }

  TempDir dir;
  std::filesystem::path path = dir / "ckpt.safetensors";
  Model model;
};

TEST_F(CheckpointMismatch, MissingTensor) {
  Tensor extra = Tensor::zeros({4});
  const std::string m = message_of<ValueError>([&] {
    embedkit::io::load_checkpoint(
        path, {{"embedding.weight", model.weight}, {"linear.bias", model.bias}, {"new", extra}});
  });
  EXPECT_CONTAINS(m, path.string() +
                         ": checkpoint does not match the model: missing tensor "
                         "'new' (expected float32 [4]); nothing was loaded");
  expect_untouched();
}

TEST_F(CheckpointMismatch, UnexpectedTensorIsAnErrorWhenStrict) {
  const std::string m = message_of<ValueError>([&] {
    embedkit::io::load_checkpoint(path, {{"embedding.weight", model.weight}});
  });
  EXPECT_CONTAINS(m, "unexpected tensor 'linear.bias' (float32 [2])");
  expect_untouched();

  // Non-strict: loads what matches, leaves the rest.
  Tensor extra = Tensor::from_floats({7}, {1});
  embedkit::io::load_checkpoint(path, {{"embedding.weight", model.weight}, {"new", extra}},
                                CheckpointLoadOptions().strict(false));
  EXPECT_EQ(model.weight.to_float_vector(), Model().weight.to_float_vector());
  EXPECT_EQ(extra.to_float_vector(), std::vector<float>({7}));
}

TEST_F(CheckpointMismatch, WrongShapeIsAnErrorEvenWhenNotStrict) {
  Tensor wide = Tensor::zeros({3, 4});
  for (const bool strict : {true, false}) {
    const std::string m = message_of<ValueError>([&] {
      embedkit::io::load_checkpoint(path, {{"linear.bias", model.bias}, {"embedding.weight", wide}},
                                    CheckpointLoadOptions().strict(strict));
    });
    EXPECT_CONTAINS(m, "tensor 'embedding.weight' has shape [3, 2] in the file, expected [3, 4]");
    // linear.bias matched and comes first, and still was not written.
    expect_untouched();
  }
}

TEST_F(CheckpointMismatch, WrongDtypeIsATypeError) {
  Tensor half = Tensor::zeros({3, 2}, DType::Float16);
  const std::string m = message_of<TypeError>([&] {
    embedkit::io::load_checkpoint(path, {{"linear.bias", model.bias}, {"embedding.weight", half}});
  });
  EXPECT_CONTAINS(m, "tensor 'embedding.weight' has dtype float32 in the file, expected float16");
  expect_untouched();
}

TEST_F(CheckpointMismatch, EveryProblemIsListed) {
  Tensor wrong = Tensor::zeros({2, 2});
  const std::string m = message_of<ValueError>([&] {
    embedkit::io::load_checkpoint(path, {{"embedding.weight", wrong}, {"other", model.bias}});
  });
  EXPECT_CONTAINS(m, "tensor 'embedding.weight' has shape [3, 2] in the file, expected [2, 2]");
  EXPECT_CONTAINS(m, "missing tensor 'other'");
  EXPECT_CONTAINS(m, "unexpected tensor 'linear.bias'");
}

TEST_F(CheckpointMismatch, ARejectedOptimizerStateLeavesTheModelAlone) {
  FakeOptimizer optimizer;
  optimizer.reject = true;
  EXPECT_THROW(embedkit::io::load_checkpoint(path, model.params(), optimizer), ValueError);
  expect_untouched();
  // And a model mismatch is found before the optimizer is asked.
  optimizer.reject = false;
  EXPECT_THROW(embedkit::io::load_checkpoint(path, {{"embedding.weight", model.weight}}, optimizer),
               ValueError);
  EXPECT_TRUE(optimizer.loaded.empty());
}

TEST_F(CheckpointMismatch, ACorruptFileLeavesTheModelAlone) {
  auto bytes = embedkit_io_test::read_bytes(path);
  ASSERT_GT(bytes.size(), 5u);
  // erase, not resize: GCC 12 at -O1 with ASan cannot see the size above and warns that
  // resize's fill could overflow (-Wstringop-overflow, an error under -Werror).
  bytes.erase(bytes.end() - 5, bytes.end());
  embedkit_io_test::write_bytes(path, bytes);
  const std::string m =
      message_of<IoError>([&] { embedkit::io::load_checkpoint(path, model.params()); });
  EXPECT_CONTAINS(m, path.string() + ": tensor 'optimizer.embedding.weight.step'");
  EXPECT_CONTAINS(m, "truncated");
  expect_untouched();
}

TEST(Checkpoint, ArgumentErrors) {
  TempDir dir;
  const auto path = dir / "ckpt.safetensors";
  const Tensor t = Tensor::zeros({1});
  EXPECT_CONTAINS(message_of<ValueError>([&] {
                    embedkit::io::save_checkpoint(path, {{"optimizer.lr", t}});
                  }),
                  "model tensor name 'optimizer.lr' starts with 'optimizer.'");
  EXPECT_CONTAINS(message_of<ValueError>([&] {
                    embedkit::io::save_checkpoint(path, {{"w", t}}, {}, {{"format", "np"}});
                  }),
                  "metadata key 'format' is reserved");
  EXPECT_CONTAINS(message_of<ValueError>([&] {
                    embedkit::io::save_checkpoint(path, {{"w", t}, {"w", t}});
                  }),
                  "model tensor name 'w' is given twice");
  EXPECT_FALSE(std::filesystem::exists(path));
  embedkit::io::save_checkpoint(path, {{"w", t}});
  EXPECT_CONTAINS(message_of<ValueError>([&] {
                    embedkit::io::load_checkpoint(path, {{"w", Tensor()}});
                  }),
                  "model tensor 'w' is undefined");
}

TEST(Checkpoint, ANewerLayoutIsRefused) {
  TempDir dir;
  const auto path = dir / "future.safetensors";
  embedkit::io::save_safetensors(path, {{"w", Tensor::zeros({1})}}, {{"embedkit.checkpoint", "2"}});
  EXPECT_CONTAINS(message_of<IoError>([&] { embedkit::io::read_checkpoint(path); }),
                  "checkpoint layout version '2' is not the one this embedkit reads ('1')");
}

TEST(Checkpoint, OptimizerStateCallback) {
  TempDir dir;
  const auto path = dir / "ckpt.safetensors";
  Model model;
  embedkit::io::save_checkpoint(path, model.params(), optimizer_state());
  std::size_t seen = 0;
  embedkit::io::load_checkpoint(path, model.params(),
                                [&](const NamedTensors& state) { seen = state.size(); });
  EXPECT_EQ(seen, 2u);
}

// The checkpoint writer follows the rules of every output (atomic_file.hpp): a symbolic link
// or a FIFO at the path is refused, not replaced by a regular file.
TEST(Checkpoint, NonRegularPathsAreRefused) {
  TempDir dir;
  const Model model;
  const auto real = dir / "real.safetensors";
  embedkit::io::save_checkpoint(real, model.params());
  const auto link = dir / "link.safetensors";
  std::filesystem::create_symlink(real, link);
  EXPECT_CONTAINS(message_of<IoError>([&] { embedkit::io::save_checkpoint(link, model.params()); }),
                  link.string() + ": is a symbolic link");
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  const auto fifo = dir / "fifo.safetensors";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_CONTAINS(message_of<IoError>([&] { embedkit::io::save_checkpoint(fifo, model.params()); }),
                  fifo.string() + ": is a FIFO (named pipe)");
  EXPECT_TRUE(std::filesystem::is_fifo(fifo));
  EXPECT_EQ(dir.names(),
            std::vector<std::string>({"fifo.safetensors", "link.safetensors", "real.safetensors"}));
}

}  // namespace
