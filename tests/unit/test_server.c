/* test_server.c - the server under an open-file limit: max_conns fitted
 * to it, and accept(2) failing with EMFILE sheds the connection with
 * ERR 503 and goes on serving, without spinning or piling up threads. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "p2pm/log.h"
#include "p2pm/net.h"
#include "p2pm/server.h"
#include "tap.h"

static volatile sig_atomic_t stop;
static struct sockaddr_in addr;

static int
answer(struct conn *c, const struct proto_request *req, void *ctx)
{
	(void)req;
	(void)ctx;
	return conn_printf(c, "PONG\n");
}

static void *
run(void *arg)
{
	server_run(arg, &stop);
	return NULL;
}

/* How many threads this process has, read from status_fd (open on
 * /proc/self/status, so that no descriptor is needed to read it again),
 * or -1. */
static int
thread_count(int status_fd)
{
	char buf[4096], *p;
	ssize_t n = pread(status_fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "\nThreads:");
	return p != NULL ? atoi(p + strlen("\nThreads:")) : -1;
}

/* Connects fd (a fresh socket) to the server, sends PING, returns the
 * first line of the answer in buf. */
static const char *
ping(int fd, char *buf, size_t buflen)
{
	struct timeval tv = { 5, 0 };
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    write(fd, "PING\n", 5) != 5)
		return "";
	n = read(fd, buf, buflen - 1);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

int
main(void)
{
	struct server_config cfg = {
		.listen_addr = "127.0.0.1:0",
		.idle_timeout_s = 5,
		.max_conns = SERVER_MAX_MAX_CONNS,
		.commands = SERVER_CMD(PROTO_CMD_PING),
		.handler = answer,
	};
	char err[NET_ERR_LEN], buf[128], host[NET_HOST_MAX];
	struct rlimit rl, low;
	struct server *s;
	pthread_t tid;
	unsigned port;
	const char *reply;
	int c1, c2, c2b, c3, lowest, served, status_fd;

	log_init("test_server", LOG_LEVEL_ERROR);
	getrlimit(RLIMIT_NOFILE, &rl);
	low = rl;
	low.rlim_cur = 128;
	setrlimit(RLIMIT_NOFILE, &low);
	s = server_open(&cfg, err, sizeof(err));
	if (!ok(s != NULL, "server_open: %s", s != NULL ? "ok" : err))
		return done_testing();
	getrlimit(RLIMIT_NOFILE, &low);
	ok(low.rlim_cur == rl.rlim_max, "the soft open-file limit is raised to the hard one");
	ok(rl.rlim_max == RLIM_INFINITY || (long)server_max_conns(s) <=
	    (long)rl.rlim_max - SERVER_FD_RESERVE,
	    "max_conns is lowered to fit it (%d)", server_max_conns(s));
	net_parse_hostport(server_address(s), host, sizeof(host), &port, 0);
	addr.sin_family = AF_INET;
	addr.sin_port = htons((unsigned short)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	pthread_create(&tid, NULL, run, s);

	c1 = socket(AF_INET, SOCK_STREAM, 0);
	ok(strcmp(ping(c1, buf, sizeof(buf)), "PONG") == 0, "a connection is served");

	/* no descriptor left for accept(2). An acceptor already waiting in
	 * it holds the descriptor it reserved (Linux takes it before the
	 * wait), so one newcomer may yet be served with that; the next is
	 * not */
	c2 = socket(AF_INET, SOCK_STREAM, 0);
	c2b = socket(AF_INET, SOCK_STREAM, 0);
	c3 = socket(AF_INET, SOCK_STREAM, 0);
	status_fd = open("/proc/self/status", O_RDONLY);
	lowest = dup(0);
	close(lowest);
	getrlimit(RLIMIT_NOFILE, &low);
	low.rlim_cur = (rlim_t)lowest;
	setrlimit(RLIMIT_NOFILE, &low);
	reply = ping(c2, buf, sizeof(buf));
	served = strcmp(reply, "PONG") == 0;
	if (served)
		reply = ping(c2b, buf, sizeof(buf));
	ok(strcmp(reply, "ERR 503 busy") == 0,
	    "out of descriptors, a newcomer gets ERR 503 busy (%s%s)",
	    served ? "one served first, through a reserved descriptor; " : "",
	    reply);
	struct rusage r0, r1;
	int threads = thread_count(status_fd);
	getrusage(RUSAGE_SELF, &r0);
	usleep(1000 * 1000);
	getrusage(RUSAGE_SELF, &r1);
	long us = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) * 1000000L +
	    (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) +
	    (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1000000L +
	    (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec);
	ok(us < 200000, "and the accept loop does not spin (%ld us of CPU in 1 s)", us);
	int threads_after = thread_count(status_fd);
	ok(threads > 0 && threads_after <= threads + 1,
	    "nor do threads pile up failing to accept (%d, then %d)",
	    threads, threads_after);
	ok(write(c1, "PING\n", 5) == 5 && read(c1, buf, sizeof(buf)) == 5,
	    "the open connection is still served");
	low.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 4096 : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &low);
	ok(strcmp(ping(c3, buf, sizeof(buf)), "PONG") == 0,
	    "with descriptors again, new connections are served");

	close(c1);
	close(c2);
	close(c2b);
	close(status_fd);
	close(c3);
	stop = 1;
	pthread_join(tid, NULL);
	ok(server_close(s) == 0, "server_close ends every connection");
	return done_testing();
}
