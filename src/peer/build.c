/* build.c - segmenting a song file into a new song directory of the cache. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2pm/log.h"
#include "art.h"
#include "build.h"
#include "segmenter.h"
#include "hlsdir.h"

/* mode of the temporary a song is built in */
#define BUILD_TMP_MODE 0700

/* True if the open file fd is still the version that id describes. */
static int
build_fd_is(int fd, const struct filekey_id *id)
{
	struct filekey_id now;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return 0;
	filekey_id_of(&st, &now);
	return filekey_id_equal(&now, id);
}

/* Runs the segmenter on path into the temporary tmp, through a
 * descriptor of the file that has identity id (else BUILD_CHANGED), which
 * must still have it once ffmpeg is done; says which side failed, or that
 * we were stopped. */
static enum build_result
build_segment(const char *ffmpeg, const char *path, const struct filekey_id *id,
    const char *tmp, const char *key, int aac_kbps, int probe,
    const atomic_int *stop, char *why, size_t whylen)
{
	enum segmenter_result res;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 || !build_fd_is(fd, id)) {
		if (fd >= 0)
			close(fd);
		snprintf(why, whylen, "the file changed since its key was taken");
		return BUILD_CHANGED;
	}
	res = segmenter_run_fd(ffmpeg, fd, tmp, key, aac_kbps, probe, stop, why,
	    whylen);
	if ((res == SEGMENTER_OK || res == SEGMENTER_BAD_INPUT ||
	    res == SEGMENTER_NOT_AUDIO) && !build_fd_is(fd, id)) {
		close(fd);
		snprintf(why, whylen, "the file changed while it was being segmented");
		return BUILD_CHANGED;
	}
	close(fd);
	if (res == SEGMENTER_OK)
		return BUILD_OK;
	if (res == SEGMENTER_STOPPED || atomic_load(stop))
		return BUILD_STOPPED;
	if (res == SEGMENTER_NOT_AUDIO)
		return BUILD_NOT_AUDIO;
	return res == SEGMENTER_BAD_OUTPUT ? BUILD_CACHE_ERROR : BUILD_BAD_INPUT;
}

/* Reads what the probing run found in tmp into probed and removes its
 * files: BUILD_OK for audio that is copied, BUILD_TRANSCODE for other
 * audio, BUILD_NOT_AUDIO (with a reason) if there is none. seg is how
 * the run itself ended: the codec is known even when copying it failed. */
static enum build_result
build_probed(const char *tmp, enum build_result seg, struct probe_info *probed,
    char *why, size_t whylen)
{
	char reason[256];
	enum probe_result pr;
	int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0) {
		snprintf(why, whylen, "cannot open %s: %s", tmp, strerror(errno));
		return BUILD_CACHE_ERROR;
	}
	pr = probe_read(dfd, probed, reason, sizeof(reason));
	probe_remove(dfd);
	close(dfd);
	if (pr == PROBE_OK && probe_mode_of(probed) == PROBE_TRANSCODE)
		return BUILD_TRANSCODE;
	if (seg != BUILD_OK)
		return seg;
	if (pr == PROBE_NOT_AUDIO) {
		snprintf(why, whylen, "%s", reason);
		return BUILD_NOT_AUDIO;
	}
	if (pr != PROBE_OK) {
		snprintf(why, whylen, "%s", reason);
		return BUILD_BAD_INPUT;
	}
	return BUILD_OK;
}

/* Hands the picture the run read out of the song file at path (of
 * content key key) into tmp over to the cover art when the run (seg)
 * succeeded, and removes it from tmp. */
static void
build_picture(struct cache *c, const char *tmp, const char *path,
    const char *key, enum build_result seg)
{
	int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return;
	if (seg == BUILD_OK)
		art_embedded_take(c, path, key, dfd, SEGMENTER_PICTURE_FILE);
	if (unlinkat(dfd, SEGMENTER_PICTURE_FILE, 0) < 0 && errno != ENOENT)
		log_debug("cannot remove %s/%s: %s", tmp, SEGMENTER_PICTURE_FILE,
		    strerror(errno));
	close(dfd);
}

/* Names what the segmenter wrote into tmp by content (hlsdir_address),
 * checks the result and flushes it to disk. */
static enum build_result
build_check(const char *tmp, const char *key, char *why, size_t whylen)
{
	struct hlsdir hd;
	enum build_result res = BUILD_OK;
	int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0) {
		snprintf(why, whylen, "cannot open %s: %s", tmp, strerror(errno));
		return BUILD_CACHE_ERROR;
	}
	if (hlsdir_address(dfd, key, why, whylen) < 0 ||
	    hlsdir_check(dfd, &hd, why, whylen) < 0) {
		res = BUILD_BAD_INPUT;
	} else {
		if (hlsdir_sync(dfd, &hd, why, whylen) < 0)
			res = BUILD_CACHE_ERROR;
		hlsdir_free(&hd);
	}
	close(dfd);
	return res;
}

