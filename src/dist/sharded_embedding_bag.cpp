#include "embedkit/dist/sharded_embedding_bag.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/splitmix64.hpp"
#include "dist/agreement.hpp"
#include "dist/exchange.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/optim/fused_backward.hpp"
#include "kernels/bag_grad_scale.hpp"
#include "nn/bags.hpp"
#include "nn/embedding_checks.hpp"
#include "nn/ids.hpp"

namespace embedkit::dist {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The checks of one rank's options, then the agreement of all ranks on them; returns the
// sharding of this communicator.
Sharding agreed_sharding(const Communicator& comm, const ShardedEmbeddingBagOptions& o,
                         std::int64_t& padding) {
  const std::string who = "ShardedEmbeddingBag";
  detail::agree_on(comm, [&] {
    nn::detail::check_table_size(o.num_embeddings(), o.embedding_dim(), who);
    if (!is_floating(o.dtype())) {
      throw TypeError(who + ": dtype must be float32, float16 or bfloat16, got " +
                      std::string(dtype_name(o.dtype())));
    }
    if (o.mode() != BagMode::Sum && o.mode() != BagMode::Mean && o.mode() != BagMode::Max) {
      throw ValueError(who + ": unknown mode " + std::to_string(static_cast<int>(o.mode())));
    }
    nn::detail::check_bag_options(o.mode(), false, o.scale_grad_by_freq(), who);
    if (o.mode() == BagMode::Mean && o.scale_grad_by_freq()) {
      // The owner would divide a scale already rounded to float by the row's count: not the
      // one rounding of one process (docs/distributed.md).
      throw ValueError(who +
                       ": scale_grad_by_freq with mean mode is not supported sharded (its "
                       "gradient scale would not round as one process rounds it); use sum mode "
                       "or no scale_grad_by_freq");
    }
    padding = nn::detail::normalize_padding_idx(o.padding_idx(), o.num_embeddings(), who);
    Sharding(o.sharding(), o.num_embeddings(), comm.size(), o.table_owner());
  });
  detail::check_same_on_all_ranks(comm, who,
                                  {{"num_embeddings", o.num_embeddings()},
                                   {"embedding_dim", o.embedding_dim()},
                                   {"mode", static_cast<std::int64_t>(o.mode())},
                                   {"dtype", static_cast<std::int64_t>(o.dtype())},
                                   {"padding_idx", padding},
                                   {"scale_grad_by_freq", o.scale_grad_by_freq() ? 1 : 0},
                                   {"include_last_offset", o.include_last_offset() ? 1 : 0},
                                   {"sharding", static_cast<std::int64_t>(o.sharding())},
                                   {"table_owner", o.table_owner()}});
  return Sharding(o.sharding(), o.num_embeddings(), comm.size(), o.table_owner());
}

nn::EmbeddingBag make_shard(const Communicator& comm, const ShardedEmbeddingBagOptions& o,
                            const Sharding& sharding, std::int64_t padding, const RowInit& init) {
  const int rank = comm.rank();
  const std::int64_t rows = sharding.shard_rows(rank);
  const std::int64_t dim = o.embedding_dim();
  Tensor values = Tensor::empty({rows, dim}, DType::Float32);
  float* p = values.data<float>();
  for (std::int64_t l = 0; l < rows; ++l) init(sharding.global_row(rank, l), p + l * dim, dim);
  std::optional<std::int64_t> local_padding;
  if (padding >= 0 && sharding.owner(padding) == rank) {
    local_padding = sharding.local_row(padding);
    std::fill_n(p + *local_padding * dim, dim, 0.0f);
  }
  if (o.dtype() != DType::Float32) values = values.to(o.dtype());
  return nn::EmbeddingBag(nn::EmbeddingBagOptions(rows, dim)
                              .mode(BagMode::Sum)
                              .scale_grad_by_freq(o.scale_grad_by_freq())
                              .padding_idx(local_padding)
                              .dtype(o.dtype())
                              .weight(values));
}

nn::EmbeddingBagFuncOptions bag_options(const ShardedEmbeddingBagOptions& o, std::int64_t padding) {
  return nn::EmbeddingBagFuncOptions()
      .mode(o.mode())
      .scale_grad_by_freq(o.scale_grad_by_freq())
      .include_last_offset(o.include_last_offset())
      .padding_idx(padding >= 0 ? std::optional<std::int64_t>(padding) : std::nullopt);
}

// One gradient term as sent to a row's owner.
struct TermRecord {
  std::int64_t local_row;
  std::int64_t grad_slot;  // the gradient row among those sent by the same rank
  float scale;
  std::uint32_t unused = 0;  // keeps the record free of uninitialised padding bytes
};

}  // namespace

