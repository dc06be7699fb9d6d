#include "embedkit/nn/unknown_ids.hpp"

namespace embedkit::nn {

namespace {
// splitmix64's finaliser: a fixed, well-mixed 64-bit hash (Steele, Lea & Flood, 2014).
std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
}  // namespace

std::int64_t UnknownIds::resolve(std::int64_t id, std::int64_t num_embeddings) const {
  switch (kind_) {
    case Kind::MapToRow:
      return row_;
    case Kind::Hash:
      return static_cast<std::int64_t>(splitmix64(static_cast<std::uint64_t>(id)) %
                                       static_cast<std::uint64_t>(num_embeddings));
    case Kind::Error:
      break;
  }
  return -1;  // unreachable: callers raise IndexError under the error policy
}

}  // namespace embedkit::nn
