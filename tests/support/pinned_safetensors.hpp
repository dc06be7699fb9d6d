// The bytes a saved safetensors file must have, built by hand for the tests that pin the files
// embedkit writes (checkpoints, the text classifier, the recommender): what makes a change of
// those bytes a failing test rather than a silent format change.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace embedkit_test {

// The bytes of a file embedkit saved, for tests that pin them: the header as embedkit's writer
// lays it out (padded with spaces to a multiple of 8 bytes, after its 8-byte little-endian
// length), then each tensor's values as they lie in memory, appended with add().
class PinnedSafetensors {
 public:
  explicit PinnedSafetensors(std::string header) {
    header.append((8 - header.size() % 8) % 8, ' ');
    const std::uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) bytes_ += static_cast<char>((n >> (8 * i)) & 0xff);
    bytes_ += header;
  }
  template <class T>
  PinnedSafetensors& add(const std::vector<T>& values) {
    bytes_.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
    return *this;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

}  // namespace embedkit_test
