// The record of a verified .npy + .vocab pair (io/pair_verification.hpp,
// MapOptions::remember_pair_verification): a second mapped open of an unchanged pair skips the
// hash of the whole matrix, and anything that is not exactly the record of the file seen now
// (a changed matrix, another pair line, a damaged or foreign record) means the full check.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "embedkit/core/error.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/io/mapped_table.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "io/pair_verification.hpp"
#include "support/temp_dir.hpp"
#include "test_support.hpp"

namespace {

using embedkit::Tensor;
using embedkit_io_test::message_of;
using embedkit_test::TempDir;
namespace io = embedkit::io;
namespace detail = embedkit::io::detail;

io::WordVectors vectors(std::uint64_t seed) {
  io::WordVectors v;
  for (int i = 0; i < 30; ++i) v.words.push_back(std::string(1, 'w').append(std::to_string(i)));
  embedkit::Generator gen(seed);
  std::vector<float> values(30 * 8);
  for (float& x : values) x = static_cast<float>(gen.uniform() - 0.5);
  v.matrix = Tensor::from_floats(values, {30, 8});
  return v;
}

io::MapOptions remembering() {
  io::MapOptions options;
  options.verify_pair_checksum = true;
  options.remember_pair_verification = true;
  return options;
}

// Overwrites one byte of the file in place (same size, new modification time).
void poke(const std::filesystem::path& path, off_t offset, char value) {
  const int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, &value, 1, offset), 1);
  ::close(fd);
}

char byte_at(const std::filesystem::path& path, std::size_t offset) {
  return embedkit_test::read_file(path).at(offset);
}

// Files written by the test are seconds young: without this, none would be recorded.
class PairVerification : public ::testing::Test {
 protected:
  void SetUp() override {
    detail::set_pair_record_settle(std::chrono::nanoseconds(0));
    io::save_word_vectors(matrix, vectors(1));
  }
  void TearDown() override { detail::set_pair_record_settle(std::chrono::seconds(2)); }

  io::WordVectors open(io::WordVectorsMapReport& report,
                       const io::MapOptions& options = remembering()) {
    return io::map_word_vectors(matrix, std::nullopt, options, &report);
  }

  TempDir dir;
  std::filesystem::path matrix = dir / "v.npy";
  std::filesystem::path record = dir / "v.vocab.verified";
};

TEST_F(PairVerification, SecondOpenSkipsTheHashAndAnswersTheSame) {
  io::WordVectorsMapReport first, second;
  const io::WordVectors a = open(first);
  EXPECT_EQ(first.pair_check, io::PairCheck::Checksum);
  EXPECT_TRUE(first.recorded);
  ASSERT_TRUE(std::filesystem::exists(record));
  const io::WordVectors b = open(second);
  EXPECT_EQ(second.pair_check, io::PairCheck::Remembered);
  EXPECT_FALSE(second.recorded);
  EXPECT_EQ(a.words, b.words);
  EXPECT_EQ(a.matrix.to_float_vector(), b.matrix.to_float_vector());
  EXPECT_EQ(b.words, vectors(1).words);
  EXPECT_EQ(b.matrix.to_float_vector(), vectors(1).matrix.to_float_vector());
}

TEST_F(PairVerification, WithoutTheOptionNothingIsRecordedOrSkipped) {
  io::WordVectorsMapReport report;
  io::MapOptions verify;
  verify.verify_pair_checksum = true;
  for (int i = 0; i < 2; ++i) {
    open(report, verify);
    EXPECT_EQ(report.pair_check, io::PairCheck::Checksum);
    EXPECT_FALSE(report.recorded);
  }
  EXPECT_FALSE(std::filesystem::exists(record));
  // A record written by a remembering open is not used by one that does not remember.
  open(report);
  ASSERT_TRUE(report.recorded);
  open(report, verify);
  EXPECT_EQ(report.pair_check, io::PairCheck::Checksum);
  open(report, io::MapOptions{});
  EXPECT_EQ(report.pair_check, io::PairCheck::Size);
}

