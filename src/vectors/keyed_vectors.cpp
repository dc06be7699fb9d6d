// KeyedVectors: lookup, cosine nearest neighbors (blocked query x vocabulary products with a
// bounded heap per query) and 3CosAdd / 3CosMul analogies.
#include "embedkit/vectors/keyed_vectors.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <queue>
#include <unordered_set>

#include "embedkit/core/thread_pool.hpp"
#include "embedkit/vectors/hnsw_index.hpp"
#include "kernels/cpu/dot.hpp"
#include "kernels/cpu/row_norms.hpp"

namespace embedkit::vectors {
namespace {

// Cosine scores are dot products of unit rows summed in the eight-lane order (vectorisable): the
// scores, and so the rankings and their ties, are defined by that order.
using kernels::cpu::dot_eight_lanes;

// Blocks sized so a tile of vocabulary rows (kRowBlock x D floats, 300 KB at D = 300) stays in
// L2 while every query of the block is scored against it.
constexpr std::int64_t kQueryBlock = 16;
constexpr std::int64_t kRowBlock = 256;

// Rows whose norms are computed together: one scan block.
constexpr std::int64_t kNormBlock = kRowBlock;

void normalize_into(const float* src, float* dst, std::int64_t n) {
  double sq = 0.0;
  for (std::int64_t i = 0; i < n; ++i) sq += static_cast<double>(src[i]) * src[i];
  const double norm = std::sqrt(sq);
  for (std::int64_t i = 0; i < n; ++i) {
    dst[i] = norm > 0.0 ? static_cast<float>(src[i] / norm) : 0.0f;
  }
}

// Better first: higher score, then lower row.
bool better(const Neighbor& x, const Neighbor& y) {
  return x.score > y.score || (x.score == y.score && x.index < y.index);
}

// Keeps the best `topn` of what it is offered.
class TopN {
 public:
  explicit TopN(std::size_t n) : n_(n) {}
  void offer(float score, std::int64_t index) {
    if (n_ == 0) return;
    Neighbor cand{std::string(), index, score};
    if (heap_.size() < n_) {
      heap_.push_back(cand);
      std::push_heap(heap_.begin(), heap_.end(), better);
    } else if (better(cand, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), better);
      heap_.back() = cand;
      std::push_heap(heap_.begin(), heap_.end(), better);
    }
  }
  // Offers everything `other` kept.
  void merge(const TopN& other) {
    for (const Neighbor& nb : other.heap_) offer(nb.score, nb.index);
  }
  std::vector<Neighbor> take(const std::vector<std::string>& words) {
    std::sort(heap_.begin(), heap_.end(), better);
    for (Neighbor& nb : heap_) nb.word = words[static_cast<std::size_t>(nb.index)];
    return std::move(heap_);
  }

