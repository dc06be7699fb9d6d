#include "embedkit/io/checkpoint.hpp"

#include <set>
#include <unordered_map>

#include "embedkit/core/error.hpp"
#include "io/display_name.hpp"
#include "io/model_metadata.hpp"

namespace embedkit::io {

namespace {

// The file's format mark (io/model_metadata.hpp): the layout version this code writes and
// reads. A file without it is accepted: safetensors.torch.save_file writes none.
constexpr detail::ModelFormat kFileFormat{.kind = "checkpoint",
                                          .version_key = kCheckpointVersionKey,
                                          .version = "1",
                                          .version_optional = true};
// What safetensors.torch.save_file writes; some tools look for it.
constexpr std::string_view kFormatValue = "pt";

bool has_optimizer_prefix(const std::string& name) {
  return name.starts_with(kCheckpointOptimizerPrefix);
}

std::string describe(const Tensor& t) {
  return std::string(dtype_name(t.dtype())) + " " + shape_string(t.shape());
}

// Expected tensors must be usable as destinations and unambiguous.
void check_model_names(const NamedTensors& model, const char* what) {
  std::set<std::string_view> names;
  for (const auto& [name, tensor] : model) {
    if (has_optimizer_prefix(name)) {
      throw ValueError(std::string(what) + ": model tensor name '" + name + "' starts with '" +
                       std::string(kCheckpointOptimizerPrefix) +
                       "', which checkpoints reserve for optimizer state");
    }
    if (!names.insert(name).second) {
      throw ValueError(std::string(what) + ": model tensor name '" + name + "' is given twice");
    }
    if (!tensor.defined()) {
      throw ValueError(std::string(what) + ": model tensor '" + name + "' is undefined");
    }
  }
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const NamedTensors& model,
                     const NamedTensors& optimizer_state, const Metadata& metadata) {
  check_model_names(model, "save_checkpoint");
  for (const std::string_view key : {kCheckpointVersionKey, kCheckpointFormatKey}) {
    if (metadata.count(std::string(key)) != 0) {
      throw ValueError("save_checkpoint: metadata key '" + std::string(key) +
                       "' is reserved for the checkpoint layout");
    }
  }
  NamedTensors all;
  all.reserve(model.size() + optimizer_state.size());
  all.insert(all.end(), model.begin(), model.end());
  for (const auto& [name, tensor] : optimizer_state) {
    all.emplace_back(std::string(kCheckpointOptimizerPrefix) + name, tensor);
  }
  Metadata all_metadata = metadata;
  detail::mark_model_format(all_metadata, kFileFormat);
  all_metadata.emplace(kCheckpointFormatKey, kFormatValue);
  save_safetensors(path, all, all_metadata);
}

Checkpoint read_checkpoint(const std::filesystem::path& path) {
  SafetensorsContents contents = load_safetensors(path);
  detail::check_model_format(path.string(), contents.metadata, kFileFormat);
  Checkpoint checkpoint;
  for (auto& [name, tensor] : contents.tensors) {
    if (has_optimizer_prefix(name)) {
      checkpoint.optimizer.emplace_back(name.substr(kCheckpointOptimizerPrefix.size()),
                                        std::move(tensor));
    } else {
      checkpoint.model.emplace_back(std::move(name), std::move(tensor));
    }
  }
  contents.metadata.erase(std::string(kCheckpointVersionKey));
  contents.metadata.erase(std::string(kCheckpointFormatKey));
  checkpoint.metadata = std::move(contents.metadata);
  return checkpoint;
}

Checkpoint load_checkpoint(const std::filesystem::path& path, const NamedTensors& model,
                           const CheckpointLoadOptions& options) {
  return load_checkpoint(path, model, std::function<void(const NamedTensors&)>(), options);
}

Checkpoint load_checkpoint(const std::filesystem::path& path, const NamedTensors& model,
                           const std::function<void(const NamedTensors&)>& load_optimizer_state,
                           const CheckpointLoadOptions& options) {
  check_model_names(model, "load_checkpoint");
  Checkpoint checkpoint = read_checkpoint(path);

  std::unordered_map<std::string_view, const Tensor*> stored;
  for (const auto& [name, tensor] : checkpoint.model) stored.emplace(name, &tensor);

  // Every problem is listed, as PyTorch's load_state_dict does: fixing them one run at a time
  // is slow when a model was renamed.
  std::vector<std::string> problems;
  bool only_dtypes = true;
  std::vector<std::pair<Tensor, const Tensor*>> copies;
  std::set<std::string_view> expected_names;
  for (const auto& [name, destination] : model) {
    expected_names.insert(name);
    const auto found = stored.find(name);
    if (found == stored.end()) {
      if (options.strict()) {
        problems.push_back("missing tensor " + detail::display_name(name) + " (expected " +
                           describe(destination) + ")");
        only_dtypes = false;
      }
      continue;
    }
    const Tensor& source = *found->second;
    if (source.shape() != destination.shape()) {
      problems.push_back("tensor " + detail::display_name(name) + " has shape " +
                         shape_string(source.shape()) + " in the file, expected " +
                         shape_string(destination.shape()));
      only_dtypes = false;
    }
    if (source.dtype() != destination.dtype()) {
      problems.push_back("tensor " + detail::display_name(name) + " has dtype " +
                         std::string(dtype_name(source.dtype())) + " in the file, expected " +
                         std::string(dtype_name(destination.dtype())));
    }
    copies.emplace_back(destination, &source);
  }
  if (options.strict()) {
    for (const auto& [name, tensor] : checkpoint.model) {
      if (expected_names.count(name) == 0) {
        problems.push_back("unexpected tensor " + detail::display_name(name) + " (" +
                           describe(tensor) + ")");
        only_dtypes = false;
      }
    }
  }
  if (!problems.empty()) {
    std::string message = path.string() + ": checkpoint does not match the model: ";
    for (std::size_t i = 0; i < problems.size(); ++i) {
      if (i) message += "; ";
      message += problems[i];
    }
    message += "; nothing was loaded";
    if (only_dtypes) throw TypeError(message);
    throw ValueError(message);
  }

  // The optimizer validates its own state and changes nothing when it throws; the model has
  // not been touched yet, so an error here still leaves everything as it was.
  if (load_optimizer_state) load_optimizer_state(checkpoint.optimizer);
  // Cannot fail: shapes and dtypes were checked above.
  for (auto& [destination, source] : copies) destination.copy_from(*source);
  return checkpoint;
}

}  // namespace embedkit::io
