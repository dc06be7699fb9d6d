// Row updates built twice: for the baseline instruction set and for x86-64 CPUs with FMA (which
// implies AVX), the copy picked once at load time by CPU feature (GCC's target_clones; not
// "arch=...", which matches CPU models and would leave an AMD CPU on the baseline copy). The
// optimizers follow PyTorch's fused multiply-adds (std::fma), which without FMA in the build is a
// libm call per element: that call and the scalar sqrt and division held the fused Adagrad step to
// ~3.5 ns per element (bench: step_adagrad). The FMA copy computes the same bits: fma, sqrt and
// division are correctly rounded either way, and the library is built with -ffp-contract=off, so
// nothing else is fused.
#pragma once

// Not under ThreadSanitizer: the resolver that picks the copy is an ifunc, run by the dynamic
// loader before the TSan runtime is initialised, and TSan instruments it (a crash at load).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#define EMBEDKIT_ROW_UPDATE_CLONES __attribute__((target_clones("fma", "default")))
#else
#define EMBEDKIT_ROW_UPDATE_CLONES
#endif