TEST_F(PairVerification, ChangedMatrixOfTheSameSizeIsDetected) {
  io::WordVectorsMapReport report;
  open(report);
  ASSERT_TRUE(report.recorded);
  const auto before = detail::stamp_of_path(matrix);
  ASSERT_TRUE(before);
  // The last byte of the last value: same size, other bytes.
  const auto last = static_cast<off_t>(before->size - 1);
  poke(matrix, last, static_cast<char>(byte_at(matrix, before->size - 1) ^ 0x01));
  const auto after = detail::stamp_of_path(matrix);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->size, before->size);
  EXPECT_NE(message_of<embedkit::IoError>([&] {
              open(report);
            }).find("was written with another matrix file"),
            std::string::npos);
  EXPECT_EQ(report.pair_check, io::PairCheck::Checksum);
  // Its modification time set back to the recorded one (touch -d, rsync -t): the status-change
  // time the kernel set then still tells.
  const struct timespec times[2] = {
      {0, UTIME_OMIT},
      {static_cast<time_t>(before->mtime_ns / 1000000000), before->mtime_ns % 1000000000}};
  ASSERT_EQ(::utimensat(AT_FDCWD, matrix.c_str(), times, 0), 0);
  const auto touched = detail::stamp_of_path(matrix);
  ASSERT_TRUE(touched);
  ASSERT_EQ(touched->mtime_ns, before->mtime_ns);
  EXPECT_NE(touched->ctime_ns, before->ctime_ns);
  EXPECT_THROW(open(report), embedkit::IoError);
  EXPECT_EQ(report.pair_check, io::PairCheck::Checksum);
}

TEST_F(PairVerification, VocabularyOfAnotherSaveIsCheckedInFull) {
  io::WordVectorsMapReport report;
  open(report);
  ASSERT_TRUE(report.recorded);
  // Another save's vocabulary (same words, another matrix: another pair line) beside this matrix.
  TempDir other;
  io::save_word_vectors(other / "v.npy", vectors(2));
  embedkit_test::write_file(dir / "v.vocab", embedkit_test::read_file(other / "v.vocab"));
  EXPECT_NE(message_of<embedkit::IoError>([&] {
              open(report);
            }).find("was written with another matrix file"),
            std::string::npos);
  EXPECT_EQ(report.pair_check, io::PairCheck::Checksum);
}

TEST_F(PairVerification, DamagedOrForeignRecordsAreNeverTrusted) {
  io::WordVectorsMapReport report;
  open(report);
  ASSERT_TRUE(report.recorded);
  const std::string good = embedkit_test::read_file(record);
  const auto stamp = detail::stamp_of_path(matrix);
  ASSERT_TRUE(stamp);
  io::FileStamp other_inode = *stamp;
  other_inode.inode += 1;
  io::FileStamp other_mtime = *stamp;
  other_mtime.mtime_ns += 1;
  const io::MatrixFileIdentity pair{stamp->size, 0x0123456789abcdefULL};
  std::string flipped = good;
  flipped[good.find("matrix-xxh64=") + 13] ^= 0x01;
  const std::vector<std::string> bad = {
      "",
      "garbage\n",
      good.substr(0, good.size() - 1),         // no newline
      good.substr(0, good.size() / 2),         // cut short
      good + good,                             // twice
      good + std::string(600, 'x'),            // longer than a record
      std::string(good.size(), '\0'),          // zeros
      flipped,                                 // another checksum
      detail::pair_record(other_inode, pair),  // another file's record
      detail::pair_record(other_mtime, pair),  // another time's record
  };
  for (const std::string& content : bad) {
    embedkit_test::write_file(record, content);
    open(report);
    EXPECT_EQ(report.pair_check, io::PairCheck::Checksum) << content;
    EXPECT_TRUE(report.recorded) << content;
    EXPECT_EQ(embedkit_test::read_file(record), good) << content;
    open(report);
    EXPECT_EQ(report.pair_check, io::PairCheck::Remembered) << content;
  }
  // A record of this very file, but of a bad pair line (as a hand-made record could say): the
  // pair line seen now is not the recorded one, so it is checked in full, and refused.
  const std::string vocab = embedkit_test::read_file(dir / "v.vocab");
  TempDir other;
  io::save_word_vectors(other / "v.npy", vectors(3));
  embedkit_test::write_file(dir / "v.vocab", embedkit_test::read_file(other / "v.vocab"));
  embedkit_test::write_file(record, good);
  EXPECT_THROW(open(report), embedkit::IoError);
  EXPECT_EQ(report.pair_check, io::PairCheck::Checksum);
  embedkit_test::write_file(dir / "v.vocab", vocab);
}

