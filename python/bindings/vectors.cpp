// KeyedVectors: word vectors and their queries, and the word-vector file formats.
//
// The compiled class `_embedkit.KeyedVectors` is vectors::KeyedVectors itself (held by
// std::shared_ptr, so another binding file can return one); embedkit/keyed_vectors.py wraps it
// with gensim's names, argument forms and return types. Everything here takes rows and plain
// values: the gensim-shaped argument handling (keys or indices, weights, case folding) is Python.
//
// Every call that scans the vocabulary or touches a file converts its Python arguments first,
// then releases the GIL, and converts the answer back once it holds the GIL again.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "arrays.hpp"
#include "bindings.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/io/mapped_table.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "embedkit/vectors/evaluation.hpp"
#include "embedkit/vectors/hnsw_index.hpp"
#include "embedkit/vectors/keyed_vectors.hpp"

namespace embedkit::python {

namespace {

using vectors::KeyedVectors;
using vectors::Neighbor;

// A read-only NumPy view of one of the KeyedVectors' matrices: the queries use unit rows
// computed once, in the constructor, so a write through the view would make them disagree.
py::array read_only_view(const Tensor& matrix) {
  py::array array = to_array(matrix);
  array.attr("setflags")(py::arg("write") = false);
  return array;
}

py::list neighbors_to_list(const std::vector<Neighbor>& neighbors) {
  py::list out;
  for (const Neighbor& n : neighbors) {
    out.append(py::make_tuple(py::str(n.word), py::float_(static_cast<double>(n.score))));
  }
  return out;
}

// A float32 vector of the KeyedVectors' dimension, as the [1, D] query most_similar_batch takes.
Tensor query_row(const KeyedVectors& kv, py::handle vector) {
  const Tensor v = input_tensor(vector, "vector");
  if (v.dtype() != DType::Float32 || v.dim() != 1 || v.size(0) != kv.dim()) {
    throw ValueError("vector: expected a float32 vector of " + std::to_string(kv.dim()) +
                     " values");
  }
  Tensor q = Tensor::empty({1, kv.dim()}, DType::Float32);
  std::memcpy(q.raw_data(), v.raw_data(), static_cast<std::size_t>(kv.dim()) * sizeof(float));
  return q;
}

void check_rows(const KeyedVectors& kv, const std::vector<std::int64_t>& rows, const char* what) {
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= kv.size()) {
      throw IndexError(what, static_cast<std::int64_t>(i), rows[i], 0, kv.size());
    }
  }
}

io::VectorFormat format_named(const std::string& name) {
  return io::parse_vector_format(name);
}

}  // namespace

