#include "nn/bags.hpp"

#include <cstdint>

#include "embedkit/core/error.hpp"
#include "kernels/cpu/index_checks.hpp"
#include "nn/embedding_checks.hpp"
#include "nn/ids.hpp"

namespace embedkit::nn::detail {

namespace {

// The offsets as int64, with room for the end bound that prepare_bags appends (so that the
// append does not copy them all again). check_bag_layout has checked their dtype and shape.
std::vector<std::int64_t> offsets_from_tensor(const Tensor& offsets) {
  const auto count = static_cast<std::size_t>(offsets.numel());
  std::vector<std::int64_t> off;
  off.reserve(count + 1);
  if (offsets.dtype() == DType::Int64) {
    const std::int64_t* p = offsets.data<std::int64_t>();
    off.assign(p, p + count);
  } else {
    const std::int32_t* p = offsets.data<std::int32_t>();
    off.assign(p, p + count);
  }
  return off;
}

// The first b at which the offsets stop being non-decreasing and within [0, n] (offsets[0]
// must be 0), or -1.
std::int64_t first_bad_offset(const std::vector<std::int64_t>& off, std::int64_t n) {
  if (off.empty()) return -1;
  if (off[0] != 0) return 0;
  return kernels::cpu::first_bad_bound(off.data(), static_cast<std::int64_t>(off.size()), n);
}

}  // namespace

Bags prepare_bags(const Tensor& ids, const Tensor& offsets, const Tensor& per_sample_weights,
                  const Tensor& weight, const EmbeddingBagFuncOptions& options,
                  const std::string& who) {
  check_bag_arguments(weight.desc(), ids.desc(), options, who);
  return prepare_bags_for_rows(ids, offsets, per_sample_weights, weight.size(0), weight.dtype(),
                               options, who);
}

Bags prepare_bags_for_rows(const Tensor& ids, const Tensor& offsets,
                           const Tensor& per_sample_weights, std::int64_t num_rows,
                           DType value_dtype, const EmbeddingBagFuncOptions& options,
                           const std::string& who) {
  check_unknown_ids(options.unknown_ids(), num_rows, who);

  Bags bags;
  const std::int64_t n = ids.numel();
  if (check_bag_layout(ids.desc(), offsets.desc(), who) == BagLayout::Rows) {
    // B bags of L ids each; include_last_offset has no meaning here and is ignored.
    bags.num_bags = ids.size(0);
    const std::int64_t length = ids.size(1);
    bags.bounds.resize(static_cast<std::size_t>(bags.num_bags + 1));
    for (std::int64_t b = 0; b <= bags.num_bags; ++b) bags.bounds[b] = b * length;
  } else {
    std::vector<std::int64_t> off = offsets_from_tensor(offsets);
    const auto count = static_cast<std::int64_t>(off.size());
    if (const std::int64_t b = first_bad_offset(off, n); b >= 0) {
      throw bad_offset_error(b, off[b], b > 0 ? off[b - 1] : 0, n, who);
    }
    bags.num_bags =
        offsets_bag_count(count, count > 0 ? off.back() : 0, n, options.include_last_offset(), who);
    bags.bounds = std::move(off);
    if (!options.include_last_offset()) bags.bounds.push_back(n);
  }

  check_per_sample_weights(per_sample_weights.desc(), ids.desc(), options.mode(), value_dtype, who);
  if (per_sample_weights.defined()) bags.per_sample_weights = per_sample_weights.reshape({n});
  bags.rows = resolve_ids(ids, num_rows, options.unknown_ids(), "ids").reshape({n});
  return bags;
}

}  // namespace embedkit::nn::detail
