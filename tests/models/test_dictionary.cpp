// The model dictionary (embedkit/models/dictionary.hpp): word2vec's words from a corpus, the
// text classifier's words and labels from labelled lines or a saved model, and the corpus reader.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <string>

#include "embedkit/core/error.hpp"
#include "embedkit/models/corpus_reader.hpp"
#include "embedkit/models/dictionary.hpp"
#include "models/corpus_files.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

using embedkit::models::CorpusReader;
using embedkit::models::CorpusStats;
using embedkit::models::Dictionary;
using embedkit::models::EntryType;
using embedkit::models::LabelledExample;
using embedkit_models_test::write_gzip;
using embedkit_test::TempDir;
using embedkit_test::write_file;

Dictionary build(const std::vector<std::string>& tokens, std::int64_t min_count,
                 std::int64_t max_words) {
  Dictionary::Builder b;
  for (const auto& t : tokens) b.add(EntryType::Word, t);
  return b.finish(min_count, max_words);
}

Dictionary count_words(const std::filesystem::path& corpus, std::int64_t min_count,
                       std::int64_t max_words, CorpusStats* stats = nullptr) {
  return Dictionary::from_corpus(corpus, min_count, max_words, stats);
}

TEST(Dictionary, OrdersByCountThenFirstAppearance) {
  // c:3, b:2, a:2 (a first), d:1, e:1 (d first).
  const Dictionary d = build({"b", "a", "c", "d", "c", "a", "b", "c", "e"}, 1, 0);
  const Dictionary::Entries& v = d.words();
  ASSERT_EQ(v.size(), 5);
  EXPECT_EQ(v.texts(), (std::vector<std::string>{"c", "b", "a", "d", "e"}));
  EXPECT_EQ(v.counts(), (std::vector<std::int64_t>{3, 2, 2, 1, 1}));
  EXPECT_EQ(v.total_count(), 9);
  EXPECT_EQ(v.find("a"), std::optional<std::int64_t>(2));
  EXPECT_EQ(v.find("zzz"), std::nullopt);
  EXPECT_EQ(v.text(2), "a");
  EXPECT_EQ(v.count(2), 2);
  EXPECT_TRUE(d.labels().empty());
}

TEST(Dictionary, WithWordsAddsPretrainedWordsAsFastTextDoes) {
  // fastText's -pretrainedVectors: each word of the vectors file is added once (count + 1, a new
  // word with count 1), then the words are ordered again by count; labels stay as they are.
  std::vector<LabelledExample> lines(3);
  lines[0].words = {"b", "a", "c"};
  lines[0].labels = {"__label__x"};
  lines[1].words = {"c", "rare"};
  lines[1].labels = {"__label__y"};
  lines[2].words = {"c", "a"};
  lines[2].labels = {"__label__x"};
  const Dictionary d = Dictionary::from_examples(lines, 2, /*end_of_line=*/false);
  ASSERT_EQ(d.words().texts(), (std::vector<std::string>{"c", "a"}));
  const Dictionary p = d.with_words({"new", "a", "rare", "b"}, "__label__");
  // a: 2 + 1 = 3 ties c (3, first); rare and b were under min_count: back with count 1, as new.
  EXPECT_EQ(p.words().texts(), (std::vector<std::string>{"c", "a", "new", "rare", "b"}));
  EXPECT_EQ(p.words().counts(), (std::vector<std::int64_t>{3, 3, 1, 1, 1}));
  EXPECT_EQ(p.labels().texts(), d.labels().texts());
  EXPECT_EQ(p.labels().counts(), d.labels().counts());
  // A word fastText would take for a label, or one no file can hold: refused, by position.
  for (const std::string bad : {"__label__z", "", "two words"}) {
    try {
      (void)d.with_words({"ok", bad}, "__label__");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const embedkit::ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("pretrained vectors: word 2"), std::string::npos)
          << e.what();
    }
  }
}

TEST(Dictionary, MinCountDropsRareWordsAndTheirTokens) {
  const Dictionary d = build({"b", "a", "c", "d", "c", "a", "b", "c", "e"}, 2, 0);
  EXPECT_EQ(d.words().texts(), (std::vector<std::string>{"c", "b", "a"}));
  EXPECT_EQ(d.words().total_count(), 7);
  EXPECT_EQ(d.words().find("d"), std::nullopt);
}

