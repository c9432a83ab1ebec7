/* songdir.c - checking, loading and flushing a song directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filekey.h"
#include "fsutil.h"
#include "songdir.h"

void
songdir_free(struct songdir *sd)
{
	free(sd->text);
	playlist_free(&sd->pl);
	memset(sd, 0, sizeof(*sd));
}

/* True if the playlist text has a line starting with tag. */
static int
songdir_has_tag(const char *text, size_t len, const char *tag)
{
	size_t tl = strlen(tag);

	for (size_t pos = 0; pos < len; ) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		if (n >= tl && memcmp(text + pos, tag, tl) == 0)
			return 1;
		pos += n + 1;
	}
	return 0;
}

/* True if name is "<key>-<decimal>.ts". */
static int
songdir_segment_name_ok(const char *name, const char *key)
{
	size_t kl = strlen(key), nl = strlen(name);

	if (nl < kl + 5 || strncmp(name, key, kl) != 0 || name[kl] != '-' ||
	    strcmp(name + nl - 3, ".ts") != 0)
		return 0;
	for (const char *p = name + kl + 1; p < name + nl - 3; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/* Checks one segment a playlist lists: its name, and that it is a
 * non-empty regular file of whole MPEG-TS packets in dfd. */
static int
songdir_segment_ok(int dfd, const char *key, const char *seg, char *why,
    size_t whylen)
{
	struct stat st;

	if (!songdir_segment_name_ok(seg, key)) {
		snprintf(why, whylen, "unexpected segment name %s", seg);
		return 0;
	}
	if (fstatat(dfd, seg, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode) || st.st_size == 0) {
		snprintf(why, whylen, "segment %s missing or empty", seg);
		return 0;
	}
	/* a crash or a full disk cuts files at any byte */
	if (st.st_size % SONGDIR_TS_PACKET != 0) {
		snprintf(why, whylen, "segment %s is cut short", seg);
		return 0;
	}
	return 1;
}

int
songdir_check(int dfd, const char *key, struct songdir *sd, char *why,
    size_t whylen)
{
	static const char *const tags[] = {
		"#EXT-X-TARGETDURATION:", "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-ENDLIST"
	};

	memset(sd, 0, sizeof(*sd));
	if (fsutil_read_file(dfd, PLAYLIST_INDEX_NAME, SONGDIR_MAX_PLAYLIST_BYTES,
	    &sd->text, &sd->len) < 0) {
		snprintf(why, whylen, "no playlist: %s", strerror(errno));
		return -1;
	}
	if (playlist_parse(sd->text, sd->len, &sd->pl, why, whylen) < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		if (!songdir_has_tag(sd->text, sd->len, tags[i])) {
			snprintf(why, whylen, "playlist has no %s", tags[i]);
			goto fail;
		}
	}
	for (size_t i = 0; i < sd->pl.count; i++)
		if (!songdir_segment_ok(dfd, key, sd->pl.segs[i].name, why, whylen))
			goto fail;
	return 0;
fail:
	songdir_free(sd);
	return -1;
}

int
songdir_load(const struct cache *c, const char *key, struct songdir *sd,
    char *path, size_t pathlen, char *why, size_t whylen)
{
	int dfd, rc;

	if (!filekey_ok(key)) {
		snprintf(why, whylen, "bad key");
		return -1;
	}
	if (cache_path(c, CACHE_SONGS, key, path, pathlen) < 0) {
		snprintf(why, whylen, "path too long");
		return -1;
	}
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		snprintf(why, whylen, "not in the cache");
		return -1;
	}
	rc = songdir_check(dfd, key, sd, why, whylen);
	close(dfd);
	return rc;
}

int
songdir_sync(int dfd, const struct songdir *sd, char *why, size_t whylen)
{
	for (size_t i = 0; i <= sd->pl.count; i++) {
		const char *name = i < sd->pl.count ? sd->pl.segs[i].name :
		    PLAYLIST_INDEX_NAME;
		int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0) {
			snprintf(why, whylen, "cannot flush %s to disk: %s", name,
			    strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	if (fsync(dfd) < 0) {
		snprintf(why, whylen, "cannot flush the song directory to disk: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}