RowInit normal_rows(std::uint64_t seed) {
  return [seed](std::int64_t row, float* values, std::int64_t dim) {
    Generator gen(embedkit::detail::splitmix64_hash(
        seed ^ embedkit::detail::splitmix64_hash(static_cast<std::uint64_t>(row))));
    for (std::int64_t i = 0; i < dim; ++i) values[i] = static_cast<float>(gen.normal());
  };
}

ShardedEmbeddingBag::ShardedEmbeddingBag(Communicator comm,
                                         const ShardedEmbeddingBagOptions& options,
                                         const RowInit& init)
    : comm_(std::move(comm)),
      options_(options),
      sharding_(agreed_sharding(comm_, options_, padding_)),
      shard_module_(make_shard(comm_, options_, sharding_, padding_, init)) {}

struct ShardedEmbeddingBag::Fetched {
  Tensor table;  // the distinct rows fetched, then a zero padding row if any (a view of fetched_)
  std::vector<std::int64_t> index;  // row of `table` for each requested row (skipped: last row)
};

ShardedEmbeddingBag::Fetched ShardedEmbeddingBag::fetch_rows(const std::vector<std::int64_t>& rows,
                                                             std::int64_t skip) {
  const int ranks = comm_.size();
  const std::int64_t dim = options_.embedding_dim();
  const std::size_t row_bytes = static_cast<std::size_t>(dim) * dtype_size(options_.dtype());

  // The distinct rows, grouped by owner (rank order), ascending within an owner: one sort of
  // (row, position) pairs gives both the distinct rows and, run by run, where each id's row
  // will be (a binary search per id cost more than the sort).
  std::vector<std::pair<std::int64_t, std::int64_t>>& keyed = keyed_;
  keyed.clear();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] != skip) keyed.emplace_back(rows[i], static_cast<std::int64_t>(i));
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::int64_t> distinct;
  for (std::size_t k = 0; k < keyed.size(); ++k) {
    if (k == 0 || keyed[k].first != keyed[k - 1].first) distinct.push_back(keyed[k].first);
  }
  std::vector<std::int64_t> send_counts(static_cast<std::size_t>(ranks), 0);
  for (std::int64_t r : distinct) ++send_counts[static_cast<std::size_t>(sharding_.owner(r))];
  std::vector<std::int64_t> next(static_cast<std::size_t>(ranks), 0);
  for (int p = 1; p < ranks; ++p) next[p] = next[p - 1] + send_counts[p - 1];
  std::vector<std::int64_t> slot(distinct.size());
  std::vector<std::int64_t> requests(distinct.size());
  for (std::size_t u = 0; u < distinct.size(); ++u) {
    const auto owner = static_cast<std::size_t>(sharding_.owner(distinct[u]));
    slot[u] = next[owner]++;
    requests[static_cast<std::size_t>(slot[u])] = sharding_.local_row(distinct[u]);
  }

  const std::vector<std::int64_t> recv_counts = detail::exchange_counts(comm_, send_counts, stats_);
  std::vector<std::int64_t> asked(static_cast<std::size_t>(detail::total(recv_counts)));
  detail::exchange_records(comm_, requests.data(), send_counts, asked.data(), recv_counts,
                           sizeof(std::int64_t), stats_);

  // The owner's answer: its rows, in the order asked.
  std::vector<unsigned char>& answer = answer_;
  answer.resize(asked.size() * row_bytes);
  const auto* shard_bytes = static_cast<const unsigned char*>(shard().raw_data());
  for (std::size_t i = 0; i < asked.size(); ++i) {
    std::memcpy(answer.data() + i * row_bytes,
                shard_bytes + static_cast<std::size_t>(asked[i]) * row_bytes, row_bytes);
  }
  const auto fetched = static_cast<std::int64_t>(distinct.size());
  Fetched out;
  // In buffers kept from call to call, as the fused step keeps its own: fresh ones of a
  // batch's size were page-faulted in (and zeroed) on every call.
  const std::int64_t table_rows = fetched + (skip >= 0 ? 1 : 0);
  fetched_.resize(std::max<std::size_t>(1, static_cast<std::size_t>(table_rows) * row_bytes));
  out.table = Tensor::from_blob(fetched_.data(), {table_rows, dim}, options_.dtype());
  detail::exchange_records(comm_, answer.data(), recv_counts, out.table.raw_data(), send_counts,
                           row_bytes, stats_);
  if (skip >= 0) {
    std::memset(static_cast<unsigned char*>(out.table.raw_data()) +
                    static_cast<std::size_t>(fetched) * row_bytes,
                0, row_bytes);
  }
  out.index.assign(rows.size(), fetched);  // skipped ids: the padding row after the others
  for (std::size_t k = 0, u = 0; k < keyed.size(); ++k) {
    if (k > 0 && keyed[k].first != keyed[k - 1].first) ++u;
    out.index[static_cast<std::size_t>(keyed[k].second)] = slot[u];
  }
  return out;
}

