// embedkit.nn: Embedding, EmbeddingBag and their functional forms over arrays.
#include "bindings.hpp"

namespace embedkit::python {

void bind_nn(py::module_& m) {
  static_cast<void>(m);
}

}  // namespace embedkit::python
