// Grouping of ids by row: the step that turns a scatter (many ids, some repeated) into one
// task per touched row, which is what makes a backward deterministic without atomics and lets
// an optimizer update each row once. The definition that kernels::cpu::group_by_row (the
// fused backward + optimizer step's grouping, kernels/cpu/sort_terms.hpp) is tested against.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

namespace embedkit::kernels::ref {

struct RowGroups {
  // Positions of the non-padding ids, sorted by row; positions of one row in input order.
  std::vector<std::int64_t> order;
  // Group g is order[starts[g] .. starts[g + 1]); its row is rows[g]. Rows ascend.
  std::vector<std::int64_t> starts;
  std::vector<std::int64_t> rows;
};

template <class I>
RowGroups group_by_row(const I* ids, std::int64_t n, std::int64_t padding_idx) {
  RowGroups g;
  g.order.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    if (ids[i] != padding_idx) g.order.push_back(i);
  }
  std::stable_sort(g.order.begin(), g.order.end(),
                   [ids](std::int64_t a, std::int64_t b) { return ids[a] < ids[b]; });
  for (std::size_t k = 0; k < g.order.size(); ++k) {
    if (k == 0 || ids[g.order[k]] != ids[g.order[k - 1]]) {
      g.starts.push_back(static_cast<std::int64_t>(k));
      g.rows.push_back(ids[g.order[k]]);
    }
  }
  g.starts.push_back(static_cast<std::int64_t>(g.order.size()));
  return g;
}

}  // namespace embedkit::kernels::ref
