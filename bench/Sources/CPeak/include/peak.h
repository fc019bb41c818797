// Arithmetic peak loops: independent chains of 512-bit FMAs (fp32) or VDPBF16PS (bf16), enough of them to
// cover the instructions' latency, so that the loop runs at the core's issue rate.
#ifndef SLUICE_PEAK_H
#define SLUICE_PEAK_H

/// Floating-point operations per call of each loop body iteration.
#define SLUICE_PEAK_FP32_FLOPS_PER_ITERATION (16 * 16 * 2)
#define SLUICE_PEAK_BF16_FLOPS_PER_ITERATION (16 * 32 * 2)

/// Runs `iterations` iterations of 16 chained `vfmadd231ps zmm` (16 lanes × 2 flops each); returns a value
/// that depends on every result.
float sluice_peak_fp32(long iterations);
/// The same with `vdpbf16ps zmm` (32 bf16 products summed pairwise into 16 fp32 lanes: 64 flops each).
float sluice_peak_bf16(long iterations);
/// Whether the CPU has AVX-512F and AVX512-BF16.
int sluice_peak_has_avx512(void);
int sluice_peak_has_bf16(void);

#endif
