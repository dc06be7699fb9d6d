#include "embedkit/models/recommender.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "embedkit/core/error.hpp"
#include "embedkit/core/thread_pool.hpp"
#include "embedkit/io/checkpoint.hpp"
#include "embedkit/models/ranking_metrics.hpp"
#include "embedkit/models/training_divergence.hpp"
#include "embedkit/vectors/keyed_vectors.hpp"
#include "io/model_metadata.hpp"

namespace embedkit::models {

namespace {

// The file's format mark (io/model_metadata.hpp). The file is a checkpoint (io/checkpoint.hpp)
// whose metadata also carries this mark.
constexpr io::detail::ModelFormat kFileFormat{
    .kind = "recommender model", .version_key = "embedkit.recommender", .version = "1"};

// The best k of `scores` among rows not in `excluded` (sorted), best first, ties by row.
std::vector<std::int64_t> top_k(const std::vector<float>& scores,
                                const std::vector<std::int64_t>& excluded, std::int64_t k) {
  std::vector<std::int64_t> rows;
  rows.reserve(scores.size());
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(scores.size()); ++i) {
    if (!std::binary_search(excluded.begin(), excluded.end(), i)) rows.push_back(i);
  }
  const auto kk = std::min(static_cast<std::size_t>(std::max<std::int64_t>(k, 0)), rows.size());
  auto better = [&scores](std::int64_t a, std::int64_t b) {
    const float sa = scores[static_cast<std::size_t>(a)];
    const float sb = scores[static_cast<std::size_t>(b)];
    return sa != sb ? sa > sb : a < b;
  };
  std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(kk), rows.end(),
                    better);
  rows.resize(kk);
  return rows;
}

std::vector<float> user_scores(const Recommender& r, std::optional<std::int64_t> user) {
  if (user) return r.model.scores_for_user(*user);
  std::vector<float> out(static_cast<std::size_t>(r.model.num_items()));
  for (std::int64_t i = 0; i < r.model.num_items(); ++i) {
    out[static_cast<std::size_t>(i)] = r.model.item_baseline(i);
  }
  return out;
}

float clip(const Recommender& r, float value) {
  if (r.model.options().objective != MfObjective::Rating) return value;
  return std::clamp(value, r.rating_min, r.rating_max);
}

}  // namespace

IndexedRatings index_ratings(const std::vector<Rating>& train) {
  if (train.empty()) throw ValueError("train_recommender: no training ratings");
  IndexedRatings r;
  r.data.users.reserve(train.size());
  r.data.items.reserve(train.size());
  r.data.ratings.reserve(train.size());
  r.rating_min = train.front().rating;
  r.rating_max = r.rating_min;
  for (const Rating& rating : train) {
    r.data.users.push_back(r.users.add(rating.user));
    r.data.items.push_back(r.items.add(rating.item));
    r.data.ratings.push_back(rating.rating);
    r.rating_min = std::min(r.rating_min, rating.rating);
    r.rating_max = std::max(r.rating_max, rating.rating);
  }
  return r;
}

Recommender make_recommender(const IndexedRatings& indexed, MatrixFactorization model) {
  Recommender r{indexed.users,      indexed.items,     std::move(model), {},
                indexed.rating_min, indexed.rating_max};
  const Interactions& data = indexed.data;
  r.rated.resize(static_cast<std::size_t>(r.users.size()));
  for (std::size_t k = 0; k < data.size(); ++k) {
    r.rated[static_cast<std::size_t>(data.users[k])].push_back(data.items[k]);
  }
  for (auto& seen : r.rated) {
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  }
  return r;
}

Recommender train_recommender(const std::vector<Rating>& train, const MfOptions& options,
                              const std::function<void(const MfEpochReport&)>& on_epoch,
                              const std::function<void()>& between_batches) {
  options.validate();
  const IndexedRatings indexed = index_ratings(train);
  // Trained where it will live: the model is not moved after fit.
  Recommender r = make_recommender(
      indexed, MatrixFactorization(indexed.users.size(), indexed.items.size(), options));
  r.model.fit(indexed.data, on_epoch, between_batches);
  return r;
}

