#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "embedkit/core/error.hpp"
#include "embedkit/models/corpus_reader.hpp"
#include "embedkit/models/vocabulary.hpp"
#include "models/corpus_files.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

using embedkit::models::CorpusReader;
using embedkit::models::CorpusStats;
using embedkit::models::count_vocabulary;
using embedkit::models::Vocabulary;
using embedkit_models_test::write_gzip;
using embedkit_test::TempDir;
using embedkit_test::write_file;

Vocabulary build(const std::vector<std::string>& tokens, std::int64_t min_count,
                 std::int64_t max_vocab) {
  Vocabulary::Builder b;
  for (const auto& t : tokens) b.add(t);
  return b.finish(min_count, max_vocab);
}

TEST(Vocabulary, OrdersByCountThenFirstAppearance) {
  // c:3, b:2, a:2 (a first), d:1, e:1 (d first).
  const Vocabulary v = build({"b", "a", "c", "d", "c", "a", "b", "c", "e"}, 1, 0);
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v.words(), (std::vector<std::string>{"c", "b", "a", "d", "e"}));
  EXPECT_EQ(v.counts(), (std::vector<std::int64_t>{3, 2, 2, 1, 1}));
  EXPECT_EQ(v.total_count(), 9);
  EXPECT_EQ(v.find("a"), 2);
  EXPECT_EQ(v.find("zzz"), -1);
}

TEST(Vocabulary, MinCountDropsRareWordsAndTheirTokens) {
  const Vocabulary v = build({"b", "a", "c", "d", "c", "a", "b", "c", "e"}, 2, 0);
  EXPECT_EQ(v.words(), (std::vector<std::string>{"c", "b", "a"}));
  EXPECT_EQ(v.total_count(), 7);
  EXPECT_EQ(v.find("d"), -1);
}

TEST(Vocabulary, MaxVocabKeepsTheMostFrequent) {
  const Vocabulary v = build({"b", "a", "c", "d", "c", "a", "b", "c", "e"}, 1, 2);
  EXPECT_EQ(v.words(), (std::vector<std::string>{"c", "b"}));
  EXPECT_EQ(v.total_count(), 5);
}

TEST(CountVocabulary, ReadsPlainAndGzipAlike) {
  TempDir dir;
  const std::string text = "the cat\tsat on\r\nthe mat\n\n  the end";
  write_file(dir / "c.txt", text);
  write_gzip(dir / "c.txt.gz", text);
  CorpusStats plain, gz;
  const Vocabulary a = count_vocabulary(dir / "c.txt", 1, 0, &plain);
  const Vocabulary b = count_vocabulary(dir / "c.txt.gz", 1, 0, &gz);
  EXPECT_EQ(a.words(), b.words());
  EXPECT_EQ(a.counts(), b.counts());
  EXPECT_EQ(a.word(0), "the");
  EXPECT_EQ(a.count(0), 3);
  EXPECT_EQ(plain.tokens, 8);
  EXPECT_EQ(plain.distinct, 6);
  EXPECT_EQ(plain.bytes, text.size());
  EXPECT_EQ(gz.bytes, text.size());
}

TEST(CorpusReader, SlicesCoverEveryTokenOnce) {
  // Any split point: each token is read by exactly one slice (the one it starts in).
  TempDir dir;
  const std::string text = "aa bbb c\ndddd ee\n f ggggg hh\n";
  write_file(dir / "c.txt", text);
  for (std::uint64_t cut = 0; cut <= text.size(); ++cut) {
    std::string words;
    for (int slice = 0; slice < 2; ++slice) {
      CorpusReader r(dir / "c.txt");
      const std::uint64_t begin = slice == 0 ? 0 : cut;
      const std::uint64_t end = slice == 0 ? cut : text.size();
      r.seek(begin);
      for (;;) {
        const auto e = r.next();
        if (e == CorpusReader::Event::EndOfFile || r.offset() >= end) break;
        if (e == CorpusReader::Event::Word) words += std::string(r.word()) + ",";
      }
    }
    EXPECT_EQ(words, "aa,bbb,c,dddd,ee,f,ggggg,hh,") << "cut at " << cut;
  }
}

