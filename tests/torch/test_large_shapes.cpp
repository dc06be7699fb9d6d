// Differential tests at sizes that reach the CPU kernels' fast paths, against LibTorch (1.13,
// CPU). The randomized suites next to this file use tiny shapes (D <= 20, <= 40 ids), which never
// leave the kernels' simplest paths. Here every comparison runs at every ISA level the CPU has
// (generic, AVX2, AVX-512: kernels::cpu::set_isa_override switches it inside the process and
// takes precedence over the EMBEDKIT_ISA variable, which is read once per process) and at 1, 2
// and 3 kernel threads (embedkit::set_num_threads), against one LibTorch result per shape. A
// level the CPU lacks is named by the skipped test LargeShapes.EveryIsaLevelRuns.
//
// Which fast path a shape reaches follows src/kernels/cpu/tuning.hpp, whose constants the tests
// read (fast_paths() makes a test fail whose shape no longer reaches what it claims to):
//  - threads: a call wakes a second thread only for >= kMinBytesPerThread (256 KiB) of rows per
//    thread, so 3 threads need >= 768 KiB of rows moved;
//  - prefetching: tables larger than kPrefetchMinTableBytes (128 KiB);
//  - streaming (non-temporal) stores: gathers whose output is >= kStreamMinBytes (32 MiB), rows a
//    multiple of 64 bytes and a 64-byte-aligned output;
//  - the specialised row widths (D = 16, 32, 64, 128, 256 in bag and gradient sums; rows of 32 ..
//    1024 bytes in gathers), the generic widths with tails (1, 7, 100, 129, 1000), and bags of
//    exactly one id each (a separate kernel).
// Ids are uniform or Zipf-distributed (s = 1.05: the hottest row is hit by ~10% of the ids, so
// its gradient sums 10^4 to 10^5 terms); the largest table is 256 MiB and the largest batch 10^6
// ids.
//
// Comparison policy (docs/conformance.md):
//  - bitwise: gathers (Embedding forward, allocating and _into) for every dtype; sum, mean and
//    max bags (allocating and _into) for float32 tables; float16 sum and max bags on LibTorch's
//    own float16 path, which accumulates in float32 and rounds each bag once, as embedkit does;
//    per-sample weights with and without padding_idx; float16 mean bags and all bfloat16 bags
//    against LibTorch's float32 bag of the same values rounded once (LibTorch 1.13 has no
//    bfloat16 EmbeddingBag on CPU, and rounds float16 means twice, see below); the float32
//    dense Embedding gradient (both add rows in input order); sparse gradients (indices in input
//    order, values are copies or single products); 16-bit dense Embedding gradients against
//    LibTorch's float32 gradient rounded once (embedkit accumulates 16-bit gradients in float32);
//    16-bit sparse bag values against LibTorch's float32 ones rounded once; the fused backward +
//    optimizer step (SGD and Adagrad; Embedding and sum bags) against LibTorch's sparse backward,
//    its rows summed in input order (index_add_), then torch::optim's step; the unknown-id
//    policies against LibTorch on the remapped ids.
//  - within a bound, and why:
//      * 16-bit dense Embedding gradients against LibTorch's own 16-bit path, which rounds after
//        every addition (docs/conformance.md, difference 8): |e - t| <= 2 (k + 1) u S, with k the
//        row's number of terms, u the unit roundoff of the 16-bit type and S the sum of the
//        terms' magnitudes (Higham's bound for recursive summation, once for each side);
//      * scale_grad_by_freq gradients: LibTorch scales each term by a float 1/count with a fused
//        multiply-add; the bound is the same with u = 2^-24;
//      * EmbeddingBag dense gradients (LibTorch adds in sorted-id order, embedkit in input
//        order): the same bound with u = 2^-24;
//      * per-sample-weight gradients (dot products over D, vectorised differently):
//        2 (D + 1) u S, S the dot product of the magnitudes;
//      * float16 mean bags against LibTorch's own float16 mean, which rounds the float32 sum to
//        float16 before dividing (two roundings; embedkit rounds once): one float16 rounding;
//        float16 mean sparse values (LibTorch rounds 1 / bag_size to float16): 3 u |torch|;
//      * the fused step of bags with per-sample weights or mean, SGD only (the terms are
//        products, rounded by LibTorch's sparse backward, fused multiply-adds in embedkit: see
//        FusedStepEqualsTorchSparseBackwardThenStep);
//      * in float16's subnormal range the relative bounds get an absolute floor of half a
//        subnormal step per rounding (subnormal_half_step).
//
// Not compared here: EmbeddingBag's scale_grad_by_freq (LibTorch 1.13's CPU backward divides by
// the wrong row's count, pytorch#190063; test_embedding_bag_diff.cpp checks embedkit's against
// an nn.Embedding-based equivalent) and max_norm (its norm is computed in another order on each
// side; test_embedding_diff.cpp compares it within a tolerance).
//
// Under the sanitizer build (EMBEDKIT_LARGE_SHAPES_REDUCED, set by tests/torch/CMakeLists.txt)
// the tables and most id counts are divided by 4: instrumented kernels run several times slower,
// and the reduced shapes still reach every threshold above except the 256 MiB table (64 MiB
// there) and the fused step's spread prefetching; the streaming gathers keep their 64 MiB
// outputs.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/optim/adagrad.h>
#include <torch/optim/sgd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "diff_support.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/core/thread_pool.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/optim/adagrad.hpp"
#include "embedkit/optim/fused_backward.hpp"
#include "embedkit/optim/sgd.hpp"
#include "kernels/cpu/cache_sizes.hpp"
#include "kernels/cpu/isa.hpp"
#include "kernels/cpu/tuning.hpp"
#include "torch_oracle.hpp"

namespace embedkit_diff {
namespace {

namespace nn = embedkit::nn;
namespace cpu = embedkit::kernels::cpu;
using nn::BagMode;

#if defined(EMBEDKIT_LARGE_SHAPES_REDUCED)
constexpr std::int64_t kReduce = 4;
#else
constexpr std::int64_t kReduce = 1;
#endif

constexpr std::int64_t kMiB = std::int64_t{1} << 20;
constexpr std::int64_t kMaxIds = 1000000;
// LibTorch's backward passes cost ~1 us per id whatever D (a TensorIterator per id), so the
// backward tests take fewer ids; their tables still take three threads on their own.
constexpr std::int64_t kMaxBackwardIds = 100000;
const std::vector<std::int64_t> kWidths = {1, 7, 16, 32, 64, 100, 128, 129, 256, 1000};
const std::vector<DType> kTableTypes = {DType::Float32, DType::Float16, DType::BFloat16};

// ---------------------------------------------------------------------------------------------
// ISA levels and thread counts

std::vector<cpu::Isa> supported_isas() {
  std::vector<cpu::Isa> out;
  for (cpu::Isa isa : {cpu::Isa::Generic, cpu::Isa::Avx2, cpu::Isa::Avx512}) {
    if (cpu::isa_supported(isa)) out.push_back(isa);
  }
  return out;
}

// Every test restores the automatic ISA level and the thread count it started with. (The loops
// below leave the thread count where they ended: set_num_threads restarts the pool, and a
// restart per comparison cost more wall time than the comparisons on a loaded machine.)
class LargeShapes : public ::testing::Test {
 protected:
  void SetUp() override { threads_ = embedkit::get_num_threads(); }
  void TearDown() override {
    cpu::set_isa_override(std::nullopt);
    embedkit::set_num_threads(threads_);
  }

