// libFuzzer target: fastText model files (.bin, .ftz).
// Any input must give a result or an embedkit::IoError, never a crash, a leak or a hang.
#include <cstddef>
#include <cstdint>
#include <span>

#include "embedkit/core/error.hpp"
#include "embedkit/io/fasttext_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  try {
    (void)embedkit::io::parse_fasttext_model(bytes, "fuzz");
  } catch (const embedkit::IoError&) {
  }
  return 0;
}
