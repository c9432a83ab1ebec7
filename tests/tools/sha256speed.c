/* sha256speed.c - how fast the library's SHA-256 hashes, for the bench
 * scripts: hashes MIB mebibytes (default 256) in segment-sized pieces and
 * prints "sha256 <MiB/s> MiB/s".
 *
 * usage: sha256speed [MIB] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/clock.h"
#include "p2pm/sha256.h"
#include "p2pm/strnum.h"

/* one piece, about one segment of a song */
#define SPEED_PIECE (256 * 1024)

int
main(int argc, char **argv)
{
	char hex[SHA256_HEX_LEN];
	long mib = 256;
	unsigned char *buf;
	long long t0, ms;

	if (argc > 2 || (argc == 2 && strnum_parse(argv[1], 1, 65536, &mib) < 0)) {
		fprintf(stderr, "usage: sha256speed [MIB]\n");
		return 2;
	}
	if ((buf = malloc(SPEED_PIECE)) == NULL)
		return 1;
	for (size_t i = 0; i < SPEED_PIECE; i++)
		buf[i] = (unsigned char)(i * 31 + 7);
	t0 = clock_now_ms();
	for (long i = 0; i < mib * (1024 * 1024 / SPEED_PIECE); i++) {
		sha256_hex(buf, SPEED_PIECE, hex);
		buf[0] = (unsigned char)hex[0];
	}
	ms = clock_now_ms() - t0;
	printf("sha256 %.1f MiB/s\n", (double)mib * 1000.0 / (double)(ms > 0 ? ms : 1));
	free(buf);
	return 0;
}
