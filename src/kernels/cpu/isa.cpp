#include "kernels/cpu/isa.hpp"

#include <atomic>
#include <cstdlib>
#include <string>

#include "embedkit/core/error.hpp"

namespace embedkit::kernels::cpu {

namespace {

constexpr int kAutomatic = -1;
std::atomic<int> g_override{kAutomatic};

Isa detect() {
#if defined(EMBEDKIT_X86_KERNELS)
  __builtin_cpu_init();
  // __builtin_cpu_supports also checks that the OS saves the wide registers (XCR0).
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("f16c");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512dq");
  if (avx512) return Isa::Avx512;
  if (avx2) return Isa::Avx2;
#endif
  return Isa::Generic;
}

std::optional<Isa> parse(std::string_view name) {
  if (name == "generic") return Isa::Generic;
  if (name == "avx2") return Isa::Avx2;
  if (name == "avx512") return Isa::Avx512;
  return std::nullopt;
}

// EMBEDKIT_ISA, when set to a supported level: read once.
Isa automatic() {
  static const Isa level = [] {
    const Isa best = detect();
    if (const char* env = std::getenv("EMBEDKIT_ISA")) {
      const std::optional<Isa> wanted = parse(env);
      if (wanted && static_cast<int>(*wanted) <= static_cast<int>(best)) return *wanted;
    }
    return best;
  }();
  return level;
}

}  // namespace

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::Generic:
      return "generic";
    case Isa::Avx2:
      return "avx2";
    case Isa::Avx512:
      return "avx512";
  }
  return "?";
}

Isa detected_isa() {
  static const Isa level = detect();
  return level;
}

bool isa_supported(Isa isa) {
  return static_cast<int>(isa) <= static_cast<int>(detected_isa());
}

Isa active_isa() {
  const int forced = g_override.load(std::memory_order_relaxed);
  return forced == kAutomatic ? automatic() : static_cast<Isa>(forced);
}

void set_isa_override(std::optional<Isa> isa) {
  if (isa && !isa_supported(*isa)) {
    throw ValueError("set_isa_override: this CPU or build does not support " +
                     std::string(isa_name(*isa)));
  }
  g_override.store(isa ? static_cast<int>(*isa) : kAutomatic, std::memory_order_relaxed);
}

}  // namespace embedkit::kernels::cpu
