// The row-wise updates the CUDA backend fuses into the backward: one enum for the public
// DeviceOptimizer::Kind and for the kernels' launch arguments (src/cuda/launch.hpp), which
// include it from here because kernels.cu cannot include the C++20 headers of nn and optim.
#pragma once

namespace embedkit::cuda {

enum class OptimizerKind { SGD, Adagrad, RowWiseAdagrad, SparseAdam };

}  // namespace embedkit::cuda
