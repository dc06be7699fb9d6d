// Memory-mapped tables, timed (BENCHMARKS.md, "Memory-mapped tables"); built and run by
// bench/mapped/run.sh, never part of the tests. Timings go to standard output, one
// "name<TAB>value" line each.
//
//   mapped_bench make PREFIX ROWS DIM [EXT...]
//                                            writes PREFIX.npy (+ .vocab), .safetensors, .vec
//                                            (or only the extensions named: npy safetensors vec)
//   mapped_bench first PATH WORD load|map [ADVICE]
//                                            time to the first answer of most_similar(WORD)
//                                            ("map" as the command maps: the pair's checksum
//                                            verified and remembered, the words' index and the
//                                            rows' norms stored beside the pair, the index and
//                                            norms handed to KeyedVectors)
//   mapped_bench parts PATH.npy WORD        the first answer of a mapped .npy pair, piece by
//                                            piece: vocabulary read and parse, the pair's
//                                            XXH64, KeyedVectors, first and second query
//   mapped_bench prefault PATH.npy WORD none|populate|background
//                                            the vocabulary parse and the first query of a
//                                            mapped .npy pair, with the matrix's page tables
//                                            filled by the kernel first (populate:
//                                            MADV_POPULATE_READ before the query; background:
//                                            the same on a thread while the vocabulary is parsed)
//                                            or by the query's own page faults (none)
//   mapped_bench lookups PATH N ADVICE       N single-row lookups at random rows of a mapped
//                                            table (the page cache as the caller left it)
//   mapped_bench evict PATH                  drops the file's pages from the page cache
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "embedkit/core/generator.hpp"
#include "embedkit/io/mapped_table.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/vectors/keyed_vectors.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace io = embedkit::io;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

long max_rss_mib() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

int make(const std::string& prefix, std::int64_t rows, std::int64_t dim,
         std::vector<std::string> extensions) {
  if (extensions.empty()) extensions = {"npy", "safetensors", "vec"};
  io::WordVectors v;
  v.words.reserve(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i) v.words.push_back("w" + std::to_string(i));
  v.matrix = embedkit::Tensor::empty({rows, dim});
  embedkit::Generator gen(1);
  float* m = v.matrix.data<float>();
  for (std::int64_t i = 0; i < rows * dim; ++i) m[i] = static_cast<float>(gen.uniform() - 0.5);
  for (const std::string& ext : extensions) io::save_word_vectors(prefix + "." + ext, v);
  return 0;
}

int first(const std::string& path, const std::string& word, const std::string& how,
          const std::string& advice) {
  const auto start = Clock::now();
  io::IndexedWordVectors v;
  io::WordVectorsMapReport report;
  if (how == "map") {
    io::MapOptions options;
    options.verify_pair_checksum = true;  // as the embedkit command maps a pair
    options.remember_pair_verification = true;
    options.remember_word_index = true;
    options.word_index_norms = &embedkit::vectors::KeyedVectors::inverse_norms;
    options.advice = io::parse_map_advice(advice);
    v = io::map_indexed_word_vectors(path, std::nullopt, options, &report);
  } else {
    io::WordVectors loaded = io::load_word_vectors(path);
    v.matrix = std::move(loaded.matrix);
    for (const std::string& w : loaded.words) v.words.add(w);  // distinct: the reader checked
  }
  const double open_ms = ms_since(start);
  const embedkit::vectors::KeyedVectors kv(std::move(v.words), std::move(v.matrix),
                                           std::move(v.inverse_norms));
  const double index_ms = ms_since(start);
  const auto top = kv.most_similar(word, 10);
  const double answer_ms = ms_since(start);
  static constexpr const char* kChecks[] = {"none", "size", "checksum", "remembered"};
  std::cout << "open_ms\t" << open_ms << "\nindex_ms\t" << index_ms << "\nfirst_answer_ms\t"
            << answer_ms << "\nmax_rss_mib\t" << max_rss_mib() << "\nbest\t" << top.at(0).word
            << "\npair_check\t" << kChecks[static_cast<int>(report.pair_check)] << "\nrecorded\t"
            << report.recorded << "\nindex_remembered\t" << report.index_remembered
            << "\nnorms_remembered\t" << report.norms_remembered << "\nindex_recorded\t"
            << report.index_recorded << "\n";
  return 0;
}

