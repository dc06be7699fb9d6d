#include "cases.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

namespace embedkit_diff {

namespace {

using embedkit::nn::BagMode;

constexpr double kInf = std::numeric_limits<double>::infinity();

DType pick_weight_dtype(Rng& rng) {
  const double u = rng.uniform01();
  return u < 0.6 ? DType::Float32 : (u < 0.8 ? DType::Float16 : DType::BFloat16);
}

DType pick_index_dtype(Rng& rng) {
  return rng.bernoulli(0.5) ? DType::Int64 : DType::Int32;
}

// padding_idx as a user gives it: None, a row, or the same row counted from the end.
std::optional<std::int64_t> pick_padding(Rng& rng, std::int64_t num_rows) {
  if (num_rows == 0 || rng.bernoulli(0.5)) return std::nullopt;
  const std::int64_t row = rng.uniform_int(0, num_rows - 1);
  return rng.bernoulli(0.5) ? row : row - num_rows;
}

std::int64_t wrap(const std::optional<std::int64_t>& padding, std::int64_t num_rows) {
  if (!padding) return -1;
  return *padding < 0 ? *padding + num_rows : *padding;
}

// Ids drawn from a small "hot" subset of the rows, so duplicates are common, with the padding
// row mixed in often enough to matter.
std::vector<std::int64_t> random_ids(Rng& rng, std::int64_t n, std::int64_t num_rows,
                                     std::int64_t padding) {
  std::vector<std::int64_t> ids(static_cast<std::size_t>(n));
  if (n == 0) return ids;
  const std::int64_t hot = rng.uniform_int(1, num_rows);
  std::vector<std::int64_t> rows(static_cast<std::size_t>(hot));
  for (auto& r : rows) r = rng.uniform_int(0, num_rows - 1);
  const double padding_rate = padding >= 0 ? rng.uniform01() * 0.5 : 0.0;
  for (auto& id : ids) id = rng.bernoulli(padding_rate) ? padding : rng.pick(rows);
  return ids;
}

double row_norm(const Tensor& table, std::int64_t row, double p) {
  const std::int64_t dim = table.size(1);
  double norm = 0.0;
  for (std::int64_t j = 0; j < dim; ++j) {
    const double x = std::fabs(table.item_at(row * dim + j));
    if (std::isinf(p)) {
      norm = std::max(norm, x);
    } else {
      norm += std::pow(x, p);
    }
  }
  return std::isinf(p) ? norm : std::pow(norm, 1.0 / p);
}

// A max_norm that some referenced rows exceed and others do not: the midpoint of two consecutive
// norms at least 10% apart, so about 5% away from every referenced row's norm. The two libraries
// do not get bit-identical norms (summation order; embedkit rounds 16-bit norms to the table's
// type), and the decision must not hinge on that. Sometimes below or above every norm, or, with
// norm_type inf, exactly one of them.
double pick_max_norm(Rng& rng, const Tensor& table, const std::vector<std::int64_t>& ids,
                     double p) {
  std::vector<double> norms;
  for (std::int64_t id : ids) norms.push_back(row_norm(table, id, p));
  std::sort(norms.begin(), norms.end());
  norms.erase(std::unique(norms.begin(), norms.end()), norms.end());
  std::vector<double> candidates;
  for (std::size_t i = 0; i + 1 < norms.size(); ++i) {
    if (norms[i + 1] > norms[i] * 1.1) candidates.push_back(0.5 * (norms[i] + norms[i + 1]));
  }
  // With p = inf a norm is one of the table's values, exact in both libraries: max_norm equal to
  // a referenced row's norm checks that the comparison is strict (that row stays untouched).
  // The next larger norm is kept 10% away, like the other candidates.
  std::vector<double> exact;
  for (std::size_t i = 0; i < norms.size(); ++i) {
    if (norms[i] > 0 && (i + 1 == norms.size() || norms[i + 1] > norms[i] * 1.1)) {
      exact.push_back(norms[i]);
    }
  }
  if (std::isinf(p) && !exact.empty() && rng.bernoulli(0.35)) return rng.pick(exact);
  // Rows of norm 0 are never rescaled, so "below every norm" means below the smallest positive.
  const auto positive = std::upper_bound(norms.begin(), norms.end(), 0.0);
  const double low = positive != norms.end() ? *positive : 1.0;
  const double high = norms.empty() ? 1.0 : norms.back();
  const double u = rng.uniform01();
  if (u < 0.2 || (candidates.empty() && u < 0.6)) return low * 0.5;  // every row rescaled
  if (u < 0.35 || candidates.empty()) return high * 1.5 + 0.25;      // none
  return rng.pick(candidates);
}

// Exact copies of a few rows over about half the table, so that different ids in one bag tie in
// max mode (the first occurrence must win, for the output and for where the gradient goes).
void duplicate_rows(Rng& rng, Tensor& table) {
  const std::int64_t rows = table.size(0);
  const std::size_t row_bytes =
      static_cast<std::size_t>(table.size(1)) * embedkit::dtype_size(table.dtype());
  auto* base = static_cast<unsigned char*>(table.raw_data());
  std::vector<std::int64_t> sources(static_cast<std::size_t>(rng.uniform_int(1, 3)));
  for (auto& r : sources) r = rng.uniform_int(0, rows - 1);
  for (std::int64_t copies = rows / 2; copies > 0; --copies) {
    const auto from = static_cast<std::size_t>(rng.pick(sources));
    const auto to = static_cast<std::size_t>(rng.uniform_int(0, rows - 1));
    if (from != to) std::memcpy(base + to * row_bytes, base + from * row_bytes, row_bytes);
  }
}

double pick_norm_type(Rng& rng) {
  return rng.pick(std::vector<double>{1.0, 2.0, 3.0, kInf, 0.5});
}

std::string norm_string(double p) {
  return std::isinf(p) ? "inf" : optional_string(std::optional<double>(p));
}

std::string mode_string(BagMode mode) {
  return embedkit::nn::bag_mode_name(mode);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Embedding

EmbeddingCase EmbeddingCase::generate(std::uint64_t base, int index) {
  EmbeddingCase c;
  c.base_seed = base;
  c.index = index;
  Rng rng(case_seed(base, kEmbeddingStream, index));

  // Rarely an empty table or zero-width rows (both legal in PyTorch).
  c.num_rows = rng.bernoulli(0.02) ? 0 : rng.uniform_int(1, 50);
  c.dim = rng.bernoulli(0.02) ? 0 : (rng.bernoulli(0.15) ? 1 : rng.uniform_int(1, 20));
  c.weight_dtype = pick_weight_dtype(rng);
  c.ids_dtype = pick_index_dtype(rng);

  // ids: 0-dim, 1-D, 2-D or 3-D, at most 40 ids, sometimes empty.
  const double shape_kind = rng.uniform01();
  if (shape_kind < 0.1) {
    c.ids_shape = {};
  } else {
    const int rank = shape_kind < 0.5 ? 1 : (shape_kind < 0.85 ? 2 : 3);
    std::int64_t budget = 40;
    for (int d = 0; d < rank; ++d) {
      const std::int64_t most = d + 1 == rank ? budget : std::max<std::int64_t>(1, budget / 2);
      const std::int64_t extent = rng.uniform_int(1, most);
      c.ids_shape.push_back(extent);
      budget = std::max<std::int64_t>(1, budget / extent);
    }
    if (rng.bernoulli(0.08)) c.ids_shape[rng.uniform_int(0, rank - 1)] = 0;
  }
  if (c.num_rows == 0 && c.ids_shape.size() != 0) c.ids_shape[0] = 0;  // nothing to look up
  if (c.num_rows == 0 && c.ids_shape.empty()) c.ids_shape = {0};

  c.padding_idx = pick_padding(rng, c.num_rows);
  c.table = random_floats(rng, {c.num_rows, c.dim}, c.weight_dtype);
  c.ids = random_ids(rng, embedkit::shape_numel(c.ids_shape), c.num_rows, c.padding_wrapped());
  if (rng.bernoulli(0.4)) {
    c.norm_type = pick_norm_type(rng);
    c.max_norm = pick_max_norm(rng, c.table, c.ids, c.norm_type);
  }
  // PyTorch fails at backward on sparse + scale_grad_by_freq and embedkit refuses it up front:
  // that pair belongs to the error tests.
  c.sparse = rng.bernoulli(0.3);
  c.scale_grad_by_freq = !c.sparse && rng.bernoulli(0.3);
  c.use_module = rng.bernoulli(0.25);

  Shape out_shape = c.ids_shape;
  out_shape.push_back(c.dim);
  c.grad_output = random_floats(rng, out_shape, c.weight_dtype);
  return c;
}

std::int64_t EmbeddingCase::padding_wrapped() const {
  return wrap(padding_idx, num_rows);
}

embedkit::nn::EmbeddingFuncOptions EmbeddingCase::options() const {
  return embedkit::nn::EmbeddingFuncOptions()
      .padding_idx(padding_idx)
      .max_norm(max_norm)
      .norm_type(norm_type)
      .scale_grad_by_freq(scale_grad_by_freq)
      .sparse(sparse);
}

std::string EmbeddingCase::describe() const {
  std::ostringstream s;
  s << std::boolalpha << "Embedding case " << index << ": num_embeddings=" << num_rows
    << " embedding_dim=" << dim << " table=" << embedkit::dtype_name(weight_dtype)
    << " ids=" << embedkit::dtype_name(ids_dtype) << embedkit::shape_string(ids_shape) << " ["
    << join(ids) << "]"
    << " padding_idx=" << optional_string(padding_idx) << " max_norm=" << optional_string(max_norm)
    << " norm_type=" << norm_string(norm_type) << " scale_grad_by_freq=" << scale_grad_by_freq
    << " sparse=" << sparse << " api=" << (use_module ? "nn::Embedding" : "functional::embedding")
    << " (table and grad_output: N(0,1) from the case seed)\n"
    << replay_line(base_seed, index);
  return s.str();
}

// ---------------------------------------------------------------------------------------------
// EmbeddingBag

BagCase BagCase::generate(std::uint64_t base, int index, BagFlavor flavor) {
  BagCase c;
  c.base_seed = base;
  c.index = index;
  c.flavor = flavor;
  const std::uint64_t stream = flavor == BagFlavor::kGeneral           ? kBagStream
                               : flavor == BagFlavor::kScaleGradByFreq ? kBagScaleGradStream
                                                                       : kBag2DLastOffsetStream;
  Rng rng(case_seed(base, stream, index));

  c.num_rows = rng.uniform_int(1, 50);
  c.dim = rng.bernoulli(0.02) ? 0 : (rng.bernoulli(0.15) ? 1 : rng.uniform_int(1, 20));
  c.weight_dtype = pick_weight_dtype(rng);
  c.ids_dtype = pick_index_dtype(rng);
  c.offsets_dtype = rng.bernoulli(0.8) ? c.ids_dtype : pick_index_dtype(rng);

  if (flavor == BagFlavor::kScaleGradByFreq) {
    c.mode = rng.bernoulli(0.5) ? BagMode::Sum : BagMode::Mean;
  } else {
    c.mode = rng.pick(std::vector<BagMode>{BagMode::Sum, BagMode::Mean, BagMode::Max});
  }

  c.two_dim = flavor == BagFlavor::kTwoDimLastOffset || rng.bernoulli(0.35);
  c.padding_idx = pick_padding(rng, c.num_rows);
  std::int64_t n = 0;
  if (c.two_dim) {
    c.batch = rng.bernoulli(0.05) ? 0 : rng.uniform_int(1, 8);
    c.length = rng.uniform_int(1, 6);
    n = c.batch * c.length;
    c.include_last_offset = flavor == BagFlavor::kTwoDimLastOffset;
  } else {
    c.include_last_offset = rng.bernoulli(0.4);
    // Bags: sorted cut points in [0, n], repeats giving empty bags. No bag at all (offsets []
    // or, with include_last_offset, [0]) only for no ids.
    const std::int64_t bags = rng.bernoulli(0.04) ? 0 : rng.uniform_int(1, 10);
    n = (bags == 0 || rng.bernoulli(0.06)) ? 0 : rng.uniform_int(1, 40);
    std::vector<std::int64_t> cuts;
    for (std::int64_t b = 1; b < bags; ++b) cuts.push_back(rng.uniform_int(0, n));
    std::sort(cuts.begin(), cuts.end());
    if (bags > 0 || c.include_last_offset) c.offsets.push_back(0);
    c.offsets.insert(c.offsets.end(), cuts.begin(), cuts.end());
    if (c.include_last_offset && bags > 0) c.offsets.push_back(n);
  }
  c.ids = random_ids(rng, n, c.num_rows, c.padding_wrapped());
  c.table = random_floats(rng, {c.num_rows, c.dim}, c.weight_dtype);
  if (rng.bernoulli(0.25)) duplicate_rows(rng, c.table);
  c.with_psw = c.mode == BagMode::Sum && rng.bernoulli(0.4);
  if (c.with_psw) c.psw = random_floats(rng, c.ids_shape(), c.weight_dtype);
  if (rng.bernoulli(0.35)) {
    c.norm_type = pick_norm_type(rng);
    c.max_norm = pick_max_norm(rng, c.table, c.ids, c.norm_type);
  }
  // embedkit refuses sparse with max mode or with scale_grad_by_freq (PyTorch does too, or fails
  // at backward); those pairs belong to the error tests.
  if (flavor == BagFlavor::kScaleGradByFreq) {
    c.scale_grad_by_freq = true;
  } else {
    c.sparse = c.mode != BagMode::Max && rng.bernoulli(0.35);
  }
  c.use_module = rng.bernoulli(0.25);
  c.grad_output = random_floats(rng, {c.num_bags(), c.dim}, c.weight_dtype);
  return c;
}

Shape BagCase::ids_shape() const {
  if (two_dim) return {batch, length};
  return {static_cast<std::int64_t>(ids.size())};
}

Tensor BagCase::offsets_tensor() const {
  if (two_dim) return Tensor();
  return index_tensor(offsets, {static_cast<std::int64_t>(offsets.size())}, offsets_dtype);
}

std::int64_t BagCase::num_bags() const {
  if (two_dim) return batch;
  const auto count = static_cast<std::int64_t>(offsets.size());
  return include_last_offset ? std::max<std::int64_t>(count - 1, 0) : count;
}

std::vector<std::int64_t> BagCase::bounds() const {
  std::vector<std::int64_t> b;
  if (two_dim) {
    for (std::int64_t i = 0; i <= batch; ++i) b.push_back(i * length);
    return b;
  }
  b = offsets;
  if (!include_last_offset) b.push_back(static_cast<std::int64_t>(ids.size()));
  if (b.empty()) b.push_back(0);
  return b;
}

std::int64_t BagCase::padding_wrapped() const {
  return wrap(padding_idx, num_rows);
}

embedkit::nn::EmbeddingBagFuncOptions BagCase::options() const {
  return embedkit::nn::EmbeddingBagFuncOptions()
      .mode(mode)
      .max_norm(max_norm)
      .norm_type(norm_type)
      .scale_grad_by_freq(scale_grad_by_freq)
      .sparse(sparse)
      .include_last_offset(include_last_offset)
      .padding_idx(padding_idx);
}

BagProblem BagCase::problem() const {
  BagProblem p;
  p.num_rows = num_rows;
  p.dim = dim;
  p.ids = ids;
  p.bounds = bounds();
  p.mode = mode;
  p.padding_idx = padding_wrapped();
  if (with_psw) p.per_sample_weights = to_doubles(psw);
  p.scale_grad_by_freq = scale_grad_by_freq;
  return p;
}

std::string BagCase::describe() const {
  std::ostringstream s;
  s << std::boolalpha << "EmbeddingBag case " << index << ": num_embeddings=" << num_rows
    << " embedding_dim=" << dim << " table=" << embedkit::dtype_name(weight_dtype)
    << " mode=" << mode_string(mode) << " ids=" << embedkit::dtype_name(ids_dtype)
    << embedkit::shape_string(ids_shape()) << " [" << join(ids) << "]";
  if (two_dim) {
    s << " offsets=None";
  } else {
    s << " offsets=" << embedkit::dtype_name(offsets_dtype) << "[" << join(offsets) << "]";
  }
  s << " include_last_offset=" << include_last_offset << " per_sample_weights=";
  if (with_psw) {
    s << "[" << join(to_doubles(psw)) << "]";
  } else {
    s << "None";
  }
  s << " padding_idx=" << optional_string(padding_idx) << " max_norm=" << optional_string(max_norm)
    << " norm_type=" << norm_string(norm_type) << " scale_grad_by_freq=" << scale_grad_by_freq
    << " sparse=" << sparse
    << " api=" << (use_module ? "nn::EmbeddingBag" : "functional::embedding_bag")
    << " (table and grad_output: N(0,1) from the case seed)\n"
    << replay_line(base_seed, index);
  return s.str();
}

}  // namespace embedkit_diff