TEST(Dictionary, MaxWordsKeepsTheMostFrequent) {
  const Dictionary d = build({"b", "a", "c", "d", "c", "a", "b", "c", "e"}, 1, 2);
  EXPECT_EQ(d.words().texts(), (std::vector<std::string>{"c", "b"}));
  EXPECT_EQ(d.words().total_count(), 5);
}

TEST(Dictionary, LabelsAreOrderedLikeWordsButNeverPruned) {
  Dictionary::Builder b;
  for (const char* l : {"x", "y", "y", "z", "z", "z"}) b.add(EntryType::Label, l);
  for (const char* w : {"p", "q", "q", "x"}) b.add(EntryType::Word, w);
  EXPECT_EQ(b.occurrences(EntryType::Label), 6);
  EXPECT_EQ(b.distinct(EntryType::Label), 3);
  EXPECT_EQ(b.occurrences(EntryType::Word), 4);
  // min_count and max_words apply to the words only; a word may spell a label ("x").
  const Dictionary d = b.finish(/*min_count=*/2, /*max_words=*/1);
  EXPECT_EQ(d.words().texts(), (std::vector<std::string>{"q"}));
  EXPECT_EQ(d.labels().texts(), (std::vector<std::string>{"z", "y", "x"}));
  EXPECT_EQ(d.labels().counts(), (std::vector<std::int64_t>{3, 2, 1}));
  EXPECT_EQ(d.labels().find("x"), std::optional<std::int64_t>(2));
  EXPECT_EQ(d.words().find("x"), std::nullopt);
  EXPECT_EQ(&d.entries(EntryType::Label), &d.labels());
  EXPECT_EQ(d.entries(EntryType::Word).type(), EntryType::Word);
}

TEST(Dictionary, AtNamesTheMissingEntryAndItsType) {
  const Dictionary d = Dictionary::from_parts({"a"}, {1}, {"pos"}, {1});
  EXPECT_EQ(d.words().at("a"), 0);
  EXPECT_EQ(d.labels().at("pos"), 0);
  try {
    (void)d.words().at("pos");
    FAIL() << "no KeyError";
  } catch (const embedkit::KeyError& e) {
    EXPECT_STREQ(e.what(), "word 'pos' is not in the dictionary");
    EXPECT_EQ(e.key(), "pos");
  }
  EXPECT_THROW((void)d.labels().at("neg"), embedkit::ValueError);  // a KeyError is a ValueError
}

std::vector<LabelledExample> examples(
    const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>>& lines) {
  std::vector<LabelledExample> out;
  for (const auto& [words, labels] : lines) {
    LabelledExample e;
    e.words = words;
    e.labels = labels;
    out.push_back(e);
  }
  return out;
}

TEST(DictionaryFromExamples, OrdersWordsAndLabelsByCountThenFirstAppearance) {
  const auto data = examples({{{"b", "a"}, {"neg"}},
                              {{"a", "c", "b", "c"}, {"pos", "neg"}},
                              {{"c", "d"}, {"pos"}},
                              {{"e"}, {"mid"}}});
  const Dictionary d = Dictionary::from_examples(data, 1, /*end_of_line=*/false);
  EXPECT_EQ(d.words().texts(), (std::vector<std::string>{"c", "b", "a", "d", "e"}));
  EXPECT_EQ(d.words().counts(), (std::vector<std::int64_t>{3, 2, 2, 1, 1}));
  EXPECT_EQ(d.labels().texts(), (std::vector<std::string>{"neg", "pos", "mid"}));
  EXPECT_EQ(d.labels().counts(), (std::vector<std::int64_t>{2, 2, 1}));
  // min_count drops words only; "</s>" is counted once per line.
  const Dictionary e = Dictionary::from_examples(data, 2, /*end_of_line=*/true);
  EXPECT_EQ(e.words().texts(), (std::vector<std::string>{"</s>", "c", "b", "a"}));
  EXPECT_EQ(e.words().count(0), 4);
  EXPECT_EQ(e.labels().size(), 3);
}

std::string from_examples_error(const std::vector<LabelledExample>& data, std::int64_t min_count) {
  try {
    (void)Dictionary::from_examples(data, min_count, false);
  } catch (const embedkit::ValueError& e) {
    return e.what();
  }
  return "no error";
}