std::string error_of(const std::filesystem::path& p, std::int64_t min_count = 1) {
  try {
    count_vocabulary(p, min_count, 0);
  } catch (const embedkit::Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(CountVocabulary, RefusesEmptyCorpus) {
  TempDir dir;
  write_file(dir / "empty.txt", " \n\n \t");
  EXPECT_THROW(count_vocabulary(dir / "empty.txt", 1, 0), embedkit::ValueError);
  EXPECT_NE(error_of(dir / "empty.txt").find("no words"), std::string::npos);
}

TEST(CountVocabulary, RefusesCorpusBelowMinCount) {
  TempDir dir;
  write_file(dir / "c.txt", "a b a c\n");
  const std::string msg = error_of(dir / "c.txt", 5);
  EXPECT_NE(msg.find("min_count = 5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\"a\", occurs 2 times"), std::string::npos) << msg;
}

TEST(CountVocabulary, RefusesNulBytesNamingOffsetAndLine) {
  TempDir dir;
  write_file(dir / "bin.txt", std::string("ok words\nmore x\0yz\n", 20));
  EXPECT_THROW(count_vocabulary(dir / "bin.txt", 1, 0), embedkit::IoError);
  const std::string msg = error_of(dir / "bin.txt");
  EXPECT_NE(msg.find("bin.txt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("NUL byte at byte offset 15 (line 2)"), std::string::npos) << msg;
}

TEST(CountVocabulary, RefusesInvalidUtf8NamingOffsetAndLine) {
  TempDir dir;
  // "caf\xc3\xa9" is valid; a lone continuation byte, an overlong "/" and a surrogate are not.
  write_file(dir / "ok.txt", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n");
  EXPECT_EQ(count_vocabulary(dir / "ok.txt", 1, 0).size(), 3u);
  for (const std::string bad :
       {"\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
    write_file(dir / "bad.txt", "one\ntwo x" + bad + "\n");
    const std::string msg = error_of(dir / "bad.txt");
    EXPECT_NE(msg.find("invalid UTF-8 at byte offset 9 (line 2)"), std::string::npos) << msg;
  }
}

// The gzip of a corpus big enough that a cut in its middle leaves complete deflate blocks.
std::string gzip_bytes_of_big_corpus(const TempDir& dir) {
  write_gzip(dir / "full.gz", embedkit_models_test::two_group_corpus(20000, 12, 7));
  std::ifstream in(dir / "full.gz", std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(CountVocabulary, RefusesTruncatedGzipNamingTheByte) {
  // Regression (issue 12, bug 3): a gzip corpus cut short (`head -c 50000 c.gz`) was read to
  // the cut and trained on with no error.
  TempDir dir;
  const std::string full = gzip_bytes_of_big_corpus(dir);
  ASSERT_GT(full.size(), 20000u);
  for (const std::size_t keep : {full.size() / 2, full.size() - 1, full.size() - 8}) {
    write_file(dir / "cut.gz", full.substr(0, keep));
    EXPECT_THROW(count_vocabulary(dir / "cut.gz", 1, 0), embedkit::IoError);
    const std::string msg = error_of(dir / "cut.gz");
    EXPECT_NE(msg.find("cut.gz: truncated gzip file"), std::string::npos) << msg;
    EXPECT_NE(msg.find("at byte " + std::to_string(keep) + " of the compressed file"),
              std::string::npos)
        << msg;
  }
  // The whole file still reads.
  EXPECT_EQ(count_vocabulary(dir / "full.gz", 1, 0).size(), 16u);
}

TEST(CountVocabulary, RefusesCorruptedGzip) {
  TempDir dir;
  std::string bytes = gzip_bytes_of_big_corpus(dir);
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i) bytes[i] ^= 0x5a;
  write_file(dir / "bad.gz", bytes);
  EXPECT_THROW(count_vocabulary(dir / "bad.gz", 1, 0), embedkit::IoError);
  const std::string msg = error_of(dir / "bad.gz");
  EXPECT_NE(msg.find("bad.gz: "), std::string::npos) << msg;
}

TEST(CorpusReader, RefusesFifoAtOnceInsteadOfWaitingForAWriter) {
  // Regression (issue 12, bug 10): a named pipe was opened (and read) once per pass; the second
  // open waited forever for a writer. Opening one with no writer would block this very test.
  TempDir dir;
  const auto fifo = dir / "corpus.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  try {
    CorpusReader r(fifo);
    FAIL() << "a FIFO was accepted";
  } catch (const embedkit::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
}

TEST(CorpusReader, RefusesPipe) {
  // /dev/stdin of `cat c | embedkit train /dev/stdin`: a pipe, read once, empty the second time.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::filesystem::path by_fd = "/proc/self/fd/" + std::to_string(fds[0]);
  if (!std::filesystem::exists(by_fd)) {
    ::close(fds[0]);
    ::close(fds[1]);
    GTEST_SKIP() << "no /proc/self/fd";
  }
  EXPECT_THROW(CorpusReader r(by_fd), embedkit::IoError);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(CountVocabulary, RefusesMissingFileAndDirectory) {
  TempDir dir;
  EXPECT_THROW(count_vocabulary(dir / "missing.txt", 1, 0), embedkit::IoError);
  EXPECT_THROW(count_vocabulary(dir.path(), 1, 0), embedkit::IoError);
}

}  // namespace
