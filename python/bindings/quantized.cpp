// embedkit.nn's row-wise quantized tables: nn::QuantizedTable (int8, int4, int2 codes with a
// scale and a bias per row, byte for byte PyTorch's embedding_bag_{byte,4bit,2bit}_prepack
// layout), the bags and lookups on it, and the module nn::QuantizedEmbeddingBag.
//
// The low-level API that python/embedkit/nn/quantized.py builds on. `bits` is 8, 4 or 2. The
// table's bytes are read-only once wrapped: packed rows given as an array (PyTorch's packed
// uint8 tensor) are borrowed, not copied, and the table keeps a reference to the array; a
// mapped table reads the file's pages. The GIL is released while the kernels run.
//
// Class QuantizedTable (no constructor):
//   QuantizedTable.quantize(weight, bits=8, *, bfloat16=False)   packs a float table
//   QuantizedTable.from_packed(packed, bits=8, embedding_dim=None, *, api=...) borrows packed
//                                                                uint8 rows
//   QuantizedTable.open(path, name="weight", *, api=...)         maps a file read-only
//   (api: the Python name a size error starts with, the caller's; see naming_the_caller)
//   .packed (read-only uint8 ndarray [N, row_bytes] over the table's bytes), .bits,
//   .num_embeddings, .embedding_dim, .row_bytes, .dequantize() -> float32 [N, D],
//   .save(path, name="weight"), repr
// Class QuantizedEmbeddingBag(table, mode="sum", include_last_offset=False, padding_idx=None,
//                             *, unknown_ids=None)
//   .forward(ids, offsets=None, per_sample_weights=None) -> float32 [B, D]; .table, .mode,
//   .include_last_offset, .padding_idx, repr
// Functions:
//   quantized_embedding_bag(ids, table, offsets=None, mode="sum", include_last_offset=False,
//                           padding_idx=None, per_sample_weights=None, *, unknown_ids=None)
//   quantized_embedding(ids, table, *, unknown_ids=None) -> float32 ids.shape + [D]
//   quantize(weight, bits=8, *, bfloat16=False) -> uint8 ndarray [N, row_bytes] (PyTorch's
//       prepack bytes, in a new writeable array)
#include <pybind11/numpy.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arrays.hpp"
#include "bindings.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/io/mapped_table.hpp"
#include "embedkit/nn/quantized_embedding_bag.hpp"
#include "embedkit/nn/quantized_table.hpp"
#include "nn_args.hpp"

