/* test_pathsearch.c - finding a program in $PATH as execvp does. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2pm/pathsearch.h"
#include "tap.h"

/* Makes dir/name with the given mode. */
static int
make_file(const char *dir, const char *name, mode_t mode)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return -1;
	return close(fd);
}

int
main(void)
{
	char tmpl[] = "/tmp/p2pm-pathsearch-XXXXXX", a[PATH_MAX], b[PATH_MAX];
	char path[2 * PATH_MAX + 8], out[PATH_MAX], want[PATH_MAX + 16];
	const char *base = mkdtemp(tmpl);

	if (base == NULL) {
		printf("Bail out! cannot make a scratch directory\n");
		return 1;
	}
	snprintf(a, sizeof(a), "%s/a", base);
	snprintf(b, sizeof(b), "%s/b", base);
	if (mkdir(a, 0700) < 0 || mkdir(b, 0700) < 0 ||
	    make_file(a, "prog", 0600) < 0 || make_file(b, "prog", 0700) < 0 ||
	    make_file(a, "first", 0700) < 0 || make_file(b, "first", 0700) < 0) {
		printf("Bail out! cannot fill the scratch directory\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s:%s", a, b);
	setenv("PATH", path, 1);

	snprintf(want, sizeof(want), "%s/first", a);
	ok(pathsearch_find("first", out, sizeof(out)) == 0 && strcmp(out, want) == 0,
	    "the first directory holding the program wins");
	snprintf(want, sizeof(want), "%s/prog", b);
	ok(pathsearch_find("prog", out, sizeof(out)) == 0 && strcmp(out, want) == 0,
	    "a file without execute permission is passed over");
	errno = 0;
	ok(pathsearch_find("missing", out, sizeof(out)) < 0 && errno == ENOENT,
	    "a program in no directory is ENOENT");
	errno = 0;
	ok(pathsearch_find("b", out, sizeof(out)) < 0,
	    "a directory is not a program");
	ok(pathsearch_find("first", out, 4) < 0, "a path longer than out is not found");

	if (chdir(a) == 0) {
		setenv("PATH", "", 1);
		ok(pathsearch_find("first", out, sizeof(out)) == 0 &&
		    strcmp(out, "./first") == 0,
		    "an empty PATH means the current directory");
		snprintf(path, sizeof(path), "%s:", "/no/such/dir");
		setenv("PATH", path, 1);
		ok(pathsearch_find("first", out, sizeof(out)) == 0 &&
		    strcmp(out, "./first") == 0,
		    "so does an empty entry");
	}
	unsetenv("PATH");
	ok(pathsearch_find("sh", out, sizeof(out)) == 0 &&
	    (strcmp(out, "/usr/bin/sh") == 0 || strcmp(out, "/bin/sh") == 0),
	    "with PATH unset, " PATHSEARCH_DEFAULT_PATH " is searched: %s", out);

	setenv("PATH", PATHSEARCH_DEFAULT_PATH, 1);
	snprintf(path, sizeof(path), "rm -rf '%s'", base);
	ok(system(path) == 0, "the scratch directory is removed");
	return done_testing();
}
