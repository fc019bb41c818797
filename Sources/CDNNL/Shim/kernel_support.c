#include "kernel_support.h"

#include <dlfcn.h>
#include <pthread.h>

// libgomp's entry point for a parallel region (what GCC emits for `#pragma omp parallel`), so Sluice's
// kernels run on the threads oneDNN's primitives use: no second pool competes with them for the cores.
// Looked up at run time: a TBB or sequential oneDNN links and runs too, on the calling thread.
typedef void (*gomp_parallel_fn)(void (*)(void *), void *, unsigned, unsigned);
typedef int (*omp_int_fn)(void);
static gomp_parallel_fn gomp_parallel;
static omp_int_fn omp_thread_num, omp_num_threads, omp_max_threads;
static pthread_once_t openmp_once = PTHREAD_ONCE_INIT;

static void find_openmp(void) {
    gomp_parallel = (gomp_parallel_fn)dlsym(RTLD_DEFAULT, "GOMP_parallel");
    omp_thread_num = (omp_int_fn)dlsym(RTLD_DEFAULT, "omp_get_thread_num");
    omp_num_threads = (omp_int_fn)dlsym(RTLD_DEFAULT, "omp_get_num_threads");
    omp_max_threads = (omp_int_fn)dlsym(RTLD_DEFAULT, "omp_get_max_threads");
    if (!omp_thread_num || !omp_num_threads || !omp_max_threads) gomp_parallel = NULL;
}

typedef struct {
    void (*share)(void *, size_t, size_t);
    void *context;
} region;

static void run_region(void *argument) {
    const region *r = argument;
    r->share(r->context, (size_t)omp_thread_num(), (size_t)omp_num_threads());
}

void sldnn_parallel(void (*share)(void *context, size_t thread, size_t threads), void *context) {
    pthread_once(&openmp_once, find_openmp);
    // One thread: no region at all, as oneDNN does.
    if (!gomp_parallel || omp_max_threads() <= 1) {
        share(context, 0, 1);
        return;
    }
    region r = {share, context};
    gomp_parallel(run_region, &r, 0, 0);
}

int sldnn_has_avx512(void) {
#if defined(__x86_64__)
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") ? 1 : 0;
    }
    return cached;
#else
    return 0;
#endif
}
