// Memory-mapped tables (io/mapped_table.hpp): zero-copy tables from .npy and safetensors files,
// usable wherever a table is, with the in-memory readers' checks and errors.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/io/mapped_table.hpp"
#include "embedkit/io/safetensors.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/nn/quantized_embedding_bag.hpp"
#include "embedkit/nn/quantized_table.hpp"
#include "embedkit/optim/module_parameters.hpp"
#include "embedkit/optim/sgd.hpp"
#include "embedkit/vectors/keyed_vectors.hpp"
#include "support/temp_dir.hpp"
#include "test_support.hpp"

namespace {

using embedkit::DType;
using embedkit::Tensor;
using embedkit_io_test::message_of;
using embedkit_test::TempDir;
namespace io = embedkit::io;
namespace nn = embedkit::nn;

Tensor table(std::int64_t rows, std::int64_t dim, std::uint64_t seed = 7) {
  embedkit::Generator gen(seed);
  std::vector<float> v(static_cast<std::size_t>(rows * dim));
  for (float& x : v) x = static_cast<float>(gen.uniform() * 2.0 - 1.0);
  return Tensor::from_floats(v, {rows, dim});
}

std::vector<float> floats(const Tensor& t) {
  return t.to_float_vector();
}

// How many mappings of `path` the process holds (/proc/self/maps names the file of each).
int mappings_of(const std::filesystem::path& path) {
  std::ifstream maps("/proc/self/maps");
  const std::string name = std::filesystem::absolute(path).lexically_normal().string();
  int n = 0;
  for (std::string line; std::getline(maps, line);) {
    if (line.size() >= name.size() &&
        line.compare(line.size() - name.size(), name.size(), name) == 0)
      ++n;
  }
  return n;
}

// An .npy file with any descr, shape and data bytes (numpy's layout: data 64-byte aligned).
std::string npy_bytes(const std::string& descr, std::int64_t rows, std::int64_t cols,
                      const std::string& data) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" +
                     std::to_string(rows) + ", " + std::to_string(cols) + "), }";
  const std::size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>((dict.size() >> 8) & 0xff);
  return out + dict + data;
}

std::string raw(const Tensor& t) {
  return std::string(static_cast<const char*>(t.raw_data()), t.nbytes());
}

TEST(MappedTable, NpyFloat32IsZeroCopyReadOnlyAndEqual) {
  TempDir dir;
  const Tensor w = table(50, 8);
  const auto path = dir.write("t.npy", io::serialize_npy(w));
  const Tensor m = io::map_npy(path);
  EXPECT_EQ(m.dtype(), DType::Float32);
  EXPECT_EQ(m.shape(), (embedkit::Shape{50, 8}));
  EXPECT_TRUE(m.read_only());
  EXPECT_FALSE(m.owns_memory());
  EXPECT_EQ(floats(m), floats(w));
  EXPECT_EQ(mappings_of(path), 1);
  // A copy shares the mapping; the file stays mapped while any copy lives.
  Tensor copy = m.reshape({400});
  EXPECT_TRUE(copy.read_only());
  EXPECT_TRUE(copy.shares_storage_with(m));
  EXPECT_FALSE(m.clone().read_only());
}

TEST(MappedTable, UnmappedWhenTheLastTensorGoes) {
  TempDir dir;
  const auto path = dir.write("t.npy", io::serialize_npy(table(4, 3)));
  {
    const Tensor m = io::map_npy(path);
    EXPECT_EQ(mappings_of(path), 1);
  }
  EXPECT_EQ(mappings_of(path), 0);
}

TEST(MappedTable, NpyFloat16MapsAsFloat16) {
  TempDir dir;
  const Tensor h = table(6, 4).to(DType::Float16);
  const auto path = dir.write("h.npy", npy_bytes("<f2", 6, 4, raw(h)));
  const Tensor m = io::map_npy(path);
  EXPECT_EQ(m.dtype(), DType::Float16);
  EXPECT_EQ(floats(m), floats(h));
}

