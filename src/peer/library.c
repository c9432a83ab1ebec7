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
#include "p2pm/proto.h"
#include "library.h"

int
library_add(struct library *lib, const char *name, const char *path)
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
	return library_add(lib, name, eq + 1) < 0 ? -2 : 0;
}

static int
library_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
library_scan_dir(struct library *lib, const char *dir)
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
	while ((de = readdir(d)) != NULL && n < LIBRARY_MAX_DIR_FILES) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= suffix ||
		    strcasecmp(de->d_name + len - suffix, LIBRARY_SUFFIX) != 0)
			continue;
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
		char path[PATH_MAX];
		struct stat st;
		size_t len = strlen(names[i]);

		if (rc == 0 && snprintf(path, sizeof(path), "%s/%s", dir, names[i]) <
		    (int)sizeof(path) && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			names[i][len - suffix] = '\0';
			if (library_add(lib, names[i], path) < 0)
				rc = -1;
		}
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
