/* sha256speed.c - how fast the library's SHA-256 hashes, for the bench
 * scripts: hashes pieces of BYTES bytes (default 4 MiB), each a whole
 * digest, for SECONDS seconds of CPU time (default 2) on each path the CPU
 * has (or the one -i names) and prints one line per path,
 * "sha256 <path> <MB/s> MB/s <piece> bytes" (MB = 10^6 bytes, as openssl
 * speed counts), the path sha256_init would use marked "(default)".
 * Like openssl speed, it counts the CPU time the hashing took, not the
 * time on the clock: on a shared machine the figure is the CPU's own.
 *
 * usage: sha256speed [-i portable|x86-sha-ni|armv8-sha2] [-b BYTES] [SECONDS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "p2pm/sha256.h"
#include "p2pm/strnum.h"

/* the default piece: a 4 MiB buffer, as the bench table states */
#define SPEED_PIECE (4L * 1024 * 1024)
/* the largest piece, and the longest run of one path in seconds */
#define SPEED_MAX_PIECE (256L * 1024 * 1024)
#define SPEED_MAX_SECONDS 600L

static void
usage(void)
{
	fprintf(stderr, "usage: sha256speed [-i portable|x86-sha-ni|armv8-sha2] "
	    "[-b BYTES] [SECONDS]\n");
	exit(2);
}

/* CPU time this thread has used, in microseconds */
static long long
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Hashes pieces of piece bytes on path impl for secs seconds of CPU
 * time; MB per CPU second. */
static double
speed(enum sha256_impl impl, unsigned char *buf, long piece, long secs)
{
	long long done = 0, t0, us = 0;
	unsigned char digest[SHA256_DIGEST_LEN];
	struct sha256 h;

	t0 = cpu_us();
	for (; us < secs * 1000000; us = cpu_us() - t0) {
		sha256_init_impl(&h, impl);
		sha256_update(&h, buf, (size_t)piece);
		sha256_final(&h, digest);
		buf[0] = digest[0];
		done += piece;
	}
	return (double)done / (double)(us > 0 ? us : 1);
}

int
main(int argc, char **argv)
{
	long secs = 2, piece = SPEED_PIECE;
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
	    strnum_parse(argv[optind], 1, SPEED_MAX_SECONDS, &secs) < 0))
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
		    speed(k, buf, piece, secs), piece,
		    (int)sha256_impl_current() == k ? " (default)" : "");
		fflush(stdout);
	}
	free(buf);
	return 0;
}