Tensor ShardedEmbeddingBag::forward(const Tensor& ids, const Tensor& offsets,
                                    const Tensor& per_sample_weights) {
  const std::string who = "ShardedEmbeddingBag.forward";
  const auto start = Clock::now();
  stats_ = {};
  nn::detail::Bags bags;
  detail::agree_on(comm_, [&] {
    bags = nn::detail::prepare_bags_for_rows(ids, offsets, per_sample_weights,
                                             options_.num_embeddings(), options_.dtype(),
                                             bag_options(options_, padding_), who);
  });
  const std::vector<std::int64_t> rows = bags.rows.to_int64_vector();
  Fetched fetched = fetch_rows(rows, padding_);
  // The bags over the fetched rows, pooled by embedkit's own kernels in their order: each bag
  // sums exactly the values, in exactly the order, one process sums.
  const std::int64_t local_padding = fetched.table.size(0) - 1;
  const nn::EmbeddingBagFuncOptions local =
      nn::EmbeddingBagFuncOptions()
          .mode(options_.mode())
          .include_last_offset(true)
          .padding_idx(padding_ >= 0 ? std::optional<std::int64_t>(local_padding) : std::nullopt);
  Tensor out = nn::functional::embedding_bag(Tensor::from_vector(fetched.index), fetched.table,
                                             Tensor::from_vector(bags.bounds), local,
                                             bags.per_sample_weights);
  stats_.compute_seconds = seconds_since(start) - stats_.exchange_seconds;
  return out;
}

Tensor ShardedEmbeddingBag::lookup(const Tensor& ids) {
  const std::string who = "ShardedEmbeddingBag.lookup";
  const auto start = Clock::now();
  stats_ = {};
  Tensor resolved;
  detail::agree_on(comm_, [&] {
    nn::detail::check_ids_dtype(ids.desc(), "ids");
    resolved =
        nn::detail::resolve_ids(ids, options_.num_embeddings(), nn::UnknownIds::error(), "ids");
  });
  const std::vector<std::int64_t> rows = resolved.to_int64_vector();
  Fetched fetched = fetch_rows(rows, -1);
  Shape shape = ids.shape();
  shape.push_back(options_.embedding_dim());
  Tensor out = Tensor::empty(shape, options_.dtype());
  const std::size_t row_bytes =
      static_cast<std::size_t>(options_.embedding_dim()) * dtype_size(options_.dtype());
  const auto* from = static_cast<const unsigned char*>(fetched.table.raw_data());
  auto* to = static_cast<unsigned char*>(out.raw_data());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::memcpy(to + i * row_bytes, from + static_cast<std::size_t>(fetched.index[i]) * row_bytes,
                row_bytes);
  }
  stats_.compute_seconds = seconds_since(start) - stats_.exchange_seconds;
  return out;
}

void ShardedEmbeddingBag::check_optimizer(const optim::Optimizer& optimizer,
                                          const std::string& who) const {
  if (options_.dtype() != DType::Float32) {
    throw TypeError(who + ": fused updates need a float32 table, got " +
                    std::string(dtype_name(options_.dtype())));
  }
  const Tensor& table = shard();
  for (const optim::Parameter& p : optimizer.params()) {
    if (p.value.shares_storage_with(table) && p.value.raw_data() == table.raw_data() &&
        p.value.shape() == table.shape()) {
      return;
    }
  }
  throw ValueError(who +
                   ": this rank's shard is not among the optimizer's parameters (give the "
                   "optimizer optim::make_parameters(table.shard_module()))");
}

