// The safetensors reader and writer: exact bytes, round trips of every dtype, and one clean
// error, naming the file and what is wrong, for every way a file can break the format.
#include <sys/stat.h>

#include <cstring>
#include <string>
#include <vector>

#include "embedkit/io/safetensors.hpp"
#include "io/test_support.hpp"
#include "support/temp_dir.hpp"

namespace {

using embedkit::DType;
using embedkit::IoError;
using embedkit::NamedTensors;
using embedkit::Shape;
using embedkit::Tensor;
using embedkit::ValueError;
using embedkit::io::Metadata;
using embedkit_io_test::make_safetensors;
using embedkit_io_test::message_of;
using embedkit_test::TempDir;

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         (a.nbytes() == 0 || std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0);
}

NamedTensors every_dtype() {
  return {
      {"embedding.weight", Tensor::from_floats({0.5f, -1.25f, 3.0f, 1e-30f, -0.0f, 7.75f}, {3, 2})},
      {"half", Tensor::from_floats({1.0f, 65504.0f, -2.5f}, {3}, DType::Float16)},
      {"bf16", Tensor::from_floats({1.0f, 3.0e38f}, {1, 2}, DType::BFloat16)},
      {"ids32", Tensor::from_vector<std::int32_t>({-7, 0, 2147483647})},
      {"step", Tensor::scalar<std::int64_t>(9007199254740993)},  // 0-dim
      {"empty", Tensor::zeros({0, 4})},
      {"cube", Tensor::from_vector<std::int64_t>({1, 2, 3, 4, 5, 6, 7, 8}, Shape{2, 2, 2})},
  };
}

// What the reader reports for `header` + `buffer`, read from memory as "t.safetensors".
std::string parse_error(const std::string& header, const std::vector<std::uint8_t>& buffer = {}) {
  const auto bytes = make_safetensors(header, buffer);
  return message_of<IoError>([&] { embedkit::io::parse_safetensors(bytes, "t.safetensors"); });
}

std::vector<std::uint8_t> zeros(std::size_t n) {
  return std::vector<std::uint8_t>(n, 0);
}

TEST(Safetensors, ExactBytesOfASmallFile) {
  const NamedTensors tensors = {{"embedding.weight", Tensor::from_floats({1, 2, 3, 4}, {2, 2})}};
  const auto bytes = embedkit::io::serialize_safetensors(tensors, {{"format", "pt"}});
  std::string header =
      R"({"__metadata__":{"format":"pt"},"embedding.weight":{"dtype":"F32","shape":[2,2],)"
      R"("data_offsets":[0,16]}})";
  header.append((8 - header.size() % 8) % 8, ' ');  // the buffer starts 8-byte aligned
  std::vector<std::uint8_t> buffer(16);
  const float values[] = {1, 2, 3, 4};
  std::memcpy(buffer.data(), values, 16);
  EXPECT_EQ(bytes, make_safetensors(header, buffer));
  EXPECT_EQ((bytes.size() - 16) % 8, 0u);
}

TEST(Safetensors, RoundTripEveryDtypeThroughAFile) {
  TempDir dir;
  const auto path = dir / "model.safetensors";
  const NamedTensors tensors = every_dtype();
  const Metadata metadata = {
      {"format", "pt"}, {"epoch", "3"}, {"note", "caf\xc3\xa9 \"quoted\"\n"}};
  embedkit::io::save_safetensors(path, tensors, metadata);

  const auto loaded = embedkit::io::load_safetensors(path);
  ASSERT_EQ(loaded.tensors.size(), tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(loaded.tensors[i].first, tensors[i].first);  // the order is kept
    EXPECT_TRUE(same_bytes(loaded.tensors[i].second, tensors[i].second)) << tensors[i].first;
    EXPECT_TRUE(loaded.tensors[i].second.owns_memory());
  }
  EXPECT_EQ(loaded.metadata, metadata);
  EXPECT_EQ(loaded.tensors[4].second.dim(), 0);
  EXPECT_EQ(loaded.tensors[4].second.item(), 9007199254740992.0);  // as a double, but bits kept
  EXPECT_EQ(loaded.tensors[4].second.data<std::int64_t>()[0], 9007199254740993);

  // The in-memory forms agree with the file.
  const auto bytes = embedkit::io::serialize_safetensors(tensors, metadata);
  EXPECT_EQ(bytes, embedkit_io_test::read_bytes(path));
  const auto parsed = embedkit::io::parse_safetensors(bytes);
  ASSERT_EQ(parsed.tensors.size(), tensors.size());
  EXPECT_TRUE(same_bytes(parsed.tensors[0].second, tensors[0].second));
}

