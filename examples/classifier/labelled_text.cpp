#include "labelled_text.hpp"

namespace embedkit::examples {

std::vector<LabelledSentence> read_labelled_text(const std::string& path, TextFormat format) {
  models::LabelledTextOptions options;
  options.format = format;
  options.lowercase = true;
  std::vector<LabelledSentence> out;
  for (models::LabelledExample& e : models::read_labelled_text(path, options)) {
    out.push_back({std::move(e.labels.front()), std::move(e.words)});
  }
  return out;
}

}  // namespace embedkit::examples
