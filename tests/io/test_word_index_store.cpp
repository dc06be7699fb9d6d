// The word index stored beside a verified pair (io/word_index_store.hpp,
// MapOptions::remember_word_index): written by the first open of a settled pair, taken back by
// the next one, and never trusted unless it is exactly the index of the files seen now; answers
// are the same bits with it, without it, and with a stale or damaged one.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "embedkit/core/error.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/io/mapped_file.hpp"
#include "embedkit/io/mapped_table.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "embedkit/vectors/keyed_vectors.hpp"
#include "io/pair_verification.hpp"
#include "io/word_index_store.hpp"
#include "support/temp_dir.hpp"
#include "test_support.hpp"

namespace {

using embedkit::Tensor;
using embedkit_io_test::message_of;
using embedkit_test::TempDir;
namespace io = embedkit::io;
namespace detail = embedkit::io::detail;

constexpr int kRows = 600;  // three norm blocks of 256 rows, the last one partial
constexpr int kDim = 9;

io::WordVectors vectors(std::uint64_t seed) {
  io::WordVectors v;
  for (int i = 0; i < kRows; ++i) v.words.push_back(std::string(1, 'w').append(std::to_string(i)));
  embedkit::Generator gen(seed);
  std::vector<float> values(kRows * kDim);
  for (float& x : values) x = static_cast<float>(gen.normal());
  for (int j = 0; j < kDim; ++j) values[5 * kDim + j] = 0.0f;  // an all-zero row
  v.matrix = Tensor::from_floats(values, {kRows, kDim});
  return v;
}

// Whether `address` lies in this process's mapping of the file at `path` (/proc/self/maps).
bool mapped_from(const void* address, const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  std::FILE* maps = std::fopen("/proc/self/maps", "r");
  if (maps == nullptr) return false;
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  bool found = false;
  char line[4096];
  while (!found && std::fgets(line, sizeof line, maps) != nullptr) {
    unsigned long begin = 0, end = 0, inode = 0;  // NOLINT(google-runtime-int): sscanf's %lx
    if (std::sscanf(line, "%lx-%lx %*s %*s %*s %lu", &begin, &end, &inode) == 3) {
      found = at >= begin && at < end && inode == st.st_ino;
    }
  }
  std::fclose(maps);
  return found;
}

io::MapOptions storing() {
  io::MapOptions options;
  options.verify_pair_checksum = true;
  options.remember_pair_verification = true;
  options.remember_word_index = true;
  options.word_index_norms = &embedkit::vectors::KeyedVectors::inverse_norms;
  return options;
}

// Every answer a KeyedVectors gives from the open, as bits: several queries (all rows, and
// restricted), analogies of both kinds, similarities and unit rows.
std::vector<std::uint64_t> answers(io::IndexedWordVectors v) {
  const embedkit::vectors::KeyedVectors kv(std::move(v.words), std::move(v.matrix),
                                           std::move(v.inverse_norms));
  std::vector<std::uint64_t> out;
  const auto add = [&](const std::vector<embedkit::vectors::Neighbor>& ns) {
    for (const auto& n : ns) {
      out.push_back(static_cast<std::uint64_t>(n.index));
      out.push_back(std::bit_cast<std::uint32_t>(n.score));
    }
  };
  for (const char* w : {"w0", "w5", "w300", "w599"}) {
    add(kv.most_similar(w, 7));
    add(kv.most_similar(w, 3, 100));
  }
  add(kv.analogy("w1", "w2", "w3"));
  add(kv.analogy("w1", "w2", "w3", embedkit::vectors::AnalogyMethod::Mul));
  out.push_back(std::bit_cast<std::uint32_t>(kv.similarity("w10", "w500")));
  std::vector<float> unit(kDim);
  for (const std::int64_t r : {0, 5, 256, 599}) {
    kv.unit_row(r, unit.data());
    for (const float x : unit) out.push_back(std::bit_cast<std::uint32_t>(x));
  }
  for (std::int64_t r = 0; r < kRows; ++r) {
    out.push_back(static_cast<std::uint64_t>(*kv.find("w" + std::to_string(r))));
  }
  out.push_back(kv.find("w600").has_value());
  return out;
}

// A file's bytes, changed in place or replaced.
void set_mtime_now(const std::filesystem::path& path) {
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), nullptr, 0), 0);
}
void replace_with_copy(const std::filesystem::path& path) {
  const std::filesystem::path copy = path.string() + ".copy";
  std::filesystem::copy_file(path, copy);
  std::filesystem::rename(copy, path);
}

