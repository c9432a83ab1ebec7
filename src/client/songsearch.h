/* songsearch.h - the one search of the client: `client list`, the
 * gateway's /api/songs and the "did you mean" of an unknown song all pick
 * songs from the tracker's list the same way (include/p2pm/search.h:
 * every word of the text in the name, artist, album or title, ignoring
 * case and accents). */
#ifndef P2PM_CLIENT_SONGSEARCH_H
#define P2PM_CLIENT_SONGSEARCH_H

#include <stddef.h>

#include "p2pm/cli.h"
#include "tracker_client.h"

/* Moves the songs matching text to the front of songs, in their order,
 * and returns how many they are; the others follow (in another order
 * unless none matched), so that the list still owns, and song_list_free
 * frees, every entry. NULL or blank text matches every song. */
size_t songsearch_select(struct song_list *songs, const char *text);

/* Writes into out (PROTO_MAX_NAME + 1 bytes) the name of the song of
 * songs a person typing typed most likely meant: the nearest name by
 * search_nearest, else the first song typed finds as a search. Returns 0,
 * or -1 (out empty) when there is none. */
int songsearch_suggest(const struct song_list *songs, const char *typed,
    char out[PROTO_MAX_NAME + 1]);

/* Are a and b the same text once folded for search (so "homogénic" is
 * "Homogenic")? */
int songsearch_same(const char *a, const char *b);

/* Writes into out (PROTO_MAX_NAME + 1 bytes) the album tag of songs
 * nearest to typed (search_nearest). Returns 0, or -1 when none is near
 * enough. */
int songsearch_suggest_album(const struct song_list *songs, const char *typed,
    char out[PROTO_MAX_NAME + 1]);

/* For a song no tracker knows: asks the trackers for their list and
 * logs "did you mean 'NAME'?" when songsearch_suggest finds one. Says
 * nothing when the trackers cannot be asked. */
void songsearch_log_suggestion(const struct cli_trackers *trackers,
    int timeout_ms, const char *typed);

#endif
