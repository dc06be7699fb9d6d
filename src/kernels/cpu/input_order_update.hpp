// The update under the fused backward's input-order mode (optim::FusedSummation::InputOrder):
// every id occurrence's scaled gradient row added straight into its table row, in input order,
// with no grouping, sorting or summing first (FBGEMM's non-exact SGD, word2vec's update).
//
// Threads own rows (a hash of the row picks the thread); each scans all the terms and applies
// those of its rows, in input order. So a row's occurrences are applied in input order by one
// thread whatever the thread count: no races (no hogwild), and the result is bit for bit
// ref::apply_in_input_order's (kernels/ref/input_order_update_ref.hpp) at any thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/cpu/isa_kernels.hpp"

namespace embedkit::kernels::cpu {

// table row t.dst = fma(t.scale, src row t.src, table row t.dst) per element, for the terms in
// order (dim floats per row; every t.dst in [0, num_rows)).
void apply_in_input_order(const float* src, std::int64_t dim, const std::vector<RowTerm>& terms,
                          float* table, std::int64_t num_rows);

}  // namespace embedkit::kernels::cpu
