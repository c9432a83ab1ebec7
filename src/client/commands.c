/* commands.c - query and fetch, and the swarm that fetch, cat, play and
 * save share (list is in list.c, cat and play in queue.c, save in
 * save.c): each turns the options into requests and the outcome into
 * output and an exit code. */
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "p2pm/fsname.h"
#include "p2pm/log.h"
#include "p2pm/units.h"
#include "commands.h"
#include "outdir.h"
#include "outstream.h"
#include "progress.h"
#include "songsearch.h"

const char *
cmd_song_name(const struct client_opts *o, const char *song,
    char buf[PROTO_MAX_NAME + 1])
{
	if (o->peers.count > 0 || !tracker_resolve(&o->trackers, song, o->timeout_ms,
	    buf))
		return song;
	log_info("'%s' is the file name of the song '%s'", song, buf);
	return buf;
}

/* Fills peers from -p, or else from the tracker. Returns an exit code. */
int
cmd_peers(const struct client_opts *o, const char *song, struct peer_list *peers)
{
	char err[CLIENT_ERR_LEN];

	if (o->peers.count > 0) {
		*peers = o->peers;
		return CLIENT_EXIT_OK;
	}
	if (tracker_query(&o->trackers, song, o->timeout_ms, peers, err,
	    sizeof(err)) < 0) {
		log_error("%s", err);
		return CLIENT_EXIT_TRACKER;
	}
	if (peers->count == 0) {
		log_error("no peer holds '%s'", song);
		songsearch_log_suggestion(&o->trackers, o->timeout_ms, song);
		return CLIENT_EXIT_NOT_FOUND;
	}
	return CLIENT_EXIT_OK;
}

int
cmd_query(const struct client_opts *o, const char *song)
{
	struct peer_list peers;
	char name[PROTO_MAX_NAME + 1];
	int rc = cmd_peers(o, cmd_song_name(o, song, name), &peers);

	if (rc != CLIENT_EXIT_OK)
		return rc;
	for (size_t i = 0; i < peers.count; i++)
		printf("%s\n", peers.addr[i]);
	return fflush(stdout) == 0 ? CLIENT_EXIT_OK : CLIENT_EXIT_LOCAL;
}

/* Fills found with every source of song: the -p peers, or else what the
 * tracker LOCATEs. Returns an exit code. */
static int
cmd_sources(const struct client_opts *o, const char *song,
    struct source_list *found)
{
	char err[CLIENT_ERR_LEN];
	int version1;

	found->count = 0;
	if (o->peers.count > 0) {
		for (size_t i = 0; i < o->peers.count; i++)
			source_list_add(found, o->peers.addr[i], NULL);
		return CLIENT_EXIT_OK;
	}
	if (tracker_locate(&o->trackers, song, o->timeout_ms, found, &version1, err,
	    sizeof(err)) < 0) {
		log_error("%s", err);
		return CLIENT_EXIT_TRACKER;
	}
	if (found->count == 0) {
		log_error("no peer holds '%s'", song);
		songsearch_log_suggestion(&o->trackers, o->timeout_ms, song);
		return CLIENT_EXIT_NOT_FOUND;
	}
	log_debug("%zu sources for '%s'%s", found->count, song,
	    version1 ? " (a version-1 tracker: no content ids)" : "");
	return CLIENT_EXIT_OK;
}

/* Picks from found the content id to fetch next: want if given, else the
 * one the most sources hold among those whose entries are not marked in
 * tried (the first listed of a tie), and marks its entries. Fills list
 * with its sources, then those without a content id, and *content_id
 * (NULL when no source has one: the first playlist fixes it). Returns the
 * number of sources of the id picked, 0 when there is none left. */
static size_t
cmd_pick(const struct source_list *found, const char *want,
    unsigned char *tried, struct source_list *list, const char **content_id,
    char idbuf[SHA256_HEX_LEN])
{
	size_t best = 0, best_n = 0, anon = 0;

	list->count = 0;
	*content_id = want;
	for (size_t i = 0; i < found->count; i++) {
		size_t n = 0;
		int seen = 0;
		if (found->e[i].id[0] == '\0') {
			anon++;
			continue;
		}
		if (tried[i])
			continue;
		for (size_t k = 0; k < found->count; k++) {
			if (strcmp(found->e[k].id, found->e[i].id) != 0)
				continue;
			seen |= k < i;
			n++;
		}
		if (!seen && n > best_n) {
			best_n = n;
			best = i;
		}
	}
	if (want == NULL && best_n > 0) {
		memcpy(idbuf, found->e[best].id, SHA256_HEX_LEN);
		*content_id = idbuf;
	}
	for (size_t i = 0; i < found->count; i++) {
		if (*content_id != NULL && strcmp(found->e[i].id, *content_id) == 0) {
			source_list_add_entry(list, &found->e[i]);
			tried[i] = 1;
		}
	}
	for (size_t i = 0; i < found->count; i++)
		if (found->e[i].id[0] == '\0')
			source_list_add_entry(list, &found->e[i]);
	if (*content_id != NULL && list->count == anon)
		return 0;	/* nobody registered it */
	source_list_relayed_last(list);
	return list->count;
}

