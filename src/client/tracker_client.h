/* tracker_client.h - LOCATE, QUERY and LIST, to several trackers in turn,
 * and the lists of peers, sources and songs they answer. */
#ifndef P2PM_CLIENT_TRACKER_CLIENT_H
#define P2PM_CLIENT_TRACKER_CLIENT_H

#include <stddef.h>

#include "p2pm/cli.h"
#include "p2pm/net.h"
#include "p2pm/picture.h"
#include "p2pm/proto.h"
#include "p2pm/sha256.h"

/* most peers one fetch tries (from the tracker or -p) */
#define CLIENT_MAX_PEERS 64
/* most songs one LIST reply may hold */
#define CLIENT_MAX_LIST_SONGS 1000000

struct peer_list {
	size_t count;
	char addr[CLIENT_MAX_PEERS][NET_ADDR_MAX];
};

/* Adds addr unless it is already listed; returns -1 when the list is full. */
int peer_list_add(struct peer_list *list, const char *addr);

/* most sources one fetch knows of (from LOCATE or -p) */
#define CLIENT_MAX_SOURCES 256
/* most lines of a LOCATE reply read */
#define CLIENT_MAX_LOCATE_LINES 4096

/* How a source can be reached, as LOCATE <name> reach says. */
enum source_reach {
	SOURCE_DIRECT,		/* its address takes connections */
	SOURCE_MAPPED,		/* the same, through its router's port mapping */
	SOURCE_NAT,		/* behind a NAT: a hole punch, else its relay */
	SOURCE_RELAYED		/* through its relay (after a punch is tried) */
};

/* A place to get a song from, with the content id it registered ("" for
 * none: a version-1 registration, or a peer given with -p), how it is
 * reached, and the tracker that named it (which brokers hole punches). */
struct source_entry {
	char addr[NET_ADDR_MAX];
	char id[SHA256_HEX_LEN];
	enum source_reach reach;
	char relay[NET_ADDR_MAX];	/* SOURCE_RELAYED: the relay */
	char tracker[NET_ADDR_MAX];	/* "" for a peer given with -p */
};

struct source_list {
	size_t count;
	struct source_entry e[CLIENT_MAX_SOURCES];
};

/* Adds addr (with content id id, NULL or "" for none) unless addr is
 * listed already; returns -1 when the list is full. */
int source_list_add(struct source_list *list, const char *addr, const char *id);

/* Adds a copy of e unless its address is listed already; returns -1 when
 * the list is full. */
int source_list_add_entry(struct source_list *list, const struct source_entry *e);

/* Moves the sources reached only through a relay to the end of the list,
 * keeping the order within each part: a relay is the last resort. */
void source_list_relayed_last(struct source_list *list);

/* True if text (len bytes) is a content id: 64 lower-case hex digits. */
int content_id_ok(const char *text, size_t len);

/* longest tag value kept from a LIST line, decoded, in bytes */
#define CLIENT_MAX_TAG PROTO_MAX_NAME
/* longest duration a LIST line may give, in seconds (a week) */
#define CLIENT_MAX_DURATION_S (7L * 24 * 3600)
/* highest track number a LIST line may give */
#define CLIENT_MAX_TRACK 100000

struct song_entry {
	char name[PROTO_MAX_NAME + 1];
	long peers;
	/* tags from "key=value" words after the count; NULL when not given;
	 * owned by the list */
	char *artist, *album, *title;
	char *alias;		/* alias=: the file name it is also found by */
	long duration_ms;	/* -1 when not given */
	long track;		/* track number ("3" or "3/12"), -1 when not given */
	char art[PICTURE_NAME_LEN + 1];	/* the art= picture name, "" if none */
};

struct song_list {
	struct song_entry *songs;	/* owned; free with song_list_free */
	size_t count;
};

/* Asks the trackers, in order, for the peers holding song: the first one
 * naming any peer gives the list. A tracker that cannot be reached within
 * timeout_ms, answers ERR or breaks the protocol, or names no peer, hands
 * over to the next; -v logs which one answered. Returns 0 when at least
 * one answered (the list is then empty if none named a peer), or -1 when
 * every tracker failed, with the reasons in err. */
int tracker_query(const struct cli_trackers *trackers, const char *song,
    int timeout_ms, struct peer_list *peers, char *err, size_t errlen);

/* Asks the trackers, in order, for every source of song with its content
 * id (LOCATE): the list keeps the answering tracker's order. A version-1
 * tracker (ERR 400 to LOCATE) is asked QUERY instead: then *version1 is
 * set and no source has a content id. Returns 0 or -1 as tracker_query
 * does. */
int tracker_locate(const struct cli_trackers *trackers, const char *song,
    int timeout_ms, struct source_list *sources, int *version1, char *err,
    size_t errlen);

/* Asks the trackers, in order, which name song is found under (RESOLVE):
 * the file name of a song its tags name gives the song's name. Writes the
 * name to use into out: song itself when no tracker knows it as an alias
 * (a tracker without RESOLVE, or one that cannot be reached, counts as
 * not knowing it). Returns 1 if out differs from song, else 0. */
int tracker_resolve(const struct cli_trackers *trackers, const char *song,
    int timeout_ms, char out[PROTO_MAX_NAME + 1]);

/* Asks the trackers, in order, for the songs whose names contain filter
 * (NULL: all): the first answer with any song gives the list. Returns 0
 * or -1 as tracker_query does. */
int tracker_list(const struct cli_trackers *trackers, const char *filter,
    int timeout_ms, struct song_list *songs, char *err, size_t errlen);

/* Frees the entries and their tags. */
void song_list_free(struct song_list *songs);

/* Reads one LIST or LISTPAGE reply line, "<encoded name> <count>" and then
 * any "key=value" words with percent-encoded values (artist, album, title,
 * alias, duration in seconds, track as "N" or "N/M"; unknown or malformed words are ignored), into e,
 * whose tags the caller frees (song_list_free, or song_entry_clear).
 * Returns 0, or -1 if the name or the count is bad (e holds no tags). */
int song_entry_parse(const char *line, struct song_entry *e);
void song_entry_clear(struct song_entry *e);

#endif
