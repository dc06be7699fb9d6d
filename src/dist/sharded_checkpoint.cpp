#include "embedkit/dist/sharded_checkpoint.hpp"

#include <mpi.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "dist/agreement.hpp"
#include "dist/communicator_impl.hpp"
#include "embedkit/io/atomic_file.hpp"
#include "embedkit/io/json_string.hpp"
#include "embedkit/io/safetensors.hpp"
#include "io/file_reading.hpp"
#include "io/json_cursor.hpp"

namespace embedkit::dist {

namespace {

namespace fs = std::filesystem;

constexpr const char* kFormat = "embedkit.sharded_table";
constexpr std::uint64_t kVersion = 1;

struct ShardEntry {
  std::string file;
  std::int64_t rows = 0;
  std::uint64_t digest = 0;
};

struct Manifest {
  std::int64_t num_embeddings = 0;
  std::int64_t embedding_dim = 0;
  std::string dtype;
  std::string sharding;
  int ranks = 0;
  int table_owner = 0;
  std::string optimizer;  // the optimizer whose state the shards hold, or ""
  std::vector<ShardEntry> shards;
};

std::string hex64(std::uint64_t v) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
  return text;
}

std::string shard_file_name(int rank, int ranks, std::uint64_t save_id) {
  char text[96];
  std::snprintf(text, sizeof text, "shard-%05d-of-%05d-%s.safetensors", rank, ranks,
                hex64(save_id).c_str());
  return text;
}

void append_field(std::string& out, const char* key, const std::string& value, bool quoted) {
  io::append_json_string(out, key, io::JsonControlEscapes::AllUnicode);
  out += ": ";
  if (quoted) {
    io::append_json_string(out, value, io::JsonControlEscapes::AllUnicode);
  } else {
    out += value;
  }
}

std::string manifest_json(const Manifest& m) {
  std::string out = "{\n  ";
  append_field(out, "format", kFormat, true);
  out += ",\n  ";
  append_field(out, "version", std::to_string(kVersion), false);
  out += ",\n  ";
  append_field(out, "num_embeddings", std::to_string(m.num_embeddings), false);
  out += ",\n  ";
  append_field(out, "embedding_dim", std::to_string(m.embedding_dim), false);
  out += ",\n  ";
  append_field(out, "dtype", m.dtype, true);
  out += ",\n  ";
  append_field(out, "sharding", m.sharding, true);
  out += ",\n  ";
  append_field(out, "ranks", std::to_string(m.ranks), false);
  out += ",\n  ";
  append_field(out, "table_owner", std::to_string(m.table_owner), false);
  out += ",\n  ";
  append_field(out, "optimizer", m.optimizer, true);
  out += ",\n  \"shards\": [";
  for (std::size_t p = 0; p < m.shards.size(); ++p) {
    out += p == 0 ? "\n    {" : ",\n    {";
    append_field(out, "file", m.shards[p].file, true);
    out += ", ";
    append_field(out, "rows", std::to_string(m.shards[p].rows), false);
    out += ", ";
    append_field(out, "xxh64", hex64(m.shards[p].digest), true);
    out += "}";
  }
  out += "\n  ]\n}\n";
  return out;
}

std::uint64_t parse_hex64(const std::string& text, const std::string& path) {
  if (text.size() != 16 || text.find_first_not_of("0123456789abcdef") != std::string::npos) {
    throw IoError(path, "xxh64 '" + text + "' is not 16 lowercase hex digits");
  }
  return std::stoull(text, nullptr, 16);
}

// A strict reader of what manifest_json writes (keys in any order, each exactly once).
Manifest parse_manifest(const std::string& text, const std::string& path) {
  Manifest m;
  try {
    io::detail::JsonCursor c(text);
    std::set<std::string> seen;
    c.expect('{', "the manifest");
    std::string format;
    std::uint64_t version = 0;
    bool first = true;
    while (!c.consume('}')) {
      if (!first) c.expect(',', "the manifest");
      first = false;
      const std::string key = c.read_string("a manifest key");
      c.expect(':', "the manifest");
      if (!seen.insert(key).second) throw IoError(path, "key '" + key + "' appears twice");
      if (key == "format") {
        format = c.read_string(key);
      } else if (key == "version") {
        version = c.read_uint64(key);
      } else if (key == "num_embeddings") {
        m.num_embeddings = static_cast<std::int64_t>(c.read_uint64(key) & INT64_MAX);
      } else if (key == "embedding_dim") {
        m.embedding_dim = static_cast<std::int64_t>(c.read_uint64(key) & INT64_MAX);
      } else if (key == "dtype") {
        m.dtype = c.read_string(key);
      } else if (key == "sharding") {
        m.sharding = c.read_string(key);
      } else if (key == "optimizer") {
        m.optimizer = c.read_string(key);
      } else if (key == "ranks" || key == "table_owner") {
        const std::uint64_t v = c.read_uint64(key);
        if (v > 1u << 30) throw IoError(path, key + " " + std::to_string(v) + " is too large");
        (key == "ranks" ? m.ranks : m.table_owner) = static_cast<int>(v);
      } else if (key == "shards") {
        c.expect('[', key);
        bool first_shard = true;
        while (!c.consume(']')) {
          if (!first_shard) c.expect(',', key);
          first_shard = false;
          ShardEntry e;
          std::set<std::string> shard_keys;
          c.expect('{', "a shard");
          bool first_field = true;
          while (!c.consume('}')) {
            if (!first_field) c.expect(',', "a shard");
            first_field = false;
            const std::string field = c.read_string("a shard key");
            c.expect(':', "a shard");
            if (!shard_keys.insert(field).second) {
              throw IoError(path, "shard key '" + field + "' appears twice");
            }
            if (field == "file") {
              e.file = c.read_string(field);
            } else if (field == "rows") {
              e.rows = static_cast<std::int64_t>(c.read_uint64(field) & INT64_MAX);
            } else if (field == "xxh64") {
              e.digest = parse_hex64(c.read_string(field), path);
            } else {
              throw IoError(path, "unknown shard key '" + field + "'");
            }
          }
          if (shard_keys.size() != 3) throw IoError(path, "a shard lacks file, rows or xxh64");
          if (e.file.empty() || e.file.find('/') != std::string::npos || e.file[0] == '.') {
            throw IoError(path, "shard file '" + e.file + "' is not a plain file name");
          }
          m.shards.push_back(e);
        }
      } else {
        throw IoError(path, "unknown key '" + key + "'");
      }
    }
    if (!c.at_end()) throw IoError(path, "text after the manifest's object");
    if (format != kFormat) {
      throw IoError(path, "not a sharded-table manifest (format '" + format + "')");
    }
    if (version != kVersion) {
      throw IoError(path, "manifest version " + std::to_string(version) +
                              " is not the version this embedkit reads (1)");
    }
    if (seen.size() != 10) throw IoError(path, "the manifest lacks a key");
  } catch (const io::detail::JsonSyntaxError& e) {
    throw IoError(path, "invalid JSON at byte " + std::to_string(e.offset()) + ": " + e.what());
  }
  return m;
}

std::string dtype_text(DType dtype) {
  return std::string(dtype_name(dtype));
}

constexpr std::string_view kStatePrefix = "optimizer.";

// The optimizer's state of the shard's parameter, fields without "<parameter name>.": the
// entries a shard file holds under "optimizer.<field>". Each is per row (first dimension the
// shard's rows: resharded with the rows) or 0-dim (a step count: the same on every rank).
// ValueError when the optimizer does not hold the shard, or for state of another shape.
NamedTensors shard_state(const optim::Optimizer& optimizer, const Tensor& shard,
                         const std::string& who) {
  const optim::Parameter* param = nullptr;
  for (const optim::Parameter& p : optimizer.params()) {
    if (p.value.shares_storage_with(shard) && p.value.raw_data() == shard.raw_data() &&
        p.value.shape() == shard.shape()) {
      param = &p;
    }
  }
  if (param == nullptr) {
    throw ValueError(who + ": this rank's shard is not among the optimizer's parameters");
  }
  const std::string prefix = param->name + ".";
  NamedTensors out;
  for (const auto& [name, value] : optimizer.state_dict()) {
    if (name.rfind(prefix, 0) != 0) continue;
    if (value.dim() != 0 && value.size(0) != shard.size(0)) {
      throw ValueError(who + ": optimizer state '" + name +
                       "' is neither per row nor a scalar; it cannot be resharded");
    }
    out.emplace_back(name.substr(prefix.size()), value);
  }
  return out;
}

// Copies the rows of `from` (old shard p's tensor, rows in the old sharding) that this rank
// holds in the new sharding into `to` (rows in the new sharding).
void copy_owned_rows(const Tensor& from, Tensor& to, int p, const Sharding& old,
                     const Sharding& now, int rank) {
  const std::int64_t rows = to.dim() == 0 ? 0 : to.size(0);
  const std::size_t row_bytes = rows == 0 ? 0 : to.nbytes() / static_cast<std::size_t>(rows);
  const auto* src = static_cast<const unsigned char*>(from.raw_data());
  auto* dst = static_cast<unsigned char*>(to.raw_data());
  for (std::int64_t l = 0; l < rows; ++l) {
    const std::int64_t g = now.global_row(rank, l);
    if (old.owner(g) != p) continue;
    std::memcpy(dst + static_cast<std::size_t>(l) * row_bytes,
                src + static_cast<std::size_t>(old.local_row(g)) * row_bytes, row_bytes);
  }
}

// The tensor `name` of a shard file; IoError when it is missing or not of dtype and shape.
const Tensor& tensor_of(const io::SafetensorsContents& contents, const std::string& name,
                        DType dtype, const Shape& shape, const std::string& file) {
  for (const auto& [n, t] : contents.tensors) {
    if (n != name) continue;
    if (t.dtype() != dtype || t.shape() != shape) break;
    return t;
  }
  std::string dims;
  for (std::int64_t d : shape) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
  throw IoError(file, "expected a tensor \"" + name + "\" [" + dims + "] " + dtype_text(dtype));
}

}  // namespace

