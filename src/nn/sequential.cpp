#include "embedkit/nn/sequential.hpp"

namespace embedkit::nn {

namespace {

NamedTensors prefixed(const std::vector<std::shared_ptr<Layer>>& modules, bool grads) {
  NamedTensors out;
  for (std::size_t i = 0; i < modules.size(); ++i) {
    const std::string prefix = std::to_string(i) + ".";
    for (auto& [name, t] : grads ? modules[i]->gradients() : modules[i]->named_parameters()) {
      out.emplace_back(prefix + name, t);
    }
  }
  return out;
}

}  // namespace

void Sequential::push_back(std::shared_ptr<Layer> module) {
  if (module == nullptr) throw ValueError("Sequential: cannot append a null module");
  modules_.push_back(std::move(module));
}

Layer& Sequential::operator[](std::size_t i) const {
  return *ptr(i);
}

std::shared_ptr<Layer> Sequential::ptr(std::size_t i) const {
  if (i >= modules_.size()) {
    throw IndexError("Sequential module index", 0, static_cast<std::int64_t>(i), 0,
                     static_cast<std::int64_t>(modules_.size()));
  }
  return modules_[i];
}

Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  for (const auto& m : modules_) x = m->forward(x);
  forward_done_ = true;
  return x;
}

Tensor Sequential::backward(const Tensor& grad_output) {
  if (!forward_done_) throw ValueError("Sequential: backward() called before forward()");
  Tensor g = grad_output;
  for (auto it = modules_.rbegin(); it != modules_.rend(); ++it) g = (*it)->backward(g);
  return g;
}

NamedTensors Sequential::named_parameters() const {
  return prefixed(modules_, false);
}

NamedTensors Sequential::gradients() const {
  return prefixed(modules_, true);
}

std::optional<std::int64_t> Sequential::padding_row(const std::string& name) const {
  for (std::size_t i = 0; i < modules_.size(); ++i) {
    const std::string prefix = std::to_string(i) + ".";
    if (name.starts_with(prefix)) return modules_[i]->padding_row(name.substr(prefix.size()));
  }
  return std::nullopt;
}

void Sequential::zero_grad(bool set_to_none) {
  for (const auto& m : modules_) m->zero_grad(set_to_none);
}

void Sequential::train(bool on) {
  Layer::train(on);
  for (const auto& m : modules_) m->train(on);
}

std::string Sequential::repr() const {
  if (modules_.empty()) return "Sequential()";
  std::string out = "Sequential(\n";
  for (std::size_t i = 0; i < modules_.size(); ++i) {
    // A nested module's own line breaks are indented one more level, as Python's _addindent.
    std::string child = modules_[i]->repr();
    std::string indented;
    for (char c : child) {
      indented += c;
      if (c == '\n') indented += "  ";
    }
    out += "  (" + std::to_string(i) + "): " + indented + "\n";
  }
  return out + ")";
}

}  // namespace embedkit::nn
