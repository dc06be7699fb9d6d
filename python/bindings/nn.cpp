// embedkit.nn: Embedding, EmbeddingBag and their functional forms over arrays.
//
// The low-level API of _embedkit that python/embedkit/nn (and embedkit.torch) build on. Arrays
// are anything arrays.hpp takes (NumPy arrays, DLPack tensors such as PyTorch's, lists); tables
// are borrowed (shared, C-contiguous, writeable), outputs are NumPy arrays over embedkit's
// buffers. `bfloat16=True` says an int16 table holds bfloat16 bits (a PyTorch bfloat16 tensor
// says it by itself); gradients and per-sample weights then cross as int16 bits too. The GIL is
// released while the kernels run.
//
// A table gradient `Grad` is a dense [N, D] array, or with sparse=True the pair
// (indices int64 [1, nnz], values [nnz, D]) in PyTorch's uncoalesced layout (ids' row-major
// order, duplicates kept, padding positions removed: torch.sparse_coo_tensor(indices, values,
// (N, D)) rebuilds PyTorch's gradient).
// `unknown_ids`: None or "error" (IndexError, the default), "hash", or an int row (an UNK row).
//
// Functions (keyword names as listed; mode is "sum", "mean" or "max"):
//   embedding(ids, weight, padding_idx=None, max_norm=None, norm_type=2.0,
//             scale_grad_by_freq=False, sparse=False, *, out=None, bfloat16=False,
//             unknown_ids=None) -> ndarray                     (out given: returns out)
//   embedding_backward(ids, grad_output, num_embeddings, padding_idx=None,
//                      scale_grad_by_freq=False, sparse=False, *, bfloat16=False,
//                      unknown_ids=None) -> Grad
//   embedding_bag(ids, weight, offsets=None, mode="mean", max_norm=None, norm_type=2.0,
//                 scale_grad_by_freq=False, sparse=False, include_last_offset=False,
//                 padding_idx=None, per_sample_weights=None, *, out=None, bfloat16=False,
//                 unknown_ids=None) -> ndarray                 (out given: returns out)
//   embedding_bag_backward(ids, weight, offsets, grad_output, mode="mean", max_norm=None,
//                          norm_type=2.0, scale_grad_by_freq=False, sparse=False,
//                          include_last_offset=False, padding_idx=None,
//                          per_sample_weights=None, *, bfloat16=False, unknown_ids=None)
//       -> (Grad, per_sample_weights_grad ndarray or None)
//   manual_seed(seed) -> None                    (the default generator new tables draw from)
// Classes:
//   Embedding(num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
//             scale_grad_by_freq=False, sparse=False, weight=None, dtype="float32", *,
//             bfloat16=False, unknown_ids=None)
//     .forward(ids) -> ndarray; .backward(ids, grad_output) -> Grad
//     Embedding.from_pretrained(embeddings, freeze=True, padding_idx=None, max_norm=None,
//                               norm_type=2.0, scale_grad_by_freq=False, sparse=False, *,
//                               bfloat16=False, unknown_ids=None)
//   EmbeddingBag(num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
//                scale_grad_by_freq=False, mode="mean", sparse=False, weight=None,
//                include_last_offset=False, padding_idx=None, dtype="float32", *,
//                bfloat16=False, unknown_ids=None)
//     .forward(ids, offsets=None, per_sample_weights=None) -> ndarray
//     .backward(ids, offsets, grad_output, per_sample_weights=None)
//         -> (Grad, per_sample_weights_grad or None)
//     EmbeddingBag.from_pretrained(embeddings, freeze=True, max_norm=None, norm_type=2.0,
//                                  scale_grad_by_freq=False, mode="mean", sparse=False,
//                                  include_last_offset=False, padding_idx=None, *,
//                                  bfloat16=False, unknown_ids=None)
//   Both: .weight (ndarray sharing the table; bfloat16 as int16 bits), .dtype ("float32",
//   "float16" or "bfloat16"), .requires_grad (read-write), .num_embeddings, .embedding_dim,
//   .padding_idx, .max_norm, .norm_type, .scale_grad_by_freq, .sparse, .reset_parameters(),
//   repr (PyTorch's text);
//   EmbeddingBag also .mode and .include_last_offset.
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "arrays.hpp"
#include "bindings.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "nn_args.hpp"

