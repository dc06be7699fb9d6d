// An entry point that lets an exception other than the documented error types escape, for
// every input: fuzz_replay_self_test checks that the replay driver (replay_main.cpp) fails on
// it, so a replay that passes means the real entry points let nothing escape.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t size) {
  throw std::length_error("an undocumented error type (input of " + std::to_string(size) +
                          " bytes)");
}
