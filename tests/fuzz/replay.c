/* replay.c - runs one fuzz target over its committed inputs without
 * libFuzzer, so `make test` (built with the normal compiler under ASan and
 * UBSan) replays every seed in corpus/<target>/ and every past crash in
 * regress/<target>/. Prints TAP: one claim per directory; a crash or
 * sanitizer report ends the program and so fails the test.
 *
 * Built with -DFUZZ_TARGET="fuzz_x" -DFUZZ_DIR="/path/to/tests/fuzz";
 * arguments, if given, are files to replay instead. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"

/* largest input replayed, in bytes: more than any fuzz run's -max_len */
#define REPLAY_MAX_INPUT (1L << 20)

static unsigned char replay_buf[REPLAY_MAX_INPUT];

/* Feeds the file at path to the target; returns 0, or -1 if unreadable. */
static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(replay_buf, 1, sizeof(replay_buf), f);
	int bad = ferror(f) || !feof(f);
	fclose(f);
	if (bad)
		return -1;
	printf("# %s\n", path);
	fflush(stdout);
	/* a heap copy of exactly n bytes, so ASan sees reads past the end */
	uint8_t *copy = malloc(n ? n : 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, replay_buf, n);
	LLVMFuzzerTestOneInput(copy, n);
	free(copy);
	return 0;
}

/* Replays every regular file in dir; returns how many, or -1. */
static long
replay_dir(const char *dir, int must_exist)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];
	long n = 0;

	if (d == NULL)
		return must_exist ? -1 : 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path) ||
		    replay_file(path) < 0) {
			closedir(d);
			return -1;
		}
		n++;
	}
	closedir(d);
	return n;
}

int
main(int argc, char **argv)
{
	char dir[4096];
	long n;
	int failed = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (replay_file(argv[i]) < 0) {
				fprintf(stderr, "replay: cannot read %s\n", argv[i]);
				return 1;
			}
		printf("%s: %d input(s) replayed\n", FUZZ_TARGET, argc - 1);
		return 0;
	}
	printf("1..2\n");
	snprintf(dir, sizeof(dir), "%s/corpus/%s", FUZZ_DIR, FUZZ_TARGET);
	n = replay_dir(dir, 1);
	if (n > 0) {
		printf("ok 1 - %s: the %ld seed inputs in corpus/ parse without a fault\n",
		    FUZZ_TARGET, n);
	} else {
		printf("not ok 1 - %s: no readable seed corpus in %s\n", FUZZ_TARGET, dir);
		failed = 1;
	}
	snprintf(dir, sizeof(dir), "%s/regress/%s", FUZZ_DIR, FUZZ_TARGET);
	n = replay_dir(dir, 0);
	if (n >= 0) {
		printf("ok 2 - %s: the %ld past crash input(s) in regress/ parse without a fault\n",
		    FUZZ_TARGET, n);
	} else {
		printf("not ok 2 - %s: cannot read %s\n", FUZZ_TARGET, dir);
		failed = 1;
	}
	return failed;
}
