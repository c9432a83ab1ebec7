/* test_siphash.c - SipHash-2-4 against the reference vectors. */
#include <stdint.h>

#include "p2pm/siphash.h"
#include "tap.h"

int
main(void)
{
	uint8_t key[SIPHASH_KEY_LEN], msg[64], other[SIPHASH_KEY_LEN];

	for (int i = 0; i < SIPHASH_KEY_LEN; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	ok(siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ULL,
	    "the empty message gives the reference value");
	ok(siphash24(key, msg, 15) == 0xa129ca6149be45e5ULL,
	    "a 15-byte message gives the reference value");
	ok(siphash24(key, msg, 8) != siphash24(key, msg, 9),
	    "length is part of the hash");
	siphash_random_key(other);
	ok(memcmp(other, key, SIPHASH_KEY_LEN) != 0 &&
	    siphash24(other, msg, 15) != siphash24(key, msg, 15),
	    "another key gives another hash");
	return done_testing();
}
