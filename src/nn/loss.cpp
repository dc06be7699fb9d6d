#include "embedkit/nn/loss.hpp"

namespace embedkit::nn {

std::string_view reduction_name(Reduction reduction) {
  switch (reduction) {
    case Reduction::None:
      return "none";
    case Reduction::Mean:
      return "mean";
    case Reduction::Sum:
      return "sum";
  }
  return "?";
}

}  // namespace embedkit::nn
