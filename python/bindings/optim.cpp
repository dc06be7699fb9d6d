// embedkit.optim: the optimizers fused into the backward, and fused_backward_step.
//
// The compiled classes take their parameters already named: a list of (name, table,
// padding_idx) triples, each table shared with the caller (borrow_table: the optimizer updates
// the caller's memory). python/embedkit/optim.py turns what a user passes (modules, tensors,
// named_parameters()) into that list and gives each class torch.optim's signature.
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "arrays.hpp"
#include "bindings.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/core/thread_pool.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/nn/weight_grad.hpp"
#include "embedkit/optim/adagrad.hpp"
#include "embedkit/optim/fused_backward.hpp"
#include "embedkit/optim/lazy_adam.hpp"
#include "embedkit/optim/optimizer.hpp"
#include "embedkit/optim/rowwise_adagrad.hpp"
#include "embedkit/optim/sgd.hpp"
#include "embedkit/optim/sparse_adam.hpp"

namespace embedkit::python {

namespace {

using ParamSpec = std::tuple<std::string, py::object, std::optional<std::int64_t>>;

std::vector<optim::Parameter> parameters_of(const std::vector<ParamSpec>& specs) {
  std::vector<optim::Parameter> params;
  params.reserve(specs.size());
  for (const auto& [name, table, padding_idx] : specs) {
    params.push_back({name, borrow_table(table, "parameter '" + name + "'"), padding_idx});
  }
  return params;
}

py::dict to_dict(const NamedTensors& named) {
  py::dict out;
  for (const auto& [name, tensor] : named) out[py::str(name)] = to_array(tensor);
  return out;
}

// A state dict given as a mapping name -> array. Every entry is read (and copied by
// load_state_dict), so nothing of the caller's is kept.
NamedTensors from_dict(const py::dict& state) {
  NamedTensors named;
  for (const auto& [key, value] : state) {
    if (!py::isinstance<py::str>(key)) {
      throw TypeError("load_state_dict: keys must be strings, got " +
                      py::str(py::type::of(key)).cast<std::string>());
    }
    const std::string name = key.cast<std::string>();
    named.emplace_back(name, input_tensor(value, "state '" + name + "'"));
  }
  return named;
}

// One gradient of Optimizer.step: None (no gradient), a dense array, or (indices, values) of a
// row-sparse one with `rows` rows (optim.py turns a torch sparse tensor into that pair).
nn::WeightGrad gradient_of(py::handle grad, std::int64_t rows, std::size_t index) {
  const std::string what = "grads[" + std::to_string(index) + "]";
  if (grad.is_none()) return nn::WeightGrad();
  if (py::isinstance<py::tuple>(grad)) {
    const auto pair = py::reinterpret_borrow<py::tuple>(grad);
    if (pair.size() != 2) {
      throw ValueError(what + ": a row-sparse gradient is a pair (indices, values)");
    }
    Tensor indices = input_tensor(pair[0], what + " indices");
    Tensor values = input_tensor(pair[1], what + " values");
    return nn::WeightGrad::from_sparse(
        RowSparseTensor(std::move(indices), std::move(values), rows));
  }
  return nn::WeightGrad::from_dense(input_tensor(grad, what));
}

void step(optim::Optimizer& optimizer, const py::sequence& grads) {
  const auto& params = optimizer.params();
  if (grads.size() != params.size()) {
    throw ValueError(optimizer.name() + ".step: got " + std::to_string(grads.size()) +
                     " gradients for " + std::to_string(params.size()) + " parameters");
  }
  std::vector<nn::WeightGrad> converted;
  converted.reserve(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Tensor& value = params[i].value;
    converted.push_back(gradient_of(grads[i], value.dim() == 0 ? 0 : value.size(0), i));
  }
  py::gil_scoped_release release;
  optimizer.step(converted);
}

py::list param_names(const optim::Optimizer& optimizer) {
  py::list names;
  for (const auto& p : optimizer.params()) names.append(p.name);
  return names;
}

// fused_backward_step's exact flag: False is the input-order mode (FBGEMM's approx_sgd).
optim::FusedSummation summation(bool exact) {
  return exact ? optim::FusedSummation::Exact : optim::FusedSummation::InputOrder;
}

py::tuple betas_tuple(const optim::Betas& betas) {
  return py::make_tuple(std::get<0>(betas), std::get<1>(betas));
}

optim::WeightDecayMode weight_decay_mode(const std::string& mode) {
  if (mode == "l2" || mode == "L2") return optim::WeightDecayMode::L2;
  if (mode == "decoupled" || mode == "DECOUPLED") return optim::WeightDecayMode::Decoupled;
  throw ValueError("RowWiseAdagrad: weight_decay_mode must be 'l2' or 'decoupled', got '" + mode +
                   "'");
}

const char* const kParamsDoc =
    "params: a list of (name, table, padding_idx) triples; each table is a float32 C-contiguous "
    "writeable array (or tensor), updated in place (embedkit.optim builds this list).";

}  // namespace

void bind_optim(py::module_& m) {
  py::class_<optim::Optimizer>(m, "Optimizer", R"doc(
The base of embedkit's optimizers (embedkit.optim): torch.optim's update rules over tables
that the optimizer updates in place, fused into the backward by fused_backward_step.
)doc")
      .def_property_readonly("param_names", &param_names,
                             "The names of the parameters, in order (the state_dict's prefixes).")
      .def_property_readonly("name", &optim::Optimizer::name, "The optimizer's name.")
      .def(
          "state_dict", [](const optim::Optimizer& o) { return to_dict(o.state_dict()); },
          R"doc(
The optimizer's state as a dict {"<param>.<state>": numpy.ndarray}, for example
{"weight.step": array(3.), "weight.sum": array([[...]])}. The arrays are copies: training on
does not change them. A parameter with no state yet (SparseAdam before its first step) has no
entries.
)doc")
      .def(
          "load_state_dict",
          [](optim::Optimizer& o, const py::dict& state) { o.load_state_dict(from_dict(state)); },
          py::arg("state_dict"), R"doc(
Loads a dict written by state_dict() (values may be NumPy arrays or tensors; they are copied).
Every name, shape and dtype is checked before anything changes: ValueError (TypeError for a
wrong dtype) names the first problem. A parameter missing from the dict starts afresh.
)doc")
      .def("_step", &step, py::arg("grads"),
           "One step from explicit gradients, grads[i] for parameter i: None, a dense array, or "
           "(indices, values) of a row-sparse gradient. Releases the GIL.")
      .def("__repr__", [](const optim::Optimizer& o) {
        return o.name() + "(" + py::repr(param_names(o)).cast<std::string>() + ")";
      });

  py::class_<optim::SGD, optim::Optimizer>(m, "SGD", "torch.optim.SGD (see embedkit.optim.SGD).")
      .def(py::init([](const std::vector<ParamSpec>& params, double lr, double momentum,
                       double dampening, double weight_decay, bool nesterov, bool maximize) {
             return new optim::SGD(parameters_of(params), optim::SGDOptions(lr)
                                                              .momentum(momentum)
                                                              .dampening(dampening)
                                                              .weight_decay(weight_decay)
                                                              .nesterov(nesterov)
                                                              .maximize(maximize));
           }),
           py::arg("params"), py::arg("lr"), py::arg("momentum") = 0.0, py::arg("dampening") = 0.0,
           py::arg("weight_decay") = 0.0, py::arg("nesterov") = false, py::kw_only(),
           py::arg("maximize") = false, kParamsDoc)
      .def_property_readonly("defaults", [](const optim::SGD& o) {
        const auto& x = o.options();
        return py::dict(py::arg("lr") = x.lr(), py::arg("momentum") = x.momentum(),
                        py::arg("dampening") = x.dampening(),
                        py::arg("weight_decay") = x.weight_decay(),
                        py::arg("nesterov") = x.nesterov(), py::arg("maximize") = x.maximize());
      });

  py::class_<optim::Adagrad, optim::Optimizer>(m, "Adagrad",
                                               "torch.optim.Adagrad (see embedkit.optim.Adagrad).")
      .def(py::init([](const std::vector<ParamSpec>& params, double lr, double lr_decay,
                       double weight_decay, double initial_accumulator_value, double eps,
                       bool maximize) {
             return new optim::Adagrad(parameters_of(params),
                                       optim::AdagradOptions(lr)
                                           .lr_decay(lr_decay)
                                           .weight_decay(weight_decay)
                                           .initial_accumulator_value(initial_accumulator_value)
                                           .eps(eps)
                                           .maximize(maximize));
           }),
           py::arg("params"), py::arg("lr") = 1e-2, py::arg("lr_decay") = 0.0,
           py::arg("weight_decay") = 0.0, py::arg("initial_accumulator_value") = 0.0,
           py::arg("eps") = 1e-10, py::kw_only(), py::arg("maximize") = false, kParamsDoc)
      .def_property_readonly("defaults", [](const optim::Adagrad& o) {
        const auto& x = o.options();
        return py::dict(py::arg("lr") = x.lr(), py::arg("lr_decay") = x.lr_decay(),
                        py::arg("weight_decay") = x.weight_decay(),
                        py::arg("initial_accumulator_value") = x.initial_accumulator_value(),
                        py::arg("eps") = x.eps(), py::arg("maximize") = x.maximize());
      });

  py::class_<optim::RowWiseAdagrad, optim::Optimizer>(
      m, "RowWiseAdagrad", "FBGEMM's exact row-wise Adagrad (see embedkit.optim.RowWiseAdagrad).")
      .def(py::init([](const std::vector<ParamSpec>& params, double lr, double eps,
                       double weight_decay, const std::string& mode) {
             return new optim::RowWiseAdagrad(parameters_of(params),
                                              optim::RowWiseAdagradOptions(lr)
                                                  .eps(eps)
                                                  .weight_decay(weight_decay)
                                                  .weight_decay_mode(weight_decay_mode(mode)));
           }),
           py::arg("params"), py::arg("lr") = 1e-2, py::arg("eps") = 1e-8,
           py::arg("weight_decay") = 0.0, py::arg("weight_decay_mode") = "l2", kParamsDoc)
      .def_property_readonly("defaults", [](const optim::RowWiseAdagrad& o) {
        const auto& x = o.options();
        const char* mode = x.weight_decay_mode() == optim::WeightDecayMode::L2 ? "l2" : "decoupled";
        return py::dict(py::arg("lr") = x.lr(), py::arg("eps") = x.eps(),
                        py::arg("weight_decay") = x.weight_decay(),
                        py::arg("weight_decay_mode") = mode);
      });

  py::class_<optim::SparseAdam, optim::Optimizer>(
      m, "SparseAdam", "torch.optim.SparseAdam (see embedkit.optim.SparseAdam).")
      .def(py::init([](const std::vector<ParamSpec>& params, double lr,
                       std::tuple<double, double> betas, double eps, bool maximize) {
             return new optim::SparseAdam(
                 parameters_of(params),
                 optim::SparseAdamOptions(lr).betas(betas).eps(eps).maximize(maximize));
           }),
           py::arg("params"), py::arg("lr") = 1e-3, py::arg("betas") = std::make_tuple(0.9, 0.999),
           py::arg("eps") = 1e-8, py::arg("maximize") = false, kParamsDoc)
      .def_property_readonly("defaults", [](const optim::SparseAdam& o) {
        const auto& x = o.options();
        return py::dict(py::arg("lr") = x.lr(), py::arg("betas") = betas_tuple(x.betas()),
                        py::arg("eps") = x.eps(), py::arg("maximize") = x.maximize());
      });

  py::class_<optim::LazyAdam, optim::Optimizer>(
      m, "LazyAdam", "Adam with per-row step counts (see embedkit.optim.LazyAdam).")
      .def(py::init([](const std::vector<ParamSpec>& params, double lr,
                       std::tuple<double, double> betas, double eps, bool maximize) {
             return new optim::LazyAdam(
                 parameters_of(params),
                 optim::LazyAdamOptions(lr).betas(betas).eps(eps).maximize(maximize));
           }),
           py::arg("params"), py::arg("lr") = 1e-3, py::arg("betas") = std::make_tuple(0.9, 0.999),
           py::arg("eps") = 1e-8, py::arg("maximize") = false, kParamsDoc)
      .def_property_readonly("defaults", [](const optim::LazyAdam& o) {
        const auto& x = o.options();
        return py::dict(py::arg("lr") = x.lr(), py::arg("betas") = betas_tuple(x.betas()),
                        py::arg("eps") = x.eps(), py::arg("maximize") = x.maximize());
      });

  // The kernels' thread count, as torch.set_num_threads / get_num_threads: training a PyTorch
  // model with embedkit's fused tables on the same cores as torch needs both set alike.
  m.def(
      "set_num_threads",
      [](int n) {
        py::gil_scoped_release release;  // waits for the pool's threads to stop and restart
        set_num_threads(n);
      },
      py::arg("n"), R"doc(
Sets the number of threads embedkit's kernels use (the calling thread included), as
torch.set_num_threads does for PyTorch's. n >= 1, else ValueError. The default is the number
of hardware threads. Call it while no embedkit call runs.
)doc");
  m.def("get_num_threads", &get_num_threads,
        "The number of threads embedkit's kernels use (torch.get_num_threads's counterpart).");

  // The fused backward: the module types are nn.cpp's classes. Every argument is converted with
  // the GIL held; the step itself runs without it.
  m.def(
      "fused_backward_step",
      [](nn::Embedding& module, py::handle ids, py::handle grad_output, optim::Optimizer& optimizer,
         bool exact) {
        const Tensor ids_t = input_tensor(ids, "ids");
        const Tensor grad_t = input_tensor(grad_output, "grad_output");
        py::gil_scoped_release release;
        optim::fused_backward_step(module, ids_t, grad_t, optimizer, summation(exact));
      },
      py::arg("module"), py::arg("ids"), py::arg("grad_output"), py::arg("optimizer"),
      py::kw_only(), py::arg("exact") = true, R"doc(
The backward of module(ids) fused with one optimizer step: the rows the ids touch are updated
as backward + coalesce + optimizer.step would, without building the gradient. exact=False: each
id's SGD update goes straight into the table in input order (FBGEMM's approx_sgd; SGD without
momentum and weight decay only). Releases the GIL.
)doc");
  m.def(
      "fused_backward_step",
      [](nn::EmbeddingBag& module, py::handle ids, py::handle offsets, py::handle grad_output,
         optim::Optimizer& optimizer, py::handle per_sample_weights, bool exact) {
        const Tensor ids_t = input_tensor(ids, "ids");
        const Tensor offsets_t = input_tensor(offsets, "offsets");
        const Tensor grad_t = input_tensor(grad_output, "grad_output");
        const Tensor psw_t = input_tensor(per_sample_weights, "per_sample_weights");
        py::gil_scoped_release release;
        optim::fused_backward_step(module, ids_t, offsets_t, grad_t, optimizer, psw_t,
                                   summation(exact));
      },
      py::arg("module"), py::arg("ids"), py::arg("offsets"), py::arg("grad_output"),
      py::arg("optimizer"), py::arg("per_sample_weights") = py::none(), py::kw_only(),
      py::arg("exact") = true, R"doc(
The backward of module(ids, offsets, per_sample_weights) fused with one optimizer step (offsets
None for 2-D ids); exact=False as for the Embedding form. Releases the GIL.
)doc");
}

}  // namespace embedkit::python
