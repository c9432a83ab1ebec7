/* test_notify.c - the sd_notify datagram reaches a socket named by a path
 * or an abstract name, and a bad $NOTIFY_SOCKET is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "p2pm/notify.h"
#include "tap.h"

/* A datagram socket bound to name (a path, or '@' for an abstract name). */
static int
bind_at(const char *name)
{
	struct sockaddr_un sun;
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, name, len);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		return -1;
	return fd;
}

/* What arrives on fd within a second, NUL-terminated, or "". */
static const char *
received(int fd)
{
	static char buf[NOTIFY_MAX_STATE + 1];
	struct timeval tv = { 1, 0 };
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[256], path[300], abstract[64], err[512];
	char big[NOTIFY_MAX_STATE + 2];
	int fd;

	unsetenv(NOTIFY_SOCKET_ENV);
	ok(notify_send("READY=1", err, sizeof(err)) == 1,
	    "without $NOTIFY_SOCKET there is nothing to do");
	setenv(NOTIFY_SOCKET_ENV, "", 1);
	ok(notify_send("READY=1", err, sizeof(err)) == 1, "  nor when it is empty");

	snprintf(dir, sizeof(dir), "%s/p2pm-notify.XXXXXX",
	    tmp != NULL && tmp[0] == '/' && strlen(tmp) < 64 ? tmp : "/tmp");
	ok(mkdtemp(dir) != NULL, "a scratch directory");
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = bind_at(path);
	setenv(NOTIFY_SOCKET_ENV, path, 1);
	ok(fd >= 0 && notify_send("READY=1\nSTATUS=listening on x", err,
	    sizeof(err)) == 0, "a datagram goes to a socket path");
	ok(strcmp(received(fd), "READY=1\nSTATUS=listening on x") == 0,
	    "  and arrives as one datagram, as sent");
	close(fd);
	unlink(path);
	ok(notify_send("READY=1", err, sizeof(err)) == -1 && err[0] != '\0',
	    "a socket that is gone: -1 with a reason (%s)", err);

	snprintf(abstract, sizeof(abstract), "@p2pm-notify-%ld", (long)getpid());
	fd = bind_at(abstract);
	setenv(NOTIFY_SOCKET_ENV, abstract, 1);
	ok(fd >= 0 && notify_send("READY=1", err, sizeof(err)) == 0 &&
	    strcmp(received(fd), "READY=1") == 0, "an abstract name ('@...') works too");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(notify_send(big, err, sizeof(err)) == -1,
	    "a notification over %d bytes is refused", NOTIFY_MAX_STATE);
	close(fd);

	setenv(NOTIFY_SOCKET_ENV, "relative/path", 1);
	ok(notify_send("READY=1", err, sizeof(err)) == -1, "a relative path is refused");
	memset(big, 'a', 200);
	big[0] = '/';
	big[200] = '\0';
	setenv(NOTIFY_SOCKET_ENV, big, 1);
	ok(notify_send("READY=1", err, sizeof(err)) == -1,
	    "a path too long for a socket address is refused");
	rmdir(dir);
	return done_testing();
}