TEST(DictionaryFromExamples, RefusesWhatCannotBeAModel) {
  const auto data = examples({{{"a", "b"}, {"x"}}});
  EXPECT_EQ(from_examples_error(data, 0), "classifier vocabulary: min_count must be >= 1");
  EXPECT_EQ(from_examples_error({}, 1), "classifier vocabulary: no training example");
  EXPECT_EQ(from_examples_error(data, 2),
            "classifier vocabulary: no word is seen min_count = 2 times");
  EXPECT_EQ(from_examples_error(examples({{{"a"}, {}}}), 1), "classifier vocabulary: no label");
  EXPECT_EQ(from_examples_error(examples({{{"a b"}, {"x"}}}), 1),
            "classifier vocabulary: word 0 is empty or holds whitespace");
}

std::string from_parts_error(std::vector<std::string> words, std::vector<std::int64_t> word_counts,
                             std::vector<std::string> labels,
                             std::vector<std::int64_t> label_counts) {
  try {
    (void)Dictionary::from_parts(std::move(words), std::move(word_counts), std::move(labels),
                                 std::move(label_counts));
  } catch (const embedkit::ValueError& e) {
    return e.what();
  }
  return "no error";
}

TEST(DictionaryFromParts, KeepsTheGivenOrderAndChecksEveryEntry) {
  const Dictionary d = Dictionary::from_parts({"rare", "often"}, {1, 5}, {"l"}, {2});
  EXPECT_EQ(d.words().texts(), (std::vector<std::string>{"rare", "often"}));
  EXPECT_EQ(d.words().total_count(), 6);
  EXPECT_EQ(from_parts_error({"a"}, {1, 2}, {"l"}, {1}),
            "classifier vocabulary: word and their counts differ in size");
  EXPECT_EQ(from_parts_error({"a"}, {1}, {"l"}, {}),
            "classifier vocabulary: label and their counts differ in size");
  EXPECT_EQ(from_parts_error({"a", ""}, {1, 1}, {"l"}, {1}),
            "classifier vocabulary: word 1 is empty or holds whitespace");
  for (const char* spaced : {"l m", "l\tm", "l\n", "\rl", "l\vm", "l\fm"}) {
    EXPECT_EQ(from_parts_error({"a"}, {1}, {"l", spaced}, {1, 1}),
              "classifier vocabulary: label 1 is empty or holds whitespace")
        << spaced;
  }
  EXPECT_EQ(from_parts_error({"a"}, {0}, {"l"}, {1}),
            "classifier vocabulary: word 'a' has count 0 (must be >= 1)");
  EXPECT_EQ(from_parts_error({"a", "b", "a"}, {1, 1, 1}, {"l"}, {1}),
            "classifier vocabulary: word 'a' is repeated");
  EXPECT_EQ(from_parts_error({"a"}, {1}, {"l", "l"}, {1, 1}),
            "classifier vocabulary: label 'l' is repeated");
  EXPECT_EQ(from_parts_error({"a"}, {1}, {}, {}), "classifier vocabulary: no label");
  EXPECT_EQ(from_parts_error({"a", "b"}, {std::numeric_limits<std::int64_t>::max(), 1}, {"l"}, {1}),
            "classifier vocabulary: the word counts' sum overflows int64");
}

TEST(DictionaryFromCorpus, ReadsPlainAndGzipAlike) {
  TempDir dir;
  const std::string text = "the cat\tsat on\r\nthe mat\n\n  the end";
  write_file(dir / "c.txt", text);
  write_gzip(dir / "c.txt.gz", text);
  CorpusStats plain, gz;
  const Dictionary a = count_words(dir / "c.txt", 1, 0, &plain);
  const Dictionary b = count_words(dir / "c.txt.gz", 1, 0, &gz);
  EXPECT_EQ(a.words().texts(), b.words().texts());
  EXPECT_EQ(a.words().counts(), b.words().counts());
  EXPECT_EQ(a.words().text(0), "the");
  EXPECT_EQ(a.words().count(0), 3);
  EXPECT_EQ(plain.tokens, 8);
  EXPECT_EQ(plain.distinct, 6);
  EXPECT_EQ(plain.bytes, text.size());
  EXPECT_EQ(gz.bytes, text.size());
}

