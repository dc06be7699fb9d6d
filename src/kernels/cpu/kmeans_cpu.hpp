// k-means for product quantization, the fast twin of ref/kmeans_ref.hpp (contract:
// ../kmeans_steps.hpp), bitwise the same centroids and codes.
//
// The E-step, the nearest centroid of every point, is kmeans_kernels.hpp's kernel at the CPU's
// instruction set: the centroids transposed ([d, k]) so that one vector holds a value of several
// centroids, the arg-min kept per lane and P points searched together; the points are split over
// the thread pool (each point's code depends on nothing else, so the split changes nothing).
// nearest_centroids (every row of a matrix, the codes of product quantization) is the same
// search.
#pragma once

#include <cstdint>

namespace embedkit::kernels::cpu {

void kmeans(const float* x, std::int64_t n, std::int64_t d, std::int64_t stride, std::int64_t k,
            std::int64_t iterations, std::int64_t max_points, std::uint64_t seed, float* c);

// codes[i * code_stride] = the nearest of the k centroids c [k, d] to point i of x (n points of
// d values, row stride `stride`), for i in [0, n).
void nearest_centroids(const float* x, std::int64_t n, std::int64_t d, std::int64_t stride,
                       const float* c, std::int64_t k, std::uint8_t* codes,
                       std::int64_t code_stride);

}  // namespace embedkit::kernels::cpu
