/* notify.c - the sd_notify datagram (see notify.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "p2pm/notify.h"

int
notify_send(const char *state, char *err, size_t errlen)
{
	const char *path = getenv(NOTIFY_SOCKET_ENV);
	struct sockaddr_un sun;
	size_t plen, slen = strlen(state);
	socklen_t alen;
	ssize_t n;
	int fd;

	if (path == NULL || *path == '\0')
		return 1;
	plen = strlen(path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s is neither an absolute path nor an abstract "
		    "name ('@...') that fits a socket address", NOTIFY_SOCKET_ENV);
		return -1;
	}
	if (slen > NOTIFY_MAX_STATE) {
		snprintf(err, errlen, "notification longer than %d bytes",
		    NOTIFY_MAX_STATE);
		return -1;
	}
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';		/* the abstract namespace */
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	do
		n = sendto(fd, state, slen, MSG_NOSIGNAL, (struct sockaddr *)&sun, alen);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != slen) {
		snprintf(err, errlen, "cannot notify %s: %s", path,
		    n < 0 ? strerror(errno) : "short send");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
