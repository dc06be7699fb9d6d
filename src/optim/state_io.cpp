#include "optim/state_io.hpp"

#include <cmath>
#include <map>
#include <utility>

#include "embedkit/core/error.hpp"

namespace embedkit::optim::detail {

namespace {

// A step count read from float32 or int64 storage; false when it is not a count.
bool read_count(const Tensor& t, std::int64_t i, std::int64_t& out) {
  if (t.dtype() == DType::Int64) {
    out = t.data<std::int64_t>()[i];
    return out >= 0;
  }
  const double v = t.data<float>()[i];
  // 2^62 keeps the conversion defined; float32 steps stop counting at 2^24 anyway.
  if (!(v >= 0.0 && v < 4.6e18 && v == std::floor(v))) return false;
  out = static_cast<std::int64_t>(v);
  return true;
}

Tensor load_field(const std::string& who, const std::string& key, const Tensor& t,
                  const StateField& field) {
  if (!t.defined()) throw ValueError(who + ": state entry '" + key + "' is undefined");
  switch (field.kind) {
    case StateField::Kind::Tensor:
      if (t.dtype() != DType::Float32) {
        throw TypeError(who + ": state entry '" + key + "' must be float32, got " +
                        std::string(dtype_name(t.dtype())));
      }
      if (t.shape() != field.shape) {
        throw ValueError(who + ": state entry '" + key + "' has shape " + shape_string(t.shape()) +
                         ", expected " + shape_string(field.shape));
      }
      return t.clone();
    case StateField::Kind::Step:
    case StateField::Kind::RowSteps: {
      if (t.dtype() != DType::Int64 && t.dtype() != DType::Float32) {
        throw TypeError(who + ": state entry '" + key + "' must be int64 or float32, got " +
                        std::string(dtype_name(t.dtype())));
      }
      const bool scalar = field.kind == StateField::Kind::Step;
      if (scalar ? (t.numel() != 1 || t.dim() > 1) : t.shape() != field.shape) {
        throw ValueError(who + ": state entry '" + key + "' has shape " + shape_string(t.shape()) +
                         ", expected " +
                         (scalar ? std::string("[] or [1]") : shape_string(field.shape)));
      }
      Tensor out = Tensor::empty(scalar ? Shape{} : field.shape, DType::Int64);
      std::int64_t* dst = out.data<std::int64_t>();
      for (std::int64_t i = 0; i < t.numel(); ++i) {
        if (!read_count(t, i, dst[i])) {
          throw ValueError(who + ": state entry '" + key +
                           "' must hold step counts (integers >= 0), got " +
                           std::to_string(t.item_at(i)));
        }
      }
      return out;
    }
  }
  return {};
}

}  // namespace

std::vector<LoadedState> parse_state_dict(const std::string& who, const NamedTensors& state,
                                          const std::vector<Parameter>& params,
                                          const std::vector<std::vector<StateField>>& fields) {
  std::map<std::string, std::size_t> param_index;
  for (std::size_t i = 0; i < params.size(); ++i) param_index[params[i].name] = i;

  // found[i][f]: the entry given for field f of parameter i.
  std::vector<std::vector<const Tensor*>> found(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) found[i].assign(fields[i].size(), nullptr);

  for (const auto& [key, value] : state) {
    // Field names have no '.', parameter names may ("embedding.weight").
    const auto dot = key.rfind('.');
    const auto it =
        dot == std::string::npos ? param_index.end() : param_index.find(key.substr(0, dot));
    std::size_t f = 0;
    if (it != param_index.end()) {
      const auto& fs = fields[it->second];
      while (f < fs.size() && fs[f].name != key.substr(dot + 1)) ++f;
    }
    if (it == param_index.end() || f == fields[it->second].size()) {
      throw ValueError(who + ": unexpected state entry '" + key + "'");
    }
    if (found[it->second][f] != nullptr) {
      throw ValueError(who + ": state entry '" + key + "' is given twice");
    }
    found[it->second][f] = &value;
  }

  std::vector<LoadedState> out(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    std::size_t present = 0;
    for (const Tensor* t : found[i]) present += t != nullptr;
    if (present == 0) continue;
    for (std::size_t f = 0; f < fields[i].size(); ++f) {
      const std::string key = params[i].name + "." + fields[i][f].name;
      if (found[i][f] == nullptr) {
        throw ValueError(who + ": state entry '" + key + "' is missing (the state of '" +
                         params[i].name + "' must be given whole or not at all)");
      }
      out[i].push_back(load_field(who, key, *found[i][f], fields[i][f]));
    }
  }
  return out;
}

void append_entry(NamedTensors& out, const Parameter& p, const std::string& field,
                  const Tensor& value) {
  out.emplace_back(p.name + "." + field, value.clone());
}

}  // namespace embedkit::optim::detail