/* Says what the fetch did: one line per source with -v, and a closing
 * line on stderr when the progress line was shown. */
static void
cmd_report(const struct client_opts *o, const struct fetch_report *rep,
    const struct progress *pr)
{
	char size[UNITS_BYTES_LEN], rate[UNITS_BYTES_LEN];
	long long ms = rep->elapsed_ms > 0 ? rep->elapsed_ms : 1;

	for (size_t k = 0; k < rep->nsources; k++) {
		const struct fetch_source_report *s = &rep->src[k];
		units_format_bytes((unsigned long long)s->bytes, size, sizeof(size));
		log_info("peer %s: %zu segments, %s, %zu duplicate%s, %s%s%s", s->addr,
		    s->segments, size, s->duplicates, s->duplicates == 1 ? "" : "s",
		    s->how != NULL ? s->how : "not connected",
		    s->dropped[0] ? "; dropped: " : "", s->dropped);
	}
	units_format_bytes((unsigned long long)rep->bytes, size, sizeof(size));
	units_format_bytes((unsigned long long)(rep->bytes * 1000 / ms), rate,
	    sizeof(rate));
	if (pr->enabled && log_get_level() < LOG_LEVEL_INFO && !o->quiet)
		fprintf(stderr, "%zu segments, %s in %.1f s (%s/s) from %zu of %zu "
		    "sources\n", rep->segments, size, (double)ms / 1000, rate,
		    rep->delivered, rep->nsources);
	else
		log_info("%zu segments, %s in %.1f s (%s/s) from %zu of %zu sources",
		    rep->segments, size, (double)ms / 1000, rate, rep->delivered,
		    rep->nsources);
}

/* Runs the swarm into sink and turns a failure into messages and an exit
 * code; *result says what happened. */
static int
cmd_run(const struct client_opts *o, const char *song,
    const struct source_list *sources, const char *content_id,
    const struct fetch_sink *sink, struct fetch_report *rep,
    enum fetch_result *result)
{
	struct fetch_params fp;
	struct progress pr;

	progress_init(&pr, !o->quiet);
	fp.song = song;
	fp.sources = sources;
	fp.content_id = content_id;
	fp.jobs = o->jobs;
	fp.timeout_ms = o->timeout_ms;
	fp.segment_delay_ms = o->segment_delay_ms;
	fp.start_ms = o->start_ms;
	fp.progress = &pr;
	*result = fetch_song(&fp, sink, rep);
	if (!rep->had_song && (*result == FETCH_DONE ||
	    *result == FETCH_OUTPUT_CLOSED || o->verbose))
		cmd_report(o, rep, &pr);
	switch (*result) {
	case FETCH_DONE:
	case FETCH_OUTPUT_CLOSED:
		return CLIENT_EXIT_OK;
	case FETCH_NO_PEER:
		log_error("no peer could serve '%s':", song);
		for (size_t i = 0; i < rep->nsources; i++)
			if (rep->src[i].dropped[0] != '\0')
				log_error("  peer %s: %s", rep->src[i].addr,
				    rep->src[i].dropped);
		return CLIENT_EXIT_NOT_FOUND;
	case FETCH_REFUSED:
		return CLIENT_EXIT_NOT_FOUND;
	case FETCH_LOCAL_ERROR:
		return CLIENT_EXIT_LOCAL;
	case FETCH_INTERRUPTED:
		log_error("interrupted");
		return CLIENT_EXIT_INTERRUPTED;
	}
	return CLIENT_EXIT_LOCAL;
}

/* The sources and the content id for song, then the swarm into sink:
 * what cat, play and fetch share. Without --id, when no source of the
 * content id most peers hold can even send its playlist, the song the
 * next most hold is tried. */
int
cmd_swarm(const struct client_opts *o, const char *song,
    const struct fetch_sink *sink, struct fetch_report *rep,
    enum fetch_result *result)
{
	char idbuf[SHA256_HEX_LEN];
	struct source_list *found = malloc(sizeof(*found));
	struct source_list *list = malloc(sizeof(*list));
	unsigned char tried[CLIENT_MAX_SOURCES] = { 0 };
	const char *content_id;
	size_t ids = 0;
	int rc;

