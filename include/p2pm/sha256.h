/* sha256.h - SHA-256 (FIPS 180-4) of byte streams.
 *
 * The compression function runs on the CPU's SHA instructions where it has
 * them (x86 SHA-NI; ARMv8 SHA2 in an arm64 build), chosen once at run time
 * from the CPU's feature bits, and on portable C otherwise. The portable
 * code is also the reference the tests hold every other path to. Setting
 * the environment variable SHA256_IMPL_ENV to "portable" forces it. */
#ifndef P2PM_SHA256_H
#define P2PM_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
#define SHA256_BLOCK_LEN 64
/* a digest written as lower-case hex, NUL included */
#define SHA256_HEX_LEN (2 * SHA256_DIGEST_LEN + 1)
/* the environment variable that may force the portable code */
#define SHA256_IMPL_ENV "P2PM_SHA256"

/* The ways of computing the compression function. */
enum sha256_impl {
	SHA256_IMPL_PORTABLE = 0,	/* C, any CPU */
	SHA256_IMPL_X86_SHANI,		/* x86 SHA extensions with SSE4.1 */
	SHA256_IMPL_ARMV8,		/* ARMv8 SHA2 instructions */
	SHA256_IMPL_COUNT
};

/* Mixes nblocks 64-byte blocks at p into state. */
typedef void sha256_blocks_fn(uint32_t state[8], const unsigned char *p,
    size_t nblocks);

struct sha256 {
	uint32_t state[8];
	uint64_t bytes;		/* message length so far */
	size_t buflen;
	sha256_blocks_fn *blocks;	/* the path this digest runs on */
	unsigned char buf[SHA256_BLOCK_LEN];
};

/* Starts a digest on the path sha256_impl_current() names. */
void sha256_init(struct sha256 *h);
/* Starts a digest on path impl; returns 0, or -1 (h untouched) when this
 * build or this CPU lacks it. For tests and benchmarks. */
int sha256_init_impl(struct sha256 *h, enum sha256_impl impl);
void sha256_update(struct sha256 *h, const void *data, size_t len);
/* Finishes the digest; h must be initialised again before reuse. */
void sha256_final(struct sha256 *h, unsigned char digest[SHA256_DIGEST_LEN]);

/* Digest of one buffer as lower-case hex in out (SHA256_HEX_LEN bytes). */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN]);
/* Writes a digest as lower-case hex (SHA256_HEX_LEN bytes). */
void sha256_to_hex(const unsigned char digest[SHA256_DIGEST_LEN],
    char out[SHA256_HEX_LEN]);

/* True if this build and this CPU can run path impl. */
int sha256_impl_available(enum sha256_impl impl);
/* The path sha256_init uses: the fastest available one, or the portable
 * code when SHA256_IMPL_ENV says "portable". Chosen on the first call
 * (from any thread) and fixed from then on. */
enum sha256_impl sha256_impl_current(void);
/* A short name for a path ("portable", "x86-sha-ni", "armv8-sha2"). */
const char *sha256_impl_name(enum sha256_impl impl);

#endif
