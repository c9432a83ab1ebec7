/* songsearch.c - choosing songs from the tracker's list: the search that
 * `client list` and the gateway share, and the nearest song to a name
 * nobody holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/log.h"
#include "p2pm/search.h"
#include "client.h"
#include "songsearch.h"

/* Does e match q, in its name, its file name (alias) or its artist, album
 * or title tag? */
static int
songsearch_matches(const struct search_query *q, const struct song_entry *e)
{
	const char *fields[] = { e->name, e->artist, e->album, e->title, e->alias };

	return search_matches(q, fields, sizeof(fields) / sizeof(fields[0]));
}

size_t
songsearch_select(struct song_list *songs, const char *text)
{
	struct search_query *q;
	size_t kept = 0;

	if (text == NULL || text[strspn(text, " \t")] == '\0')
		return songs->count;
	q = malloc(sizeof(*q));
	if (q == NULL)
		return 0;
	search_query_init(q, text);
	/* each match swapped with the first entry after the matches so far:
	 * the matches keep their order (only others lie between), the
	 * others may not */
	for (size_t i = 0; i < songs->count; i++) {
		if (!songsearch_matches(q, &songs->songs[i]))
			continue;
		if (i != kept) {
			struct song_entry e = songs->songs[i];
			songs->songs[i] = songs->songs[kept];
			songs->songs[kept] = e;
		}
		kept++;
	}
	free(q);
	return kept;
}

int
songsearch_suggest(const struct song_list *songs, const char *typed,
    char out[PROTO_MAX_NAME + 1])
{
	const char **names;
	struct search_query *q;
	long best = -1;

	out[0] = '\0';
	if (songs->count == 0)
		return -1;
	names = malloc(songs->count * sizeof(*names));
	q = malloc(sizeof(*q));
	if (names != NULL && q != NULL) {
		for (size_t i = 0; i < songs->count; i++)
			names[i] = songs->songs[i].name;
		best = search_nearest(typed, names, songs->count);
		if (best < 0) {
			search_query_init(q, typed);
			for (size_t i = 0; i < songs->count && best < 0; i++)
				if (q->nwords > 0 && songsearch_matches(q, &songs->songs[i]))
					best = (long)i;
		}
	}
	free(names);
	free(q);
	if (best < 0)
		return -1;
	memcpy(out, songs->songs[best].name, strlen(songs->songs[best].name) + 1);
	return 0;
}

int
songsearch_same(const char *a, const char *b)
{
	char fa[SEARCH_FOLDED_LEN], fb[SEARCH_FOLDED_LEN];

	if (search_fold(a, strlen(a), fa, sizeof(fa)) < 0 ||
	    search_fold(b, strlen(b), fb, sizeof(fb)) < 0)
		return 0;
	return strcmp(fa, fb) == 0;
}

int
songsearch_suggest_album(const struct song_list *songs, const char *typed,
    char out[PROTO_MAX_NAME + 1])
{
	const char **albums;
	long best;

	out[0] = '\0';
	if (songs->count == 0)
		return -1;
	albums = malloc(songs->count * sizeof(*albums));
	if (albums == NULL)
		return -1;
	for (size_t i = 0; i < songs->count; i++)
		albums[i] = songs->songs[i].album;
	best = search_nearest(typed, albums, songs->count);
	if (best >= 0)
		snprintf(out, PROTO_MAX_NAME + 1, "%s", albums[best]);
	free(albums);
	return best >= 0 ? 0 : -1;
}

void
songsearch_log_suggestion(const struct cli_trackers *trackers, int timeout_ms,
    const char *typed)
{
	struct song_list songs;
	char err[CLIENT_ERR_LEN], near[PROTO_MAX_NAME + 1];

	if (tracker_list(trackers, NULL, timeout_ms, &songs, err, sizeof(err)) < 0)
		return;
	if (songsearch_suggest(&songs, typed, near) == 0)
		log_error("did you mean '%s'?", near);
	song_list_free(&songs);
}