void ShardedEmbeddingBag::fused_backward_step(const Tensor& ids, const Tensor& offsets,
                                              const Tensor& grad_output,
                                              optim::Optimizer& optimizer,
                                              const Tensor& per_sample_weights) {
  const std::string who = "ShardedEmbeddingBag.fused_backward_step";
  const auto start = Clock::now();
  stats_ = {};
  nn::detail::Bags bags;
  detail::agree_on(comm_, [&] {
    check_optimizer(optimizer, who);
    nn::detail::check_row_wise_bag_mode(options_.mode(), who);
    bags = nn::detail::prepare_bags_for_rows(ids, offsets, per_sample_weights,
                                             options_.num_embeddings(), options_.dtype(),
                                             bag_options(options_, padding_), who);
    nn::detail::check_float32_grad_output(grad_output.desc(),
                                          {bags.num_bags, options_.embedding_dim()}, who);
  });
  const std::vector<std::int64_t> rows = bags.rows.to_int64_vector();
  const float* psw =
      bags.per_sample_weights.defined() ? bags.per_sample_weights.data<float>() : nullptr;
  const bool mean = options_.mode() == BagMode::Mean;
  // One term per non-padding id, in input order: its bag's gradient row and the scale one
  // process gives it (optim/fused_backward.cpp). The count of scale_grad_by_freq is the row's
  // count over all ranks: the owner applies it (sum mode only, see the constructor).
  std::vector<std::int64_t> term_rows;
  std::vector<std::int64_t> term_bags;
  std::vector<float> scales;
  term_rows.reserve(rows.size());
  term_bags.reserve(rows.size());
  scales.reserve(rows.size());
  for (std::int64_t b = 0; b < bags.num_bags; ++b) {
    const std::int64_t size = kernels::bag_count(rows.data(), bags.bounds.data(), b, padding_);
    for (std::int64_t i = bags.bounds[b]; i < bags.bounds[b + 1]; ++i) {
      if (rows[i] == padding_) continue;
      term_rows.push_back(rows[i]);
      term_bags.push_back(b);
      scales.push_back(
          kernels::bag_grad_scale(psw != nullptr ? psw[i] : 1.0, 1, size, mean, false));
    }
  }
  route_and_step(term_rows, term_bags, scales, grad_output.data<float>(), optimizer);
  stats_.compute_seconds = seconds_since(start) - stats_.exchange_seconds;
}

void ShardedEmbeddingBag::lookup_fused_backward_step(const Tensor& ids, const Tensor& grad_output,
                                                     optim::Optimizer& optimizer) {
  const std::string who = "ShardedEmbeddingBag.lookup_fused_backward_step";
  const auto start = Clock::now();
  stats_ = {};
  Tensor resolved;
  detail::agree_on(comm_, [&] {
    check_optimizer(optimizer, who);
    nn::detail::check_ids_dtype(ids.desc(), "ids");
    Shape expected = ids.shape();
    expected.push_back(options_.embedding_dim());
    nn::detail::check_float32_grad_output(grad_output.desc(), expected, who);
    resolved =
        nn::detail::resolve_ids(ids, options_.num_embeddings(), nn::UnknownIds::error(), "ids");
  });
  const std::vector<std::int64_t> rows = resolved.to_int64_vector();
  std::vector<std::int64_t> term_rows;
  std::vector<std::int64_t> positions;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] == padding_) continue;
    term_rows.push_back(rows[i]);
    positions.push_back(static_cast<std::int64_t>(i));
  }
  const std::vector<float> scales(term_rows.size(), 1.0f);
  route_and_step(term_rows, positions, scales, grad_output.data<float>(), optimizer);
  stats_.compute_seconds = seconds_since(start) - stats_.exchange_seconds;
}