namespace embedkit::python {

namespace {

using namespace pybind11::literals;

using OptInt = std::optional<std::int64_t>;
using OptDouble = std::optional<double>;

DType table_dtype(const std::string& name) {
  if (name == "float32") return DType::Float32;
  if (name == "float16") return DType::Float16;
  if (name == "bfloat16") return DType::BFloat16;
  throw TypeError("dtype must be 'float32', 'float16' or 'bfloat16', got '" + name + "'");
}

std::string dtype_string(DType dtype) {
  return std::string(dtype_name(dtype));
}

// A table's gradient as arrays: dense, or PyTorch's (indices [1, nnz], values [nnz, D]).
py::object grad_to_python(const nn::WeightGrad& grad) {
  if (!grad.is_sparse()) return to_array(grad.dense());
  const RowSparseTensor& sparse = grad.sparse();
  return py::make_tuple(to_array(sparse.indices().reshape({1, sparse.nnz()})),
                        to_array(sparse.values()));
}

py::object bag_grad_to_python(const nn::EmbeddingBagGrad& grad) {
  py::object psw = grad.per_sample_weights.defined() ? py::object(to_array(grad.per_sample_weights))
                                                     : py::object(py::none());
  return py::make_tuple(grad_to_python(grad.weight), psw);
}

// ---- functional forms ----

py::object embedding(py::object ids_obj, py::object weight_obj, OptInt padding_idx,
                     OptDouble max_norm, double norm_type, bool scale_grad_by_freq, bool sparse,
                     py::object out_obj, bool bfloat16, py::object unknown_ids) {
  Tensor weight = borrow_table(weight_obj, "weight", bfloat16);
  const Tensor ids = required_input(ids_obj, "ids");
  const auto options = nn::EmbeddingFuncOptions()
                           .padding_idx(padding_idx)
                           .max_norm(max_norm)
                           .norm_type(norm_type)
                           .scale_grad_by_freq(scale_grad_by_freq)
                           .sparse(sparse)
                           .unknown_ids(unknown_ids_of(unknown_ids));
  if (!out_obj.is_none()) {
    Tensor out = borrow_table(out_obj, "out", weight.dtype() == DType::BFloat16);
    {
      py::gil_scoped_release release;
      nn::functional::embedding_into(ids, weight, out, options);
    }
    return py::reinterpret_borrow<py::object>(out_obj);
  }
  Tensor result;
  {
    py::gil_scoped_release release;
    result = nn::functional::embedding(ids, weight, options);
  }
  return to_array(result);
}

py::object embedding_backward(py::object ids_obj, py::object grad_obj, std::int64_t num_embeddings,
                              OptInt padding_idx, bool scale_grad_by_freq, bool sparse,
                              bool bfloat16, py::object unknown_ids) {
  const Tensor ids = required_input(ids_obj, "ids");
  const Tensor grad_output = required_input(grad_obj, "grad_output", bfloat16);
  const auto options = nn::EmbeddingFuncOptions()
                           .padding_idx(padding_idx)
                           .scale_grad_by_freq(scale_grad_by_freq)
                           .sparse(sparse)
                           .unknown_ids(unknown_ids_of(unknown_ids));
  nn::WeightGrad grad;
  {
    py::gil_scoped_release release;
    grad = nn::functional::embedding_backward(ids, grad_output, num_embeddings, options);
  }
  return grad_to_python(grad);
}

nn::EmbeddingBagFuncOptions bag_options(const std::string& mode, OptDouble max_norm,
                                        double norm_type, bool scale_grad_by_freq, bool sparse,
                                        bool include_last_offset, OptInt padding_idx,
                                        py::object unknown_ids) {
  return nn::EmbeddingBagFuncOptions()
      .mode(bag_mode(mode))
      .max_norm(max_norm)
      .norm_type(norm_type)
      .scale_grad_by_freq(scale_grad_by_freq)
      .sparse(sparse)
      .include_last_offset(include_last_offset)
      .padding_idx(padding_idx)
      .unknown_ids(unknown_ids_of(unknown_ids));
}

py::object embedding_bag(py::object ids_obj, py::object weight_obj, py::object offsets_obj,
                         const std::string& mode, OptDouble max_norm, double norm_type,
                         bool scale_grad_by_freq, bool sparse, bool include_last_offset,
                         OptInt padding_idx, py::object psw_obj, py::object out_obj, bool bfloat16,
                         py::object unknown_ids) {
  Tensor weight = borrow_table(weight_obj, "weight", bfloat16);
  const bool bf16 = weight.dtype() == DType::BFloat16;
  const Tensor ids = required_input(ids_obj, "ids");
  const Tensor offsets = input_tensor(offsets_obj, "offsets");
  const Tensor psw = input_tensor(psw_obj, "per_sample_weights", bf16);
  const auto options = bag_options(mode, max_norm, norm_type, scale_grad_by_freq, sparse,
                                   include_last_offset, padding_idx, unknown_ids);
  if (!out_obj.is_none()) {
    Tensor out = borrow_table(out_obj, "out", bf16);
    {
      py::gil_scoped_release release;
      nn::functional::embedding_bag_into(ids, weight, offsets, out, options, psw);
    }
    return py::reinterpret_borrow<py::object>(out_obj);
  }
  Tensor result;
  {
    py::gil_scoped_release release;
    result = nn::functional::embedding_bag(ids, weight, offsets, options, psw);
  }
  return to_array(result);
}

py::object embedding_bag_backward(py::object ids_obj, py::object weight_obj, py::object offsets_obj,
                                  py::object grad_obj, const std::string& mode, OptDouble max_norm,
                                  double norm_type, bool scale_grad_by_freq, bool sparse,
                                  bool include_last_offset, OptInt padding_idx, py::object psw_obj,
                                  bool bfloat16, py::object unknown_ids) {
  // Read only, but borrowed as a table: it is the caller's table, and a copy of a large table
  // (what input_tensor would make of a non-contiguous one) is never wanted.
  const Tensor weight = borrow_table(weight_obj, "weight", bfloat16);
  const bool bf16 = weight.dtype() == DType::BFloat16;
  const Tensor ids = required_input(ids_obj, "ids");
  const Tensor offsets = input_tensor(offsets_obj, "offsets");
  const Tensor grad_output = required_input(grad_obj, "grad_output", bf16);
  const Tensor psw = input_tensor(psw_obj, "per_sample_weights", bf16);
  const auto options = bag_options(mode, max_norm, norm_type, scale_grad_by_freq, sparse,
                                   include_last_offset, padding_idx, unknown_ids);
  nn::EmbeddingBagGrad grad;
  {
    py::gil_scoped_release release;
    grad = nn::functional::embedding_bag_backward(ids, weight, offsets, grad_output, options, psw);
  }
  return bag_grad_to_python(grad);
}

// ---- modules ----

// What both module classes expose the same way.
template <class Module, class PyClass>
void bind_common(PyClass& cls) {
  cls.def_property_readonly(
         "weight", [](Module& self) { return to_array(self.weight()); },
         "The table: a NumPy array sharing its memory (no copy; bfloat16 as int16 bits).")
      .def_property_readonly(
          "dtype", [](const Module& self) { return dtype_string(self.weight().dtype()); },
          "The table's element type: 'float32', 'float16' or 'bfloat16'.")
      .def_property("requires_grad", &Module::requires_grad, &Module::set_requires_grad,
                    "False for a frozen table: backward() then raises ValueError.")
      .def_property_readonly("num_embeddings",
                             [](const Module& self) { return self.options().num_embeddings(); })
      .def_property_readonly("embedding_dim",
                             [](const Module& self) { return self.options().embedding_dim(); })
      .def_property_readonly("padding_idx",
                             [](const Module& self) { return self.options().padding_idx(); })
      .def_property_readonly("max_norm",
                             [](const Module& self) { return self.options().max_norm(); })
      .def_property_readonly("norm_type",
                             [](const Module& self) { return self.options().norm_type(); })
      .def_property_readonly("scale_grad_by_freq",
                             [](const Module& self) { return self.options().scale_grad_by_freq(); })
      .def_property_readonly("sparse", [](const Module& self) { return self.options().sparse(); })
      .def(
          "reset_parameters",
          [](Module& self) {
            py::gil_scoped_release release;
            self.reset_parameters();
          },
          "Redraws the table in place from N(0, 1) (manual_seed) and zeroes the padding row.")
      .def("__repr__", [](const Module& self) { return self.repr(); });
}

// A table given to a constructor: borrowed, or none.
Tensor given_table(py::object obj, bool bfloat16) {
  return obj.is_none() ? Tensor() : borrow_table(obj, "weight", bfloat16);
}

void bind_embedding_class(py::module_& m) {
  py::class_<nn::Embedding> cls(m, "Embedding", R"doc(
A table of num_embeddings vectors of size embedding_dim, looked up by id (torch.nn.Embedding).

Low-level class: embedkit.nn.Embedding wraps it with PyTorch's argument handling. A given
`weight` is shared, not copied (it must be C-contiguous and writeable); a new table is drawn
from N(0, 1) with embedkit's default generator (manual_seed) and its padding row zeroed.
)doc");
  cls.def(py::init([](std::int64_t num_embeddings, std::int64_t embedding_dim, OptInt padding_idx,
                      OptDouble max_norm, double norm_type, bool scale_grad_by_freq, bool sparse,
                      py::object weight, const std::string& dtype, bool bfloat16,
                      py::object unknown_ids) {
            const auto options = nn::EmbeddingOptions(num_embeddings, embedding_dim)
                                     .padding_idx(padding_idx)
                                     .max_norm(max_norm)
                                     .norm_type(norm_type)
                                     .scale_grad_by_freq(scale_grad_by_freq)
                                     .sparse(sparse)
                                     .weight(given_table(weight, bfloat16))
                                     .dtype(table_dtype(dtype))
                                     .unknown_ids(unknown_ids_of(unknown_ids));
            py::gil_scoped_release release;  // drawing a large table takes a while
            return nn::Embedding(options);
          }),
          "num_embeddings"_a, "embedding_dim"_a, "padding_idx"_a = py::none(),
          "max_norm"_a = py::none(), "norm_type"_a = 2.0, "scale_grad_by_freq"_a = false,
          "sparse"_a = false, "weight"_a = py::none(), "dtype"_a = "float32", py::kw_only(),
          "bfloat16"_a = false, "unknown_ids"_a = py::none());
  cls.def_static(
      "from_pretrained",
      [](py::object embeddings, bool freeze, OptInt padding_idx, OptDouble max_norm,
         double norm_type, bool scale_grad_by_freq, bool sparse, bool bfloat16,
         py::object unknown_ids) {
        const Tensor table = borrow_table(embeddings, "embeddings", bfloat16);
        return nn::Embedding::from_pretrained(table, nn::EmbeddingFromPretrainedOptions()
                                                         .freeze(freeze)
                                                         .padding_idx(padding_idx)
                                                         .max_norm(max_norm)
                                                         .norm_type(norm_type)
                                                         .scale_grad_by_freq(scale_grad_by_freq)
                                                         .sparse(sparse)
                                                         .unknown_ids(unknown_ids_of(unknown_ids)));
      },
      "embeddings"_a, "freeze"_a = true, "padding_idx"_a = py::none(), "max_norm"_a = py::none(),
      "norm_type"_a = 2.0, "scale_grad_by_freq"_a = false, "sparse"_a = false, py::kw_only(),
      "bfloat16"_a = false, "unknown_ids"_a = py::none(),
      "A module over `embeddings` (2-D, shared, not copied); frozen unless freeze=False.");
  cls.def(
      "forward",
      [](nn::Embedding& self, py::object ids_obj) {
        const Tensor ids = required_input(ids_obj, "ids");
        Tensor out;
        {
          py::gil_scoped_release release;
          out = self.forward(ids);
        }
        return to_array(out);
      },
      "ids"_a, "weight[ids]: an array of shape ids.shape + (embedding_dim,).");
  cls.def(
      "backward",
      [](const nn::Embedding& self, py::object ids_obj, py::object grad_obj) {
        const bool bf16 = self.weight().dtype() == DType::BFloat16;
        const Tensor ids = required_input(ids_obj, "ids");
        const Tensor grad_output = required_input(grad_obj, "grad_output", bf16);
        nn::WeightGrad grad;
        {
          py::gil_scoped_release release;
          grad = self.backward(ids, grad_output);
        }
        return grad_to_python(grad);
      },
      "ids"_a, "grad_output"_a,
      "The table's gradient: a dense array, or with sparse=True (indices [1, nnz], values).");
  bind_common<nn::Embedding>(cls);
}

void bind_embedding_bag_class(py::module_& m) {
  py::class_<nn::EmbeddingBag> cls(m, "EmbeddingBag", R"doc(
Bags of ids reduced to one vector each (torch.nn.EmbeddingBag), without building the per-id rows.

Low-level class: embedkit.nn.EmbeddingBag wraps it with PyTorch's argument handling.
)doc");
  cls.def(py::init([](std::int64_t num_embeddings, std::int64_t embedding_dim, OptDouble max_norm,
                      double norm_type, bool scale_grad_by_freq, const std::string& mode,
                      bool sparse, py::object weight, bool include_last_offset, OptInt padding_idx,
                      const std::string& dtype, bool bfloat16, py::object unknown_ids) {
            const auto options = nn::EmbeddingBagOptions(num_embeddings, embedding_dim)
                                     .max_norm(max_norm)
                                     .norm_type(norm_type)
                                     .scale_grad_by_freq(scale_grad_by_freq)
                                     .mode(bag_mode(mode))
                                     .sparse(sparse)
                                     .weight(given_table(weight, bfloat16))
                                     .include_last_offset(include_last_offset)
                                     .padding_idx(padding_idx)
                                     .dtype(table_dtype(dtype))
                                     .unknown_ids(unknown_ids_of(unknown_ids));
            py::gil_scoped_release release;
            return nn::EmbeddingBag(options);
          }),
          "num_embeddings"_a, "embedding_dim"_a, "max_norm"_a = py::none(), "norm_type"_a = 2.0,
          "scale_grad_by_freq"_a = false, "mode"_a = "mean", "sparse"_a = false,
          "weight"_a = py::none(), "include_last_offset"_a = false, "padding_idx"_a = py::none(),
          "dtype"_a = "float32", py::kw_only(), "bfloat16"_a = false, "unknown_ids"_a = py::none());
  cls.def_static(
      "from_pretrained",
      [](py::object embeddings, bool freeze, OptDouble max_norm, double norm_type,
         bool scale_grad_by_freq, const std::string& mode, bool sparse, bool include_last_offset,
         OptInt padding_idx, bool bfloat16, py::object unknown_ids) {
        const Tensor table = borrow_table(embeddings, "embeddings", bfloat16);
        return nn::EmbeddingBag::from_pretrained(table,
                                                 nn::EmbeddingBagFromPretrainedOptions()
                                                     .freeze(freeze)
                                                     .max_norm(max_norm)
                                                     .norm_type(norm_type)
                                                     .scale_grad_by_freq(scale_grad_by_freq)
                                                     .mode(bag_mode(mode))
                                                     .sparse(sparse)
                                                     .include_last_offset(include_last_offset)
                                                     .padding_idx(padding_idx)
                                                     .unknown_ids(unknown_ids_of(unknown_ids)));
      },
      "embeddings"_a, "freeze"_a = true, "max_norm"_a = py::none(), "norm_type"_a = 2.0,
      "scale_grad_by_freq"_a = false, "mode"_a = "mean", "sparse"_a = false,
      "include_last_offset"_a = false, "padding_idx"_a = py::none(), py::kw_only(),
      "bfloat16"_a = false, "unknown_ids"_a = py::none(),
      "A module over `embeddings` (2-D, shared, not copied); frozen unless freeze=False.");
  cls.def(
      "forward",
      [](nn::EmbeddingBag& self, py::object ids_obj, py::object offsets_obj, py::object psw_obj) {
        const bool bf16 = self.weight().dtype() == DType::BFloat16;
        const Tensor ids = required_input(ids_obj, "ids");
        const Tensor offsets = input_tensor(offsets_obj, "offsets");
        const Tensor psw = input_tensor(psw_obj, "per_sample_weights", bf16);
        Tensor out;
        {
          py::gil_scoped_release release;
          out = self.forward(ids, offsets, psw);
        }
        return to_array(out);
      },
      "ids"_a, "offsets"_a = py::none(), "per_sample_weights"_a = py::none(),
      "One reduced vector per bag: an array of shape (bags, embedding_dim).");
  cls.def(
      "backward",
      [](const nn::EmbeddingBag& self, py::object ids_obj, py::object offsets_obj,
         py::object grad_obj, py::object psw_obj) {
        const bool bf16 = self.weight().dtype() == DType::BFloat16;
        const Tensor ids = required_input(ids_obj, "ids");
        const Tensor offsets = input_tensor(offsets_obj, "offsets");
        const Tensor grad_output = required_input(grad_obj, "grad_output", bf16);
        const Tensor psw = input_tensor(psw_obj, "per_sample_weights", bf16);
        nn::EmbeddingBagGrad grad;
        {
          py::gil_scoped_release release;
          grad = self.backward(ids, offsets, grad_output, psw);
        }
        return bag_grad_to_python(grad);
      },
      "ids"_a, "offsets"_a, "grad_output"_a, "per_sample_weights"_a = py::none(),
      "(table gradient, per-sample-weight gradient or None); call it before the table changes.");
  bind_common<nn::EmbeddingBag>(cls);
  cls.def_property_readonly(
         "mode", [](const nn::EmbeddingBag& self) { return bag_mode_name(self.options().mode()); })
      .def_property_readonly("include_last_offset", [](const nn::EmbeddingBag& self) {
        return self.options().include_last_offset();
      });
}

}  // namespace

void bind_nn(py::module_& m) {
  m.def("embedding", &embedding, "ids"_a, "weight"_a, "padding_idx"_a = py::none(),
        "max_norm"_a = py::none(), "norm_type"_a = 2.0, "scale_grad_by_freq"_a = false,
        "sparse"_a = false, py::kw_only(), "out"_a = py::none(), "bfloat16"_a = false,
        "unknown_ids"_a = py::none(),
        "weight[ids] (torch.nn.functional.embedding); max_norm renormalises rows in place.");
  m.def("embedding_backward", &embedding_backward, "ids"_a, "grad_output"_a, "num_embeddings"_a,
        "padding_idx"_a = py::none(), "scale_grad_by_freq"_a = false, "sparse"_a = false,
        py::kw_only(), "bfloat16"_a = false, "unknown_ids"_a = py::none(),
        "The table's gradient given embedding()'s output gradient (dense, or sparse as "
        "(indices, values)).");
  m.def("embedding_bag", &embedding_bag, "ids"_a, "weight"_a, "offsets"_a = py::none(),
        "mode"_a = "mean", "max_norm"_a = py::none(), "norm_type"_a = 2.0,
        "scale_grad_by_freq"_a = false, "sparse"_a = false, "include_last_offset"_a = false,
        "padding_idx"_a = py::none(), "per_sample_weights"_a = py::none(), py::kw_only(),
        "out"_a = py::none(), "bfloat16"_a = false, "unknown_ids"_a = py::none(),
        "Bags of ids reduced to one vector each (torch.nn.functional.embedding_bag).");
  m.def("embedding_bag_backward", &embedding_bag_backward, "ids"_a, "weight"_a, "offsets"_a,
        "grad_output"_a, "mode"_a = "mean", "max_norm"_a = py::none(), "norm_type"_a = 2.0,
        "scale_grad_by_freq"_a = false, "sparse"_a = false, "include_last_offset"_a = false,
        "padding_idx"_a = py::none(), "per_sample_weights"_a = py::none(), py::kw_only(),
        "bfloat16"_a = false, "unknown_ids"_a = py::none(),
        "(table gradient, per-sample-weight gradient or None) given embedding_bag()'s output "
        "gradient. Reads the table: call it before the table changes.");
  m.def(
      "empty_table",
      [](std::int64_t num_embeddings, std::int64_t embedding_dim, const std::string& dtype) {
        if (num_embeddings < 0 || embedding_dim < 0) {
          throw ValueError("empty_table: num_embeddings and embedding_dim must be >= 0, got " +
                           std::to_string(num_embeddings) + " and " +
                           std::to_string(embedding_dim));
        }
        return to_array(Tensor::empty({num_embeddings, embedding_dim}, table_dtype(dtype)));
      },
      "num_embeddings"_a, "embedding_dim"_a, "dtype"_a = "float32",
      "An uninitialised [num_embeddings, embedding_dim] table in embedkit's memory, as an array "
      "that owns it (bfloat16: its int16 bits). From 32 MiB up the memory is asked for on "
      "transparent huge pages, which spare a random row most of its page walk.");
  m.def(
      "manual_seed", [](std::uint64_t seed) { manual_seed(seed); }, "seed"_a,
      "Seeds embedkit's default generator, from which new tables are drawn (N(0, 1)).");
  bind_embedding_class(m);
  bind_embedding_bag_class(m);
}

}  // namespace embedkit::python
