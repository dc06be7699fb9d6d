// A table larger than the machine's memory, mapped: a sparse .npy file of MemTotal + 8 GiB,
// known rows written at its start, middle and end, looked up through the mapped table while the
// resident set stays small (only the pages of the looked-up rows are read).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/io/mapped_table.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "support/temp_dir.hpp"

namespace {

using embedkit::Tensor;
namespace io = embedkit::io;
namespace nn = embedkit::nn;

// /proc/meminfo's MemTotal in bytes, or 0 when it cannot be read.
std::uint64_t mem_total_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  for (std::string key; meminfo >> key;) {
    std::uint64_t kib = 0;
    std::string unit;
    meminfo >> kib >> unit;
    if (key == "MemTotal:") return kib * 1024;
  }
  return 0;
}

// The process's resident set now, in bytes (/proc/self/statm's second field, in pages).
std::uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

// The values of row r: distinct per row, exact in float32.
std::vector<float> row_values(std::int64_t r, std::int64_t dim) {
  std::vector<float> v(static_cast<std::size_t>(dim));
  for (std::int64_t j = 0; j < dim; ++j) {
    v[static_cast<std::size_t>(j)] = static_cast<float>(r % 100003) + static_cast<float>(j) / 64.0f;
  }
  return v;
}

TEST(MappedLargerThanRam, SparseTableLargerThanMemoryLooksUpKnownRows) {
  const std::uint64_t mem = mem_total_bytes();
  if (mem == 0) GTEST_SKIP() << "no MemTotal in /proc/meminfo: cannot size a table larger than RAM";
  constexpr std::int64_t kDim = 64;
  constexpr std::uint64_t kRowBytes = kDim * 4;
  const std::uint64_t target = mem + (std::uint64_t{8} << 30);
  const auto rows = static_cast<std::int64_t>(target / kRowBytes) + 1;

  embedkit_test::TempDir dir;
  const auto path = dir / "huge.npy";
  // The header of a [rows, 64] float32 .npy, as numpy and embedkit write it (taken from the
  // writer of a one-row table, with the row count replaced and the padding redone).
  std::string header = io::serialize_npy(Tensor::zeros({1, kDim}));
  header.resize(header.size() - kRowBytes);
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) +
                     ", " + std::to_string(kDim) + "), }";
  dict.append((64 - (10 + dict.size() + 1) % 64) % 64, ' ');
  dict += '\n';
  header = header.substr(0, 8) + static_cast<char>(dict.size() & 0xff) +
           static_cast<char>(dict.size() >> 8) + dict;
  const std::uint64_t file_size = header.size() + static_cast<std::uint64_t>(rows) * kRowBytes;

  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, header.data(), header.size(), 0), static_cast<ssize_t>(header.size()));
  if (::ftruncate(fd, static_cast<off_t>(file_size)) != 0) {
    ::close(fd);
    GTEST_SKIP() << "the file system cannot hold a " << file_size << "-byte file";
  }
  const std::int64_t known[] = {0, 1, rows / 2, rows - 2, rows - 1};
  for (const std::int64_t r : known) {
    const std::vector<float> v = row_values(r, kDim);
    const auto offset =
        static_cast<off_t>(header.size() + static_cast<std::uint64_t>(r) * kRowBytes);
    ASSERT_EQ(::pwrite(fd, v.data(), kRowBytes, offset), static_cast<ssize_t>(kRowBytes));
  }
  struct stat st {};
  ASSERT_EQ(::fstat(fd, &st), 0);
  ::close(fd);
  // A file system without sparse files would have written every byte: skip rather than fill it.
  if (static_cast<std::uint64_t>(st.st_blocks) * 512 > (std::uint64_t{64} << 20)) {
    GTEST_SKIP() << "the file system does not keep sparse files sparse (" << st.st_blocks * 512
                 << " bytes allocated)";
  }
  ASSERT_GT(file_size, mem) << "the table must be larger than the machine's memory";

  const std::uint64_t resident_before = resident_bytes();
  Tensor table;
  try {
    table = io::map_npy(path);
  } catch (const embedkit::IoError& e) {
    // An address space too small for the mapping (a sanitizer's layout, a ulimit -v).
    GTEST_SKIP() << "cannot map a table larger than memory here: " << e.what();
  }
  ASSERT_EQ(table.size(0), rows);

  std::vector<std::int64_t> id_values(std::begin(known), std::end(known));
  id_values.push_back(rows / 3);  // a hole: reads as zeros
  const Tensor ids = Tensor::from_vector<std::int64_t>(id_values);
  const Tensor out = nn::functional::embedding(ids, table);
  const std::vector<float> got = out.to_float_vector();
  for (std::size_t i = 0; i < std::size(known); ++i) {
    const std::vector<float> want = row_values(known[i], kDim);
    for (std::int64_t j = 0; j < kDim; ++j) {
      ASSERT_EQ(got[i * kDim + static_cast<std::size_t>(j)], want[static_cast<std::size_t>(j)])
          << "row " << known[i] << " column " << j;
    }
  }
  for (std::int64_t j = 0; j < kDim; ++j) {
    EXPECT_EQ(got[std::size(known) * kDim + static_cast<std::size_t>(j)], 0.0f);
  }
  // A bag over the first and the last row: their sum.
  const Tensor bag =
      nn::functional::embedding_bag(Tensor::from_vector<std::int64_t>({0, rows - 1}), table,
                                    Tensor::from_vector<std::int64_t>({0}),
                                    nn::EmbeddingBagFuncOptions().mode(embedkit::BagMode::Sum));
  const std::vector<float> sum = bag.to_float_vector();
  const std::vector<float> first = row_values(0, kDim), last = row_values(rows - 1, kDim);
  for (std::int64_t j = 0; j < kDim; ++j) {
    const auto k = static_cast<std::size_t>(j);
    EXPECT_EQ(sum[k], first[k] + last[k]);
  }
  // Ids out of range: the same IndexError as for a table in memory.
  EXPECT_THROW(nn::functional::embedding(Tensor::from_vector<std::int64_t>({rows}), table),
               embedkit::IndexError);

  // Only the looked-up pages became resident: far less than the table (64 MiB of slack for
  // the test's own allocations).
  const std::uint64_t resident_after = resident_bytes();
  EXPECT_LT(resident_after, resident_before + (std::uint64_t{64} << 20))
      << "resident " << resident_before << " -> " << resident_after << " bytes for a " << file_size
      << "-byte table";
}

}  // namespace
