// The squared norms of float32 rows in double, in one fixed summation order: the inverse norms
// that scale every cosine score of the vector queries (vectors/keyed_vectors.cpp) come from
// them, so the order is part of what a query returns.
#pragma once

#include <cstdint>

namespace embedkit::kernels::cpu {

// sums[i] = the squares of row i's values, each widened to double, summed from 0 in ascending
// column order, one rounded add per step: ref::squared_row_norms, bit for bit. A row's sum is
// one serial chain of adds, so the fast path (AVX2 and up) keeps sixteen rows' chains in flight
// at once, each row in a lane of its own, instead of waiting for one add after another. The
// first query on a mapped vectors file computes every row's norm (BENCHMARKS.md, issue 16).
//
// A sum is finite exactly when its row's values all are: a float's square is below 2^256, so a
// row of finite values cannot reach the double range's end (2^1024), and an infinity or a NaN
// in the row makes the sum infinite or NaN. Callers check values through the sums.
void squared_row_norms(const float* rows, std::int64_t count, std::int64_t dim, double* sums);

// inverse[i] = 1 / sqrt(squared_row_norms' sum of row i), rounded to float (0 for an all-zero
// row): the inverse norms that scale the queries' scores, for KeyedVectors' lazy norms and for
// the norms stored beside a mapped pair (io's word index), which must be the same bits. Stops
// at the first row holding a non-finite value and returns its position (the rows before it are
// written); returns `count` when every row is finite.
std::int64_t inverse_row_norms(const float* rows, std::int64_t count, std::int64_t dim,
                               float* inverse);

}  // namespace embedkit::kernels::cpu
