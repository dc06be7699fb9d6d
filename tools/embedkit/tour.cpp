// `embedkit tour`: what an embedding table is, shown on a tiny table, step by step.
//
// Every claim the tour prints is computed on the spot (equalities are checked bit for bit,
// costs are timed); if a check fails the tour says so and exits with status 1.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "embedkit/embedkit.hpp"
#include "json.hpp"
#include "option_checks.hpp"

namespace embedkit::cli {
namespace {

namespace F = embedkit::nn::functional;

struct TourOptions {
  std::uint64_t seed = 42;
  bool json = false;
  bool skip_timing = false;
};

// The tiny table: 8 words x 4 numbers; row 0 is the padding row.
const std::vector<std::string> kWords = {"<pad>", "the", "cat", "dog", "sat", "on", "mat", "ran"};
constexpr std::int64_t kDim = 4;
constexpr std::int64_t kPad = 0;
// "the cat sat on the mat <pad> <pad>": a sentence padded to 8 ids.
const std::vector<std::int64_t> kSentence = {1, 2, 4, 5, 1, 6, 0, 0};

// The larger table of the cost step.
constexpr std::int64_t kCostRows = 50000;
constexpr std::int64_t kCostDim = 64;
constexpr std::int64_t kCostBatch = 512;

__attribute__((format(printf, 1, 2))) std::string strf(const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return buf;
}

std::string join_ids(const std::vector<std::int64_t>& ids) {
  std::string s = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + std::to_string(ids[i]);
  return s + "]";
}

std::string join_words(const std::vector<std::int64_t>& ids) {
  std::string s;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    s += (i ? " " : "") + kWords[static_cast<std::size_t>(ids[i])];
  }
  return s;
}

// Writes the human-readable story to stdout, or nothing in --json mode.
class Story {
 public:
  explicit Story(bool quiet) : quiet_(quiet) {}

  void line(const std::string& text = "") {
    if (!quiet_) std::cout << (text.empty() ? "" : "   ") << text << '\n';
  }
  void heading(int number, const std::string& title) {
    if (quiet_) return;
    std::cout << '\n' << number << ". " << title << '\n';
  }
  // A 2-D float tensor with one label per row and columns d0, d1, ...
  void matrix(const Tensor& m, const std::vector<std::string>& labels,
              const std::string& label_title) {
    if (quiet_) return;
    const std::int64_t rows = m.size(0);
    const std::int64_t cols = m.size(1);
    std::size_t width = label_title.size();
    for (const auto& l : labels) width = std::max(width, l.size());
    std::string head = "     " + label_title + std::string(width - label_title.size(), ' ');
    for (std::int64_t c = 0; c < cols; ++c) head += strf("%9s", ("d" + std::to_string(c)).c_str());
    std::cout << head << '\n';
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::string& l = labels[static_cast<std::size_t>(r)];
      std::string row = "     " + l + std::string(width - l.size(), ' ');
      for (std::int64_t c = 0; c < cols; ++c) row += strf("%9.4f", m.item_at(r * cols + c));
      std::cout << row << '\n';
    }
  }
  void raw(const std::string& text) {
    if (!quiet_) std::cout << text;
  }

 private:
  bool quiet_;
};

// Counts the elements of a and b whose bits are identical; -1 if dtype or shape differ.
std::int64_t bitwise_equal_count(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return -1;
  const std::size_t size = dtype_size(a.dtype());
  const auto* pa = static_cast<const unsigned char*>(a.raw_data());
  const auto* pb = static_cast<const unsigned char*>(b.raw_data());
  std::int64_t equal = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    if (std::memcmp(pa + i * static_cast<std::int64_t>(size),
                    pb + i * static_cast<std::int64_t>(size), size) == 0) {
      ++equal;
    }
  }
  return equal;
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return bitwise_equal_count(a, b) == a.numel();
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const auto va = a.to_float_vector();
  const auto vb = b.to_float_vector();
  double worst = va.size() == vb.size() ? 0.0 : std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < std::min(va.size(), vb.size()); ++i) {
    worst = std::max(worst, std::fabs(static_cast<double>(va[i]) - static_cast<double>(vb[i])));
  }
  return worst;
}

