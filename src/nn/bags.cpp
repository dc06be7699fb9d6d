#include "nn/bags.hpp"

#include <cstdint>

#include "embedkit/core/error.hpp"
#include "kernels/cpu/index_checks.hpp"
#include "nn/ids.hpp"

namespace embedkit::nn::detail {

namespace {

// The offsets as int64, with room for the end bound that prepare_bags appends (so that the
// append does not copy them all again).
std::vector<std::int64_t> offsets_from_tensor(const Tensor& offsets, const std::string& who) {
  if (!is_index(offsets.dtype())) {
    throw TypeError(who + ": offsets must be int32 or int64, got " +
                    std::string(dtype_name(offsets.dtype())));
  }
  if (offsets.dim() != 1) {
    throw ValueError(who + ": offsets must be 1-D, got shape " + shape_string(offsets.shape()));
  }
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
  check_table(weight, who);
  const std::int64_t num_rows = weight.size(0);
  check_ids_dtype(ids, "ids");
  const BagMode mode = options.mode();
  if (mode == BagMode::Max && options.sparse()) {
    throw ValueError(who + ": max mode does not support sparse gradients");
  }
  if (mode == BagMode::Max && options.scale_grad_by_freq()) {
    throw ValueError(who + ": max mode does not support scale_grad_by_freq");
  }
  if (options.sparse() && options.scale_grad_by_freq()) {
    throw ValueError(who + ": scale_grad_by_freq is not supported with sparse gradients");
  }
  normalize_padding_idx(options.padding_idx(), num_rows, who);
  check_max_norm(options.max_norm(), options.norm_type(), who);
  check_unknown_ids(options.unknown_ids(), num_rows, who);

  Bags bags;
  const std::int64_t n = ids.numel();
  if (ids.dim() == 2) {
    if (offsets.defined()) {
      throw ValueError(who + ": offsets must not be given with 2-D ids (each row of ids is a bag)");
    }
    // B bags of L ids each; include_last_offset has no meaning here and is ignored.
    bags.num_bags = ids.size(0);
    const std::int64_t length = ids.size(1);
    bags.bounds.resize(static_cast<std::size_t>(bags.num_bags + 1));
    for (std::int64_t b = 0; b <= bags.num_bags; ++b) bags.bounds[b] = b * length;
  } else if (ids.dim() == 1) {
    if (!offsets.defined()) throw ValueError(who + ": 1-D ids need offsets");
    std::vector<std::int64_t> off = offsets_from_tensor(offsets, who);
    const auto count = static_cast<std::int64_t>(off.size());
    if (const std::int64_t b = first_bad_offset(off, n); b >= 0) {
      if (b == 0 && off[0] != 0) {
        throw ValueError(who + ": offsets[0] must be 0, got " + std::to_string(off[0]));
      }
      if (b > 0 && off[b] < off[b - 1]) {
        throw ValueError(who + ": offsets must be non-decreasing, but offsets[" +
                         std::to_string(b) + "] = " + std::to_string(off[b]) + " < offsets[" +
                         std::to_string(b - 1) + "] = " + std::to_string(off[b - 1]));
      }
      if (off[b] > n) {
        throw ValueError(who + ": offsets[" + std::to_string(b) + "] = " + std::to_string(off[b]) +
                         " is past the end of the " + std::to_string(n) + " ids");
      }
    }
    if (options.include_last_offset()) {
      if (count == 0) {
        throw ValueError(who + ": include_last_offset needs at least one offset");
      }
      if (off.back() != n) {
        throw ValueError(
            who + ": with include_last_offset the last offset must equal the number of ids (" +
            std::to_string(n) + "), got " + std::to_string(off.back()));
      }
      bags.num_bags = count - 1;
      bags.bounds = std::move(off);
    } else {
      if (count == 0 && n > 0) {
        throw ValueError(who + ": offsets is empty, so the " + std::to_string(n) +
                         " ids belong to no bag");
      }
      bags.num_bags = count;
      bags.bounds = std::move(off);
      bags.bounds.push_back(n);
    }
  } else {
    throw ValueError(who + ": ids must be 1-D (with offsets) or 2-D, got shape " +
                     shape_string(ids.shape()));
  }

  if (per_sample_weights.defined()) {
    if (mode != BagMode::Sum) {
      throw ValueError(who + ": per_sample_weights are only supported with mode sum, not " +
                       bag_mode_name(mode));
    }
    if (per_sample_weights.dtype() != weight.dtype()) {
      throw TypeError(who + ": per_sample_weights are " +
                      std::string(dtype_name(per_sample_weights.dtype())) + " but the table is " +
                      std::string(dtype_name(weight.dtype())));
    }
    if (per_sample_weights.shape() != ids.shape()) {
      throw ValueError(who + ": per_sample_weights must have the shape of ids " +
                       shape_string(ids.shape()) + ", got " +
                       shape_string(per_sample_weights.shape()));
    }
    bags.per_sample_weights = per_sample_weights.reshape({n});
  }
  bags.rows = resolve_ids(ids, num_rows, options.unknown_ids(), "ids").reshape({n});
  return bags;
}

}  // namespace embedkit::nn::detail
