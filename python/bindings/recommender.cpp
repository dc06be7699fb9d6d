// The recommender: biased matrix factorisation over explicit ratings or implicit feedback (BPR).
// python/embedkit/recommender.py gives it the names Surprise and implicit users expect; this
// file keeps embedkit's, with ids as strings (the Python class maps them).
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "arrays.hpp"
#include "bindings.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/models/matrix_factorization.hpp"
#include "embedkit/models/ratings.hpp"
#include "embedkit/models/recommender.hpp"

namespace embedkit::python {

namespace {

using models::MfOptions;
using models::Rating;
using models::Recommender;

// Ids are saved one per line, so an id must not be empty or hold a newline: refused here, before
// training, rather than when the model is saved.
void check_id(const std::string& id, const char* kind, std::size_t position) {
  if (id.empty()) {
    throw ValueError(std::string(kind) + " id at position " + std::to_string(position) +
                     " is empty");
  }
  if (id.find('\n') != std::string::npos || id.find('\r') != std::string::npos) {
    throw ValueError(std::string(kind) + " id at position " + std::to_string(position) +
                     " holds a line break");
  }
}

std::vector<Rating> to_ratings(const std::vector<std::string>& users,
                               const std::vector<std::string>& items,
                               const std::vector<float>& ratings) {
  if (users.size() != items.size() || users.size() != ratings.size()) {
    throw ValueError("users, items and ratings differ in length: " + std::to_string(users.size()) +
                     ", " + std::to_string(items.size()) + " and " +
                     std::to_string(ratings.size()));
  }
  std::vector<Rating> out(users.size());
  for (std::size_t k = 0; k < users.size(); ++k) {
    check_id(users[k], "user", k);
    check_id(items[k], "item", k);
    if (!std::isfinite(ratings[k])) {
      throw ValueError("rating at position " + std::to_string(k) + " is not finite");
    }
    out[k].user = users[k];
    out[k].item = items[k];
    out[k].rating = ratings[k];
    out[k].line = static_cast<std::int64_t>(k + 1);
  }
  return out;
}

MfOptions options_from(const std::string& objective, const std::string& optimizer, std::int64_t dim,
                       std::int64_t epochs, double lr, double l2, double l2_bias,
                       std::int64_t batch_size, double init_std, std::uint64_t seed) {
  MfOptions o;
  o.objective = models::parse_objective(objective);
  o.optimizer = models::parse_optimizer(optimizer);
  o.dim = dim;
  o.epochs = epochs;
  o.lr = lr;
  o.l2 = l2;
  o.l2_bias = l2_bias;
  o.batch_size = batch_size;
  o.init_std = init_std;
  o.seed = seed;
  o.validate();
  return o;
}

// Trains with the GIL released. Between mini-batches (every 0.05 s at most) and after every
// epoch, training takes the GIL and lets Python handle a pending signal (Ctrl-C:
// KeyboardInterrupt); after every epoch it also calls `on_epoch(epoch, loss, seconds)` when
// given. An exception from either stops training and propagates (the half-trained model is
// dropped).
Recommender train_released(const std::vector<Rating>& ratings, const MfOptions& options,
                           const py::object& on_epoch) {
  auto check_signals = [] {
    py::gil_scoped_acquire gil;
    raise_pending_signal();
  };
  auto report = [&on_epoch](const models::MfEpochReport& r) {
    py::gil_scoped_acquire gil;
    raise_pending_signal();
    if (!on_epoch.is_none()) on_epoch(r.epoch, r.loss, r.seconds);
  };
  py::gil_scoped_release release;
  return models::train_recommender(ratings, options, report, check_signals);
}

// on_epoch (a Python callable or None) as the report of a training across ranks (called without
// the GIL, on rank 0): it takes the GIL, lets Python handle a pending signal and calls on_epoch.
std::function<void(const models::MfEpochReport&)> epoch_reporter(const py::object& on_epoch) {
  return [&on_epoch](const models::MfEpochReport& r) {
    py::gil_scoped_acquire gil;
    raise_pending_signal();
    if (!on_epoch.is_none()) on_epoch(r.epoch, r.loss, r.seconds);
  };
}

py::dict metrics(const Recommender& r, const std::vector<Rating>& test, std::int64_t k,
                 double min_rating) {
  if (k < 1) throw ValueError("evaluate: k must be >= 1, got " + std::to_string(k));
  models::RatingMetrics rating;
  models::RankingMetrics ranking;
  const bool explicit_ratings = r.model.options().objective == models::MfObjective::Rating;
  {
    py::gil_scoped_release release;
    if (explicit_ratings) rating = models::evaluate_ratings(r, test);
    ranking = models::evaluate_ranking(r, test, k, min_rating);
  }
  py::dict out;
  if (explicit_ratings) {
    out["rmse"] = rating.rmse;
    out["mae"] = rating.mae;
    out["baseline_rmse"] = rating.baseline_rmse;
    out["count"] = rating.count;
    out["unknown_user"] = rating.unknown_user;
    out["unknown_item"] = rating.unknown_item;
    out["unknown_both"] = rating.unknown_both;
  }
  out["recall"] = ranking.recall;
  out["ndcg"] = ranking.ndcg;
  out["k"] = ranking.k;
  out["users"] = ranking.users;
  out["cold_users"] = ranking.cold_users;
  out["unknown_items"] = ranking.unknown_items;
  return out;
}

py::list scored(const std::vector<models::Recommendation>& items) {
  py::list out;
  for (const auto& r : items) out.append(py::make_tuple(r.item, r.score));
  return out;
}

}  // namespace

void bind_recommender(py::module_& m) {
  py::class_<Recommender>(m, "Recommender",
                          "A trained matrix-factorisation recommender over string ids "
                          "(embedkit's names; embedkit.Recommender gives the Python API).")
      .def_static(
          "train",
          [](const std::vector<std::string>& users, const std::vector<std::string>& items,
             const std::vector<float>& ratings, const std::string& objective,
             const std::string& optimizer, std::int64_t dim, std::int64_t epochs, double lr,
             double l2, double l2_bias, std::int64_t batch_size, double init_std,
             std::uint64_t seed, const py::object& on_epoch, const py::object& comm) {
            const MfOptions o = options_from(objective, optimizer, dim, epochs, lr, l2, l2_bias,
                                             batch_size, init_std, seed);
            if (!comm.is_none()) {
              return train_recommender_across(comm, to_ratings(users, items, ratings), o,
                                              epoch_reporter(on_epoch));
            }
            return train_released(to_ratings(users, items, ratings), o, on_epoch);
          },
          py::arg("users"), py::arg("items"), py::arg("ratings"), py::arg("objective"),
          py::arg("optimizer"), py::arg("dim"), py::arg("epochs"), py::arg("lr"), py::arg("l2"),
          py::arg("l2_bias"), py::arg("batch_size"), py::arg("init_std"), py::arg("seed"),
          py::arg("on_epoch") = py::none(), py::arg("comm") = py::none(),
          "Trains on parallel lists of user ids, item ids and ratings (GIL released). With comm "
          "(an mpi4py intracommunicator): across its ranks, the tables sharded "
          "(dist::train_recommender; collective, on_epoch on rank 0 only, every rank gets the "
          "model); the arguments must have passed check() on every rank first.")
      .def_static(
          "check",
          [](const std::vector<std::string>& users, const std::vector<std::string>& items,
             const std::vector<float>& ratings, const std::string& objective,
             const std::string& optimizer, std::int64_t dim, std::int64_t epochs, double lr,
             double l2, double l2_bias, std::int64_t batch_size, double init_std,
             std::uint64_t seed) {
            options_from(objective, optimizer, dim, epochs, lr, l2, l2_bias, batch_size, init_std,
                         seed);
            to_ratings(users, items, ratings);
          },
          py::arg("users"), py::arg("items"), py::arg("ratings"), py::arg("objective"),
          py::arg("optimizer"), py::arg("dim"), py::arg("epochs"), py::arg("lr"), py::arg("l2"),
          py::arg("l2_bias"), py::arg("batch_size"), py::arg("init_std"), py::arg("seed"),
          "Raises what train() would raise for these arguments before training (ValueError), "
          "without training: the check each rank runs before a training across ranks.")
      .def_static(
          "train_file",
          [](const std::string& path, const std::string& objective, const std::string& optimizer,
             std::int64_t dim, std::int64_t epochs, double lr, double l2, double l2_bias,
             std::int64_t batch_size, double init_std, std::uint64_t seed,
             const py::object& on_epoch) {
            const MfOptions o = options_from(objective, optimizer, dim, epochs, lr, l2, l2_bias,
                                             batch_size, init_std, seed);
            models::Ratings ratings;
            {
              py::gil_scoped_release release;
              ratings = models::read_ratings(path);
            }
            return train_released(ratings.rows, o, on_epoch);
          },
          py::arg("path"), py::arg("objective"), py::arg("optimizer"), py::arg("dim"),
          py::arg("epochs"), py::arg("lr"), py::arg("l2"), py::arg("l2_bias"),
          py::arg("batch_size"), py::arg("init_std"), py::arg("seed"),
          py::arg("on_epoch") = py::none(),
          "Trains on a ratings file (MovieLens CSV or whitespace-separated).")
      .def_static(
          "read_ratings",
          [](const std::string& path) {
            models::Ratings ratings;
            {
              py::gil_scoped_release release;
              ratings = models::read_ratings(path);
            }
            std::vector<std::string> users, items;
            std::vector<float> values;
            for (const Rating& r : ratings.rows) {
              users.push_back(r.user);
              items.push_back(r.item);
              values.push_back(r.rating);
            }
            return py::make_tuple(users, items, values);
          },
          py::arg("path"), "The (users, items, ratings) columns of a ratings file.")
      .def_static(
          "load", [](const std::string& path) { return Recommender::load(path); }, py::arg("path"),
          py::call_guard<py::gil_scoped_release>(), "Loads a model saved by save().")
      .def(
          "save", [](const Recommender& self, const std::string& path) { self.save(path); },
          py::arg("path"), py::call_guard<py::gil_scoped_release>(),
          "Saves the model in one file (safetensors), atomically.")
      .def(
          "predict",
          [](const Recommender& self, const std::string& user, const std::string& item) {
            const models::RatingPrediction p = models::predict_rating(self, user, item);
            return py::make_tuple(p.value, p.user_known, p.item_known);
          },
          py::arg("user"), py::arg("item"),
          "(score, user_known, item_known); unknown parts fall back to the biases.")
      .def(
          "recommend",
          [](const Recommender& self, const std::string& user, std::int64_t k) {
            models::TopN top;
            {
              py::gil_scoped_release release;
              top = models::recommend(self, user, k);
            }
            return py::make_tuple(top.cold, scored(top.items));
          },
          py::arg("user"), py::arg("k"),
          "(cold, [(item, score)]): the k best items the user did not rate in training.")
      .def(
          "similar_items",
          [](const Recommender& self, const std::string& item, std::int64_t k) {
            std::vector<models::Recommendation> items;
            {
              py::gil_scoped_release release;
              items = models::similar_items(self, item, k);
            }
            return scored(items);
          },
          py::arg("item"), py::arg("k"), "[(item, cosine)]: the k nearest items by their factors.")
      .def(
          "evaluate",
          [](const Recommender& self, const std::vector<std::string>& users,
             const std::vector<std::string>& items, const std::vector<float>& ratings,
             std::int64_t k, double min_rating) {
            return metrics(self, to_ratings(users, items, ratings), k, min_rating);
          },
          py::arg("users"), py::arg("items"), py::arg("ratings"), py::arg("k"),
          py::arg("min_rating") = -std::numeric_limits<double>::infinity(),
          "Rating metrics (rating objective) and ranking metrics (recall@k, NDCG@k).")
      .def(
          "rated_items",
          [](const Recommender& self, const std::string& user) {
            std::vector<std::string> out;
            const auto row = self.users.find(user);
            if (!row) throw KeyError("user", user, "model");
            for (const std::int64_t i : self.rated[static_cast<std::size_t>(*row)]) {
              out.push_back(self.items.name(i));
            }
            return out;
          },
          py::arg("user"), "The items the user rated in training (KeyError for an unknown user).")
      .def_property_readonly("users", [](const Recommender& self) { return self.users.names(); })
      .def_property_readonly("items", [](const Recommender& self) { return self.items.names(); })
      .def_property_readonly("options",
                             [](const Recommender& self) {
                               const MfOptions& o = self.model.options();
                               py::dict out;
                               out["objective"] = models::objective_name(o.objective);
                               out["optimizer"] = models::optimizer_name(o.optimizer);
                               out["dim"] = o.dim;
                               out["epochs"] = o.epochs;
                               out["lr"] = o.lr;
                               out["l2"] = o.l2;
                               out["l2_bias"] = o.l2_bias;
                               out["batch_size"] = o.batch_size;
                               out["init_std"] = o.init_std;
                               out["seed"] = o.seed;
                               return out;
                             })
      .def_property_readonly(
          "rating_range",
          [](const Recommender& self) { return py::make_tuple(self.rating_min, self.rating_max); })
      .def_property_readonly(
          "user_factors",
          [](Recommender& self) { return to_array(self.model.user_factors().weight()); })
      .def_property_readonly(
          "item_factors",
          [](Recommender& self) { return to_array(self.model.item_factors().weight()); })
      .def_property_readonly(
          "user_biases",
          [](Recommender& self) { return to_array(self.model.user_bias().weight()); })
      .def_property_readonly(
          "item_biases",
          [](Recommender& self) { return to_array(self.model.item_bias().weight()); })
      .def_property_readonly(
          "global_bias", [](const Recommender& self) { return self.model.global_bias_value(); });
}

}  // namespace embedkit::python