void Recommender::save(const std::filesystem::path& path) const {
  // load() refuses NaN or infinite parameters: never write a model it cannot load.
  for (const auto& [name, table] : model.named_parameters()) {
    const std::string problem = non_finite_tensor(table, name);
    if (!problem.empty()) throw ValueError("recommender model: not saved: " + problem);
  }
  const MfOptions& o = model.options();
  io::detail::ModelMetadataWriter meta(kFileFormat);
  meta.set_text("objective", objective_name(o.objective));
  meta.set_text("optimizer", optimizer_name(o.optimizer));
  meta.set_int("dim", o.dim);
  meta.set_int("epochs", o.epochs);
  meta.set_number("lr", o.lr);
  meta.set_number("l2", o.l2);
  meta.set_number("l2_bias", o.l2_bias);
  meta.set_int("batch_size", o.batch_size);
  meta.set_number("init_std", o.init_std);
  meta.set_uint("seed", o.seed);
  meta.set_number("rating_min", rating_min);
  meta.set_number("rating_max", rating_max);
  meta.set_lines("users", users.names());
  meta.set_lines("items", items.names());
  std::vector<std::int64_t> offsets{0};
  std::vector<std::int64_t> flat;
  for (const auto& seen : rated) {
    flat.insert(flat.end(), seen.begin(), seen.end());
    offsets.push_back(static_cast<std::int64_t>(flat.size()));
  }
  NamedTensors tensors = model.named_parameters();
  tensors.emplace_back("rated.offsets", Tensor::from_vector(offsets));
  tensors.emplace_back("rated.items", Tensor::from_vector(flat));
  io::save_checkpoint(path, tensors, {}, meta.metadata());
}

