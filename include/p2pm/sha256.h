/* sha256.h - SHA-256 (FIPS 180-4) of byte streams. */
#ifndef P2PM_SHA256_H
#define P2PM_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
#define SHA256_BLOCK_LEN 64
/* a digest written as lower-case hex, NUL included */
#define SHA256_HEX_LEN (2 * SHA256_DIGEST_LEN + 1)

struct sha256 {
	uint32_t state[8];
	uint64_t bytes;		/* message length so far */
	size_t buflen;
	unsigned char buf[SHA256_BLOCK_LEN];
};

void sha256_init(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *data, size_t len);
/* Finishes the digest; h must be initialised again before reuse. */
void sha256_final(struct sha256 *h, unsigned char digest[SHA256_DIGEST_LEN]);

/* Digest of one buffer as lower-case hex in out (SHA256_HEX_LEN bytes). */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN]);
/* Writes a digest as lower-case hex (SHA256_HEX_LEN bytes). */
void sha256_to_hex(const unsigned char digest[SHA256_DIGEST_LEN],
    char out[SHA256_HEX_LEN]);

#endif
