/* handlers.c - REQUEST_SONG, REQUEST_SEGMENT (segments, and the cover art
 * pictures of the songs) and PING, per docs/protocol.md, and the relay's
 * commands (relay.c) on a peer that offers one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2pm/log.h"
#include "art.h"
#include "handlers.h"
#include "index.h"
#include "relay.h"

static int
handle_song(struct conn *c, struct index *idx, const char *name)
{
	char enc[PROTO_MAX_ENCODED_NAME + 1];
	char *text;
	size_t len;

	if (index_playlist(idx, name, &text, &len) < 0)
		return conn_error(c, PROTO_NOT_FOUND, "no such song");
	if (proto_encode_name(name, strlen(name), enc, sizeof(enc)) < 0) {
		free(text);
		return conn_error(c, PROTO_INTERNAL, NULL);
	}
	log_debug("%s: playlist of '%s'", c->remote, name);
	int rc = conn_printf(c, "PLAYLIST %s.m3u8 %zu\n", enc, len);
	if (rc == 0)
		rc = conn_write(c, text, len);
	free(text);
	return rc;
}

static int
handle_segment(struct conn *c, struct index *idx, const char *segment)
{
	char enc[PROTO_MAX_ENCODED_NAME + 1];
	struct stat st;
	int fd, rc;

	fd = index_segment_open(idx, segment);
	if (fd == INDEX_NO_SUCH_SEGMENT && picture_name_ok(segment, strlen(segment))) {
		/* a song's cover art, named like a segment by its hash */
		fd = art_open_picture(segment);
		if (fd < 0)
			fd = errno == ENOENT ? INDEX_NO_SUCH_SEGMENT : INDEX_OPEN_FAILED;
	}
	if (fd == INDEX_NO_SUCH_SEGMENT)
		return conn_error(c, PROTO_NOT_FOUND, "no such segment");
	if (fd == INDEX_CHANGED)
		return conn_error(c, PROTO_NOT_FOUND,
		    "segment changed since it was checked");
	if (fd == INDEX_OPEN_FAILED) {
		log_error("cannot open segment %s: %s", segment, strerror(errno));
		return conn_error(c, PROTO_INTERNAL, "cannot read segment");
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > PROTO_MAX_SEGMENT_BYTES) {
		log_error("segment %s is not a readable file of at most %ld bytes",
		    segment, PROTO_MAX_SEGMENT_BYTES);
		close(fd);
		return conn_error(c, PROTO_INTERNAL, "cannot read segment");
	}
	proto_encode_name(segment, strlen(segment), enc, sizeof(enc));
	log_debug("%s: segment %s (%lld bytes)", c->remote, segment,
	    (long long)st.st_size);
	rc = conn_printf(c, "SEGMENT %s %lld\n", enc, (long long)st.st_size);
	if (rc == 0)
		rc = conn_sendfile(c, fd, (size_t)st.st_size);
	if (rc < 0)
		log_debug("%s: sending %s failed: %s", c->remote, segment, strerror(errno));
	close(fd);
	return rc;
}

int
peer_handle(struct conn *c, const struct proto_request *req, void *ctx)
{
	struct peer_ctx *pc = ctx;
	struct index *idx = pc->idx;

	switch (req->cmd) {
	case PROTO_CMD_RESERVE:
		return pc->relay != NULL ? relay_reserve(pc->relay, c, req) :
		    conn_error(c, PROTO_BAD_REQUEST, "unknown command");
	case PROTO_CMD_CONNECT:
		return pc->relay != NULL ? relay_connect(pc->relay, c, req) :
		    conn_error(c, PROTO_BAD_REQUEST, "unknown command");
	case PROTO_CMD_ACCEPT:
		return pc->relay != NULL ? relay_accept(pc->relay, c, req) :
		    conn_error(c, PROTO_BAD_REQUEST, "unknown command");
	case PROTO_CMD_PING:
		return conn_printf(c, "PONG\n");
	case PROTO_CMD_REQUEST_SONG:
		return handle_song(c, idx, req->arg);
	case PROTO_CMD_REQUEST_SEGMENT:
		return handle_segment(c, idx, req->arg);
	default:
		return conn_error(c, PROTO_BAD_REQUEST, "unknown command");
	}
}
