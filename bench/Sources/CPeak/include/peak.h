// Arithmetic peak loops: independent chains of 512-bit FMAs (fp32) or VDPBF16PS (bf16), enough of them to
// cover the instructions' latency, so that the loop runs at the core's issue rate.
#ifndef SLUICE_PEAK_H
#define SLUICE_PEAK_H

// Operations per loop iteration: 16 instructions × 32 (fp32), 64 (bf16) or 128 (int8) operations.

/// Runs `iterations` iterations of 16 chained `vfmadd231ps zmm` (16 lanes × 2 flops each); returns a value
/// that depends on every result.
float sluice_peak_fp32(long iterations);
/// The same with `vdpbf16ps zmm` (32 bf16 products summed pairwise into 16 fp32 lanes: 64 flops each).
float sluice_peak_bf16(long iterations);
/// The same with `vpdpbusd zmm` (64 u8×s8 products summed in fours into 16 int32 lanes: 128 ops each).
int sluice_peak_int8(long iterations);
/// Whether the CPU has AVX-512F, AVX512-BF16, AVX512-VNNI.
int sluice_peak_has_avx512(void);
int sluice_peak_has_bf16(void);
int sluice_peak_has_vnni(void);

#endif
