/* session.c - one persistent connection to a peer: the playlist, then the
 * segments one after the other, then QUIT. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/log.h"
#include "client.h"

/* bodies are read in pieces this big, so an interrupt is seen in time */
#define SESSION_READ_CHUNK (64 * 1024)
/* slowest a body may arrive, on top of one --timeout: a peer dripping
 * bytes more slowly than this is given up like one that went silent */
#define SESSION_MIN_BYTES_PER_S (16 * 1024)

struct session *
session_open(const char *peer, int timeout_ms, char *err, size_t errlen)
{
	struct session *s;
	char neterr[NET_ERR_LEN], prefix[NET_ADDR_MAX + 32];

	s = malloc(sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	s->fd = net_connect(peer, timeout_ms, neterr, sizeof(neterr));
	if (s->fd < 0) {
		/* keep only the reason: "connection refused", "timed out" */
		const char *why = neterr;
		snprintf(prefix, sizeof(prefix), "cannot connect to %s: ", peer);
		if (strncmp(neterr, prefix, strlen(prefix)) == 0)
			why = neterr + strlen(prefix);
		snprintf(err, errlen, "%s", why);
		err[0] = (char)tolower((unsigned char)err[0]);
		free(s);
		return NULL;
	}
	net_set_timeouts(s->fd, timeout_ms, timeout_ms);
	reader_init(&s->rd, s->fd, timeout_ms);
	return s;
}

/* Sends "<cmd> <encoded name>" and reads the header of the body reply
 * ("<word> <want> <bytes>": a reply naming anything but `want` is refused
 * before its body is read), then the body itself into a fresh buffer. */
static int
session_body(struct session *s, const char *cmd, const char *name,
    const char *word, const char *want, long maxbytes, char **body, size_t *len,
    char *err, size_t errlen)
{
	char enc[PROTO_MAX_ENCODED_NAME + 1], line[PROTO_MAX_LINE + 1];
	char replyname[PROTO_MAX_REPLY_NAME + 1];
	char why[128];
	enum reader_result res;
	const char *text;
	size_t linelen, got;
	long bytes;
	char *buf;
	int code;

	*body = NULL;
	if (proto_encode_name(name, strlen(name), enc, sizeof(enc)) < 0) {
		snprintf(err, errlen, "name too long");
		return -1;
	}
	snprintf(line, sizeof(line), "%s %s\n", cmd, enc);
	if (net_write_all(s->fd, line, strlen(line)) < 0) {
		snprintf(err, errlen, "connection lost");
		return -1;
	}
	res = reader_line(&s->rd, line, sizeof(line), PROTO_MAX_LINE, &linelen);
	if (res != READER_OK) {
		snprintf(err, errlen, "%s", reader_strerror(res));
		return -1;
	}
	code = proto_parse_err(line, &text);
	if (code > 0) {
		snprintf(err, errlen, "answered ERR %d %s", code, text);
		return -1;
	}
	if (proto_parse_body_header(line, word, replyname, &bytes, maxbytes, why,
	    sizeof(why)) < 0) {
		snprintf(err, errlen, "%s to %s", why, cmd);
		return -1;
	}
	if (strcmp(replyname, want) != 0) {
		snprintf(err, errlen, "answered %s '%s' instead of '%s'", word,
		    replyname, want);
		return -1;
	}
	/* the whole body must come at a useful rate, not a byte now and then */
	reader_set_deadline(&s->rd, (long long)s->rd.timeout_ms +
	    (long long)bytes * 1000 / SESSION_MIN_BYTES_PER_S);
	buf = malloc((size_t)bytes + 1);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (got = 0; got < (size_t)bytes; ) {
		size_t n = (size_t)bytes - got;
		if (n > SESSION_READ_CHUNK)
			n = SESSION_READ_CHUNK;
		if (client_stop) {
			snprintf(err, errlen, "interrupted");
			reader_set_deadline(&s->rd, 0);
			free(buf);
			return -1;
		}
		res = reader_exact(&s->rd, buf + got, n);
		if (res == READER_TIMEOUT && s->rd.deadline_ms > 0 &&
		    clock_now_ms() >= s->rd.deadline_ms) {
			snprintf(err, errlen, "too slow: %zu of %ld bytes in %lld s",
			    got, bytes, ((long long)s->rd.timeout_ms +
			    (long long)bytes * 1000 / SESSION_MIN_BYTES_PER_S) / 1000);
			reader_set_deadline(&s->rd, 0);
			free(buf);
			return -1;
		}
		if (res != READER_OK) {
			reader_set_deadline(&s->rd, 0);
			snprintf(err, errlen, "%s after %zu of %ld bytes",
			    reader_strerror(res), got, bytes);
			free(buf);
			return -1;
		}
		got += n;
	}
	reader_set_deadline(&s->rd, 0);
	buf[bytes] = '\0';
	*body = buf;
	*len = (size_t)bytes;
	return 0;
}

int
session_playlist(struct session *s, const char *song, char **body, size_t *len,
    char *err, size_t errlen)
{
	char want[PROTO_MAX_REPLY_NAME + 1];

	snprintf(want, sizeof(want), "%s.m3u8", song);
	return session_body(s, "REQUEST_SONG", song, "PLAYLIST", want,
	    PROTO_MAX_PLAYLIST_BYTES, body, len, err, errlen);
}

int
session_segment(struct session *s, const char *name, char **body, size_t *len,
    char *err, size_t errlen)
{
	return session_body(s, "REQUEST_SEGMENT", name, "SEGMENT", name,
	    PROTO_MAX_SEGMENT_BYTES, body, len, err, errlen);
}

void
session_close(struct session *s)
{
	if (s == NULL)
		return;
	(void)net_write_all(s->fd, "QUIT\n", 5);
	close(s->fd);
	free(s);
}
