/* pathsearch.c - finding a program in $PATH the way execvp does. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2pm/pathsearch.h"

int
pathsearch_find(const char *name, char *out, size_t outlen)
{
	const char *path = getenv("PATH"), *p, *end;
	int e = ENOENT;

	if (path == NULL)
		path = PATHSEARCH_DEFAULT_PATH;
	for (p = path; ; p = end + 1) {
		struct stat st;
		int n;

		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		/* an empty PATH entry means the current directory */
		if (end == p)
			n = snprintf(out, outlen, "./%s", name);
		else
			n = snprintf(out, outlen, "%.*s/%s", (int)(end - p), p, name);
		if (n > 0 && (size_t)n < outlen) {
			if (stat(out, &st) == 0 && !S_ISREG(st.st_mode))
				e = EACCES;
			else if (access(out, X_OK) == 0)
				return 0;
			else if (errno != ENOENT && errno != ENOTDIR)
				e = errno;
		}
		if (*end == '\0')
			break;
	}
	errno = e;
	return -1;
}
