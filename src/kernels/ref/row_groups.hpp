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

// The definition of kernels::cpu::group_runs_singles_first: group_by_row's groups, those of one
// position first, by position, then the others in group_by_row's order. (row, position) per
// term; `singles`: how many lead.
struct RunsSinglesFirst {
  std::vector<std::int64_t> rows;
  std::vector<std::int64_t> positions;
  std::int64_t singles = 0;
};

template <class I>
RunsSinglesFirst group_runs_singles_first(const I* ids, std::int64_t n, std::int64_t padding_idx) {
  const RowGroups g = group_by_row(ids, n, padding_idx);
  RunsSinglesFirst out;
  std::vector<std::int64_t> lone;
  for (std::size_t k = 0; k + 1 < g.starts.size(); ++k) {
    if (g.starts[k + 1] - g.starts[k] == 1) {
      lone.push_back(g.order[static_cast<std::size_t>(g.starts[k])]);
    }
  }
  std::sort(lone.begin(), lone.end());
  for (const std::int64_t p : lone) {
    out.rows.push_back(ids[p]);
    out.positions.push_back(p);
  }
  out.singles = static_cast<std::int64_t>(lone.size());
  for (std::size_t k = 0; k + 1 < g.starts.size(); ++k) {
    if (g.starts[k + 1] - g.starts[k] == 1) continue;
    for (std::int64_t j = g.starts[k]; j < g.starts[k + 1]; ++j) {
      const std::int64_t p = g.order[static_cast<std::size_t>(j)];
      out.rows.push_back(ids[p]);
      out.positions.push_back(p);
    }
  }
  return out;
}

}  // namespace embedkit::kernels::ref
