// TempDir: a fresh, empty directory per instance, files written into it by name, and nothing left
// behind when it goes.
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/files.hpp"

namespace {

using embedkit_test::TempDir;

TEST(TempDir, IsAFreshEmptyDirectoryRemovedWithItsContents) {
  std::filesystem::path kept;
  {
    TempDir a;
    TempDir b;
    EXPECT_NE(a.path(), b.path());
    EXPECT_TRUE(std::filesystem::is_directory(a.path()));
    EXPECT_TRUE(a.names().empty());
    std::filesystem::create_directory(a / "sub");
    a.write("sub/deep.txt", "x");
    kept = a.path();
  }
  EXPECT_FALSE(std::filesystem::exists(kept));
}

TEST(TempDir, WritesFilesByNameAndListsThemSorted) {
  TempDir dir;
  const auto p = dir.write("b.bin", std::string("\0\r\n", 3));
  dir.write("a.txt", "alpha");
  EXPECT_EQ(p, dir / "b.bin");
  EXPECT_EQ(embedkit_test::read_file(p), std::string("\0\r\n", 3));
  EXPECT_EQ(dir.names(), std::vector<std::string>({"a.txt", "b.bin"}));
}

}  // namespace
