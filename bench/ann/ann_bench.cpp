// Approximate neighbours (HnswIndex) against the exact search, timed (BENCHMARKS.md,
// "Approximate nearest neighbours"); built and run by bench/ann/run.sh, never part of the
// tests. Results go to standard output, one "name<TAB>value" line each.
//
//   ann_bench ROWS DIM CLUSTERS RANK QUERIES M EF_CONSTRUCTION THREADS INDEX_PATH EF[,EF...]
//
// The vectors are generated (seed 1): CLUSTERS centres drawn N(0, I), and each row a centre plus
// a point of a random RANK-dimensional subspace of that cluster (a D x RANK matrix of N(0, 1/RANK)
// entries times N(0, I) coordinates) plus N(0, 0.1^2 I) noise. Word vectors are like that: many
// directions, a low intrinsic dimension locally. Pure isotropic noise (RANK = D) is the hard case
// no index does well on; RANK = 1 would be trivially easy.
//
// QUERIES words spread over the vocabulary are asked one at a time, on one thread, as
// `embedkit similar` asks them: exactly (the oracle) and through the index at each EF.
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "embedkit/core/generator.hpp"
#include "embedkit/vectors/hnsw_index.hpp"
#include "embedkit/vectors/keyed_vectors.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using embedkit::vectors::HnswIndex;
using embedkit::vectors::HnswOptions;
using embedkit::vectors::KeyedVectors;
using embedkit::vectors::Neighbor;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The resident set now and at its peak, in MiB (/proc/self/status).
long status_mib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1) / 1024;
  }
  return -1;
}

KeyedVectors generate(std::int64_t rows, std::int64_t dim, std::int64_t clusters,
                      std::int64_t rank) {
  embedkit::Generator gen(1);
  std::vector<float> centres(static_cast<std::size_t>(clusters * dim));
  for (float& c : centres) c = static_cast<float>(gen.normal());
  std::vector<float> bases(static_cast<std::size_t>(clusters * dim * rank));
  const double scale = 1.0 / std::sqrt(static_cast<double>(rank));
  for (float& b : bases) b = static_cast<float>(gen.normal() * scale);
  embedkit::Tensor m = embedkit::Tensor::empty({rows, dim});
  float* d = m.data<float>();
  std::vector<std::string> words;
  words.reserve(static_cast<std::size_t>(rows));
  std::vector<double> z(static_cast<std::size_t>(rank));
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto c = static_cast<std::int64_t>(gen.next_u64() % static_cast<std::uint64_t>(clusters));
    for (double& v : z) v = gen.normal();
    const float* base = bases.data() + c * dim * rank;
    for (std::int64_t j = 0; j < dim; ++j) {
      double v = centres[static_cast<std::size_t>(c * dim + j)] + 0.1 * gen.normal();
      for (std::int64_t k = 0; k < rank; ++k)
        v += base[j * rank + k] * z[static_cast<std::size_t>(k)];
      d[r * dim + j] = static_cast<float>(v);
    }
    words.push_back("w" + std::to_string(r));
  }
  return KeyedVectors(std::move(words), std::move(m));
}

std::vector<std::int64_t> parse_list(const std::string& text) {
  std::vector<std::int64_t> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoll(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 11) {
    std::cerr << "usage: ann_bench ROWS DIM CLUSTERS RANK QUERIES M EF_CONSTRUCTION THREADS "
                 "INDEX_PATH EF[,EF...]\n";
    return 2;
  }
  const std::int64_t rows = std::stoll(argv[1]), dim = std::stoll(argv[2]);
  const std::int64_t clusters = std::stoll(argv[3]), rank = std::stoll(argv[4]);
  const std::int64_t queries = std::stoll(argv[5]);
  HnswOptions options;
  options.m = std::stoll(argv[6]);
  options.ef_construction = std::stoll(argv[7]);
  options.threads = std::stoll(argv[8]);
  const std::string index_path = argv[9];
  const std::vector<std::int64_t> efs = parse_list(argv[10]);
  constexpr std::int64_t k = 10;

  auto start = Clock::now();
  const KeyedVectors kv = generate(rows, dim, clusters, rank);
  std::cout << "generate_ms\t" << ms_since(start) << "\n";
  const long rss_before = status_mib("VmRSS");

  std::vector<std::string> asked;
  for (std::int64_t q = 0; q < queries; ++q) {
    asked.push_back(kv.words()[static_cast<std::size_t>(q * (rows / queries))]);
  }
  std::vector<std::set<std::int64_t>> truth;
  start = Clock::now();
  for (const std::string& w : asked) {
    std::set<std::int64_t> rows_found;
    for (const Neighbor& n : kv.most_similar(w, k)) rows_found.insert(n.index);
    truth.push_back(std::move(rows_found));
  }
  const double exact_ms = ms_since(start) / static_cast<double>(queries);
  std::cout << "exact_ms_per_query\t" << exact_ms << "\n";

  start = Clock::now();
  const HnswIndex built = HnswIndex::build(kv, options);
  std::cout << "build_s\t" << ms_since(start) / 1000.0 << "\n";
  std::cout << "build_threads\t" << options.threads << "\n";
  std::cout << "graph_mib\t" << static_cast<double>(built.graph_bytes()) / (1 << 20) << "\n";
  std::cout << "rss_growth_build_mib\t" << status_mib("VmRSS") - rss_before << "\n";
  start = Clock::now();
  built.save(index_path);
  std::cout << "save_s\t" << ms_since(start) / 1000.0 << "\n";

  for (const std::int64_t ef : efs) {
    start = Clock::now();
    auto index = std::make_shared<const HnswIndex>(HnswIndex::load(index_path, kv, ef));
    const double load_ms = ms_since(start);
    KeyedVectors ann = kv;
    ann.use_index(std::move(index));
    std::int64_t found = 0;
    start = Clock::now();
    std::vector<std::vector<Neighbor>> answers;
    for (const std::string& w : asked) answers.push_back(ann.most_similar(w, k));
    const double ann_ms = ms_since(start) / static_cast<double>(queries);
    for (std::size_t q = 0; q < answers.size(); ++q) {
      for (const Neighbor& n : answers[q])
        found += static_cast<std::int64_t>(truth[q].count(n.index));
    }
    std::cout << "ef=" << ef << "\tload_ms " << load_ms << "\tms_per_query " << ann_ms
              << "\trecall@10 " << static_cast<double>(found) / static_cast<double>(queries * k)
              << "\tspeedup " << exact_ms / ann_ms << "\n";
  }
  std::cout << "max_rss_mib\t" << status_mib("VmHWM") << "\n";
  return 0;
}