// A float32 matrix's transpose (Linear stores its weight as [out, in], the table is [in, out]).
Tensor transpose(const Tensor& m) {
  const std::int64_t rows = m.size(0);
  const std::int64_t cols = m.size(1);
  Tensor t = Tensor::empty({cols, rows}, m.dtype());
  const float* src = m.data<float>();
  float* dst = t.data<float>();
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) dst[c * rows + r] = src[r * cols + c];
  }
  return t;
}

Json matrix_json(const Tensor& m) {
  Json rows = Json::array();
  const std::int64_t cols = m.dim() == 2 ? m.size(1) : 1;
  const auto v = m.to_float_vector();
  for (std::int64_t r = 0; r * cols < m.numel(); ++r) {
    rows.push(Json::array_of(std::vector<float>(v.begin() + r * cols, v.begin() + (r + 1) * cols)));
  }
  return rows;
}

std::vector<std::string> word_labels(const std::vector<std::int64_t>& ids, bool with_id) {
  std::vector<std::string> labels;
  for (const std::int64_t id : ids) {
    const std::string& w = kWords[static_cast<std::size_t>(id)];
    labels.push_back(with_id ? strf("%2lld  ", static_cast<long long>(id)) + w : w);
  }
  return labels;
}

// "(2, 2, 2, 2)": a 1-D float tensor, compactly.
std::string row_text(const Tensor& v) {
  std::string s = "(";
  for (std::int64_t i = 0; i < v.numel(); ++i) s += (i ? ", " : "") + strf("%g", v.item_at(i));
  return s + ")";
}

std::vector<std::int64_t> nonzero_rows(const Tensor& m) {
  std::vector<std::int64_t> rows;
  const std::int64_t cols = m.size(1);
  for (std::int64_t r = 0; r < m.size(0); ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      if (m.item_at(r * cols + c) != 0.0) {
        rows.push_back(r);
        break;
      }
    }
  }
  return rows;
}

struct Timing {
  double best_ms = std::numeric_limits<double>::infinity();  // per call
  int reps = 0;                                              // timed runs
  int inner = 1;                                             // calls per run
};

std::string duration_text(double ms) {
  return ms < 1.0 ? strf("%.2f us", ms * 1e3) : strf("%.1f ms", ms);
}

std::string runs_text(const Timing& t) {
  return t.inner == 1 ? strf("best of %d run%s", t.reps, t.reps == 1 ? "" : "s")
                      : strf("best of %d runs of %d calls", t.reps, t.inner);
}

// Times `inner` back-to-back calls of f, up to max_reps times (stopping early once budget_s
// seconds have gone by), and returns the best time per call: the run least disturbed by the
// rest of the machine.
template <class Fn>
Timing best_of(Fn&& f, int inner, int max_reps, double budget_s) {
  using Clock = std::chrono::steady_clock;
  Timing t;
  t.inner = inner;
  const auto start = Clock::now();
  for (int r = 0; r < max_reps; ++r) {
    const auto t0 = Clock::now();
    for (int i = 0; i < inner; ++i) f();
    const auto t1 = Clock::now();
    t.best_ms =
        std::min(t.best_ms, std::chrono::duration<double, std::milli>(t1 - t0).count() / inner);
    ++t.reps;
    if (std::chrono::duration<double>(t1 - start).count() > budget_s) break;
  }
  return t;
}

class Tour {
 public:
  explicit Tour(const TourOptions& options)
      : opt_(options), story_(options.json), gen_(options.seed), summary_(Json::object()) {}

  int run() {
    story_.line();
    story_.raw(strf("embedkit tour: what an embedding table is, on a tiny table (seed %llu)\n",
                    static_cast<unsigned long long>(opt_.seed)));
    summary_.set("seed", opt_.seed).set("version", EMBEDKIT_VERSION_STRING);

    step_table();
    step_lookup();
    step_one_hot();
    step_bag();
    step_backward();
    if (!opt_.skip_timing) step_cost();
    step_bad_input();

    Json checks = Json::object();
    bool all_ok = true;
    for (const auto& [what, ok] : checks_) {
      checks.set(what, ok);
      all_ok = all_ok && ok;
    }
    summary_.set("checks", std::move(checks)).set("ok", all_ok);

    if (opt_.json) {
      std::cout << summary_.dump();
    } else {
      story_.line();
      story_.raw(all_ok ? "Every equality above was computed in this run, none assumed.\n" : "");
    }
    std::cout.flush();
    if (!all_ok) {
      for (const auto& [what, ok] : checks_) {
        if (!ok) std::cerr << "embedkit tour: check failed: " << what << '\n';
      }
      return 1;
    }
    return 0;
  }

