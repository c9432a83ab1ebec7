/* mksongdir.c - turns what ffmpeg's HLS muxer wrote (HLSDIR/index.m3u8 and
 * its segments) into a song directory for the tests: every segment named
 * by its SHA-256, the canonical playlist and song.name, written with the
 * library's songdir writer.
 *
 * usage: mksongdir HLSDIR NAME OUTDIR */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2pm/songdir.h"

static char *
mk_load(const char *dir, const char *name, size_t *len)
{
	char path[4096];
	struct stat st;
	char *buf;
	size_t got = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		perror(path);
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		return NULL;
	while (got < (size_t)st.st_size &&
	    (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	*len = got;
	return buf;
}

int
main(int argc, char **argv)
{
	struct songdir_writer *w;
	struct playlist src, out;
	char err[512], *text, **data;
	size_t len, *lens;
	int rc = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: mksongdir HLSDIR NAME OUTDIR\n");
		return 2;
	}
	if ((text = mk_load(argv[1], "index.m3u8", &len)) == NULL)
		return 1;
	if (playlist_parse(text, len, &src, err, sizeof(err)) < 0) {
		fprintf(stderr, "mksongdir: %s\n", err);
		return 1;
	}
	free(text);
	out = src;
	out.segs = malloc(src.count * sizeof(*out.segs));
	data = calloc(src.count, sizeof(*data));
	lens = calloc(src.count, sizeof(*lens));
	if (out.segs == NULL || data == NULL || lens == NULL)
		return 1;
	for (size_t i = 0; i < src.count; i++) {
		char hex[SHA256_HEX_LEN];
		if ((data[i] = mk_load(argv[1], src.segs[i].name, &lens[i])) == NULL)
			return 1;
		sha256_hex(data[i], lens[i], hex);
		out.segs[i] = src.segs[i];
		snprintf(out.segs[i].name, sizeof(out.segs[i].name), "%s.ts", hex);
	}
	w = songdir_writer_open(argv[3], argv[2], &out, err, sizeof(err));
	if (w == NULL)
		goto done;
	for (size_t i = 0; i < src.count; i++)
		if (songdir_writer_put(w, i, data[i], lens[i], err, sizeof(err)) < 0)
			goto done;
	if (songdir_writer_commit(w, err, sizeof(err)) == 0)
		rc = 0;
done:
	if (rc != 0)
		fprintf(stderr, "mksongdir: %s\n", err);
	songdir_writer_abort(w);
	for (size_t i = 0; i < src.count; i++)
		free(data[i]);
	free(data);
	free(lens);
	free(out.segs);
	playlist_free(&src);
	return rc;
}