	*result = FETCH_NO_PEER;
	memset(rep, 0, sizeof(*rep));
	if (found == NULL || list == NULL) {
		log_error("out of memory");
		free(found);
		free(list);
		return CLIENT_EXIT_LOCAL;
	}
	rc = cmd_sources(o, song, found);
	while (rc == CLIENT_EXIT_OK || ids > 0) {
		if (cmd_pick(found, o->content_id, tried, list, &content_id,
		    idbuf) == 0) {
			if (ids == 0)
				log_error("no peer holds '%s' with content id %s",
				    song, o->content_id);
			rc = ids == 0 ? CLIENT_EXIT_NOT_FOUND : rc;
			break;
		}
		if (ids++ > 0)
			log_warn("trying the other song shared as '%s' (content id "
			    "%s, %zu sources)", song, content_id, list->count);
		else if (content_id != NULL)
			log_info("fetching content id %s from %zu sources",
			    content_id, list->count);
		rc = cmd_run(o, song, list, content_id, sink, rep, result);
		/* another content id only when this one gave not even a playlist */
		if (*result != FETCH_NO_PEER || rep->content_id[0] != '\0' ||
		    o->content_id != NULL || content_id == NULL)
			break;
	}
	free(found);
	free(list);
	return rc;
}

/* Prints path so that it can be pasted into a shell as one word. */
static void
cmd_print_quoted(FILE *f, const char *path)
{
	int plain = *path != '\0';

	for (const char *p = path; *p != '\0'; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._-/+,:@%=", *p))
			plain = 0;
	if (plain) {
		fputs(path, f);
		return;
	}
	fputc('\'', f);
	for (const char *p = path; *p != '\0'; p++) {
		if (*p == '\'')
			fputs("'\\''", f);
		else
			fputc(*p, f);
	}
	fputc('\'', f);
}

int
cmd_fetch(const struct client_opts *o, const char *asked)
{
	char dir[FSNAME_MAX + 1], err[CLIENT_ERR_LEN], index[PATH_MAX + 16];
	char name[PROTO_MAX_NAME + 1];
	const char *song = cmd_song_name(o, asked, name);
	char have_id[SHA256_HEX_LEN];
	const char *path = o->outdir;
	struct fetch_report *rep;
	struct fetch_sink sink;
	enum fetch_result result;
	struct outdir *od;
	int rc;

	if (path == NULL) {
		fsname_from_song(song, dir, sizeof(dir));
		path = dir;
	}
	/* a directory holding anything but one whole song is left alone */
	od = outdir_open(path, song, have_id, err, sizeof(err));
	if (od == NULL) {
		log_error("%s", err);
		return CLIENT_EXIT_LOCAL;
	}
	if ((rep = malloc(sizeof(*rep))) == NULL) {
		log_error("out of memory");
		outdir_close(od);
		return CLIENT_EXIT_LOCAL;
	}
	if (have_id[0] != '\0' && o->content_id != NULL &&
	    strcmp(have_id, o->content_id) == 0) {
		/* the song asked for is there, verified: nothing to fetch */
		memset(rep, 0, sizeof(*rep));
		rep->had_song = 1;
		result = FETCH_DONE;
		rc = CLIENT_EXIT_OK;
	} else {
		outdir_sink(od, &sink);
		rc = cmd_swarm(o, song, &sink, rep, &result);
	}
	outdir_close(od);
	if (result != FETCH_DONE) {
		free(rep);
		return rc == CLIENT_EXIT_OK ? CLIENT_EXIT_LOCAL : rc;
	}
	if (!o->quiet) {
		long secs = (rep->duration_ms + 500) / 1000;
		char size[UNITS_BYTES_LEN];

		snprintf(index, sizeof(index), "%s%s%s", path,
		    path[strlen(path) - 1] == '/' ? "" : "/", PLAYLIST_INDEX_NAME);
		if (rep->had_song) {
			printf("'%s' is already in ", song);
			cmd_print_quoted(stdout, path);
			printf(", whole and verified\n");
		} else {
			units_format_bytes((unsigned long long)rep->bytes, size,
			    sizeof(size));
			printf("fetched '%s' into ", song);
			cmd_print_quoted(stdout, path);
			printf(" (%zu segments, %s, %ld:%02ld, from %zu source%s)\n",
			    rep->segments, size, secs / 60, secs % 60, rep->delivered,
			    rep->delivered == 1 ? "" : "s");
		}
		printf("play it with: ffplay ");
		cmd_print_quoted(stdout, index);
		printf("\n");
	}
	free(rep);
	return fflush(stdout) == 0 ? CLIENT_EXIT_OK : CLIENT_EXIT_LOCAL;
}
