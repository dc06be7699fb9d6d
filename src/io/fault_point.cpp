#include "io/fault_point.hpp"

#include <atomic>

namespace embedkit::io::detail {
namespace {

std::atomic<FaultHook> g_hook{nullptr};

}  // namespace

void set_fault_hook(FaultHook hook) {
  g_hook.store(hook, std::memory_order_release);
}

void fault_point(std::string_view point) {
  if (const FaultHook hook = g_hook.load(std::memory_order_acquire)) hook(point);
}

}  // namespace embedkit::io::detail
