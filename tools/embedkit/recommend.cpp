// `embedkit recommend train | eval | topn | similar`: a matrix-factorization recommender over
// user-item ratings (MovieLens CSV or whitespace "user item rating [timestamp]" lines).
//
//   train RATINGS [-o MODEL]     holds out a test set (random or by time), trains, reports
//                                RMSE/MAE and recall@k/NDCG@k on it, saves the model
//   eval MODEL RATINGS           the same metrics for a saved model on a ratings file
//   topn MODEL USER...           each user's best unrated items, by the raw ranking score
//   similar MODEL ITEM...        items nearest by cosine of their factors
// topn and similar answer many users or items in one process: none or '-' reads them from
// standard input, --queries FILE from a file, one a line (batch_queries.hpp).
//
// Ratings files may hold "user item" pairs alone (implicit feedback, each rated 1): training
// then defaults to BPR. BPR scores rank; they are not ratings, so its reports hold the ranking
// metrics alone (recall@k, NDCG@k), not RMSE.
//
// Exit status: 0 success, 1 runtime error (bad file, unknown id...), 2 usage error. Models are
// written atomically, only after training succeeded.
//
// '-' stands for standard input (RATINGS, a MODEL to read, which is copied to a temporary file,
// --titles) and for standard output (--out: safetensors bytes, refused on a terminal; the
// summary then goes to stderr). Standard input can feed only one argument of a command. An
// output that is the RATINGS file itself (-o, or a file of --write-split) is refused.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "batch_queries.hpp"
#include "commands.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/core/thread_pool.hpp"
#include "embedkit/io/atomic_file.hpp"
#include "embedkit/models/item_titles.hpp"
#include "embedkit/models/rating_split.hpp"
#include "embedkit/models/ratings.hpp"
#include "embedkit/models/recommender.hpp"
#include "json.hpp"
#include "option_checks.hpp"
#include "progress_display.hpp"
#include "recommend_mpi.hpp"
#include "same_file.hpp"
#include "shared_options.hpp"
#include "std_streams.hpp"
#include "terminal_text.hpp"