void save_sharded(const fs::path& directory, const ShardedEmbeddingBag& table,
                  const optim::Optimizer* optimizer) {
  const Communicator& comm = table.comm();
  const MPI_Comm c = detail::native(comm);
  const int rank = comm.rank();
  const int ranks = comm.size();
  // A fresh id per save (rank 0's, on every rank): the new shards never overwrite the files the
  // committed manifest names.
  std::uint64_t save_id = 0;
  if (rank == 0) save_id = (std::uint64_t{std::random_device()()} << 32) ^ std::random_device()();
  detail::check_mpi(MPI_Bcast(&save_id, 1, MPI_UINT64_T, 0, c), "MPI_Bcast");

  ShardEntry mine{shard_file_name(rank, ranks, save_id), table.shard().size(0), 0};
  detail::agree_on(comm, [&] {
    io::Metadata metadata = {{"embedkit.sharded_table.rank", std::to_string(rank)},
                             {"embedkit.sharded_table.ranks", std::to_string(ranks)}};
    NamedTensors tensors = {{"weight", table.shard()}};
    if (optimizer != nullptr) {
      for (auto& [field, value] : shard_state(*optimizer, table.shard(), "save_sharded")) {
        tensors.emplace_back(std::string(kStatePrefix) + field, value);
      }
    }
    const std::vector<std::uint8_t> bytes = io::serialize_safetensors(tensors, metadata);
    mine.digest = XXH64(bytes.data(), bytes.size(), 0);
    io::write_file_atomically(directory / mine.file, bytes.data(), bytes.size());
  });
  std::vector<std::uint64_t> digests(static_cast<std::size_t>(ranks));
  std::vector<std::int64_t> rows(static_cast<std::size_t>(ranks));
  detail::check_mpi(
      MPI_Gather(&mine.digest, 1, MPI_UINT64_T, digests.data(), 1, MPI_UINT64_T, 0, c),
      "MPI_Gather");
  detail::check_mpi(MPI_Gather(&mine.rows, 1, MPI_INT64_T, rows.data(), 1, MPI_INT64_T, 0, c),
                    "MPI_Gather");
  detail::agree_on(comm, [&] {
    if (rank != 0) return;
    Manifest m;
    const ShardedEmbeddingBagOptions& o = table.options();
    m.num_embeddings = o.num_embeddings();
    m.embedding_dim = o.embedding_dim();
    m.dtype = dtype_text(o.dtype());
    m.sharding = sharding_kind_name(table.sharding().kind());
    m.ranks = ranks;
    m.table_owner = table.sharding().table_owner();
    m.optimizer = optimizer != nullptr ? optimizer->name() : "";
    for (int p = 0; p < ranks; ++p) {
      m.shards.push_back({shard_file_name(p, ranks, save_id), rows[p], digests[p]});
    }
    const std::string text = manifest_json(m);
    io::write_file_atomically(directory / kShardedManifestName, text.data(), text.size());
    // The committed manifest names only this save's shards: the others are gone for good.
    std::set<std::string> keep;
    for (const ShardEntry& e : m.shards) keep.insert(e.file);
    std::error_code ec;
    for (const fs::directory_entry& entry : fs::directory_iterator(directory, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("shard-", 0) == 0 && name.size() > 12 &&
          name.substr(name.size() - 12) == ".safetensors" && keep.count(name) == 0) {
        fs::remove(entry.path(), ec);
      }
    }
  });
}