 private:
  bool check(const std::string& what, bool ok) {
    checks_.emplace_back(what, ok);
    return ok;
  }
  static std::string yes_no(bool ok) { return ok ? "yes" : "NO"; }

  // (a) A small table, printed with word labels.
  void step_table() {
    const auto vocab = static_cast<std::int64_t>(kWords.size());
    emb_ =
        std::make_unique<nn::Embedding>(nn::EmbeddingOptions(vocab, kDim).padding_idx(kPad), gen_);
    story_.heading(1, "A table with one row per word");
    story_.line("An embedding table holds one vector of numbers per id. Here the vocabulary has");
    story_.line(
        strf("%lld words and each vector has %lld numbers, drawn from N(0, 1). Row 0, <pad>,",
             static_cast<long long>(vocab), static_cast<long long>(kDim)));
    story_.line("is the padding row: padding_idx=0 keeps it at zero and it never trains.");
    story_.line();
    story_.line(emb_->repr() + ", weight " + shape_string(emb_->weight().shape()) + ":");
    std::vector<std::int64_t> all_ids;
    for (std::int64_t i = 0; i < vocab; ++i) all_ids.push_back(i);
    story_.matrix(emb_->weight(), word_labels(all_ids, true), "id  word");

    summary_.set("vocabulary", Json::array_of(kWords))
        .set("dim", kDim)
        .set("padding_idx", kPad)
        .set("table", matrix_json(emb_->weight()));
  }

  // (b) Lookup of a sentence of ids.
  void step_lookup() {
    ids_ = Tensor::from_vector(kSentence);
    rows_ = emb_->forward(ids_);
    story_.heading(2, "Lookup: ids in, rows out");
    story_.line(
        "A sentence becomes a list of ids, and the lookup copies each id's row: the output");
    story_.line(strf("has one row per id, shape %s + [%lld] = %s.",
                     shape_string(ids_.shape()).c_str(), static_cast<long long>(kDim),
                     shape_string(rows_.shape()).c_str()));
    story_.line();
    story_.line("sentence: " + join_words(kSentence));
    story_.line("ids:      " + join_ids(kSentence));
    story_.line();
    std::vector<std::string> labels;
    for (std::size_t i = 0; i < kSentence.size(); ++i) {
      labels.push_back(strf("%2zu  ", i) + kWords[static_cast<std::size_t>(kSentence[i])]);
    }
    story_.matrix(rows_, labels, "pos word");

    Json lookup = Json::object();
    lookup.set("ids", Json::array_of(kSentence)).set("output", matrix_json(rows_));
    summary_.set("lookup", std::move(lookup));
  }

  // (c) The same rows as one_hot(ids) x W, through nn::Linear without bias.
  void step_one_hot() {
    const auto vocab = static_cast<std::int64_t>(kWords.size());
    one_hot_ = F::one_hot(ids_, vocab);
    linear_ = std::make_unique<nn::Linear>(nn::LinearOptions(vocab, kDim).bias(false), gen_);
    linear_->weight().copy_from(transpose(emb_->weight()));
    const Tensor product = linear_->forward(one_hot_);
    const std::int64_t equal = bitwise_equal_count(product, rows_);
    const bool ok = check("one_hot_linear_forward_bitwise_equal", equal == rows_.numel());

    story_.heading(3, "The same rows as a matrix product");
    story_.line(
        "Row i of one_hot(ids) is all zeros except a 1 in column ids[i], so one_hot(ids) x W");
    story_.line(strf("picks rows of W. nn::Linear(%lld, %lld, bias=false) with weight W^T computes",
                     static_cast<long long>(vocab), static_cast<long long>(kDim)));
    story_.line("exactly that product.");
    story_.line();
    story_.line("one_hot(ids), " + shape_string(one_hot_.shape()) + ":");
    std::string header = "     pos word   ";
    for (std::int64_t c = 0; c < vocab; ++c) header += strf("%2lld", static_cast<long long>(c));
    story_.raw(header + "\n");
    for (std::size_t i = 0; i < kSentence.size(); ++i) {
      const std::string& w = kWords[static_cast<std::size_t>(kSentence[i])];
      std::string row = strf("     %2zu  %-7s", i, w.c_str());
      for (std::int64_t c = 0; c < vocab; ++c) {
        row += strf("%2.0f", one_hot_.item_at(static_cast<std::int64_t>(i) * vocab + c));
      }
      story_.raw(row + "\n");
    }
    story_.line();
    story_.line(strf("Linear(one_hot(ids)) == lookup(ids), bit for bit: %s (%lld of %lld numbers)",
                     yes_no(ok).c_str(), static_cast<long long>(equal),
                     static_cast<long long>(rows_.numel())));
    story_.line(
        strf("The lookup gets there without building the %s matrix or multiplying by zeros.",
             shape_string(one_hot_.shape()).c_str()));

    Json j = Json::object();
    j.set("one_hot", matrix_json(one_hot_))
        .set("bitwise_equal", ok)
        .set("equal_elements", equal)
        .set("elements", rows_.numel());
    summary_.set("one_hot_product", std::move(j));
  }

