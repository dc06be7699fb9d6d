// The fast kernels built for the avx512 level (see kernels_impl.hpp): the object library
// embedkit_kernels_avx512, which src/kernels/cpu/CMakeLists.txt builds with this level's -m
// flags, for x86 GCC or Clang only.
#include "kernels/cpu/isa_kernels.hpp"
#include "kernels/cpu/kmeans_kernels.hpp"
#include "kernels/cpu/quantized_kernels.hpp"

// GCC 12's AVX-512 headers trip its own (maybe-)uninitialized warnings (the `__Y = __Y` idiom
// of _mm512_undefined_*, GCC bug 105593, fixed in GCC 13). The same kernel source is compiled
// with these warnings on in kernels_generic.cpp and kernels_avx2.cpp.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include "kernels/cpu/kernels_impl.hpp"
#include "kernels/cpu/kmeans_impl.hpp"
#include "kernels/cpu/quantized_impl.hpp"
#include "kernels/cpu/vec_avx512.hpp"

namespace embedkit::kernels::cpu {

template <class W, class I>
const IsaKernels<W, I>& avx512_kernels() {
  static constexpr IsaKernels<W, I> kTable = impl::make_table<avx512::Vec, W, I>();
  return kTable;
}

template const IsaKernels<float, std::int32_t>& avx512_kernels();
template const IsaKernels<float, std::int64_t>& avx512_kernels();
template const IsaKernels<Half, std::int32_t>& avx512_kernels();
template const IsaKernels<Half, std::int64_t>& avx512_kernels();
template const IsaKernels<BFloat16, std::int32_t>& avx512_kernels();
template const IsaKernels<BFloat16, std::int64_t>& avx512_kernels();

template <class I>
const QuantizedIsaKernels<I>& avx512_quantized_kernels() {
  static constexpr QuantizedIsaKernels<I> kTable = qimpl::make_quantized_table<avx512::Vec, I>();
  return kTable;
}

template const QuantizedIsaKernels<std::int32_t>& avx512_quantized_kernels();
template const QuantizedIsaKernels<std::int64_t>& avx512_quantized_kernels();

const KmeansIsaKernels& avx512_kmeans_kernels() {
  static constexpr KmeansIsaKernels kTable = kimpl::make_kmeans_table<avx512::Vec>();
  return kTable;
}

}  // namespace embedkit::kernels::cpu
