/* test_sha256.c - SHA-256 against the FIPS 180-4 and NIST test vectors,
 * and every path the CPU has (SHA-NI, ARMv8 SHA2) against the portable
 * code: random lengths, every alignment, updates split at every offset.
 * The choice of path (and P2PM_SHA256=portable) is checked in a child run
 * of this program with "--current". */
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "p2pm/sha256.h"
#include "tap.h"

/* the random messages: how many, and their longest length in bytes */
#define RANDOM_MESSAGES 2000
#define RANDOM_MAX_LEN 4200
/* the message split at every offset, in bytes (a few blocks) */
#define SPLIT_LEN 333

/* a small deterministic generator (xorshift64) for the test data */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* The digest of data on path impl, fed in one update. */
static void
digest_on(enum sha256_impl impl, const void *data, size_t len,
    unsigned char out[SHA256_DIGEST_LEN])
{
	struct sha256 h;

	sha256_init_impl(&h, impl);
	sha256_update(&h, data, len);
	sha256_final(&h, out);
}

/* True if path impl gives every FIPS 180-4 / NIST vector. */
static int
vectors_on(enum sha256_impl impl)
{
	static const struct { const char *msg, *hex; } v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
		  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	unsigned char d[SHA256_DIGEST_LEN];
	char hex[SHA256_HEX_LEN];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		digest_on(impl, v[i].msg, strlen(v[i].msg), d);
		sha256_to_hex(d, hex);
		if (strcmp(hex, v[i].hex) != 0) {
			printf("#   %s: vector %zu: got %s\n", sha256_impl_name(impl), i,
			    hex);
			return 0;
		}
	}
	return 1;
}

/* Checks path impl against the portable code on buf (RANDOM_MAX_LEN + 64
 * random bytes): random lengths, every alignment, every split. */
static void
compare_with_portable(enum sha256_impl impl, const unsigned char *buf)
{
	const char *name = sha256_impl_name(impl);
	unsigned char want[SHA256_DIGEST_LEN], got[SHA256_DIGEST_LEN];
	int same = 1;

	ok(vectors_on(impl), "%s: the FIPS 180-4 vectors", name);

	for (int i = 0; i < RANDOM_MESSAGES && same; i++) {
		size_t len = rng() % (RANDOM_MAX_LEN + 1), off = rng() % 64;
		digest_on(SHA256_IMPL_PORTABLE, buf + off, len, want);
		digest_on(impl, buf + off, len, got);
		if (memcmp(want, got, sizeof(want)) != 0) {
			printf("#   differs at %zu bytes from offset %zu\n", len, off);
			same = 0;
		}
	}
	ok(same, "%s: %d random lengths up to %d bytes as the portable code",
	    name, RANDOM_MESSAGES, RANDOM_MAX_LEN);

	/* every start address modulo 64, lengths around the block size */
	for (size_t off = 0; off < 64 && same; off++) {
		for (size_t len = 0; len <= 3 * SHA256_BLOCK_LEN + 1 && same; len++) {
			digest_on(SHA256_IMPL_PORTABLE, buf + off, len, want);
			digest_on(impl, buf + off, len, got);
			if (memcmp(want, got, sizeof(want)) != 0) {
				printf("#   differs at %zu bytes from offset %zu\n", len, off);
				same = 0;
			}
		}
	}
	ok(same, "%s: every alignment, 0..%d bytes, as the portable code", name,
	    3 * SHA256_BLOCK_LEN + 1);

	/* one message in two and in three updates, split at every offset */
	digest_on(SHA256_IMPL_PORTABLE, buf, SPLIT_LEN, want);
	for (size_t a = 0; a <= SPLIT_LEN && same; a++) {
		for (size_t b = a; b <= SPLIT_LEN && same; b += (a % 7) + 1) {
			struct sha256 h;
			sha256_init_impl(&h, impl);
			sha256_update(&h, buf, a);
			sha256_update(&h, buf + a, b - a);
			sha256_update(&h, buf + b, SPLIT_LEN - b);
			sha256_final(&h, got);
			if (memcmp(want, got, sizeof(want)) != 0) {
				printf("#   differs split at %zu and %zu\n", a, b);
				same = 0;
			}
		}
	}
	ok(same, "%s: a %d-byte message split at every offset gives the "
	    "portable code's digest", name, SPLIT_LEN);
}