  // (d) EmbeddingBag(mean): one vector per bag.
  void step_bag() {
    nn::EmbeddingBag bag = nn::EmbeddingBag::from_pretrained(
        emb_->weight(),
        nn::EmbeddingBagFromPretrainedOptions().mode(nn::BagMode::Mean).padding_idx(kPad));
    const Tensor bag_ids = Tensor::from_vector(kSentence, Shape{2, 4});
    const Tensor bags = bag.forward(bag_ids);

    // The same means by hand, from the rows of step 2, leaving out padding.
    Tensor by_hand = Tensor::zeros({2, kDim});
    float* h = by_hand.data<float>();
    const float* rows = rows_.data<float>();
    for (std::int64_t b = 0; b < 2; ++b) {
      float count = 0.0f;
      for (std::int64_t i = b * 4; i < b * 4 + 4; ++i) {
        if (kSentence[static_cast<std::size_t>(i)] == kPad) continue;
        count += 1.0f;
        for (std::int64_t d = 0; d < kDim; ++d) h[b * kDim + d] += rows[i * kDim + d];
      }
      for (std::int64_t d = 0; d < kDim; ++d) h[b * kDim + d] /= count;
    }
    const double diff = max_abs_diff(bags, by_hand);
    const bool ok = check("bag_mean_matches_rows", diff <= 1e-6);

    story_.heading(4, "EmbeddingBag: one vector per bag");
    story_.line("EmbeddingBag looks up a bag of ids and reduces it on the fly (here: the mean),");
    story_.line(
        "without materialising the rows. Ids equal to padding_idx are left out of the mean.");
    story_.line();
    const std::vector<std::int64_t> bag0(kSentence.begin(), kSentence.begin() + 4);
    const std::vector<std::int64_t> bag1(kSentence.begin() + 4, kSentence.end());
    story_.line("ids " + shape_string(bag_ids.shape()) + ": bag 0 = " + join_words(bag0) +
                ", bag 1 = " + join_words(bag1));
    story_.line(bag.repr() + " output " + shape_string(bags.shape()) + ":");
    story_.matrix(bags, {"0", "1"}, "bag");
    story_.line(strf("Mean of the rows from step 2, by hand: largest difference %g (%s)", diff,
                     ok ? "agrees" : "DISAGREES"));

    Json j = Json::object();
    j.set("ids", matrix_json(bag_ids))
        .set("mode", "mean")
        .set("padding_idx", kPad)
        .set("output", matrix_json(bags))
        .set("max_abs_diff_vs_by_hand", diff);
    summary_.set("embedding_bag", std::move(j));
  }