TEST(MappedTable, SafetensorsEveryTableDtype) {
  TempDir dir;
  const Tensor w = table(9, 5);
  const auto path = dir / "t.safetensors";
  io::save_safetensors(
      path,
      {{"f32", w}, {"bf16", w.to(DType::BFloat16).reshape({9, 5})}, {"f16", w.to(DType::Float16)}});
  const io::SafetensorsContents loaded = io::load_safetensors(path);
  for (const auto& [name, tensor] : loaded.tensors) {
    const Tensor m = io::map_safetensors(path, name);
    EXPECT_EQ(m.dtype(), tensor.dtype()) << name;
    EXPECT_EQ(m.shape(), tensor.shape()) << name;
    EXPECT_EQ(raw(m), raw(tensor)) << name;
    EXPECT_TRUE(m.read_only());
  }
  EXPECT_NE(message_of<embedkit::IoError>([&] {
              io::map_safetensors(path, "weight");
            }).find("no tensor named 'weight' (it holds 'f32', 'bf16', 'f16')"),
            std::string::npos);
}

TEST(MappedTable, UnalignedSafetensorsTensorIsRefusedNotCopied) {
  TempDir dir;
  const auto path = dir / "odd.safetensors";
  // Three float16 values (6 bytes) put the float32 tensor after them at an offset that is not
  // a multiple of 4.
  io::save_safetensors(path, {{"a", table(1, 3).to(DType::Float16)}, {"b", table(2, 2)}});
  const std::string msg = message_of<embedkit::IoError>([&] { io::map_safetensors(path, "b"); });
  EXPECT_NE(msg.find("not a multiple of its element size (4): it cannot be mapped without a copy"),
            std::string::npos)
      << msg;
  EXPECT_EQ(mappings_of(path), 0);
  // The float16 tensor before it is aligned and maps.
  EXPECT_EQ(io::map_safetensors(path, "a").numel(), 3);
}

TEST(MappedTable, LookupsAndBagsEqualTheInMemoryTable) {
  TempDir dir;
  const Tensor w = table(100, 16);
  const auto path = dir.write("t.npy", io::serialize_npy(w));
  Tensor m = io::map_npy(path);
  Tensor in_memory = w.clone();
  const Tensor ids = Tensor::from_vector<std::int64_t>({3, 99, 0, 3, 42, 7}, embedkit::Shape{2, 3});
  EXPECT_EQ(floats(nn::functional::embedding(ids, m)),
            floats(nn::functional::embedding(ids, in_memory)));
  const Tensor flat = ids.reshape({6});
  const Tensor offsets = Tensor::from_vector<std::int64_t>({0, 2, 2});
  for (const auto mode :
       {embedkit::BagMode::Sum, embedkit::BagMode::Mean, embedkit::BagMode::Max}) {
    const auto options = nn::EmbeddingBagFuncOptions().mode(mode);
    EXPECT_EQ(floats(nn::functional::embedding_bag(flat, m, offsets, options)),
              floats(nn::functional::embedding_bag(flat, in_memory, offsets, options)));
  }
  nn::Embedding module = nn::Embedding::from_pretrained(m);
  EXPECT_EQ(floats(module.forward(ids)), floats(nn::functional::embedding(ids, in_memory)));
}

TEST(MappedTable, OutOfRangeIdsFailAsForAnInMemoryTable) {
  TempDir dir;
  const Tensor w = table(10, 4);
  const auto path = dir.write("t.npy", io::serialize_npy(w));
  Tensor m = io::map_npy(path);
  Tensor in_memory = w.clone();
  const Tensor ids = Tensor::from_vector<std::int64_t>({1, 10});
  const std::string expected =
      message_of<embedkit::IndexError>([&] { nn::functional::embedding(ids, in_memory); });
  EXPECT_FALSE(expected.empty());
  EXPECT_EQ(message_of<embedkit::IndexError>([&] { nn::functional::embedding(ids, m); }), expected);
  const Tensor offsets = Tensor::from_vector<std::int64_t>({0});
  EXPECT_EQ(
      message_of<embedkit::IndexError>([&] { nn::functional::embedding_bag(ids, m, offsets); }),
      message_of<embedkit::IndexError>(
          [&] { nn::functional::embedding_bag(ids, in_memory, offsets); }));
}