// Every size in the metadata (dim, the numbers of users and items) is checked against the
// tensors actually in the file before anything is built from it: a small file whose metadata
// lies must be refused at once, not after allocating what the metadata claims.
Recommender Recommender::load(const std::filesystem::path& path) {
  const std::string file = path.string();
  io::Checkpoint ck = io::read_checkpoint(path);
  const io::detail::ModelMetadataReader meta(file, std::move(ck.metadata), kFileFormat);
  auto fail = [&file](const std::string& what) -> void { throw IoError(file, what); };
  auto tensor = [&](const std::string& name) -> const Tensor& {
    for (const auto& [n, t] : ck.model) {
      if (n == name) return t;
    }
    fail("missing tensor '" + name + "'");
    return ck.model.front().second;  // unreachable
  };

  MfOptions o;
  try {
    o.objective = parse_objective(meta.text("objective"));
    o.optimizer = parse_optimizer(meta.text("optimizer"));
  } catch (const ValueError& e) {
    fail(e.what());
  }
  o.dim = meta.int64("dim");
  o.epochs = meta.int64("epochs");
  o.lr = meta.number("lr");
  o.l2 = meta.number("l2");
  o.l2_bias = meta.number("l2_bias");
  o.batch_size = meta.int64("batch_size");
  o.init_std = meta.number("init_std");
  o.seed = meta.uint64("seed");
  try {
    o.validate();
  } catch (const ValueError& e) {
    fail(e.what());
  }
  IdMap user_ids;
  IdMap item_ids;
  try {
    user_ids = IdMap::from_names(meta.lines("users"));
    item_ids = IdMap::from_names(meta.lines("items"));
  } catch (const ValueError& e) {
    fail(e.what());
  }
  const std::int64_t nu = user_ids.size();
  const std::int64_t ni = item_ids.size();
  if (nu < 1 || ni < 1) fail("the model has no users or no items");
  const auto min_rating = static_cast<float>(meta.number("rating_min"));
  const auto max_rating = static_cast<float>(meta.number("rating_max"));
  if (min_rating > max_rating) fail("rating_min > rating_max");

  auto expect = [&](const std::string& name, const Shape& shape, DType dtype) -> const Tensor& {
    const Tensor& t = tensor(name);
    if (t.shape() != shape || t.dtype() != dtype) {
      fail("tensor '" + name + "' should be " + std::string(dtype_name(dtype)) + " " +
           shape_string(shape) + ", found " + std::string(dtype_name(t.dtype())) + " " +
           shape_string(t.shape()));
    }
    return t;
  };
  // The five tables, in MatrixFactorization::named_parameters() order.
  const char* const names[] = {"user_factors.weight", "item_factors.weight", "user_bias.weight",
                               "item_bias.weight", "global_bias.weight"};
  const Shape shapes[] = {{nu, o.dim}, {ni, o.dim}, {nu, 1}, {ni, 1}, {1, 1}};
  std::vector<Tensor> tables;
  for (std::size_t k = 0; k < 5; ++k) {
    const Tensor& t = expect(names[k], shapes[k], DType::Float32);
    const std::string problem = non_finite_tensor(t, names[k]);
    if (!problem.empty()) fail(problem);
    tables.push_back(t);
  }

  // The rated-items index: offsets non-decreasing from 0 to the number of items listed, each
  // user's rows sorted and in range. All checked before any row is read through an offset.
  const Tensor& offsets_t = expect("rated.offsets", {nu + 1}, DType::Int64);
  const Tensor& flat_t = tensor("rated.items");
  if (flat_t.dim() != 1 || flat_t.dtype() != DType::Int64) {
    fail("tensor 'rated.items' should be a 1-D int64 tensor");
  }
  const std::int64_t* offsets = offsets_t.data<std::int64_t>();
  const std::int64_t* flat = flat_t.data<std::int64_t>();
  if (offsets[0] != 0 || offsets[nu] != flat_t.numel()) {
    fail("tensor 'rated.offsets' does not run from 0 to the length of 'rated.items'");
  }
  for (std::int64_t u = 0; u < nu; ++u) {
    if (offsets[u] > offsets[u + 1]) fail("tensor 'rated.offsets' is not non-decreasing");
  }
  for (std::int64_t u = 0; u < nu; ++u) {
    for (std::int64_t j = offsets[u]; j < offsets[u + 1]; ++j) {
      if (flat[j] < 0 || flat[j] >= ni || (j > offsets[u] && flat[j] <= flat[j - 1])) {
        fail("tensor 'rated.items' holds an out-of-range or unsorted item row");
      }
    }
  }

  // Everything matches: build the model over copies of the tables (the file's tensors may be
  // views into one buffer).
  Recommender r{std::move(user_ids),
                std::move(item_ids),
                MatrixFactorization(o, tables[0].clone(), tables[1].clone(), tables[2].clone(),
                                    tables[3].clone(), tables[4].clone()),
                {},
                min_rating,
                max_rating};
  r.rated.resize(static_cast<std::size_t>(nu));
  for (std::int64_t u = 0; u < nu; ++u) {
    r.rated[static_cast<std::size_t>(u)].assign(flat + offsets[u], flat + offsets[u + 1]);
  }
  return r;
}

RatingPrediction predict_rating(const Recommender& r, std::string_view user,
                                std::string_view item) {
  const auto u = r.users.find(user);
  const auto i = r.items.find(item);
  RatingPrediction p;
  p.user_known = u.has_value();
  p.item_known = i.has_value();
  const MatrixFactorization& m = r.model;
  if (u && i) {
    p.value = m.score(*u, *i);
  } else {
    float v = m.global_bias_value();
    if (u) v += m.user_bias_value(*u);
    if (i) v += m.item_bias_value(*i);
    p.value = v;
  }
  p.value = clip(r, p.value);
  return p;
}

RatingMetrics evaluate_ratings(const Recommender& r, const std::vector<Rating>& test) {
  RatingMetrics m;
  if (test.empty()) return m;
  const double g = r.model.global_bias_value();
  double se = 0.0;
  double ae = 0.0;
  double base = 0.0;
  for (const Rating& t : test) {
    const RatingPrediction p = predict_rating(r, t.user, t.item);
    if (!p.user_known && p.item_known) ++m.unknown_user;
    if (p.user_known && !p.item_known) ++m.unknown_item;
    if (!p.user_known && !p.item_known) ++m.unknown_both;
    const double e = static_cast<double>(p.value) - t.rating;
    se += e * e;
    ae += std::abs(e);
    const double eb = g - t.rating;
    base += eb * eb;
  }
  m.count = static_cast<std::int64_t>(test.size());
  const auto n = static_cast<double>(m.count);
  m.rmse = std::sqrt(se / n);
  m.mae = ae / n;
  m.baseline_rmse = std::sqrt(base / n);
  return m;
}

