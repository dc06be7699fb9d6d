// Which elements of a parameter an update may write: all of them but the padding row, which
// embedkit keeps fixed under every optimizer (weight decay and momentum included).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "embedkit/optim/optimizer.hpp"

namespace embedkit::optim::detail {

// Elements per row (per index of dimension 0); the whole tensor for a 0-dim parameter.
inline std::int64_t row_length(const Tensor& t) {
  return t.dim() == 0 || t.size(0) == 0 ? t.numel() : t.numel() / t.size(0);
}

// Calls fn(begin, end) for each flat element range outside the padding row.
template <class F>
void for_each_unpadded_range(const Parameter& p, F&& fn) {
  const std::int64_t n = p.value.numel();
  if (!p.padding_idx) {
    fn(std::int64_t{0}, n);
    return;
  }
  const std::int64_t row = row_length(p.value);
  fn(std::int64_t{0}, *p.padding_idx * row);
  fn((*p.padding_idx + 1) * row, n);
}

// Calls fn(row) for every row but the padding row (dense gradients touch every row).
template <class F>
void for_each_unpadded_row(const Parameter& p, F&& fn) {
  const std::int64_t rows = p.value.size(0);
  for (std::int64_t r = 0; r < rows; ++r) {
    if (!p.padding_idx || r != *p.padding_idx) fn(r);
  }
}

inline bool is_padding_row(const Parameter& p, std::int64_t row) {
  return p.padding_idx && row == *p.padding_idx;
}

// The parameter a row step updates: params[index], which must exist and be 2-D.
const Parameter& row_step_parameter(const std::vector<Parameter>& params, std::size_t index,
                                    const std::string& optimizer);

}  // namespace embedkit::optim::detail