TEST(MappedTable, WritesToAReadOnlyTableAreRefused) {
  TempDir dir;
  const Tensor w = table(10, 4);
  const std::string bytes = io::serialize_npy(w);
  const auto path = dir.write("t.npy", bytes);
  Tensor m = io::map_npy(path);
  // A training step: the optimizer refuses the table when it is built.
  nn::Embedding emb =
      nn::Embedding::from_pretrained(m, nn::EmbeddingFromPretrainedOptions().freeze(false));
  const std::string opt_msg = message_of<embedkit::ValueError>([&] {
    embedkit::optim::SGD sgd(embedkit::optim::make_parameters(emb),
                             embedkit::optim::SGDOptions(0.1));
  });
  EXPECT_NE(opt_msg.find("optimizer: parameter 'weight': the tensor is read-only"),
            std::string::npos)
      << opt_msg;
  // max_norm renormalises looked-up rows in place.
  const Tensor ids = Tensor::from_vector<std::int64_t>({1, 2});
  const auto renorm = nn::EmbeddingFuncOptions().max_norm(0.01);
  EXPECT_NE(message_of<embedkit::ValueError>([&] {
              nn::functional::embedding(ids, m, renorm);
            }).find("Embedding: max_norm: the tensor is read-only"),
            std::string::npos);
  EXPECT_NE(message_of<embedkit::ValueError>([&] {
              nn::functional::embedding_bag(ids, m, Tensor::from_vector<std::int64_t>({0}),
                                            nn::EmbeddingBagFuncOptions().max_norm(0.01));
            }).find("max_norm: the tensor is read-only"),
            std::string::npos);
  EXPECT_NE(message_of<embedkit::ValueError>([&] { m.fill_zero(); }).find("read-only"),
            std::string::npos);
  EXPECT_NE(message_of<embedkit::ValueError>([&] { m.copy_from(w); }).find("read-only"),
            std::string::npos);
  EXPECT_EQ(floats(m), floats(w));
  EXPECT_EQ(embedkit_test::read_file(path), bytes);
}

TEST(MappedTable, CopyOnWriteTrainsWithoutChangingTheFile) {
  TempDir dir;
  const Tensor w = table(10, 4);
  const std::string bytes = io::serialize_npy(w);
  const auto path = dir.write("t.npy", bytes);
  io::MapOptions cow;
  cow.mode = io::MapMode::CopyOnWrite;
  Tensor m = io::map_npy(path, cow);
  EXPECT_FALSE(m.read_only());
  nn::Embedding emb =
      nn::Embedding::from_pretrained(m, nn::EmbeddingFromPretrainedOptions().freeze(false));
  embedkit::optim::SGD sgd(embedkit::optim::make_parameters(emb), embedkit::optim::SGDOptions(0.5));
  const Tensor ids = Tensor::from_vector<std::int64_t>({2});
  const Tensor grad = Tensor::from_floats({1, 1, 1, 1}, {1, 4});
  sgd.step({emb.backward(ids, grad)});
  const std::vector<float> before = floats(w), after = floats(m);
  for (std::int64_t j = 0; j < 4; ++j) {
    EXPECT_EQ(after[static_cast<std::size_t>(8 + j)],
              before[static_cast<std::size_t>(8 + j)] - 0.5f);
  }
  EXPECT_EQ(embedkit_test::read_file(path), bytes);  // the step stayed in this process
  EXPECT_EQ(floats(io::map_npy(path)), before);
}

