/* fuzz_playlist.c - playlist bodies as the client and the peer's cache read
 * them: playlist_parse, whose every segment name must be safe as a file
 * name, distinct and with a duration in range; and the comparisons used
 * when a stream moves to another peer; and the canonical form, which must
 * parse back to the same segments and give itself again. */
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
		long long total = 0;
		size_t clen, clen2;
		char *canon, *again;

		if (pl.count == 0 || pl.count > PLAYLIST_MAX_SEGMENTS)
			abort();
		for (size_t i = 0; i < pl.count; i++) {
			const struct playlist_segment *g = &pl.segs[i];
			if (!playlist_segment_name_ok(g->name, strlen(g->name)) ||
			    g->duration_us < 0 ||
			    g->duration_us > PLAYLIST_MAX_SEGMENT_SECONDS * 1000000LL ||
			    g->duration_ms != (long)(g->duration_us / 1000))
				abort();
			total += g->duration_us;
			for (size_t j = 0; j < i; j++)
				if (strcmp(pl.segs[j].name, g->name) == 0)
					abort();
		}
		if (total != pl.total_us || pl.total_ms != (long)(total / 1000))
			abort();
		if ((canon = playlist_canonical(&pl, &clen)) != NULL) {
			if (playlist_parse(canon, clen, &half, why, sizeof(why)) != 0 ||
			    !playlist_same_segments(&pl, &half) || half.total_us != pl.total_us)
				abort();
			again = playlist_canonical(&half, &clen2);
			if (again != NULL && (clen2 != clen || memcmp(again, canon, clen) != 0))
				abort();
			free(again);
			free(canon);
			playlist_free(&half);
		}
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
