// The metadata convention of every model file (io/model_metadata.hpp): the format mark each
// load checks first, the spelling of each value, and one error per problem naming the file and
// the key.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/utf8.hpp"
#include "io/model_metadata.hpp"
#include "io/test_support.hpp"

namespace {

using embedkit::IoError;
using embedkit::ValueError;
using embedkit::io::Metadata;
using embedkit::io::detail::check_model_format;
using embedkit::io::detail::ModelFormat;
using embedkit::io::detail::ModelMetadataReader;
using embedkit::io::detail::ModelMetadataWriter;
using embedkit_io_test::message_of;

constexpr ModelFormat kWidget{.kind = "widget",
                              .version_key = "widget.version",
                              .version = "3",
                              .kind_key = "embedkit.model",
                              .kind_value = "widget"};
constexpr ModelFormat kVersionOnly{.kind = "gadget", .version_key = "gadget", .version = "1"};
constexpr ModelFormat kOptional{
    .kind = "bundle", .version_key = "bundle.version", .version = "1", .version_optional = true};

std::string check_error(const Metadata& metadata, const ModelFormat& format) {
  return message_of<IoError>([&] { check_model_format("f.safetensors", metadata, format); });
}

TEST(ModelFormat, TheWriterMarksWhatTheCheckAccepts) {
  EXPECT_EQ(ModelMetadataWriter(kWidget).metadata(),
            Metadata({{"embedkit.model", "widget"}, {"widget.version", "3"}}));
  EXPECT_EQ(ModelMetadataWriter(kVersionOnly).metadata(), Metadata({{"gadget", "1"}}));
  for (const ModelFormat& format : {kWidget, kVersionOnly, kOptional}) {
    EXPECT_NO_THROW(check_model_format("f", ModelMetadataWriter(format).metadata(), format));
  }
}

TEST(ModelFormat, AnotherKindOrVersionIsRefusedByName) {
  EXPECT_EQ(check_error({}, kWidget),
            "f.safetensors: not an embedkit widget: metadata 'embedkit.model' is missing");
  EXPECT_EQ(check_error({{"embedkit.model", "text_classifier"}, {"widget.version", "3"}}, kWidget),
            "f.safetensors: not an embedkit widget: metadata 'embedkit.model' is "
            "'text_classifier'");
  EXPECT_EQ(check_error({{"embedkit.model", "widget"}}, kWidget),
            "f.safetensors: not an embedkit widget: metadata 'widget.version' is missing");
  EXPECT_EQ(check_error({{"embedkit.model", "widget"}, {"widget.version", "4"}}, kWidget),
            "f.safetensors: widget layout version '4' is not the one this embedkit reads ('3'); "
            "written by a newer embedkit?");
  EXPECT_EQ(check_error({{"other", "1"}}, kVersionOnly),
            "f.safetensors: not an embedkit gadget: metadata 'gadget' is missing");
  // What the file says is shown escaped: a hostile value cannot garble a terminal.
  EXPECT_EQ(check_error({{"gadget", "1\n\x1b[2J"}}, kVersionOnly),
            "f.safetensors: gadget layout version '1\\x0a\\x1b[2J' is not the one this embedkit "
            "reads ('1'); written by a newer embedkit?");
}

TEST(ModelFormat, AnOptionalVersionMayBeAbsentButNotWrong) {
  EXPECT_NO_THROW(check_model_format("f", {{"anything", "else"}}, kOptional));
  EXPECT_EQ(check_error({{"bundle.version", "2"}}, kOptional),
            "f.safetensors: bundle layout version '2' is not the one this embedkit reads ('1'); "
            "written by a newer embedkit?");
}

ModelMetadataReader read_back(const ModelMetadataWriter& writer) {
  return ModelMetadataReader("m.safetensors", writer.metadata(), kWidget);
}

TEST(ModelMetadata, EveryValueReadsBackAsWritten) {
  ModelMetadataWriter writer(kWidget);
  writer.set_text("name", "caf\xc3\xa9");
  writer.set_int("min", std::numeric_limits<std::int64_t>::min());
  writer.set_int("max", std::numeric_limits<std::int64_t>::max());
  writer.set_uint("seed", std::numeric_limits<std::uint64_t>::max());
  writer.set_number("lr", 0.1);
  writer.set_number("tiny", 5e-324);
  writer.set_number("float", static_cast<double>(3.7f));
  writer.set_flag("yes", true);
  writer.set_flag("no", false);
  std::string every_byte;
  for (int b = 1; b < 256; ++b) every_byte += static_cast<char>(b);
  const std::vector<std::string> anything = {"100%", "", "a\nb", every_byte, std::string(1, '\0')};
  writer.set_escaped_list("escaped", anything);
  writer.set_escaped_list("none", {});
  const std::vector<std::string> ids = {"u1", "caf\xc3\xa9", "%41", "\"q\""};
  writer.set_lines("ids", ids);

  // The spelling of each value (the files' bytes depend on it).
  const Metadata& m = writer.metadata();
  EXPECT_EQ(m.at("min"), "-9223372036854775808");
  EXPECT_EQ(m.at("seed"), "18446744073709551615");
  EXPECT_EQ(m.at("lr"), "0.1");
  EXPECT_EQ(m.at("tiny"), "5e-324");
  EXPECT_EQ(m.at("float"), "3.700000047683716");
  EXPECT_EQ(m.at("yes"), "1");
  EXPECT_EQ(m.at("no"), "0");
  EXPECT_EQ(m.at("ids"), "u1\ncaf\xc3\xa9\n%41\n\"q\"");
  EXPECT_EQ(m.at("none"), "");
  EXPECT_EQ(m.at("escaped").substr(0, 16), "100%25\n\na%0Ab\n%0");
  EXPECT_TRUE(embedkit::is_valid_utf8(m.at("escaped")));

  const ModelMetadataReader r = read_back(writer);
  EXPECT_EQ(r.text("name"), "caf\xc3\xa9");
  EXPECT_EQ(r.int64("min"), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(r.int64("max"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(r.uint64("seed"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(r.number("lr"), 0.1);
  EXPECT_EQ(r.number("tiny"), 5e-324);
  EXPECT_EQ(static_cast<float>(r.number("float")), 3.7f);
  EXPECT_TRUE(r.flag("yes"));
  EXPECT_FALSE(r.flag("no"));
  EXPECT_EQ(r.escaped_list("escaped"), anything);
  EXPECT_EQ(r.escaped_list("none"), std::vector<std::string>{});
  EXPECT_EQ(r.lines("ids"), ids);
  EXPECT_EQ(r.file(), "m.safetensors");
}

TEST(ModelMetadata, ALineWithANewlineIsRefusedBeforeSaving) {
  ModelMetadataWriter writer(kWidget);
  EXPECT_EQ(message_of<ValueError>([&] {
              writer.set_lines("users", {"ok", "two\nlines"});
            }),
            "widget: not saved: metadata 'users' cannot hold 'two\\x0alines': it contains a "
            "newline");
  EXPECT_EQ(writer.metadata().count("users"), 0u);
}

// The loader's error for `key` = `value` read with `get`.
template <class Get>
std::string value_error(const std::string& key, const std::string& value, Get get) {
  Metadata m = ModelMetadataWriter(kWidget).metadata();
  m[key] = value;
  const ModelMetadataReader r("m.safetensors", m, kWidget);
  return message_of<IoError>([&] { get(r); });
}

TEST(ModelMetadata, EachBadValueIsOneErrorNamingTheFileAndTheKey) {
  const ModelMetadataReader empty("m.safetensors", ModelMetadataWriter(kWidget).metadata(),
                                  kWidget);
  EXPECT_EQ(message_of<IoError>([&] { empty.int64("dim"); }),
            "m.safetensors: not an embedkit widget: metadata 'dim' is missing");
  const std::string int64_range = "a whole number from -9223372036854775808 to 9223372036854775807";
  for (const std::string bad : {"", "x", "1.5", "+1", " 1", "1 ", "9223372036854775808"}) {
    EXPECT_EQ(value_error("dim", bad, [](const auto& r) { r.int64("dim"); }),
              "m.safetensors: not an embedkit widget: metadata 'dim' is not " + int64_range +
                  ": '" + bad + "'");
  }
  for (const std::string bad : {"-1", "18446744073709551616", ""}) {
    EXPECT_EQ(value_error("seed", bad, [](const auto& r) { r.uint64("seed"); }),
              "m.safetensors: not an embedkit widget: metadata 'seed' is not a whole number from "
              "0 to 18446744073709551615: '" +
                  bad + "'");
  }
  for (const std::string bad : {"", "abc", "inf", "nan", "-inf", "1e999", "0.1x"}) {
    EXPECT_EQ(value_error("lr", bad, [](const auto& r) { r.number("lr"); }),
              "m.safetensors: not an embedkit widget: metadata 'lr' is not a finite number: '" +
                  bad + "'");
  }
  for (const std::string bad : {"", "2", "true", "01"}) {
    EXPECT_EQ(
        value_error("shuffle", bad, [](const auto& r) { r.flag("shuffle"); }),
        "m.safetensors: not an embedkit widget: metadata 'shuffle' is not 0 or 1: '" + bad + "'");
  }
  EXPECT_EQ(
      value_error("dim", "1\x1b", [](const auto& r) { r.int64("dim"); }),
      "m.safetensors: not an embedkit widget: metadata 'dim' is not " + int64_range + ": '1\\x1b'");
  for (const std::string bad : {"%4g", "%a1", "a%%41"}) {
    EXPECT_EQ(value_error("words", bad, [](const auto& r) { r.escaped_list("words"); }),
              "m.safetensors: not an embedkit widget: metadata 'words' holds a bad %XX escape");
  }
  for (const std::string bad : {"%", "a%4", "ok\n%A"}) {
    EXPECT_EQ(value_error("words", bad, [](const auto& r) { r.escaped_list("words"); }),
              "m.safetensors: not an embedkit widget: metadata 'words' holds a truncated %XX "
              "escape");
  }
  EXPECT_EQ(empty.error("tensor 'w' is missing").what(),
            std::string("m.safetensors: not an embedkit widget: tensor 'w' is missing"));
}

TEST(ModelMetadata, TheReaderChecksTheFormatFirst) {
  EXPECT_EQ(message_of<IoError>([] {
              ModelMetadataReader("m.safetensors", {{"dim", "2"}}, kWidget);
            }),
            "m.safetensors: not an embedkit widget: metadata 'embedkit.model' is missing");
}

}  // namespace
