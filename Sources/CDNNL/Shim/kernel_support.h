// What Sluice's own kernels beside oneDNN's primitives share: work split across oneDNN's OpenMP threads,
// the CPU check, and int8 rounding.
#ifndef SLUICE_DNNL_KERNEL_SUPPORT_H
#define SLUICE_DNNL_KERNEL_SUPPORT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/// Calls `share(context, thread, threads)` once on each of the calling thread's OpenMP threads (its
/// omp_set_num_threads count, as oneDNN's primitives use), or once on the calling thread where oneDNN's
/// runtime is not OpenMP.
void sldnn_parallel(void (*share)(void *context, size_t thread, size_t threads), void *context);

/// Whether the CPU has AVX-512 F (cached).
int sldnn_has_avx512(void);

/// round(x) to nearest even (the current rounding mode, as oneDNN's conversions), saturated to u8 or s8;
/// NaN gives the lowest value.
static inline int32_t sldnn_round_saturated(float x, int to_unsigned) {
    float r = nearbyintf(x);
    float lo = to_unsigned ? 0.0f : -128.0f, hi = to_unsigned ? 255.0f : 127.0f;
    if (!(r >= lo)) return (int32_t)lo;
    return (int32_t)(r > hi ? hi : r);
}

#endif