namespace embedkit::python {

namespace {

using namespace pybind11::literals;

using OptInt = std::optional<std::int64_t>;

QuantizedFormat format_of_bits(int bits) {
  switch (bits) {
    case 8:
      return QuantizedFormat::Int8;
    case 4:
      return QuantizedFormat::Int4;
    case 2:
      return QuantizedFormat::Int2;
    default:
      throw ValueError("bits must be 8, 4 or 2, got " + std::to_string(bits));
  }
}

// The table's bytes as a uint8 array [N, row_bytes]; the array holds a copy of the table (which
// shares the bytes), so the bytes live as long as it does. Read-only unless the caller owns the
// only reference to a table just packed (quantize()).
py::array packed_array(const nn::QuantizedTable& table, bool writeable) {
  auto* held = new nn::QuantizedTable(table);
  py::capsule owner(held, [](void* p) { delete static_cast<nn::QuantizedTable*>(p); });
  py::array array(py::dtype::of<std::uint8_t>(),
                  std::vector<py::ssize_t>{held->num_embeddings(), held->row_bytes()}, held->data(),
                  owner);
  if (!writeable) array.attr("setflags")("write"_a = false);
  return array;
}

nn::QuantizedTable quantize_table(py::object weight_obj, int bits, bool bfloat16) {
  const QuantizedFormat format = format_of_bits(bits);
  const Tensor weight = required_input(weight_obj, "weight", bfloat16);
  py::gil_scoped_release release;
  return nn::quantize(weight, format);
}

// nn::QuantizedTable::from_blob's errors name it ("QuantizedTable.from_blob: ..."), a C++ name
// no Python caller wrote: they name `api` instead, the Python function the caller called (the
// package's wrappers pass their own public name), the rest of the message unchanged.
template <class F>
nn::QuantizedTable naming_the_caller(const std::string& api, F&& wrap) {
  static constexpr std::string_view kCxxName = "QuantizedTable.from_blob:";
  try {
    return wrap();
  } catch (const ValueError& e) {
    const std::string_view what = e.what();
    if (!what.starts_with(kCxxName)) throw;
    throw ValueError(api + ":" + std::string(what.substr(kCxxName.size())));
  }
}

nn::QuantizedTable table_from_packed(py::object packed_obj, int bits, OptInt embedding_dim,
                                     const std::string& api) {
  const QuantizedFormat format = format_of_bits(bits);
  BorrowedBytes bytes = borrow_byte_rows(packed_obj, "packed");
  return naming_the_caller(api, [&] {
    return nn::QuantizedTable::from_blob(
        bytes.data, static_cast<std::size_t>(bytes.rows * bytes.cols), bytes.rows, bytes.cols,
        format, embedding_dim, std::move(bytes.owner));
  });
}

std::string table_repr(const nn::QuantizedTable& table) {
  return "QuantizedTable(num_embeddings=" + std::to_string(table.num_embeddings()) +
         ", embedding_dim=" + std::to_string(table.embedding_dim()) +
         ", format=" + quantized_format_name(table.format()) + ")";
}

nn::QuantizedEmbeddingBagOptions bag_options(const std::string& mode, bool include_last_offset,
                                             OptInt padding_idx, const py::object& unknown_ids) {
  return nn::QuantizedEmbeddingBagOptions()
      .mode(bag_mode(mode))
      .include_last_offset(include_last_offset)
      .padding_idx(padding_idx)
      .unknown_ids(unknown_ids_of(unknown_ids));
}

void bind_table_class(py::module_& m) {
  py::class_<nn::QuantizedTable> cls(m, "QuantizedTable", R"doc(
A row-wise quantized table (int8, int4 or int2 codes, a scale and a bias per row) in the byte
layout of PyTorch's torch.ops.quantized.embedding_bag_{byte,4bit,2bit}_prepack.

Low-level class: embedkit.nn.QuantizedEmbeddingBag wraps it. Its bytes are read-only: packed
rows given as an array are shared (not copied), and a mapped table reads the file.
)doc");
  cls.def_static("quantize", &quantize_table, "weight"_a, "bits"_a = 8, py::kw_only(),
                 "bfloat16"_a = false,
                 "Packs a 2-D float32, float16 or bfloat16 table as PyTorch's prepack does "
                 "(the same bytes).");
  cls.def_static("from_packed", &table_from_packed, "packed"_a, "bits"_a = 8,
                 "embedding_dim"_a = py::none(), py::kw_only(),
                 "api"_a = "QuantizedTable.from_packed",
                 "Shares PyTorch's packed [N, row_bytes] uint8 rows (C-contiguous), not "
                 "copied; the table keeps a reference to the array. A ValueError for rows "
                 "that do not match the format starts with `api` (the caller's name).");
  cls.def_static(
      "open",
      [](const std::filesystem::path& path, const std::string& name, const std::string& api) {
        py::gil_scoped_release release;
        io::MappedQuantizedRows rows = io::map_quantized_rows(path, name);
        return naming_the_caller(api, [&] {
          return nn::QuantizedTable::from_blob(rows.data, rows.size_bytes, rows.num_rows,
                                               rows.row_bytes, rows.format, rows.embedding_dim,
                                               std::move(rows.owner));
        });
      },
      "path"_a, "name"_a = "weight", py::kw_only(), "api"_a = "QuantizedTable.open",
      "Maps a table save() wrote (a safetensors file: U8 rows and the format in its metadata) "
      "read-only; nothing is copied. A ValueError for rows that do not match the format starts "
      "with `api`.");
  cls.def(
      "save",
      [](const nn::QuantizedTable& self, const std::filesystem::path& path,
         const std::string& name) {
        py::gil_scoped_release release;
        io::save_quantized_rows(path, self.data(), self.size_bytes(), self.num_embeddings(),
                                self.row_bytes(), self.format(), self.embedding_dim(), name);
      },
      "path"_a, "name"_a = "weight",
      "Writes the packed rows as a safetensors file open() maps (atomically).");
  cls.def_property_readonly(
      "packed", [](const nn::QuantizedTable& self) { return packed_array(self, false); },
      "The packed rows: a read-only uint8 array [N, row_bytes] over the table's bytes.");
  cls.def_property_readonly(
      "bits", [](const nn::QuantizedTable& self) { return quantized_bits(self.format()); });
  cls.def_property_readonly("num_embeddings", &nn::QuantizedTable::num_embeddings);
  cls.def_property_readonly("embedding_dim", &nn::QuantizedTable::embedding_dim);
  cls.def_property_readonly("row_bytes", &nn::QuantizedTable::row_bytes);
  cls.def(
      "dequantize",
      [](const nn::QuantizedTable& self) {
        Tensor out;
        {
          py::gil_scoped_release release;
          out = nn::dequantize(self);
        }
        return to_array(out);
      },
      "The float32 table the codes stand for (code * scale + bias), as PyTorch's unpack.");
  cls.def("__repr__", &table_repr);
}

void bind_bag_class(py::module_& m) {
  py::class_<nn::QuantizedEmbeddingBag> cls(m, "QuantizedEmbeddingBag", R"doc(
Bags of ids summed (or averaged) straight from a QuantizedTable's packed rows, as
torch.ao.nn.quantized.EmbeddingBag. Inference only: it has no gradient.
)doc");
  cls.def(py::init([](const nn::QuantizedTable& table, const std::string& mode,
                      bool include_last_offset, OptInt padding_idx, py::object unknown_ids) {
            return nn::QuantizedEmbeddingBag(
                table, bag_options(mode, include_last_offset, padding_idx, unknown_ids));
          }),
          "table"_a, "mode"_a = "sum", "include_last_offset"_a = false,
          "padding_idx"_a = py::none(), py::kw_only(), "unknown_ids"_a = py::none());
  cls.def(
      "forward",
      [](const nn::QuantizedEmbeddingBag& self, py::object ids_obj, py::object offsets_obj,
         py::object psw_obj) {
        const Tensor ids = required_input(ids_obj, "ids");
        const Tensor offsets = input_tensor(offsets_obj, "offsets");
        const Tensor psw = input_tensor(psw_obj, "per_sample_weights");
        Tensor out;
        {
          py::gil_scoped_release release;
          out = self.forward(ids, offsets, psw);
        }
        return to_array(out);
      },
      "ids"_a, "offsets"_a = py::none(), "per_sample_weights"_a = py::none(),
      "One float32 vector per bag: an array of shape (bags, embedding_dim).");
  cls.def_property_readonly("table", &nn::QuantizedEmbeddingBag::table);
  cls.def_property_readonly("mode", [](const nn::QuantizedEmbeddingBag& self) {
    return bag_mode_name(self.options().mode());
  });
  cls.def_property_readonly("include_last_offset", [](const nn::QuantizedEmbeddingBag& self) {
    return self.options().include_last_offset();
  });
  cls.def_property_readonly("padding_idx", [](const nn::QuantizedEmbeddingBag& self) {
    return self.options().padding_idx();
  });
  cls.def("__repr__", &nn::QuantizedEmbeddingBag::repr);
}

}  // namespace

void bind_quantized(py::module_& m) {
  bind_table_class(m);
  bind_bag_class(m);
  m.def(
      "quantize",
      [](py::object weight, int bits, bool bfloat16) {
        return packed_array(quantize_table(std::move(weight), bits, bfloat16), true);
      },
      "weight"_a, "bits"_a = 8, py::kw_only(), "bfloat16"_a = false,
      "PyTorch's embedding_bag_{byte,4bit,2bit}_prepack: the packed rows, uint8 [N, row_bytes].");
  m.def(
      "quantized_embedding_bag",
      [](py::object ids_obj, const nn::QuantizedTable& table, py::object offsets_obj,
         const std::string& mode, bool include_last_offset, OptInt padding_idx, py::object psw_obj,
         py::object unknown_ids) {
        const auto options = bag_options(mode, include_last_offset, padding_idx, unknown_ids);
        const Tensor ids = required_input(ids_obj, "ids");
        const Tensor offsets = input_tensor(offsets_obj, "offsets");
        const Tensor psw = input_tensor(psw_obj, "per_sample_weights");
        Tensor out;
        {
          py::gil_scoped_release release;
          out = nn::functional::quantized_embedding_bag(ids, table, offsets, options, psw);
        }
        return to_array(out);
      },
      "ids"_a, "table"_a, "offsets"_a = py::none(), "mode"_a = "sum",
      "include_last_offset"_a = false, "padding_idx"_a = py::none(),
      "per_sample_weights"_a = py::none(), py::kw_only(), "unknown_ids"_a = py::none(),
      "Bags of ids reduced from the packed rows: PyTorch's embedding_bag_*_rowwise_offsets.");
  m.def(
      "quantized_embedding",
      [](py::object ids_obj, const nn::QuantizedTable& table, py::object unknown_ids) {
        const auto options =
            nn::QuantizedEmbeddingFuncOptions().unknown_ids(unknown_ids_of(unknown_ids));
        const Tensor ids = required_input(ids_obj, "ids");
        Tensor out;
        {
          py::gil_scoped_release release;
          out = nn::functional::quantized_embedding(ids, table, options);
        }
        return to_array(out);
      },
      "ids"_a, "table"_a, py::kw_only(), "unknown_ids"_a = py::none(),
      "The rows of the ids, float32 of shape ids.shape + (D,): PyTorch's embedding_byte.");
}

}  // namespace embedkit::python
