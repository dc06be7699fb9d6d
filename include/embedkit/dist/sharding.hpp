// Which rank holds which rows of a [num_rows, dim] table spread over P ranks.
//
//  RowWise: contiguous ranges, rank p holds rows [first_row(p), first_row(p + 1)). When P does
//    not divide num_rows the first num_rows % P ranks hold one row more (shards differ by at
//    most one row; with num_rows < P the last ranks hold none).
//  RowWiseCyclic: row r lives on rank r % P, at local row r / P. Chosen over a hash of r: it
//    balances exactly as the ranges do, needs no table to find a row, and spreads any
//    contiguous block of hot rows (a vocabulary sorted by frequency puts all of its hot words
//    first, which a contiguous range would put on rank 0) evenly over the ranks. Ids that are
//    already hashed (the usual case in recommenders) gain nothing from hashing them again.
//  TableWise: the whole table on one rank (table_owner); the other ranks hold no row. For a
//    model with many tables, place_tables() picks the owners.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace embedkit::dist {

enum class ShardingKind : int { RowWise = 0, RowWiseCyclic = 1, TableWise = 2 };

// "row_wise", "row_wise_cyclic", "table_wise" (as a manifest spells them).
std::string sharding_kind_name(ShardingKind kind);
// The inverse; ValueError naming the accepted names.
ShardingKind parse_sharding_kind(const std::string& name);

class Sharding {
 public:
  // ValueError for num_rows < 0, ranks < 1, or a table_owner outside [0, ranks).
  Sharding(ShardingKind kind, std::int64_t num_rows, int ranks, int table_owner = 0);

  ShardingKind kind() const { return kind_; }
  std::int64_t num_rows() const { return num_rows_; }
  int ranks() const { return ranks_; }
  int table_owner() const { return table_owner_; }

  // For a row in [0, num_rows) (not checked: callers validate ids first).
  int owner(std::int64_t row) const;
  std::int64_t local_row(std::int64_t row) const;
  // The global row of rank's local row.
  std::int64_t global_row(int rank, std::int64_t local) const;
  // How many rows rank holds.
  std::int64_t shard_rows(int rank) const;

 private:
  ShardingKind kind_;
  std::int64_t num_rows_;
  int ranks_;
  int table_owner_;
  std::int64_t base_ = 0;   // RowWise: rows per rank, rounded down
  std::int64_t extra_ = 0;  // RowWise: ranks [0, extra_) hold base_ + 1 rows
};

// Table-wise placement of a collection of tables: the owner rank of each table, given each
// table's size in bytes. Greedy, largest table first (ties: the lower table index), onto the
// rank holding the fewest bytes so far (ties: the lower rank), so the result is deterministic
// and the same on every rank. ValueError for ranks < 1 or a negative size.
std::vector<int> place_tables(const std::vector<std::int64_t>& table_bytes, int ranks);

}  // namespace embedkit::dist
