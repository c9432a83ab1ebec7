/* test_mpegts.c - whole MPEG-TS packets told from other bytes. */
#include <stdlib.h>

#include "p2pm/mpegts.h"
#include "tap.h"

/* n packets of MPEGTS_PACKET bytes, each beginning with the sync byte
 * and filled with other bytes */
static unsigned char *
packets(size_t n)
{
	unsigned char *b = malloc(n * MPEGTS_PACKET + 1);

	memset(b, 0xff, n * MPEGTS_PACKET + 1);
	for (size_t i = 0; i < n; i++)
		b[i * MPEGTS_PACKET] = MPEGTS_SYNC;
	return b;
}

int
main(void)
{
	static const char playlist[] = "#EXTM3U\n#EXTINF:1,\nfile:/etc/passwd\n";
	unsigned char *b = packets(5);
	char why[128];

	ok(mpegts_check(b, MPEGTS_PACKET, why, sizeof(why)) == 0,
	    "one packet is a transport stream");
	ok(mpegts_check(b, 5 * MPEGTS_PACKET, why, sizeof(why)) == 0,
	    "five packets are one");
	ok(mpegts_check(b, 0, why, sizeof(why)) < 0 && strcmp(why, "empty") == 0,
	    "no bytes are not (\"%s\")", why);
	ok(mpegts_check(b, 5 * MPEGTS_PACKET + 1, why, sizeof(why)) < 0 &&
	    strstr(why, "941 bytes") != NULL,
	    "a byte more than whole packets is not (\"%s\")", why);
	ok(mpegts_check(b, MPEGTS_PACKET - 1, why, sizeof(why)) < 0,
	    "less than one packet is not");
	b[4 * MPEGTS_PACKET] = 0x46;
	ok(mpegts_check(b, 5 * MPEGTS_PACKET, why, sizeof(why)) < 0 &&
	    strstr(why, "0x46 at offset 752") != NULL,
	    "a wrong sync byte in the last packet is found (\"%s\")", why);
	ok(mpegts_check(b, 4 * MPEGTS_PACKET, why, sizeof(why)) == 0,
	    "  and the packets before it are whole");
	b[0] = '#';
	ok(mpegts_check(b, 5 * MPEGTS_PACKET, why, sizeof(why)) < 0 &&
	    strstr(why, "0x23 at offset 0") != NULL,
	    "the first fault is the one named (\"%s\")", why);
	free(b);

	/* text padded to a whole packet is still not a stream */
	b = packets(1);
	memcpy(b, playlist, sizeof(playlist) - 1);
	ok(mpegts_check(b, MPEGTS_PACKET, why, sizeof(why)) < 0,
	    "an HLS playlist padded to 188 bytes is not a transport stream");
	free(b);

	ok(mpegts_check("G", 1, why, 8) < 0 && strlen(why) == 7,
	    "a short why buffer gets a cut, terminated reason");
	return done_testing();
}
