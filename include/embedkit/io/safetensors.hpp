// The safetensors format (Hugging Face): named tensors with no code in the file, readable by
// PyTorch (safetensors.torch), JAX, NumPy and Rust, so a table trained in PyTorch loads into
// embedkit and back.
//
// Layout: an 8-byte little-endian header length N, N bytes of JSON header, then the byte
// buffer. The header maps each tensor name (a PyTorch state_dict name such as
// "embedding.weight") to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to
// the buffer), and may hold "__metadata__": {string: string}.
//
// The reader treats every file as hostile and checks everything before it allocates for or
// reads a tensor; any problem is an IoError that starts with the file's path and names what
// is wrong (which tensor, expected vs found):
//   - the header length fits the file and is at most 100,000,000 bytes (the reference
//     implementation's limit); the header starts with '{' and is strict JSON in UTF-8 (trailing
//     whitespace allowed, as the writer pads with spaces), with no duplicate keys;
//   - each entry has exactly the keys dtype, shape and data_offsets; the dtype is one embedkit
//     holds (F32, F16, BF16, I32, I64; others are named in the error); the shape is at most
//     64 non-negative integers whose product times the dtype size equals end - begin;
//   - the tensors tile the buffer exactly, as the specification requires: no overlap, no hole,
//     and nothing after the last tensor (so no trailing garbage and no polyglot files);
//   - "__metadata__" holds only string values.
// Loaded tensors come back in the order of their data in the file; embedkit's writer stores
// them in the order given, so a save/load round trip keeps the order.
//
// The writer stores tensors in the order given, contiguously, after a header padded with
// spaces to a multiple of 8 bytes (as the reference writer does). save_safetensors replaces
// the file atomically (see atomic_file.hpp): a crash or kill leaves the old file or the new one.
//
// Data is little-endian; embedkit supports little-endian hosts only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "embedkit/core/named_tensors.hpp"
#include "embedkit/core/tensor.hpp"

namespace embedkit::io {

// The "__metadata__" strings.
using Metadata = std::map<std::string, std::string>;

// The dtype's name in safetensors headers ("F32", "F16", "BF16", "I32", "I64").
std::string_view safetensors_dtype_name(DType dtype);

// One tensor as the header describes it.
struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::Float32;
  Shape shape;
  std::uint64_t begin = 0;  // data_offsets, relative to the byte buffer
  std::uint64_t end = 0;
  // Raw bytes (dtype "U8"; `dtype` is then meaningless): only parse_safetensors_header with
  // allow_u8 gives such an entry (the packed rows of a quantized table, io/mapped_table.hpp).
  bool u8 = false;
};

// A validated header: everything but the tensors' bytes.
struct SafetensorsHeader {
  std::vector<SafetensorsEntry> entries;  // in the order of their data in the file
  Metadata metadata;
  std::uint64_t buffer_offset = 0;  // where the byte buffer starts in the file: 8 + N
};

struct SafetensorsContents {
  NamedTensors tensors;  // owned tensors, in the order of their data in the file
  Metadata metadata;
};

// Writes the tensors (contiguous, any of embedkit's dtypes, 0-dim and empty included) and the
// metadata, replacing `path` atomically. Throws ValueError for an undefined tensor, a name
// given twice, the reserved name "__metadata__" or a name or metadata string that is not valid
// UTF-8; IoError when the file cannot be written (the previous file is then left as it was).
void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const Metadata& metadata = {});

// Reads and validates the whole file; throws IoError (see above) on any problem.
SafetensorsContents load_safetensors(const std::filesystem::path& path);

// Reads and validates the header (and that the file is as long as the header says) without
// reading tensor data.
SafetensorsHeader read_safetensors_header(const std::filesystem::path& path);

// The same format in memory, for callers with their own storage (and for fuzzing):
// the exact bytes save_safetensors writes, and a reader whose errors name `source_name`.
std::vector<std::uint8_t> serialize_safetensors(const NamedTensors& tensors,
                                                const Metadata& metadata = {});
SafetensorsContents parse_safetensors(std::span<const std::uint8_t> bytes,
                                      const std::string& source_name = "<memory>");
// The header of the file whose bytes are `bytes` (a mapped file: only the header is read), with
// read_safetensors_header's checks. With `allow_u8`, "U8" entries are accepted (entry.u8).
SafetensorsHeader parse_safetensors_header(std::span<const std::uint8_t> bytes,
                                           const std::string& source_name = "<memory>",
                                           bool allow_u8 = false);

}  // namespace embedkit::io
