#include "embedkit/core/error.hpp"

namespace embedkit {

namespace {
std::string index_message(const std::string& what_ids, std::int64_t position, std::int64_t value,
                          std::int64_t low, std::int64_t high) {
  return what_ids + ": value " + std::to_string(value) + " at position " +
         std::to_string(position) + " is outside the valid range [" + std::to_string(low) + ", " +
         std::to_string(high) + ")";
}
}  // namespace

IndexError::IndexError(const std::string& what_ids, std::int64_t position, std::int64_t value,
                       std::int64_t low, std::int64_t high)
    : Error(index_message(what_ids, position, value, low, high)),
      position_(position),
      value_(value),
      low_(low),
      high_(high) {}

KeyError::KeyError(std::string_view kind, std::string_view key, std::string_view container)
    : ValueError(std::string(kind) + " '" + std::string(key) + "' is not in the " +
                 std::string(container)),
      key_(key) {}

}  // namespace embedkit
