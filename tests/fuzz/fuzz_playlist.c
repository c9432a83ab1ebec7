/* fuzz_playlist.c - playlist bodies as the client and the peer's cache read
 * them: playlist_parse, whose every segment name must be safe as a file
 * name, distinct and with a duration in range; and the comparisons used
 * when a stream moves to another peer. */
#include "fuzz.h"
#include "p2pm/playlist.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct playlist pl, half;
	char why[128];
	char *s;

	if ((size_t)size > PROTO_MAX_PLAYLIST_BYTES || (s = fuzz_cstring(data, size)) == NULL)
		return 0;
	if (playlist_parse(s, size, &pl, why, sizeof(why)) == 0) {
		long total = 0;

		if (pl.count == 0 || pl.count > PLAYLIST_MAX_SEGMENTS)
			abort();
		for (size_t i = 0; i < pl.count; i++) {
			const struct playlist_segment *g = &pl.segs[i];
			if (!playlist_segment_name_ok(g->name, strlen(g->name)) ||
			    g->duration_ms < 0 ||
			    g->duration_ms > PLAYLIST_MAX_SEGMENT_SECONDS * 1000L)
				abort();
			total += g->duration_ms;
			for (size_t j = 0; j < i; j++)
				if (strcmp(pl.segs[j].name, g->name) == 0)
					abort();
		}
		if (total != pl.total_ms)
			abort();
		if (!playlist_same_segments(&pl, &pl) || !playlist_same_tail(&pl, &pl, 0))
			abort();
		/* the same text cut at its middle: must parse or refuse, never break */
		if (playlist_parse(s, size / 2, &half, why, sizeof(why)) == 0) {
			(void)playlist_same_segments(&pl, &half);
			(void)playlist_same_tail(&pl, &half, half.count / 2);
			playlist_free(&half);
		}
		playlist_free(&pl);
	} else if (pl.count != 0 || pl.segs != NULL) {
		abort();
	}
	free(s);
	return 0;
}