 private:
  int threads_ = 1;
};

// Runs body() at 1, 2 and 3 threads, each at every supported ISA level (threads outermost,
// starting from the current count, so that the pool restarts at most twice); stops at the first
// setting that fails (the others would repeat its report).
template <class Body>
void for_each_kernel_setting(Body&& body) {
  std::vector<int> counts = {1, 2, 3};
  const auto current = std::find(counts.begin(), counts.end(), embedkit::get_num_threads());
  if (current != counts.end()) std::rotate(counts.begin(), current, counts.end());
  for (const int threads : counts) {
    embedkit::set_num_threads(threads);
    for (const cpu::Isa isa : supported_isas()) {
      cpu::set_isa_override(isa);
      SCOPED_TRACE("isa " + std::string(cpu::isa_name(isa)) + ", " + std::to_string(threads) +
                   " thread(s)");
      const int before = failures_so_far();
      body();
      if (failures_so_far() != before) {
        cpu::set_isa_override(std::nullopt);
        return;
      }
    }
  }
  cpu::set_isa_override(std::nullopt);
}

// The shape's claims about the fast paths, checked against tuning.hpp's thresholds.
struct FastPaths {
  bool three_threads = false;  // >= 3 x kMinBytesPerThread of rows moved
  bool prefetch = false;       // table > kPrefetchMinTableBytes
  bool stream = false;         // gather output >= kStreamMinBytes, rows of whole lines
};

FastPaths fast_paths(std::int64_t table_bytes, std::int64_t bytes_moved, std::int64_t out_bytes,
                     std::int64_t row_bytes, bool gather) {
  FastPaths p;
  p.three_threads = bytes_moved >= 3 * cpu::kMinBytesPerThread;
  p.prefetch = table_bytes > cpu::kPrefetchMinTableBytes;
  p.stream = gather && out_bytes >= cpu::kStreamMinBytes && row_bytes % 64 == 0;
  return p;
}

// ---------------------------------------------------------------------------------------------
// Data

// A non-owning embedkit view of a contiguous torch tensor: the large tables and outputs are
// compared and shared without copies.
Tensor view_of(const at::Tensor& t) {
  EXPECT_TRUE(t.is_contiguous());
  return Tensor::from_blob(t.data_ptr(), Shape(t.sizes().begin(), t.sizes().end()),
                           from_torch(t.scalar_type()));
}

at::Tensor torch_ids(const std::vector<std::int64_t>& ids, at::ScalarType type = at::kLong) {
  const auto n = static_cast<std::int64_t>(ids.size());
  at::Tensor t = at::empty({n}, at::kLong);
  if (n > 0) std::memcpy(t.data_ptr(), ids.data(), ids.size() * sizeof(std::int64_t));
  return t.to(type);
}

// N(0, 1) values of the given dtype, from a seeded LibTorch generator (vectorised: a 256 MiB
// table takes a fraction of a second).
at::Tensor normal_tensor(std::uint64_t seed, at::IntArrayRef sizes, DType dtype) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return at::randn(sizes, gen, at::TensorOptions().dtype(at::kFloat)).to(to_torch(dtype));
}

enum class Dist { kUniform, kZipf };

std::string dist_name(Dist d) {
  return d == Dist::kUniform ? "uniform" : "zipf(1.05)";
}

// Draws ids in [0, rows). Zipf: rank r is drawn with probability proportional to 1 / r^1.05 and
// mapped to row (r * 1000003 + 12345) mod rows, a bijection that spreads the hot rows over the
// table (the hottest row is rows_of_rank(0)).
class IdSampler {
 public:
  IdSampler(std::int64_t rows, Dist dist) : rows_(rows), dist_(dist) {
    EXPECT_EQ(std::gcd(kMultiplier, rows), 1);
    if (dist == Dist::kZipf) {
      cdf_.resize(static_cast<std::size_t>(rows));
      double total = 0.0;
      for (std::int64_t r = 0; r < rows; ++r) {
        total += std::pow(static_cast<double>(r + 1), -1.05);
        cdf_[static_cast<std::size_t>(r)] = total;
      }
      for (double& c : cdf_) c /= total;
    }
  }
  std::int64_t row_of_rank(std::int64_t rank) const {
    // rank < rows <= 2^21: the product fits easily.
    return (rank * kMultiplier + 12345) % rows_;
  }
  std::int64_t draw(Rng& rng) const {
    if (dist_ == Dist::kUniform) return rng.uniform_int(0, rows_ - 1);
    const double u = rng.uniform01();
    const auto it = std::lower_bound(cdf_.begin(), cdf_.end(), u);
    const auto rank = std::min<std::int64_t>(it - cdf_.begin(), rows_ - 1);
    return row_of_rank(rank);
  }
  std::vector<std::int64_t> draw(Rng& rng, std::int64_t n) const {
    std::vector<std::int64_t> out(static_cast<std::size_t>(n));
    for (auto& id : out) id = draw(rng);
    return out;
  }

