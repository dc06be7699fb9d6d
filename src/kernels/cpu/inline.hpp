// EMBEDKIT_ALWAYS_INLINE: for the small lane helpers (vec_*.hpp) and row loops of the kernels.
// A row copy or a vector load that stays a call costs more than the work it does; GCC does not
// always inline them on its own once the kernels grow (seen: the 512-byte row copy of the
// AVX2 gather, 3x slower as a call).
#pragma once

#if defined(__GNUC__)
#define EMBEDKIT_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define EMBEDKIT_ALWAYS_INLINE inline
#endif