TEST(MappedTable, TruncatedFilesAreRefusedAndNothingStaysMapped) {
  TempDir dir;
  const std::string npy = io::serialize_npy(table(10, 4));
  const auto cut_npy = dir.write("cut.npy", npy.substr(0, npy.size() - 1));
  const std::string npy_msg = message_of<embedkit::IoError>([&] { io::map_npy(cut_npy); });
  EXPECT_NE(npy_msg.find("npy shape (10, 4) needs its bytes, the file holds 159 data bytes"),
            std::string::npos)
      << npy_msg;
  EXPECT_EQ(mappings_of(cut_npy), 0);

  const std::vector<std::uint8_t> st = io::serialize_safetensors({{"weight", table(10, 4)}});
  const auto cut_st = dir.write("cut.safetensors", std::string(st.begin(), st.end() - 4));
  const std::string st_msg =
      message_of<embedkit::IoError>([&] { io::map_safetensors(cut_st, "weight"); });
  EXPECT_NE(st_msg.find("the file is truncated or corrupted"), std::string::npos) << st_msg;
  EXPECT_EQ(mappings_of(cut_st), 0);
  // The in-memory reader says the same.
  EXPECT_EQ(message_of<embedkit::IoError>([&] { io::load_safetensors(cut_st); }), st_msg);
}

TEST(MappedTable, HeaderDeclaringMoreDataThanTheFileHasIsRefused) {
  TempDir dir;
  const Tensor w = table(2, 4);
  // The header says 1000 rows; the file holds 2.
  const auto npy = dir.write("big.npy", npy_bytes("<f4", 1000, 4, raw(w)));
  EXPECT_NE(message_of<embedkit::IoError>([&] {
              io::map_npy(npy);
            }).find("npy shape (1000, 4) needs its bytes, the file holds 32 data bytes"),
            std::string::npos);
  // A shape whose byte count overflows cannot pass either.
  const auto huge = dir.write("huge.npy", npy_bytes("<f4", 999999999999999999, 4, raw(w)));
  EXPECT_NE(message_of<embedkit::IoError>([&] { io::map_npy(huge); }).find("needs its bytes"),
            std::string::npos);
  std::string st = "{\"weight\":{\"dtype\":\"F32\",\"shape\":[1000,4],\"data_offsets\":[0,16000]}}";
  std::string bytes(8, '\0');
  bytes[0] = static_cast<char>(st.size());
  const auto stf = dir.write("big.safetensors", bytes + st + raw(w));
  EXPECT_NE(message_of<embedkit::IoError>([&] {
              io::map_safetensors(stf, "weight");
            }).find("but the byte buffer holds only 32 bytes (the file is truncated"),
            std::string::npos);
  EXPECT_EQ(mappings_of(npy) + mappings_of(huge) + mappings_of(stf), 0);
}

TEST(MappedTable, OnlyRegularFilesMap) {
  TempDir dir;
  const std::string msg = message_of<embedkit::IoError>([&] { io::map_npy(dir.path()); });
  EXPECT_NE(msg.find("is a directory, not a regular file: only a regular file can be mapped"),
            std::string::npos)
      << msg;
  EXPECT_NE(message_of<embedkit::IoError>([&] {
              io::map_npy(dir / "missing.npy");
            }).find("cannot open: No such file or directory"),
            std::string::npos);
  // A FIFO with no writer is refused at once: the open does not wait for one (it would hang).
  const std::filesystem::path fifo = dir / "fifo.npy";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_NE(
      message_of<embedkit::IoError>([&] {
        io::map_npy(fifo);
      }).find("is a FIFO (named pipe), not a regular file: only a regular file can be mapped"),
      std::string::npos)
      << message_of<embedkit::IoError>([&] { io::map_npy(fifo); });
}

