// Byte-wise table lookup: the inner loop of decoding an 8-bit dictionary page (every pixel of an image
// stored the way pyarrow and Ray store it). Runtime dispatch keeps the binary portable.
#include "sluice_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f,avx512bw,avx512vbmi,bmi2")))
static void lookup_vbmi(const uint8_t *src, uint8_t *dst, size_t count, const uint8_t *table) {
    const __m512i t0 = _mm512_loadu_si512(table);
    const __m512i t1 = _mm512_loadu_si512(table + 64);
    const __m512i t2 = _mm512_loadu_si512(table + 128);
    const __m512i t3 = _mm512_loadu_si512(table + 192);
    size_t i = 0;
    for (; i + 64 <= count; i += 64) {
        const __m512i index = _mm512_loadu_si512(src + i);
        // Bits 0-6 pick one of 128 bytes from each half; bit 7 picks the half.
        const __m512i low = _mm512_permutex2var_epi8(t0, index, t1);
        const __m512i high = _mm512_permutex2var_epi8(t2, index, t3);
        const __mmask64 upper = _mm512_movepi8_mask(index);
        _mm512_storeu_si512(dst + i, _mm512_mask_blend_epi8(upper, low, high));
    }
    if (i < count) {
        const __mmask64 tail = _bzhi_u64(~0ULL, (unsigned)(count - i));
        const __m512i index = _mm512_maskz_loadu_epi8(tail, src + i);
        const __m512i low = _mm512_permutex2var_epi8(t0, index, t1);
        const __m512i high = _mm512_permutex2var_epi8(t2, index, t3);
        const __mmask64 upper = _mm512_movepi8_mask(index);
        _mm512_mask_storeu_epi8(dst + i, tail, _mm512_mask_blend_epi8(upper, low, high));
    }
}

__attribute__((target("avx512f,avx512bw,bmi2")))
static uint8_t max_avx512(const uint8_t *src, size_t count) {
    __m512i best = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 64 <= count; i += 64) best = _mm512_max_epu8(best, _mm512_loadu_si512(src + i));
    if (i < count) best = _mm512_max_epu8(best, _mm512_maskz_loadu_epi8(_bzhi_u64(~0ULL, (unsigned)(count - i)), src + i));
    uint8_t lanes[64];
    _mm512_storeu_si512(lanes, best);
    uint8_t result = 0;
    for (int k = 0; k < 64; k++) result = lanes[k] > result ? lanes[k] : result;
    return result;
}
#endif

static void lookup_scalar(const uint8_t *src, uint8_t *dst, size_t count, const uint8_t *table) {
    for (size_t i = 0; i < count; i++) dst[i] = table[src[i]];
}

static uint8_t max_scalar(const uint8_t *src, size_t count) {
    uint8_t result = 0;
    for (size_t i = 0; i < count; i++) result = src[i] > result ? src[i] : result;
    return result;
}

static int has_vbmi(void) {
#if defined(__x86_64__)
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("bmi2") ? 1 : 0;
    }
    return cached;
#else
    return 0;
#endif
}

void sluice_lookup_bytes(const uint8_t *src, uint8_t *dst, size_t count, const uint8_t *table) {
#if defined(__x86_64__)
    if (has_vbmi()) { lookup_vbmi(src, dst, count, table); return; }
#endif
    lookup_scalar(src, dst, count, table);
}

uint8_t sluice_max_byte(const uint8_t *src, size_t count) {
#if defined(__x86_64__)
    if (has_vbmi()) return max_avx512(src, count);
#endif
    return max_scalar(src, count);
}
