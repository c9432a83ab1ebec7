/* migrate.c - converting a cache of layout 1 to content-addressed names. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2pm/log.h"
#include "filekey.h"
#include "fsutil.h"
#include "hlsdir.h"
#include "migrate.h"

/* Converts the song directory key in songs/ (open as songsfd). A directory
 * already in the new layout (a conversion cut short after it) is kept.
 * Returns 0, or -1 with a reason in why. */
static int
migrate_song(int songsfd, const char *key, char *why, size_t whylen)
{
	struct hlsdir hd;
	int dfd, rc = -1;

	dfd = openat(songsfd, key, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	if (hlsdir_check(dfd, &hd, why, whylen) == 0 ||
	    (hlsdir_address(dfd, key, why, whylen) == 0 &&
	    hlsdir_check(dfd, &hd, why, whylen) == 0)) {
		rc = hlsdir_sync(dfd, &hd, why, whylen);
		hlsdir_free(&hd);
	}
	close(dfd);
	return rc;
}

/* Converts every song directory of layout 1 in songs/; counts them. */
static void
migrate_songs(struct cache *c, size_t *done, size_t *dropped)
{
	char dir[PATH_MAX], tmp[CACHE_TMP_NAME_MAX], why[1024];
	struct dirent *de;
	struct stat st;
	int fd, cachefd;
	DIR *d;

	if (cache_path(c, CACHE_SONGS, NULL, dir, sizeof(dir)) < 0 ||
	    (d = fsutil_opendir_at(AT_FDCWD, dir, &fd)) == NULL)
		return;
	cachefd = open(cache_dir(c), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	while ((de = readdir(d)) != NULL) {
		if (!filekey_ok(de->d_name) ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (migrate_song(fd, de->d_name, why, sizeof(why)) == 0) {
			(*done)++;
			continue;
		}
		log_info("cache: dropping cached song %s (%s); it is segmented again "
		    "when shared", de->d_name, why);
		/* out of songs/ first, so that it never holds half a song */
		if (cachefd >= 0 && cache_tmp_name(c, tmp, sizeof(tmp)) == 0 &&
		    renameat(fd, de->d_name, cachefd, tmp) == 0)
			cache_tmp_remove(cachefd, tmp);
		else
			log_warn("cannot remove cached song %s: %s", de->d_name,
			    strerror(errno));
		(*dropped)++;
	}
	if (cachefd >= 0)
		close(cachefd);
	closedir(d);
}

int
migrate_cache(struct cache *c, char *err, size_t errlen)
{
	size_t done = 0, dropped = 0;
	int v = cache_layout(c);

	if (v == CACHE_LAYOUT_VERSION)
		return 0;
	if (v < 0) {
		snprintf(err, errlen, "cannot use cache directory %s: its %s file is "
		    "unreadable or not one this peer wrote", cache_dir(c), CACHE_LAYOUT);
		return -1;
	}
	if (v > CACHE_LAYOUT_VERSION) {
		snprintf(err, errlen, "cannot use cache directory %s: it has layout %d, "
		    "made by a newer peer (this one knows layout %d)", cache_dir(c), v,
		    CACHE_LAYOUT_VERSION);
		return -1;
	}
	migrate_songs(c, &done, &dropped);
	if (done > 0 || dropped > 0)
		log_info("cache: layout %d -> %d: %zu song(s) renamed to content "
		    "addresses, %zu dropped", v, CACHE_LAYOUT_VERSION, done, dropped);
	return cache_layout_mark(c, err, errlen);
}
