// EMBEDKIT_ARG declares one option of an options builder, as LibTorch's TORCH_ARG does:
// a private field with a default, a chaining setter and a getter of the same name.
//
//   struct FooOptions { EMBEDKIT_ARG(FooOptions, double, rate) = 0.5; };
//   FooOptions().rate(0.1).rate();  // 0.1
#pragma once

#include <utility>

#define EMBEDKIT_ARG(Owner, T, name) \
 public:                             \
  Owner& name(T value) {             \
    name##_ = std::move(value);      \
    return *this;                    \
  }                                  \
  const T& name() const noexcept {   \
    return name##_;                  \
  }                                  \
                                     \
 private:                            \
  T name##_
