/* outdir.c - a fetched song written as a song directory (songdir.h): made
 * whole beside its final place and renamed there once every segment is
 * verified, so nothing half-written ever carries the final name. A
 * directory already holding the same song is only verified; one holding
 * anything else is left alone. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "p2pm/log.h"
#include "p2pm/songdir.h"
#include "outdir.h"

/* mode of the parent directories fetch -o creates */
#define OUTDIR_MODE 0755

struct outdir {
	char path[PATH_MAX];
	char song[PROTO_MAX_NAME + 1];
	char have_id[SHA256_HEX_LEN];	/* the song already there, or "" */
	struct songdir_writer *writer;
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

/* True if path is a directory with no entry; *exists says if it exists. */
static int
outdir_is_empty(const char *path, int *exists, char *err, size_t errlen)
{
	struct dirent *e;
	struct stat st;
	int empty = 1;
	DIR *d;

	*exists = 0;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "cannot use '%s': %s", path, strerror(errno));
		return -1;
	}
	*exists = 1;
	if (!S_ISDIR(st.st_mode) && !(S_ISLNK(st.st_mode) &&
	    stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
		snprintf(err, errlen, "'%s' exists and is not a directory", path);
		return -1;
	}
	if ((d = opendir(path)) == NULL) {
		snprintf(err, errlen, "cannot open directory '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	while (empty && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

struct outdir *
outdir_open(const char *path, const char *song, char have_id[SHA256_HEX_LEN],
    char *err, size_t errlen)
{
	struct songdir_info info;
	char why[CLIENT_ERR_LEN];
	struct outdir *od;
	int exists, empty;

	have_id[0] = '\0';
	if (strlen(path) >= PATH_MAX) {
		snprintf(err, errlen, "output path too long");
		return NULL;
	}
	empty = outdir_is_empty(path, &exists, err, errlen);
	if (empty < 0)
		return NULL;
	if (!empty) {
		if (songdir_verify(path, &info, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "'%s' holds files that are not a song "
			    "fetched whole (%s); not writing there", path, why);
			return NULL;
		}
		if (info.other_files > 0) {
			snprintf(err, errlen, "'%s' holds '%s' and %zu other file%s; "
			    "not writing there", path, info.name, info.other_files,
			    info.other_files == 1 ? "" : "s");
			songdir_info_free(&info);
			return NULL;
		}
		memcpy(have_id, info.content_id, SHA256_HEX_LEN);
		songdir_info_free(&info);
	}
	if ((od = calloc(1, sizeof(*od))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(od->path, sizeof(od->path), "%s", path);
	snprintf(od->song, sizeof(od->song), "%s", song);
	memcpy(od->have_id, have_id, SHA256_HEX_LEN);
	if (outdir_make_parents(path) < 0) {
		snprintf(err, errlen, "cannot create the parents of '%s': %s", path,
		    strerror(errno));
		free(od);
		return NULL;
	}
	return od;
}

static int
outdir_start(void *ctx, const struct playlist *playlist, const char *content_id)
{
	struct outdir *od = ctx;
	char err[CLIENT_ERR_LEN];

	if (od->have_id[0] != '\0') {
		if (strcmp(od->have_id, content_id) == 0)
			return SINK_HAVE_SONG;
		log_error("'%s' holds another song (content id %.16s...); not "
		    "writing there", od->path, od->have_id);
		return -1;
	}
	od->writer = songdir_writer_open(od->path, od->song, playlist, err,
	    sizeof(err));
	if (od->writer == NULL) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

static int
outdir_segment(void *ctx, size_t index, const char *data, size_t len)
{
	struct outdir *od = ctx;
	char err[CLIENT_ERR_LEN];

	/* the swarm hands over only segments it hashed as they arrived */
	if (songdir_writer_put_verified(od->writer, index, data, len, err,
	    sizeof(err)) < 0) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

static int
outdir_finish(void *ctx)
{
	struct outdir *od = ctx;
	char err[CLIENT_ERR_LEN];

	if (songdir_writer_commit(od->writer, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

void
outdir_sink(struct outdir *od, struct fetch_sink *sink)
{
	sink->start = outdir_start;
	sink->segment = outdir_segment;
	sink->finish = outdir_finish;
	sink->in_order = 0;
	sink->ctx = od;
}

void
outdir_close(struct outdir *od)
{
	if (od == NULL)
		return;
	songdir_writer_abort(od->writer);
	free(od);
}
