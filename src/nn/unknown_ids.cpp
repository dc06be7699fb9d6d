#include "embedkit/nn/unknown_ids.hpp"

#include "core/splitmix64.hpp"

namespace embedkit::nn {

std::int64_t UnknownIds::resolve(std::int64_t id, std::int64_t num_embeddings) const {
  switch (kind_) {
    case Kind::MapToRow:
      return row_;
    case Kind::Hash:
      return static_cast<std::int64_t>(detail::splitmix64_hash(static_cast<std::uint64_t>(id)) %
                                       static_cast<std::uint64_t>(num_embeddings));
    case Kind::Error:
      break;
  }
  return -1;  // unreachable: callers raise IndexError under the error policy
}

}  // namespace embedkit::nn
