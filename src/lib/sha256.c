/* sha256.c - SHA-256 as specified in FIPS 180-4: the streaming interface,
 * the choice of compression function (sha256_hw.c has those on the CPU's
 * instructions) and the portable one, which every other is tested
 * against. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/sha256.h"
#include "sha256_hw.h"

const uint32_t sha256_round_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t
sha256_rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

/* Mixes one 64-byte block into the state, in plain C. */
static void
sha256_block_portable(uint32_t state[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, k, t1, t2;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = sha256_rotr(w[i - 15], 7) ^ sha256_rotr(w[i - 15], 18) ^
		    (w[i - 15] >> 3);
		uint32_t s1 = sha256_rotr(w[i - 2], 17) ^ sha256_rotr(w[i - 2], 19) ^
		    (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = state[0]; b = state[1]; c = state[2]; d = state[3];
	e = state[4]; f = state[5]; g = state[6]; k = state[7];
	for (int i = 0; i < 64; i++) {
		t1 = k + (sha256_rotr(e, 6) ^ sha256_rotr(e, 11) ^ sha256_rotr(e, 25)) +
		    ((e & f) ^ (~e & g)) + sha256_round_k[i] + w[i];
		t2 = (sha256_rotr(a, 2) ^ sha256_rotr(a, 13) ^ sha256_rotr(a, 22)) +
		    ((a & b) ^ (a & c) ^ (b & c));
		k = g; g = f; f = e; e = d + t1;
		d = c; c = b; b = a; a = t1 + t2;
	}
	state[0] += a; state[1] += b; state[2] += c; state[3] += d;
	state[4] += e; state[5] += f; state[6] += g; state[7] += k;
}

static void
sha256_blocks_portable(uint32_t state[8], const unsigned char *p, size_t nblocks)
{
	for (; nblocks > 0; nblocks--, p += SHA256_BLOCK_LEN)
		sha256_block_portable(state, p);
}

/* the block function of each path, NULL where this build has none */
static sha256_blocks_fn *
sha256_impl_blocks(enum sha256_impl impl)
{
	switch (impl) {
	case SHA256_IMPL_PORTABLE: return sha256_blocks_portable;
	case SHA256_IMPL_X86_SHANI: return sha256_blocks_x86_shani;
	case SHA256_IMPL_ARMV8: return sha256_blocks_armv8;
	case SHA256_IMPL_COUNT: break;
	}
	return NULL;
}

const char *
sha256_impl_name(enum sha256_impl impl)
{
	switch (impl) {
	case SHA256_IMPL_PORTABLE: return "portable";
	case SHA256_IMPL_X86_SHANI: return "x86-sha-ni";
	case SHA256_IMPL_ARMV8: return "armv8-sha2";
	case SHA256_IMPL_COUNT: break;
	}
	return "unknown";
}

static pthread_once_t sha256_choose_once = PTHREAD_ONCE_INIT;
static enum sha256_impl sha256_chosen;
static int sha256_usable[SHA256_IMPL_COUNT];

/* Looks at the CPU once and picks the path: the CPU's instructions unless
 * the environment says otherwise. */
static void
sha256_choose(void)
{
	const char *env = getenv(SHA256_IMPL_ENV);

	sha256_usable[SHA256_IMPL_PORTABLE] = 1;
	sha256_usable[SHA256_IMPL_X86_SHANI] = sha256_blocks_x86_shani != NULL &&
	    sha256_cpu_has_x86_shani();
	sha256_usable[SHA256_IMPL_ARMV8] = sha256_blocks_armv8 != NULL &&
	    sha256_cpu_has_armv8();
	sha256_chosen = SHA256_IMPL_PORTABLE;
	if (env != NULL && strcmp(env, "portable") == 0)
		return;
	if (sha256_usable[SHA256_IMPL_X86_SHANI])
		sha256_chosen = SHA256_IMPL_X86_SHANI;
	else if (sha256_usable[SHA256_IMPL_ARMV8])
		sha256_chosen = SHA256_IMPL_ARMV8;
}

int
sha256_impl_available(enum sha256_impl impl)
{
	pthread_once(&sha256_choose_once, sha256_choose);
	return (unsigned)impl < SHA256_IMPL_COUNT && sha256_usable[impl];
}

enum sha256_impl
sha256_impl_current(void)
{
	pthread_once(&sha256_choose_once, sha256_choose);
	return sha256_chosen;
}

int
sha256_init_impl(struct sha256 *h, enum sha256_impl impl)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	if (!sha256_impl_available(impl))
		return -1;
	memcpy(h->state, iv, sizeof(iv));
	h->bytes = 0;
	h->buflen = 0;
	h->blocks = sha256_impl_blocks(impl);
	return 0;
}

void
sha256_init(struct sha256 *h)
{
	(void)sha256_init_impl(h, sha256_impl_current());
}

void
sha256_update(struct sha256 *h, const void *data, size_t len)
{
	const unsigned char *p = data;

	h->bytes += len;
	if (h->buflen > 0) {
		size_t take = SHA256_BLOCK_LEN - h->buflen;
		if (take > len)
			take = len;
		memcpy(h->buf + h->buflen, p, take);
		h->buflen += take;
		p += take;
		len -= take;
		if (h->buflen < SHA256_BLOCK_LEN)
			return;
		h->blocks(h->state, h->buf, 1);
		h->buflen = 0;
	}
	if (len >= SHA256_BLOCK_LEN) {
		size_t n = len / SHA256_BLOCK_LEN;
		h->blocks(h->state, p, n);
		p += n * SHA256_BLOCK_LEN;
		len -= n * SHA256_BLOCK_LEN;
	}
	memcpy(h->buf, p, len);
	h->buflen = len;
}

void
sha256_final(struct sha256 *h, unsigned char digest[SHA256_DIGEST_LEN])
{
	uint64_t bits = h->bytes * 8;

	/* pad: 0x80, zeros, then the bit length big-endian in the last 8 bytes */
	h->buf[h->buflen++] = 0x80;
	if (h->buflen > SHA256_BLOCK_LEN - 8) {
		memset(h->buf + h->buflen, 0, SHA256_BLOCK_LEN - h->buflen);
		h->blocks(h->state, h->buf, 1);
		h->buflen = 0;
	}
	memset(h->buf + h->buflen, 0, SHA256_BLOCK_LEN - 8 - h->buflen);
	for (int i = 0; i < 8; i++)
		h->buf[SHA256_BLOCK_LEN - 1 - i] = (unsigned char)(bits >> (8 * i));
	h->blocks(h->state, h->buf, 1);
	for (int i = 0; i < 8; i++) {
		digest[4 * i] = (unsigned char)(h->state[i] >> 24);
		digest[4 * i + 1] = (unsigned char)(h->state[i] >> 16);
		digest[4 * i + 2] = (unsigned char)(h->state[i] >> 8);
		digest[4 * i + 3] = (unsigned char)h->state[i];
	}
}

void
sha256_to_hex(const unsigned char digest[SHA256_DIGEST_LEN], char out[SHA256_HEX_LEN])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < SHA256_DIGEST_LEN; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[2 * SHA256_DIGEST_LEN] = '\0';
}

void
sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN])
{
	struct sha256 h;
	unsigned char digest[SHA256_DIGEST_LEN];

	sha256_init(&h);
	sha256_update(&h, data, len);
	sha256_final(&h, digest);
	sha256_to_hex(digest, out);
}
