#include "same_file.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <optional>

#include "embedkit/core/error.hpp"
#include "std_streams.hpp"

namespace embedkit::cli {
namespace {

struct FileIdentity {
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  std::filesystem::path normal;  // for files that do not exist yet

  bool same_as(const FileIdentity& other) const {
    if (exists && other.exists) return device == other.device && inode == other.inode;
    if (exists != other.exists) return false;
    return normal == other.normal;
  }
};

std::optional<FileIdentity> identify(const std::string& path) {
  if (path.empty() || is_std_stream(path)) return std::nullopt;
  FileIdentity id;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    id.exists = true;
    id.device = st.st_dev;
    id.inode = st.st_ino;
    return id;
  }
  std::error_code ec;
  id.normal = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec);
  if (ec) id.normal = std::filesystem::path(path).lexically_normal();
  return id;
}

std::string describe(const NamedFile& f) {
  return f.role + " '" + f.path + "'";
}

}  // namespace

void refuse_outputs_over_inputs(const std::vector<NamedFile>& inputs,
                                const std::vector<NamedFile>& outputs) {
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const auto out = identify(outputs[i].path);
    if (!out) continue;
    for (const NamedFile& in : inputs) {
      const auto source = identify(in.path);
      if (source && source->exists && out->same_as(*source)) {
        throw ValueError(describe(outputs[i]) + " is the same file as " + describe(in) +
                         ": writing it would replace the input; choose another output path");
      }
    }
    for (std::size_t j = 0; j < i; ++j) {
      const auto earlier = identify(outputs[j].path);
      if (earlier && out->same_as(*earlier)) {
        throw ValueError(describe(outputs[i]) + " and " + describe(outputs[j]) +
                         " are the same file: choose different output paths");
      }
    }
  }
}

}  // namespace embedkit::cli