// Each piece of map_word_vectors + KeyedVectors + most_similar timed alone (the pieces the
// library runs inside map_word_vectors, run here one by one through the public API).
int parts(const std::string& path, const std::string& word) {
  auto start = Clock::now();
  std::ifstream in(io::vocabulary_path_for(path), std::ios::binary);
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                        std::istreambuf_iterator<char>());
  std::cout << "vocab_read_ms\t" << ms_since(start) << "\n";
  start = Clock::now();
  std::optional<io::MatrixFileIdentity> pair;
  std::vector<std::string> words = io::parse_vocabulary(bytes, path, &pair);
  std::cout << "vocab_parse_ms\t" << ms_since(start) << "\n";
  start = Clock::now();
  const embedkit::Tensor matrix = io::map_npy(path);
  std::cout << "map_ms\t" << ms_since(start) << "\n";
  start = Clock::now();
  const auto file_bytes = static_cast<std::size_t>(std::filesystem::file_size(path));
  const int fd = ::open(path.c_str(), O_RDONLY);
  std::vector<std::uint8_t> whole(file_bytes);
  std::size_t got = 0;
  while (fd >= 0 && got < file_bytes) {
    const ssize_t n = ::read(fd, whole.data() + got, file_bytes - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (fd >= 0) ::close(fd);
  std::cout << "matrix_read_ms\t" << ms_since(start) << "\n";
  start = Clock::now();
  const bool same = pair && io::identify_matrix_file(whole) == *pair;
  std::cout << "xxh64_ms\t" << ms_since(start) << "\npair_ok\t" << same << "\n";
  whole = {};
  start = Clock::now();
  const embedkit::vectors::KeyedVectors kv(std::move(words), matrix);
  std::cout << "keyed_vectors_ms\t" << ms_since(start) << "\n";
  start = Clock::now();
  auto top = kv.most_similar(word, 10);
  std::cout << "first_query_ms\t" << ms_since(start) << "\n";
  start = Clock::now();
  top = kv.most_similar(word, 10);
  std::cout << "second_query_ms\t" << ms_since(start) << "\nbest\t" << top.at(0).word << "\n";
  return 0;
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14; older headers lack the name
#endif

// The whole mapping of `matrix` (from its page), filled in by the kernel: page faults taken in
// one call instead of one per fault-around window by the first scan.
double populate(const embedkit::Tensor& matrix) {
  const auto start = Clock::now();
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<std::uintptr_t>(matrix.raw_data()) / page * page;
  const auto end = reinterpret_cast<std::uintptr_t>(matrix.raw_data()) + matrix.nbytes();
  if (::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_READ) != 0) {
    throw std::runtime_error("madvise(MADV_POPULATE_READ) failed");
  }
  return ms_since(start);
}

int prefault(const std::string& path, const std::string& word, const std::string& how) {
  if (how != "none" && how != "populate" && how != "background") {
    throw std::runtime_error("prefault: none, populate or background, not " + how);
  }
  const auto start = Clock::now();
  io::MapOptions options;
  options.advice = io::kWordVectorsMapAdvice;  // as map_word_vectors maps the matrix
  const embedkit::Tensor matrix = io::map_npy(path, options);
  double populate_ms = 0;
  std::thread filler;
  if (how == "background") filler = std::thread([&] { populate_ms = populate(matrix); });
  auto step = Clock::now();
  std::ifstream in(io::vocabulary_path_for(path), std::ios::binary);
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                        std::istreambuf_iterator<char>());
  std::vector<std::string> words = io::parse_vocabulary(bytes, path);
  const double parse_ms = ms_since(step);
  if (filler.joinable()) filler.join();
  const double joined_ms = ms_since(start);
  if (how == "populate") populate_ms = populate(matrix);
  const embedkit::vectors::KeyedVectors kv(std::move(words), matrix);
  step = Clock::now();
  const auto top = kv.most_similar(word, 10);
  const double query_ms = ms_since(step);
  std::cout << "vocab_ms\t" << parse_ms << "\njoined_ms\t" << joined_ms << "\npopulate_ms\t"
            << populate_ms << "\nfirst_query_ms\t" << query_ms << "\ntotal_ms\t" << ms_since(start)
            << "\nbest\t" << top.at(0).word << "\n";
  return 0;
}

int lookups(const std::string& path, std::int64_t n, const std::string& advice) {
  io::MapOptions options;
  options.advice = io::parse_map_advice(advice);
  const auto start = Clock::now();
  embedkit::Tensor table = io::map_npy(path, options);
  const double open_ms = ms_since(start);
  embedkit::Generator gen(7);
  std::vector<std::int64_t> ids(static_cast<std::size_t>(n));
  for (auto& id : ids)
    id = static_cast<std::int64_t>(gen.uniform() * static_cast<double>(table.size(0)));
  double checksum = 0;
  const auto t0 = Clock::now();
  for (const std::int64_t id : ids) {
    const embedkit::Tensor out =
        embedkit::nn::functional::embedding(embedkit::Tensor::scalar<std::int64_t>(id), table);
    checksum += out.item_at(0);
  }
  const double total_ms = ms_since(t0);
  std::cout << "open_ms\t" << open_ms << "\nlookups\t" << n << "\ntotal_ms\t" << total_ms
            << "\nus_per_lookup\t" << total_ms * 1000.0 / static_cast<double>(n)
            << "\nmax_rss_mib\t" << max_rss_mib() << "\nchecksum\t" << checksum << "\n";
  return 0;
}

int evict(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return 1;
  const int rc = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
  return rc == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> a(argv + 1, argv + argc);
  try {
    if (a.size() >= 4 && a[0] == "make") {
      return make(a[1], std::stoll(a[2]), std::stoll(a[3]), {a.begin() + 4, a.end()});
    }
    if (a.size() == 4 && a[0] == "first") return first(a[1], a[2], a[3], "normal");
    if (a.size() == 5 && a[0] == "first") return first(a[1], a[2], a[3], a[4]);
    if (a.size() == 3 && a[0] == "parts") return parts(a[1], a[2]);
    if (a.size() == 4 && a[0] == "prefault") return prefault(a[1], a[2], a[3]);
    if (a.size() == 4 && a[0] == "lookups") return lookups(a[1], std::stoll(a[2]), a[3]);
    if (a.size() == 2 && a[0] == "evict") return evict(a[1]);
  } catch (const std::exception& e) {
    std::cerr << "mapped_bench: " << e.what() << "\n";
    return 1;
  }
  std::cerr
      << "usage: mapped_bench make PREFIX ROWS DIM [EXT...] | first PATH WORD load|map [ADVICE] | "
         "parts PATH.npy WORD | prefault PATH.npy WORD none|populate|background | "
         "lookups PATH N ADVICE | evict PATH\n";
  return 2;
}