// Files written by the test are seconds young: without this, none would be stored.
class WordIndexStore : public ::testing::Test {
 protected:
  void SetUp() override {
    detail::set_pair_record_settle(std::chrono::nanoseconds(0));
    io::save_word_vectors(matrix, vectors(1));
  }
  void TearDown() override { detail::set_pair_record_settle(std::chrono::seconds(2)); }

  io::IndexedWordVectors open(io::WordVectorsMapReport& report,
                              const io::MapOptions& options = storing()) {
    return io::map_indexed_word_vectors(matrix, std::nullopt, options, &report);
  }
  // The answers of the files as they are, read in full with nothing remembered.
  std::vector<std::uint64_t> plain() {
    io::WordVectorsMapReport report;
    io::MapOptions verify;
    verify.verify_pair_checksum = true;
    return answers(open(report, verify));
  }
  // An open that finds no usable stored index: read in full, answers as without the store, and
  // a fresh index stored (the good one, when the files are those it was written for).
  void expect_read_in_full_and_stored_again(const std::string& why) {
    io::WordVectorsMapReport report;
    const std::vector<std::uint64_t> got = answers(open(report));
    EXPECT_FALSE(report.index_remembered) << why;
    EXPECT_FALSE(report.norms_remembered) << why;
    EXPECT_TRUE(report.index_recorded) << why;
    EXPECT_EQ(got, plain()) << why;
    open(report);
    EXPECT_TRUE(report.index_remembered) << why;
    EXPECT_FALSE(report.index_recorded) << why;
  }

  TempDir dir;
  std::filesystem::path matrix = dir / "v.npy";
  std::filesystem::path vocabulary = dir / "v.vocab";
  std::filesystem::path store = dir / "v.vocab.wordindex";
};

TEST_F(WordIndexStore, WrittenByTheFirstOpenAndTakenBackByTheSecond) {
  const std::vector<std::uint64_t> want = plain();
  EXPECT_FALSE(std::filesystem::exists(store)) << "an open without the option stored an index";
  io::WordVectorsMapReport first, second;
  io::IndexedWordVectors a = open(first);
  EXPECT_EQ(first.pair_check, io::PairCheck::Checksum);
  EXPECT_TRUE(first.index_recorded);
  EXPECT_FALSE(first.index_remembered);
  ASSERT_TRUE(std::filesystem::exists(store));
  EXPECT_EQ(a.inverse_norms.size(), static_cast<std::size_t>(kRows));  // computed to store them
  EXPECT_EQ(answers(std::move(a)), want);
  const std::string written = embedkit_test::read_file(store);
  EXPECT_EQ(written.rfind("embedkit-word-index format=2 ", 0), 0u) << written.substr(0, 80);
  // The header line padded with spaces, so that the body lies aligned in a mapping.
  const std::size_t header_bytes = written.find('\n') + 1;
  EXPECT_EQ(header_bytes % detail::kWordIndexBodyAlignment, 0u);
  EXPECT_EQ(written.substr(header_bytes - 2, 2), " \n");
  io::IndexedWordVectors b = open(second);
  // The taken-back table is used where it lies, in a mapping of the store (not copied).
  const auto* table = reinterpret_cast<const char*>(b.words.slots().data());
  EXPECT_TRUE(mapped_from(table, store)) << "the table is not in a mapping of the store";
  EXPECT_EQ(std::memcmp(table, written.data() + header_bytes, b.words.slots().size_bytes()), 0);
  EXPECT_EQ(second.pair_check, io::PairCheck::Remembered);
  EXPECT_TRUE(second.index_remembered);
  EXPECT_TRUE(second.norms_remembered);
  EXPECT_FALSE(second.index_recorded);
  EXPECT_EQ(b.words.keys(), vectors(1).words);
  EXPECT_EQ(b.inverse_norms.size(), static_cast<std::size_t>(kRows));
  EXPECT_EQ(answers(std::move(b)), want);
  EXPECT_EQ(embedkit_test::read_file(store), written);
  // The words alone (map_word_vectors) from the store are the same too.
  io::WordVectorsMapReport report;
  EXPECT_EQ(io::map_word_vectors(matrix, std::nullopt, storing(), &report).words, vectors(1).words);
  EXPECT_TRUE(report.index_remembered);
  // Without the option, the store is neither read nor written.
  io::MapOptions remember = storing();
  remember.remember_word_index = false;
  EXPECT_EQ(answers(open(report, remember)), want);
  EXPECT_FALSE(report.index_remembered);
  EXPECT_FALSE(report.index_recorded);
}