TEST(MappedTable, WordVectorsMapAndAnswerAsLoaded) {
  TempDir dir;
  io::WordVectors v;
  for (int i = 0; i < 40; ++i) v.words.push_back(std::string(1, 'w').append(std::to_string(i)));
  v.matrix = table(40, 12);
  for (const char* name : {"v.npy", "v.safetensors"}) {
    const auto path = dir / name;
    io::save_word_vectors(path, v);
    io::WordVectors mapped = io::map_word_vectors(path);
    EXPECT_EQ(mapped.words, v.words);
    EXPECT_TRUE(mapped.matrix.read_only()) << name;
    const embedkit::vectors::KeyedVectors kv(mapped.words, mapped.matrix);
    // A read-only (mapped) matrix is shared, not copied.
    EXPECT_TRUE(kv.matrix().shares_storage_with(mapped.matrix));
    const embedkit::vectors::KeyedVectors loaded(v.words, v.matrix);
    const auto a = kv.most_similar("w3", 5), b = loaded.most_similar("w3", 5);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].word, b[i].word);
      EXPECT_EQ(a[i].score, b[i].score);
    }
  }
  EXPECT_NE(message_of<embedkit::ValueError>([&] {
              io::map_word_vectors(dir / "v.vec");
            }).find("vec vectors cannot be mapped"),
            std::string::npos);
}

TEST(MappedTable, PairOfAnotherSaveIsRefused) {
  TempDir dir;
  io::WordVectors v;
  v.words = {"a", "b", "c"};
  v.matrix = table(3, 4);
  const auto path = dir / "v.npy";
  io::save_word_vectors(path, v);
  const std::string vocab = embedkit_test::read_file(dir / "v.vocab");
  // Another matrix of another size: the pair line's byte count tells.
  io::WordVectors other = v;
  other.words.push_back("d");
  other.matrix = table(4, 4);
  io::save_word_vectors(path, other);
  embedkit_test::write_file(dir / "v.vocab", vocab);
  EXPECT_NE(message_of<embedkit::IoError>([&] {
              io::map_word_vectors(path);
            }).find("was written with another matrix file"),
            std::string::npos);
  // Same shape, other values: only the checksum tells, and verify_pair_checksum checks it.
  other.words = v.words;
  other.matrix = table(3, 4, 99);
  io::save_word_vectors(path, other);
  embedkit_test::write_file(dir / "v.vocab", vocab);
  EXPECT_NO_THROW(io::map_word_vectors(path));
  io::MapOptions verify;
  verify.verify_pair_checksum = true;
  EXPECT_NE(message_of<embedkit::IoError>([&] {
              io::map_word_vectors(path, std::nullopt, verify);
            }).find("was written with another matrix file"),
            std::string::npos);
}

TEST(MappedTable, QuantizedRowsMapAndLookUpAsInMemory) {
  TempDir dir;
  const Tensor w = table(64, 16);
  const Tensor ids = Tensor::from_vector<std::int64_t>({0, 63, 5, 5, 17});
  const Tensor offsets = Tensor::from_vector<std::int64_t>({0, 2});
  for (const auto format :
       {nn::QuantizedFormat::Int8, nn::QuantizedFormat::Int4, nn::QuantizedFormat::Int2}) {
    const nn::QuantizedTable q = nn::quantize(w, format);
    std::string file_name = nn::quantized_format_name(format);
    file_name += ".safetensors";
    const auto path = dir / file_name;
    io::save_quantized_rows(path, q.data(), q.size_bytes(), q.num_embeddings(), q.row_bytes(),
                            format, q.embedding_dim());
    nn::QuantizedTable mapped;
    {
      const io::MappedQuantizedRows rows = io::map_quantized_rows(path);
      EXPECT_EQ(rows.format, format);
      mapped =
          nn::QuantizedTable::from_blob(rows.data, rows.size_bytes, rows.num_rows, rows.row_bytes,
                                        rows.format, rows.embedding_dim, rows.owner);
    }
    EXPECT_EQ(mappings_of(path), 1);  // the table keeps the mapping
    EXPECT_EQ(std::memcmp(mapped.data(), q.data(), q.size_bytes()), 0);
    EXPECT_EQ(floats(nn::functional::quantized_embedding_bag(ids, mapped, offsets)),
              floats(nn::functional::quantized_embedding_bag(ids, q, offsets)));
    const Tensor bad = Tensor::from_vector<std::int64_t>({1, 64});
    const std::string expected =
        message_of<embedkit::IndexError>([&] { nn::functional::quantized_embedding(bad, q); });
    EXPECT_FALSE(expected.empty());
    EXPECT_EQ(
        message_of<embedkit::IndexError>([&] { nn::functional::quantized_embedding(bad, mapped); }),
        expected);
    mapped = nn::QuantizedTable();
    EXPECT_EQ(mappings_of(path), 0);
  }
}

