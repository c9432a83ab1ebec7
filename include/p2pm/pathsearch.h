/* pathsearch.h - finding a program in $PATH the way execvp does. */
#ifndef P2PM_PATHSEARCH_H
#define P2PM_PATHSEARCH_H

#include <stddef.h>

/* the search path when PATH is unset, as POSIX gives execvp */
#define PATHSEARCH_DEFAULT_PATH "/usr/bin:/bin"

/* Finds name (which holds no '/') in the directories of $PATH, in order,
 * and writes the first regular file that this process may execute into
 * out. An empty entry (so also PATH set to "") means the current
 * directory; with PATH unset, PATHSEARCH_DEFAULT_PATH is searched.
 * Returns 0, or -1 with errno ENOENT when nothing was found, or the error
 * of an entry that exists but cannot be run (EACCES, ...). */
int pathsearch_find(const char *name, char *out, size_t outlen);

#endif
