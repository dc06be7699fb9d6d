// Writing safetensors: the header is built and checked first, then the tensors' bytes are
// streamed straight from their storage (no copy of a large table in memory).
#include <array>
#include <bit>
#include <cstring>
#include <set>

#include "embedkit/core/error.hpp"
#include "embedkit/io/atomic_file.hpp"
#include "embedkit/io/json_string.hpp"
#include "embedkit/io/safetensors.hpp"
#include "io/json_cursor.hpp"

namespace embedkit::io {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian data; embedkit supports little-endian hosts");

namespace {

// The buffer starts at a multiple of this, so 8-byte elements of the first tensor are aligned
// when the file is mapped (the reference writer pads the same way).
constexpr std::size_t kHeaderAlignment = 8;

void check_utf8(std::string_view s, const std::string& what) {
  if (!detail::is_valid_utf8(s)) throw ValueError("safetensors: " + what + " is not valid UTF-8");
}

// The padded header text; checks every argument first.
std::string build_header(const NamedTensors& tensors, const Metadata& metadata) {
  std::set<std::string_view> names;
  for (const auto& [name, tensor] : tensors) {
    if (!tensor.defined()) {
      throw ValueError("safetensors: tensor '" + name + "' is undefined (no storage to write)");
    }
    if (name == "__metadata__") {
      throw ValueError("safetensors: '__metadata__' is reserved and cannot name a tensor");
    }
    check_utf8(name, "a tensor name");
    if (!names.insert(name).second) {
      throw ValueError("safetensors: tensor name '" + name + "' is given twice");
    }
  }
  for (const auto& [key, value] : metadata) {
    check_utf8(key, "metadata key");
    check_utf8(value, "the metadata value of '" + key + "'");
  }

  std::string header = "{";
  bool first = true;
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (const auto& [key, value] : metadata) {
      if (!first) header += ',';
      first = false;
      append_json_string(header, key, JsonControlEscapes::AllUnicode);
      header += ':';
      append_json_string(header, value, JsonControlEscapes::AllUnicode);
    }
    header += '}';
    first = false;
  }
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (!first) header += ',';
    first = false;
    append_json_string(header, name, JsonControlEscapes::AllUnicode);
    header += ":{\"dtype\":\"";
    header += safetensors_dtype_name(tensor.dtype());
    header += "\",\"shape\":[";
    for (std::size_t d = 0; d < tensor.shape().size(); ++d) {
      if (d) header += ',';
      header += std::to_string(tensor.shape()[d]);
    }
    const std::uint64_t end = offset + tensor.nbytes();
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(end) + "]}";
    offset = end;
  }
  header += '}';
  header.append((kHeaderAlignment - header.size() % kHeaderAlignment) % kHeaderAlignment, ' ');
  return header;
}

std::array<std::uint8_t, 8> length_prefix(std::uint64_t n) {
  std::array<std::uint8_t, 8> bytes{};
  for (std::size_t i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(n >> (8 * i));
  return bytes;
}

}  // namespace

std::string_view safetensors_dtype_name(DType dtype) {
  switch (dtype) {
    case DType::Float32:
      return "F32";
    case DType::Float16:
      return "F16";
    case DType::BFloat16:
      return "BF16";
    case DType::Int32:
      return "I32";
    case DType::Int64:
      return "I64";
  }
  return "?";
}

void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const Metadata& metadata) {
  const std::string header = build_header(tensors, metadata);
  AtomicFile file(path);
  const auto prefix = length_prefix(header.size());
  file.write(prefix.data(), prefix.size());
  file.write(header.data(), header.size());
  for (const auto& [name, tensor] : tensors) file.write(tensor.raw_data(), tensor.nbytes());
  file.commit();
}

std::vector<std::uint8_t> serialize_safetensors(const NamedTensors& tensors,
                                                const Metadata& metadata) {
  const std::string header = build_header(tensors, metadata);
  std::size_t total = 8 + header.size();
  for (const auto& entry : tensors) total += entry.second.nbytes();
  std::vector<std::uint8_t> out;
  out.reserve(total);
  const auto prefix = length_prefix(header.size());
  out.insert(out.end(), prefix.begin(), prefix.end());
  out.insert(out.end(), header.begin(), header.end());
  for (const auto& [name, tensor] : tensors) {
    const auto* p = static_cast<const std::uint8_t*>(tensor.raw_data());
    out.insert(out.end(), p, p + tensor.nbytes());
  }
  return out;
}

}  // namespace embedkit::io