/* The path a child run of this program picks, with P2PM_SHA256 set to
 * env (or unset for NULL), into out. Returns 0 or -1. */
static int
child_current(const char *env, char *out, size_t outlen)
{
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe(fds) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		if (env == NULL)
			unsetenv(SHA256_IMPL_ENV);
		else
			setenv(SHA256_IMPL_ENV, env, 1);
		execl("/proc/self/exe", "test_sha256", "--current", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	n = read(fds[0], out, outlen - 1);
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (n <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

static int
hex_is(const char *data, size_t len, const char *want)
{
	char got[SHA256_HEX_LEN];

	sha256_hex(data, len, got);
	if (strcmp(got, want) != 0)
		printf("#   got:      %s\n#   expected: %s\n", got, want);
	return strcmp(got, want) == 0;
}

int
main(int argc, char **argv)
{
	static const char two_blocks[] =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	struct sha256 h;
	unsigned char digest[SHA256_DIGEST_LEN];
	char hex[SHA256_HEX_LEN];
	char *million, got[64];
	unsigned char *buf;
	enum sha256_impl best = SHA256_IMPL_PORTABLE;

	if (argc == 2 && strcmp(argv[1], "--current") == 0) {
		printf("%s\n", sha256_impl_name(sha256_impl_current()));
		return 0;
	}
	million = malloc(1000000);
	buf = malloc(RANDOM_MAX_LEN + 64);

	ok(hex_is("", 0,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
	    "the empty message");
	ok(hex_is("abc", 3,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
	    "\"abc\" (one block)");
	ok(hex_is(two_blocks, strlen(two_blocks),
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
	    "the 448-bit message (padding spills into a second block)");

	/* 55, 56 and 64 bytes sit on the padding boundaries */
	ok(hex_is("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 55,
	    "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
	    "55 bytes: the length still fits in the first block");
	ok(hex_is("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 56,
	    "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
	    "56 bytes: the length needs a second block");
	ok(hex_is("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 64,
	    "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
	    "64 bytes: exactly one block of data");

	/* one million 'a', fed in uneven pieces */
	memset(million, 'a', 1000000);
	sha256_init(&h);
	for (size_t off = 0, step = 1; off < 1000000; off += step, step = step * 3 % 1000 + 1)
		sha256_update(&h, million + off, off + step > 1000000 ? 1000000 - off : step);
	sha256_final(&h, digest);
	sha256_to_hex(digest, hex);
	ok(strcmp(hex,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0,
	    "one million 'a' in uneven pieces");
	ok(hex_is(million, 1000000,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
	    "one million 'a' in one update");
	free(million);

	/* every other path the CPU has, against the portable code */
	for (size_t i = 0; i < RANDOM_MAX_LEN + 64; i++)
		buf[i] = (unsigned char)rng();
	ok(sha256_impl_available(SHA256_IMPL_PORTABLE), "the portable code is "
	    "always there");
	ok(sha256_init_impl(&h, SHA256_IMPL_COUNT) < 0, "an unknown path is "
	    "refused");
	for (int k = 0; k < SHA256_IMPL_COUNT; k++) {
		if (k == SHA256_IMPL_PORTABLE)
			continue;
		if (!sha256_impl_available(k)) {
			printf("# %s: not on this CPU or not in this build\n",
			    sha256_impl_name(k));
			ok(sha256_init_impl(&h, k) < 0, "%s: refused where missing",
			    sha256_impl_name(k));
			continue;
		}
		if (best == SHA256_IMPL_PORTABLE)
			best = k;
		compare_with_portable(k, buf);
	}
	free(buf);
	printf("# the default path here: %s\n", sha256_impl_name(best));

	/* the choice, made in a fresh process */
	ok(child_current(NULL, got, sizeof(got)) == 0 &&
	    strcmp(got, sha256_impl_name(best)) == 0,
	    "the fastest path the CPU has is the default (%s)",
	    sha256_impl_name(best));
	ok(child_current("portable", got, sizeof(got)) == 0 &&
	    strcmp(got, "portable") == 0,
	    "P2PM_SHA256=portable forces the portable code");
	ok(child_current("anything-else", got, sizeof(got)) == 0 &&
	    strcmp(got, sha256_impl_name(best)) == 0,
	    "another P2PM_SHA256 value keeps the default");
	return done_testing();
}
