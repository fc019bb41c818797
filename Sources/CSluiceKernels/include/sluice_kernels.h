#ifndef SLUICE_KERNELS_H
#define SLUICE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// dst[i] = table[src[i]] for i < count. `table` holds 256 entries. Uses AVX-512 VBMI byte permutes
/// (64 lookups per step) when the CPU has them, a scalar loop otherwise.
void sluice_lookup_bytes(const uint8_t *src, uint8_t *dst, size_t count, const uint8_t *table);

/// The largest byte of src[0..<count] (0 for an empty range).
uint8_t sluice_max_byte(const uint8_t *src, size_t count);

#endif