void bind_vectors(py::module_& m) {
  py::class_<KeyedVectors, std::shared_ptr<KeyedVectors>>(
      m, "KeyedVectors",
      "embedkit's KeyedVectors (vectors::KeyedVectors): a vocabulary and its float32 matrix, "
      "with cosine queries. Use embedkit.KeyedVectors, which wraps it with gensim's API.")
      .def(py::init([](std::vector<std::string> words, py::handle matrix) {
             Tensor borrowed = input_tensor(matrix, "vectors");
             if (!borrowed.defined()) throw TypeError("vectors: expected an array, got None");
             py::gil_scoped_release release;
             // The constructor copies the matrix (and checks it), so the caller's array is
             // free to change or go afterwards.
             return std::make_shared<KeyedVectors>(std::move(words), std::move(borrowed));
           }),
           py::arg("words"), py::arg("vectors"),
           "KeyedVectors(words, vectors): `vectors` is float32 [len(words), D], D >= 1 (copied). "
           "ValueError for a size mismatch, an empty or duplicate word or a non-finite value.")
      .def_property_readonly("size", &KeyedVectors::size, "The number of words.")
      .def_property_readonly("dim", &KeyedVectors::dim, "The vectors' dimension.")
      .def_property_readonly(
          "words", [](const KeyedVectors& kv) { return kv.words(); },
          "The words, in row order (a new list).")
      .def_property_readonly(
          "matrix", [](const KeyedVectors& kv) { return read_only_view(kv.matrix()); },
          "The float32 [V, D] matrix: a read-only NumPy view of embedkit's own buffer (no copy).")
      .def_property_readonly(
          "unit_matrix", [](const KeyedVectors& kv) { return read_only_view(kv.unit_matrix()); },
          "The rows scaled to unit length (all-zero rows stay zero): a read-only view, no copy.")
      .def(
          "find",
          [](const KeyedVectors& kv, std::string_view word) -> std::optional<std::int64_t> {
            return kv.find(word);
          },
          py::arg("word"), "The word's row, or None.")
      .def("__contains__", &KeyedVectors::contains, py::arg("word"))
      .def("__len__", &KeyedVectors::size)
      .def("at", &KeyedVectors::at, py::arg("word"),
           "The word's row; KeyError when it is not in the vocabulary.")
      .def("similarity", &KeyedVectors::similarity, py::arg("a"), py::arg("b"),
           "The cosine similarity of two words (KeyError for a missing one).")
      .def(
          "use_hnsw_index",
          [](KeyedVectors& kv, const std::filesystem::path& path, std::int64_t ef_search,
             std::int64_t links, std::int64_t ef_construction, std::uint64_t seed,
             std::int64_t threads) {
            vectors::HnswOptions options;
            options.ef_search = ef_search;
            options.m = links;
            options.ef_construction = ef_construction;
            options.seed = seed;
            options.threads = threads;
            bool built = false;
            {
              py::gil_scoped_release release;
              kv.use_index(std::make_shared<const vectors::HnswIndex>(
                  vectors::HnswIndex::open_or_build(path, kv, options, &built)));
            }
            return built;
          },
          py::arg("path"), py::arg("ef_search"), py::arg("m"), py::arg("ef_construction"),
          py::arg("seed"), py::arg("threads"),
          "Answers neighbour queries from the HNSW index at `path`: loaded and checked against "
          "these vectors when the file exists, else built and saved there. True when built.")
      .def(
          "use_exact_search", [](KeyedVectors& kv) { kv.use_index(nullptr); },
          "Answers neighbour queries by the exact scan again.")
      .def_property_readonly(
          "has_index", [](const KeyedVectors& kv) { return kv.index() != nullptr; },
          "Whether neighbour queries are answered from an HNSW index.")
      .def(
          "most_similar_to_word",
          [](const KeyedVectors& kv, std::string word, std::int64_t topn,
             std::int64_t restrict_vocab) {
            std::vector<Neighbor> found;
            {
              py::gil_scoped_release release;
              found = kv.most_similar(word, topn, restrict_vocab);
            }
            return neighbors_to_list(found);
          },
          py::arg("word"), py::arg("topn"), py::arg("restrict_vocab"),
          "The `topn` words nearest to `word` (itself excluded) among the first "
          "`restrict_vocab` rows, as [(word, cosine)], best first (ties: lower row first).")
      .def(
          "most_similar_to_vector",
          [](const KeyedVectors& kv, py::handle vector, std::int64_t topn,
             std::vector<std::int64_t> exclude_rows, std::int64_t restrict_vocab) {
            const Tensor q = query_row(kv, vector);
            check_rows(kv, exclude_rows, "exclude_rows");
            std::vector<std::vector<Neighbor>> found;
            {
              py::gil_scoped_release release;
              found = kv.most_similar_batch(q, topn, {std::move(exclude_rows)}, restrict_vocab);
            }
            return neighbors_to_list(found[0]);
          },
          py::arg("vector"), py::arg("topn"), py::arg("exclude_rows"), py::arg("restrict_vocab"),
          "The `topn` words nearest (by cosine) to a float32 vector (normalized here), the rows "
          "`exclude_rows` left out, among the first `restrict_vocab` rows: [(word, cosine)].")
      .def(
          "analogy_cosmul",
          [](const KeyedVectors& kv, std::string a, std::string b, std::string c, std::int64_t topn,
             std::int64_t restrict_vocab, float epsilon) {
            std::vector<Neighbor> found;
            {
              py::gil_scoped_release release;
              found =
                  kv.analogy(a, b, c, vectors::AnalogyMethod::Mul, topn, restrict_vocab, epsilon);
            }
            return neighbors_to_list(found);
          },
          py::arg("a"), py::arg("b"), py::arg("c"), py::arg("topn"), py::arg("restrict_vocab"),
          py::arg("epsilon"),
          "3CosMul for a - b + c: cos'(x, a) cos'(x, c) / (cos'(x, b) + epsilon) with "
          "cos' = (1 + cos) / 2, the three words excluded: [(word, score)], best first.")
      .def(
          "analogy_rows",
          [](const KeyedVectors& kv, py::handle questions, std::int64_t topn,
             std::int64_t restrict_vocab) {
            const Tensor q = input_tensor(questions, "questions");
            if (q.dtype() != DType::Int64 || q.dim() != 2 || q.size(1) != 3) {
              throw ValueError("questions: expected an int64 array [Q, 3] of rows (a, b, c)");
            }
            if (topn < 0) throw ValueError("topn must be >= 0, got " + std::to_string(topn));
            const std::int64_t nq = q.size(0);
            std::vector<std::array<std::int64_t, 3>> abc(static_cast<std::size_t>(nq));
            std::memcpy(abc.data(), q.raw_data(), static_cast<std::size_t>(nq) * 3 * 8);
            py::array_t<std::int64_t> rows({nq, topn});
            py::array_t<float> scores({nq, topn});
            std::int64_t* r = rows.mutable_data();
            float* s = scores.mutable_data();
            {
              py::gil_scoped_release release;
              const auto found = kv.analogy_batch(abc, topn, restrict_vocab);
              for (std::int64_t i = 0; i < nq; ++i) {
                const auto& list = found[static_cast<std::size_t>(i)];
                for (std::int64_t k = 0; k < topn; ++k) {
                  const bool have = k < static_cast<std::int64_t>(list.size());
                  r[i * topn + k] = have ? list[static_cast<std::size_t>(k)].index : -1;
                  s[i * topn + k] = have ? list[static_cast<std::size_t>(k)].score
                                         : std::numeric_limits<float>::quiet_NaN();
                }
              }
            }
            return py::make_tuple(rows, scores);
          },
          py::arg("questions"), py::arg("topn"), py::arg("restrict_vocab"),
          "3CosAdd for many questions: rows [Q, 3] (a, b, c) asking a - b + c, the three "
          "excluded, among the first `restrict_vocab` rows. Returns (rows int64 [Q, topn], "
          "scores float32 [Q, topn]), best first; -1 and NaN pad short answers.");

  m.def(
      "load_word_vectors",
      [](const std::filesystem::path& path, const std::string& format) {
        const io::VectorFormat f = format_named(format);
        py::gil_scoped_release release;
        io::WordVectors loaded = io::load_word_vectors(path, f);
        return std::make_shared<KeyedVectors>(std::move(loaded.words), std::move(loaded.matrix));
      },
      py::arg("path"), py::arg("format"),
      "Reads a word-vector file (format: word2vec, vec, word2vec-binary, glove, npy, "
      "safetensors; see include/embedkit/io/vector_formats.hpp) into a KeyedVectors. OSError "
      "naming the file and line for a bad file (FileNotFoundError when it is missing); nothing "
      "is returned for a file that is not read whole.");
  m.def(
      "map_word_vectors",
      [](const std::filesystem::path& path, const std::string& format) {
        const io::VectorFormat f = format_named(format);
        io::MapOptions options;
        // As the command maps (tools/embedkit/vectors_options.hpp): a .vocab is checked against
        // the bytes of its .npy, not only their count. The record of a verified pair is not
        // written: a library call leaves no file the caller did not ask for.
        options.verify_pair_checksum = true;
        py::gil_scoped_release release;
        io::IndexedWordVectors mapped = io::map_indexed_word_vectors(path, f, options);
        // The matrix is read-only, so KeyedVectors shares it (no copy of the file), and takes
        // over the index the words were read into.
        return std::make_shared<KeyedVectors>(std::move(mapped.words), std::move(mapped.matrix));
      },
      py::arg("path"), py::arg("format"),
      "Maps a word-vector file read-only (format: npy, for the .npy + .vocab pair, or "
      "safetensors) into a KeyedVectors whose matrix is the mapped file, nothing copied "
      "(io::map_word_vectors). OSError for a bad file or a .vocab that is not its .npy's.");
  m.def(
      "save_word_vectors",
      [](const KeyedVectors& kv, const std::filesystem::path& path, const std::string& format) {
        const io::VectorFormat f = format_named(format);
        py::gil_scoped_release release;
        // Tensor copies share storage: the matrix is not copied, only the words.
        io::save_word_vectors(path, io::WordVectors{kv.words(), kv.matrix()}, f);
      },
      py::arg("kv"), py::arg("path"), py::arg("format"),
      "Writes a KeyedVectors in a format (see load_word_vectors), replacing the file (and the "
      ".vocab side file of npy) atomically: an error leaves no half-written file.");
  m.def(
      "pearson_correlation",
      [](const std::vector<double>& x, const std::vector<double>& y) {
        return vectors::pearson_correlation(x, y);
      },
      py::arg("x"), py::arg("y"), "Pearson's r (NaN for fewer than 2 values or a constant one).");
  m.def(
      "spearman_correlation",
      [](const std::vector<double>& x, const std::vector<double>& y) {
        return vectors::spearman_correlation(x, y);
      },
      py::arg("x"), py::arg("y"),
      "Spearman's rho with average ranks for ties, as scipy.stats.spearmanr.");
}

}  // namespace embedkit::python
