/* hlsdir.c - content-addressed song directories: made, checked, loaded,
 * flushed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filekey.h"
#include "fsutil.h"
#include "hlsdir.h"

/* file mode of the canonical playlist */
#define HLSDIR_PLAYLIST_MODE 0644

void
hlsdir_free(struct hlsdir *hd)
{
	if (hd->held != NULL) {
		close(hd->held->dirfd);
		free(hd->held->ids);
		free(hd->held);
	}
	free(hd->text);
	playlist_free(&hd->pl);
	memset(hd, 0, sizeof(*hd));
}

int
hlsdir_parse(char *text, size_t len, struct hlsdir *hd, char *why,
    size_t whylen)
{
	char *canon;
	size_t clen;

	memset(hd, 0, sizeof(*hd));
	hd->text = text;
	hd->len = len;
	if (playlist_parse(text, len, &hd->pl, why, whylen) < 0)
		goto fail;
	if (!playlist_content_addressed(&hd->pl)) {
		snprintf(why, whylen, "playlist lists a segment not named <sha256>.ts");
		goto fail;
	}
	if ((canon = playlist_canonical(&hd->pl, &clen)) == NULL) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	if (clen != len || memcmp(canon, text, len) != 0) {
		free(canon);
		snprintf(why, whylen, "playlist is not in its canonical form");
		goto fail;
	}
	free(canon);
	sha256_hex(text, len, hd->content_id);
	return 0;
fail:
	hlsdir_free(hd);
	return -1;
}

int
hlsdir_read(int dfd, struct hlsdir *hd, char *why, size_t whylen)
{
	char *text;
	size_t len;

	memset(hd, 0, sizeof(*hd));
	if (fsutil_read_file(dfd, PLAYLIST_INDEX_NAME, HLSDIR_MAX_PLAYLIST_BYTES,
	    &text, &len) < 0) {
		snprintf(why, whylen, "no playlist: %s", strerror(errno));
		return -1;
	}
	return hlsdir_parse(text, len, hd, why, whylen);
}

int
hlsdir_segment_stat(int dfd, const char *name, struct stat *st, char *why,
    size_t whylen)
{
	if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st->st_mode) || st->st_size == 0) {
		snprintf(why, whylen, "segment %s missing or empty", name);
		return -1;
	}
	/* a crash or a full disk cuts files at any byte */
	if (st->st_size % HLSDIR_TS_PACKET != 0) {
		snprintf(why, whylen, "segment %s is cut short", name);
		return -1;
	}
	return 0;
}

int
hlsdir_hash_file(int dfd, const char *name, char hex[SHA256_HEX_LEN])
{
	unsigned char digest[SHA256_DIGEST_LEN];
	struct sha256 h;
	unsigned char *buf;
	int fd, saved;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if ((buf = malloc(HLSDIR_HASH_CHUNK)) == NULL) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	sha256_init(&h);
	for (;;) {
		ssize_t n = read(fd, buf, HLSDIR_HASH_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			free(buf);
			close(fd);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		sha256_update(&h, buf, (size_t)n);
	}
	free(buf);
	close(fd);
	sha256_final(&h, digest);
	sha256_to_hex(digest, hex);
	return 0;
}

int
hlsdir_check(int dfd, struct hlsdir *hd, char *why, size_t whylen)
{
	struct stat st;

	if (hlsdir_read(dfd, hd, why, whylen) < 0)
		return -1;
	for (size_t i = 0; i < hd->pl.count; i++) {
		if (hlsdir_segment_stat(dfd, hd->pl.segs[i].name, &st, why,
		    whylen) < 0) {
			hlsdir_free(hd);
			return -1;
		}
	}
	return 0;
}

/* True if name is "<key>-<decimal>.ts", as the segmenter names segments. */
static int
hlsdir_segmenter_name_ok(const char *name, const char *key)
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

/* Writes len bytes of text as the directory's playlist: to a temporary,
 * then renamed over PLAYLIST_INDEX_NAME. */
static int
hlsdir_write_playlist(int dfd, const char *text, size_t len, char *why,
    size_t whylen)
{
	size_t done = 0;
	int fd = openat(dfd, HLSDIR_PLAYLIST_TMP, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, HLSDIR_PLAYLIST_MODE);

	if (fd < 0)
		goto fail;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			goto fail;
		}
		done += (size_t)n;
	}
	if (close(fd) < 0 || renameat(dfd, HLSDIR_PLAYLIST_TMP, dfd,
	    PLAYLIST_INDEX_NAME) < 0)
		goto fail;
	return 0;
fail:
	snprintf(why, whylen, "cannot write the playlist: %s", strerror(errno));
	unlinkat(dfd, HLSDIR_PLAYLIST_TMP, 0);
	return -1;
}

int
hlsdir_address(int dfd, const char *key, char *why, size_t whylen)
{
	char hex[SHA256_HEX_LEN], name[PLAYLIST_HASH_NAME_LEN + 1];
	struct playlist pl;
	struct stat st;
	char *text, *canon;
	size_t len, clen;
	int rc = -1;

	if (fsutil_read_file(dfd, PLAYLIST_INDEX_NAME, HLSDIR_MAX_PLAYLIST_BYTES,
	    &text, &len) < 0) {
		snprintf(why, whylen, "no playlist: %s", strerror(errno));
		return -1;
	}
	if (playlist_parse(text, len, &pl, why, whylen) < 0) {
		free(text);
		return -1;
	}
	free(text);
	for (size_t i = 0; i < pl.count; i++) {
		const char *seg = pl.segs[i].name;

		if (!hlsdir_segmenter_name_ok(seg, key)) {
			snprintf(why, whylen, "unexpected segment name %s", seg);
			goto out;
		}
		if (hlsdir_segment_stat(dfd, seg, &st, why, whylen) < 0)
			goto out;
		if (hlsdir_hash_file(dfd, seg, hex) < 0) {
			snprintf(why, whylen, "cannot read segment %s: %s", seg,
			    strerror(errno));
			goto out;
		}
		snprintf(name, sizeof(name), "%s%s", hex, PLAYLIST_SEGMENT_SUFFIX);
		/* a link then an unlink: two segments with the same bytes would
		 * be one name listed twice, which no client takes */
		if (linkat(dfd, seg, dfd, name, 0) < 0 || unlinkat(dfd, seg, 0) < 0) {
			snprintf(why, whylen, errno == EEXIST ?
			    "two segments have the same bytes (%s)" :
			    "cannot rename segment %s", seg);
			goto out;
		}
		snprintf(pl.segs[i].name, sizeof(pl.segs[i].name), "%s", name);
	}
	if ((canon = playlist_canonical(&pl, &clen)) == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	rc = hlsdir_write_playlist(dfd, canon, clen, why, whylen);
	free(canon);
out:
	playlist_free(&pl);
	return rc;
}

int
hlsdir_load(const struct cache *c, const char *key, struct hlsdir *hd,
    char *path, size_t pathlen, char *why, size_t whylen)
{
	int dfd, rc;

	memset(hd, 0, sizeof(*hd));
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
	rc = hlsdir_check(dfd, hd, why, whylen);
	close(dfd);
	return rc;
}

int
hlsdir_sync(int dfd, const struct hlsdir *hd, char *why, size_t whylen)
{
	for (size_t i = 0; i <= hd->pl.count; i++) {
		const char *name = i < hd->pl.count ? hd->pl.segs[i].name :
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
