// EMBEDKIT_ARG declares one option of an options builder, as LibTorch's TORCH_ARG(T, name) does:
// a private field with a default, a chaining setter and a getter of the same name. The setter
// returns `decltype(*this)` (the enclosing struct by reference), so the macro needs no owner name.
//
//   struct FooOptions { EMBEDKIT_ARG(double, rate) = 0.5; };
//   FooOptions().rate(0.1).rate();  // 0.1
#pragma once

#include <utility>

#define EMBEDKIT_ARG(T, name)           \
 public:                                \
  auto name(T value)->decltype(*this) { \
    name##_ = std::move(value);         \
    return *this;                       \
  }                                     \
  const T& name() const noexcept {      \
    return name##_;                     \
  }                                     \
                                        \
 private:                               \
  T name##_
