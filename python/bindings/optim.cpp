// embedkit.optim: the optimizers fused into the backward, and fused_backward_step.
#include "bindings.hpp"

namespace embedkit::python {

void bind_optim(py::module_& m) {
  static_cast<void>(m);
}

}  // namespace embedkit::python
