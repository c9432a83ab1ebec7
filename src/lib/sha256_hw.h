/* sha256_hw.h - the SHA-256 compression function on the CPU's own
 * instructions (sha256_hw.c), for sha256.c alone. Each path exists only in
 * a build for its architecture; on any other the functions are NULL and
 * the checks say no. */
#ifndef P2PM_SHA256_HW_H
#define P2PM_SHA256_HW_H

#include "p2pm/sha256.h"

/* the round constants K of FIPS 180-4, section 4.2.2 (sha256.c) */
extern const uint32_t sha256_round_k[64];

/* x86 SHA-NI: the block function (NULL when not built for x86), and true
 * if the CPU has SHA, SSE4.1 and SSSE3 */
extern sha256_blocks_fn *const sha256_blocks_x86_shani;
int sha256_cpu_has_x86_shani(void);

/* ARMv8 SHA2: the same for an arm64 build */
extern sha256_blocks_fn *const sha256_blocks_armv8;
int sha256_cpu_has_armv8(void);

#endif