 private:
  static constexpr std::int64_t kMultiplier = 1000003;  // prime
  std::int64_t rows_;
  Dist dist_;
  std::vector<double> cdf_;
};

// Offsets of bags with sizes uniform in [0, 2 * mean] (about one bag in 2 * mean + 1 is empty),
// covering exactly n ids.
std::vector<std::int64_t> random_offsets(Rng& rng, std::int64_t n, std::int64_t mean) {
  std::vector<std::int64_t> offsets;
  std::int64_t pos = 0;
  while (pos < n) {
    offsets.push_back(pos);
    pos = std::min(n, pos + rng.uniform_int(0, 2 * mean));
  }
  return offsets;
}

// Rows of about `bytes` bytes for rows of width dim, clamped.
std::int64_t count_for_bytes(std::int64_t bytes, std::int64_t row_bytes, std::int64_t lo,
                             std::int64_t hi) {
  return std::clamp<std::int64_t>(bytes / row_bytes, lo, hi);
}

std::int64_t elem_size(DType dtype) {
  return static_cast<std::int64_t>(embedkit::dtype_size(dtype));
}

// ---------------------------------------------------------------------------------------------
// Comparisons

// Bitwise, with a memcmp over the whole tensor first (the per-element report of bitwise_equal
// runs only when something differs: it names the first differing elements).
::testing::AssertionResult same_bits(const std::string& what, const Tensor& actual,
                                     const Tensor& expected) {
  if (actual.dtype() == expected.dtype() && actual.shape() == expected.shape() &&
      (actual.nbytes() == 0 ||
       std::memcmp(actual.raw_data(), expected.raw_data(), actual.nbytes()) == 0)) {
    return ::testing::AssertionSuccess();
  }
  return bitwise_equal(what, actual, expected);
}

::testing::AssertionResult same_bits(const std::string& what, const Tensor& actual,
                                     const at::Tensor& expected) {
  return same_bits(what, actual, view_of(expected.contiguous()));
}

// |actual - expected| <= bound element-wise (bound: a float64 tensor of the same numel); NaN
// anywhere fails. Reports the first offending elements.
::testing::AssertionResult within_bound(const std::string& what, const Tensor& actual,
                                        const at::Tensor& expected, const at::Tensor& bound) {
  const at::Tensor a = to_torch(actual).to(at::kDouble).reshape({-1});
  const at::Tensor e = expected.to(at::kDouble).reshape({-1});
  const at::Tensor b = bound.to(at::kDouble).reshape({-1});
  if (a.numel() != e.numel() || b.numel() != e.numel()) {
    return ::testing::AssertionFailure() << what << ": " << a.numel() << " elements, expected "
                                         << e.numel() << " (bound " << b.numel() << ")";
  }
  const at::Tensor diff = (a - e).abs();
  const at::Tensor bad = (diff > b).logical_or(diff.isnan());
  const std::int64_t count = bad.sum().item<std::int64_t>();
  if (count == 0) return ::testing::AssertionSuccess();
  const at::Tensor where = bad.nonzero().reshape({-1});
  ::testing::AssertionResult r = ::testing::AssertionFailure();
  r << what << ": " << count << " of " << a.numel() << " elements outside the bound";
  for (std::int64_t k = 0; k < std::min<std::int64_t>(where.numel(), 5); ++k) {
    const std::int64_t i = where[k].item<std::int64_t>();
    r << "\n  flat " << i << ": embedkit " << a[i].item<double>() << ", torch "
      << e[i].item<double>() << ", |diff| " << diff[i].item<double>() << " > bound "
      << b[i].item<double>();
  }
  return r;
}

// Unit roundoff of a dtype.
double unit_roundoff(DType dtype) {
  switch (dtype) {
    case DType::Float16:
      return std::ldexp(1.0, -11);
    case DType::BFloat16:
      return std::ldexp(1.0, -8);
    default:
      return std::ldexp(1.0, -24);
  }
}

// Half the spacing of a dtype's subnormals: the absolute error of one rounding below the
// smallest normal number, where the relative bound u |x| does not hold.
double subnormal_half_step(DType dtype) {
  switch (dtype) {
    case DType::Float16:
      return std::ldexp(1.0, -25);
    case DType::BFloat16:
      return std::ldexp(1.0, -134);
    default:
      return std::ldexp(1.0, -150);
  }
}

// Higham's bound for two recursive summations of the same k terms in different orders, each
// rounding to a type of unit roundoff u: 2 (k + 1) (u S + h) per element, S the sum of the
// magnitudes and h the type's subnormal_half_step. `terms_per_row` is [N] (per-row term counts);
// `magnitude` is [N, D].
at::Tensor summation_bound(const at::Tensor& terms_per_row, const at::Tensor& magnitude, double u,
                           double h = 0.0) {
  const at::Tensor k = terms_per_row.to(at::kDouble).unsqueeze(1);
  return 2.0 * (k + 1.0) * (u * magnitude.to(at::kDouble) + h) + 1e-30;
}

// ---------------------------------------------------------------------------------------------
// Error types: what LibTorch raised for an input, mapped to the embedkit error it corresponds to.
//
// c10::IndexError -> IndexError, c10::TypeError -> TypeError, c10::ValueError -> ValueError.
// A plain c10::Error (Python's RuntimeError) is what LibTorch raises for an id outside the table
// on EmbeddingBag's paths ("Expected idx >= 0 && idx < num_embeddings", FBGEMM's "Index ... is
// out of bounds"): those messages map to IndexError; any other RuntimeError is a bad value,
// ValueError (docs/conformance.md, difference 11).
enum class ErrorKind { kNone, kIndex, kValue, kType, kOther };

std::string kind_name(ErrorKind k) {
  switch (k) {
    case ErrorKind::kNone:
      return "no error";
    case ErrorKind::kIndex:
      return "IndexError";
    case ErrorKind::kValue:
      return "ValueError";
    case ErrorKind::kType:
      return "TypeError";
    case ErrorKind::kOther:
      return "another exception";
  }
  return "?";
}

bool mentions_index_out_of_range(std::string message) {
  std::transform(message.begin(), message.end(), message.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  const bool about_index =
      message.find("idx") != std::string::npos || message.find("index") != std::string::npos;
  const bool out_of_range = message.find("out of") != std::string::npos ||
                            message.find("num_embeddings") != std::string::npos;
  return about_index && out_of_range;
}

template <class F>
ErrorKind torch_error_kind(F&& f, std::string* message) {
  try {
    std::forward<F>(f)();
  } catch (const c10::IndexError& e) {
    *message = e.what_without_backtrace();
    return ErrorKind::kIndex;
  } catch (const c10::TypeError& e) {
    *message = e.what_without_backtrace();
    return ErrorKind::kType;
  } catch (const c10::ValueError& e) {
    *message = e.what_without_backtrace();
    return ErrorKind::kValue;
  } catch (const c10::Error& e) {
    *message = e.what_without_backtrace();
    return mentions_index_out_of_range(*message) ? ErrorKind::kIndex : ErrorKind::kValue;
  } catch (const std::exception& e) {
    *message = e.what();
    return ErrorKind::kOther;
  }
  return ErrorKind::kNone;
}

// The embedkit error f raised; for an IndexError, also its position.
template <class F>
ErrorKind embedkit_error_kind(F&& f, std::int64_t* position) {
  try {
    std::forward<F>(f)();
  } catch (const embedkit::IndexError& e) {
    *position = e.position();
    return ErrorKind::kIndex;
  } catch (const embedkit::ValueError&) {
    return ErrorKind::kValue;
  } catch (const embedkit::TypeError&) {
    return ErrorKind::kType;
  } catch (const std::exception&) {
    return ErrorKind::kOther;
  }
  return ErrorKind::kNone;
}

// ---------------------------------------------------------------------------------------------
// The ISA levels this CPU lacks are reported here, by name, rather than silently left out of the
// loops of every other test.
TEST_F(LargeShapes, EveryIsaLevelRuns) {
  std::string missing;
  for (cpu::Isa isa : {cpu::Isa::Generic, cpu::Isa::Avx2, cpu::Isa::Avx512}) {
    if (!cpu::isa_supported(isa)) {
      missing += (missing.empty() ? "" : ", ") + std::string(cpu::isa_name(isa));
      continue;
    }
    cpu::set_isa_override(isa);
    EXPECT_EQ(cpu::active_isa(), isa);
  }
  if (!missing.empty()) {
    GTEST_SKIP() << "this CPU lacks " << missing
                 << ": the large-shape comparisons ran without those levels";
  }
}

// ---------------------------------------------------------------------------------------------
// Embedding forward

struct GatherShape {
  std::int64_t dim;
  std::int64_t rows;
  std::int64_t n;
  DType dtype;
  Dist dist;
  std::string describe() const {
    return "gather D=" + std::to_string(dim) + " rows=" + std::to_string(rows) +
           " ids=" + std::to_string(n) + " " + std::string(embedkit::dtype_name(dtype)) + " " +
           dist_name(dist);
  }
};

// LibTorch's embedding once, then embedkit's allocating and _into forms at every setting.
void check_gather(const GatherShape& s, std::uint64_t seed, bool expect_stream) {
  SCOPED_TRACE(s.describe());
  const std::int64_t row_bytes = s.dim * elem_size(s.dtype);
  const FastPaths paths =
      fast_paths(s.rows * row_bytes, 2 * s.n * row_bytes, s.n * row_bytes, row_bytes, true);
  EXPECT_TRUE(paths.prefetch && paths.three_threads) << "shape below the fast-path thresholds";
  EXPECT_EQ(paths.stream, expect_stream) << "streaming stores";

  Rng rng(seed);
  const at::Tensor table = normal_tensor(seed, {s.rows, s.dim}, s.dtype);
  const std::vector<std::int64_t> id_values = IdSampler(s.rows, s.dist).draw(rng, s.n);
  for (const at::ScalarType id_type : {at::kLong, at::kInt}) {
    SCOPED_TRACE(id_type == at::kLong ? "int64 ids" : "int32 ids");
    const at::Tensor ids = torch_ids(id_values, id_type);
    at::Tensor expected;
    {
      at::NoGradGuard no_grad;
      expected = at::embedding(table, ids);
    }
    Tensor weight = view_of(table);
    const Tensor ek_ids = view_of(ids);
    Tensor out = Tensor::empty({s.n, s.dim}, s.dtype);
    for_each_kernel_setting([&] {
      EXPECT_TRUE(same_bits("embedding", nn::functional::embedding(ek_ids, weight), expected));
      // Poison the caller's output so that a row the kernel skipped shows.
      std::memset(out.raw_data(), 0xff, out.nbytes());
      nn::functional::embedding_into(ek_ids, weight, out);
      EXPECT_TRUE(same_bits("embedding_into", out, expected));
    });
    if (::testing::Test::HasFailure()) return;
  }
}

TEST_F(LargeShapes, EmbeddingForwardEveryWidthAndDtype) {
  std::uint64_t stream = 0;
  for (const std::int64_t dim : kWidths) {
    for (const DType dtype : kTableTypes) {
      const std::int64_t row_bytes = dim * elem_size(dtype);
      GatherShape s;
      s.dim = dim;
      s.dtype = dtype;
      // Tables of ~4 MiB (prefetched), outputs of ~4 MiB (three threads, not streamed).
      s.rows = count_for_bytes(4 * kMiB / kReduce, row_bytes, 4096, 1 << 21);
      s.n = count_for_bytes(4 * kMiB / kReduce, row_bytes, 4096, kMaxIds);
      s.dist = (stream % 2 == 0) ? Dist::kUniform : Dist::kZipf;
      check_gather(s, case_seed(base_seed(), 200, static_cast<int>(stream++)), false);
      if (HasFailure()) return;
    }
  }
}

// The streaming-store path: outputs of 64 MiB from a 256 MiB float32 table (D = 128, 512-byte
// rows) and a float16 one (D = 256).
TEST_F(LargeShapes, EmbeddingForwardStreamsLargeOutputs) {
  const std::int64_t out_bytes = 64 * kMiB;
  int index = 0;
  for (const auto& [dim, dtype, dist] :
       {std::tuple{std::int64_t{128}, DType::Float32, Dist::kUniform},
        std::tuple{std::int64_t{256}, DType::Float16, Dist::kZipf}}) {
    GatherShape s;
    s.dim = dim;
    s.dtype = dtype;
    s.dist = dist;
    const std::int64_t row_bytes = dim * elem_size(dtype);
    s.rows = (256 * kMiB / kReduce) / row_bytes;
    s.n = out_bytes / row_bytes;
    check_gather(s, case_seed(base_seed(), 201, index++), true);
    if (HasFailure()) return;
  }
}

// ---------------------------------------------------------------------------------------------
// EmbeddingBag forward

struct BagVariant {
  BagMode mode;
  bool psw;
  bool padding;
  std::string describe() const {
    return nn::bag_mode_name(mode) + (psw ? " per_sample_weights" : "") +
           (padding ? " padding_idx" : "");
  }
};

const std::vector<BagVariant> kBagVariants = {
    {BagMode::Sum, false, false},  {BagMode::Sum, true, false},  {BagMode::Sum, true, true},
    {BagMode::Mean, false, false}, {BagMode::Mean, false, true}, {BagMode::Max, false, false},
    {BagMode::Max, false, true},
};

std::int64_t mode_code(BagMode mode) {
  return mode == BagMode::Sum ? 0 : (mode == BagMode::Mean ? 1 : 2);
}

struct BagInputs {
  at::Tensor table;    // [rows, dim], the table dtype
  at::Tensor ids;      // [n] int64
  at::Tensor offsets;  // [bags] int64
  at::Tensor psw;      // [n], the table dtype
  std::int64_t padding = -1;
};

// LibTorch's bag, natively, or (`widen`) in float32 on the same values (exact), rounded once at
// the end: what a float32 accumulation rounded once gives. bfloat16 is always widened (LibTorch
// 1.13 has no bfloat16 EmbeddingBag on CPU).
at::Tensor torch_bag_forward(const BagInputs& in, const BagVariant& v, bool widen) {
  at::NoGradGuard no_grad;
  const at::ScalarType type = in.table.scalar_type();
  widen = widen || type == at::kBFloat16;
  const at::Tensor table = widen ? in.table.to(at::kFloat) : in.table;
  c10::optional<at::Tensor> psw;
  if (v.psw) psw = widen ? in.psw.to(at::kFloat) : in.psw;
  c10::optional<std::int64_t> padding;
  if (v.padding) padding = in.padding;
  at::Tensor out = std::get<0>(at::embedding_bag(table, in.ids, in.offsets, false,
                                                 mode_code(v.mode), false, psw, false, padding));
  return out.to(type).contiguous();
}

nn::EmbeddingBagFuncOptions bag_options(const BagVariant& v, std::int64_t padding) {
  auto o = nn::EmbeddingBagFuncOptions().mode(v.mode);
  if (v.padding) o.padding_idx(padding);
  return o;
}

void check_bag_forward(const BagInputs& in, const std::vector<BagVariant>& variants) {
  Tensor weight = view_of(in.table);
  const Tensor ids = view_of(in.ids);
  const Tensor offsets = view_of(in.offsets);
  const Tensor psw = view_of(in.psw);
  for (const BagVariant& v : variants) {
    SCOPED_TRACE(v.describe());
    // float16 mean: LibTorch 1.13 rounds each bag's float32 sum to float16 and then divides in
    // float16 (two roundings); embedkit divides the float32 sum and rounds once. The result is
    // bitwise LibTorch's float32 mean rounded once, and within one float16 rounding
    // (2 u |torch|, u = 2^-11) of LibTorch's own float16 mean.
    const bool half_mean = weight.dtype() == DType::Float16 && v.mode == BagMode::Mean;
    const at::Tensor expected = torch_bag_forward(in, v, half_mean);
    const at::Tensor native = half_mean ? torch_bag_forward(in, v, false) : at::Tensor();
    const at::Tensor native_bound =
        half_mean ? 2.0 * (unit_roundoff(DType::Float16) * native.to(at::kDouble).abs() +
                           subnormal_half_step(DType::Float16))
                  : at::Tensor();
    const Tensor w = v.psw ? psw : Tensor();
    const auto options = bag_options(v, in.padding);
    Tensor out = Tensor::empty({in.offsets.size(0), in.table.size(1)}, weight.dtype());
    for_each_kernel_setting([&] {
      EXPECT_TRUE(same_bits("embedding_bag",
                            nn::functional::embedding_bag(ids, weight, offsets, options, w),
                            expected));
      std::memset(out.raw_data(), 0xff, out.nbytes());
      nn::functional::embedding_bag_into(ids, weight, offsets, out, options, w);
      EXPECT_TRUE(same_bits("embedding_bag_into", out, expected));
      if (half_mean) {
        EXPECT_TRUE(
            within_bound("embedding_bag_into vs torch's float16 mean", out, native, native_bound));
      }
    });
    if (::testing::Test::HasFailure()) return;
  }
}

BagInputs make_bag_inputs(std::uint64_t seed, std::int64_t rows, std::int64_t dim, DType dtype,
                          std::int64_t n, std::int64_t mean_bag, Dist dist) {
  Rng rng(seed);
  const IdSampler sampler(rows, dist);
  BagInputs in;
  in.table = normal_tensor(seed, {rows, dim}, dtype);
  in.ids = torch_ids(sampler.draw(rng, n));
  in.offsets =
      mean_bag == 1 ? at::arange(n, at::kLong) : torch_ids(random_offsets(rng, n, mean_bag));
  in.psw = normal_tensor(seed + 1, {n}, dtype);
  in.padding = sampler.row_of_rank(1);  // a hot row under Zipf
  return in;
}

TEST_F(LargeShapes, EmbeddingBagForwardEveryWidthAndDtype) {
  if (kTorch113) {
    // bfloat16 bags are compared with LibTorch's float32 bag rounded once because 1.13 refuses
    // them on CPU; a LibTorch that accepts them should be compared natively instead.
    std::string message;
    EXPECT_TRUE(torch_throws(
        [] {
          (void)at::embedding_bag(at::zeros({4, 2}, at::kBFloat16), at::zeros({2}, at::kLong),
                                  at::zeros({1}, at::kLong));
        },
        &message))
        << "LibTorch 1.13 was expected to refuse bfloat16 EmbeddingBag on CPU";
  }
  int index = 0;
  for (const std::int64_t dim : kWidths) {
    for (const DType dtype : kTableTypes) {
      const std::int64_t row_bytes = dim * elem_size(dtype);
      const std::int64_t rows = count_for_bytes(4 * kMiB / kReduce, row_bytes, 4096, 1 << 21);
      // 2 MiB of rows in every build: three threads need 768 KiB.
      const std::int64_t n = count_for_bytes(2 * kMiB, row_bytes, 4096, kMaxIds);
      const Dist dist = index % 2 == 0 ? Dist::kZipf : Dist::kUniform;
      SCOPED_TRACE("bags D=" + std::to_string(dim) + " rows=" + std::to_string(rows) +
                   " ids=" + std::to_string(n) + " bags of 0..32 ids " +
                   std::string(embedkit::dtype_name(dtype)) + " " + dist_name(dist));
      const BagInputs in =
          make_bag_inputs(case_seed(base_seed(), 300, index++), rows, dim, dtype, n, 16, dist);
      const FastPaths paths = fast_paths(rows * row_bytes, n * row_bytes, 0, row_bytes, false);
      EXPECT_TRUE(paths.prefetch && paths.three_threads) << "shape below the fast-path thresholds";
      check_bag_forward(in, kBagVariants);
      if (HasFailure()) return;
    }
  }
}

// Bags of exactly one id each (as many ids as bags) take their own kernel for sum and mean.
TEST_F(LargeShapes, EmbeddingBagForwardSingleIdBags) {
  int index = 0;
  for (const std::int64_t dim : {std::int64_t{16}, std::int64_t{64}, std::int64_t{100},
                                 std::int64_t{128}, std::int64_t{256}}) {
    for (const DType dtype : kTableTypes) {
      const std::int64_t row_bytes = dim * elem_size(dtype);
      const std::int64_t rows = count_for_bytes(4 * kMiB / kReduce, row_bytes, 4096, 1 << 21);
      const std::int64_t n = count_for_bytes(2 * kMiB / kReduce, row_bytes, 4096, kMaxIds);
      SCOPED_TRACE("single-id bags D=" + std::to_string(dim) + " rows=" + std::to_string(rows) +
                   " bags=" + std::to_string(n) + " " + std::string(embedkit::dtype_name(dtype)));
      const BagInputs in = make_bag_inputs(case_seed(base_seed(), 301, index++), rows, dim, dtype,
                                           n, 1, Dist::kZipf);
      check_bag_forward(in, {{BagMode::Sum, false, false},
                             {BagMode::Sum, false, true},
                             {BagMode::Mean, false, false},
                             {BagMode::Mean, false, true}});
      if (HasFailure()) return;
    }
  }
}

// 10^6 Zipf ids in bags of ~20 over a 256 MiB float32 table.
TEST_F(LargeShapes, EmbeddingBagForwardMillionIdsLargeTable) {
  const std::int64_t dim = 128;
  const std::int64_t rows = (256 * kMiB / kReduce) / (dim * 4);
  const BagInputs in = make_bag_inputs(case_seed(base_seed(), 302, 0), rows, dim, DType::Float32,
                                       kMaxIds / kReduce, 20, Dist::kZipf);
  SCOPED_TRACE("bags D=128 rows=" + std::to_string(rows) +
               " ids=" + std::to_string(kMaxIds / kReduce) + " bags of 0..40 float32 zipf");
  check_bag_forward(in, {{BagMode::Sum, false, false},
                         {BagMode::Sum, true, false},
                         {BagMode::Mean, false, true},
                         {BagMode::Max, false, false}});
}

// ---------------------------------------------------------------------------------------------
// Embedding backward

// Number of times each row occurs in ids, padding excluded ([rows] int64).
at::Tensor row_counts(const at::Tensor& ids, std::int64_t rows, std::int64_t padding) {
  at::Tensor counts = at::bincount(ids.to(at::kLong), {}, rows);
  if (padding >= 0) counts[padding] = 0;
  return counts;
}

TEST_F(LargeShapes, EmbeddingBackwardDenseAndSparse) {
  int index = 0;
  for (const std::int64_t dim : kWidths) {
    for (const DType dtype : kTableTypes) {
      const std::int64_t row_bytes = dim * elem_size(dtype);
      const std::int64_t rows = count_for_bytes(2 * kMiB / kReduce, row_bytes, 4096, 1 << 20);
      const std::int64_t n = count_for_bytes(4 * kMiB / kReduce, row_bytes, 4096, kMaxBackwardIds);
      const Dist dist = index % 2 == 0 ? Dist::kZipf : Dist::kUniform;
      const std::uint64_t seed = case_seed(base_seed(), 400, index++);
      SCOPED_TRACE("embedding backward D=" + std::to_string(dim) + " rows=" + std::to_string(rows) +
                   " ids=" + std::to_string(n) + " " + std::string(embedkit::dtype_name(dtype)) +
                   " " + dist_name(dist));
      Rng rng(seed);
      const IdSampler sampler(rows, dist);
      const at::Tensor ids = torch_ids(sampler.draw(rng, n));
      const at::Tensor grad = normal_tensor(seed, {n, dim}, dtype);
      const at::Tensor grad32 = grad.to(at::kFloat);
      const std::int64_t padding = sampler.row_of_rank(2);
      const Tensor ek_ids = view_of(ids);
      const Tensor ek_grad = view_of(grad);
      const double u = unit_roundoff(dtype);

      for (const bool freq : {false, true}) {
        SCOPED_TRACE(freq ? "scale_grad_by_freq padding_idx" : "padding_idx");
        const auto options =
            nn::EmbeddingFuncOptions().padding_idx(padding).scale_grad_by_freq(freq);
        // LibTorch's float32 gradient (input order), rounded once to the table's dtype.
        const at::Tensor torch32 = at::embedding_dense_backward(grad32, ids, rows, padding, freq);
        const at::Tensor rounded = torch32.to(to_torch(dtype)).contiguous();
        // LibTorch's own 16-bit path rounds after every addition (see the header).
        const bool native_check = dtype != DType::Float32 && dist == Dist::kUniform;
        const at::Tensor native = native_check
                                      ? at::embedding_dense_backward(grad, ids, rows, padding, freq)
                                      : at::Tensor();
        const at::Tensor magnitude =
            freq || native_check
                ? at::embedding_dense_backward(grad32.abs(), ids, rows, padding, freq)
                : at::Tensor();
        const at::Tensor counts = row_counts(ids, rows, padding);
        // scale_grad_by_freq: the bound of the header with u = 2^-24, plus the final rounding
        // of a 16-bit result.
        const at::Tensor freq_bound =
            freq
                ? summation_bound(counts, magnitude, unit_roundoff(DType::Float32)) +
                      (dtype == DType::Float32
                           ? 0.0 * torch32.to(at::kDouble)
                           : 2.0 * (u * torch32.to(at::kDouble).abs() + subnormal_half_step(dtype)))
                : at::Tensor();
        const at::Tensor native_bound =
            native_check ? summation_bound(counts, magnitude, u, subnormal_half_step(dtype))
                         : at::Tensor();
        for_each_kernel_setting([&] {
          const Tensor dense =
              nn::functional::embedding_backward(ek_ids, ek_grad, rows, options).dense();
          if (!freq) {
            EXPECT_TRUE(same_bits("dense grad vs torch float32, rounded once", dense, rounded));
          } else {
            EXPECT_TRUE(within_bound("dense grad (scale_grad_by_freq) vs torch float32", dense,
                                     torch32, freq_bound));
          }
          if (native_check) {
            EXPECT_TRUE(
                within_bound("dense grad vs torch's 16-bit path", dense, native, native_bound));
          }
        });
        if (HasFailure()) return;
      }

      // Sparse: the ids in input order without padding, the gradient rows copied.
      const at::Tensor sparse = at::embedding_sparse_backward(grad, ids, rows, padding, false);
      const auto options = nn::EmbeddingFuncOptions().padding_idx(padding).sparse(true);
      for_each_kernel_setting([&] {
        const nn::WeightGrad g = nn::functional::embedding_backward(ek_ids, ek_grad, rows, options);
        EXPECT_TRUE(same_bits("sparse indices", g.sparse().indices(),
                              sparse._indices().reshape({-1}).contiguous()));
        EXPECT_TRUE(same_bits("sparse values", g.sparse().values(), sparse._values().contiguous()));
      });
      if (HasFailure()) return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// EmbeddingBag backward. The main oracle is LibTorch's float32 bag on the same values (float16
// widened exactly): embedkit accumulates 16-bit gradients in float32 and rounds once. float16,
// which LibTorch 1.13 runs natively, is also compared with LibTorch's own float16 path: bitwise
// for sum-mode sparse values, within a bound elsewhere (see the header), and only for uniform ids
// (under Zipf a hot row sums ~10^5 terms, which float16 accumulation cannot represent: LibTorch's
// own result is then off by whole units, and so would be any bound).

struct TorchBagGrads {
  at::Tensor weight;  // dense [rows, D] or sparse
  at::Tensor psw;     // [n], or undefined
};

// torch.embedding_bag's backward; `absolute` runs it on |table|, |grad_output| and
// |per_sample_weights|, whose gradients are the magnitudes of the terms (for max, on the signed
// table, so that the same arg-max rows are chosen).
TorchBagGrads torch_bag_backward(const BagInputs& in, const BagVariant& v,
                                 const at::Tensor& grad_out, bool sparse, at::ScalarType type,
                                 bool absolute) {
  const bool abs_table = absolute && v.mode != BagMode::Max;
  // Copies (to() returns its input when the type is unchanged): the leaves must not be the
  // caller's tensors.
  at::Tensor table = (abs_table ? in.table.abs() : in.table)
                         .to(type, /*non_blocking=*/false, /*copy=*/true)
                         .requires_grad_(true);
  at::Tensor psw = (absolute ? in.psw.abs() : in.psw)
                       .to(type, /*non_blocking=*/false, /*copy=*/true)
                       .requires_grad_(true);
  c10::optional<at::Tensor> w;
  if (v.psw) w = psw;
  c10::optional<std::int64_t> padding;
  if (v.padding) padding = in.padding;
  std::get<0>(at::embedding_bag(table, in.ids, in.offsets, false, mode_code(v.mode), sparse, w,
                                false, padding))
      .backward((absolute ? grad_out.abs() : grad_out).to(type));
  return {table.grad(), v.psw ? psw.grad() : at::Tensor()};
}

TEST_F(LargeShapes, EmbeddingBagBackward) {
  int index = 0;
  for (const std::int64_t dim : {std::int64_t{1}, std::int64_t{16}, std::int64_t{64},
                                 std::int64_t{129}, std::int64_t{256}}) {
    for (const DType dtype : {DType::Float32, DType::Float16, DType::BFloat16}) {
      const std::int64_t row_bytes = dim * elem_size(dtype);
      const std::int64_t rows = count_for_bytes(2 * kMiB / kReduce, row_bytes, 4096, 1 << 20);
      const std::int64_t n = count_for_bytes(2 * kMiB / kReduce, row_bytes, 4096, kMaxBackwardIds);
      const Dist dist = index % 2 == 0 ? Dist::kZipf : Dist::kUniform;
      const std::uint64_t seed = case_seed(base_seed(), 500, index++);
      SCOPED_TRACE("bag backward D=" + std::to_string(dim) + " rows=" + std::to_string(rows) +
                   " ids=" + std::to_string(n) + " bags of 0..32 " +
                   std::string(embedkit::dtype_name(dtype)) + " " + dist_name(dist));
      const BagInputs in = make_bag_inputs(seed, rows, dim, dtype, n, 16, dist);
      const std::int64_t bags = in.offsets.size(0);
      const at::Tensor grad_out = normal_tensor(seed + 2, {bags, dim}, dtype);
      Tensor weight = view_of(in.table);
      const Tensor ids = view_of(in.ids);
      const Tensor offsets = view_of(in.offsets);
      const Tensor ek_grad_out = view_of(grad_out);
      const double u = unit_roundoff(dtype);
      const double u32 = unit_roundoff(DType::Float32);
      const bool native_check = dtype == DType::Float16 && dist == Dist::kUniform;

      for (const BagVariant& v : kBagVariants) {
        for (const bool sparse : {false, true}) {
          if (sparse && v.mode == BagMode::Max) continue;  // max + sparse: ValueError in both
          SCOPED_TRACE(v.describe() + (sparse ? " sparse" : " dense"));
          const TorchBagGrads t32 = torch_bag_backward(in, v, grad_out, sparse, at::kFloat, false);
          TorchBagGrads native, magnitude;
          if (dtype == DType::Float16) {
            native = torch_bag_backward(in, v, grad_out, sparse, at::kHalf, false);
          }
          if (!sparse) magnitude = torch_bag_backward(in, v, grad_out, false, at::kFloat, true);
          const at::Tensor counts = row_counts(in.ids, rows, v.padding ? in.padding : -1);
          // One more rounding of the float32 result to the table's dtype, on either side: at
          // most u relative, or half a subnormal step below the smallest normal number.
          const double h = subnormal_half_step(dtype);
          const auto to_dtype = [&](const at::Tensor& x) {
            return dtype == DType::Float32 ? 0.0 * x.to(at::kDouble)
                                           : 2.0 * (u * x.to(at::kDouble).abs() + h);
          };
          // The expectations and bounds, once for every setting.
          at::Tensor sparse_indices, sparse_values32, sparse_values_native, sparse_native_bound;
          at::Tensor dense_bound32, dense_bound_native, psw_bound32, psw_bound_native;
          if (sparse) {
            sparse_indices = t32.weight._indices().reshape({-1}).contiguous();
            sparse_values32 = t32.weight._values().to(to_torch(dtype)).contiguous();
            if (dtype == DType::Float16) {
              sparse_values_native = native.weight._values().contiguous();
              // Mean: LibTorch rounds 1 / bag_size to float16 before multiplying.
              sparse_native_bound = 3.0 * (u * sparse_values_native.to(at::kDouble).abs() + h);
            }
          } else {
            // LibTorch adds in sorted-id order, embedkit in input order.
            dense_bound32 = summation_bound(counts, magnitude.weight, u32) + to_dtype(t32.weight);
            if (native_check) dense_bound_native = summation_bound(counts, magnitude.weight, u, h);
            if (v.psw) {
              // Dot products over D, vectorised differently.
              const at::Tensor m = magnitude.psw.to(at::kDouble);
              const double terms = 2.0 * static_cast<double>(dim + 1);
              psw_bound32 = terms * u32 * m + to_dtype(t32.psw) + 1e-30;
              if (native_check) psw_bound_native = terms * (u * m + h);
            }
          }
          const auto options = bag_options(v, in.padding).sparse(sparse);
          const Tensor w = v.psw ? view_of(in.psw) : Tensor();
          for_each_kernel_setting([&] {
            const nn::EmbeddingBagGrad g = nn::functional::embedding_bag_backward(
                ids, weight, offsets, ek_grad_out, options, w);
            if (sparse) {
              const Tensor& values = g.weight.sparse().values();
              EXPECT_TRUE(same_bits("sparse indices", g.weight.sparse().indices(), sparse_indices));
              // Each value is one product (or a copy) of 16-bit inputs computed in float32 and
              // rounded once on both sides.
              EXPECT_TRUE(same_bits("sparse values vs torch float32, rounded once", values,
                                    sparse_values32));
              if (dtype == DType::Float16 && v.mode != BagMode::Mean) {
                EXPECT_TRUE(
                    same_bits("sparse values vs torch float16", values, sparse_values_native));
              } else if (dtype == DType::Float16) {
                EXPECT_TRUE(within_bound("sparse values vs torch float16 (mean)", values,
                                         sparse_values_native, sparse_native_bound));
              }
            } else {
              EXPECT_TRUE(within_bound("dense grad vs torch float32", g.weight.dense(), t32.weight,
                                       dense_bound32));
              if (native_check) {
                EXPECT_TRUE(within_bound("dense grad vs torch float16", g.weight.dense(),
                                         native.weight, dense_bound_native));
              }
              if (v.psw) {
                EXPECT_TRUE(within_bound("per_sample_weights grad vs torch float32",
                                         g.per_sample_weights, t32.psw, psw_bound32));
                if (native_check) {
                  EXPECT_TRUE(within_bound("per_sample_weights grad vs torch float16",
                                           g.per_sample_weights, native.psw, psw_bound_native));
                }
              }
            }
          });
          if (HasFailure()) return;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The fused backward + optimizer step.
//
// The oracle is LibTorch's sparse backward (embedding_sparse_backward / embedding_bag with
// sparse=True: one entry per id, in input order), each row's entries summed in input order
// (index_add_), the touched rows as a coalesced sparse gradient, then torch::optim's step:
// optim/fused_backward.hpp promises bit-for-bit equality with a coalesced backward then step.
// (Handing torch::optim the uncoalesced gradient is another computation: SGD applies a repeated
// row's entries one at a time, and Adagrad's coalesce sums them in its sort's order.)

struct TorchOptimizer {
  at::Tensor param;
  std::unique_ptr<torch::optim::Optimizer> opt;
};

TorchOptimizer make_torch_optimizer(const std::string& name, const at::Tensor& initial) {
  TorchOptimizer t;
  t.param = initial.clone().requires_grad_(true);
  if (name == "SGD") {
    t.opt = std::make_unique<torch::optim::SGD>(std::vector<at::Tensor>{t.param},
                                                torch::optim::SGDOptions(0.05));
  } else {
    t.opt = std::make_unique<torch::optim::Adagrad>(
        std::vector<at::Tensor>{t.param},
        torch::optim::AdagradOptions(0.05).lr_decay(0.01).eps(1e-6));
  }
  return t;
}

std::unique_ptr<embedkit::optim::Optimizer> make_embedkit_optimizer(
    const std::string& name, Tensor& table, std::optional<std::int64_t> pad) {
  std::vector<embedkit::optim::Parameter> params{{"weight", table, pad}};
  if (name == "SGD") {
    return std::make_unique<embedkit::optim::SGD>(std::move(params),
                                                  embedkit::optim::SGDOptions(0.05));
  }
  return std::make_unique<embedkit::optim::Adagrad>(
      std::move(params), embedkit::optim::AdagradOptions(0.05).lr_decay(0.01).eps(1e-6));
}

// The coalesced gradient of an uncoalesced sparse one, rows summed in input order.
at::Tensor coalesce_in_input_order(const at::Tensor& sparse_grad) {
  const at::Tensor indices = sparse_grad._indices().reshape({-1});
  const at::Tensor values = sparse_grad._values();
  at::Tensor sums = at::zeros(sparse_grad.sizes(), values.options()).index_add_(0, indices, values);
  const at::Tensor rows = std::get<0>(at::_unique(indices, /*sorted=*/true));
  return at::_sparse_coo_tensor_unsafe(rows.unsqueeze(0), sums.index_select(0, rows),
                                       sparse_grad.sizes())
      ._coalesced_(true);
}

struct FusedBatch {
  at::Tensor ids;
  at::Tensor offsets;  // bags only
  at::Tensor psw;      // bags with weights only
  at::Tensor grad_out;
};

TEST_F(LargeShapes, FusedStepEqualsTorchSparseBackwardThenStep) {
  // A 16 MiB table, larger than the L2 cache, so the step prefetches its rows (and the
  // optimizer's state), as it does the gradient rows of both steps: 250k ids carry 64 MiB of
  // them, 50k ids 12.5 MiB.
  const std::int64_t dim = 64;
  const std::int64_t rows = (16 * kMiB / kReduce) / (dim * 4);
  const std::vector<std::int64_t> step_ids = {kMaxIds / 4 / kReduce, kMaxIds / 20 / kReduce};
  if (kReduce == 1) {
    EXPECT_GT(rows * dim * 4, cpu::l2_cache_bytes());
    EXPECT_GT(step_ids[1] * dim * 4, cpu::l2_cache_bytes());
  }
  const std::int64_t padding = IdSampler(rows, Dist::kZipf).row_of_rank(3);
  const at::Tensor initial =
      normal_tensor(case_seed(base_seed(), 600, 0), {rows, dim}, DType::Float32);
  // Two Zipf batches (the second step sees the first's optimizer state).
  const auto batches = [&](bool bag, bool psw) {
    std::vector<FusedBatch> out;
    for (int step = 0; step < static_cast<int>(step_ids.size()); ++step) {
      const std::uint64_t seed = case_seed(base_seed(), 601, step);
      const std::int64_t n = step_ids[static_cast<std::size_t>(step)];
      Rng rng(seed);
      FusedBatch b;
      b.ids = torch_ids(IdSampler(rows, Dist::kZipf).draw(rng, n));
      std::int64_t outputs = n;
      if (bag) {
        b.offsets = torch_ids(random_offsets(rng, n, 20));
        outputs = b.offsets.size(0);
        if (psw) b.psw = normal_tensor(seed + 1, {n}, DType::Float32);
      }
      b.grad_out = normal_tensor(seed + 2, {outputs, dim}, DType::Float32);
      out.push_back(b);
    }
    return out;
  };
  // exact: each id's term is its gradient row itself (Embedding; sum bags without weights), so
  // both sides add the same numbers in the same order. Otherwise (per-sample weights, mean) a
  // term is a product: LibTorch's sparse backward rounds it, and embedkit's backward (hence the
  // fused step) adds it with a fused multiply-add (kernels::bag_grad_scale). The gradient
  // rows then differ within 2 (k + 1) u S (the header's bound, u = 2^-24, k the row's terms, S
  // the sum of their magnitudes), and SGD's table within lr times that plus one rounding of the
  // table per step. Adagrad divides by the root of the squared gradient, which turns such a
  // difference near g = 0 into one of up to lr: no useful bound, so those variants run SGD only.
  struct Variant {
    bool bag;
    BagMode mode;
    bool psw;
    bool exact;
    std::string name;
  };
  const double lr = 0.05;  // make_torch_optimizer's and make_embedkit_optimizer's
  const double u = unit_roundoff(DType::Float32);
  for (const Variant& v :
       {Variant{false, BagMode::Sum, false, true, "Embedding"},
        Variant{true, BagMode::Sum, false, true, "EmbeddingBag sum"},
        Variant{true, BagMode::Sum, true, false, "EmbeddingBag sum, per_sample_weights"},
        Variant{true, BagMode::Mean, false, false, "EmbeddingBag mean"}}) {
    const std::vector<FusedBatch> data = batches(v.bag, v.psw);
    for (const std::string optimizer : {"SGD", "Adagrad"}) {
      if (!v.exact && optimizer != "SGD") continue;
      SCOPED_TRACE(v.name + ", " + optimizer + ", D=64 rows=" + std::to_string(rows) +
                   " ids=" + std::to_string(step_ids[0]) + " then " + std::to_string(step_ids[1]) +
                   " zipf padding_idx=" + std::to_string(padding));
      // The oracle, after each step, and (inexact variants) the bound on the difference.
      std::vector<at::Tensor> expected, bound;
      at::Tensor total_bound = at::zeros({rows, dim}, at::kDouble);
      TorchOptimizer t = make_torch_optimizer(optimizer, initial);
      for (const FusedBatch& b : data) {
        at::Tensor sparse_grad;
        if (v.bag) {
          at::Tensor table = t.param.detach().requires_grad_(true);
          c10::optional<at::Tensor> w;
          if (v.psw) w = b.psw;
          std::get<0>(at::embedding_bag(table, b.ids, b.offsets, false, mode_code(v.mode), true, w,
                                        false, padding))
              .backward(b.grad_out);
          sparse_grad = table.grad();
        } else {
          sparse_grad = at::embedding_sparse_backward(b.grad_out, b.ids, rows, padding, false);
        }
        t.param.mutable_grad() = coalesce_in_input_order(sparse_grad);
        t.opt->step();
        expected.push_back(t.param.detach().clone());
        if (!v.exact) {
          const at::Tensor indices = sparse_grad._indices().reshape({-1});
          const at::Tensor magnitude =
              at::zeros({rows, dim}, at::kDouble)
                  .index_add_(0, indices, sparse_grad._values().abs().to(at::kDouble));
          const at::Tensor terms = at::bincount(indices, {}, rows);
          total_bound = total_bound + lr * summation_bound(terms, magnitude, u) +
                        2.0 * u * expected.back().to(at::kDouble).abs();
          bound.push_back(total_bound);
        }
      }

      for_each_kernel_setting([&] {
        Tensor table = from_torch(initial);
        auto opt = make_embedkit_optimizer(optimizer, table, padding);
        for (std::size_t step = 0; step < data.size(); ++step) {
          const FusedBatch& b = data[step];
          if (v.bag) {
            nn::EmbeddingBag module(
                nn::EmbeddingBagOptions(rows, dim).weight(table).mode(v.mode).padding_idx(padding));
            embedkit::optim::fused_backward_step(module, view_of(b.ids), view_of(b.offsets),
                                                 view_of(b.grad_out), *opt,
                                                 v.psw ? view_of(b.psw) : Tensor());
          } else {
            nn::Embedding module(
                nn::EmbeddingOptions(rows, dim).weight(table).padding_idx(padding));
            embedkit::optim::fused_backward_step(module, view_of(b.ids), view_of(b.grad_out), *opt);
          }
          const std::string what = "table after step " + std::to_string(step + 1);
          if (v.exact) {
            EXPECT_TRUE(same_bits(what, table, expected[step]));
          } else {
            EXPECT_TRUE(within_bound(what, table, expected[step], bound[step]));
          }
        }
      });
      if (HasFailure()) return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Unknown-id policies. LibTorch has none (an out-of-range id is an error); the comparable
// LibTorch computation is the same call on the ids the policy resolves to: map_to_row(r) replaces
// every out-of-range id by r, hash() by splitmix64(id) mod N (unknown_ids.hpp; mix64 is the same
// function, written again in diff_support.cpp). In-range ids are never remapped.

TEST_F(LargeShapes, UnknownIdPoliciesEqualTorchOnResolvedIds) {
  // A 32 MiB table; the gathers' 32 MiB outputs are written with streaming stores.
  const std::int64_t dim = 64;
  const std::int64_t rows = (32 * kMiB / kReduce) / (dim * 4);
  const std::int64_t n = cpu::kStreamMinBytes / (dim * 4);
  const std::uint64_t seed = case_seed(base_seed(), 700, 0);
  Rng rng(seed);
  std::vector<std::int64_t> raw = IdSampler(rows, Dist::kZipf).draw(rng, n);
  // One id in 20 is unknown: past the end (up to 2^62) or negative.
  for (auto& id : raw) {
    if (rng.bernoulli(0.05)) {
      id = rng.bernoulli(0.5) ? rows + rng.uniform_int(0, std::int64_t{1} << 62)
                              : -1 - rng.uniform_int(0, std::int64_t{1} << 40);
    }
  }
  const std::vector<std::int64_t> offsets = random_offsets(rng, n, 20);
  const at::Tensor table = normal_tensor(seed, {rows, dim}, DType::Float32);
  const at::Tensor grad = normal_tensor(seed + 1, {n, dim}, DType::Float32);
  const at::Tensor bag_grad =
      normal_tensor(seed + 2, {static_cast<std::int64_t>(offsets.size()), dim}, DType::Float32);
  Tensor weight = view_of(table);
  const at::Tensor torch_raw = torch_ids(raw);
  const at::Tensor torch_offsets = torch_ids(offsets);
  const Tensor ids = view_of(torch_raw);
  const Tensor ek_offsets = view_of(torch_offsets);

  const std::int64_t unk_row = rows / 3;
  for (const auto& [policy, name] : {std::pair{nn::UnknownIds::map_to_row(unk_row),
                                               "map_to_row(" + std::to_string(unk_row) + ")"},
                                     std::pair{nn::UnknownIds::hash(), std::string("hash")}}) {
    SCOPED_TRACE("unknown ids " + name + ", D=64 rows=" + std::to_string(rows) +
                 " ids=" + std::to_string(n) + " (5% unknown) zipf");
    std::vector<std::int64_t> resolved = raw;
    for (auto& id : resolved) {
      if (id >= 0 && id < rows) continue;
      id = policy.kind() == nn::UnknownIds::Kind::MapToRow
               ? unk_row
               : static_cast<std::int64_t>(mix64(static_cast<std::uint64_t>(id)) %
                                           static_cast<std::uint64_t>(rows));
    }
    const at::Tensor torch_resolved = torch_ids(resolved);
    at::Tensor expected_gather, expected_dense, expected_sparse;
    {
      at::NoGradGuard no_grad;
      expected_gather = at::embedding(table, torch_resolved);
    }
    expected_dense = at::embedding_dense_backward(grad, torch_resolved, rows, -1, false);
    expected_sparse = at::embedding_sparse_backward(grad, torch_resolved, rows, -1, false);
    std::vector<at::Tensor> expected_bags;
    for (const BagMode mode : {BagMode::Sum, BagMode::Mean, BagMode::Max}) {
      at::NoGradGuard no_grad;
      expected_bags.push_back(
          std::get<0>(at::embedding_bag(table, torch_resolved, torch_offsets, false,
                                        mode_code(mode), false, c10::nullopt, false, c10::nullopt))
              .contiguous());
    }
    const at::Tensor expected_bag_sparse = [&] {
      at::Tensor t = table.clone().requires_grad_(true);
      std::get<0>(at::embedding_bag(t, torch_resolved, torch_offsets, false, 0, true, c10::nullopt,
                                    false, c10::nullopt))
          .backward(bag_grad);
      return t.grad();
    }();

    const auto options = nn::EmbeddingFuncOptions().unknown_ids(policy);
    for_each_kernel_setting([&] {
      EXPECT_TRUE(
          same_bits("embedding", nn::functional::embedding(ids, weight, options), expected_gather));
      Tensor out = Tensor::empty({n, dim});
      nn::functional::embedding_into(ids, weight, out, options);
      EXPECT_TRUE(same_bits("embedding_into", out, expected_gather));
      EXPECT_TRUE(same_bits(
          "dense grad",
          nn::functional::embedding_backward(view_of(torch_raw), view_of(grad), rows, options)
              .dense(),
          expected_dense));
      const nn::WeightGrad sparse = nn::functional::embedding_backward(
          ids, view_of(grad), rows, nn::EmbeddingFuncOptions(options).sparse(true));
      EXPECT_TRUE(same_bits("sparse indices", sparse.sparse().indices(),
                            expected_sparse._indices().reshape({-1}).contiguous()));
      EXPECT_TRUE(same_bits("sparse values", sparse.sparse().values(),
                            expected_sparse._values().contiguous()));
      int m = 0;
      for (const BagMode mode : {BagMode::Sum, BagMode::Mean, BagMode::Max}) {
        const auto bag_options_ = nn::EmbeddingBagFuncOptions().mode(mode).unknown_ids(policy);
        EXPECT_TRUE(same_bits("embedding_bag " + nn::bag_mode_name(mode),
                              nn::functional::embedding_bag(ids, weight, ek_offsets, bag_options_),
                              expected_bags[static_cast<std::size_t>(m++)]));
      }
      const nn::EmbeddingBagGrad bag_sparse = nn::functional::embedding_bag_backward(
          ids, weight, ek_offsets, view_of(bag_grad),
          nn::EmbeddingBagFuncOptions().mode(BagMode::Sum).sparse(true).unknown_ids(policy));
      EXPECT_TRUE(same_bits("bag sparse indices", bag_sparse.weight.sparse().indices(),
                            expected_bag_sparse._indices().reshape({-1}).contiguous()));
      EXPECT_TRUE(same_bits("bag sparse values", bag_sparse.weight.sparse().values(),
                            expected_bag_sparse._values().contiguous()));
    });
    if (HasFailure()) return;
  }
}

// ---------------------------------------------------------------------------------------------
// Bad ids in large inputs: the error type LibTorch raises, mapped (see torch_error_kind), is the
// one embedkit raises, at every setting (the multi-threaded validation must report the first bad
// position, not a later one a faster thread found first), and nothing is written.

TEST_F(LargeShapes, BadIdErrorsMatchTorch) {
  const std::int64_t dim = 16;
  const std::int64_t rows = (16 * kMiB / kReduce) / (dim * 4);
  const std::int64_t n = kMaxIds;
  const std::uint64_t seed = case_seed(base_seed(), 800, 0);
  Rng rng(seed);
  const std::vector<std::int64_t> good = IdSampler(rows, Dist::kUniform).draw(rng, n);
  const at::Tensor table = normal_tensor(seed, {rows, dim}, DType::Float32);
  const at::Tensor original = table.clone();
  const std::vector<std::int64_t> offsets = random_offsets(rng, n, 20);
  const at::Tensor torch_offsets = torch_ids(offsets);

  struct BadCase {
    std::string name;
    std::int64_t first;   // position of the first bad id
    std::int64_t value;   // its value
    std::int64_t second;  // a later bad position (in a later thread's chunk), or -1
  };
  const std::vector<BadCase> cases = {
      {"id == num_embeddings near the end", n - 3, rows, -1},
      {"negative id in the middle, another bad id later", n / 2 + 7, -1, n - 1},
      {"huge id in the last third, negative one after it", (2 * n) / 3, rows + 123456789, n - 10},
      {"bad id at position 0, more in every chunk", 0, rows + 1, n / 3},
  };
  for (const at::ScalarType id_type : {at::kLong, at::kInt}) {
    for (const BadCase& c : cases) {
      SCOPED_TRACE(c.name + (id_type == at::kLong ? " (int64 ids)" : " (int32 ids)") +
                   ", D=16 rows=" + std::to_string(rows) + " ids=" + std::to_string(n));
      std::vector<std::int64_t> bad = good;
      bad[static_cast<std::size_t>(c.first)] = c.value;
      if (c.second >= 0) bad[static_cast<std::size_t>(c.second)] = -7;
      const at::Tensor ids = torch_ids(bad, id_type);

      std::string embedding_message, bag_message;
      const ErrorKind torch_embedding = torch_error_kind(
          [&] {
            at::NoGradGuard no_grad;
            (void)at::embedding(table, ids);
          },
          &embedding_message);
      // LibTorch checks ids only on the float32 sum fast path reliably (docs/conformance.md,
      // difference 18): that is the path asked for.
      const ErrorKind torch_bag = torch_error_kind(
          [&] {
            at::NoGradGuard no_grad;
            (void)at::embedding_bag(table, ids, torch_offsets, false, 0, false, c10::nullopt, false,
                                    c10::nullopt);
          },
          &bag_message);
      ASSERT_NE(torch_embedding, ErrorKind::kNone) << "LibTorch accepted the ids";
      ASSERT_NE(torch_bag, ErrorKind::kNone) << "LibTorch's embedding_bag accepted the ids";
      SCOPED_TRACE("LibTorch: embedding " + kind_name(torch_embedding) + " (" +
                   embedding_message.substr(0, 120) + "), embedding_bag " + kind_name(torch_bag) +
                   " (" + bag_message.substr(0, 120) + ")");

      Tensor weight = view_of(table);
      const Tensor ek_ids = view_of(ids);
      const Tensor ek_offsets = view_of(torch_offsets);
      Tensor out = Tensor::zeros({n, dim});
      const Tensor zeros = Tensor::zeros({n, dim});
      const Tensor& grad = zeros;
      const auto max_norm = nn::EmbeddingFuncOptions().max_norm(1e-3);
      for_each_kernel_setting([&] {
        const auto expect = [&](ErrorKind torch_kind, const std::string& what, auto&& call) {
          std::int64_t position = -1;
          const ErrorKind got = embedkit_error_kind(call, &position);
          EXPECT_EQ(kind_name(got), kind_name(torch_kind)) << what;
          if (got == ErrorKind::kIndex) {
            EXPECT_EQ(position, c.first) << what << ": position of the first bad id";
          }
        };
        expect(torch_embedding, "embedding",
               [&] { (void)nn::functional::embedding(ek_ids, weight); });
        expect(torch_embedding, "embedding with max_norm",
               [&] { (void)nn::functional::embedding(ek_ids, weight, max_norm); });
        expect(torch_embedding, "embedding_into",
               [&] { nn::functional::embedding_into(ek_ids, weight, out); });
        expect(torch_embedding, "embedding_backward",
               [&] { (void)nn::functional::embedding_backward(ek_ids, grad, rows); });
        expect(torch_bag, "embedding_bag sum", [&] {
          (void)nn::functional::embedding_bag(ek_ids, weight, ek_offsets,
                                              nn::EmbeddingBagFuncOptions().mode(BagMode::Sum));
        });
        EXPECT_TRUE(same_bits("table after the errors", weight, original));
        EXPECT_TRUE(same_bits("embedding_into's output after the error", out, zeros))
            << "embedding_into wrote before raising";
      });
      if (HasFailure()) return;
    }
  }
}

}  // namespace
}  // namespace embedkit_diff
