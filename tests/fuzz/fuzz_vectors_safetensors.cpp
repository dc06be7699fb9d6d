// libFuzzer target: word vectors in safetensors (tensor "weight" + "vocabulary" metadata).
// Any input must give a result or an embedkit::IoError, never a crash, a leak or a hang.
#include <cstddef>
#include <cstdint>
#include <span>

#include "embedkit/core/error.hpp"
#include "embedkit/io/vector_formats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  try {
    (void)embedkit::io::parse_vectors_safetensors(bytes, "fuzz");
  } catch (const embedkit::IoError&) {
  }
  return 0;
}
