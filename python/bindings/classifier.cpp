// The fastText-style text classifier: train_supervised and its model.
#include "bindings.hpp"

namespace embedkit::python {

void bind_classifier(py::module_& m) {
  static_cast<void>(m);
}

}  // namespace embedkit::python