  // (e) Backward: dense gradient, row-sparse gradient, padding row.
  void step_backward() {
    const auto vocab = static_cast<std::int64_t>(kWords.size());
    const Tensor grad_out = Tensor::from_floats(
        std::vector<float>(static_cast<std::size_t>(rows_.numel()), 1.0f), rows_.shape());
    const nn::WeightGrad dense_grad = emb_->backward(ids_, grad_out);
    const Tensor& dense = dense_grad.dense();
    const std::vector<std::int64_t> touched = nonzero_rows(dense);

    const nn::WeightGrad sparse_grad = F::embedding_backward(
        ids_, grad_out, vocab, nn::EmbeddingFuncOptions().padding_idx(kPad).sparse(true));
    const RowSparseTensor& sparse = sparse_grad.sparse();
    const RowSparseTensor coalesced = sparse.coalesce();
    const bool sparse_ok =
        check("sparse_grad_to_dense_bitwise_equal", bitwise_equal(coalesced.to_dense(), dense));
    const bool coalesced_ok = check("coalesced_is_coalesced", coalesced.is_coalesced());

    // Linear over one_hot gives the same gradient, except on the padding row: Linear knows no
    // padding_idx, so its <pad> row sums the <pad> positions' gradients like any other row.
    const nn::LinearGrad lin_grad =
        nn::functional::linear_backward(one_hot_, linear_->weight(), grad_out, /*has_bias=*/false);
    Tensor lin_dense = transpose(lin_grad.weight);
    const Tensor lin_pad_row = Tensor::from_vector(std::vector<float>(
        lin_dense.data<float>() + kPad * kDim, lin_dense.data<float>() + (kPad + 1) * kDim));
    std::fill_n(lin_dense.data<float>() + kPad * kDim, kDim, 0.0f);
    const bool linear_ok = check("one_hot_linear_weight_grad_bitwise_equal_but_padding_row",
                                 bitwise_equal(lin_dense, dense));

    bool pad_zero = true;
    for (std::int64_t d = 0; d < kDim; ++d)
      pad_zero = pad_zero && dense.item_at(kPad * kDim + d) == 0.0;
    check("padding_row_grad_zero", pad_zero);

    story_.heading(5, "Backward: which rows learn");
    story_.line("Given the gradient of the output (here all ones, as if the loss were the sum of");
    story_.line(
        "the outputs), each row's gradient is the sum of the output gradients of the places");
    story_.line(
        "it was looked up. \"the\" is used twice, so its row gets 2; dog and ran were not used");
    story_.line("and get 0; <pad> gets 0 too, because padding_idx never trains.");
    story_.line();
    story_.line("Dense gradient, " + shape_string(dense.shape()) + " like the table:");
    std::vector<std::int64_t> all_ids;
    for (std::int64_t i = 0; i < vocab; ++i) all_ids.push_back(i);
    story_.matrix(dense, word_labels(all_ids, true), "id  word");
    std::string touched_text;
    for (std::size_t i = 0; i < touched.size(); ++i) {
      touched_text += (i ? ", " : "") + std::to_string(touched[i]) + " " +
                      kWords[static_cast<std::size_t>(touched[i])];
    }
    story_.line(strf("Non-zero rows: %zu of %lld (%s).", touched.size(),
                     static_cast<long long>(vocab), touched_text.c_str()));
    story_.line();
    story_.line(
        "With sparse(true) the gradient keeps only the rows it touches, as (indices, values).");
    story_.line(
        "As produced it has one entry per non-padding id, in sentence order, \"the\" twice:");
    story_.line(strf("indices %s, %lld x %lld values, coalesced: %s.",
                     join_ids(sparse.indices().to_int64_vector()).c_str(),
                     static_cast<long long>(sparse.nnz()), static_cast<long long>(sparse.dim()),
                     sparse.is_coalesced() ? "yes" : "no"));
    story_.line("coalesce() sorts the rows and sums the repeats:");
    const std::vector<std::int64_t> co_idx = coalesced.indices().to_int64_vector();
    story_.line("indices " + join_ids(co_idx) + ", values:");
    story_.matrix(coalesced.values(), word_labels(co_idx, true), "id  word");
    story_.line(
        strf("sparse.to_dense() == dense gradient, bit for bit: %s", yes_no(sparse_ok).c_str()));
    story_.line(
        strf("Linear over one_hot: weight gradient (transposed) == dense gradient, bit for bit,"));
    story_.line(
        strf("on every row but <pad>: %s. Linear knows no padding_idx, so its <pad> row gets %s.",
             yes_no(linear_ok).c_str(), row_text(lin_pad_row).c_str()));
    story_.line(strf("Gradient of the padding row <pad>: %s", pad_zero ? "all zero" : "NOT ZERO"));

    Json sparse_j = Json::object();
    sparse_j.set("indices", Json::array_of(sparse.indices().to_int64_vector()))
        .set("is_coalesced", sparse.is_coalesced());
    Json coalesced_j = Json::object();
    coalesced_j.set("indices", Json::array_of(co_idx))
        .set("values", matrix_json(coalesced.values()))
        .set("is_coalesced", coalesced_ok);
    Json j = Json::object();
    j.set("grad_output", "ones")
        .set("dense", matrix_json(dense))
        .set("dense_nonzero_rows", Json::array_of(touched))
        .set("sparse", std::move(sparse_j))
        .set("sparse_coalesced", std::move(coalesced_j))
        .set("sparse_to_dense_bitwise_equal", sparse_ok)
        .set("linear_weight_grad_bitwise_equal_but_padding_row", linear_ok)
        .set("linear_weight_grad_padding_row", Json::array_of(lin_pad_row.to_float_vector()))
        .set("padding_row_grad_zero", pad_zero);
    summary_.set("backward", std::move(j));
  }

