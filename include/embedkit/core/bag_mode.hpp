// How a bag of embedding rows is reduced to one vector: the one enum for the idea, from
// nn::EmbeddingBag's `mode` option (nn::BagMode is this type) down to the reference, per-ISA and
// CUDA kernels, which include it from here because the kernels layer may not include nn.
#pragma once

#include <string>

namespace embedkit {

// The values are fixed (0, 1, 2): kernels compiled apart from their callers (the per-ISA
// objects, the CUDA kernels) receive the mode across that boundary.
enum class BagMode : int { Sum = 0, Mean = 1, Max = 2 };

// "sum", "mean" or "max", as PyTorch spells the mode.
inline std::string bag_mode_name(BagMode mode) {
  switch (mode) {
    case BagMode::Sum:
      return "sum";
    case BagMode::Mean:
      return "mean";
    case BagMode::Max:
      return "max";
  }
  return "?";
}

}  // namespace embedkit
