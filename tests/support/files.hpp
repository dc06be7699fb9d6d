// Whole files as strings of bytes: what a test writes as input and reads back as output.
#pragma once

#include <filesystem>
#include <string>

namespace embedkit_test {

// The bytes of the file at `path` (binary mode: no newline translation); empty when it cannot be
// opened, which the comparison that follows then reports.
std::string read_file(const std::filesystem::path& path);

// Writes `bytes` to `path` byte for byte, replacing what was there; throws std::runtime_error
// when it cannot, so that a test never runs on an input it did not get.
void write_file(const std::filesystem::path& path, const std::string& bytes);

}  // namespace embedkit_test
