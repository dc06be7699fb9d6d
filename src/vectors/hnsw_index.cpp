// HnswIndex: hnswlib's graph over the unit rows, its file (a header that ties it to its matrix,
// then hnswlib's bytes) and its checks.
#include "embedkit/vectors/hnsw_index.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <span>
#include <string>

// Header-only, from Debian's libhnswlib-dev (docs/design.md). hnswlib 0.6.2's SSE path computes
// a prefetch address from the link after the last one of a list (searchBaseLayer reads
// datal[j + 1] when j is the last), a 4-byte read past an upper layer's link list that
// AddressSanitizer reports; the prefetch itself cannot fault, so release builds keep the SIMD
// distances, and sanitized builds use hnswlib's plain loops, which have no such read.
#if defined(__SANITIZE_ADDRESS__)
#define NO_MANUAL_VECTORIZATION
#endif
#include <hnswlib/hnswlib.h>

#include "embedkit/core/error.hpp"
#include "embedkit/io/atomic_file.hpp"
#include "embedkit/io/mapped_file.hpp"
#include "embedkit/vectors/keyed_vectors.hpp"

namespace embedkit::vectors {

struct HnswIndex::Graph {
  explicit Graph(std::size_t dim) : space(dim) {}
  // The graph keeps a pointer into the space (its distance's dimension): both live here, never
  // moved.
  hnswlib::InnerProductSpace space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw;
};

namespace {

// The file: kHeaderBytes of header, little-endian, then hnswlib's saveIndex bytes.
//   0  magic "embedkit-hnsw\n\0\0"      56 m
//   16 u32 format version (1)           64 ef_construction
//   20 u32 metric (1: inner product of  72 seed
//          unit rows = cosine)          80 graph bytes (what follows the header)
//   24 rows   32 dim                    88 graph xxh64
//   40 matrix bytes  48 matrix xxh64
constexpr char kMagic[16] = {'e', 'm', 'b', 'e', 'd', 'k',  'i',  't',
                             '-', 'h', 'n', 's', 'w', '\n', '\0', '\0'};
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::uint32_t kCosineMetric = 1;
constexpr std::size_t kHeaderBytes = 96;

struct Header {
  std::uint64_t rows = 0, dim = 0;
  io::MatrixFileIdentity matrix;
  std::uint64_t m = 0, ef_construction = 0, seed = 0;
  io::MatrixFileIdentity graph;
};

void put(std::uint8_t* at, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) at[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put32(std::uint8_t* at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t get(const std::uint8_t* at) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | at[i];
  return v;
}
std::uint32_t get32(const std::uint8_t* at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | at[i];
  return v;
}

std::array<std::uint8_t, kHeaderBytes> encode(const Header& h) {
  std::array<std::uint8_t, kHeaderBytes> out{};
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  put32(out.data() + 16, kFormatVersion);
  put32(out.data() + 20, kCosineMetric);
  put(out.data() + 24, h.rows);
  put(out.data() + 32, h.dim);
  put(out.data() + 40, h.matrix.bytes);
  put(out.data() + 48, h.matrix.xxh64);
  put(out.data() + 56, h.m);
  put(out.data() + 64, h.ef_construction);
  put(out.data() + 72, h.seed);
  put(out.data() + 80, h.graph.bytes);
  put(out.data() + 88, h.graph.xxh64);
  return out;
}

// The header of a mapped index file, checked for what it says about itself (not yet against
// the vectors).
Header decode(const io::MappedFile& file) {
  const std::string& path = file.path();
  if (file.size() < kHeaderBytes) {
    throw IoError(path, "truncated HNSW index: " + std::to_string(file.size()) +
                            " bytes, less than its " + std::to_string(kHeaderBytes) +
                            "-byte header (delete it to rebuild it)");
  }
  const std::uint8_t* p = file.data();
  if (std::memcmp(p, kMagic, sizeof kMagic) != 0) {
    throw IoError(path, "not an embedkit HNSW index (it does not start with 'embedkit-hnsw')");
  }
  if (const std::uint32_t version = get32(p + 16); version != kFormatVersion) {
    throw IoError(path, "HNSW index of format " + std::to_string(version) +
                            ", which this embedkit does not read (it reads " +
                            std::to_string(kFormatVersion) + ")");
  }
  if (const std::uint32_t metric = get32(p + 20); metric != kCosineMetric) {
    throw IoError(path, "HNSW index of unknown metric " + std::to_string(metric));
  }
  Header h;
  h.rows = get(p + 24);
  h.dim = get(p + 32);
  h.matrix = {get(p + 40), get(p + 48)};
  h.m = get(p + 56);
  h.ef_construction = get(p + 64);
  h.seed = get(p + 72);
  h.graph = {get(p + 80), get(p + 88)};
  if (h.graph.bytes != file.size() - kHeaderBytes) {
    throw IoError(path, "truncated or corrupt HNSW index: its header announces " +
                            std::to_string(h.graph.bytes) + " bytes of graph, the file holds " +
                            std::to_string(file.size() - kHeaderBytes) +
                            " (delete it to rebuild it)");
  }
  return h;
}

std::string describe_shape(std::uint64_t rows, std::uint64_t dim) {
  return std::to_string(rows) + " x " + std::to_string(dim);
}

// An anonymous in-memory file (memfd): hnswlib reads and writes its graph only by file name,
// and this lets it do so without a temporary file on disk ("/proc/self/fd/N" names it).
class MemoryFile {
 public:
  MemoryFile() : fd_(memfd_create("embedkit-hnsw", MFD_CLOEXEC)) {
    if (fd_ < 0) throw IoError("memfd", std::string("cannot create: ") + std::strerror(errno));
  }
  ~MemoryFile() { ::close(fd_); }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  std::string name() const { return "/proc/self/fd/" + std::to_string(fd_); }
  void write_all(const std::uint8_t* data, std::size_t size) const {
    while (size > 0) {
      const ssize_t n = ::write(fd_, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw IoError(name(), std::string("cannot write: ") + std::strerror(errno));
      data += n;
      size -= static_cast<std::size_t>(n);
    }
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

void check_options(const HnswOptions& o) {
  if (o.m < 2 || o.m > 256)
    throw ValueError("HNSW m must be in [2, 256], got " + std::to_string(o.m));
  if (o.ef_construction < 1) {
    throw ValueError("HNSW ef_construction must be >= 1, got " + std::to_string(o.ef_construction));
  }
  if (o.ef_search < 1) {
    throw ValueError("HNSW ef_search must be >= 1, got " + std::to_string(o.ef_search));
  }
  if (o.threads < 0)
    throw ValueError("HNSW threads must be >= 0, got " + std::to_string(o.threads));
}

}  // namespace

io::MatrixFileIdentity identify_matrix(const KeyedVectors& kv) {
  const Tensor& m = kv.matrix();
  return io::identify_matrix_file(
      std::span<const std::uint8_t>(static_cast<const std::uint8_t*>(m.raw_data()),
                                    static_cast<std::size_t>(m.numel()) * sizeof(float)));
}

HnswIndex::HnswIndex(std::shared_ptr<Graph> graph, std::int64_t rows, std::int64_t dim,
                     io::MatrixFileIdentity matrix, std::int64_t ef_search)
    : graph_(std::move(graph)), rows_(rows), dim_(dim), matrix_(matrix), ef_search_(ef_search) {
  graph_->hnsw->setEf(static_cast<std::size_t>(ef_search));
}

HnswIndex HnswIndex::build(const KeyedVectors& kv, const HnswOptions& options) {
  check_options(options);
  if (kv.size() == 0) throw ValueError("cannot build an HNSW index of an empty vocabulary");
  auto graph = std::make_shared<Graph>(static_cast<std::size_t>(kv.dim()));
  graph->hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(
      &graph->space, static_cast<std::size_t>(kv.size()), static_cast<std::size_t>(options.m),
      static_cast<std::size_t>(options.ef_construction), static_cast<std::size_t>(options.seed));
  hnswlib::HierarchicalNSW<float>& hnsw = *graph->hnsw;
  const std::int64_t dim = kv.dim();
  // One thread inserts, in row order, whatever options.threads says: hnswlib 0.6.2 (Debian's)
  // draws each new node's level from one generator that every inserting thread shares without a
  // lock (HierarchicalNSW::getRandomLevel, called by addPoint even when a level is given), a data
  // race that ThreadSanitizer reports. One inserting thread also makes the graph the same on
  // every build. Queries still run on many threads.
  std::vector<float> unit(static_cast<std::size_t>(dim));
  for (std::int64_t r = 0; r < kv.size(); ++r) {
    // The unit rows one at a time (addPoint copies each): no unit copy of the whole matrix.
    kv.unit_row(r, unit.data());
    hnsw.addPoint(unit.data(), static_cast<hnswlib::labeltype>(r));
  }
  HnswIndex index(std::move(graph), kv.size(), kv.dim(), identify_matrix(kv), options.ef_search);
  index.seed_ = options.seed;
  return index;
}

HnswIndex HnswIndex::load(const std::filesystem::path& path, const KeyedVectors& kv,
                          std::int64_t ef_search) {
  HnswOptions search_options;
  search_options.ef_search = ef_search;
  check_options(search_options);
  const auto file = io::MappedFile::open(path, io::MapMode::ReadOnly, io::MapAdvice::Sequential);
  const Header h = decode(*file);
  const io::MatrixFileIdentity ours = identify_matrix(kv);
  if (h.rows != static_cast<std::uint64_t>(kv.size()) ||
      h.dim != static_cast<std::uint64_t>(kv.dim()) || !(h.matrix == ours)) {
    throw IoError(file->path(), "this HNSW index belongs to other vectors: it was built from " +
                                    describe_shape(h.rows, h.dim) + " vectors (matrix of " +
                                    io::describe_matrix_file_identity(h.matrix) + "), these are " +
                                    describe_shape(static_cast<std::uint64_t>(kv.size()),
                                                   static_cast<std::uint64_t>(kv.dim())) +
                                    " (matrix of " + io::describe_matrix_file_identity(ours) +
                                    "); delete it to rebuild it from these vectors");
  }
  const std::span<const std::uint8_t> graph_bytes(file->data() + kHeaderBytes,
                                                  static_cast<std::size_t>(h.graph.bytes));
  if (!(io::identify_matrix_file(graph_bytes) == h.graph)) {
    throw IoError(file->path(),
                  "corrupt HNSW index: its graph's checksum does not match its header "
                  "(delete it to rebuild it)");
  }
  auto graph = std::make_shared<Graph>(static_cast<std::size_t>(kv.dim()));
  graph->hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(&graph->space);
  try {
    const MemoryFile copy;
    copy.write_all(graph_bytes.data(), graph_bytes.size());
    graph->hnsw->loadIndex(copy.name(), &graph->space);
  } catch (const IoError&) {
    throw;
  } catch (const std::exception& e) {
    throw IoError(file->path(), std::string("hnswlib cannot read this HNSW index: ") + e.what());
  }
  // The checksum says these are the bytes save() wrote; check that hnswlib read them as the
  // graph of these rows.
  const hnswlib::HierarchicalNSW<float>& hnsw = *graph->hnsw;
  // The checksum covers the graph's bytes, not the header's: a header whose m or
  // ef_construction is not the graph's (save() writes the graph's own) is damaged or forged.
  // The seed cannot be checked: hnswlib seeds its level draws with it but does not keep it in
  // its file, so it is kept only to be written again by save().
  const auto check_field = [&](const char* name, std::uint64_t header, std::uint64_t in_graph) {
    if (header != in_graph) {
      throw IoError(file->path(), std::string("corrupt HNSW index: its header says ") + name +
                                      " = " + std::to_string(header) + ", its graph has " + name +
                                      " = " + std::to_string(in_graph) +
                                      " (delete it to rebuild it)");
    }
  };
  check_field("m", h.m, hnsw.M_);
  check_field("ef_construction", h.ef_construction, hnsw.ef_construction_);
  bool labels_ok = hnsw.cur_element_count == h.rows;
  for (std::size_t i = 0; labels_ok && i < hnsw.cur_element_count; ++i) {
    labels_ok = hnsw.getExternalLabel(static_cast<hnswlib::tableint>(i)) < h.rows;
  }
  if (!labels_ok) {
    throw IoError(file->path(), "corrupt HNSW index: its graph does not hold " +
                                    std::to_string(h.rows) + " rows labelled 0.." +
                                    std::to_string(h.rows - 1));
  }
  HnswIndex index(std::move(graph), kv.size(), kv.dim(), ours, ef_search);
  index.seed_ = h.seed;
  return index;
}

HnswIndex HnswIndex::open_or_build(const std::filesystem::path& index_path, const KeyedVectors& kv,
                                   const HnswOptions& options, bool* built) {
  std::error_code error;
  const bool exists = std::filesystem::exists(index_path, error);
  if (built) *built = !exists;
  if (exists) return load(index_path, kv, options.ef_search);
  HnswIndex index = build(kv, options);
  index.save(index_path);
  return index;
}

std::filesystem::path HnswIndex::path_for(const std::filesystem::path& vectors_path) {
  std::filesystem::path out = vectors_path;
  out += ".hnsw";
  return out;
}

void HnswIndex::save(const std::filesystem::path& path) const {
  io::AtomicFile out(path);
  const MemoryFile graph_file;
  graph_->hnsw->saveIndex(graph_file.name());
  const off_t size = ::lseek(graph_file.fd(), 0, SEEK_END);
  if (size <= 0) throw IoError(path.string(), "hnswlib wrote no graph");
  void* bytes =
      ::mmap(nullptr, static_cast<std::size_t>(size), PROT_READ, MAP_SHARED, graph_file.fd(), 0);
  if (bytes == MAP_FAILED) {
    throw IoError(path.string(), std::string("cannot map the graph: ") + std::strerror(errno));
  }
  const std::span<const std::uint8_t> graph(static_cast<const std::uint8_t*>(bytes),
                                            static_cast<std::size_t>(size));
  Header h;
  h.rows = static_cast<std::uint64_t>(rows_);
  h.dim = static_cast<std::uint64_t>(dim_);
  h.matrix = matrix_;
  h.m = graph_->hnsw->M_;
  h.ef_construction = graph_->hnsw->ef_construction_;
  h.seed = seed_;
  h.graph = io::identify_matrix_file(graph);
  try {
    const auto header = encode(h);
    out.write(header.data(), header.size());
    out.write(graph.data(), graph.size());
    out.commit();
  } catch (...) {
    ::munmap(bytes, static_cast<std::size_t>(size));
    throw;
  }
  ::munmap(bytes, static_cast<std::size_t>(size));
}

std::vector<std::int64_t> HnswIndex::search(const float* query, std::int64_t count) const {
  std::vector<std::int64_t> rows;
  if (count <= 0) return rows;
  auto found = graph_->hnsw->searchKnn(query, static_cast<std::size_t>(count));
  rows.reserve(found.size());
  for (; !found.empty(); found.pop()) rows.push_back(static_cast<std::int64_t>(found.top().second));
  return rows;
}

bool HnswIndex::matches(const KeyedVectors& kv) const {
  return kv.size() == rows_ && kv.dim() == dim_ && identify_matrix(kv) == matrix_;
}

std::uint64_t HnswIndex::graph_bytes() const {
  const hnswlib::HierarchicalNSW<float>& g = *graph_->hnsw;
  std::uint64_t bytes = g.cur_element_count * g.size_data_per_element_;
  for (std::size_t i = 0; i < g.cur_element_count; ++i) {
    bytes += static_cast<std::uint64_t>(g.element_levels_[i]) * g.size_links_per_element_;
  }
  return bytes;
}

}  // namespace embedkit::vectors