// on_tokens lets train_word2vec report (and be cancelled) during a long count: it is called
// once per kCountingTick tokens, and an exception from it stops counting and propagates.
TEST(DictionaryFromCorpus, CallsOnTokensEveryTickAndLetsItsExceptionThrough) {
  TempDir dir;
  const std::int64_t tick = Dictionary::kCountingTick;
  std::string text;
  for (std::int64_t i = 0; i < 2 * tick + 5; ++i) text += (i % 10 == 9) ? "a\n" : "a ";
  write_file(dir / "c.txt", text);
  int calls = 0;
  CorpusStats stats;
  Dictionary::from_corpus(dir / "c.txt", 1, 0, &stats, [&] { ++calls; });
  EXPECT_EQ(stats.tokens, 2 * tick + 5);
  EXPECT_EQ(calls, 2);
  struct Stop {};
  calls = 0;
  EXPECT_THROW(Dictionary::from_corpus(dir / "c.txt", 1, 0, nullptr,
                                       [&] {
                                         ++calls;
                                         throw Stop{};
                                       }),
               Stop);
  EXPECT_EQ(calls, 1);
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
    count_words(p, min_count, 0);
  } catch (const embedkit::Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(DictionaryFromCorpus, RefusesEmptyCorpus) {
  TempDir dir;
  write_file(dir / "empty.txt", " \n\n \t");
  EXPECT_THROW(count_words(dir / "empty.txt", 1, 0), embedkit::ValueError);
  EXPECT_NE(error_of(dir / "empty.txt").find("no words"), std::string::npos);
}

TEST(DictionaryFromCorpus, RefusesCorpusBelowMinCount) {
  TempDir dir;
  write_file(dir / "c.txt", "a b a c\n");
  const std::string msg = error_of(dir / "c.txt", 5);
  EXPECT_NE(msg.find("min_count = 5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\"a\", occurs 2 times"), std::string::npos) << msg;
}

TEST(DictionaryFromCorpus, RefusesNulBytesNamingOffsetAndLine) {
  TempDir dir;
  write_file(dir / "bin.txt", std::string("ok words\nmore x\0yz\n", 20));
  EXPECT_THROW(count_words(dir / "bin.txt", 1, 0), embedkit::IoError);
  const std::string msg = error_of(dir / "bin.txt");
  EXPECT_NE(msg.find("bin.txt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("NUL byte at byte offset 15 (line 2)"), std::string::npos) << msg;
}

TEST(DictionaryFromCorpus, RefusesInvalidUtf8NamingOffsetAndLine) {
  TempDir dir;
  // "caf\xc3\xa9" is valid; a lone continuation byte, an overlong "/" and a surrogate are not.
  write_file(dir / "ok.txt", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n");
  EXPECT_EQ(count_words(dir / "ok.txt", 1, 0).words().size(), 3);
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

TEST(DictionaryFromCorpus, RefusesTruncatedGzipNamingTheByte) {
  // Regression (issue 12, bug 3): a gzip corpus cut short (`head -c 50000 c.gz`) was read to
  // the cut and trained on with no error.
  TempDir dir;
  const std::string full = gzip_bytes_of_big_corpus(dir);
  ASSERT_GT(full.size(), 20000u);
  for (const std::size_t keep : {full.size() / 2, full.size() - 1, full.size() - 8}) {
    write_file(dir / "cut.gz", full.substr(0, keep));
    EXPECT_THROW(count_words(dir / "cut.gz", 1, 0), embedkit::IoError);
    const std::string msg = error_of(dir / "cut.gz");
    EXPECT_NE(msg.find("cut.gz: truncated gzip file"), std::string::npos) << msg;
    EXPECT_NE(msg.find("at byte " + std::to_string(keep) + " of the compressed file"),
              std::string::npos)
        << msg;
  }
  // The whole file still reads.
  EXPECT_EQ(count_words(dir / "full.gz", 1, 0).words().size(), 16);
}

TEST(DictionaryFromCorpus, RefusesCorruptedGzip) {
  TempDir dir;
  std::string bytes = gzip_bytes_of_big_corpus(dir);
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i) bytes[i] ^= 0x5a;
  write_file(dir / "bad.gz", bytes);
  EXPECT_THROW(count_words(dir / "bad.gz", 1, 0), embedkit::IoError);
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

TEST(DictionaryFromCorpus, RefusesMissingFileAndDirectory) {
  TempDir dir;
  EXPECT_THROW(count_words(dir / "missing.txt", 1, 0), embedkit::IoError);
  EXPECT_THROW(count_words(dir.path(), 1, 0), embedkit::IoError);
}

}  // namespace