// The table is used where it lies in the store's mapping, so a store cut by another program
// while an index reads it is the SIGBUS rule's case (docs/memory-mapping.md): with the command's
// handler, a clear message naming the store and the exit status, not a crash.
TEST_F(WordIndexStore, AStoreCutWhileInUseIsTheSigbusRulesClearError) {
  io::WordVectorsMapReport report;
  open(report);  // writes the store
  ASSERT_TRUE(report.index_recorded);
  const auto store_bytes = std::filesystem::file_size(store);
  const embedkit_io_test::ChildRun run = embedkit_io_test::run_in_child([&] {
    io::WordVectorsMapReport taken;
    const io::IndexedWordVectors v = open(taken);
    if (!taken.index_remembered) ::_exit(10);
    io::install_mapped_file_sigbus_handler(3);
    if (::truncate(store.c_str(), 4096) != 0) ::_exit(11);  // the header and the first slots
    for (int r = 0; r < kRows; ++r) {  // most words' slots lie past the first page
      if (!v.words.find(std::string(1, 'w').append(std::to_string(r)))) ::_exit(12);
    }
    ::_exit(13);  // no read faulted
  });
  ASSERT_EQ(run.signal, 0) << "the child died of signal " << run.signal;
  EXPECT_EQ(run.exit_status, 3) << run.err;
  EXPECT_EQ(run.err, "embedkit: " + store.string() + " shrank while mapped (" +
                         std::to_string(store_bytes) +
                         " bytes at open), or its data could not be read\n");
}

TEST_F(WordIndexStore, OnlyForAVerifiedRememberedReadOnlyNpyPair) {
  io::WordVectorsMapReport report;
  io::MapOptions options = storing();
  options.remember_pair_verification = false;
  open(report, options);
  EXPECT_FALSE(report.index_recorded);
  options = storing();
  options.mode = io::MapMode::CopyOnWrite;
  const std::vector<std::uint64_t> want = plain();
  EXPECT_EQ(answers(open(report, options)), want);
  EXPECT_FALSE(report.index_recorded);
  EXPECT_FALSE(std::filesystem::exists(store));
  // A safetensors file's words come from it (or a side file without a pair line).
  io::save_word_vectors(dir / "s.safetensors", vectors(1));
  io::map_indexed_word_vectors(dir / "s.safetensors", std::nullopt, storing(), &report);
  EXPECT_FALSE(report.index_recorded);
  EXPECT_EQ(dir.names(),
            (std::vector<std::string>{"s.safetensors", "v.npy", "v.vocab", "v.vocab.verified"}));
}