TEST(MappedTable, BadQuantizedFilesAreRefused) {
  TempDir dir;
  const nn::QuantizedTable q = nn::quantize(table(8, 16), nn::QuantizedFormat::Int8);
  const auto path = dir / "q.safetensors";
  io::save_quantized_rows(path, q.data(), q.size_bytes(), 8, q.row_bytes(), q.format(), 16);
  io::MapOptions cow;
  cow.mode = io::MapMode::CopyOnWrite;
  EXPECT_NE(message_of<embedkit::ValueError>([&] {
              io::map_quantized_rows(path, "weight", cow);
            }).find("a quantized table is never written"),
            std::string::npos);
  // Rows that do not match the format's size for D.
  EXPECT_NE(message_of<embedkit::ValueError>([&] {
              io::save_quantized_rows(path, q.data(), q.size_bytes(), 8, q.row_bytes(),
                                      nn::QuantizedFormat::Int4, 16);
            }).find("are not int4 rows of dimension 16"),
            std::string::npos);
  // A truncated file: the header declares more rows than the file holds.
  const std::string bytes = embedkit_test::read_file(path);
  const auto cut = dir.write("cut.safetensors", bytes.substr(0, bytes.size() - 10));
  EXPECT_NE(message_of<embedkit::IoError>([&] {
              io::map_quantized_rows(cut);
            }).find("the file is truncated or corrupted"),
            std::string::npos);
  EXPECT_EQ(mappings_of(cut), 0);
  // A float table is not packed rows, and U8 is refused where a float table is expected.
  const auto f = dir / "f.safetensors";
  io::save_safetensors(f, {{"weight", table(2, 2)}});
  EXPECT_NE(message_of<embedkit::IoError>([&] {
              io::map_quantized_rows(f);
            }).find("must be U8 [num_rows, row_bytes]"),
            std::string::npos);
  EXPECT_NE(message_of<embedkit::IoError>([&] {
              io::map_safetensors(path, "weight");
            }).find("has dtype 'U8', which embedkit cannot hold"),
            std::string::npos);
  EXPECT_NE(message_of<embedkit::IoError>([&] {
              io::load_safetensors(path);
            }).find("has dtype 'U8', which embedkit cannot hold"),
            std::string::npos);
}

// The SIGBUS rule: a mapped file that shrinks under a read is a clear error, not a crash. In a
// forked child (the handler ends the process): map, install the handler, truncate the file,
// read a lost row.
TEST(MappedTable, ShrinkWhileMappedIsAClearErrorWithTheHandler) {
  TempDir dir;
  const auto path = dir.write("t.npy", io::serialize_npy(table(4096, 16)));
  const embedkit_io_test::ChildRun run = embedkit_io_test::run_in_child([&] {
    const Tensor m = io::map_npy(path);
    io::install_mapped_file_sigbus_handler(3);
    if (::truncate(path.c_str(), 128) != 0) ::_exit(10);
    Tensor ids = Tensor::from_vector<std::int64_t>({4000});
    Tensor mm = m;
    nn::functional::embedding(ids, mm);
    ::_exit(11);  // the read did not fault
  });
  ASSERT_EQ(run.signal, 0) << "the child died of signal " << run.signal;
  EXPECT_EQ(run.exit_status, 3);
  EXPECT_EQ(run.err, "embedkit: " + path.string() + " shrank while mapped (" +
                         std::to_string(128 + 4096 * 16 * 4) +
                         " bytes at open), or its data could not be read\n");
}

}  // namespace
