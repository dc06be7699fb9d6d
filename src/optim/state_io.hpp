// state_dict()/load_state_dict() plumbing shared by the optimizers: entries are named
// "<parameter name>.<field>", and a checkpoint is checked completely before anything is loaded.
#pragma once

#include <string>
#include <vector>

#include "embedkit/optim/optimizer.hpp"

namespace embedkit::optim::detail {

// One state entry of a parameter, as load_state_dict expects it.
struct StateField {
  enum class Kind {
    Tensor,    // float32, exactly `shape`
    Step,      // a step count: 0-dim or 1 element, float32 or int64, integral and >= 0
    RowSteps,  // one step count per row: int64 or integral float32, exactly `shape`, >= 0
  };
  std::string name;
  Kind kind = Kind::Tensor;
  Shape shape;
};

// One parameter's checkpointed state in the order of its fields; empty when the checkpoint has
// no entry for the parameter, which then starts afresh (as a parameter that has not been
// stepped has no state in torch.optim). Tensor fields are independent float32 copies, Step
// fields int64 0-dim tensors and RowSteps fields int64 tensors.
using LoadedState = std::vector<Tensor>;

// Checks every entry against fields[i] of params[i]: each name known and given once, each
// parameter's fields all present or all absent, shapes, dtypes and step values right. Throws
// ValueError (TypeError for a wrong dtype) naming the first problem; changes nothing.
std::vector<LoadedState> parse_state_dict(const std::string& who, const NamedTensors& state,
                                          const std::vector<Parameter>& params,
                                          const std::vector<std::vector<StateField>>& fields);

// Appends "<p.name>.<field>" -> an independent copy of value (a checkpoint must not change when
// training goes on).
void append_entry(NamedTensors& out, const Parameter& p, const std::string& field,
                  const Tensor& value);

}  // namespace embedkit::optim::detail
