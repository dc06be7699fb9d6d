// The strict JSON pull parser under the safetensors reader: what RFC 8259 allows is read
// exactly, everything else is a syntax error with an offset.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "embedkit/io/json_string.hpp"
#include "io/json_cursor.hpp"

namespace {

using embedkit::io::detail::is_valid_utf8;
using embedkit::io::detail::JsonCursor;
using embedkit::io::detail::JsonSyntaxError;

std::string read_string(const std::string& text) {
  JsonCursor c(text);
  std::string s = c.read_string("in test");
  EXPECT_TRUE(c.at_end()) << text;
  return s;
}

std::uint64_t read_uint(const std::string& text) {
  JsonCursor c(text);
  const std::uint64_t v = c.read_uint64("in test");
  EXPECT_TRUE(c.at_end()) << text;
  return v;
}

TEST(JsonCursor, StringsAndEscapes) {
  EXPECT_EQ(read_string(R"("")"), "");
  EXPECT_EQ(read_string(R"(  "embedding.weight"  )"), "embedding.weight");
  EXPECT_EQ(read_string(R"("a\"b\\c\/d\b\f\n\r\t")"), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(read_string(R"("\u0041\u00e9\u20AC")"), "A\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(read_string(R"("\ud83d\ude00")"), "\xf0\x9f\x98\x80");  // U+1F600 from a pair
  EXPECT_EQ(read_string(R"("\u0000")"), std::string(1, '\0'));
  EXPECT_EQ(read_string("\"caf\xc3\xa9 \xf0\x9f\x98\x80\""), "caf\xc3\xa9 \xf0\x9f\x98\x80");
}

// The one JSON string writer (embedkit/io/json_string.hpp): what it writes, in both control
// character styles, is pinned, and every string of every byte below 0x80 reads back as itself.
TEST(JsonString, WritesQuotedEscapedText) {
  using embedkit::io::append_json_string;
  using embedkit::io::JsonControlEscapes;
  const std::string text = "a\"b\\c\n\t\x01\x1f\x7f caf\xc3\xa9";
  std::string unicode = "prefix:";
  append_json_string(unicode, text, JsonControlEscapes::AllUnicode);
  EXPECT_EQ(unicode, "prefix:\"a\\\"b\\\\c\\u000a\\u0009\\u0001\\u001f\x7f caf\xc3\xa9\"");
  std::string short_forms;
  append_json_string(short_forms, text, JsonControlEscapes::ShortNewlineAndTab);
  EXPECT_EQ(short_forms, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\x7f caf\xc3\xa9\"");
  std::string empty;
  append_json_string(empty, "", JsonControlEscapes::AllUnicode);
  EXPECT_EQ(empty, "\"\"");

  std::string every_ascii_byte;
  for (int c = 0; c < 0x80; ++c) every_ascii_byte += static_cast<char>(c);
  for (const auto style :
       {JsonControlEscapes::AllUnicode, JsonControlEscapes::ShortNewlineAndTab}) {
    std::string json;
    append_json_string(json, every_ascii_byte, style);
    EXPECT_EQ(read_string(json), every_ascii_byte);
  }
}

TEST(JsonCursor, RejectsBadStrings) {
  for (const std::string& bad : {
           std::string(R"("abc)"),               // unterminated
           std::string("\"a\nb\""),              // raw control character
           std::string(R"("\x")"),               // unknown escape
           std::string(R"("\u12")"),             // short \u
           std::string(R"("\u12G4")"),           // not hex
           std::string(R"("\ud800")"),           // lone high surrogate
           std::string(R"("\ud800\u0041")"),     // high surrogate + non-low
           std::string(R"("\udc00")"),           // lone low surrogate
           std::string("\"\xff\""),              // never valid in UTF-8
           std::string("\"\xc0\xaf\""),          // overlong '/'
           std::string("\"\xed\xa0\x80\""),      // encoded surrogate
           std::string("\"\xf4\x90\x80\x80\""),  // above U+10FFFF
           std::string("\"\xe2\x82\""),          // truncated sequence
           std::string("abc"),                   // not a string
       }) {
    EXPECT_THROW(read_string(bad), JsonSyntaxError) << bad;
  }
}

TEST(JsonCursor, NonNegativeIntegers) {
  EXPECT_EQ(read_uint("0"), 0u);
  EXPECT_EQ(read_uint(" 160 "), 160u);
  EXPECT_EQ(read_uint("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
  for (const char* bad :
       {"-1", "01", "1.0", "1e3", "1E3", "18446744073709551616", "\"1\"", "", "true", "+1"}) {
    EXPECT_THROW(read_uint(bad), JsonSyntaxError) << bad;
  }
}

TEST(JsonCursor, ErrorsCarryTheOffset) {
  JsonCursor c(R"({"a" 1})");
  c.expect('{', "to open");
  c.read_string("as key");
  try {
    c.expect(':', "after key");
    FAIL() << "no error";
  } catch (const JsonSyntaxError& e) {
    EXPECT_EQ(e.offset(), 5u);
    EXPECT_NE(std::string(e.what()).find("expected ':' after key, found a number"),
              std::string::npos)
        << e.what();
  }
}

TEST(JsonCursor, WhitespaceIsOnlyRfc8259Whitespace) {
  JsonCursor ok(" \t\r\n{");
  EXPECT_TRUE(ok.consume('{'));
  JsonCursor form_feed("\f{");
  EXPECT_FALSE(form_feed.consume('{'));
  JsonCursor end("  ");
  EXPECT_TRUE(end.at_end());
  EXPECT_EQ(end.peek(), '\0');
  EXPECT_FALSE(end.consume('\0'));
}

TEST(JsonCursor, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"));
  EXPECT_FALSE(is_valid_utf8("\x80"));
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\x80"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xf0\x80\x80\x80"));  // overlong
  EXPECT_FALSE(is_valid_utf8("\xf5\x80\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("a\xc3"));
}

}  // namespace
