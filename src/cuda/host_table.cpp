#include "embedkit/cuda/host_table.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "cuda/launch.hpp"
#include "nn/embedding_checks.hpp"
#include "nn/ids.hpp"

namespace embedkit::cuda {

using detail::check_status;

namespace {

// A CUDA event, created on construction, destroyed with the object.
class Event {
 public:
  Event() { check_status(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming), "event"); }
  ~Event() { cudaEventDestroy(event_); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

class Stream {
 public:
  Stream() { check_status(cudaStreamCreate(&stream_), "stream"); }
  ~Stream() { cudaStreamDestroy(stream_); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

// One planned batch: its arrays live in mapped pinned memory, read by the kernels in place.
struct Staged {
  PinnedBuffer buffer;  // [ids n][slot_of n][fill_rows m][fill_slots m], int64
  std::vector<std::int64_t> ids;
  Shape shape;
  std::int64_t fills = 0;
  bool valid = false;
  bool queued = false;  // events below have been recorded
  Event filled;         // the fills are done (copy stream)
  Event used;           // the lookup that read the arrays is done (compute stream)
};

}  // namespace

struct HostTable::Impl {
  PinnedBuffer table;
  std::int64_t num_rows = 0;
  std::int64_t dim = 0;
  DType dtype = DType::Float32;
  std::size_t row_bytes = 0;
  RowCache cache;
  DeviceBuffer slots;
  Stream copy;
  Stream compute;
  std::array<Staged, 2> staged;
  int next = 0;    // the Staged the next plan goes to
  int ready = -1;  // the Staged holding the last prefetched plan, or -1
  HostTableStats stats;

  Impl(std::int64_t capacity, int ways) : cache(capacity, ways, 2) {}

  int stage(const Tensor& ids) {
    const Tensor rows = nn::detail::resolve_ids(ids, num_rows, nn::UnknownIds::error(), "ids");
    std::vector<std::int64_t> v = rows.to_int64_vector();
    const int k = next;
    next = 1 - next;
    Staged& s = staged[static_cast<std::size_t>(k)];
    if (s.queued) {  // the arrays of the batch before last may still be read
      check_status(cudaEventSynchronize(s.used.get()), "wait for a lookup");
      check_status(cudaEventSynchronize(s.filled.get()), "wait for cache fills");
    }
    const CachePlan p = cache.plan(v);
    const auto n = static_cast<std::int64_t>(v.size());
    const auto m = static_cast<std::int64_t>(p.fill_rows.size());
    const auto bytes = static_cast<std::size_t>(2 * n + 2 * m) * sizeof(std::int64_t);
    if (s.buffer.size() < bytes) s.buffer = PinnedBuffer(std::max(bytes, 2 * s.buffer.size()));
    auto* base = static_cast<std::int64_t*>(s.buffer.host());
    if (n > 0) {
      std::memcpy(base, v.data(), static_cast<std::size_t>(n) * 8);
      std::memcpy(base + n, p.slot_of.data(), static_cast<std::size_t>(n) * 8);
    }
    if (m > 0) {
      std::memcpy(base + 2 * n, p.fill_rows.data(), static_cast<std::size_t>(m) * 8);
      std::memcpy(base + 2 * n + m, p.fill_slots.data(), static_cast<std::size_t>(m) * 8);
    }
    auto* dev = static_cast<std::int64_t*>(s.buffer.device());
    detail::fill_slots(table.device(), row_bytes, dev + 2 * n, dev + 2 * n + m, m, slots.data(),
                       copy.get());
    check_status(cudaEventRecord(s.filled.get(), copy.get()), "record fills");
    s.ids = std::move(v);
    s.shape = ids.shape();
    s.fills = m;
    s.valid = true;
    s.queued = true;
    stats.row_bytes_moved += (m + p.bypassed) * static_cast<std::int64_t>(row_bytes);
    stats.index_bytes_moved += (2 * n + 2 * m) * 8;
    return k;
  }
};

HostTable::HostTable(const Tensor& table, std::int64_t cache_rows, int ways) {
  nn::detail::check_table(table.desc(), "cuda::HostTable");
  if (cache_rows < 0) throw ValueError("cuda::HostTable: cache_rows must be >= 0");
  const std::int64_t rows = table.size(0);
  impl_ = std::make_unique<Impl>(std::min(cache_rows, rows), ways);
  impl_->num_rows = rows;
  impl_->dim = table.size(1);
  impl_->dtype = table.dtype();
  impl_->row_bytes = static_cast<std::size_t>(impl_->dim) * dtype_size(table.dtype());
  impl_->table = PinnedBuffer(table.nbytes());
  if (table.nbytes() > 0) std::memcpy(impl_->table.host(), table.raw_data(), table.nbytes());
  impl_->slots = DeviceBuffer(static_cast<std::size_t>(impl_->cache.capacity()) * impl_->row_bytes);
}

HostTable::~HostTable() = default;

void HostTable::prefetch(const Tensor& ids) {
  impl_->ready = impl_->stage(ids);
}

void HostTable::forward_into(const Tensor& ids, DeviceTensor& out) {
  Impl& im = *impl_;
  nn::detail::check_ids_dtype(ids.desc(), "ids");
  Shape shape = ids.shape();
  shape.push_back(im.dim);
  if (!out.defined() || out.shape() != shape || out.dtype() != im.dtype) {
    throw ValueError("cuda::HostTable: out must be a " + std::string(dtype_name(im.dtype)) +
                     " device tensor of shape " + shape_string(shape));
  }
  int k = im.ready;
  if (k >= 0) {
    const Staged& s = im.staged[static_cast<std::size_t>(k)];
    const std::vector<std::int64_t> v = ids.to_int64_vector();
    if (!s.valid || s.shape != ids.shape() || s.ids != v) k = -1;
  }
  if (k < 0) k = im.stage(ids);
  im.ready = -1;
  Staged& s = im.staged[static_cast<std::size_t>(k)];
  s.valid = false;
  const auto n = static_cast<std::int64_t>(s.ids.size());
  auto* dev = static_cast<std::int64_t*>(s.buffer.device());
  check_status(cudaStreamWaitEvent(im.compute.get(), s.filled.get(), 0), "wait for fills");
  detail::gather_cached(im.table.device(), im.slots.data(), im.row_bytes, dev, dev + n, n,
                        out.raw_data(), im.compute.get());
  check_status(cudaEventRecord(s.used.get(), im.compute.get()), "record lookup");
}

DeviceTensor HostTable::forward(const Tensor& ids) {
  nn::detail::check_ids_dtype(ids.desc(), "ids");
  Shape shape = ids.shape();
  shape.push_back(impl_->dim);
  DeviceTensor out = DeviceTensor::empty(shape, impl_->dtype);
  forward_into(ids, out);
  return out;
}

std::int64_t HostTable::num_rows() const {
  return impl_->num_rows;
}
std::int64_t HostTable::dim() const {
  return impl_->dim;
}
DType HostTable::dtype() const {
  return impl_->dtype;
}

HostTableStats HostTable::stats() const {
  HostTableStats s = impl_->stats;
  s.cache = impl_->cache.stats();
  return s;
}

void HostTable::reset_stats() {
  impl_->stats = HostTableStats();
  impl_->cache.reset_stats();
}

void HostTable::synchronize() {
  check_status(cudaStreamSynchronize(impl_->copy.get()), "synchronize copies");
  check_status(cudaStreamSynchronize(impl_->compute.get()), "synchronize lookups");
}

}  // namespace embedkit::cuda