TEST(Safetensors, WritesViewsAndEmptyFiles) {
  float table[6] = {1, 2, 3, 4, 5, 6};
  const NamedTensors views = {{"w", Tensor::from_blob(table, {2, 3}, DType::Float32)}};
  const auto parsed = embedkit::io::parse_safetensors(embedkit::io::serialize_safetensors(views));
  EXPECT_EQ(parsed.tensors[0].second.to_float_vector(), std::vector<float>({1, 2, 3, 4, 5, 6}));

  const auto none = embedkit::io::serialize_safetensors({});
  EXPECT_EQ(none, make_safetensors("{}      "));
  EXPECT_TRUE(embedkit::io::parse_safetensors(none).tensors.empty());
}

TEST(Safetensors, ReaderAcceptsWhatOtherWritersProduce) {
  // Keys in any order, whitespace and escapes, metadata last, tensors listed out of data
  // order, trailing newline: all valid JSON and valid safetensors.
  std::vector<std::uint8_t> buffer(4 + 8);
  const float f = 2.5f;
  const std::int64_t i = -3;
  std::memcpy(buffer.data(), &f, 4);
  std::memcpy(buffer.data() + 4, &i, 8);
  const std::string header =
      "{\n  \"b\\u00e9ta\" : {\"data_offsets\": [4, 12], \"shape\": [], \"dtype\": \"I64\"},\n"
      "  \"alpha\": {\"shape\": [1], \"dtype\": \"F32\", \"data_offsets\": [0, 4]},\n"
      "  \"__metadata__\": {}\n}\n";
  const auto contents = embedkit::io::parse_safetensors(make_safetensors(header, buffer));
  ASSERT_EQ(contents.tensors.size(), 2u);
  EXPECT_EQ(contents.tensors[0].first, "alpha");  // data order, not header order
  EXPECT_EQ(contents.tensors[0].second.to_float_vector(), std::vector<float>({2.5f}));
  EXPECT_EQ(contents.tensors[1].first, "b\xc3\xa9ta");
  EXPECT_EQ(contents.tensors[1].second.to_int64_vector(), std::vector<std::int64_t>({-3}));
  EXPECT_TRUE(contents.metadata.empty());
}

TEST(Safetensors, ZeroByteTensorsTileAnywhere) {
  const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                             R"("z":{"dtype":"F32","shape":[0,5],"data_offsets":[4,4]},)"
                             R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
                             R"("e":{"dtype":"I64","shape":[3,0],"data_offsets":[8,8]}})";
  const auto contents = embedkit::io::parse_safetensors(make_safetensors(header, zeros(8)));
  ASSERT_EQ(contents.tensors.size(), 4u);
  EXPECT_EQ(contents.tensors[1].first, "z");
  EXPECT_EQ(contents.tensors[1].second.shape(), Shape({0, 5}));
  EXPECT_EQ(contents.tensors[3].first, "e");
}

TEST(Safetensors, HeaderOnly) {
  TempDir dir;
  const auto path = dir / "m.safetensors";
  embedkit::io::save_safetensors(path, every_dtype(), {{"k", "v"}});
  const auto header = embedkit::io::read_safetensors_header(path);
  ASSERT_EQ(header.entries.size(), 7u);
  EXPECT_EQ(header.entries[0].name, "embedding.weight");
  EXPECT_EQ(header.entries[0].dtype, DType::Float32);
  EXPECT_EQ(header.entries[0].shape, Shape({3, 2}));
  EXPECT_EQ(header.entries[0].begin, 0u);
  EXPECT_EQ(header.entries[0].end, 24u);
  EXPECT_EQ(header.buffer_offset % 8, 0u);
  EXPECT_EQ(header.metadata.at("k"), "v");
  EXPECT_EQ(embedkit::io::safetensors_dtype_name(DType::BFloat16), "BF16");
}

TEST(Safetensors, FileErrorsNameTheFile) {
  TempDir dir;
  const auto missing = dir / "missing.safetensors";
  std::string m = message_of<IoError>([&] { embedkit::io::load_safetensors(missing); });
  EXPECT_CONTAINS(m, missing.string());
  EXPECT_CONTAINS(m, "cannot open");
  m = message_of<IoError>([&] { embedkit::io::load_safetensors(dir.path()); });
  EXPECT_EQ(m, dir.path().string() + ": is a directory");
  try {
    embedkit::io::load_safetensors(missing);
  } catch (const IoError& e) {
    EXPECT_EQ(e.path(), missing.string());
  }
  // A directory that does not exist cannot take the temporary file.
  m = message_of<IoError>(
      [&] { embedkit::io::save_safetensors(dir / "no/such/dir/x.safetensors", every_dtype()); });
  EXPECT_CONTAINS(m, "no/such/dir/x.safetensors");
}

