/* library.c - finding the songs to share: NAME=FILE and -L directories. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "p2pm/log.h"
#include "p2pm/playlist.h"
#include "p2pm/proto.h"
#include "library.h"
#include "shared.h"

/* the file name endings taken as audio, matched case-insensitively; what
 * a file really holds is read by probe.c before it is shared */
static const char *const library_suffixes[] = {
	".mp3", ".m4a", ".aac", ".mp4", ".flac", ".ogg", ".oga", ".opus",
	".wav", ".aiff", ".aif"
};

int
library_add(struct library *lib, const char *name, const char *path,
    enum library_kind kind, const struct filekey_id *id)
{
	size_t len = strlen(name);

	if (len == 0 || len > PROTO_MAX_NAME || !proto_name_valid(name, len)) {
		log_warn("skipping %s: '%s' is not a valid song name (1-%d bytes of "
		    "UTF-8 without control, bidi or zero-width characters)", path, name,
		    PROTO_MAX_NAME);
		return 0;
	}
	if (lib->n == lib->cap) {
		size_t cap = lib->cap ? 2 * lib->cap : 16;
		struct library_entry *v = realloc(lib->v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		lib->v = v;
		lib->cap = cap;
	}
	lib->v[lib->n].name = strdup(name);
	lib->v[lib->n].path = strdup(path);
	lib->v[lib->n].kind = kind;
	lib->v[lib->n].tagged = 0;
	lib->v[lib->n].pathname = NULL;
	if (id != NULL)
		lib->v[lib->n].id = *id;
	else
		memset(&lib->v[lib->n].id, 0, sizeof(lib->v[lib->n].id));
	if (lib->v[lib->n].name == NULL || lib->v[lib->n].path == NULL) {
		free(lib->v[lib->n].name);
		free(lib->v[lib->n].path);
		return -1;
	}
	lib->n++;
	return 0;
}

int
library_add_arg(struct library *lib, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char name[PROTO_MAX_NAME + 2];
	size_t len;

	if (eq == NULL)
		return -1;
	len = (size_t)(eq - arg);
	if (len >= sizeof(name))
		len = sizeof(name) - 1;	/* too long: refused by library_add */
	memcpy(name, arg, len);
	name[len] = '\0';
	return library_add(lib, name, eq + 1, LIBRARY_FILE, NULL) < 0 ? -2 : 0;
}

size_t
library_audio_suffix(const char *file)
{
	size_t len = strlen(file);

	for (size_t i = 0; i < sizeof(library_suffixes) / sizeof(*library_suffixes); i++) {
		size_t n = strlen(library_suffixes[i]);
		/* a name that is only the ending (".mp3") is hidden anyway */
		if (len > n && strcasecmp(file + len - n, library_suffixes[i]) == 0)
			return n;
	}
	return 0;
}

static int
library_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One walk of an -L directory: where it started, the directories open
 * above the one being read (to find loops), what was left out. */
struct library_walk {
	struct library *lib;
	struct shared *sh;
	struct library_stats *st;
	size_t rootlen;		/* bytes of the -L directory's path */
	dev_t dev[LIBRARY_MAX_DEPTH + 1];
	ino_t ino[LIBRARY_MAX_DEPTH + 1];
	int depth;
	int loud;		/* name what is left out (at debug level) */
};

/* Names path as left out for why, at debug level, on a full scan (not on
 * the periodic rescans, which find the same every time). */
static void
library_left_out(const struct library_walk *w, const char *path, const char *why)
{
	if (w->loud)
		log_debug("not shared: %s: %s", path, why);
}

/* Adds the song directory path if it holds a playlist (a regular file)
 * and shared_name gives its name. Returns 1 if path holds a playlist (it
 * is a song directory, shared or refused), 0 if not, -1 if out of memory. */
static int
library_add_songdir(struct library *lib, const char *path, struct shared *sh)
{
	char index[PATH_MAX], name[PROTO_MAX_NAME + 1];
	struct filekey_id id;
	struct stat st;

	if (snprintf(index, sizeof(index), "%s/%s", path, PLAYLIST_INDEX_NAME) >=
	    (int)sizeof(index) || lstat(index, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (shared_name(sh, path, name) < 0)
		return 1;
	filekey_id_of(&st, &id);
	return library_add(lib, name, path, LIBRARY_SONGDIR, &id) < 0 ? -1 : 1;
}

/* Adds the audio file path (its file name ending in a suffix of suflen
 * bytes); the song name is its path below the -L directory without the
 * suffix. Returns -1 if out of memory. */
static int
library_add_file(struct library_walk *w, const char *path,
    const struct stat *st, size_t suflen)
{
	char name[PATH_MAX];
	struct filekey_id id;
	size_t len = strlen(path) - suflen - w->rootlen - 1, n;

	memcpy(name, path + w->rootlen + 1, len);
	name[len] = '\0';
	filekey_id_of(st, &id);
	w->st->files++;
	n = w->lib->n;
	if (library_add(w->lib, name, path, LIBRARY_FILE, &id) < 0)
		return -1;
	if (w->lib->n > n) {
		w->lib->v[n].tagged = 1;
		if ((w->lib->v[n].pathname = strdup(name)) == NULL)
			return -1;
	}
	return 0;
}

static int library_walk_dir(struct library_walk *w, const char *dir,
    const struct stat *dst);

/* Looks at one entry of a directory being walked: an audio file, a
 * directory to go into, or something left out (counted). Returns -1 if
 * out of memory. */
static int
library_walk_entry(struct library_walk *w, const char *dir, const char *file)
{
	char path[PATH_MAX];
	struct stat st;
	size_t suflen;

	if (file[0] == '.') {
		w->st->hidden++;
		if (w->loud)
			log_debug("not shared: %s/%s: hidden", dir, file);
		return 0;
	}
	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path)) {
		w->st->unreadable++;
		library_left_out(w, dir, "a name in it makes too long a path");
		return 0;
	}
	/* an audio file that cannot be used is worth a warning */
	suflen = library_audio_suffix(file);
	if (stat(path, &st) < 0) {
		w->st->unreadable++;
		if (suflen > 0 && w->loud)
			log_warn("skipping %s: %s", path, strerror(errno));
		else
			library_left_out(w, path, strerror(errno));
		return 0;
	}
	if (S_ISDIR(st.st_mode))
		return library_walk_dir(w, path, &st);
	if (!S_ISREG(st.st_mode) || suflen == 0) {
		w->st->not_audio++;
		if (suflen > 0 && w->loud)
			log_warn("skipping %s: not a regular file", path);
		else
			library_left_out(w, path, S_ISREG(st.st_mode) ?
			    "not named as an audio file" : "not a regular file");
		return 0;
	}
	return library_add_file(w, path, &st, suflen);
}

/* Walks the directory dir (stat st): a song directory is added as one
 * song; otherwise its entries in byte order of their names, down to
 * LIBRARY_MAX_DEPTH levels, a directory that is one of its own parents
 * (a symbolic link loop) left out. Returns -1 if out of memory. */
static int
library_walk_dir(struct library_walk *w, const char *dir, const struct stat *dst)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc;

