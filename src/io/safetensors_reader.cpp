// Reading safetensors from a file or from memory. The header is parsed and every number in it
// checked against the others and against the real size of the input before any tensor is
// allocated, so a hostile header cannot make the reader allocate more than the input holds or
// read outside it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <set>
#include <system_error>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/io/safetensors.hpp"
#include "io/display_name.hpp"
#include "io/file_reading.hpp"
#include "io/json_cursor.hpp"

namespace embedkit::io {

namespace {

// The reference implementation's limit; real headers are kilobytes to a few megabytes.
constexpr std::uint64_t kMaxHeaderSize = 100'000'000;
// PyTorch tensors have at most 64 dimensions; a longer shape is corruption, and the bound keeps
// a hostile header from growing one shape vector without limit.
constexpr std::size_t kMaxRank = 64;

std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

std::string quote_name(const std::string& name) {
  return detail::display_name(name);
}

// Built by appending: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string&&.
std::string offsets_string(std::uint64_t begin, std::uint64_t end) {
  std::string s("[");
  s += std::to_string(begin);
  s += ", ";
  s += std::to_string(end);
  s += ']';
  return s;
}

// Where the bytes come from: a file (pread) or a caller's buffer.
class ByteSource {
 public:
  explicit ByteSource(std::string name) : name_(std::move(name)) {}
  virtual ~ByteSource() = default;
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  const std::string& name() const { return name_; }
  virtual std::uint64_t size() const = 0;
  // Exactly n bytes at offset; `what` names them in the error when they are not there.
  virtual void read(std::uint64_t offset, void* dst, std::size_t n,
                    const std::string& what) const = 0;

 private:
  std::string name_;
};

class MemorySource final : public ByteSource {
 public:
  MemorySource(std::span<const std::uint8_t> bytes, std::string name)
      : ByteSource(std::move(name)), bytes_(bytes) {}
  std::uint64_t size() const override { return bytes_.size(); }
  void read(std::uint64_t offset, void* dst, std::size_t n,
            const std::string& what) const override {
    if (offset > bytes_.size() || n > bytes_.size() - offset) {
      throw IoError(name(), "the input ends before " + what);
    }
    if (n != 0) std::memcpy(dst, bytes_.data() + offset, n);
  }

