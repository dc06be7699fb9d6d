// Which instruction-set variant of the fast kernels runs.
//
// The kernels are compiled three times from one template source (kernels_generic.cpp,
// kernels_avx2.cpp, kernels_avx512.cpp, each with its own -m flags) and the variant is picked
// per call from what the CPU supports. Tests and benchmarks force a lower level through
// set_isa_override (or the EMBEDKIT_ISA environment variable: generic, avx2, avx512).
#pragma once

#include <optional>
#include <string_view>

namespace embedkit::kernels::cpu {

enum class Isa {
  Generic,  // portable C++, whatever the compiler makes of it for the baseline target
  Avx2,     // AVX2 + FMA + F16C (x86-64-v3)
  Avx512,   // AVX-512 F/BW/VL/DQ + the AVX2 level
};

std::string_view isa_name(Isa isa);

// The best level this CPU (and this build) supports.
Isa detected_isa();

// The level kernels use now: the override if one is set, else EMBEDKIT_ISA if set (and
// supported), else detected_isa().
Isa active_isa();

// Forces a level (nullopt: back to automatic). Throws ValueError for a level the CPU lacks.
// Meant for tests and benchmarks; not thread-safe against kernels running at the same time.
void set_isa_override(std::optional<Isa> isa);

// Whether this CPU and build can run `isa`.
bool isa_supported(Isa isa);

}  // namespace embedkit::kernels::cpu
