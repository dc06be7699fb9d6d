// KeyedVectors: word vectors and their queries, with gensim's names.
#include "bindings.hpp"

namespace embedkit::python {

void bind_vectors(py::module_& m) {
  static_cast<void>(m);
}

}  // namespace embedkit::python
