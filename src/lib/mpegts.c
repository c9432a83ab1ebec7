/* mpegts.c - the framing of an MPEG transport stream, checked. */
#include <stdio.h>

#include "p2pm/mpegts.h"

int
mpegts_check(const void *buf, size_t len, char *why, size_t whylen)
{
	const unsigned char *b = buf;

	if (len == 0) {
		snprintf(why, whylen, "empty");
		return -1;
	}
	if (len % MPEGTS_PACKET != 0) {
		snprintf(why, whylen, "%zu bytes is not a whole number of %d-byte "
		    "packets", len, MPEGTS_PACKET);
		return -1;
	}
	for (size_t off = 0; off < len; off += MPEGTS_PACKET)
		if (b[off] != MPEGTS_SYNC) {
			snprintf(why, whylen, "byte 0x%02x at offset %zu where a "
			    "packet's sync byte 0x%02x belongs", b[off], off,
			    MPEGTS_SYNC);
			return -1;
		}
	return 0;
}
