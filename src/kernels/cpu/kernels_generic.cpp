// The fast kernels built for the generic level (see kernels_impl.hpp): the object library
// embedkit_kernels_generic (src/kernels/cpu/CMakeLists.txt), built on every platform.
#include "kernels/cpu/isa_kernels.hpp"
#include "kernels/cpu/kernels_impl.hpp"
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

}  // namespace embedkit::kernels::cpu
