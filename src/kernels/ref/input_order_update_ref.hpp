// Reference for kernels/cpu/input_order_update.hpp: the plain loop over the occurrences.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cpu/isa_kernels.hpp"

namespace embedkit::kernels::ref {

// For each term in order: table row t.dst = fma(t.scale, src row t.src, table row t.dst), per
// element (word2vec's and FBGEMM's non-exact SGD: each occurrence straight into the table).
inline void apply_in_input_order(const float* src, std::int64_t dim,
                                 const std::vector<cpu::RowTerm>& terms, float* table) {
  for (const cpu::RowTerm& t : terms) {
    float* row = table + t.dst * dim;
    const float* g = src + t.src * dim;
    for (std::int64_t j = 0; j < dim; ++j) row[j] = std::fma(t.scale, g[j], row[j]);
  }
}

}  // namespace embedkit::kernels::ref
