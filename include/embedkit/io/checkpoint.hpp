// Training checkpoints: a model's parameters and its optimizer's state in one safetensors
// file, replaced atomically on every save, and loaded all-or-nothing.
//
// File layout (an ordinary safetensors file, readable by safetensors.torch.load_file):
//   - model tensors under their state_dict names, as given ("embedding.weight");
//   - optimizer state under "optimizer." + its state_dict name
//     ("optimizer.embedding.weight.exp_avg", "optimizer.embedding.weight.step");
//   - metadata: the caller's strings, plus "format": "pt" (what safetensors.torch writes) and
//     "embedkit.checkpoint": "1" (this layout's version). A safetensors file written by
//     PyTorch (safetensors.torch.save_file(model.state_dict(), path)) is a checkpoint with no
//     optimizer state, so a table trained in PyTorch loads with load_checkpoint.
//
// Saving: the file is written to a temporary file, fsync'ed and renamed over `path` (see
// atomic_file.hpp): a process killed mid-save leaves the previous checkpoint intact, and the
// next save removes the killed writer's temporary file.
//
// Loading (load_checkpoint): the whole file is read and validated (IoError when it is
// truncated or corrupted), then every expected model tensor is checked against it (name,
// shape, dtype), then the optimizer state is handed to the optimizer (which validates it
// itself and changes nothing on error), and only then are the model's tensors written. Any
// error leaves the model and the optimizer as they were: never a half-loaded model.
//
// Matching policy (CheckpointLoadOptions::strict, true by default, as PyTorch's
// load_state_dict(strict=True)): every expected tensor must be in the file and every model
// tensor of the file must be expected. With strict(false), missing tensors are left as they
// are and unexpected ones ignored. Shapes and dtypes must match exactly in both modes (PyTorch
// would convert dtypes silently; embedkit does not). Mismatches throw ValueError listing every
// problem, or TypeError when the only problems are dtypes; messages start with the file's path.
#pragma once

#include <filesystem>
#include <functional>
#include <string_view>

#include "embedkit/core/arg.hpp"
#include "embedkit/io/safetensors.hpp"

namespace embedkit::io {

// The prefix of optimizer-state tensor names in a checkpoint file.
inline constexpr std::string_view kCheckpointOptimizerPrefix = "optimizer.";
// Metadata keys the checkpoint layout reserves (and strips from Checkpoint::metadata).
inline constexpr std::string_view kCheckpointVersionKey = "embedkit.checkpoint";
inline constexpr std::string_view kCheckpointFormatKey = "format";

struct Checkpoint {
  NamedTensors model;      // in file order
  NamedTensors optimizer;  // names without the "optimizer." prefix, in file order
  Metadata metadata;       // the caller's metadata, without the reserved keys
};

struct CheckpointLoadOptions {
  // All expected tensors present and no unexpected model tensors in the file.
  EMBEDKIT_ARG(bool, strict) = true;
};

// Saves atomically. Throws ValueError (before touching the file) for a model name starting
// with "optimizer.", a name given twice, a reserved metadata key, or what save_safetensors
// rejects; IoError when the file cannot be written (the previous checkpoint is then intact).
void save_checkpoint(const std::filesystem::path& path, const NamedTensors& model,
                     const NamedTensors& optimizer_state = {}, const Metadata& metadata = {});

// Reads a checkpoint as stored, with no expectations (IoError on a bad file, or on a newer
// checkpoint layout version).
Checkpoint read_checkpoint(const std::filesystem::path& path);

// Loads into `model`: its tensors are destinations whose storage is overwritten (a Tensor
// copy shares storage, so pass the modules' parameter tensors). Returns what was read,
// optimizer state and metadata included. See the top of this file for the checks and errors.
Checkpoint load_checkpoint(const std::filesystem::path& path, const NamedTensors& model,
                           const CheckpointLoadOptions& options = {});

// Same, and hands the optimizer state to `load_optimizer_state` after the model checks passed
// and before the model is written; if it throws, the model is left untouched.
Checkpoint load_checkpoint(const std::filesystem::path& path, const NamedTensors& model,
                           const std::function<void(const NamedTensors&)>& load_optimizer_state,
                           const CheckpointLoadOptions& options = {});

// Same, with an optimizer (anything with load_state_dict(const NamedTensors&), such as
// optim::Optimizer), loaded all-or-nothing together with the model.
template <class Optimizer>
requires requires(Optimizer& o, const NamedTensors& state) {
  o.load_state_dict(state);
}
Checkpoint load_checkpoint(const std::filesystem::path& path, const NamedTensors& model,
                           Optimizer& optimizer, const CheckpointLoadOptions& options = {}) {
  return load_checkpoint(
      path, model, [&optimizer](const NamedTensors& state) { optimizer.load_state_dict(state); },
      options);
}

}  // namespace embedkit::io
