// Refusing an output that is one of the command's inputs: `embedkit train c.txt c.txt` would
// otherwise replace the corpus with the vectors trained on it. Files are compared by identity
// (device and inode), so another spelling of the path, a hard link or a symbolic link to an
// input is caught too; outputs that do not exist yet are compared by their normalised absolute
// paths, so two outputs of one command cannot name one file either. '-' (a standard stream)
// and empty arguments are skipped.
#pragma once

#include <string>
#include <vector>

namespace embedkit::cli {

struct NamedFile {
  std::string role;  // how messages call it: "the corpus", "OUT"
  std::string path;
};

// Throws ValueError naming both arguments when an output is an input or another output.
void refuse_outputs_over_inputs(const std::vector<NamedFile>& inputs,
                                const std::vector<NamedFile>& outputs);

}  // namespace embedkit::cli