 private:
  std::span<const std::uint8_t> bytes_;
};

class FileSource final : public ByteSource {
 public:
  explicit FileSource(const std::filesystem::path& path) : ByteSource(path.string()) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd_ < 0) throw IoError(name(), "cannot open: " + errno_text(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      const int err = errno;
      ::close(fd_);
      throw IoError(name(), "cannot stat: " + errno_text(err));
    }
    if (!S_ISREG(st.st_mode)) {
      // classify_input checked the path; it changed since.
      ::close(fd_);
      throw IoError(name(), "is " + detail::file_type_phrase(st.st_mode) +
                                ", not a regular file (it changed while it was opened)");
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  ~FileSource() override { ::close(fd_); }

  std::uint64_t size() const override { return size_; }
  void read(std::uint64_t offset, void* dst, std::size_t n,
            const std::string& what) const override {
    auto* p = static_cast<char*>(dst);
    while (n > 0) {
      const std::size_t chunk = std::min<std::size_t>(n, std::size_t{1} << 30);
      const ssize_t got = ::pread(fd_, p, chunk, static_cast<off_t>(offset));
      if (got < 0) {
        if (errno == EINTR) continue;
        throw IoError(name(), "cannot read " + what + ": " + errno_text(errno));
      }
      if (got == 0) {
        // The size was checked against the header, so the file shrank while it was read.
        throw IoError(name(), "the file ended at byte " + std::to_string(offset) +
                                  " while reading " + what + " (was it truncated meanwhile?)");
      }
      p += got;
      offset += static_cast<std::uint64_t>(got);
      n -= static_cast<std::size_t>(got);
    }
  }

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

struct HeaderParser {
  const ByteSource& source;
  detail::JsonCursor cursor;
  bool allow_u8 = false;  // raw bytes ("U8"), for the packed rows of a mapped quantized table

  [[noreturn]] void fail(const std::string& what) const { throw IoError(source.name(), what); }

  static bool dtype_from_name(const std::string& name, DType& out) {
    static constexpr DType kAll[] = {DType::Float32, DType::Float16, DType::BFloat16, DType::Int32,
                                     DType::Int64};
    for (const DType t : kAll) {
      if (name == safetensors_dtype_name(t)) {
        out = t;
        return true;
      }
    }
    return false;
  }

  void parse_metadata(Metadata& metadata) {
    cursor.expect('{', "to open __metadata__ (it must be an object of strings)");
    if (cursor.consume('}')) return;
    do {
      std::string key = cursor.read_string("as a __metadata__ key");
      cursor.expect(':', "after __metadata__ key " + quote_name(key));
      if (cursor.peek() != '"') {
        cursor.fail("the __metadata__ value of " + quote_name(key) + " must be a string, found " +
                    std::string(cursor.describe_next()));
      }
      std::string value = cursor.read_string("as a __metadata__ value");
      if (metadata.count(key) != 0)
        cursor.fail("__metadata__ key " + quote_name(key) + " appears twice");
      metadata.emplace(std::move(key), std::move(value));
    } while (cursor.consume(','));
    cursor.expect('}', "to close __metadata__ (or ',' between its entries)");
  }

  SafetensorsEntry parse_entry(std::string name) {
    const std::string of = "of tensor " + quote_name(name);
    SafetensorsEntry entry;
    entry.name = std::move(name);
    bool has_dtype = false, has_shape = false, has_offsets = false;
    cursor.expect('{', "to open the entry " + of);
    if (!cursor.consume('}')) {
      do {
        const std::string field = cursor.read_string("as a field name " + of);
        cursor.expect(':', "after field " + quote_name(field) + " " + of);
        if (field == "dtype") {
          if (has_dtype) cursor.fail("field 'dtype' " + of + " appears twice");
          has_dtype = true;
          const std::string dtype = cursor.read_string("as the dtype " + of);
          if (allow_u8 && dtype == "U8") {
            entry.u8 = true;
          } else if (!dtype_from_name(dtype, entry.dtype)) {
            fail("tensor " + quote_name(entry.name) + " has dtype " + quote_name(dtype) +
                 ", which embedkit cannot hold (it holds F32, F16, BF16, I32 and I64)");
          }
        } else if (field == "shape") {
          if (has_shape) cursor.fail("field 'shape' " + of + " appears twice");
          has_shape = true;
          cursor.expect('[', "to open the shape " + of);
          if (!cursor.consume(']')) {
            do {
              if (entry.shape.size() == kMaxRank) {
                fail("tensor " + quote_name(entry.name) + " has more than " +
                     std::to_string(kMaxRank) + " dimensions");
              }
              const std::uint64_t extent = cursor.read_uint64("in the shape " + of);
              if (extent > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                fail("tensor " + quote_name(entry.name) + " has extent " + std::to_string(extent) +
                     ", larger than any tensor can be");
              }
              entry.shape.push_back(static_cast<std::int64_t>(extent));
            } while (cursor.consume(','));
            cursor.expect(']', "to close the shape " + of + " (or ',' between extents)");
          }
        } else if (field == "data_offsets") {
          if (has_offsets) cursor.fail("field 'data_offsets' " + of + " appears twice");
          has_offsets = true;
          cursor.expect('[', "to open data_offsets " + of);
          entry.begin = cursor.read_uint64("as the first data offset " + of);
          cursor.expect(',', "after the first data offset " + of);
          entry.end = cursor.read_uint64("as the second data offset " + of);
          cursor.expect(']', "after the two data_offsets " + of);
        } else {
          fail("tensor " + quote_name(entry.name) + " has unknown field " + quote_name(field) +
               " (an entry holds exactly dtype, shape and data_offsets)");
        }
      } while (cursor.consume(','));
      cursor.expect('}', "to close the entry " + of + " (or ',' between its fields)");
    }
    if (!has_dtype) fail("tensor " + quote_name(entry.name) + " has no 'dtype' field");
    if (!has_shape) fail("tensor " + quote_name(entry.name) + " has no 'shape' field");
    if (!has_offsets) fail("tensor " + quote_name(entry.name) + " has no 'data_offsets' field");
    return entry;
  }

  void parse(SafetensorsHeader& header, std::string_view text) {
    if (text.empty() || text.front() != '{') {
      fail("the header does not start with '{' (corrupted, or not a safetensors file)");
    }
    std::set<std::string> seen;
    cursor.expect('{', "to open the header");
    if (!cursor.consume('}')) {
      do {
        std::string key = cursor.read_string("as a tensor name");
        cursor.expect(':', "after tensor name " + quote_name(key));
        if (!seen.insert(key).second)
          cursor.fail("tensor name " + quote_name(key) + " appears twice");
        if (key == "__metadata__") {
          parse_metadata(header.metadata);
        } else {
          header.entries.push_back(parse_entry(std::move(key)));
        }
      } while (cursor.consume(','));
      cursor.expect('}', "to close the header (or ',' between its entries)");
    }
    if (!cursor.at_end()) cursor.fail("unexpected text after the header's closing '}'");
  }
};

// The byte count of a shape of a dtype, or false when it does not fit in 64 bits.
bool shape_bytes(const Shape& shape, std::uint64_t element_size, std::uint64_t& out) {
  std::uint64_t n = element_size;
  for (const std::int64_t extent : shape) {
    const auto e = static_cast<std::uint64_t>(extent);
    if (e != 0 && n > std::numeric_limits<std::uint64_t>::max() / e) return false;
    n *= e;
  }
  out = n;
  return true;
}

// Checks each entry against its own numbers, then all of them against the buffer they must
// tile exactly; sorts the entries into buffer order.
void check_layout(const ByteSource& source, SafetensorsHeader& header) {
  const auto fail = [&](const std::string& what) { throw IoError(source.name(), what); };
  const std::uint64_t buffer_size = source.size() - header.buffer_offset;
  for (const SafetensorsEntry& e : header.entries) {
    const std::string name = quote_name(e.name);
    if (e.end < e.begin) {
      fail("tensor " + name + " has data_offsets " + offsets_string(e.begin, e.end) +
           " that end before they begin");
    }
    std::uint64_t needed = 0;
    if (!shape_bytes(e.shape, e.u8 ? 1 : dtype_size(e.dtype), needed)) {
      fail("tensor " + name + " has shape " + shape_string(e.shape) + ", too large for any file");
    }
    if (needed != e.end - e.begin) {
      fail("tensor " + name + " has shape " + shape_string(e.shape) + " and dtype " +
           (e.u8 ? std::string("U8") : std::string(safetensors_dtype_name(e.dtype))) +
           ", which need " + std::to_string(needed) + " bytes, but its data_offsets " +
           offsets_string(e.begin, e.end) + " span " + std::to_string(e.end - e.begin));
    }
    if (e.end > buffer_size) {
      fail("tensor " + name + " has data_offsets " + offsets_string(e.begin, e.end) +
           " but the byte buffer holds only " + std::to_string(buffer_size) +
           " bytes (the file is truncated or corrupted)");
    }
  }
  // Zero-byte tensors sort before a tensor starting at the same offset, so that they tile.
  std::stable_sort(header.entries.begin(), header.entries.end(),
                   [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
                     return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
                   });
  std::uint64_t covered = 0;
  const SafetensorsEntry* previous = nullptr;
  for (const SafetensorsEntry& e : header.entries) {
    if (e.begin < covered) {
      fail("tensor " + quote_name(e.name) + " at data_offsets " + offsets_string(e.begin, e.end) +
           " overlaps tensor " + quote_name(previous->name) + " at " +
           offsets_string(previous->begin, previous->end));
    }
    if (e.begin > covered) {
      fail("bytes [" + std::to_string(covered) + ", " + std::to_string(e.begin) +
           ") of the byte buffer belong to no tensor (a hole before tensor " + quote_name(e.name) +
           "; the format forbids holes)");
    }
    covered = e.end;
    previous = &e;
  }
  if (covered != buffer_size) {
    fail("the file has " + std::to_string(buffer_size - covered) +
         " bytes after the last tensor's data (the format forbids trailing bytes)");
  }
}

SafetensorsHeader parse_header(const ByteSource& source, bool allow_u8 = false) {
  const std::uint64_t size = source.size();
  if (size < 8) {
    throw IoError(source.name(), "the file is " + std::to_string(size) +
                                     " bytes long, too short for the 8-byte header length "
                                     "(truncated, or not a safetensors file)");
  }
  std::uint8_t prefix[8];
  source.read(0, prefix, sizeof prefix, "the header length");
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | prefix[i];
  if (length > kMaxHeaderSize) {
    throw IoError(source.name(), "header length " + std::to_string(length) +
                                     " is larger than the limit of " +
                                     std::to_string(kMaxHeaderSize) +
                                     " bytes (corrupted, or not a safetensors file)");
  }
  if (length > size - 8) {
    throw IoError(source.name(), "header length " + std::to_string(length) +
                                     " needs a file of at least " + std::to_string(8 + length) +
                                     " bytes, but the file has " + std::to_string(size) +
                                     " (truncated, or not a safetensors file)");
  }
  std::string text(static_cast<std::size_t>(length), '\0');
  source.read(8, text.data(), text.size(), "the header");

  SafetensorsHeader header;
  header.buffer_offset = 8 + length;
  HeaderParser parser{source, detail::JsonCursor(text), allow_u8};
  try {
    parser.parse(header, text);
  } catch (const detail::JsonSyntaxError& e) {
    throw IoError(source.name(), "invalid header: " + std::string(e.what()) + " (at byte " +
                                     std::to_string(e.offset()) + " of the header)");
  }
  check_layout(source, header);
  return header;
}

SafetensorsContents read_contents(const ByteSource& source) {
  SafetensorsHeader header = parse_header(source);
  SafetensorsContents contents;
  contents.tensors.reserve(header.entries.size());
  for (SafetensorsEntry& e : header.entries) {
    // Allocation is bounded: the layout check tied every byte count to the input's real size.
    Tensor t = Tensor::empty(e.shape, e.dtype);
    source.read(header.buffer_offset + e.begin, t.raw_data(), t.nbytes(),
                "the data of tensor " + quote_name(e.name));
    contents.tensors.emplace_back(std::move(e.name), std::move(t));
  }
  contents.metadata = std::move(header.metadata);
  return contents;
}

}  // namespace

SafetensorsContents load_safetensors(const std::filesystem::path& path) {
  // A pipe cannot be read by offset: it is read whole first (with file_reading.hpp's limit).
  if (detail::classify_input(path) == detail::InputKind::Stream) {
    const std::vector<std::uint8_t> bytes = detail::read_file_bytes(path);
    return read_contents(MemorySource(bytes, path.string()));
  }
  const FileSource source(path);
  return read_contents(source);
}

SafetensorsHeader read_safetensors_header(const std::filesystem::path& path) {
  if (detail::classify_input(path) == detail::InputKind::Stream) {
    const std::vector<std::uint8_t> bytes = detail::read_file_bytes(path);
    return parse_header(MemorySource(bytes, path.string()));
  }
  const FileSource source(path);
  return parse_header(source);
}

SafetensorsHeader parse_safetensors_header(std::span<const std::uint8_t> bytes,
                                           const std::string& source_name, bool allow_u8) {
  const MemorySource source(bytes, source_name);
  return parse_header(source, allow_u8);
}

SafetensorsContents parse_safetensors(std::span<const std::uint8_t> bytes,
                                      const std::string& source_name) {
  const MemorySource source(bytes, source_name);
  return read_contents(source);
}

}  // namespace embedkit::io