// Without a function for the norms (MapOptions::word_index_norms), the index alone is stored,
// and the queries compute the norms as without the store.
TEST_F(WordIndexStore, WithoutANormFunctionTheIndexAloneIsStored) {
  io::MapOptions options = storing();
  options.word_index_norms = nullptr;
  io::WordVectorsMapReport report;
  EXPECT_TRUE(open(report, options).inverse_norms.empty());
  EXPECT_TRUE(report.index_recorded);
  EXPECT_NE(embedkit_test::read_file(store).find(" norms=0 "), std::string::npos);
  io::IndexedWordVectors v = open(report, options);
  EXPECT_TRUE(report.index_remembered);
  EXPECT_FALSE(report.norms_remembered);
  EXPECT_TRUE(v.inverse_norms.empty());
  EXPECT_EQ(answers(std::move(v)), plain());
  // The same store serves an open that has the function: the index, and no norms.
  open(report);
  EXPECT_TRUE(report.index_remembered);
  EXPECT_FALSE(report.norms_remembered);
}

TEST_F(WordIndexStore, StaleOnceEitherFileIsTouchedOrReplaced) {
  io::WordVectorsMapReport report;
  open(report);
  ASSERT_TRUE(report.index_recorded);
  set_mtime_now(vocabulary);
  expect_read_in_full_and_stored_again("vocabulary touched");
  set_mtime_now(matrix);
  expect_read_in_full_and_stored_again("matrix touched");
  replace_with_copy(vocabulary);
  expect_read_in_full_and_stored_again("vocabulary replaced by a copy");
  replace_with_copy(matrix);
  expect_read_in_full_and_stored_again("matrix replaced by a copy");
  // Its modification time set back to the stored one: the status-change time still tells.
  const auto before = detail::stamp_of_path(vocabulary);
  ASSERT_TRUE(before);
  const struct timespec times[2] = {
      {0, UTIME_OMIT},
      {static_cast<time_t>(before->mtime_ns / 1000000000), before->mtime_ns % 1000000000}};
  ASSERT_EQ(::utimensat(AT_FDCWD, vocabulary.c_str(), times, 0), 0);
  expect_read_in_full_and_stored_again("vocabulary's time set back");
  // A save of other values (both files replaced): the new values' answers.
  io::save_word_vectors(matrix, vectors(2));
  io::IndexedWordVectors v = open(report);
  EXPECT_FALSE(report.index_remembered);
  EXPECT_TRUE(report.index_recorded);
  EXPECT_EQ(v.matrix.to_float_vector(), vectors(2).matrix.to_float_vector());
  EXPECT_EQ(answers(std::move(v)), plain());
}

TEST_F(WordIndexStore, DamagedCutOrLongerStoresAreNeverTrusted) {
  io::WordVectorsMapReport report;
  open(report);
  ASSERT_TRUE(report.index_recorded);
  const std::string good = embedkit_test::read_file(store);
  const std::size_t header = good.find('\n') + 1;
  const std::size_t slots_end = good.size() - kRows * sizeof(float);
  const auto flipped = [&](std::size_t at) {
    std::string s = good;
    s[at] = static_cast<char>(s[at] ^ 0x01);
    return s;
  };
  std::vector<std::pair<std::string, std::string>> bad = {
      {"empty", ""},
      {"header only", good.substr(0, header)},
      {"cut in the table", good.substr(0, header + 100)},
      {"cut by one byte", good.substr(0, good.size() - 1)},
      {"one byte longer", good + '\0'},
      {"twice", good + good},
      {"zeros", std::string(good.size(), '\0')},
      {"no newline", good.substr(0, header - 1)},
  };
  for (const std::string field :
       {"format=", "endian=", "key-hash=", "vocabulary-xxh64=", "vocabulary-inode=",
        "matrix-xxh64=", " inode=", "ctime-ns=", "words=", "slots=", "norms=", "body-xxh64="}) {
    const std::size_t at = good.find(field);
    ASSERT_LT(at, header) << field;
    bad.emplace_back("header field " + field, flipped(at + field.size()));
  }
  for (const std::size_t at : {header, header + 8, header + (slots_end - header) / 2, slots_end - 1,
                               slots_end, good.size() - 1}) {
    bad.emplace_back("body byte " + std::to_string(at - header), flipped(at));
  }
  for (const auto& [why, content] : bad) {
    embedkit_test::write_file(store, content);
    expect_read_in_full_and_stored_again(why);
    EXPECT_EQ(embedkit_test::read_file(store), good) << why;
  }
}

