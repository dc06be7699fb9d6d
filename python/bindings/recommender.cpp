// The recommender: matrix factorisation over ratings and implicit feedback.
#include "bindings.hpp"

namespace embedkit::python {

void bind_recommender(py::module_& m) {
  static_cast<void>(m);
}

}  // namespace embedkit::python
