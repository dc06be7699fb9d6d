#include "kernels/cpu/add_scaled.hpp"

#include "kernels/cpu/isa_kernels.hpp"

namespace embedkit::kernels::cpu {

// The float32 accumulate kernel with one term {dst 0, src 0, scale alpha} over a "row" of n
// elements is exactly this loop. The id type of the table plays no part in it: the int64
// table carries it, as it carries the index checks (index_checks.cpp).
void add_scaled(float alpha, const float* x, std::int64_t n, float* y) {
  if (n <= 0) return;
  const RowTerm term{0, 0, alpha};
  isa_kernels<float, std::int64_t>().accumulate(x, n, &term, 1, y, 0);
}

}  // namespace embedkit::kernels::cpu
