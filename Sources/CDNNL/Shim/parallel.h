// Work split across oneDNN's OpenMP threads, for Sluice's own kernels beside oneDNN's primitives.
#ifndef SLUICE_DNNL_PARALLEL_H
#define SLUICE_DNNL_PARALLEL_H

#include <stddef.h>

/// Calls `share(context, thread, threads)` once on each of the calling thread's OpenMP threads (its
/// omp_set_num_threads count, as oneDNN's primitives use), or once on the calling thread where oneDNN's
/// runtime is not OpenMP.
void sldnn_parallel(void (*share)(void *context, size_t thread, size_t threads), void *context);

/// Whether the CPU has AVX-512 F (cached).
int sldnn_has_avx512(void);

#endif
