// The name a user most likely meant: "did you mean `train`?" for `trian`, `--epochs` for
// `--epoch`. Distance is the optimal-string-alignment edit distance (insertions, deletions,
// substitutions and swaps of two neighbouring characters each cost 1), so the usual typos, a
// letter missing, doubled, wrong or swapped, are one step away.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace embedkit::cli {

inline std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  // Three rows of the dynamic-programming table: the swap looks two rows back.
  std::vector<std::size_t> before(m + 1), previous(m + 1), current(m + 1);
  for (std::size_t j = 0; j <= m; ++j) previous[j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t substitution = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[m];
}

// The candidate nearest to `typed`, or "" when none is near enough to be a plausible typo: at
// most 2 edits, or a third of the typed length for long names, and fewer edits than the name
// has letters (leading dashes apart: '-n' is no typo of '-k') (ties: the first candidate).
inline std::string nearest_name(std::string_view typed,
                                const std::vector<std::string>& candidates) {
  const std::size_t letters = typed.size() - std::min(typed.find_first_not_of('-'), typed.size());
  const std::size_t allowed =
      std::min(std::max<std::size_t>(2, typed.size() / 3), letters == 0 ? 0 : letters - 1);
  std::string best;
  std::size_t best_distance = allowed + 1;
  for (const std::string& candidate : candidates) {
    const std::size_t d = edit_distance(typed, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

}  // namespace embedkit::cli