 private:
  std::size_t n_;
  std::vector<Neighbor> heap_;  // a heap whose front is the worst kept
};

bool excluded(const std::vector<std::int64_t>& ex, std::int64_t row) {
  return std::find(ex.begin(), ex.end(), row) != ex.end();
}

// An exact query reads every row, so on a large vocabulary it waits for memory: one thread
// scans a 1 GB matrix at about the bandwidth one core draws. The rows are split into
// contiguous chunks over the pool's threads (core/thread_pool.hpp), each keeping its own best
// `topn` for each query, merged afterwards. better() is a total order (no score is NaN: the
// norms pass checks every row), so the best of the chunks' best are the one-thread scan's,
// tie for tie, at any thread count. A chunk is whole norm blocks and at least
// kMinChunkProducts products (32 MB of rows for one query), so the scans of small vocabularies
// (which a thread's wake-up would cost more than it saves) stay on the caller.
constexpr std::int64_t kMinChunkProducts = std::int64_t{1} << 23;

// The best `topn` rows of [0, rows) for each of `queries` queries: scan(begin, end, tops)
// offers rows [begin, end) to `tops` (one TopN per query), for chunks that start at multiples
// of kNormBlock. `products_per_row` is the work a row costs (queries x dim multiply-adds). When
// chunks throw, the exception of the lowest chunk is rethrown, so the error is the one a scan
// in row order meets first (the first row holding a non-finite value), at any thread count.
template <class Scan>
std::vector<TopN> best_of_rows(std::int64_t rows, std::int64_t products_per_row,
                               std::size_t queries, std::int64_t topn, Scan&& scan) {
  const std::int64_t blocks = (rows + kNormBlock - 1) / kNormBlock;
  const std::int64_t by_work = rows * products_per_row / kMinChunkProducts;
  const auto chunks = static_cast<int>(
      std::max<std::int64_t>(1, std::min({blocks, by_work, std::int64_t{get_num_threads()}})));
  const auto fresh = [&] {
    return std::vector<TopN>(queries, TopN(static_cast<std::size_t>(topn)));
  };
  if (chunks == 1) {
    std::vector<TopN> tops = fresh();
    scan(std::int64_t{0}, rows, tops);
    return tops;
  }
  std::vector<std::vector<TopN>> found(static_cast<std::size_t>(chunks));
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(chunks));
  parallel_chunks(chunks, [&](int c, int n) {
    const auto i = static_cast<std::size_t>(c);
    try {
      found[i] = fresh();
      const std::int64_t begin = chunk_begin(blocks, n, c) * kNormBlock;
      const std::int64_t end = std::min(rows, chunk_begin(blocks, n, c + 1) * kNormBlock);
      scan(begin, end, found[i]);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  });
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  std::vector<TopN> tops = fresh();
  for (const std::vector<TopN>& chunk : found) {
    for (std::size_t q = 0; q < chunk.size(); ++q) tops[q].merge(chunk[q]);
  }
  return tops;
}

}  // namespace

// Not std::call_once: a block whose scan throws (a non-finite value) must throw again for the
// next query that reaches it, and an exceptional std::call_once hangs the next call on the same
// flag under ThreadSanitizer (its pthread_once interceptor does not unwind). A block is done
// once its flag is set (release) after its norms are written; it is computed under one of
// kLocks mutexes, so first scans of different blocks rarely wait for each other.
struct KeyedVectors::RowNorms {
  static constexpr std::size_t kLocks = 64;
  explicit RowNorms(std::int64_t rows)
      : inverse(static_cast<std::size_t>(rows)),
        done(std::make_unique<std::atomic<bool>[]>(
            static_cast<std::size_t>((rows + kNormBlock - 1) / kNormBlock))) {}
  // Norms known already: every block done.
  explicit RowNorms(std::vector<float> known)
      : inverse(std::move(known)),
        done(
            std::make_unique<std::atomic<bool>[]>((inverse.size() + kNormBlock - 1) / kNormBlock)) {
    for (std::size_t b = 0; b * kNormBlock < inverse.size(); ++b) {
      done[b].store(true, std::memory_order_relaxed);
    }
  }
  std::vector<float> inverse;
  std::unique_ptr<std::atomic<bool>[]> done;  // value-initialised: false
  std::mutex locks[kLocks];
  std::mutex unit_lock;
  std::atomic<bool> unit_done{false};
  Tensor unit;
};

namespace {

void check_matrix(const Tensor& matrix, std::size_t words) {
  if (!matrix.defined() || matrix.dtype() != DType::Float32 || matrix.dim() != 2 ||
      matrix.size(1) < 1) {
    throw ValueError("KeyedVectors: the matrix must be a float32 [V, D] tensor with D >= 1");
  }
  if (matrix.size(0) != static_cast<std::int64_t>(words)) {
    throw ValueError("KeyedVectors: " + std::to_string(words) + " words but the matrix has " +
                     std::to_string(matrix.size(0)) + " rows");
  }
}

void check_not_empty(const std::string& word, std::int64_t row) {
  if (word.empty()) {
    throw ValueError("KeyedVectors: row " + std::to_string(row) + " has an empty word");
  }
}

}  // namespace

KeyedVectors::KeyedVectors(std::vector<std::string> words, Tensor matrix) {
  check_matrix(matrix, words.size());
  KeyIndex index;
  index.reserve(words.size());
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    check_not_empty(w, static_cast<std::int64_t>(i));
    if (const KeyIndex::Added added = index.add(w); !added.inserted) {
      throw ValueError("KeyedVectors: word '" + w + "' appears twice (rows " +
                       std::to_string(added.row) + " and " + std::to_string(i) + ")");
    }
  }
  adopt(std::move(index), std::move(matrix));
}