// A table whose checksum matches but which find() could not use: KeyIndex::from_table refuses
// it, and the open reads the words in full.
TEST_F(WordIndexStore, AnInconsistentTableWithAGoodChecksumIsReadInFull) {
  io::WordVectorsMapReport report;
  open(report);
  ASSERT_TRUE(report.index_recorded);
  const std::string good = embedkit_test::read_file(store);
  const std::size_t header = good.find('\n') + 1;
  std::string body = good.substr(header);
  // The second held slot given the first one's row: a row in two slots, and one in none.
  std::vector<embedkit::KeyIndex::Slot> slots((body.size() - kRows * sizeof(float)) /
                                              sizeof(embedkit::KeyIndex::Slot));
  std::memcpy(slots.data(), body.data(), slots.size() * sizeof(embedkit::KeyIndex::Slot));
  std::size_t first = 0;
  while (slots[first].row < 0) ++first;
  std::size_t second = first + 1;
  while (slots[second].row < 0) ++second;
  slots[second].row = slots[first].row;
  std::memcpy(body.data(), slots.data(), slots.size() * sizeof(embedkit::KeyIndex::Slot));
  const std::span<const std::uint8_t> body_bytes(reinterpret_cast<const std::uint8_t*>(body.data()),
                                                 body.size());
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(io::identify_matrix_file(body_bytes).xxh64));
  std::string line = good.substr(0, header);
  line.replace(line.find("body-xxh64=") + 11, 16, hex);
  embedkit_test::write_file(store, line + body);
  expect_read_in_full_and_stored_again("a row in two slots");
  EXPECT_EQ(embedkit_test::read_file(store), good);
}

TEST_F(WordIndexStore, AnotherPairsStoreIsNotTrusted) {
  io::WordVectorsMapReport report;
  open(report);
  ASSERT_TRUE(report.index_recorded);
  const std::string good = embedkit_test::read_file(store);
  // The same words with other values, stored in another directory, copied over this one's.
  TempDir other;
  io::save_word_vectors(other / "v.npy", vectors(3));
  io::map_indexed_word_vectors(other / "v.npy", std::nullopt, storing(), &report);
  ASSERT_TRUE(report.index_recorded);
  std::filesystem::copy_file(other / "v.vocab.wordindex", store,
                             std::filesystem::copy_options::overwrite_existing);
  expect_read_in_full_and_stored_again("another pair's store");
  EXPECT_EQ(embedkit_test::read_file(store), good);
  // This pair copied elsewhere with its store: other files (inodes), so read in full there.
  TempDir copy;
  for (const char* name : {"v.npy", "v.vocab", "v.vocab.verified", "v.vocab.wordindex"}) {
    std::filesystem::copy_file(dir / name, copy / name);
  }
  const io::IndexedWordVectors copied =
      io::map_indexed_word_vectors(copy / "v.npy", std::nullopt, storing(), &report);
  EXPECT_FALSE(report.index_remembered);
  EXPECT_EQ(report.pair_check, io::PairCheck::Checksum);
  EXPECT_EQ(copied.words.keys(), vectors(1).words);
}

TEST_F(WordIndexStore, ARepeatedWordIsRefusedAlikeWithAStaleStore) {
  io::WordVectorsMapReport report;
  open(report);
  ASSERT_TRUE(report.index_recorded);
  std::string vocab = embedkit_test::read_file(vocabulary);
  vocab.replace(vocab.find("w2\n"), 3, "w1\n");  // same length, same pair line
  embedkit_test::write_file(vocabulary, vocab);
  const std::string want = message_of<embedkit::IoError>([&] { io::map_word_vectors(matrix); });
  EXPECT_NE(want.find("vocabulary line 3: word 'w1' appears twice"), std::string::npos) << want;
  EXPECT_EQ(message_of<embedkit::IoError>([&] { open(report); }), want);
  EXPECT_FALSE(report.index_remembered);
  EXPECT_FALSE(report.index_recorded);
}

