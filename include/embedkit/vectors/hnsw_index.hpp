// HnswIndex: approximate cosine nearest neighbours of a KeyedVectors' rows, from a hierarchical
// navigable small-world graph (Malkov & Yashunin 2016) built by Debian's hnswlib (header-only;
// docs/design.md says why it is not our own). The graph holds the unit rows and is searched by
// inner product, so its ranking is the cosine ranking of KeyedVectors::most_similar; the scores
// it returns are recomputed exactly as the exact search computes them, so a word it finds has
// the exact search's score, and only a word it misses differs (docs/nearest-neighbours.md).
//
// The index file ("VECTORS.hnsw" beside the vectors) is a fixed header, then hnswlib's own
// serialisation. The header ties it to the matrix it was built from (rows, dimension, and the
// size and XXH64 of the float32 matrix's bytes: the pair identity of io/vector_formats.hpp) and
// holds the XXH64 of hnswlib's bytes, checked before hnswlib reads them. An index of another
// matrix, a truncated or corrupt file, or a newer format is an IoError naming the file; nothing
// is rebuilt or written behind the caller's back. save() writes through io::AtomicFile.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "embedkit/io/vector_formats.hpp"

namespace embedkit::vectors {

class KeyedVectors;

struct HnswOptions {
  // Graph links per node (hnswlib's M; 2*M on the bottom layer).
  std::int64_t m = 16;
  // Candidates kept while inserting (hnswlib's ef_construction): higher builds a better graph,
  // slower.
  std::int64_t ef_construction = 200;
  // Candidates kept while searching (hnswlib's ef; at least k is used): the recall/speed knob.
  std::int64_t ef_search = 100;
  // Seeds the layer draws (hnswlib's random_seed).
  std::uint64_t seed = 100;
  // Threads that insert rows; 0: all cores. Accepted but not used for now: with Debian's
  // hnswlib 0.6.2 two inserting threads race on its level generator (hnsw_index.cpp), so one
  // thread inserts, and builds the same graph every time.
  std::int64_t threads = 0;
};

class HnswIndex {
 public:
  // The index over every row of `kv`. ValueError for options out of range.
  static HnswIndex build(const KeyedVectors& kv, const HnswOptions& options = {});
  // Reads an index saved by save() and checks it against `kv` (IoError as described above).
  // `ef_search` as in HnswOptions.
  static HnswIndex load(const std::filesystem::path& path, const KeyedVectors& kv,
                        std::int64_t ef_search = HnswOptions{}.ef_search);
  // The index at `index_path` when that file exists (load(), checked against `kv`), else a new
  // one built and saved there. `*built` (when given) says which.
  static HnswIndex open_or_build(const std::filesystem::path& index_path, const KeyedVectors& kv,
                                 const HnswOptions& options = {}, bool* built = nullptr);
  // Where the index of a vectors file goes: the vectors file's path + ".hnsw".
  static std::filesystem::path path_for(const std::filesystem::path& vectors_path);

  // Writes the index to `path` atomically (io::AtomicFile).
  void save(const std::filesystem::path& path) const;

  // The rows nearest to the unit-length `query` (dim() floats), up to `count`, in no particular
  // order (the caller scores and ranks them). Thread-safe.
  std::vector<std::int64_t> search(const float* query, std::int64_t count) const;

  // Whether this index was built from `kv`'s matrix (its rows, dimension and bytes).
  bool matches(const KeyedVectors& kv) const;

  std::int64_t size() const { return rows_; }
  std::int64_t dim() const { return dim_; }
  std::int64_t ef_search() const { return ef_search_; }
  // The bytes hnswlib's graph holds (the unit rows, links and labels): its memory, and about
  // its file's size.
  std::uint64_t graph_bytes() const;
  const io::MatrixFileIdentity& matrix_identity() const { return matrix_; }

 private:
  struct Graph;  // hnswlib's space and graph, kept out of this header
  HnswIndex(std::shared_ptr<Graph> graph, std::int64_t rows, std::int64_t dim,
            io::MatrixFileIdentity matrix, std::int64_t ef_search);

  std::shared_ptr<Graph> graph_;
  std::int64_t rows_ = 0;
  std::int64_t dim_ = 0;
  io::MatrixFileIdentity matrix_;
  std::int64_t ef_search_ = 0;
  std::uint64_t seed_ = 0;
};

// The identity of a KeyedVectors' matrix that an index records: the size and XXH64 of its
// float32 bytes (row-major), whatever file format it came from.
io::MatrixFileIdentity identify_matrix(const KeyedVectors& kv);

}  // namespace embedkit::vectors
