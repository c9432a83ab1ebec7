/* outstream.c - a song as one MPEG-TS stream on a descriptor (stdout or
 * the player's pipe), written segment by segment in playlist order as soon
 * as each and all before it are verified. */
#include <errno.h>
#include <string.h>

#include "p2pm/log.h"
#include "outstream.h"

static int
outstream_start(void *ctx, const struct playlist *playlist,
    const char *content_id)
{
	(void)ctx;
	(void)playlist;
	(void)content_id;
	return 0;
}

/* A reader that went away (EPIPE) is not an error of ours: answer 1. */
static int
outstream_segment(void *ctx, size_t index, const char *data, size_t len)
{
	struct outstream *os = ctx;

	(void)index;
	if (net_write_all(os->fd, data, len) < 0) {
		if (errno == EPIPE)
			return 1;
		log_error("cannot write the stream: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
outstream_finish(void *ctx)
{
	(void)ctx;
	return 0;
}

void
outstream_sink(struct outstream *os, struct fetch_sink *sink)
{
	sink->start = outstream_start;
	sink->segment = outstream_segment;
	sink->finish = outstream_finish;
	sink->in_order = 1;
	sink->ctx = os;
}