  // (f) Cost: lookup + sparse backward against Linear over one-hot, forward + backward.
  void step_cost() {
    nn::Embedding big(nn::EmbeddingOptions(kCostRows, kCostDim).sparse(true), gen_);
    std::vector<std::int64_t> ids_v(static_cast<std::size_t>(kCostBatch));
    for (auto& id : ids_v) id = static_cast<std::int64_t>(gen_.next_u64() % kCostRows);
    const Tensor ids = Tensor::from_vector(ids_v);
    Tensor grad = Tensor::empty({kCostBatch, kCostDim});
    fill_normal(grad, gen_);

    nn::Linear lin(nn::LinearOptions(kCostRows, kCostDim).bias(false), gen_);
    lin.weight().copy_from(transpose(big.weight()));

    story_.heading(6, "Cost: why a lookup and not a matrix product");
    story_.line(
        strf("A lookup touches batch x D = %lld x %lld = %lld numbers, and its sparse backward",
             static_cast<long long>(kCostBatch), static_cast<long long>(kCostDim),
             static_cast<long long>(kCostBatch * kCostDim)));
    story_.line("as many. The same result as one_hot(ids) x W costs batch x N x D =");
    story_.line(strf(
        "%lld x %lld x %lld = %.3g multiply-adds, nearly all by zero, and as many again for",
        static_cast<long long>(kCostBatch), static_cast<long long>(kCostRows),
        static_cast<long long>(kCostDim), static_cast<double>(kCostBatch * kCostRows * kCostDim)));
    story_.line("each of the two products of Linear's backward (the weight's gradient and the");
    story_.line(strf("input's). Timed now on a %lld x %lld table and %lld random ids:",
                     static_cast<long long>(kCostRows), static_cast<long long>(kCostDim),
                     static_cast<long long>(kCostBatch)));
    std::cout.flush();

    Tensor out;
    nn::WeightGrad sparse_grad;
    const Timing lookup = best_of(
        [&] {
          out = big.forward(ids);
          sparse_grad = big.backward(ids, grad);
        },
        100, 10, 0.5);
    Tensor product;
    nn::LinearGrad dense_grad;
    const Timing matmul = best_of(
        [&] {
          const Tensor oh = F::one_hot(ids, kCostRows);
          product = lin.forward(oh);
          dense_grad = nn::functional::linear_backward(oh, lin.weight(), grad, /*has_bias=*/false);
        },
        1, 5, 1.5);
    const double ratio = matmul.best_ms / lookup.best_ms;
    const bool fwd_ok = check("cost_forward_bitwise_equal", bitwise_equal(product, out));
    const double grad_diff =
        max_abs_diff(sparse_grad.sparse().coalesce().to_dense(), transpose(dense_grad.weight));
    const bool grad_ok = check("cost_weight_grad_agrees", grad_diff <= 1e-4);

    story_.line();
    story_.line(strf("  lookup + sparse backward:             %12s  (%s)",
                     duration_text(lookup.best_ms).c_str(), runs_text(lookup).c_str()));
    story_.line(strf("  one_hot + Linear forward + backward:  %12s  (%s)",
                     duration_text(matmul.best_ms).c_str(), runs_text(matmul).c_str()));
    story_.line(strf("  ratio: the one-hot route takes %.0f times as long", ratio));
    story_.line(strf(
        "Same forward output, bit for bit: %s; weight gradients agree (largest difference %g): %s",
        yes_no(fwd_ok).c_str(), grad_diff, yes_no(grad_ok).c_str()));

    Json j = Json::object();
    j.set("rows", kCostRows)
        .set("dim", kCostDim)
        .set("batch", kCostBatch)
        .set("lookup_sparse_backward_ms", lookup.best_ms)
        .set("lookup_reps", lookup.reps)
        .set("lookup_calls_per_rep", lookup.inner)
        .set("one_hot_linear_forward_backward_ms", matmul.best_ms)
        .set("one_hot_linear_reps", matmul.reps)
        .set("ratio", ratio)
        .set("forward_bitwise_equal", fwd_ok)
        .set("weight_grad_max_abs_diff", grad_diff);
    summary_.set("cost", std::move(j));
  }

