// The hand-made vocabulary the vectors tests share: a gender axis (x) and a royalty axis (y),
// plus a word off both (z), so cosines and analogies have answers worked out by hand.
#pragma once

#include <string>
#include <vector>

#include "embedkit/core/tensor.hpp"
#include "embedkit/vectors/keyed_vectors.hpp"

namespace embedkit_vectors_test {

inline std::vector<std::string> royal_words() {
  return {"man", "king", "woman", "queen", "apple"};
}

inline embedkit::Tensor royal_matrix() {
  return embedkit::Tensor::from_floats({1, 0, 0,   // man
                                        1, 1, 0,   // king
                                        -1, 0, 0,  // woman
                                        -1, 1, 0,  // queen
                                        0, 0, 2},  // apple
                                       {5, 3});
}

inline embedkit::vectors::KeyedVectors royal() {
  return embedkit::vectors::KeyedVectors(royal_words(), royal_matrix());
}

}  // namespace embedkit_vectors_test