void ShardedEmbeddingBag::route_and_step(const std::vector<std::int64_t>& rows,
                                         const std::vector<std::int64_t>& grad_index,
                                         const std::vector<float>& scales, const float* grad_rows,
                                         optim::Optimizer& optimizer) {
  const int ranks = comm_.size();
  const std::int64_t dim = options_.embedding_dim();
  const auto row_floats = static_cast<std::size_t>(dim);
  const auto n = rows.size();
  // Per destination: its terms in input order, and the gradient rows they use, each once
  // (grad_index never decreases, so a repeat is always the destination's last one).
  std::vector<std::int64_t> term_counts(static_cast<std::size_t>(ranks), 0);
  std::vector<std::int64_t> grad_counts(static_cast<std::size_t>(ranks), 0);
  std::vector<std::int64_t> last_grad(static_cast<std::size_t>(ranks), -1);
  std::vector<int> owner(n);
  for (std::size_t t = 0; t < n; ++t) {
    owner[t] = sharding_.owner(rows[t]);
    const auto p = static_cast<std::size_t>(owner[t]);
    ++term_counts[p];
    if (last_grad[p] != grad_index[t]) {
      last_grad[p] = grad_index[t];
      ++grad_counts[p];
    }
  }
  std::vector<std::int64_t> term_at(static_cast<std::size_t>(ranks), 0);
  std::vector<std::int64_t> grad_at(static_cast<std::size_t>(ranks), 0);
  std::vector<std::int64_t> grad_begin(static_cast<std::size_t>(ranks), 0);
  for (int p = 1; p < ranks; ++p) {
    term_at[p] = term_at[p - 1] + term_counts[p - 1];
    grad_at[p] = grad_at[p - 1] + grad_counts[p - 1];
  }
  grad_begin = grad_at;
  std::vector<TermRecord> terms(n);
  std::vector<float>& grads = grads_out_;
  grads.resize(static_cast<std::size_t>(detail::total(grad_counts)) * row_floats);
  std::fill(last_grad.begin(), last_grad.end(), -1);
  for (std::size_t t = 0; t < n; ++t) {
    const auto p = static_cast<std::size_t>(owner[t]);
    if (last_grad[p] != grad_index[t]) {
      last_grad[p] = grad_index[t];
      std::memcpy(grads.data() + static_cast<std::size_t>(grad_at[p]) * row_floats,
                  grad_rows + static_cast<std::size_t>(grad_index[t]) * row_floats,
                  row_floats * sizeof(float));
      ++grad_at[p];
    }
    terms[static_cast<std::size_t>(term_at[p]++)] = {sharding_.local_row(rows[t]),
                                                     grad_at[p] - 1 - grad_begin[p], scales[t], 0};
  }

  const std::vector<std::int64_t> recv_terms = detail::exchange_counts(comm_, term_counts, stats_);
  const std::vector<std::int64_t> recv_grads = detail::exchange_counts(comm_, grad_counts, stats_);
  std::vector<TermRecord> in_terms(static_cast<std::size_t>(detail::total(recv_terms)));
  std::vector<float>& in_grads = grads_in_;
  in_grads.resize(static_cast<std::size_t>(detail::total(recv_grads)) * row_floats);
  detail::exchange_records(comm_, terms.data(), term_counts, in_terms.data(), recv_terms,
                           sizeof(TermRecord), stats_);
  detail::exchange_records(comm_, grads.data(), grad_counts, in_grads.data(), recv_grads,
                           row_floats * sizeof(float), stats_);

  // The owner's step: the received terms, in source-rank order and each source's input order,
  // are the occurrences of this shard's rows in the concatenated global batch, in order. Each
  // is a bag of one id in sum mode whose per-sample weight is the term's scale: the fused step
  // then sums fma(scale, gradient, sum) per row in that order, as one process does.
  const auto m = in_terms.size();
  std::vector<std::int64_t> local_rows(m);
  std::vector<std::int64_t> offsets(m);
  std::vector<float> psw(m);
  grads_expanded_.resize(std::max<std::size_t>(1, m * row_floats));
  Tensor grad = Tensor::from_blob(grads_expanded_.data(), {static_cast<std::int64_t>(m), dim},
                                  DType::Float32);
  float* g = grad.data<float>();
  std::size_t t = 0;
  std::int64_t source_grads = 0;
  for (int source = 0; source < ranks; ++source) {
    for (std::int64_t k = 0; k < recv_terms[source]; ++k, ++t) {
      const TermRecord& term = in_terms[t];
      local_rows[t] = term.local_row;
      offsets[t] = static_cast<std::int64_t>(t);
      psw[t] = term.scale;
      std::memcpy(
          g + t * row_floats,
          in_grads.data() + static_cast<std::size_t>(source_grads + term.grad_slot) * row_floats,
          row_floats * sizeof(float));
    }
    source_grads += recv_grads[source];
  }
  detail::agree_on(comm_, [&] {
    optim::fused_backward_step(shard_module_, Tensor::from_vector(local_rows),
                               Tensor::from_vector(offsets), grad, optimizer,
                               Tensor::from_vector(psw));
  });
}

}  // namespace embedkit::dist
