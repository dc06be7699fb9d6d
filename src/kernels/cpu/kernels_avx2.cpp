// The fast kernels built for the avx2 level (see kernels_impl.hpp): the object library
// embedkit_kernels_avx2, which src/kernels/cpu/CMakeLists.txt builds with this level's -m
// flags, for x86 GCC or Clang only.
#include "kernels/cpu/isa_kernels.hpp"
#include "kernels/cpu/kmeans_kernels.hpp"
#include "kernels/cpu/quantized_kernels.hpp"

#include "kernels/cpu/kernels_impl.hpp"
#include "kernels/cpu/kmeans_impl.hpp"
#include "kernels/cpu/quantized_impl.hpp"
#include "kernels/cpu/vec_avx2.hpp"

namespace embedkit::kernels::cpu {

template <class W, class I>
const IsaKernels<W, I>& avx2_kernels() {
  static constexpr IsaKernels<W, I> kTable = impl::make_table<avx2::Vec, W, I>();
  return kTable;
}

template const IsaKernels<float, std::int32_t>& avx2_kernels();
template const IsaKernels<float, std::int64_t>& avx2_kernels();
template const IsaKernels<Half, std::int32_t>& avx2_kernels();
template const IsaKernels<Half, std::int64_t>& avx2_kernels();
template const IsaKernels<BFloat16, std::int32_t>& avx2_kernels();
template const IsaKernels<BFloat16, std::int64_t>& avx2_kernels();

template <class I>
const QuantizedIsaKernels<I>& avx2_quantized_kernels() {
  static constexpr QuantizedIsaKernels<I> kTable = qimpl::make_quantized_table<avx2::Vec, I>();
  return kTable;
}

template const QuantizedIsaKernels<std::int32_t>& avx2_quantized_kernels();
template const QuantizedIsaKernels<std::int64_t>& avx2_quantized_kernels();

const KmeansIsaKernels& avx2_kmeans_kernels() {
  static constexpr KmeansIsaKernels kTable = kimpl::make_kmeans_table<avx2::Vec>();
  return kTable;
}

}  // namespace embedkit::kernels::cpu