TEST(Safetensors, LengthPrefixErrors) {
  const std::vector<std::uint8_t> short_file = {1, 0, 0};
  EXPECT_CONTAINS(message_of<IoError>([&] { embedkit::io::parse_safetensors(short_file, "s"); }),
                  "s: the file is 3 bytes long, too short for the 8-byte header length");
  auto huge = make_safetensors("{}");
  huge[4] = 1;  // 2^32 + 2
  EXPECT_CONTAINS(message_of<IoError>([&] { embedkit::io::parse_safetensors(huge, "h"); }),
                  "header length 4294967298 is larger than the limit of 100000000 bytes");
  auto long_header = make_safetensors("{}");
  long_header[0] = 50;
  EXPECT_CONTAINS(message_of<IoError>([&] { embedkit::io::parse_safetensors(long_header, "l"); }),
                  "header length 50 needs a file of at least 58 bytes, but the file has 10");
}

TEST(Safetensors, JsonErrors) {
  EXPECT_CONTAINS(parse_error(""), "the header does not start with '{'");
  EXPECT_CONTAINS(parse_error(" {}"), "the header does not start with '{'");
  EXPECT_CONTAINS(parse_error("[]"), "the header does not start with '{'");
  EXPECT_CONTAINS(parse_error("{"),
                  "t.safetensors: invalid header: expected a string as a tensor name, found the "
                  "end of the header (at byte 1 of the header)");
  EXPECT_CONTAINS(parse_error(R"({"a"})"), "expected ':' after tensor name 'a'");
  EXPECT_CONTAINS(parse_error(R"({"__metadata__":{},})"), "expected a string as a tensor name");
  EXPECT_CONTAINS(parse_error(R"({} x)"), "unexpected text after the header's closing '}'");
  EXPECT_CONTAINS(parse_error(std::string("{}\0", 3)), "unexpected text after");
  EXPECT_CONTAINS(parse_error("{\"a\xff\":1}"), "invalid UTF-8");
  EXPECT_CONTAINS(parse_error(R"({"a":{"dtype":"F32","shape":[01],"data_offsets":[0,4]}})"),
                  "leading zero");
  EXPECT_CONTAINS(parse_error(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})"),
                  "expected a non-negative integer in the shape of tensor 'a', found a negative");
  EXPECT_CONTAINS(parse_error(R"({"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}})"),
                  "fraction or exponent");
  EXPECT_CONTAINS(parse_error(R"({"a":{"dtype":"F32","shape":"1","data_offsets":[0,4]}})"),
                  "expected '[' to open the shape of tensor 'a', found a string");
  EXPECT_CONTAINS(parse_error(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})"),
                  "expected ']' after the two data_offsets of tensor 'a'");
  EXPECT_CONTAINS(parse_error(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})"),
                  "expected ',' after the first data offset of tensor 'a'");
  EXPECT_CONTAINS(parse_error(R"({"a":{"dtype":F32}})"), "expected a string as the dtype");
  EXPECT_CONTAINS(parse_error(R"({"a":[]})"), "expected '{' to open the entry of tensor 'a'");
}

TEST(Safetensors, StructureErrors) {
  const std::string a = R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  EXPECT_CONTAINS(parse_error("{" + a + "," + a + "}", zeros(4)), "tensor name 'a' appears twice");
  EXPECT_CONTAINS(
      parse_error(R"({"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}})"),
      "field 'dtype' of tensor 'a' appears twice");
  EXPECT_CONTAINS(parse_error(R"({"a":{"shape":[1],"data_offsets":[0,4]}})", zeros(4)),
                  "tensor 'a' has no 'dtype' field");
  EXPECT_CONTAINS(parse_error(R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", zeros(4)),
                  "tensor 'a' has no 'shape' field");
  EXPECT_CONTAINS(parse_error(R"({"a":{}})"), "tensor 'a' has no 'dtype' field");
  EXPECT_CONTAINS(parse_error(R"({"a":{"dtype":"F32","shape":[1]}})"),
                  "tensor 'a' has no 'data_offsets' field");
  EXPECT_CONTAINS(
      parse_error(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}})"),
      "tensor 'a' has unknown field 'extra'");
  EXPECT_CONTAINS(parse_error(R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})"),
                  "tensor 'a' has dtype 'F64', which embedkit cannot hold");
  EXPECT_CONTAINS(parse_error(R"({"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}})"),
                  "dtype 'f32'");
  EXPECT_CONTAINS(parse_error(R"({"__metadata__":{"epoch":3}})"),
                  "the __metadata__ value of 'epoch' must be a string, found a number");
  EXPECT_CONTAINS(parse_error(R"({"__metadata__":{"k":"1","k":"2"}})"),
                  "__metadata__ key 'k' appears twice");
  EXPECT_CONTAINS(parse_error(R"({"__metadata__":[]})"), "to open __metadata__");
  // Names from the file are shown safely: control bytes escaped, long names cut.
  EXPECT_CONTAINS(parse_error(R"({"a\u000ab":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})"),
                  "tensor 'a\\x0ab' has dtype 'F64'");
  const std::string long_name(5000, 'n');
  const std::string m = parse_error("{\"" + long_name + "\":{}}");
  EXPECT_CONTAINS(m, "tensor '" + std::string(120, 'n') + "...' has no 'dtype' field");
  EXPECT_LT(m.size(), 400u);
  std::string rank65 = R"({"a":{"dtype":"F32","shape":[)";
  for (int i = 0; i < 65; ++i) rank65 += i ? ",1" : "1";
  rank65 += R"(],"data_offsets":[0,4]}})";
  EXPECT_CONTAINS(parse_error(rank65, zeros(4)), "tensor 'a' has more than 64 dimensions");
}

