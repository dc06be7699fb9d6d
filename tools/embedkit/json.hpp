// A tiny JSON value for the embedkit command's --json output: build a tree, then dump() it.
// Objects keep their keys in insertion order; floats print in the shortest form that reads
// back to the same value; arrays of plain values stay on one line.
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "embedkit/core/float_text.hpp"
#include "embedkit/io/json_string.hpp"

namespace embedkit::cli {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() : value_(nullptr) {}
  Json(std::nullptr_t) : value_(nullptr) {}
  Json(bool b) : value_(b) {}
  template <std::integral T>
  Json(T x) : value_(Number{std::to_string(x)}) {}
  Json(float x) : value_(Number{shortest(x)}) {}
  Json(double x) : value_(Number{shortest(x)}) {}
  Json(const char* s) : value_(std::string(s)) {}
  Json(std::string s) : value_(std::move(s)) {}
  Json(Array a) : value_(std::move(a)) {}

  static Json object() {
    Json j;
    j.value_ = Object{};
    return j;
  }
  static Json array() { return Json(Array{}); }
  template <class T>
  static Json array_of(const std::vector<T>& values) {
    Array a;
    a.reserve(values.size());
    for (const T& v : values) a.emplace_back(v);
    return Json(std::move(a));
  }

  // On an object: adds (or replaces) a key. Returns *this for chaining.
  Json& set(const std::string& key, Json value) {
    auto& obj = std::get<Object>(value_);
    for (auto& [k, v] : obj) {
      if (k == key) {
        v = std::move(value);
        return *this;
      }
    }
    obj.emplace_back(key, std::move(value));
    return *this;
  }
  // On an array: appends.
  Json& push(Json value) {
    std::get<Array>(value_).push_back(std::move(value));
    return *this;
  }

  std::string dump() const {
    std::string out;
    write(out, 0);
    out += '\n';
    return out;
  }

 private:
  struct Number {
    std::string text;
  };

  // JSON has no infinity or NaN.
  template <std::floating_point T>
  static std::string shortest(T x) {
    return std::isfinite(x) ? shortest_float_text(x) : "null";
  }

  static void write_string(std::string& out, const std::string& s) {
    io::append_json_string(out, s, io::JsonControlEscapes::ShortNewlineAndTab);
  }

  bool is_container() const {
    return std::holds_alternative<Array>(value_) || std::holds_alternative<Object>(value_);
  }

  void write(std::string& out, int indent) const {
    const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
    const std::string close_pad(static_cast<std::size_t>(indent), ' ');
    if (std::holds_alternative<std::nullptr_t>(value_)) {
      out += "null";
    } else if (const bool* b = std::get_if<bool>(&value_)) {
      out += *b ? "true" : "false";
    } else if (const Number* n = std::get_if<Number>(&value_)) {
      out += n->text;
    } else if (const std::string* s = std::get_if<std::string>(&value_)) {
      write_string(out, *s);
    } else if (const Array* a = std::get_if<Array>(&value_)) {
      bool flat = true;
      for (const Json& v : *a) flat = flat && !v.is_container();
      out += '[';
      for (std::size_t i = 0; i < a->size(); ++i) {
        if (i) out += flat ? ", " : ",";
        if (!flat) out += "\n" + pad;
        (*a)[i].write(out, indent + 2);
      }
      if (!flat && !a->empty()) out += "\n" + close_pad;
      out += ']';
    } else if (const Object* o = std::get_if<Object>(&value_)) {
      out += '{';
      for (std::size_t i = 0; i < o->size(); ++i) {
        out += i ? ",\n" : "\n";
        out += pad;
        write_string(out, (*o)[i].first);
        out += ": ";
        (*o)[i].second.write(out, indent + 2);
      }
      if (!o->empty()) out += "\n" + close_pad;
      out += '}';
    }
  }

  std::variant<std::nullptr_t, bool, Number, std::string, Array, Object> value_;
};

}  // namespace embedkit::cli
