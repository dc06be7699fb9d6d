// Word2Vec: training word vectors, with gensim's names.
#include "bindings.hpp"

namespace embedkit::python {

void bind_word2vec(py::module_& m) {
  static_cast<void>(m);
}

}  // namespace embedkit::python