KeyedVectors::KeyedVectors(KeyIndex words, Tensor matrix) {
  check_matrix(matrix, static_cast<std::size_t>(words.size()));
  for (std::int64_t r = 0; r < words.size(); ++r) check_not_empty(words.key(r), r);
  adopt(std::move(words), std::move(matrix));
}

KeyedVectors::KeyedVectors(KeyIndex words, Tensor matrix, std::vector<float> inverse_norms) {
  check_matrix(matrix, static_cast<std::size_t>(words.size()));
  for (std::int64_t r = 0; r < words.size(); ++r) check_not_empty(words.key(r), r);
  if (!inverse_norms.empty()) {
    if (!matrix.read_only()) {
      throw ValueError(
          "KeyedVectors: known norms are taken only with a read-only matrix (a writable one is "
          "copied, and its norms computed from the copy)");
    }
    if (static_cast<std::int64_t>(inverse_norms.size()) != words.size()) {
      throw ValueError("KeyedVectors: " + std::to_string(inverse_norms.size()) +
                       " known norms for " + std::to_string(words.size()) + " rows");
    }
    for (std::size_t r = 0; r < inverse_norms.size(); ++r) {
      if (!(inverse_norms[r] >= 0.0f) || !std::isfinite(inverse_norms[r])) {
        throw ValueError("KeyedVectors: the known inverse norm of row " + std::to_string(r) +
                         " is " + std::to_string(inverse_norms[r]) + ", not a finite value >= 0");
      }
    }
  }
  adopt(std::move(words), std::move(matrix), std::move(inverse_norms));
}

void KeyedVectors::adopt(KeyIndex words, Tensor matrix, std::vector<float> inverse_norms) {
  dim_ = matrix.size(1);
  // A read-only matrix (mapped from its file) cannot change under the index: shared, not
  // copied, so a mapped vectors file is not read into a second buffer.
  const bool mapped = matrix.read_only();
  matrix_ = mapped ? std::move(matrix) : matrix.clone();
  index_ = std::move(words);
  norms_ = inverse_norms.empty() ? std::make_shared<RowNorms>(size())
                                 : std::make_shared<RowNorms>(std::move(inverse_norms));
  // An in-memory matrix was just copied: checking it now costs little and keeps a non-finite
  // value a constructor error. A mapped one is checked as the queries first read it.
  if (!mapped) ensure_norms(0, size());
}

bool KeyedVectors::inverse_norms(const float* rows, std::int64_t count, std::int64_t dim,
                                 float* inverse) {
  return kernels::cpu::inverse_row_norms(rows, count, dim, inverse) == count;
}

void KeyedVectors::ensure_norms(std::int64_t first, std::int64_t last) const {
  const float* data = matrix_.data<float>();
  for (std::int64_t b = first / kNormBlock; b * kNormBlock < last; ++b) {
    std::atomic<bool>& done = norms_->done[static_cast<std::size_t>(b)];
    if (done.load(std::memory_order_acquire)) continue;
    const std::lock_guard<std::mutex> lock(
        norms_->locks[static_cast<std::size_t>(b) % RowNorms::kLocks]);
    if (done.load(std::memory_order_relaxed)) continue;
    {
      // The squared norms of the whole block (kernels/cpu/row_norms.hpp: sixteen rows' sums in
      // flight at once) give the inverse norms and check the values: a sum is finite exactly
      // when its row's values all are, so only a row whose sum is not is read again, to name the
      // first non-finite column of the first such row, as a value-by-value check would.
      const std::int64_t begin = b * kNormBlock;
      const std::int64_t count = std::min(size(), begin + kNormBlock) - begin;
      const std::int64_t finite = kernels::cpu::inverse_row_norms(data + begin * dim_, count, dim_,
                                                                  norms_->inverse.data() + begin);
      if (finite < count) throw_non_finite(begin + finite);
    }
    done.store(true, std::memory_order_release);
  }
}

