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

int
library_add(struct library *lib, const char *name, const char *path,
    enum library_kind kind, const struct filekey_id *id)
{
	size_t len = strlen(name);

	if (len == 0 || len > PROTO_MAX_NAME || !proto_name_valid(name, len)) {
		log_warn("skipping %s: '%s' is not a valid song name (1-%d bytes of "
		    "UTF-8 without control characters)", path, name, PROTO_MAX_NAME);
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

static int
library_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds dir/file (a name ending in LIBRARY_SUFFIX, cut off in place) if it
 * is a regular file; says why in the log if not. Returns -1 if out of
 * memory. */
static int
library_add_file(struct library *lib, const char *dir, char *file)
{
	char path[PATH_MAX];
	struct filekey_id id;
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path)) {
		log_warn("skipping %s/%s: path too long", dir, file);
		return 0;
	}
	if (stat(path, &st) < 0) {
		log_warn("skipping %s: %s", path, strerror(errno));
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warn("skipping %s: not a regular file", path);
		return 0;
	}
	file[strlen(file) - strlen(LIBRARY_SUFFIX)] = '\0';
	filekey_id_of(&st, &id);
	return library_add(lib, file, path, LIBRARY_FILE, &id);
}

/* Adds the song directory path if it holds a playlist (a regular file)
 * and shared_name gives its name. Returns -1 if out of memory. */
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
		return 0;
	filekey_id_of(&st, &id);
	return library_add(lib, name, path, LIBRARY_SONGDIR, &id);
}

/* Adds dir/sub if it is a song directory. */
static int
library_add_subdir(struct library *lib, const char *dir, const char *sub,
    struct shared *sh)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", dir, sub) >= (int)sizeof(path) ||
	    stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	return library_add_songdir(lib, path, sh);
}

int
library_scan_dir(struct library *lib, const char *dir, struct shared *sh)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, suffix = strlen(LIBRARY_SUFFIX);
	int rc = 0;

	if (d == NULL) {
		log_error("cannot read library directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if (library_add_songdir(lib, dir, sh) < 0) {
		closedir(d);
		log_error("out of memory while reading %s", dir);
		return -1;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				log_warn("cannot read all of library directory %s: %s",
				    dir, strerror(errno));
			break;
		}
		size_t len = strlen(de->d_name);
		int mp3 = len > suffix &&
		    strcasecmp(de->d_name + len - suffix, LIBRARY_SUFFIX) == 0;
		/* other names may be song directories: only those not typed as
		 * something else are looked at */
		if (de->d_name[0] == '.' || (!mp3 && de->d_type != DT_DIR &&
		    de->d_type != DT_LNK && de->d_type != DT_UNKNOWN))
			continue;
		if (n == LIBRARY_MAX_DIR_FILES) {
			log_warn("library directory %s has more than %d %s files; "
			    "sharing %d of them", dir, LIBRARY_MAX_DIR_FILES,
			    LIBRARY_SUFFIX, LIBRARY_MAX_DIR_FILES);
			break;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			char **v = realloc(names, cap * sizeof(*v));
			if (v == NULL) {
				rc = -1;
				break;
			}
			names = v;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			rc = -1;
			break;
		}
		n++;
	}
	closedir(d);
	if (names != NULL)
		qsort(names, n, sizeof(*names), library_cmp);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);
		if (rc == 0 && len > suffix &&
		    strcasecmp(names[i] + len - suffix, LIBRARY_SUFFIX) == 0)
			rc = library_add_file(lib, dir, names[i]);
		else if (rc == 0)
			rc = library_add_subdir(lib, dir, names[i], sh);
		free(names[i]);
	}
	free(names);
	if (rc < 0)
		log_error("out of memory while reading %s", dir);
	return rc;
}

void
library_free(struct library *lib)
{
	for (size_t i = 0; i < lib->n; i++) {
		free(lib->v[i].name);
		free(lib->v[i].path);
	}
	free(lib->v);
	memset(lib, 0, sizeof(*lib));
}
