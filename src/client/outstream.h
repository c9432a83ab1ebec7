/* outstream.h - a song as one MPEG-TS stream on a descriptor. */
#ifndef P2PM_CLIENT_OUTSTREAM_H
#define P2PM_CLIENT_OUTSTREAM_H

#include "swarm.h"

struct outstream {
	int fd;
};

void outstream_sink(struct outstream *os, struct fetch_sink *sink);

#endif
