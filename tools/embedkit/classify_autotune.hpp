// `embedkit classify train --autotune-validation FILE`: fastText's autotune options and the
// search, run with its progress on stderr (the search itself is models/autotune.hpp);
// classify.cpp then trains the final model with the options found, on the training lines.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "embedkit/models/autotune.hpp"
#include "json.hpp"

namespace embedkit::cli {

struct AutotuneArguments {
  std::string validation;  // "" : no autotune
  double duration = 300;
  std::string metric = "f1";
  std::int64_t predictions = 1;
  std::int64_t trials = 0;
  std::string model_size;  // fastText's -autotune-modelsize ("2M"); "" : none
};

// Adds --autotune-validation, -duration, -metric, -predictions, -trials and -modelsize.
void add_autotune_options(CLI::App* train, AutotuneArguments& a);

struct AutotuneOutcome {
  models::ClassifierOptions best;
  Json report;                  // the "autotune" object of `classify train --json`
  std::int64_t model_size = 0;  // bytes; 0: no target
  // With a model size: the best trial's quantization (its dsub is the final model's).
  std::optional<models::ModelSizeQuantization> quantization;
};

// A model-size trial's quantization as `classify train --json` reports it.
Json quantization_json(const models::ModelSizeQuantization& q);

// Searches from `start`, leaving alone the model options the user gave on `train`'s command
// line; writes the progress and then the chosen arguments to stderr.
AutotuneOutcome run_autotune(const AutotuneArguments& a, const CLI::App& train,
                             const std::vector<models::LabelledExample>& lines,
                             const std::vector<models::LabelledExample>& validation,
                             const models::ClassifierOptions& start);

}  // namespace embedkit::cli
