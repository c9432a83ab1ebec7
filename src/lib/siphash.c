/* siphash.c - SipHash-2-4 (Aumasson and Bernstein, 2012). */
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "p2pm/siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t
siphash_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

struct siphash_state {
	uint64_t v0, v1, v2, v3;
};

static void
siphash_round(struct siphash_state *s)
{
	s->v0 += s->v1;
	s->v1 = ROTL(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = ROTL(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = ROTL(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = ROTL(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = ROTL(s->v2, 32);
}

/* Absorbs one 64-bit word with the two compression rounds. */
static void
siphash_absorb(struct siphash_state *s, uint64_t m)
{
	s->v3 ^= m;
	siphash_round(s);
	siphash_round(s);
	s->v0 ^= m;
}

uint64_t
siphash24(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t k0 = siphash_le64(key), k1 = siphash_le64(key + 8);
	struct siphash_state s = {
		k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
		k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL,
	};
	size_t whole = len - len % 8;
	uint64_t last = (uint64_t)(len & 0xff) << 56;

	for (size_t i = 0; i < whole; i += 8)
		siphash_absorb(&s, siphash_le64(p + i));
	/* the tail bytes, little-endian, under the length byte */
	for (size_t i = len % 8; i > 0; i--)
		last |= (uint64_t)p[whole + i - 1] << (8 * (i - 1));
	siphash_absorb(&s, last);
	s.v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		siphash_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

void
siphash_random_key(uint8_t key[SIPHASH_KEY_LEN])
{
	struct timespec ts;
	uint64_t a, b;

	if (getrandom(key, SIPHASH_KEY_LEN, GRND_NONBLOCK) == SIPHASH_KEY_LEN)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	a = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30);
	b = ((uint64_t)getpid() << 32) ^ (uint64_t)clock();
	memcpy(key, &a, 8);
	memcpy(key + 8, &b, 8);
}
