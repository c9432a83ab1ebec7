/* fakepeer.c - a peer for the client's tests that serves one song from a
 * song directory (or any playlist file) and can be told to lie or stall.
 *
 * At start it reads the playlist (DIR/index.m3u8, or --playlist FILE) and,
 * for each segment line of it, the file of that name in DIR if there is
 * one; it serves only those, so no path is ever made from a request. It
 * answers REQUEST_SONG for NAME (default: DIR/song.name) and
 * REQUEST_SEGMENT for the segments it loaded, one connection per thread,
 * and prints "listening on HOST:PORT". Every segment it sends is counted
 * in a line "served <name>" on stdout.
 *
 *   --flip N          flips one byte in the middle of segment N (1-based,
 *                     playlist order; 0: every segment), same length
 *   --short N         sends segment N one byte short, announced so (0:
 *                     every segment)
 *   --wrong-playlist  serves the playlist with one byte of its first
 *                     segment name changed (still a valid playlist)
 *   --stall-after N   after N segments on a connection, reads requests
 *                     and answers nothing more (holds the connection)
 *   --err-segments    answers ERR 404 to every segment request
 *   --v1-tracker ADDRS  also plays a version-1 tracker: QUERY of NAME
 *                     answers "PEERS ADDRS", LOCATE "ERR 400 unknown
 *                     command", as a tracker without LOCATE does
 *
 * usage: fakepeer [-l ADDR:PORT] [-n NAME] [--playlist FILE] [flags] DIR */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "p2pm/net.h"
#include "p2pm/proto.h"
#include "p2pm/reader.h"
#include "p2pm/strnum.h"

/* most segments loaded */
#define FAKE_MAX_SEGMENTS 10000
/* largest file loaded, in bytes */
#define FAKE_MAX_FILE (64L * 1024 * 1024)
/* idle wait on a connection, in milliseconds */
#define FAKE_IDLE_MS 30000

struct fake_segment {
	char name[PROTO_MAX_NAME + 1];
	char *data;		/* NULL: no such file in DIR */
	size_t len;
};

static struct {
	char song[PROTO_MAX_NAME + 1];
	char *playlist;
	size_t playlist_len;
	struct fake_segment segs[FAKE_MAX_SEGMENTS];
	size_t count;
	long flip, shorten, stall_after;
	int wrong_playlist, err_segments;
	const char *v1_peers;	/* --v1-tracker, or NULL */
	pthread_mutex_t out_lock;
} fake = { .flip = -1, .shorten = -1, .stall_after = -1 };

static char *
fake_load(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	size_t got = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > FAKE_MAX_FILE) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size &&
	    (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* Loads every file the playlist names that DIR holds. */
static void
fake_load_segments(const char *dir)
{
	const char *p = fake.playlist, *end = p + fake.playlist_len;

	while (p < end && fake.count < FAKE_MAX_SEGMENTS) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0 && p[0] != '#' && n <= PROTO_MAX_NAME &&
		    memchr(p, '/', n) == NULL) {
			struct fake_segment *s = &fake.segs[fake.count++];
			char path[4096];
			memcpy(s->name, p, n);
			s->name[n] = '\0';
			snprintf(path, sizeof(path), "%s/%s", dir, s->name);
			s->data = fake_load(path, &s->len);
		}
		p = nl ? nl + 1 : end;
	}
}

static int
fake_reply(int fd, const char *word, const char *name, size_t namelen,
    const char *body, size_t announced, size_t sent)
{
	char enc[PROTO_MAX_ENCODED_NAME + 8], head[PROTO_MAX_LINE];

	if (proto_encode_name(name, namelen, enc, sizeof(enc)) < 0)
		return -1;
	snprintf(head, sizeof(head), "%s %s %zu\n", word, enc, announced);
	if (net_write_all(fd, head, strlen(head)) < 0)
		return -1;
	return net_write_all(fd, body, sent);
}