void KeyedVectors::throw_non_finite(std::int64_t row) const {
  const float* x = matrix_.data<float>() + row * dim_;
  std::int64_t j = 0;
  while (j < dim_ && std::isfinite(x[j])) ++j;
  throw ValueError("KeyedVectors: the vector of '" + index_.key(row) +
                   "' holds a non-finite value at column " + std::to_string(j));
}

float KeyedVectors::inverse_norm(std::int64_t r) const {
  return norms_->inverse[static_cast<std::size_t>(r)];
}

void KeyedVectors::unit_row(std::int64_t row, float* out) const {
  ensure_norms(row, row + 1);
  const float* x = matrix_.data<float>() + row * dim_;
  const float inv = inverse_norm(row);
  for (std::int64_t j = 0; j < dim_; ++j) out[j] = x[j] * inv;
}

const Tensor& KeyedVectors::unit_matrix() const {
  if (norms_->unit_done.load(std::memory_order_acquire)) return norms_->unit;
  const std::lock_guard<std::mutex> lock(norms_->unit_lock);
  if (!norms_->unit_done.load(std::memory_order_relaxed)) {
    Tensor unit = Tensor::empty({size(), dim_}, DType::Float32);
    for (std::int64_t r = 0; r < size(); ++r) unit_row(r, unit.data<float>() + r * dim_);
    norms_->unit = std::move(unit);
    norms_->unit_done.store(true, std::memory_order_release);
  }
  return norms_->unit;
}

std::int64_t KeyedVectors::at(std::string_view word) const {
  if (const auto row = find(word)) return *row;
  throw KeyError("word", word, "vocabulary");
}

std::span<const float> KeyedVectors::vector(std::string_view word) const {
  return {matrix_.data<float>() + at(word) * dim_, static_cast<std::size_t>(dim_)};
}

std::span<const float> KeyedVectors::unit_vector(std::string_view word) const {
  const std::int64_t row = at(word);
  return {unit_matrix().data<float>() + row * dim_, static_cast<std::size_t>(dim_)};
}

float KeyedVectors::similarity(std::string_view a, std::string_view b) const {
  std::vector<float> ua(static_cast<std::size_t>(dim_)), ub(ua.size());
  unit_row(at(a), ua.data());
  unit_row(at(b), ub.data());
  return dot_eight_lanes(ua.data(), ub.data(), dim_);
}

std::int64_t KeyedVectors::limit(std::int64_t restrict_vocab) const {
  if (restrict_vocab < 0) throw ValueError("restrict_vocab must be >= 0");
  return std::min(restrict_vocab, size());
}

void KeyedVectors::check_topn(std::int64_t topn) const {
  if (topn < 0) throw ValueError("topn must be >= 0, got " + std::to_string(topn));
}

std::vector<Neighbor> KeyedVectors::most_similar(std::string_view word, std::int64_t topn,
                                                 std::int64_t restrict_vocab) const {
  const std::int64_t row = at(word);
  Tensor q = Tensor::empty({1, dim_}, DType::Float32);
  unit_row(row, q.data<float>());
  return most_similar_batch(q, topn, {{row}}, restrict_vocab)[0];
}

std::vector<Neighbor> KeyedVectors::most_similar(std::span<const float> query, std::int64_t topn,
                                                 const std::vector<std::string>& exclude,
                                                 std::int64_t restrict_vocab) const {
  if (static_cast<std::int64_t>(query.size()) != dim_) {
    throw ValueError("most_similar: the query has " + std::to_string(query.size()) +
                     " values, the vectors " + std::to_string(dim_));
  }
  std::vector<std::int64_t> ex;
  for (const std::string& w : exclude) ex.push_back(at(w));
  Tensor q = Tensor::empty({1, dim_}, DType::Float32);
  std::memcpy(q.raw_data(), query.data(), query.size() * sizeof(float));
  return most_similar_batch(q, topn, {ex}, restrict_vocab)[0];
}