void load_sharded(const fs::path& directory, ShardedEmbeddingBag& table,
                  optim::Optimizer* optimizer) {
  const Communicator& comm = table.comm();
  const int rank = comm.rank();
  const ShardedEmbeddingBagOptions& o = table.options();
  const std::int64_t dim = o.embedding_dim();
  Tensor rows = Tensor::empty(table.shard().shape(), o.dtype());
  NamedTensors state;  // the optimizer's, resharded (full names), when an optimizer is given
  detail::agree_on(comm, [&] {
    const fs::path manifest_path = directory / kShardedManifestName;
    const std::vector<std::uint8_t> text = io::detail::read_file_bytes(manifest_path);
    const Manifest m =
        parse_manifest(std::string(text.begin(), text.end()), manifest_path.string());
    const std::string path = manifest_path.string();
    if (m.num_embeddings != o.num_embeddings() || m.embedding_dim != dim ||
        m.dtype != dtype_text(o.dtype())) {
      throw ValueError(path + ": the checkpoint holds a [" + std::to_string(m.num_embeddings) +
                       ", " + std::to_string(m.embedding_dim) + "] " + m.dtype +
                       " table; this table is [" + std::to_string(o.num_embeddings()) + ", " +
                       std::to_string(dim) + "] " + dtype_text(o.dtype()));
    }
    const Sharding old(parse_sharding_kind(m.sharding), m.num_embeddings, m.ranks < 1 ? 1 : m.ranks,
                       m.table_owner);
    if (m.ranks < 1 || static_cast<int>(m.shards.size()) != m.ranks) {
      throw IoError(path, std::to_string(m.shards.size()) + " shards listed for " +
                              std::to_string(m.ranks) + " ranks");
    }
    for (int p = 0; p < m.ranks; ++p) {
      if (m.shards[p].rows != old.shard_rows(p)) {
        throw IoError(path, "shard " + std::to_string(p) + " holds " +
                                std::to_string(m.shards[p].rows) + " rows; " + m.sharding +
                                " gives it " + std::to_string(old.shard_rows(p)));
      }
    }
    // The optimizer's state as it is now: the fields and shapes the checkpoint must fill.
    NamedTensors fields;
    std::string param_prefix;
    if (optimizer != nullptr) {
      if (m.optimizer != optimizer->name()) {
        throw ValueError(path + ": the checkpoint holds " +
                         (m.optimizer.empty() ? std::string("no optimizer state")
                                              : "the state of " + m.optimizer) +
                         ", not of " + optimizer->name());
      }
      fields = shard_state(*optimizer, table.shard(), "load_sharded");
      for (const optim::Parameter& p : optimizer->params()) {
        if (p.value.shares_storage_with(table.shard())) param_prefix = p.name + ".";
      }
    }
    NamedTensors loaded;
    for (const auto& [field, now_value] : fields) {
      loaded.emplace_back(field, Tensor::empty(now_value.shape(), now_value.dtype()));
    }
    // The old shards that hold this rank's rows (and shard 0 for the optimizer's scalars), each
    // read once.
    const Sharding& now = table.sharding();
    const std::int64_t local_rows = now.shard_rows(rank);
    std::set<int> needed;
    for (std::int64_t l = 0; l < local_rows; ++l) needed.insert(old.owner(now.global_row(rank, l)));
    if (!fields.empty()) needed.insert(0);
    for (int p : needed) {
      const ShardEntry& e = m.shards[p];
      const fs::path file = directory / e.file;
      const std::vector<std::uint8_t> bytes = io::detail::read_file_bytes(file);
      if (XXH64(bytes.data(), bytes.size(), 0) != e.digest) {
        throw IoError(file.string(),
                      "the shard's XXH64 is not the manifest's: the file is corrupted or from "
                      "another save");
      }
      const io::SafetensorsContents contents = io::parse_safetensors(bytes, file.string());
      copy_owned_rows(tensor_of(contents, "weight", o.dtype(), {e.rows, dim}, file.string()), rows,
                      p, old, now, rank);
      for (auto& [field, value] : loaded) {
        Shape old_shape = value.shape();
        if (!old_shape.empty()) old_shape[0] = e.rows;
        const Tensor& from = tensor_of(contents, std::string(kStatePrefix) + field, value.dtype(),
                                       old_shape, file.string());
        if (value.dim() == 0) {
          if (p == 0) value.copy_from(from);
        } else {
          copy_owned_rows(from, value, p, old, now, rank);
        }
      }
    }
    for (auto& [field, value] : loaded) state.emplace_back(param_prefix + field, value);
  });
  // Everything was read and checked on every rank: the optimizer checks the state once more
  // (it cannot fail now unless a scalar is out of its range), then the rows are written.
  detail::agree_on(comm, [&] {
    if (optimizer != nullptr) optimizer->load_state_dict(state);
  });
  table.shard().copy_from(rows);
}

}  // namespace embedkit::dist
