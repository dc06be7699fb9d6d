// Floats as text: the shortest decimal text that reads back (std::from_chars, strtod, Python's
// float()) to the very same value, as std::to_chars writes it with no format given ("0.1",
// "1e-07", "3.700000047683716"). Every writer of numbers uses it (the safetensors metadata of
// models, word2vec text, ratings CSV, the command's JSON, module reprs and option errors), so a
// value read back is the value written.
//
// The float and double overloads differ: 0.1f is "0.1" as a float and "0.10000000149011612" as
// a double. Call the overload of the type the value is stored and read back as.
#pragma once

#include <string>

namespace embedkit {

// Shortest round-trip text; non-finite values are "inf", "-inf" and "nan" (or "-nan").
std::string shortest_float_text(double x);
std::string shortest_float_text(float x);
void append_shortest_float_text(std::string& out, double x);
void append_shortest_float_text(std::string& out, float x);

// Python's repr() of a float, as PyTorch's messages and module reprs print one: the shortest
// text, with ".0" after a whole number ("1.0", "1e+20" stays), and "inf", "-inf", "nan".
std::string python_float_repr(double x);

}  // namespace embedkit
