/* sha256speed.c - how fast the library's SHA-256 hashes, for the bench
 * scripts: hashes MIB mebibytes (default 256) in pieces of BYTES bytes
 * (default 4 MiB) on each path the CPU has (or the one -i names) and
 * prints one line per path, "sha256 <path> <MB/s> MB/s <piece> bytes"
 * (MB = 10^6 bytes, as openssl speed counts), the path sha256_init would
 * use marked "(default)".
 *
 * usage: sha256speed [-i portable|x86-sha-ni|armv8-sha2] [-b BYTES] [MIB] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/sha256.h"
#include "p2pm/strnum.h"

/* the default piece: a 4 MiB buffer, as the bench table states */
#define SPEED_PIECE (4L * 1024 * 1024)
/* the largest piece and total allowed */
#define SPEED_MAX_PIECE (256L * 1024 * 1024)
#define SPEED_MAX_MIB 65536L

static void
usage(void)
{
	fprintf(stderr, "usage: sha256speed [-i portable|x86-sha-ni|armv8-sha2] "
	    "[-b BYTES] [MIB]\n");
	exit(2);
}

/* Hashes mib MiB in pieces of piece bytes on path impl; MB/s. */
static double
speed(enum sha256_impl impl, unsigned char *buf, long piece, long mib)
{
	long long total = mib * 1024LL * 1024, done = 0, t0, ms;
	unsigned char digest[SHA256_DIGEST_LEN];
	struct sha256 h;

	t0 = clock_now_ms();
	while (done < total) {
		sha256_init_impl(&h, impl);
		sha256_update(&h, buf, (size_t)piece);
		sha256_final(&h, digest);
		buf[0] = digest[0];
		done += piece;
	}
	ms = clock_now_ms() - t0;
	return (double)done / 1000.0 / (double)(ms > 0 ? ms : 1);
}

int
main(int argc, char **argv)
{
	long mib = 256, piece = SPEED_PIECE;
	int only = -1, opt;
	unsigned char *buf;

	while ((opt = getopt(argc, argv, "i:b:")) != -1) {
		switch (opt) {
		case 'i':
			for (int k = 0; k < SHA256_IMPL_COUNT; k++)
				if (strcmp(optarg, sha256_impl_name(k)) == 0)
					only = k;
			if (only < 0)
				usage();
			break;
		case 'b':
			if (strnum_parse(optarg, 1, SPEED_MAX_PIECE, &piece) < 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (argc - optind > 1 || (argc - optind == 1 &&
	    strnum_parse(argv[optind], 1, SPEED_MAX_MIB, &mib) < 0))
		usage();
	if (only >= 0 && !sha256_impl_available(only)) {
		fprintf(stderr, "sha256speed: %s: not available on this CPU or "
		    "build\n", sha256_impl_name(only));
		return 1;
	}
	if ((buf = malloc((size_t)piece)) == NULL)
		return 1;
	for (long i = 0; i < piece; i++)
		buf[i] = (unsigned char)(i * 31 + 7);
	for (int k = 0; k < SHA256_IMPL_COUNT; k++) {
		if ((only >= 0 && k != only) || !sha256_impl_available(k))
			continue;
		printf("sha256 %s %.1f MB/s %ld bytes%s\n", sha256_impl_name(k),
		    speed(k, buf, piece, mib), piece,
		    (int)sha256_impl_current() == k ? " (default)" : "");
		fflush(stdout);
	}
	free(buf);
	return 0;
}
