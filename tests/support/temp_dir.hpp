// A fresh directory under the system's temporary directory, removed with everything in it when
// the test ends. Every suite that writes files uses this one, so that none leaves files behind
// and each names what it wrote the same way.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "support/files.hpp"

namespace embedkit_test {

class TempDir {
 public:
  TempDir();  // throws std::runtime_error when no directory can be made
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  // Writes `bytes` to the file `name` in the directory and returns its path.
  std::filesystem::path write(const std::string& name, const std::string& bytes) const {
    const auto p = path_ / name;
    write_file(p, bytes);
    return p;
  }

  // Names in the directory, sorted.
  std::vector<std::string> names() const;

 private:
  std::filesystem::path path_;
};

}  // namespace embedkit_test
