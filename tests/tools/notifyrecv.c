/* notifyrecv.c - a stand-in for a service manager's notification socket,
 * for tests of Type=notify: binds a datagram socket at PATH, prints
 * "bound" on stdout, then prints each datagram it receives (one "KEY=value"
 * per line, as sent) followed by an empty line, until SECONDS pass
 * without one or COUNT datagrams came.
 *
 * usage: notifyrecv PATH SECONDS COUNT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "p2pm/notify.h"
#include "p2pm/strnum.h"

/* longest wait and most datagrams a test may ask for */
#define NOTIFYRECV_MAX_SECONDS 600
#define NOTIFYRECV_MAX_COUNT 100

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	char buf[NOTIFY_MAX_STATE + 1];
	long secs, count;
	int fd;

	if (argc != 4 || strnum_parse(argv[2], 1, NOTIFYRECV_MAX_SECONDS, &secs) < 0 ||
	    strnum_parse(argv[3], 1, NOTIFYRECV_MAX_COUNT, &count) < 0 ||
	    strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: notifyrecv PATH SECONDS COUNT\n");
		return 2;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, argv[1], strlen(argv[1]));
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "notifyrecv: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	struct timeval tv = { secs, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	printf("bound\n");
	fflush(stdout);
	for (long i = 0; i < count; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			break;
		buf[n] = '\0';
		printf("%s\n\n", buf);
		fflush(stdout);
	}
	close(fd);
	unlink(argv[1]);
	return 0;
}