TEST(Safetensors, LayoutErrors) {
  EXPECT_CONTAINS(
      parse_error(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", zeros(12)),
      "t.safetensors: tensor 'w' has shape [2, 2] and dtype F32, which need 16 "
      "bytes, but its data_offsets [0, 12] span 12");
  EXPECT_CONTAINS(
      parse_error(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", zeros(8)),
      "tensor 'w' has data_offsets [8, 4] that end before they begin");
  EXPECT_CONTAINS(
      parse_error(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})", zeros(10)),
      "tensor 'w' has data_offsets [0, 16] but the byte buffer holds only 10 bytes "
      "(the file is truncated or corrupted)");
  EXPECT_CONTAINS(
      parse_error(R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}})"),
      "too large for any file");
  EXPECT_CONTAINS(
      parse_error(R"({"w":{"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,16]}})"),
      "larger than any tensor can be");
  EXPECT_CONTAINS(parse_error(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                              zeros(8)),
                  "tensor 'b' at data_offsets [4, 8] overlaps tensor 'a' at [0, 8]");
  EXPECT_CONTAINS(parse_error(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                              R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                              zeros(12)),
                  "bytes [4, 8) of the byte buffer belong to no tensor (a hole before tensor 'b'");
  EXPECT_CONTAINS(
      parse_error(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", zeros(8)),
      "bytes [0, 4) of the byte buffer belong to no tensor");
  EXPECT_CONTAINS(
      parse_error(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", zeros(7)),
      "the file has 3 bytes after the last tensor's data");
  EXPECT_CONTAINS(parse_error("{}", zeros(1)), "the file has 1 bytes after the last tensor's data");
}

TEST(Safetensors, WriterRejectsBadInput) {
  const Tensor t = Tensor::zeros({2});
  EXPECT_CONTAINS(message_of<ValueError>([&] {
                    embedkit::io::serialize_safetensors({{"a", t}, {"a", t}});
                  }),
                  "tensor name 'a' is given twice");
  EXPECT_CONTAINS(message_of<ValueError>([&] {
                    embedkit::io::serialize_safetensors({{"__metadata__", t}});
                  }),
                  "'__metadata__' is reserved");
  EXPECT_CONTAINS(message_of<ValueError>([&] {
                    embedkit::io::serialize_safetensors({{"u", {}}});
                  }),
                  "tensor 'u' is undefined");
  EXPECT_CONTAINS(message_of<ValueError>([&] {
                    embedkit::io::serialize_safetensors({{"bad\xff", t}});
                  }),
                  "not valid UTF-8");
  EXPECT_CONTAINS(message_of<ValueError>([&] {
                    embedkit::io::serialize_safetensors({}, {{"k", "\xc0\xaf"}});
                  }),
                  "metadata value of 'k' is not valid UTF-8");

  // A rejected save leaves the previous file alone and no temporary file behind.
  TempDir dir;
  const auto path = dir / "keep.safetensors";
  embedkit::io::save_safetensors(path, {{"a", t}});
  const auto before = embedkit_io_test::read_bytes(path);
  EXPECT_THROW(embedkit::io::save_safetensors(path, {{"a", t}, {"a", t}}), ValueError);
  EXPECT_EQ(embedkit_io_test::read_bytes(path), before);
  EXPECT_EQ(dir.names(), std::vector<std::string>({"keep.safetensors"}));
}

TEST(Safetensors, NamesWithEveryEscapeRoundTrip) {
  std::string name = "ctl";
  for (char c = 1; c < 0x20; ++c) name += c;
  name += "\"\\/\xe2\x82\xac";
  name += std::string(1, '\0');
  const NamedTensors tensors = {{name, Tensor::zeros({1})}};
  const auto parsed = embedkit::io::parse_safetensors(embedkit::io::serialize_safetensors(tensors));
  EXPECT_EQ(parsed.tensors.at(0).first, name);
}

}  // namespace
