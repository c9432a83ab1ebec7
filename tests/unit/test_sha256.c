/* test_sha256.c - SHA-256 against the FIPS 180-4 and NIST test vectors. */
#include <stdlib.h>

#include "p2pm/sha256.h"
#include "tap.h"

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
main(void)
{
	static const char two_blocks[] =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	struct sha256 h;
	unsigned char digest[SHA256_DIGEST_LEN];
	char hex[SHA256_HEX_LEN];
	char *million = malloc(1000000);

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
	return done_testing();
}
