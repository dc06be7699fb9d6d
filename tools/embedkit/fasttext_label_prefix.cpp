#include "fasttext_label_prefix.hpp"

#include "embedkit/core/error.hpp"

namespace embedkit::cli {

void check_fasttext_label_prefix(const std::string& path, const io::FastTextModelFile& model,
                                 const std::string& prefix, bool prefix_given) {
  for (const auto& entry : model.dictionary.labels) {
    if (entry.text.size() > prefix.size() && entry.text.rfind(prefix, 0) == 0) continue;
    throw IoError(path, "the model's label '" + entry.text + "' does not start with the label " +
                            "prefix '" + prefix + "'" +
                            (prefix_given ? std::string()
                                          : std::string(" (fastText's default; a model trained "
                                                        "with -label PREFIX needs --label-prefix "
                                                        "PREFIX)")));
  }
}

}  // namespace embedkit::cli