static int
fake_segment(int fd, const struct proto_request *req)
{
	char errline[128];

	for (size_t i = 0; i < fake.count; i++) {
		struct fake_segment *s = &fake.segs[i];
		char *copy;
		size_t len;
		int rc;

		if (s->data == NULL || strcmp(s->name, req->arg) != 0)
			continue;
		if (fake.err_segments)
			break;
		len = s->len;
		if ((copy = malloc(len + 1)) == NULL)
			return -1;
		memcpy(copy, s->data, len);
		if ((fake.flip == 0 || fake.flip == (long)i + 1) && len > 0)
			copy[len / 2] ^= 0x01;
		if ((fake.shorten == 0 || fake.shorten == (long)i + 1) && len > 0)
			len--;
		rc = fake_reply(fd, "SEGMENT", req->arg, req->arglen, copy, len, len);
		free(copy);
		pthread_mutex_lock(&fake.out_lock);
		printf("served %s\n", s->name);
		fflush(stdout);
		pthread_mutex_unlock(&fake.out_lock);
		return rc;
	}
	proto_format_err(errline, sizeof(errline), PROTO_NOT_FOUND, "no such segment");
	return net_write_all(fd, errline, strlen(errline));
}

static void *
fake_serve(void *arg)
{
	int fd = (int)(long)arg;
	char line[PROTO_MAX_LINE + 1], errline[128];
	struct proto_request req;
	struct reader *rd = malloc(sizeof(*rd));
	long segments = 0;
	size_t len;

	if (rd == NULL) {
		close(fd);
		return NULL;
	}
	reader_init(rd, fd, FAKE_IDLE_MS);
	while (reader_line(rd, line, sizeof(line), PROTO_MAX_LINE, &len) == READER_OK) {
		int rc = 0;
		if (proto_parse_request(line, len, &req, NULL, 0) != PROTO_OK) {
			proto_format_err(errline, sizeof(errline), PROTO_BAD_REQUEST,
			    "bad request");
			rc = net_write_all(fd, errline, strlen(errline));
		} else if (req.cmd == PROTO_CMD_QUIT) {
			break;
		} else if (fake.stall_after >= 0 && segments >= fake.stall_after) {
			continue;	/* stalled: hear everything, say nothing */
		} else if (req.cmd == PROTO_CMD_REQUEST_SONG &&
		    strcmp(req.arg, fake.song) == 0) {
			char name[PROTO_MAX_REPLY_NAME + 1], *pl;
			snprintf(name, sizeof(name), "%s.m3u8", fake.song);
			pl = malloc(fake.playlist_len + 1);
			if (pl == NULL)
				break;
			memcpy(pl, fake.playlist, fake.playlist_len);
			if (fake.wrong_playlist && fake.count > 0) {
				char *at = strstr(pl, fake.segs[0].name);
				if (at != NULL)
					at[0] = at[0] == '0' ? '1' : '0';
			}
			rc = fake_reply(fd, "PLAYLIST", name, strlen(name), pl,
			    fake.playlist_len, fake.playlist_len);
			free(pl);
		} else if (fake.v1_peers != NULL && req.cmd == PROTO_CMD_LOCATE) {
			proto_format_err(errline, sizeof(errline), PROTO_BAD_REQUEST,
			    "unknown command");
			rc = net_write_all(fd, errline, strlen(errline));
		} else if (fake.v1_peers != NULL && req.cmd == PROTO_CMD_QUERY) {
			char reply[PROTO_MAX_LINE];
			snprintf(reply, sizeof(reply), "PEERS %s\n",
			    strcmp(req.arg, fake.song) == 0 ? fake.v1_peers : "");
			rc = net_write_all(fd, reply, strlen(reply));
		} else if (req.cmd == PROTO_CMD_REQUEST_SEGMENT) {
			segments++;
			rc = fake_segment(fd, &req);
		} else {
			proto_format_err(errline, sizeof(errline), PROTO_NOT_FOUND,
			    "not found");
			rc = net_write_all(fd, errline, strlen(errline));
		}
		if (rc < 0)
			break;
	}
	free(rd);
	close(fd);
	return NULL;
}

