// libFuzzer target: word2vec text / fastText .vec (with header) and GloVe (without).
// Any input must give a result or an embedkit::IoError, never a crash, a leak or a hang.
#include <cstddef>
#include <cstdint>
#include <span>

#include "embedkit/core/error.hpp"
#include "embedkit/io/vector_formats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  try {
    (void)embedkit::io::parse_word2vec_text(bytes, true, "fuzz");
  } catch (const embedkit::IoError&) {
  }
  try {
    (void)embedkit::io::parse_word2vec_text(bytes, false, "fuzz");
  } catch (const embedkit::IoError&) {
  }
  return 0;
}