RankingMetrics evaluate_ranking(const Recommender& r, const std::vector<Rating>& test,
                                std::int64_t k, double min_rating) {
  RankingMetrics m;
  m.k = k;
  // Relevant items per test user, in order of first appearance of the user.
  std::vector<std::string> order;
  std::unordered_map<std::string, std::vector<std::int64_t>> relevant;
  for (const Rating& t : test) {
    if (!(static_cast<double>(t.rating) >= min_rating)) continue;
    auto [it, inserted] = relevant.try_emplace(t.user);
    if (inserted) order.push_back(t.user);
    const auto row = r.items.find(t.item);
    if (row) {
      it->second.push_back(*row);
    } else {
      // An unknown item can never be recommended: a distinct negative placeholder keeps it in
      // the denominator as a miss.
      it->second.push_back(-1 - static_cast<std::int64_t>(it->second.size()));
      ++m.unknown_items;
    }
  }
  const auto nusers = static_cast<std::int64_t>(order.size());
  std::vector<std::vector<std::int64_t>> lists(order.size());
  for (std::size_t q = 0; q < order.size(); ++q) lists[q] = std::move(relevant[order[q]]);
  std::vector<double> recall(order.size());
  std::vector<double> ndcg(order.size());
  std::vector<char> cold(order.size());
  static const std::vector<std::int64_t> kNone;
  parallel_for(nusers, 8, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t q = begin; q < end; ++q) {
      const auto uq = static_cast<std::size_t>(q);
      std::vector<std::int64_t>& rel = lists[uq];
      std::sort(rel.begin(), rel.end());
      rel.erase(std::unique(rel.begin(), rel.end()), rel.end());
      const auto u = r.users.find(order[uq]);
      cold[uq] = u ? 0 : 1;
      const auto& seen = u ? r.rated[static_cast<std::size_t>(*u)] : kNone;
      const std::vector<std::int64_t> ranked = top_k(user_scores(r, u), seen, k);
      recall[uq] = recall_at_k(ranked, rel, k);
      ndcg[uq] = ndcg_at_k(ranked, rel, k);
    }
  });
  for (std::size_t q = 0; q < order.size(); ++q) {
    m.recall += recall[q];
    m.ndcg += ndcg[q];
    m.cold_users += cold[q];
  }
  m.users = nusers;
  if (nusers > 0) {
    m.recall /= static_cast<double>(nusers);
    m.ndcg /= static_cast<double>(nusers);
  }
  return m;
}

TopN recommend(const Recommender& r, std::string_view user, std::int64_t k) {
  if (k < 1) throw ValueError("recommend: k must be >= 1");
  const auto u = r.users.find(user);
  TopN out;
  out.cold = !u;
  static const std::vector<std::int64_t> kNone;
  const std::vector<float> scores = user_scores(r, u);
  for (const std::int64_t row :
       top_k(scores, u ? r.rated[static_cast<std::size_t>(*u)] : kNone, k)) {
    const float score = scores[static_cast<std::size_t>(row)];
    Recommendation item{r.items.name(row), row, score};
    if (r.model.options().objective == MfObjective::Rating) item.predicted_rating = clip(r, score);
    out.items.push_back(std::move(item));
  }
  return out;
}

std::vector<Recommendation> similar_items(const Recommender& r, std::string_view item,
                                          std::int64_t k) {
  if (k < 1) throw ValueError("similar_items: k must be >= 1");
  if (!r.items.contains(item)) throw KeyError("item", item, "model");
  const vectors::KeyedVectors kv(r.items.names(), r.model.item_factors().weight());
  std::vector<Recommendation> out;
  for (const vectors::Neighbor& n : kv.most_similar(item, k)) {
    out.push_back({n.word, n.index, n.score});
  }
  return out;
}

}  // namespace embedkit::models