static int
fake_usage(void)
{
	fprintf(stderr, "usage: fakepeer [-l ADDR:PORT] [-n NAME] [--playlist FILE] "
	    "[--flip N] [--short N] [--wrong-playlist] [--stall-after N] "
	    "[--err-segments] [--v1-tracker ADDRS] DIR\n");
	return 2;
}

int
main(int argc, char **argv)
{
	const char *listen_addr = "127.0.0.1:0", *dir = NULL, *plfile = NULL;
	char err[NET_ERR_LEN], addr[NET_ADDR_MAX], path[4096];
	int lfd, fd;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		long *num = NULL;
		if (strcmp(a, "-l") == 0 && i + 1 < argc)
			listen_addr = argv[++i];
		else if (strcmp(a, "-n") == 0 && i + 1 < argc)
			snprintf(fake.song, sizeof(fake.song), "%s", argv[++i]);
		else if (strcmp(a, "--playlist") == 0 && i + 1 < argc)
			plfile = argv[++i];
		else if (strcmp(a, "--wrong-playlist") == 0)
			fake.wrong_playlist = 1;
		else if (strcmp(a, "--v1-tracker") == 0 && i + 1 < argc)
			fake.v1_peers = argv[++i];
		else if (strcmp(a, "--err-segments") == 0)
			fake.err_segments = 1;
		else if (strcmp(a, "--flip") == 0)
			num = &fake.flip;
		else if (strcmp(a, "--short") == 0)
			num = &fake.shorten;
		else if (strcmp(a, "--stall-after") == 0)
			num = &fake.stall_after;
		else if (a[0] != '-' && dir == NULL)
			dir = a;
		else
			return fake_usage();
		if (num != NULL && (i + 1 >= argc ||
		    strnum_parse(argv[++i], 0, FAKE_MAX_SEGMENTS, num) < 0))
			return fake_usage();
	}
	if (dir == NULL)
		return fake_usage();
	snprintf(path, sizeof(path), "%s/index.m3u8", dir);
	fake.playlist = fake_load(plfile ? plfile : path, &fake.playlist_len);
	if (fake.playlist == NULL) {
		fprintf(stderr, "fakepeer: cannot read the playlist\n");
		return 1;
	}
	if (fake.song[0] == '\0') {
		size_t n;
		char *name;
		snprintf(path, sizeof(path), "%s/song.name", dir);
		if ((name = fake_load(path, &n)) == NULL || n < 2) {
			fprintf(stderr, "fakepeer: no song name (-n or DIR/song.name)\n");
			return 1;
		}
		name[strcspn(name, "\n")] = '\0';
		snprintf(fake.song, sizeof(fake.song), "%s", name);
		free(name);
	}
	fake_load_segments(dir);
	pthread_mutex_init(&fake.out_lock, NULL);
	signal(SIGPIPE, SIG_IGN);
	lfd = net_listen(listen_addr, err, sizeof(err));
	if (lfd < 0 || net_local_addr(lfd, addr, sizeof(addr)) < 0) {
		fprintf(stderr, "fakepeer: %s\n", lfd < 0 ? err : strerror(errno));
		return 1;
	}
	printf("listening on %s\n", addr);
	fflush(stdout);
	for (;;) {
		pthread_t t;
		pthread_attr_t attr;

		fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			struct timespec ts = { 0, 100000000L };
			if (errno != EINTR && errno != ECONNABORTED)
				nanosleep(&ts, NULL);
			continue;
		}
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, fake_serve, (void *)(long)fd) != 0)
			close(fd);
		pthread_attr_destroy(&attr);
	}
}
