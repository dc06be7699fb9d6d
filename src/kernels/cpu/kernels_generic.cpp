// The fast kernels built for the generic level (see kernels_impl.hpp): the object library
// embedkit_kernels_generic (src/kernels/cpu/CMakeLists.txt), built on every platform.
#include "kernels/cpu/isa_kernels.hpp"
#include "kernels/cpu/kernels_impl.hpp"
#include "kernels/cpu/kmeans_impl.hpp"
#include "kernels/cpu/kmeans_kernels.hpp"
#include "kernels/cpu/quantized_impl.hpp"
#include "kernels/cpu/quantized_kernels.hpp"
#include "kernels/cpu/vec_generic.hpp"

namespace embedkit::kernels::cpu {

template <class W, class I>
const IsaKernels<W, I>& generic_kernels() {
  static constexpr IsaKernels<W, I> kTable = impl::make_table<generic::Vec, W, I>();
  return kTable;
}

template const IsaKernels<float, std::int32_t>& generic_kernels();
template const IsaKernels<float, std::int64_t>& generic_kernels();
template const IsaKernels<Half, std::int32_t>& generic_kernels();
template const IsaKernels<Half, std::int64_t>& generic_kernels();
template const IsaKernels<BFloat16, std::int32_t>& generic_kernels();
template const IsaKernels<BFloat16, std::int64_t>& generic_kernels();

template <class I>
const QuantizedIsaKernels<I>& generic_quantized_kernels() {
  static constexpr QuantizedIsaKernels<I> kTable = qimpl::make_quantized_table<generic::Vec, I>();
  return kTable;
}

template const QuantizedIsaKernels<std::int32_t>& generic_quantized_kernels();
template const QuantizedIsaKernels<std::int64_t>& generic_quantized_kernels();

const KmeansIsaKernels& generic_kmeans_kernels() {
  static constexpr KmeansIsaKernels kTable = kimpl::make_kmeans_table<generic::Vec>();
  return kTable;
}

}  // namespace embedkit::kernels::cpu