std::vector<std::vector<Neighbor>> KeyedVectors::most_similar_batch(
    const Tensor& queries, std::int64_t topn, const std::vector<std::vector<std::int64_t>>& exclude,
    std::int64_t restrict_vocab) const {
  check_topn(topn);
  if (!queries.defined() || queries.dtype() != DType::Float32 || queries.dim() != 2 ||
      queries.size(1) != dim_) {
    throw ValueError("most_similar_batch: queries must be float32 [Q, " + std::to_string(dim_) +
                     "]");
  }
  const std::int64_t nq = queries.size(0);
  if (!exclude.empty() && static_cast<std::int64_t>(exclude.size()) != nq) {
    throw ValueError("most_similar_batch: " + std::to_string(exclude.size()) +
                     " exclusion lists for " + std::to_string(nq) + " queries");
  }
  const std::int64_t rows = limit(restrict_vocab);
  const float* data = matrix_.data<float>();
  std::vector<float> qunit(static_cast<std::size_t>(nq * dim_));
  Tensor contiguous = queries.clone();
  // A non-finite value has no direction: normalize_into would make the query zeros, and every
  // row would score 0, an answer rather than the error it is.
  const float* values = contiguous.data<float>();
  for (std::int64_t i = 0; i < nq * dim_; ++i) {
    if (!std::isfinite(values[i])) {
      throw ValueError("most_similar: query " + std::to_string(i / dim_) +
                       " holds a non-finite value at column " + std::to_string(i % dim_) +
                       " (a query vector must be finite)");
    }
  }
  for (std::int64_t q = 0; q < nq; ++q) {
    normalize_into(contiguous.data<float>() + q * dim_, qunit.data() + q * dim_, dim_);
  }
  static const std::vector<std::int64_t> kNone;
  std::vector<std::vector<Neighbor>> out;
  out.reserve(static_cast<std::size_t>(nq));
  if (ann_ && rows == size()) {
    if (topn > size()) {
      throw ValueError("k = " + std::to_string(topn) + " is larger than the vocabulary (" +
                       std::to_string(size()) +
                       " words): the approximate search answers at most every word");
    }
    for (std::int64_t q = 0; q < nq; ++q) {
      const auto& ex = exclude.empty() ? kNone : exclude[static_cast<std::size_t>(q)];
      const float* query = qunit.data() + q * dim_;
      // Asks for the excluded rows too, so that k remain when the graph returns them.
      const std::int64_t ask = std::min(size(), topn + static_cast<std::int64_t>(ex.size()));
      TopN top(static_cast<std::size_t>(topn));
      for (const std::int64_t r : ann_->search(query, ask)) {
        if (excluded(ex, r)) continue;
        ensure_norms(r, r + 1);
        top.offer(dot_eight_lanes(query, data + r * dim_, dim_) * inverse_norm(r), r);
      }
      out.push_back(top.take(words()));
    }
    return out;
  }
  for (std::int64_t q0 = 0; q0 < nq; q0 += kQueryBlock) {
    const std::int64_t q1 = std::min(nq, q0 + kQueryBlock);
    const auto scan = [&](std::int64_t first, std::int64_t last, std::vector<TopN>& tops) {
      std::vector<float> tile(static_cast<std::size_t>(kQueryBlock * kRowBlock));
      for (std::int64_t r0 = first; r0 < last; r0 += kRowBlock) {
        const std::int64_t r1 = std::min(last, r0 + kRowBlock);
        for (std::int64_t q = q0; q < q1; ++q) {
          for (std::int64_t r = r0; r < r1; ++r) {
            tile[static_cast<std::size_t>((q - q0) * kRowBlock + (r - r0))] =
                dot_eight_lanes(qunit.data() + q * dim_, data + r * dim_, dim_);
          }
        }
        // The first scan to reach these rows computes their norms: after the products, which
        // read the block from memory in order, so the norms (sixteen rows at a time, a pattern
        // the hardware prefetcher follows less well) read it from the cache. Each score is the
        // same rounded product, product * inverse norm, whichever comes first.
        ensure_norms(r0, r1);
        for (std::int64_t q = q0; q < q1; ++q) {
          for (std::int64_t r = r0; r < r1; ++r) {
            tile[static_cast<std::size_t>((q - q0) * kRowBlock + (r - r0))] *= inverse_norm(r);
          }
        }
        for (std::int64_t q = q0; q < q1; ++q) {
          const auto& ex = exclude.empty() ? kNone : exclude[static_cast<std::size_t>(q)];
          TopN& top = tops[static_cast<std::size_t>(q - q0)];
          for (std::int64_t r = r0; r < r1; ++r) {
            if (excluded(ex, r)) continue;
            top.offer(tile[static_cast<std::size_t>((q - q0) * kRowBlock + (r - r0))], r);
          }
        }
      }
    };
    std::vector<TopN> tops =
        best_of_rows(rows, (q1 - q0) * dim_, static_cast<std::size_t>(q1 - q0), topn, scan);
    for (TopN& top : tops) out.push_back(top.take(words()));
  }
  return out;
}

