// The fast kernels built for the avx2 level (see kernels_impl.hpp; the compile flags of this
// file are set in the top-level CMakeLists.txt).
#include "kernels/cpu/isa_kernels.hpp"

// Built only where the top-level CMakeLists.txt could give this file its -m flags.
#if defined(EMBEDKIT_X86_KERNELS)

#include "kernels/cpu/kernels_impl.hpp"
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

}  // namespace embedkit::kernels::cpu

#endif
