// What the word-vector readers tell from a file's contents: gzip-compressed text and word2vec
// binary (.vec.gz, .txt.gz, .bin.gz), GloVe text without a header when no format is named, and
// fastText's model files (written from vectors as "fasttext-bin"; a .bin that is one is not
// taken for word2vec binary).
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <string>

#include "embedkit/core/error.hpp"
#include "embedkit/io/fasttext_model.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

using embedkit::IoError;
using embedkit::Tensor;
using namespace embedkit::io;
using embedkit_test::TempDir;

WordVectors small_vectors() {
  return WordVectors{{"the", "caf\xc3\xa9", "x"},
                     Tensor::from_floats({0.5f, -1.25f, 3.0f, 1e-3f, -0.0f, 7.0f}, {3, 2})};
}

void expect_same(const WordVectors& a, const WordVectors& b) {
  EXPECT_EQ(a.words, b.words);
  ASSERT_EQ(a.matrix.shape(), b.matrix.shape());
  EXPECT_EQ(std::memcmp(a.matrix.raw_data(), b.matrix.raw_data(), a.matrix.nbytes()), 0);
}

// Compresses `path` into `path`.gz with zlib (as gzip(1) would) and returns that path.
std::filesystem::path gzip(const std::filesystem::path& path) {
  const std::string data = embedkit_test::read_file(path);
  std::filesystem::path out = path;
  out += ".gz";
  gzFile f = gzopen(out.c_str(), "wb");
  EXPECT_NE(f, nullptr);
  EXPECT_EQ(gzwrite(f, data.data(), static_cast<unsigned>(data.size())),
            static_cast<int>(data.size()));
  gzclose(f);
  return out;
}

template <class F>
std::string io_error(F&& f) {
  try {
    f();
  } catch (const IoError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no IoError";
  return {};
}

TEST(VectorFormatDetection, GzipFilesReadAsTheirInnerExtensionSays) {
  TempDir dir;
  const WordVectors v = small_vectors();
  for (const std::string name : {"v.vec", "v.txt", "v.bin"}) {
    SCOPED_TRACE(name);
    save_word_vectors(dir / name, v);
    const auto gz = gzip(dir / name);
    EXPECT_EQ(guess_vector_format(gz), guess_vector_format(dir / name));
    expect_same(load_word_vectors(gz), v);
  }
  // A cut gzip file is refused, naming the file.
  const std::string whole = embedkit_test::read_file(dir / "v.vec.gz");
  const auto cut = dir.write("cut.vec.gz", whole.substr(0, whole.size() / 2));
  const std::string msg = io_error([&] { load_word_vectors(cut); });
  EXPECT_EQ(msg.rfind(cut.string() + ": truncated gzip file", 0), 0u) << msg;
  EXPECT_EQ(guess_vector_format(dir / "v.npy.gz"), std::nullopt);
  // Written uncompressed under a .gz name, the file would mislead every reader: refused.
  EXPECT_THROW(save_word_vectors(dir / "out.vec.gz", v), embedkit::ValueError);
  EXPECT_FALSE(std::filesystem::exists(dir / "out.vec.gz"));
}

TEST(VectorFormatDetection, HeaderlessTextIsGloVeUnlessAFormatIsNamed) {
  TempDir dir;
  const auto glove = dir.write("glove.txt", "the 0.5 -1.25\ncaf\xc3\xa9 3 0.001\nx -0 7\n");
  expect_same(load_word_vectors(glove), small_vectors());
  const auto gz = gzip(glove);
  expect_same(load_word_vectors(gz), small_vectors());
  // With a header, the same file is word2vec text.
  const auto w2v = dir.write("w2v.vec", "3 2\nthe 0.5 -1.25\ncaf\xc3\xa9 3 0.001\nx -0 7\n");
  expect_same(load_word_vectors(w2v), small_vectors());
  // A named format is taken at its word.
  EXPECT_NE(io_error([&] {
              load_word_vectors(glove, VectorFormat::Word2VecText);
            }).find("line 1: expected the header 'V D'"),
            std::string::npos);
}

TEST(VectorFormatDetection, FastTextModelsAreWrittenAndNeverTakenForWord2VecBinary) {
  TempDir dir;
  const WordVectors v = small_vectors();
  const auto bin = dir / "m.bin";
  save_word_vectors(bin, v, VectorFormat::FastTextModel);
  EXPECT_TRUE(file_has_fasttext_magic(bin));
  const FastTextModelFile f = load_fasttext_model(bin);
  EXPECT_EQ(f.args.model, FastTextModelType::SkipGram);
  EXPECT_EQ(f.args.maxn, 0);
  EXPECT_EQ(f.args.bucket, 0);
  ASSERT_EQ(f.dictionary.words.size(), 3u);
  EXPECT_EQ(f.dictionary.words[1].text, v.words[1]);
  EXPECT_EQ(f.input.to_float_vector(), v.matrix.to_float_vector());
  EXPECT_EQ(f.output.to_float_vector(), std::vector<float>(6, 0.0f));
  // The readers here point to the one that computes a model's word vectors.
  for (const auto format : {VectorFormat::Word2VecBinary, VectorFormat::FastTextModel}) {
    const std::string msg = io_error([&] { load_word_vectors(bin, format); });
    EXPECT_EQ(msg.rfind(bin.string() + ": a fastText model", 0), 0u) << msg;
    EXPECT_NE(msg.find("models::FastTextModel"), std::string::npos) << msg;
  }
  EXPECT_EQ(parse_vector_format("fasttext-bin"), VectorFormat::FastTextModel);
  EXPECT_EQ(vector_format_name(VectorFormat::FastTextModel), "fasttext-bin");
  // A word2vec binary file read as a fastText model is refused by name.
  save_word_vectors(dir / "w.bin", v);
  EXPECT_NE(io_error([&] {
              load_word_vectors(dir / "w.bin", VectorFormat::FastTextModel);
            }).find("not a fastText model"),
            std::string::npos);
}

}  // namespace
