/* siphash.h - SipHash-2-4, a keyed hash for tables whose keys come from
 * the network: without the key, nobody can choose names that collide. */
#ifndef P2PM_SIPHASH_H
#define P2PM_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN 16

/* The 64-bit SipHash-2-4 of len bytes under a 16-byte key. */
uint64_t siphash24(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len);

/* Fills key with random bytes (getrandom(2); the clock and pid if that
 * fails). */
void siphash_random_key(uint8_t key[SIPHASH_KEY_LEN]);

#endif