void KeyedVectors::use_index(std::shared_ptr<const HnswIndex> index) {
  if (index && !index->matches(*this)) {
    throw ValueError("use_index: the HNSW index was built from other vectors (" +
                     std::to_string(index->size()) + " x " + std::to_string(index->dim()) +
                     ", matrix of " + io::describe_matrix_file_identity(index->matrix_identity()) +
                     ")");
  }
  ann_ = std::move(index);
}

std::vector<Neighbor> KeyedVectors::analogy(std::string_view a, std::string_view b,
                                            std::string_view c, AnalogyMethod method,
                                            std::int64_t topn, std::int64_t restrict_vocab,
                                            float epsilon) const {
  check_topn(topn);
  const std::array<std::int64_t, 3> abc = {at(a), at(b), at(c)};
  if (method == AnalogyMethod::Add) return analogy_batch({abc}, topn, restrict_vocab)[0];

  const std::int64_t rows = limit(restrict_vocab);
  const float* data = matrix_.data<float>();
  std::vector<float> abc_unit(static_cast<std::size_t>(3 * dim_));
  for (std::size_t i = 0; i < 3; ++i) {
    unit_row(abc[i], abc_unit.data() + static_cast<std::int64_t>(i) * dim_);
  }
  const float* ua = abc_unit.data();
  const float* ub = ua + dim_;
  const float* uc = ub + dim_;
  const std::vector<std::int64_t> ex(abc.begin(), abc.end());
  const auto scan = [&](std::int64_t first, std::int64_t last, std::vector<TopN>& tops) {
    for (std::int64_t r = first; r < last; ++r) {
      if (r % kNormBlock == 0) ensure_norms(r, std::min(rows, r + kNormBlock));
      if (excluded(ex, r)) continue;
      const float* x = data + r * dim_;
      const float inv = inverse_norm(r);
      const float sa = (1.0f + dot_eight_lanes(x, ua, dim_) * inv) / 2.0f;
      const float sb = (1.0f + dot_eight_lanes(x, ub, dim_) * inv) / 2.0f;
      const float sc = (1.0f + dot_eight_lanes(x, uc, dim_) * inv) / 2.0f;
      tops[0].offer(sa * sc / (sb + epsilon), r);
    }
  };
  return best_of_rows(rows, 3 * dim_, 1, topn, scan)[0].take(words());
}

std::vector<std::vector<Neighbor>> KeyedVectors::analogy_batch(
    const std::vector<std::array<std::int64_t, 3>>& questions, std::int64_t topn,
    std::int64_t restrict_vocab) const {
  const auto nq = static_cast<std::int64_t>(questions.size());
  Tensor q = Tensor::empty({nq, dim_}, DType::Float32);
  float* qd = q.data<float>();
  std::vector<float> u(static_cast<std::size_t>(3 * dim_));
  std::vector<std::vector<std::int64_t>> ex;
  ex.reserve(questions.size());
  for (std::int64_t i = 0; i < nq; ++i) {
    const auto& abc = questions[static_cast<std::size_t>(i)];
    for (const std::int64_t r : abc) {
      if (r < 0 || r >= size()) throw IndexError("analogy word row", i, r, 0, size());
    }
    for (std::size_t k = 0; k < 3; ++k) {
      unit_row(abc[k], u.data() + static_cast<std::int64_t>(k) * dim_);
    }
    // gensim's mean of the signed unit vectors (normalized again before the product).
    for (std::int64_t j = 0; j < dim_; ++j) {
      qd[i * dim_ + j] = (u[j] - u[dim_ + j] + u[2 * dim_ + j]) / 3.0f;
    }
    ex.emplace_back(abc.begin(), abc.end());
  }
  return most_similar_batch(q, topn, ex, restrict_vocab);
}

}  // namespace embedkit::vectors