	for (int i = 0; i < w->depth; i++)
		if (w->dev[i] == dst->st_dev && w->ino[i] == dst->st_ino) {
			w->st->loops++;
			library_left_out(w, dir, "a symbolic link loop");
			return 0;
		}
	if (w->depth > LIBRARY_MAX_DEPTH) {
		w->st->too_deep++;
		library_left_out(w, dir, "too deep below the library directory");
		return 0;
	}
	if ((rc = library_add_songdir(w->lib, dir, w->sh)) != 0) {
		if (rc > 0)
			w->st->songdirs++;
		return rc < 0 ? -1 : 0;
	}
	if ((d = opendir(dir)) == NULL) {
		w->st->unreadable++;
		if (w->depth == 0)
			log_error("cannot read library directory %s: %s", dir,
			    strerror(errno));
		else
			library_left_out(w, dir, strerror(errno));
		return w->depth == 0 ? -2 : 0;
	}
	rc = 0;
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				w->st->unreadable++;
				log_warn("cannot read all of library directory %s: %s",
				    dir, strerror(errno));
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (w->st->entries >= LIBRARY_MAX_ENTRIES) {
			if (w->st->entries++ == LIBRARY_MAX_ENTRIES)
				log_warn("library has more than %d entries; the rest "
				    "(from %s on) is not shared", LIBRARY_MAX_ENTRIES, dir);
			w->st->too_many++;
			continue;
		}
		w->st->entries++;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			char **v = realloc(names, cap * sizeof(*v));
			if (v == NULL) {
				rc = -1;
				break;
			}
			names = v;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			rc = -1;
			break;
		}
		n++;
	}
	closedir(d);
	if (names != NULL)
		qsort(names, n, sizeof(*names), library_cmp);
	w->dev[w->depth] = dst->st_dev;
	w->ino[w->depth] = dst->st_ino;
	w->depth++;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = library_walk_entry(w, dir, names[i]);
		free(names[i]);
	}
	w->depth--;
	free(names);
	return rc;
}

int
library_scan_dir(struct library *lib, const char *dir, struct shared *sh,
    int loud, struct library_stats *st)
{
	struct library_walk w = { .lib = lib, .sh = sh, .st = st, .loud = loud };
	char root[PATH_MAX];
	struct stat dst;
	int rc;

	/* song names are cut from paths below root: no trailing '/' */
	w.rootlen = strlen(dir);
	while (w.rootlen > 1 && dir[w.rootlen - 1] == '/')
		w.rootlen--;
	if (w.rootlen >= sizeof(root)) {
		log_error("cannot read library directory %s: path too long", dir);
		return -1;
	}
	memcpy(root, dir, w.rootlen);
	root[w.rootlen] = '\0';
	if (stat(root, &dst) < 0) {
		log_error("cannot read library directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(dst.st_mode)) {
		log_error("cannot read library directory %s: not a directory", dir);
		return -1;
	}
	rc = library_walk_dir(&w, root, &dst);
	if (rc == -1)
		log_error("out of memory while reading %s", dir);
	return rc < 0 ? -1 : 0;
}

void
library_free(struct library *lib)
{
	for (size_t i = 0; i < lib->n; i++) {
		free(lib->v[i].name);
		free(lib->v[i].path);
		free(lib->v[i].pathname);
	}
	free(lib->v);
	memset(lib, 0, sizeof(*lib));
}