  // (g) An out-of-range id raises IndexError, and nothing is written.
  void step_bad_input() {
    const auto vocab = static_cast<std::int64_t>(kWords.size());
    const std::vector<std::int64_t> bad = {1, 2, 99};
    const Tensor bad_ids = Tensor::from_vector(bad);
    const auto options = nn::EmbeddingFuncOptions().padding_idx(kPad).max_norm(1.0);

    // What max_norm does to a copy of the table with the good ids only: it rescales rows.
    Tensor copy = emb_->weight().clone();
    F::embedding(Tensor::from_vector(std::vector<std::int64_t>{1, 2}), copy, options);
    std::vector<std::int64_t> rescaled;
    for (std::int64_t r = 0; r < vocab; ++r) {
      for (std::int64_t d = 0; d < kDim; ++d) {
        if (copy.item_at(r * kDim + d) != emb_->weight().item_at(r * kDim + d)) {
          rescaled.push_back(r);
          break;
        }
      }
    }

    const Tensor before = emb_->weight().clone();
    std::string message;
    Json error = nullptr;
    bool raised = false;
    try {
      F::embedding(bad_ids, emb_->weight(), options);
    } catch (const IndexError& e) {
      raised = true;
      message = e.what();
      error = Json::object();
      error.set("type", "IndexError")
          .set("message", message)
          .set("position", e.position())
          .set("value", e.value())
          .set("low", e.low())
          .set("high", e.high());
    }
    check("bad_id_raises_index_error", raised);
    const bool unchanged = check("bad_id_table_unchanged", bitwise_equal(before, emb_->weight()));

    story_.heading(7, "Bad input");
    story_.line(
        strf("An id outside [0, %lld) is an error that names its position, its value and the",
             static_cast<long long>(vocab)));
    story_.line(
        "valid range. Every id is checked before anything is written, so the table is left");
    story_.line(
        "as it was, even with max_norm, which rescales the rows it looks up in place (on a");
    story_.line("copy, the same call with ids [1, 2] rescaled rows " + join_ids(rescaled) + ").");
    story_.line();
    story_.line("embedding(ids " + join_ids(bad) + ", max_norm=1) throws:");
    story_.line(raised ? "  embedkit::IndexError: " + message : "  NOTHING (expected IndexError)");
    story_.line(strf("Table unchanged, bit for bit: %s", yes_no(unchanged).c_str()));

    Json j = Json::object();
    j.set("ids", Json::array_of(bad))
        .set("max_norm", 1.0)
        .set("error", std::move(error))
        .set("table_unchanged", unchanged)
        .set("rows_rescaled_without_bad_id", Json::array_of(rescaled));
    summary_.set("bad_input", std::move(j));
  }

  TourOptions opt_;
  Story story_;
  Generator gen_;
  Json summary_;
  std::vector<std::pair<std::string, bool>> checks_;

  std::unique_ptr<nn::Embedding> emb_;
  std::unique_ptr<nn::Linear> linear_;
  Tensor ids_;
  Tensor rows_;
  Tensor one_hot_;
};

}  // namespace

Command add_tour(CLI::App& parent) {
  auto options = std::make_shared<TourOptions>();
  CLI::App* app = parent.add_subcommand(
      "tour", "What an embedding table is: lookup, one-hot product, bags, gradients, cost, errors");
  app->add_option("--seed", options->seed, "Seed of the random table")
      ->check(uint64_value())
      ->capture_default_str();
  app->add_flag("--json", options->json, "Print a machine-readable summary instead of the story");
  app->add_flag("--skip-timing", options->skip_timing,
                "Leave out the timed cost step (for tests and slow builds)");
  return Command{app, [options] { return Tour(*options).run(); }};
}

}  // namespace embedkit::cli