TEST_F(WordIndexStore, ANonFiniteRowStoresTheIndexWithoutNorms) {
  // A NaN in row 400, the pair line made for the poked file (as a save of it would).
  std::string bytes = embedkit_test::read_file(matrix);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(bytes.data() + bytes.size() - (kRows - 400) * kDim * sizeof(float) + 8, &nan, 4);
  embedkit_test::write_file(matrix, bytes);
  const std::span<const std::uint8_t> view(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                           bytes.size());
  embedkit_test::write_file(
      vocabulary, io::serialize_vocabulary(vectors(1).words, io::identify_matrix_file(view)));
  const auto query_error = [&](const io::MapOptions& options) {
    io::WordVectorsMapReport r;
    io::IndexedWordVectors v = open(r, options);
    const embedkit::vectors::KeyedVectors kv(std::move(v.words), std::move(v.matrix),
                                             std::move(v.inverse_norms));
    EXPECT_EQ(kv.most_similar("w1", 3, 256).size(), 3u);  // the first block is fine
    return message_of<embedkit::ValueError>([&] { kv.most_similar("w1", 3); });
  };
  io::MapOptions verify;
  verify.verify_pair_checksum = true;
  const std::string want = query_error(verify);
  EXPECT_NE(want.find("the vector of 'w400' holds a non-finite value at column 2"),
            std::string::npos)
      << want;
  io::WordVectorsMapReport report;
  EXPECT_TRUE(open(report).inverse_norms.empty());
  EXPECT_TRUE(report.index_recorded);
  EXPECT_EQ(query_error(storing()), want);
  open(report);
  EXPECT_TRUE(report.index_remembered);
  EXPECT_FALSE(report.norms_remembered);
}

TEST_F(WordIndexStore, CarriageReturnsAreSplitAsTheFullRead) {
  std::string vocab = embedkit_test::read_file(vocabulary);
  std::string crlf;
  for (const char c : vocab.substr(0, vocab.rfind('#'))) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  embedkit_test::write_file(vocabulary, crlf + vocab.substr(vocab.rfind('#')));
  io::WordVectorsMapReport report;
  open(report);
  ASSERT_TRUE(report.index_recorded);
  const io::IndexedWordVectors v = open(report);
  EXPECT_TRUE(report.index_remembered);
  EXPECT_EQ(v.words.keys(), vectors(1).words);
  EXPECT_EQ(v.words.find("w7"), std::optional<std::int64_t>(7));
}

TEST_F(WordIndexStore, YoungFilesAreNotStored) {
  detail::set_pair_record_settle(std::chrono::hours(1));
  io::WordVectorsMapReport report;
  for (int i = 0; i < 2; ++i) {
    const io::IndexedWordVectors v = open(report);
    EXPECT_FALSE(report.index_recorded);
    EXPECT_FALSE(report.index_remembered);
    EXPECT_TRUE(v.inverse_norms.empty());
  }
  EXPECT_FALSE(std::filesystem::exists(store));
}

TEST_F(WordIndexStore, AStoreThatCannotBeWrittenIsSkipped) {
  // Where the store would go is a directory: no one (root included) can rename a file over it.
  std::filesystem::create_directory(store);
  io::WordVectorsMapReport report;
  std::vector<std::uint64_t> got;
  EXPECT_NO_THROW(got = answers(open(report)));
  EXPECT_FALSE(report.index_recorded);
  EXPECT_FALSE(report.index_remembered);
  EXPECT_EQ(got, plain());
  EXPECT_TRUE(std::filesystem::is_directory(store));
}

TEST_F(WordIndexStore, AReadOnlyDirectoryGetsNoStore) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: a read-only directory is writable";
  const std::vector<std::uint64_t> want = plain();
  io::WordVectorsMapReport report;
  std::vector<std::uint64_t> got;
  std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::remove);
  const std::vector<std::string> names = dir.names();
  EXPECT_NO_THROW(got = answers(open(report)));
  std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  EXPECT_FALSE(report.index_recorded);
  EXPECT_EQ(dir.names(), names);
  EXPECT_EQ(got, want);
}

}  // namespace
