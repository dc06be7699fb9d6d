// The label prefix of a fastText model file, which the file does not store: `classify test` and
// `classify predict` read their input with it, `quantize --retrain` its training file.
#pragma once

#include <string>

#include "embedkit/io/fasttext_model.hpp"

namespace embedkit::cli {

// Every label of `model` (read from `path`) must start with `prefix` and be longer: a label
// without it could never be matched by a line read with that prefix. Otherwise an IoError
// naming the label, before any work; when the prefix was not given (fastText's default), the
// message names --label-prefix, the way out for a model trained with fastText's -label.
void check_fasttext_label_prefix(const std::string& path, const io::FastTextModelFile& model,
                                 const std::string& prefix, bool prefix_given);

}  // namespace embedkit::cli
