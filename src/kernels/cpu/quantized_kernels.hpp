// The per-instruction-set kernels of the row-wise quantized tables: what kernels_generic.cpp,
// kernels_avx2.cpp and kernels_avx512.cpp each provide (from quantized_impl.hpp), one table of
// function pointers per id type, picked like isa_kernels.hpp's. They work on bags [b0, b1) on
// the calling thread; quantized_cpu.cpp splits the work among threads.
//
// Every kernel computes each output element with exactly the operations, in exactly the order,
// of kernels::ref::quantized_bag_forward (ref/quantized_ref.hpp), so all levels agree bitwise.
#pragma once

#include <cstdint>

#include "embedkit/core/bag_mode.hpp"
#include "kernels/cpu/isa.hpp"

namespace embedkit::kernels::cpu {

template <class I>
struct QuantizedBagArgs {
  const std::uint8_t* table;  // rows of row_bytes bytes
  std::int64_t row_bytes;
  std::int64_t code_bytes;  // where each row's scale and bias start
  std::int64_t dim;
  const I* ids;
  const std::int64_t* bounds;       // CSR: bag b = ids[bounds[b], bounds[b + 1])
  BagMode mode;                     // sum or mean
  const float* per_sample_weights;  // or null
  std::int64_t padding_idx;         // < 0: none
  float* out;                       // num_bags x dim
  std::int64_t prefetch_ahead;      // prefetch the row this many ids ahead; 0: none
};

template <class I>
struct QuantizedIsaKernels {
  // ref::quantized_bag_forward for bags [b0, b1), one function per format (int8, int4, int2).
  using Bag = void (*)(const QuantizedBagArgs<I>& args, std::int64_t b0, std::int64_t b1);
  Bag bag_int8;
  Bag bag_int4;
  Bag bag_int2;
};

template <class I>
const QuantizedIsaKernels<I>& generic_quantized_kernels();
template <class I>
const QuantizedIsaKernels<I>& avx2_quantized_kernels();
template <class I>
const QuantizedIsaKernels<I>& avx512_quantized_kernels();

// The table of active_isa().
template <class I>
const QuantizedIsaKernels<I>& quantized_isa_kernels() {
#if defined(EMBEDKIT_X86_KERNELS)
  switch (active_isa()) {
    case Isa::Avx512:
      return avx512_quantized_kernels<I>();
    case Isa::Avx2:
      return avx2_quantized_kernels<I>();
    case Isa::Generic:
      break;
  }
#endif
  return generic_quantized_kernels<I>();
}

}  // namespace embedkit::kernels::cpu
