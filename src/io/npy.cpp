// NumPy .npy (format 1.0, 2.0 and 3.0) for a float32 C-order 2-D matrix: the magic
// "\x93NUMPY", a version, a header length, a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (V, D), } padded to 64 bytes, the data.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "io/display_name.hpp"
#include "io/vector_format_detail.hpp"

namespace embedkit::io {
namespace {

constexpr std::string_view kMagic("\x93NUMPY", 6);

// A recursive-descent reader of the tiny subset of Python literals numpy writes.
class DictReader {
 public:
  DictReader(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  void expect(char c) {
    skip_space();
    if (pos_ >= text_.size() || text_[pos_] != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::string string_literal() {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      fail("expected a string");
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string s(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  std::string word() {
    skip_space();
    const std::size_t start = pos_;
    while (pos_ < text_.size() && std::isalpha(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }
  std::int64_t integer() {
    skip_space();
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    std::int64_t v = 0;
    if (!detail::parse_count(text_.substr(start, pos_ - start), v)) fail("expected a count");
    return v;
  }
  void end() {
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the header dict");
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw IoError(source_, "npy header: " + what + " at byte " + std::to_string(pos_) + " of " +
                               detail::display_name(text_));
  }

 private:
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n')) ++pos_;
  }
  std::string_view text_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

std::uint32_t read_le(const std::uint8_t* p, int n) {
  std::uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

detail::NpyHeader detail::parse_npy_header(std::span<const std::uint8_t> bytes,
                                           const std::string& source,
                                           std::span<const std::string_view> descrs,
                                           std::string_view descrs_text) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0) {
    throw IoError(source, "not a NumPy .npy file (no \\x93NUMPY magic)");
  }
  const int major = bytes[6];
  if (major < 1 || major > 3) {
    throw IoError(source, "npy format version " + std::to_string(major) + " is not supported");
  }
  const std::size_t len_size = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + len_size) throw IoError(source, "truncated npy header");
  const std::size_t header_len = read_le(bytes.data() + 8, static_cast<int>(len_size));
  if (header_len > bytes.size() - 8 - len_size) {
    throw IoError(source, "truncated npy header (" + std::to_string(header_len) + " bytes said)");
  }
  const std::string_view header(reinterpret_cast<const char*>(bytes.data()) + 8 + len_size,
                                header_len);
  DictReader r(header, source);
  std::string descr;
  bool fortran = true;
  std::vector<std::int64_t> shape;
  int seen = 0;
  r.expect('{');
  while (!r.accept('}')) {
    const std::string key = r.string_literal();
    r.expect(':');
    if (key == "descr") {
      descr = r.string_literal();
      seen |= 1;
    } else if (key == "fortran_order") {
      const std::string b = r.word();
      if (b != "True" && b != "False") r.fail("fortran_order must be True or False");
      fortran = b == "True";
      seen |= 2;
    } else if (key == "shape") {
      r.expect('(');
      while (!r.accept(')')) {
        shape.push_back(r.integer());
        if (!r.accept(',')) {
          r.expect(')');
          break;
        }
      }
      seen |= 4;
    } else {
      r.fail("unexpected key " + detail::display_name(key));
    }
    if (!r.accept(',')) {
      r.expect('}');
      break;
    }
  }
  r.end();
  if (seen != 7) r.fail("the header needs descr, fortran_order and shape");
  if (std::find(descrs.begin(), descrs.end(), descr) == descrs.end()) {
    throw IoError(
        source, "npy dtype " + detail::display_name(descr) + " is not " + std::string(descrs_text));
  }
  if (fortran) throw IoError(source, "npy array is in Fortran order; C order is needed");
  if (shape.size() != 2) {
    throw IoError(source, "npy array has " + std::to_string(shape.size()) +
                              " dimensions; a [V, D] matrix is needed");
  }
  return NpyHeader{std::move(descr), shape[0], shape[1], 8 + len_size + header_len};
}

void detail::check_npy_data_size(const NpyHeader& header, std::size_t file_size,
                                 std::size_t element_size, const std::string& source) {
  const std::size_t available = file_size - header.data_offset;
  // Checked by division so that a lying shape cannot overflow.
  if (header.cols < 1 ||
      header.rows > static_cast<std::int64_t>(available / element_size /
                                              static_cast<std::size_t>(header.cols)) ||
      static_cast<std::size_t>(header.rows * header.cols) * element_size != available) {
    throw IoError(source, "npy shape (" + std::to_string(header.rows) + ", " +
                              std::to_string(header.cols) + ") needs " +
                              (header.cols < 1 ? std::string("a dimension of at least 1")
                                               : "its bytes, the file holds " +
                                                     std::to_string(available) + " data bytes"));
  }
}

Tensor parse_npy(std::span<const std::uint8_t> bytes, const std::string& source) {
  static constexpr std::string_view kFloat32[] = {"<f4"};
  const detail::NpyHeader header =
      detail::parse_npy_header(bytes, source, kFloat32, "little-endian float32 ('<f4')");
  detail::check_npy_data_size(header, bytes.size(), 4, source);
  Tensor t = Tensor::empty({header.rows, header.cols}, DType::Float32);
  if (t.nbytes()) std::memcpy(t.raw_data(), bytes.data() + header.data_offset, t.nbytes());
  return t;
}

std::string serialize_npy(const Tensor& matrix) {
  if (!matrix.defined() || matrix.dtype() != DType::Float32 || matrix.dim() != 2) {
    throw ValueError("npy: the matrix must be a float32 [V, D] tensor");
  }
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                     std::to_string(matrix.size(0)) + ", " + std::to_string(matrix.size(1)) +
                     "), }";
  // numpy pads with spaces and ends with "\n" so that the data starts 64-byte aligned.
  const std::size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string out(kMagic);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>((dict.size() >> 8) & 0xff);
  out += dict;
  out.append(static_cast<const char*>(matrix.raw_data()), matrix.nbytes());
  return out;
}

}  // namespace embedkit::io