TEST_F(PairVerification, YoungFilesAreCheckedButNotRecorded) {
  detail::set_pair_record_settle(std::chrono::hours(1));
  io::WordVectorsMapReport report;
  for (int i = 0; i < 2; ++i) {
    open(report);
    EXPECT_EQ(report.pair_check, io::PairCheck::Checksum);
    EXPECT_FALSE(report.recorded);
  }
  EXPECT_FALSE(std::filesystem::exists(record));
}

TEST_F(PairVerification, ARecordThatCannotBeWrittenIsSkipped) {
  // Where the record would go is a directory: no one (root included) can rename a file over it.
  std::filesystem::create_directory(record);
  io::WordVectorsMapReport report;
  io::WordVectors v;
  EXPECT_NO_THROW(v = open(report));
  EXPECT_EQ(report.pair_check, io::PairCheck::Checksum);
  EXPECT_FALSE(report.recorded);
  EXPECT_EQ(v.words, vectors(1).words);
  EXPECT_TRUE(std::filesystem::is_directory(record));
}

TEST_F(PairVerification, AReadOnlyDirectoryGetsNoRecord) {
  // Root writes in a read-only directory anyway (the test above covers a record that cannot
  // be written for anyone).
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: a read-only directory is writable";
  io::WordVectorsMapReport report;
  io::WordVectors v;
  std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::remove);
  const std::vector<std::string> names = dir.names();
  EXPECT_NO_THROW(v = open(report));
  std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  EXPECT_EQ(report.pair_check, io::PairCheck::Checksum);
  EXPECT_FALSE(report.recorded);
  EXPECT_EQ(dir.names(), names);
  EXPECT_EQ(v.words, vectors(1).words);
}

TEST_F(PairVerification, ReplacedMatrixIsCheckedInFull) {
  io::WordVectorsMapReport report;
  open(report);
  ASSERT_TRUE(report.recorded);
  // A save of other values replaces both files (new inode): checked in full, and recorded.
  io::save_word_vectors(matrix, vectors(4));
  const io::WordVectors v = open(report);
  EXPECT_EQ(report.pair_check, io::PairCheck::Checksum);
  EXPECT_TRUE(report.recorded);
  EXPECT_EQ(v.matrix.to_float_vector(), vectors(4).matrix.to_float_vector());
}

// The mapped words handed over in their index: the same words, in the same order, as
// map_word_vectors gives, for both formats, and the same refusals.
TEST_F(PairVerification, IndexedWordsAreTheMappedWords) {
  const io::WordVectors v = vectors(5);
  for (const char* name : {"v.npy", "v.safetensors"}) {
    io::save_word_vectors(dir / name, v);
    const io::IndexedWordVectors indexed = io::map_indexed_word_vectors(dir / name);
    EXPECT_EQ(indexed.words.keys(), v.words) << name;
    EXPECT_EQ(indexed.words.find("w7"), std::optional<std::int64_t>(7)) << name;
    EXPECT_EQ(indexed.matrix.to_float_vector(), v.matrix.to_float_vector()) << name;
    EXPECT_TRUE(indexed.matrix.read_only()) << name;
  }
  // A repeated word in the vocabulary: the reader's own message.
  std::string vocab = embedkit_test::read_file(dir / "v.vocab");
  vocab.replace(vocab.find("w2\n"), 3, "w1\n");
  embedkit_test::write_file(dir / "v.vocab", vocab);
  const std::string message =
      message_of<embedkit::IoError>([&] { io::map_indexed_word_vectors(dir / "v.npy"); });
  EXPECT_NE(message.find("vocabulary line 3: word 'w1' appears twice"), std::string::npos)
      << message;
  EXPECT_EQ(message, message_of<embedkit::IoError>([&] { io::map_word_vectors(dir / "v.npy"); }));
}

}  // namespace