namespace embedkit::cli {
namespace {

struct RecommendOptions {
  // train
  std::string ratings;
  std::string out;
  std::string split = "random";
  double test_fraction = 0.2;
  std::uint64_t split_seed = 42;
  std::optional<std::int64_t> cut_timestamp;
  std::string objective = "rating";
  std::string optimizer = "rowwise-adagrad";
  std::string write_split;
  bool verbose = false;
  bool objective_given = false;  // what the command line gave, for the presets
  bool l2_given = false;
  bool epochs_given = false;
  models::MfOptions mf;
  // eval / topn / similar
  std::string model;
  std::vector<std::string> ids;  // users (topn) or items (similar); none or '-': read them
  std::string queries;           // --queries FILE
  std::string titles;
  std::int64_t k = 10;
  double min_rating = -std::numeric_limits<double>::infinity();
  int threads = 0;
  bool json = false;
};

models::Ratings read_ratings_argument(const std::string& path) {
  if (is_std_stream(path))
    return models::parse_ratings(read_standard_input(), std::string(kStdinName));
  return models::read_ratings(path);
}

models::Recommender load_model_argument(const std::string& path) {
  const SpilledInput input(path, /*spill_non_regular=*/false);
  return input.run([&] { return models::Recommender::load(input.path()); });
}

void refuse_two_stdin_inputs(const std::string& a, const std::string& b, const char* names) {
  if (is_std_stream(a) && is_std_stream(b)) {
    throw ValueError(std::string(names) + " cannot both be '-' (standard input is read once)");
  }
}

void apply_threads(const RecommendOptions& o) {
  if (o.threads > 0) set_num_threads(o.threads);
}

Json rating_json(const models::RatingMetrics& m) {
  Json j = Json::object();
  j.set("count", m.count)
      .set("rmse", m.rmse)
      .set("mae", m.mae)
      .set("baseline_rmse", m.baseline_rmse)
      .set("unknown_user", m.unknown_user)
      .set("unknown_item", m.unknown_item)
      .set("unknown_both", m.unknown_both);
  return j;
}

Json ranking_json(const models::RankingMetrics& m) {
  Json j = Json::object();
  j.set("k", m.k)
      .set("recall", m.recall)
      .set("ndcg", m.ndcg)
      .set("users", m.users)
      .set("cold_users", m.cold_users)
      .set("unknown_items", m.unknown_items);
  return j;
}

void print_rating_metrics(std::ostream& out, const models::RatingMetrics& r) {
  out << "ratings: " << r.count << "  RMSE " << r.rmse << "  MAE " << r.mae
      << "  (global-mean baseline RMSE " << r.baseline_rmse << ")\n";
  out << "unknown ids (bias fallback): user " << r.unknown_user << ", item " << r.unknown_item
      << ", both " << r.unknown_both << '\n';
}

// BPR learns a ranking, not ratings: its scores are not on the rating scale, so RMSE and MAE
// would measure nothing; only the ranking metrics are reported for it.
bool reports_ratings(const models::Recommender& rec) {
  return rec.model.options().objective == models::MfObjective::Rating;
}

void print_metrics(std::ostream& out, const models::Recommender& rec,
                   const models::RatingMetrics& r, const models::RankingMetrics& k) {
  if (reports_ratings(rec)) print_rating_metrics(out, r);
  out << "top-" << k.k << ": recall " << k.recall << "  NDCG " << k.ndcg << "  over " << k.users
      << " users (" << k.cold_users << " cold), " << k.unknown_items
      << " relevant items unknown to the model\n";
}

// BPR's preset where the command line leaves them out (tuned on MovieLens latest-small:
// BENCHMARKS.md, "Recommender").
constexpr double kBprL2 = 0.01;
constexpr std::int64_t kBprEpochs = 30;

// The objective: as given, else BPR for implicit feedback (pairs rated 1 teach the rating
// objective nothing: it would predict 1 for everything) and the rating objective otherwise.
// BPR's preset fills what the command line leaves out.
void choose_objective(RecommendOptions& o, const models::Ratings& ratings) {
  if (ratings.implicit) {
    if (o.objective_given && o.objective == "rating") {
      throw ValueError(o.ratings +
                       " holds 'user item' pairs without ratings (implicit feedback, each "
                       "rated 1): the rating objective cannot learn from it; use --objective bpr");
    }
    o.objective = "bpr";
  }
  if (o.objective == "bpr") {
    if (!o.l2_given) o.mf.l2 = kBprL2;
    if (!o.epochs_given) o.mf.epochs = kBprEpochs;
  }
  o.mf.objective = models::parse_objective(o.objective);
  o.mf.validate();
}

int run_train(RecommendOptions& o) {
  apply_threads(o);
  o.mf.objective = models::parse_objective(o.objective);
  o.mf.optimizer = models::parse_optimizer(o.optimizer);
  o.mf.validate();
  std::vector<NamedFile> outputs{{"--output", o.out}};
  if (!o.write_split.empty()) {
    if (is_std_stream(o.write_split)) {
      throw ValueError(
          "--write-split takes a directory (it writes train.csv and test.csv), "
          "not '-'");
    }
    const std::filesystem::path dir(o.write_split);
    outputs.push_back({"--write-split's train.csv", (dir / "train.csv").string()});
    outputs.push_back({"--write-split's test.csv", (dir / "test.csv").string()});
  }
  refuse_outputs_over_inputs({{"RATINGS", o.ratings}}, outputs);
  // Opened before training so that an unwritable output fails at once; written after. Under
  // mpirun rank 0 alone checks it and drops the probe at once: a rank that fails makes mpirun
  // kill the others, and a probe held through training would be left behind.
  std::optional<io::AtomicFile> probe;
  if (is_std_stream(o.out)) {
    refuse_binary_on_terminal("a safetensors model");
  } else if (!o.out.empty() && !mpi_launch_size()) {
    probe.emplace(o.out);
  } else if (!o.out.empty() && mpi_launch_rank().value_or(0) == 0) {
    io::AtomicFile(o.out).discard();
  }
  const models::Ratings ratings = read_ratings_argument(o.ratings);
  choose_objective(o, ratings);
  models::SplitOptions so;
  so.method = o.split == "random"      ? models::SplitMethod::Random
              : o.split == "user-time" ? models::SplitMethod::UserTime
                                       : models::SplitMethod::GlobalTime;
  so.test_fraction = o.test_fraction;
  so.seed = o.split_seed;
  so.cut_timestamp = o.cut_timestamp;
  const models::RatingsSplit split = models::split_ratings(ratings, so);
  if (split.train.empty()) throw ValueError(o.ratings + ": no ratings left to train on");
  // Under mpirun every rank has made the same split: rank 0 alone writes it.
  if (!o.write_split.empty() && mpi_launch_rank().value_or(0) == 0) {
    const std::filesystem::path dir(o.write_split);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw IoError(o.write_split, "cannot create the directory: " + ec.message());
    models::write_ratings_csv(dir / "train.csv", split.train);
    models::write_ratings_csv(dir / "test.csv", split.test);
  }
  double seconds = 0.0;
  double train_loss = 0.0;
  // Progress comes once an epoch (on rank 0 alone under mpirun): a bar, or a line every few
  // seconds in a log; -v prints every epoch on a line of its own instead.
  ProgressDisplay progress("recommend train");
  const auto examples = static_cast<double>(split.train.size());
  const auto on_epoch = [&](const models::MfEpochReport& e) {
    seconds = e.seconds;
    train_loss = e.loss;
    if (o.verbose) {
      std::cerr << "epoch " << e.epoch << "  loss " << e.loss << "  " << e.seconds << " s\n";
      return;
    }
    const auto done = static_cast<double>(e.epoch);
    const auto epochs = static_cast<double>(o.mf.epochs);
    progress.update({.fraction = done / epochs,
                     .rate = e.seconds > 0 ? done * examples / e.seconds : 0.0,
                     .unit = ratings.implicit ? "pairs" : "ratings",
                     .loss = e.loss,
                     .lr = o.mf.lr,
                     .eta_seconds = e.seconds / done * (epochs - done)});
  };
  // Under mpirun: every rank has read and split the whole file (above); the tables are sharded
  // over the ranks and rank 0 alone evaluates, writes and reports (recommend_mpi.hpp).
  int ranks = 0;  // 0: not under mpirun
  std::optional<models::Recommender> trained;
  if (const std::optional<int> launched = mpi_launch_size(); launched) {
#if EMBEDKIT_CLI_WITH_MPI
    MpiTrained t = train_recommender_over_mpi(split.train, o.mf, on_epoch);
    if (t.rank != 0) {
      probe.reset();
      return 0;
    }
    ranks = t.ranks;
    trained = std::move(t.model);
#else
    if (*launched != 1) {
      throw ValueError(
          "this embedkit was built without MPI: under mpirun every process would train alone; "
          "run it without mpirun, or build it with MPI (EMBEDKIT_MPI=ON)");
    }
#endif
  }
  if (!trained) trained = models::train_recommender(split.train, o.mf, on_epoch);
  progress.finish(train_loss);
  models::Recommender& rec = *trained;
  if (is_std_stream(o.out)) {
    write_via_temp_file("model.safetensors",
                        [&](const std::filesystem::path& file) { rec.save(file); });
  } else if (!o.out.empty()) {
    probe.reset();  // drop the probe's temporary file; Recommender::save writes atomically
    rec.save(o.out);
  }
  std::ostream& summary = is_std_stream(o.out) ? std::cerr : std::cout;
  const models::RatingMetrics rm = models::evaluate_ratings(rec, split.test);
  const models::RankingMetrics km = models::evaluate_ranking(rec, split.test, o.k, o.min_rating);
  const bool rated = reports_ratings(rec);
  if (o.json) {
    Json j = Json::object();
    j.set("ratings", o.ratings)
        .set("model", o.out.empty() ? Json() : Json(o.out))
        .set("implicit", ratings.implicit)
        .set("split", o.split)
        .set("test_fraction", o.test_fraction)
        .set("split_seed", o.split_seed)
        .set("train_ratings", static_cast<std::int64_t>(split.train.size()))
        .set("test_ratings", static_cast<std::int64_t>(split.test.size()))
        .set("users", rec.users.size())
        .set("items", rec.items.size())
        .set("objective", o.objective)
        .set("optimizer", o.optimizer)
        .set("dim", o.mf.dim)
        .set("epochs", o.mf.epochs)
        .set("lr", o.mf.lr)
        .set("l2", o.mf.l2)
        .set("l2_bias", o.mf.l2_bias)
        .set("batch_size", o.mf.batch_size)
        .set("seed", o.mf.seed)
        .set("threads", 1)
        .set("mpi_ranks", ranks == 0 ? Json() : Json(std::int64_t{ranks}))
        .set("train_loss", train_loss)
        .set("train_seconds", seconds)
        .set("test", split.test.empty() || !rated ? Json() : rating_json(rm))
        .set("ranking", split.test.empty() ? Json() : ranking_json(km));
    summary << j.dump();
  } else {
    summary << "trained " << (o.objective == "bpr" ? "BPR" : "matrix factorization") << " on "
            << split.train.size() << (ratings.implicit ? " user-item pairs (" : " ratings (")
            << rec.users.size() << " users, " << rec.items.size() << " items) in " << seconds
            << " s on 1 thread"
            << (ranks > 0 ? " per rank, " + std::to_string(ranks) +
                                (ranks == 1 ? " MPI rank" : " MPI ranks") + " (sharded tables)"
                          : std::string())
            << ", final train loss " << train_loss << '\n';
    if (!split.test.empty()) print_metrics(summary, rec, rm, km);
    if (o.out.empty()) {
      summary << "the model was not saved (give -o FILE to keep it)\n";
    } else {
      summary << "wrote " << o.out << '\n';
    }
  }
  return 0;
}

int run_eval(RecommendOptions& o) {
  apply_threads(o);
  refuse_two_stdin_inputs(o.model, o.ratings, "MODEL and RATINGS");
  const models::Recommender rec = load_model_argument(o.model);
  const models::Ratings test = read_ratings_argument(o.ratings);
  const models::RatingMetrics rm = models::evaluate_ratings(rec, test.rows);
  const models::RankingMetrics km = models::evaluate_ranking(rec, test.rows, o.k, o.min_rating);
  if (o.json) {
    Json j = Json::object();
    j.set("model", o.model)
        .set("ratings", o.ratings)
        .set("test", reports_ratings(rec) ? rating_json(rm) : Json())
        .set("ranking", ranking_json(km));
    std::cout << j.dump();
  } else {
    print_metrics(std::cout, rec, rm, km);
  }
  return 0;
}

std::unordered_map<std::string, std::string> titles_of(const RecommendOptions& o) {
  if (o.titles.empty()) return {};
  const SpilledInput input(o.titles, /*spill_non_regular=*/false);
  return input.run([&] { return models::read_item_titles(input.path()); });
}

Json items_json(const std::vector<models::Recommendation>& items,
                const std::unordered_map<std::string, std::string>& titles) {
  Json a = Json::array();
  for (const auto& r : items) {
    Json j = Json::object();
    j.set("item", r.item).set("score", r.score);
    if (!std::isnan(r.predicted_rating)) j.set("predicted_rating", r.predicted_rating);
    const auto t = titles.find(r.item);
    if (t != titles.end()) j.set("title", t->second);
    a.push(std::move(j));
  }
  return a;
}

void print_items(const std::vector<models::Recommendation>& items,
                 const std::unordered_map<std::string, std::string>& titles) {
  for (const auto& r : items) {
    std::cout << r.item << '\t' << r.score;
    const auto t = titles.find(r.item);
    if (t != titles.end()) std::cout << '\t' << t->second;
    std::cout << '\n';
  }
}

// Answers each id of `o` (one on the command line as before; several, '-' or --queries FILE
// in blocks: batch_queries.hpp) with `answer`, which prints its block and returns its JSON.
int answer_each(RecommendOptions& o, const char* command,
                const std::function<Json(const std::string& id)>& answer) {
  if (!o.queries.empty() && !o.ids.empty()) {
    throw ValueError("give the ids either as arguments or with --queries, not both");
  }
  if (o.queries.empty() && (o.ids.empty() || o.ids == std::vector<std::string>{"-"})) {
    o.queries = "-";
  }
  if (o.queries.empty() && o.ids.size() == 1) {
    const Json j = answer(o.ids[0]);
    if (o.json) std::cout << j.dump();
    return 0;
  }
  QueryBlocks blocks(std::string("recommend ") + command, o.json);
  auto one = [&](const std::string& id) {
    blocks.answer(id, Json::object().set("id", id), [&] { return answer(id); });
  };
  if (o.queries.empty()) {
    for (const std::string& id : o.ids) one(id);
  } else {
    for_each_query_line(
        o.queries,
        std::string("Query ") + (std::string(command) == "topn" ? "user" : "item") + "? ", one);
  }
  return blocks.finish();
}

// The model, the titles and the queries: at most one of them from standard input.
void refuse_stdin_twice(const RecommendOptions& o) {
  refuse_two_stdin_inputs(o.model, o.titles, "MODEL and --titles");
  const bool queries_from_stdin =
      is_std_stream(o.queries) ||
      (o.queries.empty() && (o.ids.empty() || o.ids == std::vector<std::string>{"-"}));
  if (queries_from_stdin) {
    refuse_two_stdin_readers(o.model, "MODEL", "-");
    refuse_two_stdin_readers(o.titles, "--titles", "-");
  }
}

int run_topn(RecommendOptions& o) {
  refuse_stdin_twice(o);
  const models::Recommender rec = load_model_argument(o.model);
  const auto titles = titles_of(o);
  return answer_each(o, "topn", [&](const std::string& user) {
    const models::TopN top = models::recommend(rec, user, o.k);
    if (!o.json) {
      if (top.cold) {
        std::cerr << "note: user '" << printable(user)
                  << "' has no ratings in the model; ranking by item bias alone\n";
      }
      print_items(top.items, titles);
    }
    return Json::object()
        .set("user", user)
        .set("cold", top.cold)
        .set("items", items_json(top.items, titles));
  });
}

int run_similar(RecommendOptions& o) {
  refuse_stdin_twice(o);
  const models::Recommender rec = load_model_argument(o.model);
  const auto titles = titles_of(o);
  return answer_each(o, "similar", [&](const std::string& item) {
    const std::vector<models::Recommendation> items = models::similar_items(rec, item, o.k);
    if (!o.json) print_items(items, titles);
    Json j = Json::object();
    j.set("item", item);
    const auto t = titles.find(item);
    if (t != titles.end()) j.set("title", t->second);
    j.set("items", items_json(items, titles));
    return j;
  });
}

void add_k(CLI::App* app, RecommendOptions& o, const char* what) {
  add_result_count(app, o.k, what, in_range<std::int64_t>(1, 1000000))->capture_default_str();
}

void add_titles(CLI::App* app, RecommendOptions& o) {
  app->add_option("--titles", o.titles,
                  "CSV of 'id,title,...' (MovieLens movies.csv; '-': standard input)");
  add_hidden_alias(app, "--movies", o.titles);
}

}  // namespace

Command add_recommend(CLI::App& parent) {
  auto o = std::make_shared<RecommendOptions>();
  CLI::App* app = parent.add_subcommand(
      "recommend", "Matrix-factorization recommender: train, eval, topn, similar");
  app->require_subcommand(1);

  CLI::App* train = app->add_subcommand(
      "train",
      "Hold out a test set, train biased MF (or BPR), report RMSE/MAE (MF) and recall/NDCG");
  train
      ->add_option("RATINGS", o->ratings,
                   "Ratings: MovieLens CSV, 'user item rating [ts]', or 'user item' pairs "
                   "(implicit feedback, each rated 1; trains BPR) ('-': standard input)")
      ->required();
  add_output(train, o->out,
             "Write the trained model here (safetensors); '-': standard output (not a "
             "terminal), the summary then goes to stderr; without it the model is not saved",
             /*required=*/false, "", "--out");
  train->add_option("--split", o->split, "random, user-time (each user's latest) or global-time")
      ->check(CLI::IsMember({"random", "user-time", "global-time"}))
      ->capture_default_str();
  train->add_option("--test-fraction", o->test_fraction, "Share of ratings held out (0: none)")
      ->check(in_range<double>(0.0, 0.99))
      ->capture_default_str();
  train->add_option("--cut-timestamp", o->cut_timestamp,
                    "With --split global-time: test = ratings at or after this timestamp");
  train->add_option("--split-seed", o->split_seed, "Seed of the random split")
      ->check(uint64_value())
      ->capture_default_str();
  train->add_option("--write-split", o->write_split,
                    "Also write DIR/train.csv and DIR/test.csv (the exact split)");
  train
      ->add_option("--objective", o->objective,
                   "rating (explicit, squared error) or bpr (default for 'user item' pairs)")
      ->check(CLI::IsMember({"rating", "bpr"}))
      ->capture_default_str();
  train->add_option("--optimizer", o->optimizer, "sparse-adam or rowwise-adagrad")
      ->check(CLI::IsMember({"sparse-adam", "rowwise-adagrad"}))
      ->capture_default_str();
  train->add_option("--dim", o->mf.dim, "Factor dimension")
      ->check(in_range<std::int64_t>(1, 100000))
      ->capture_default_str();
  train->add_option("--epochs", o->mf.epochs, "Passes over the training ratings (bpr: 30)")
      ->check(in_range<std::int64_t>(0, 100000))
      ->capture_default_str();
  train->add_option("--lr", o->mf.lr, "Learning rate")
      ->check(positive<double>())
      ->capture_default_str();
  train->add_option("--l2", o->mf.l2, "L2 on factor rows, per lookup (bpr: 0.01)")
      ->check(non_negative<double>())
      ->capture_default_str();
  train->add_option("--l2-bias", o->mf.l2_bias, "L2 on user/item biases, per lookup")
      ->check(non_negative<double>())
      ->capture_default_str();
  train->add_option("--batch-size", o->mf.batch_size, "Ratings per step")
      ->check(in_range<std::int64_t>(1, 100000000))
      ->capture_default_str();
  train->add_option("--init-std", o->mf.init_std, "Std of the initial factors")
      ->check(non_negative<double>())
      ->capture_default_str();
  train->add_option("--seed", o->mf.seed, "Seed of initialisation, shuffles and negatives")
      ->check(uint64_value())
      ->capture_default_str();
  add_k(train, *o, "Cut-off of recall@k and NDCG@k");
  train
      ->add_option("--min-rating", o->min_rating,
                   "Test ratings below this are not relevant for recall/NDCG (default: all)")
      ->check(finite_number());
  train
      ->add_option("--threads", o->threads,
                   "Threads for evaluation (training is single-threaded; 0: all cores)")
      ->check(in_range<int>(0, 1024));
  train->add_flag("-v,--verbose", o->verbose, "Print each epoch's loss on stderr");
  train->add_flag("--json", o->json, "Print a machine-readable summary");

  CLI::App* eval = app->add_subcommand(
      "eval", "RMSE/MAE (MF; not BPR, whose scores are no ratings) and recall/NDCG of a model");
  eval->add_option("MODEL", o->model, "A model written by recommend train ('-': standard input)")
      ->required();
  eval->add_option("RATINGS", o->ratings,
                   "Held-out ratings (same layouts as train; '-': standard input)")
      ->required();
  add_k(eval, *o, "Cut-off of recall@k and NDCG@k");
  eval->add_option("--min-rating", o->min_rating,
                   "Ratings below this are not relevant for recall/NDCG (default: all)")
      ->check(finite_number());
  eval->add_option("--threads", o->threads, "Threads (0: all cores)")
      ->check(in_range<int>(0, 1024));
  eval->add_flag("--json", o->json, "Print a machine-readable summary");

  CLI::App* topn = app->add_subcommand(
      "topn",
      "Recommend items each user has not rated ('item<TAB>score[<TAB>title]', the raw ranking "
      "score; --json adds the predicted rating of MF)");
  topn->add_option("MODEL", o->model, "A model written by recommend train ('-': stdin)")
      ->required();
  topn->add_option("USER", o->ids,
                   "User ids as in the ratings file; none or '-': one a line from standard input");
  topn->add_option("--queries", o->queries, "Read the user ids, one a line, from this file");
  add_k(topn, *o, "How many items");
  add_titles(topn, *o);
  topn->add_flag("--json", o->json, "Print JSON");

  CLI::App* similar = app->add_subcommand("similar", "Items nearest to each item (cosine)");
  similar->add_option("MODEL", o->model, "A model written by recommend train ('-': stdin)")
      ->required();
  similar->add_option("ITEM", o->ids,
                      "Item ids as in the ratings file; none or '-': one a line from standard "
                      "input");
  similar->add_option("--queries", o->queries, "Read the item ids, one a line, from this file");
  add_k(similar, *o, "How many items");
  add_titles(similar, *o);
  similar->add_flag("--json", o->json, "Print JSON");

  return Command{app, [o, train, eval, topn, similar]() -> int {
                   if (train->parsed()) {
                     o->objective_given = train->count("--objective") > 0;
                     o->l2_given = train->count("--l2") > 0;
                     o->epochs_given = train->count("--epochs") > 0;
                     return run_train(*o);
                   }
                   if (eval->parsed()) return run_eval(*o);
                   if (topn->parsed()) return run_topn(*o);
                   if (similar->parsed()) return run_similar(*o);
                   return 2;
                 }};
}

}  // namespace embedkit::cli
