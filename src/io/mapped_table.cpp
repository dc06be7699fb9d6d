#include "embedkit/io/mapped_table.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/io/atomic_file.hpp"
#include "embedkit/io/json_string.hpp"
#include "embedkit/io/safetensors.hpp"
#include "io/directory_lock.hpp"
#include "io/file_reading.hpp"
#include "io/pair_verification.hpp"
#include "io/vector_format_detail.hpp"
#include "io/word_index_store.hpp"

namespace embedkit::io {
namespace {

std::span<const std::uint8_t> bytes_of(const MappedFile& file) {
  return {file.data(), static_cast<std::size_t>(file.size())};
}

// The mapped bytes at `offset` as a tensor owned by the mapping; refused when the data is not
// aligned to its element size (a table is never silently copied: see mapped_table.hpp).
Tensor tensor_over(const std::shared_ptr<const MappedFile>& file, std::uint64_t offset,
                   const Shape& shape, DType dtype, const std::string& what) {
  if (offset % dtype_size(dtype) != 0) {
    throw IoError(file->path(), what + " starts at byte " + std::to_string(offset) +
                                    " of the file, not a multiple of its element size (" +
                                    std::to_string(dtype_size(dtype)) +
                                    "): it cannot be mapped without a copy; store it aligned "
                                    "(first in the file, or after tensors whose sizes are "
                                    "multiples of " +
                                    std::to_string(dtype_size(dtype)) +
                                    " bytes), or load it (load_safetensors)");
  }
  const std::uint8_t* data = shape_numel(shape) == 0 ? nullptr : file->data() + offset;
  // The mapping is PROT_READ in ReadOnly mode; the read-only mark keeps embedkit from writing
  // through the non-const pointer from_blob takes.
  Tensor t = Tensor::from_blob(const_cast<std::uint8_t*>(data), shape, dtype, file);
  return file->mode() == MapMode::ReadOnly ? t.as_read_only() : t;
}

std::shared_ptr<const MappedFile> open_file(const std::filesystem::path& path,
                                            const MapOptions& options, MapAdvice default_advice) {
  return MappedFile::open(path, options.mode, options.advice.value_or(default_advice));
}

// The words of a mapped matrix's side vocabulary, checked against the matrix file's identity as
// far as options ask (see MapOptions::verify_pair_checksum, remember_pair_verification and
// remember_word_index), and what the open needs to store their index afterwards.
struct SideWords {
  KeyIndex words;
  bool store = false;  // the index may be stored (or was taken from the store)
  detail::WordIndexOwner owner;
  std::vector<float> stored_norms;
};

SideWords side_words(const MappedFile& matrix, const std::vector<std::uint8_t>& bytes,
                     const struct stat& vocabulary_stat, bool storable, const MapOptions& options,
                     WordVectorsMapReport& report) {
  const std::filesystem::path vocab_path = vocabulary_path_for(matrix.path());
  const std::string vocab = vocab_path.string();
  const detail::VocabularyLines lines = detail::split_vocabulary(bytes, vocab);
  const std::optional<MatrixFileIdentity>& pair = lines.pair;
  const bool remember = options.verify_pair_checksum && options.remember_pair_verification;
  SideWords out;
  out.store = storable && pair && remember && options.remember_word_index &&
              options.mode == MapMode::ReadOnly && S_ISREG(vocabulary_stat.st_mode);
  if (out.store) {
    out.owner = {detail::stamp_of(vocabulary_stat), detail::vocabulary_xxh64(bytes), matrix.stamp(),
                 *pair};
    // The stored index of exactly these files, taken back when its table is consistent with
    // the words; else the words are read in full below, as without the store.
    std::optional<detail::StoredWordIndex> stored =
        detail::load_word_index(detail::word_index_path(vocab_path), out.owner);
    if (stored) {
      std::vector<std::string> words = detail::checked_vocabulary_words(lines.words);
      if (static_cast<std::int64_t>(words.size()) == stored->words) {
        try {
          out.words = KeyIndex::from_table(std::move(words), stored->slots, stored->file);
          out.stored_norms.assign(stored->inverse_norms.begin(), stored->inverse_norms.end());
          report.index_remembered = true;
        } catch (const ValueError&) {
          out.words = KeyIndex();
        }
      }
    }
  }
  if (!report.index_remembered) out.words = detail::index_vocabulary_words(lines.words, vocab);
  if (!pair) return out;
  const std::filesystem::path record = detail::pair_record_path(vocab_path);
  MatrixFileIdentity actual{matrix.size(), pair->xxh64};
  report.pair_check = PairCheck::Size;
  if (options.verify_pair_checksum) {
    if (remember && actual.bytes == pair->bytes &&
        detail::pair_recorded(record, matrix.stamp(), *pair)) {
      report.pair_check = PairCheck::Remembered;
    } else {
      actual = identify_matrix_file(bytes_of(matrix));
      report.pair_check = PairCheck::Checksum;
    }
  }
  if (actual != *pair) {
    throw IoError(vocab,
                  "was written with another matrix file (its pair line names " +
                      describe_matrix_file_identity(*pair) + "; " + matrix.path() + " has " +
                      (options.verify_pair_checksum ? describe_matrix_file_identity(actual)
                                                    : std::to_string(actual.bytes) + " bytes") +
                      "): the two files are not one save; save them again. If you "
                      "changed the matrix yourself, delete the vocabulary's last line "
                      "(the pair line)");
  }
  if (remember && report.pair_check == PairCheck::Checksum) {
    report.recorded = detail::record_pair(record, matrix.path(), matrix.stamp(), *pair);
  }
  return out;
}

Tensor npy_tensor(const std::shared_ptr<const MappedFile>& file) {
  static constexpr std::string_view kDescrs[] = {"<f4", "<f2"};
  const detail::NpyHeader header = detail::parse_npy_header(
      bytes_of(*file), file->path(), kDescrs,
      "little-endian float32 ('<f4') or float16 ('<f2'), which can be mapped");
  const DType dtype = header.descr == "<f4" ? DType::Float32 : DType::Float16;
  detail::check_npy_data_size(header, static_cast<std::size_t>(file->size()), dtype_size(dtype),
                              file->path());
  return tensor_over(file, header.data_offset, {header.rows, header.cols}, dtype, "the .npy data");
}

std::string tensor_names(const SafetensorsHeader& header) {
  if (header.entries.empty()) return "none";
  std::string names;
  for (const SafetensorsEntry& e : header.entries) {
    if (!names.empty()) names += ", ";
    names += "'" + e.name + "'";
  }
  return names;
}

const SafetensorsEntry& find_entry(const SafetensorsHeader& header, const std::string& name,
                                   const std::string& path) {
  for (const SafetensorsEntry& e : header.entries) {
    if (e.name == name) return e;
  }
  throw IoError(path, "no tensor named '" + name + "' (it holds " + tensor_names(header) + ")");
}

Tensor safetensors_tensor(const std::shared_ptr<const MappedFile>& file,
                          const SafetensorsHeader& header, const std::string& name) {
  const SafetensorsEntry& e = find_entry(header, name, file->path());
  if (e.u8) throw IoError(file->path(), "tensor '" + name + "' holds raw bytes (U8)");
  return tensor_over(file, header.buffer_offset + e.begin, e.shape, e.dtype,
                     "tensor '" + name + "'");
}

VectorFormat mappable_format(const std::filesystem::path& path,
                             std::optional<VectorFormat> format) {
  const std::optional<VectorFormat> f = format ? format : guess_vector_format(path);
  if (!f) {
    throw ValueError(path.string() +
                     ": cannot tell the vector format from the extension (.npy, .safetensors)");
  }
  if (*f != VectorFormat::Npy && *f != VectorFormat::Safetensors) {
    throw ValueError(path.string() + ": " + std::string(vector_format_name(*f)) +
                     " vectors cannot be mapped (only npy and safetensors store the matrix as "
                     "it is in memory); convert them (embedkit convert) or load them");
  }
  return *f;
}

std::optional<QuantizedFormat> quantized_format_named(std::string_view name) {
  for (const QuantizedFormat f :
       {QuantizedFormat::Int8, QuantizedFormat::Int4, QuantizedFormat::Int2}) {
    if (name == quantized_format_name(f)) return f;
  }
  return std::nullopt;
}

}  // namespace

Tensor map_npy(const std::filesystem::path& path, const MapOptions& options) {
  return npy_tensor(open_file(path, options, kTableMapAdvice));
}

Tensor map_safetensors(const std::filesystem::path& path, const std::string& name,
                       const MapOptions& options) {
  const std::shared_ptr<const MappedFile> file = open_file(path, options, kTableMapAdvice);
  return safetensors_tensor(file, parse_safetensors_header(bytes_of(*file), file->path()), name);
}

namespace {

// What map_word_vectors and map_indexed_word_vectors map: the words of an .npy's side
// vocabulary stay in the index that checked them; a safetensors file's come as a list.
struct MappedWords {
  KeyIndex index;
  std::vector<std::string> list;
  bool indexed = false;
  Tensor matrix;
  std::vector<float> inverse_norms;  // known for an .npy pair's stored (or storing) index
};

MappedWords map_words(const std::filesystem::path& path, std::optional<VectorFormat> format,
                      const MapOptions& options, WordVectorsMapReport* report) {
  WordVectorsMapReport unused;
  WordVectorsMapReport& said = report != nullptr ? *report : unused;
  said = {};
  const VectorFormat f = mappable_format(path, format);
  // The matrix and its side vocabulary are opened under the directory's shared lock, so an
  // embedkit save of the pair is seen whole or not at all (as load_word_vectors does).
  std::shared_ptr<const MappedFile> file;
  std::vector<std::uint8_t> vocabulary_bytes;
  struct stat vocabulary_stat {};
  SafetensorsHeader header;
  bool side = true;
  {
    const detail::DirectoryLock lock(detail::directory_of(path),
                                     detail::DirectoryLock::Mode::Shared);
    file = open_file(path, options, kWordVectorsMapAdvice);
    if (f == VectorFormat::Safetensors) {
      header = parse_safetensors_header(bytes_of(*file), file->path());
      side = header.metadata.count("vocabulary") == 0;
    }
    if (side) {
      vocabulary_bytes = detail::read_file_bytes(vocabulary_path_for(path),
                                                 detail::default_stream_limit(), &vocabulary_stat);
    }
  }
  SideWords side_vocabulary;
  if (side) {
    side_vocabulary =
        side_words(*file, vocabulary_bytes, vocabulary_stat, f == VectorFormat::Npy, options, said);
  }
  KeyIndex& words = side_vocabulary.words;
  MappedWords out;
  if (f == VectorFormat::Npy) {
    Tensor matrix = npy_tensor(file);
    if (matrix.dtype() != DType::Float32) {
      throw IoError(file->path(), "word vectors must be float32 ('<f4'), found float16");
    }
    if (words.size() != matrix.size(0)) {
      throw IoError(vocabulary_path_for(path).string(),
                    std::to_string(words.size()) + " words but " + file->path() + " has " +
                        std::to_string(matrix.size(0)) + " rows");
    }
    if (side_vocabulary.store) {
      // The open went through: the norms of a stored index are this verified matrix's; an index
      // read in full is stored now (where it can be), its norms computed for it and handed on.
      if (said.index_remembered) {
        out.inverse_norms = std::move(side_vocabulary.stored_norms);
        said.norms_remembered = !out.inverse_norms.empty();
      } else {
        const std::filesystem::path vocab_path = vocabulary_path_for(path);
        said.index_recorded =
            detail::record_word_index(detail::word_index_path(vocab_path), vocab_path, file->path(),
                                      side_vocabulary.owner, words, matrix.data<float>(),
                                      matrix.size(1), options.word_index_norms, out.inverse_norms);
      }
    }
    out.index = std::move(words);
    out.indexed = true;
    out.matrix = std::move(matrix);
    return out;
  }
  SafetensorsContents contents;
  contents.tensors.emplace_back("weight", safetensors_tensor(file, header, "weight"));
  contents.metadata = std::move(header.metadata);
  std::vector<std::string> side_list = std::move(words).take_keys();
  WordVectors v = detail::vectors_from_safetensors(std::move(contents), file->path(),
                                                   side ? &side_list : nullptr,
                                                   /*check_values=*/false);
  out.list = std::move(v.words);
  out.matrix = std::move(v.matrix);
  return out;
}

}  // namespace

WordVectors map_word_vectors(const std::filesystem::path& path, std::optional<VectorFormat> format,
                             const MapOptions& options, WordVectorsMapReport* report) {
  MappedWords m = map_words(path, format, options, report);
  return WordVectors{m.indexed ? std::move(m.index).take_keys() : std::move(m.list),
                     std::move(m.matrix)};
}

IndexedWordVectors map_indexed_word_vectors(const std::filesystem::path& path,
                                            std::optional<VectorFormat> format,
                                            const MapOptions& options,
                                            WordVectorsMapReport* report) {
  MappedWords m = map_words(path, format, options, report);
  if (!m.indexed) {
    // The reader refused repeated words already: every add inserts.
    m.index.reserve(m.list.size());
    for (const std::string& w : m.list) m.index.add(w);
  }
  return IndexedWordVectors{std::move(m.index), std::move(m.matrix), std::move(m.inverse_norms)};
}

MappedQuantizedRows map_quantized_rows(const std::filesystem::path& path, const std::string& name,
                                       const MapOptions& options) {
  if (options.mode != MapMode::ReadOnly) {
    throw ValueError(path.string() +
                     ": a quantized table is never written; map it read-only (MapMode::ReadOnly)");
  }
  const std::shared_ptr<const MappedFile> file = open_file(path, options, kTableMapAdvice);
  const SafetensorsHeader header =
      parse_safetensors_header(bytes_of(*file), file->path(), /*allow_u8=*/true);
  const SafetensorsEntry& e = find_entry(header, name, file->path());
  if (!e.u8 || e.shape.size() != 2) {
    throw IoError(file->path(),
                  "tensor '" + name + "' must be U8 [num_rows, row_bytes] (packed " +
                      "quantized rows), found " +
                      (e.u8 ? std::string("U8") : std::string(safetensors_dtype_name(e.dtype))) +
                      " " + shape_string(e.shape));
  }
  const auto format_it = header.metadata.find(name + ".quantized_format");
  if (format_it == header.metadata.end()) {
    throw IoError(file->path(), "no metadata '" + name +
                                    ".quantized_format' (int8, int4 or int2) for tensor '" + name +
                                    "'");
  }
  const std::optional<QuantizedFormat> qformat = quantized_format_named(format_it->second);
  if (!qformat) {
    throw IoError(file->path(), "metadata '" + name + ".quantized_format' is '" +
                                    format_it->second + "', not int8, int4 or int2");
  }
  MappedQuantizedRows rows;
  if (const auto dim_it = header.metadata.find(name + ".embedding_dim");
      dim_it != header.metadata.end()) {
    std::int64_t dim = 0;
    if (!detail::parse_count(dim_it->second, dim)) {
      throw IoError(file->path(), "metadata '" + name + ".embedding_dim' is '" + dim_it->second +
                                      "', not a count");
    }
    rows.embedding_dim = dim;
  }
  rows.owner = file;
  rows.size_bytes = static_cast<std::size_t>(e.end - e.begin);
  rows.data = rows.size_bytes == 0 ? nullptr : file->data() + header.buffer_offset + e.begin;
  rows.num_rows = e.shape[0];
  rows.row_bytes = e.shape[1];
  rows.format = *qformat;
  return rows;
}

void save_quantized_rows(const std::filesystem::path& path, const std::uint8_t* data,
                         std::size_t size_bytes, std::int64_t num_rows, std::int64_t row_bytes,
                         QuantizedFormat format, std::int64_t embedding_dim,
                         const std::string& name) {
  const std::string who = "save_quantized_rows: ";
  if (num_rows < 0 || embedding_dim < 1 ||
      row_bytes != quantized_row_bytes(format, embedding_dim)) {
    throw ValueError(who + "rows of " + std::to_string(row_bytes) + " bytes are not " +
                     quantized_format_name(format) + " rows of dimension " +
                     std::to_string(embedding_dim));
  }
  if (static_cast<std::uint64_t>(num_rows) * static_cast<std::uint64_t>(row_bytes) != size_bytes) {
    throw ValueError(who + std::to_string(size_bytes) + " bytes are not " +
                     std::to_string(num_rows) + " rows of " + std::to_string(row_bytes));
  }
  if (name.empty() || name == "__metadata__") {
    throw ValueError(who + "the tensor name must be non-empty and not __metadata__");
  }
  // The header as safetensors_writer.cpp writes one: sorted metadata, padded to 8 bytes.
  std::string json = "{\"__metadata__\":{";
  append_json_string(json, name + ".embedding_dim", JsonControlEscapes::AllUnicode);
  json += ':';
  append_json_string(json, std::to_string(embedding_dim), JsonControlEscapes::AllUnicode);
  json += ',';
  append_json_string(json, name + ".quantized_format", JsonControlEscapes::AllUnicode);
  json += ':';
  append_json_string(json, quantized_format_name(format), JsonControlEscapes::AllUnicode);
  json += "},";
  append_json_string(json, name, JsonControlEscapes::AllUnicode);
  json += ":{\"dtype\":\"U8\",\"shape\":[" + std::to_string(num_rows) + "," +
          std::to_string(row_bytes) + "],\"data_offsets\":[0," + std::to_string(size_bytes) + "]}}";
  json.append((8 - json.size() % 8) % 8, ' ');
  std::uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<std::uint8_t>(json.size() >> (8 * i));
  AtomicFile out(path);
  out.write(length, sizeof length);
  out.write(json.data(), json.size());
  if (size_bytes != 0) out.write(data, size_bytes);
  out.commit();
}

}  // namespace embedkit::io