/* Flushes songs/ so that a rename into it survives a crash. */
static void
build_sync_songs_dir(const struct cache *c)
{
	char dir[PATH_MAX];
	int fd;

	if (cache_path(c, CACHE_SONGS, NULL, dir, sizeof(dir)) < 0)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		log_warn("cannot flush %s to disk: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Renames the checked temporary tmp to songs/<key>. When that is taken,
 * by the same content finished by another job meanwhile or by a broken
 * copy, a good one is kept (and tmp removed) and a broken one moved aside
 * and removed. On failure tmp is left to the caller. */
static enum build_result
build_install(struct cache *c, const char *tmp, const char *key, char *why,
    size_t whylen)
{
	char final[PATH_MAX], aside[PATH_MAX];
	struct hlsdir hd;

	if (cache_path(c, CACHE_SONGS, key, final, sizeof(final)) < 0) {
		snprintf(why, whylen, "path too long");
		return BUILD_CACHE_ERROR;
	}
	if (rename(tmp, final) == 0) {
		build_sync_songs_dir(c);
		return BUILD_OK;
	}
	if (errno != EEXIST && errno != ENOTEMPTY) {
		snprintf(why, whylen, "cannot rename into %s: %s", final, strerror(errno));
		return BUILD_CACHE_ERROR;
	}
	if (hlsdir_load(c, key, &hd, aside, sizeof(aside), why, whylen) == 0) {
		hlsdir_free(&hd);
		cache_tmp_remove(AT_FDCWD, tmp);
		return BUILD_OK;
	}
	if (cache_tmp_path(c, aside, sizeof(aside)) < 0 || rename(final, aside) < 0 ||
	    rename(tmp, final) < 0) {
		snprintf(why, whylen, "cannot replace %s: %s", final, strerror(errno));
		return BUILD_CACHE_ERROR;
	}
	build_sync_songs_dir(c);
	cache_tmp_remove(AT_FDCWD, aside);
	return BUILD_OK;
}

/* Makes a new temporary directory of the cache, its path in tmp
 * (PATH_MAX bytes). Returns 0, or -1 with why filled. */
static int
build_tmp_dir(struct cache *c, char tmp[PATH_MAX], char *why, size_t whylen)
{
	if (cache_tmp_path(c, tmp, PATH_MAX) < 0) {
		snprintf(why, whylen, "path too long");
		return -1;
	}
	if (mkdir(tmp, BUILD_TMP_MODE) < 0) {
		snprintf(why, whylen, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	return 0;
}

enum build_result
build_song(struct cache *c, const char *ffmpeg, const char *path,
    const char *key, const struct filekey_id *id, int aac_kbps,
    struct probe_info *probed, const atomic_int *stop, char *why,
    size_t whylen)
{
	char tmp[PATH_MAX];
	enum build_result res;
	int what = probed != NULL ? SEGMENTER_PROBE : SEGMENTER_SEGMENT_ONLY;

	/* a file probed for the first time: its picture in the same run,
	 * unless the cover art has one for it already */
	if (probed != NULL && art_embedded_wanted(c, path, key))
		what |= SEGMENTER_PICTURE;
	if (build_tmp_dir(c, tmp, why, whylen) < 0)
		return BUILD_CACHE_ERROR;
	res = build_segment(ffmpeg, path, id, tmp, key, aac_kbps, what, stop, why,
	    whylen);
	if (what & SEGMENTER_PICTURE)
		build_picture(c, tmp, path, key, res);
	if (probed != NULL && (res == BUILD_OK || res == BUILD_BAD_INPUT))
		res = build_probed(tmp, res, probed, why, whylen);
	if (res == BUILD_OK)
		res = build_check(tmp, key, why, whylen);
	if (res == BUILD_OK)
		res = build_install(c, tmp, key, why, whylen);
	if (res != BUILD_OK)
		cache_tmp_remove(AT_FDCWD, tmp);
	return res;
}

enum build_result
build_probe(struct cache *c, const char *ffmpeg, const char *path,
    const struct filekey_id *id, struct probe_info *probed,
    const atomic_int *stop, char *why, size_t whylen)
{
	char tmp[PATH_MAX];
	enum build_result res;

	if (build_tmp_dir(c, tmp, why, whylen) < 0)
		return BUILD_CACHE_ERROR;
	res = build_segment(ffmpeg, path, id, tmp, "probe", 0, SEGMENTER_PROBE_ONLY,
	    stop, why, whylen);
	if (res == BUILD_OK || res == BUILD_BAD_INPUT)
		res = build_probed(tmp, res, probed, why, whylen);
	if (res == BUILD_TRANSCODE)
		res = BUILD_OK;
	cache_tmp_remove(AT_FDCWD, tmp);
	return res;
}
