// read_file and write_file: bytes in, the same bytes out (binary mode), and a write that cannot
// happen is an error rather than a test that silently runs on no input.
#include "support/files.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "support/temp_dir.hpp"

namespace {

using embedkit_test::read_file;
using embedkit_test::TempDir;
using embedkit_test::write_file;

TEST(Files, WriteThenReadGivesTheSameBytes) {
  TempDir dir;
  const std::string bytes("line\r\nnul \0 end\xff", 16);
  write_file(dir / "f", bytes);
  EXPECT_EQ(read_file(dir / "f"), bytes);
  write_file(dir / "f", "short");  // replaces, not appends
  EXPECT_EQ(read_file(dir / "f"), "short");
  write_file(dir / "empty", "");
  EXPECT_TRUE(std::filesystem::exists(dir / "empty"));
  EXPECT_EQ(read_file(dir / "empty"), "");
}

TEST(Files, AWriteThatCannotHappenThrows) {
  TempDir dir;
  EXPECT_THROW(write_file(dir / "no-such-dir" / "f", "x"), std::runtime_error);
  EXPECT_EQ(read_file(dir / "missing"), "");
}

}  // namespace
