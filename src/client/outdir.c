/* outdir.c - writing a fetched song into a directory: every file under a
 * temporary name first, renamed into place once the whole song is there,
 * index.m3u8 last, so an unfinished fetch never leaves a playable-looking
 * directory behind. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2pm/log.h"
#include "client.h"

#define OUTDIR_MODE 0755
#define OUTDIR_FILE_MODE 0644
/* Temporary names end in '~', a byte no segment name may hold, so they never
 * collide with a final name. */
#define OUTDIR_TMP_FMT ".%s.part~"
#define OUTDIR_TMP_MAX (PROTO_MAX_NAME + 16)

struct outdir {
	int dirfd;
	int created;		/* the directory did not exist before */
	char path[PATH_MAX];
	struct playlist_segment *segs;	/* a copy of the playlist's list */
	size_t count;
	char *raw;		/* the playlist as received, written last */
	size_t rawlen;
	unsigned char *written;	/* per segment: a temporary file exists */
};

int
outdir_make_parents(const char *path)
{
	char dir[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, len + 1);
	/* drop trailing slashes, then the last component */
	while (len > 1 && dir[len - 1] == '/')
		dir[--len] = '\0';
	while (len > 0 && dir[len - 1] != '/')
		len--;
	dir[len] = '\0';
	/* create each prefix ending before a slash, from the top */
	for (size_t i = 1; i <= len; i++) {
		if (dir[i] != '/' && dir[i] != '\0')
			continue;
		if (dir[i - 1] == '/')
			continue;
		char c = dir[i];
		dir[i] = '\0';
		if (mkdir(dir, OUTDIR_MODE) < 0 && errno != EEXIST) {
			dir[i] = c;
			return -1;
		}
		dir[i] = c;
	}
	return 0;
}

struct outdir *
outdir_open(const char *path, char *err, size_t errlen)
{
	struct outdir *od = calloc(1, sizeof(*od));

	if (od == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (strlen(path) >= sizeof(od->path)) {
		snprintf(err, errlen, "output path too long");
		free(od);
		return NULL;
	}
	snprintf(od->path, sizeof(od->path), "%s", path);
	if (outdir_make_parents(path) < 0) {
		snprintf(err, errlen, "cannot create the parents of '%s': %s", path,
		    strerror(errno));
		free(od);
		return NULL;
	}
	if (mkdir(path, OUTDIR_MODE) == 0)
		od->created = 1;
	else if (errno != EEXIST) {
		snprintf(err, errlen, "cannot create directory '%s': %s", path,
		    strerror(errno));
		free(od);
		return NULL;
	}
	od->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (od->dirfd < 0) {
		snprintf(err, errlen, "cannot open directory '%s': %s", path,
		    strerror(errno));
		free(od);
		return NULL;
	}
	return od;
}

static void
outdir_tmpname(char *out, size_t outlen, const char *name)
{
	snprintf(out, outlen, OUTDIR_TMP_FMT, name);
}

/* Writes len bytes to the temporary file for name (replacing any). */
static int
outdir_write(struct outdir *od, const char *name, const char *data, size_t len)
{
	char tmp[OUTDIR_TMP_MAX];
	int fd;

	outdir_tmpname(tmp, sizeof(tmp), name);
	fd = openat(od->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, OUTDIR_FILE_MODE);
	if (fd < 0) {
		log_error("cannot create '%s/%s': %s", od->path, tmp, strerror(errno));
		return -1;
	}
	if (net_write_all(fd, data, len) < 0) {
		log_error("cannot write '%s/%s': %s", od->path, tmp, strerror(errno));
		close(fd);
		unlinkat(od->dirfd, tmp, 0);
		return -1;
	}
	/* on disk before it is renamed into place: a crash never leaves a
	 * complete-looking name on a truncated file */
	int failed = fsync(fd) < 0;
	if (close(fd) < 0)
		failed = 1;
	if (failed) {
		log_error("cannot write '%s/%s': %s", od->path, tmp, strerror(errno));
		unlinkat(od->dirfd, tmp, 0);
		return -1;
	}
	return 0;
}

static int
outdir_rename(struct outdir *od, const char *name)
{
	char tmp[OUTDIR_TMP_MAX];

	outdir_tmpname(tmp, sizeof(tmp), name);
	if (renameat(od->dirfd, tmp, od->dirfd, name) < 0) {
		log_error("cannot rename '%s/%s': %s", od->path, tmp, strerror(errno));
		return -1;
	}
	return 0;
}

static void
outdir_discard(void *ctx)
{
	struct outdir *od = ctx;
	char tmp[OUTDIR_TMP_MAX];

	for (size_t i = 0; i < od->count; i++) {
		if (!od->written[i])
			continue;
		outdir_tmpname(tmp, sizeof(tmp), od->segs[i].name);
		unlinkat(od->dirfd, tmp, 0);
	}
	free(od->written);
	free(od->raw);
	free(od->segs);
	od->written = NULL;
	od->raw = NULL;
	od->segs = NULL;
	od->count = 0;
}

static int
outdir_start(void *ctx, const struct playlist *playlist, const char *raw, size_t rawlen)
{
	struct outdir *od = ctx;

	outdir_discard(od);
	od->raw = malloc(rawlen + 1);
	od->written = calloc(playlist->count, 1);
	od->segs = malloc(playlist->count * sizeof(*od->segs));
	if (od->raw == NULL || od->written == NULL || od->segs == NULL) {
		log_error("out of memory");
		return -1;
	}
	memcpy(od->raw, raw, rawlen);
	od->rawlen = rawlen;
	memcpy(od->segs, playlist->segs, playlist->count * sizeof(*od->segs));
	od->count = playlist->count;
	return 0;
}

static int
outdir_segment(void *ctx, size_t index, const char *data, size_t len)
{
	struct outdir *od = ctx;

	if (outdir_write(od, od->segs[index].name, data, len) < 0)
		return -1;
	od->written[index] = 1;
	return 0;
}

static int
outdir_finish(void *ctx)
{
	struct outdir *od = ctx;

	if (outdir_write(od, PLAYLIST_INDEX_NAME, od->raw, od->rawlen) < 0)
		return -1;
	for (size_t i = 0; i < od->count; i++) {
		if (outdir_rename(od, od->segs[i].name) < 0)
			return -1;
		od->written[i] = 0;
	}
	if (outdir_rename(od, PLAYLIST_INDEX_NAME) < 0)
		return -1;
	return 0;
}

void
outdir_sink(struct outdir *od, struct fetch_sink *sink)
{
	sink->start = outdir_start;
	sink->segment = outdir_segment;
	sink->finish = outdir_finish;
	sink->discard = outdir_discard;
	sink->can_restart = 1;
	sink->ctx = od;
}

void
outdir_close(struct outdir *od, int success)
{
	char tmp[OUTDIR_TMP_MAX];

	if (od == NULL)
		return;
	if (!success) {
		outdir_discard(od);
		outdir_tmpname(tmp, sizeof(tmp), PLAYLIST_INDEX_NAME);
		unlinkat(od->dirfd, tmp, 0);
		/* a directory this run made goes too, if nothing else is in it */
		if (od->created)
			rmdir(od->path);
	} else {
		fsync(od->dirfd);
		outdir_discard(od);
	}
	close(od->dirfd);
	free(od);
}
