// The per-instruction-set kernel of k-means (kmeans_cpu.cpp): the nearest-centroid search, from
// kmeans_impl.hpp, compiled into kernels_generic.cpp, kernels_avx2.cpp and kernels_avx512.cpp
// and picked like isa_kernels.hpp's tables. It works on the calling thread; kmeans_cpu.cpp
// splits the points among threads.
//
// Each distance is summed over the d values in order from +0.0f with a rounded product and an
// add, as ref::nearest_centroid sums it, and ties go to the lower index, so every level gives
// the reference's codes bitwise.
#pragma once

#include <cstdint>

#include "kernels/cpu/isa.hpp"

namespace embedkit::kernels::cpu {

// The width the transposed centroids are padded to: a multiple of every level's lane count.
inline constexpr std::int64_t kKmeansLanes = 16;

struct KmeansIsaKernels {
  // codes[i] = the nearest centroid to point i of x (n points of d values, row stride `stride`),
  // the lowest index among the smallest squared distances, for i in [0, n). The k centroids come
  // transposed, t [d, kp]: t[j * kp + m] is value j of centroid m, with kp a multiple of
  // kKmeansLanes, below 2^24 (indices are carried as floats), and NaN in the columns m >= k
  // (a NaN distance is never smaller).
  void (*nearest)(const float* x, std::int64_t n, std::int64_t d, std::int64_t stride,
                  const float* t, std::int64_t kp, std::int32_t* codes);
};

const KmeansIsaKernels& generic_kmeans_kernels();
const KmeansIsaKernels& avx2_kmeans_kernels();
const KmeansIsaKernels& avx512_kmeans_kernels();

// The table of active_isa().
inline const KmeansIsaKernels& kmeans_isa_kernels() {
#if defined(EMBEDKIT_X86_KERNELS)
  switch (active_isa()) {
    case Isa::Avx512:
      return avx512_kmeans_kernels();
    case Isa::Avx2:
      return avx2_kmeans_kernels();
    case Isa::Generic:
      break;
  }
#endif
  return generic_kmeans_kernels();
}

}  // namespace embedkit::kernels::cpu
