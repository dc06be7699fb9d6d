#include "embedkit/dist/sharding.hpp"

#include <algorithm>
#include <numeric>

#include "embedkit/core/error.hpp"

namespace embedkit::dist {

std::string sharding_kind_name(ShardingKind kind) {
  switch (kind) {
    case ShardingKind::RowWise:
      return "row_wise";
    case ShardingKind::RowWiseCyclic:
      return "row_wise_cyclic";
    case ShardingKind::TableWise:
      return "table_wise";
  }
  return "?";
}

ShardingKind parse_sharding_kind(const std::string& name) {
  for (ShardingKind k :
       {ShardingKind::RowWise, ShardingKind::RowWiseCyclic, ShardingKind::TableWise}) {
    if (sharding_kind_name(k) == name) return k;
  }
  throw ValueError("unknown sharding '" + name +
                   "' (expected row_wise, row_wise_cyclic or table_wise)");
}

Sharding::Sharding(ShardingKind kind, std::int64_t num_rows, int ranks, int table_owner)
    : kind_(kind), num_rows_(num_rows), ranks_(ranks), table_owner_(table_owner) {
  if (num_rows < 0) throw ValueError("Sharding: num_rows must be >= 0");
  if (ranks < 1) throw ValueError("Sharding: ranks must be >= 1");
  if (kind != ShardingKind::RowWise && kind != ShardingKind::RowWiseCyclic &&
      kind != ShardingKind::TableWise) {
    throw ValueError("Sharding: unknown kind " + std::to_string(static_cast<int>(kind)));
  }
  if (kind == ShardingKind::TableWise && (table_owner < 0 || table_owner >= ranks)) {
    throw ValueError("Sharding: table_owner " + std::to_string(table_owner) + " is not a rank of " +
                     std::to_string(ranks));
  }
  base_ = num_rows / ranks;
  extra_ = num_rows % ranks;
}

int Sharding::owner(std::int64_t row) const {
  switch (kind_) {
    case ShardingKind::RowWise: {
      const std::int64_t split = extra_ * (base_ + 1);  // rows held by the larger shards
      if (row < split) return static_cast<int>(row / (base_ + 1));
      return static_cast<int>(extra_ + (row - split) / base_);
    }
    case ShardingKind::RowWiseCyclic:
      return static_cast<int>(row % ranks_);
    case ShardingKind::TableWise:
      return table_owner_;
  }
  return 0;
}

std::int64_t Sharding::local_row(std::int64_t row) const {
  switch (kind_) {
    case ShardingKind::RowWise:
      return row - global_row(owner(row), 0);
    case ShardingKind::RowWiseCyclic:
      return row / ranks_;
    case ShardingKind::TableWise:
      return row;
  }
  return 0;
}

std::int64_t Sharding::global_row(int rank, std::int64_t local) const {
  switch (kind_) {
    case ShardingKind::RowWise:
      return rank * base_ + std::min<std::int64_t>(rank, extra_) + local;
    case ShardingKind::RowWiseCyclic:
      return local * ranks_ + rank;
    case ShardingKind::TableWise:
      return local;
  }
  return 0;
}

std::int64_t Sharding::shard_rows(int rank) const {
  switch (kind_) {
    case ShardingKind::RowWise:
      return base_ + (rank < extra_ ? 1 : 0);
    case ShardingKind::RowWiseCyclic:
      return base_ + (rank < extra_ ? 1 : 0);  // rows rank, rank + P, ...
    case ShardingKind::TableWise:
      return rank == table_owner_ ? num_rows_ : 0;
  }
  return 0;
}

std::vector<int> place_tables(const std::vector<std::int64_t>& table_bytes, int ranks) {
  if (ranks < 1) throw ValueError("place_tables: ranks must be >= 1");
  for (std::int64_t b : table_bytes) {
    if (b < 0) throw ValueError("place_tables: a table size is negative");
  }
  std::vector<std::size_t> order(table_bytes.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return table_bytes[a] > table_bytes[b]; });
  std::vector<std::int64_t> load(static_cast<std::size_t>(ranks), 0);
  std::vector<int> owner(table_bytes.size(), 0);
  for (std::size_t t : order) {
    const auto least = std::min_element(load.begin(), load.end()) - load.begin();
    owner[t] = static_cast<int>(least);
    load[static_cast<std::size_t>(least)] += table_bytes[t];
  }
  return owner;
}

}  // namespace embedkit::dist
