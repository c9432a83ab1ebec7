/* queue.c - cat and play of a queue of songs: the names given, a --playlist
 * file or an --album, maybe shuffled, written one after the other into one
 * MPEG-TS stream (stdout, or the stdin of one player process). Each song is
 * fetched by its own thread into a bounded buffer that the main thread
 * writes out; once a song's last segment has arrived and the end of its
 * buffer is near, the next song's fetch starts, so that it is under way
 * while the current one plays. The stream takes the codec of its first song;
 * a later song in another codec is re-encoded into it (reencode.c), since
 * players read a stream's codec once and follow no change of it. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/log.h"
#include "client.h"
#include "outstream.h"
#include "player.h"
#include "queue.h"
#include "queue_time.h"
#include "queue_ts.h"
#include "songsearch.h"
#include "reencode.h"

/* most songs in a queue */
#define QUEUE_MAX_SONGS 10000
/* longest line of a --playlist file, in bytes (a name and a CR LF) */
#define QUEUE_MAX_LINE (PROTO_MAX_NAME + 2)
/* most bytes of verified segments a song's fetch holds before they are
 * written: the read-ahead of the next song */
#define QUEUE_BUFFER_MAX_BYTES (8L * 1024 * 1024)
/* the next song's fetch starts once the current one's has all its
 * segments and at most this much of it is left to write, in milliseconds:
 * the next song's sources are then kept waiting (a full buffer) for less
 * than a peer's idle timeout */
#define QUEUE_PREFETCH_AHEAD_MS 20000
/* how often a waiting thread looks at client_stop, in milliseconds */
#define QUEUE_TICK_MS 100
/* stack of a fetch thread, in bytes */
#define QUEUE_THREAD_STACK (256 * 1024)

struct queue {
	char **names;		/* owned */
	size_t count;
};

/* One verified segment waiting to be written. */
struct queue_chunk {
	struct queue_chunk *next;
	size_t len;
	long long duration_us;	/* the segment's, from the playlist */
	char data[];
};

/* One song's fetch: its thread runs the swarm into the buffer, the main
 * thread takes the chunks out. */
struct queue_fetch {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct client_opts opts;	/* the client's, start_ms for this song */
	const char *song;
	pthread_t thread;
	int inited;			/* the lock and the condition are */
	int running;			/* the thread was started */
	struct queue_chunk *head, *tail;
	long bytes;			/* held in the chunks */
	long long buffered_us;		/* the chunks' duration */
	int started;			/* the playlist is verified */
	const struct playlist *pl;	/* the swarm's, while it runs */
	long into_ms;			/* --start: how far into the first segment */
	size_t first_segment;
	int written;			/* a segment of it has been written */
	int done;			/* the swarm has ended */
	int closed;			/* the output went away: stop */
	int rc;				/* cmd_swarm's exit code */
	enum fetch_result result;
};

/* ---- the queue */

static void
queue_free(struct queue *q)
{
	for (size_t i = 0; i < q->count; i++)
		free(q->names[i]);
	free(q->names);
	q->names = NULL;
	q->count = 0;
}

/* Adds a copy of name (checked as a song name). Returns an exit code. */
static int
queue_add(struct queue *q, const char *name, const char *where)
{
	size_t len = strlen(name);
	char **grown;

	if (len == 0 || len > PROTO_MAX_NAME || !proto_name_valid(name, len)) {
		log_error("%s: '%s' is not a valid song name", where, name);
		return CLIENT_EXIT_USAGE;
	}
	if (q->count == QUEUE_MAX_SONGS) {
		log_error("%s: more than %d songs", where, QUEUE_MAX_SONGS);
		return CLIENT_EXIT_USAGE;
	}
	grown = realloc(q->names, (q->count + 1) * sizeof(*q->names));
	if (grown == NULL || (grown[q->count] = strdup(name)) == NULL) {
		if (grown != NULL)
			q->names = grown;
		log_error("out of memory");
		return CLIENT_EXIT_LOCAL;
	}
	q->names = grown;
	q->count++;
	return CLIENT_EXIT_OK;
}

/* Adds the songs of an M3U file: one name a line, '#' lines and blank
 * lines skipped, a CR before the LF taken off. Returns an exit code. */
static int
queue_read_playlist(struct queue *q, const char *path)
{
	char line[QUEUE_MAX_LINE + 2];
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	long lineno = 0;
	int rc = CLIENT_EXIT_OK;

	if (f == NULL) {
		log_error("cannot open the playlist %s: %s", path, strerror(errno));
		return CLIENT_EXIT_LOCAL;
	}
	while (rc == CLIENT_EXIT_OK && fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);
		char where[64];

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(f)) {
			log_error("%s: line %ld is longer than %d bytes", path, lineno,
			    QUEUE_MAX_LINE);
			rc = CLIENT_EXIT_USAGE;
			break;
		}
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (line[strspn(line, " \t")] == '\0' || line[0] == '#')
			continue;
		snprintf(where, sizeof(where), "playlist line %ld", lineno);
		rc = queue_add(q, line, where);
	}
	if (rc == CLIENT_EXIT_OK && ferror(f)) {
		log_error("cannot read the playlist %s: %s", path, strerror(errno));
		rc = CLIENT_EXIT_LOCAL;
	}
	if (f != stdin)
		fclose(f);
	return rc;
}

/* Track order: by track number (songs without one last), then by name. */
static int
queue_track_cmp(const void *a, const void *b)
{
	const struct song_entry *x = a, *y = b;
	long tx = x->track < 0 ? CLIENT_MAX_TRACK + 1 : x->track;
	long ty = y->track < 0 ? CLIENT_MAX_TRACK + 1 : y->track;

	if (tx != ty)
		return tx < ty ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Adds every song the trackers list with the album tag album (compared
 * as search compares, ignoring case and accents), in track order. Returns
 * an exit code. */
static int
queue_add_album(struct queue *q, const struct client_opts *o, const char *album)
{
	struct song_list list = { NULL, 0 };
	char err[CLIENT_ERR_LEN];
	size_t kept = 0;
	int rc = CLIENT_EXIT_OK;

	if (tracker_list(&o->trackers, NULL, o->timeout_ms, &list, err,
	    sizeof(err)) < 0) {
		log_error("%s", err);
		return CLIENT_EXIT_TRACKER;
	}
	/* the album's songs swapped to the front, the list owning them all */
	for (size_t i = 0; i < list.count; i++) {
		if (list.songs[i].album == NULL ||
		    !songsearch_same(list.songs[i].album, album))
			continue;
		if (kept != i) {
			struct song_entry e = list.songs[i];
			list.songs[i] = list.songs[kept];
			list.songs[kept] = e;
		}
		kept++;
	}
	if (kept == 0) {
		char near[PROTO_MAX_NAME + 1];
		if (songsearch_suggest_album(&list, album, near) == 0)
			log_error("no song on the network has the album '%s'; did you "
			    "mean '%s'?", album, near);
		else
			log_error("no song on the network has the album '%s'", album);
		rc = CLIENT_EXIT_NOT_FOUND;
	}
	qsort(list.songs, kept, sizeof(list.songs[0]), queue_track_cmp);
	for (size_t i = 0; i < kept && rc == CLIENT_EXIT_OK; i++)
		rc = queue_add(q, list.songs[i].name, "--album");
	song_list_free(&list);
	return rc;
}

/* Shuffles the queue (Fisher-Yates, from the kernel's random bytes).
 * Returns an exit code. */
static int
queue_shuffle(struct queue *q)
{
	for (size_t i = q->count; i > 1; i--) {
		unsigned long long r;
		char *t;

		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
			log_error("cannot get random bytes: %s", strerror(errno));
			return CLIENT_EXIT_LOCAL;
		}
		size_t j = (size_t)(r % i);
		t = q->names[i - 1];
		q->names[i - 1] = q->names[j];
		q->names[j] = t;
	}
	return CLIENT_EXIT_OK;
}

/* The queue from the command line: the songs named, then the --playlist
 * file's, then the --album's; shuffled with --shuffle. Returns an exit
 * code. */
static int
queue_build(struct queue *q, const struct client_opts *o,
    const char *const *songs, size_t nsongs)
{
	int rc = CLIENT_EXIT_OK;

	for (size_t i = 0; i < nsongs && rc == CLIENT_EXIT_OK; i++)
		rc = queue_add(q, songs[i], "the command line");
	if (rc == CLIENT_EXIT_OK && o->playlist_file != NULL)
		rc = queue_read_playlist(q, o->playlist_file);
	if (rc == CLIENT_EXIT_OK && o->album != NULL)
		rc = queue_add_album(q, o, o->album);
	if (rc == CLIENT_EXIT_OK && q->count == 0) {
		log_error("no song to play: the playlist %s lists none",
		    o->playlist_file ? o->playlist_file : "");
		rc = CLIENT_EXIT_USAGE;
	}
	if (rc == CLIENT_EXIT_OK && o->shuffle)
		rc = queue_shuffle(q);
	if (rc != CLIENT_EXIT_OK)
		queue_free(q);
	return rc;
}

/* ---- one song's fetch into its buffer */

static int
queue_sink_start(void *ctx, const struct playlist *playlist,
    const char *content_id)
{
	struct queue_fetch *f = ctx;

	(void)content_id;
	pthread_mutex_lock(&f->lock);
	if (f->opts.start_ms > 0)
		f->first_segment = queue_segment_at(playlist, f->opts.start_ms,
		    &f->into_ms);
	f->started = 1;
	f->pl = playlist;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	return 0;
}

/* Waits while the buffer is full; answers 1 once the output has gone. */
static int
queue_sink_segment(void *ctx, size_t index, const char *data, size_t len)
{
	struct queue_fetch *f = ctx;
	struct queue_chunk *c = malloc(sizeof(*c) + len);
	int rc = 0;

	if (c == NULL) {
		log_error("out of memory");
		return -1;
	}
	c->next = NULL;
	c->len = len;
	c->duration_us = index < f->pl->count ? f->pl->segs[index].duration_us : 0;
	memcpy(c->data, data, len);
	pthread_mutex_lock(&f->lock);
	while (f->bytes > 0 && f->bytes + (long)len > QUEUE_BUFFER_MAX_BYTES &&
	    !f->closed && !client_stop) {
		struct timespec ts;
		clock_deadline_after(&ts, QUEUE_TICK_MS);
		pthread_cond_timedwait(&f->cond, &f->lock, &ts);
	}
	if (f->closed || client_stop) {
		free(c);
		rc = f->closed ? 1 : 0;
	} else {
		if (f->tail != NULL)
			f->tail->next = c;
		else
			f->head = c;
		f->tail = c;
		f->bytes += (long)len;
		f->buffered_us += c->duration_us;
		pthread_cond_broadcast(&f->cond);
	}
	pthread_mutex_unlock(&f->lock);
	return rc;
}

static int
queue_sink_finish(void *ctx)
{
	(void)ctx;
	return 0;
}

static void *
queue_fetch_run(void *arg)
{
	struct queue_fetch *f = arg;
	struct fetch_sink sink = { queue_sink_start, queue_sink_segment,
	    queue_sink_finish, 1, f };
	struct fetch_report *rep = malloc(sizeof(*rep));
	enum fetch_result result = FETCH_LOCAL_ERROR;
	int rc = CLIENT_EXIT_LOCAL;

	char name[PROTO_MAX_NAME + 1];

	if (rep == NULL)
		log_error("out of memory");
	else
		rc = cmd_swarm(&f->opts, cmd_song_name(&f->opts, f->song, name), &sink,
		    rep, &result);
	free(rep);
	pthread_mutex_lock(&f->lock);
	f->rc = rc;
	f->result = result;
	f->done = 1;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

/* Starts song's fetch in its own thread, every signal blocked there.
 * Returns 0, or -1 (logged). */
static int
queue_fetch_start(struct queue_fetch *f, const struct client_opts *o,
    const char *song, long start_ms)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int rc;

	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	clock_cond_init(&f->cond);
	f->inited = 1;
	f->opts = *o;
	f->opts.start_ms = start_ms;
	f->song = song;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, QUEUE_THREAD_STACK);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&f->thread, &attr, queue_fetch_run, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_error("cannot start a thread: %s", strerror(rc));
		return -1;
	}
	f->running = 1;
	return 0;
}

/* Stops the fetch if it still runs (close set), waits for its thread and
 * frees what it holds. */
static void
queue_fetch_end(struct queue_fetch *f, int close)
{
	if (!f->inited)
		return;
	if (f->running) {
		pthread_mutex_lock(&f->lock);
		if (close)
			f->closed = 1;
		pthread_cond_broadcast(&f->cond);
		pthread_mutex_unlock(&f->lock);
		pthread_join(f->thread, NULL);
		f->running = 0;
	}
	while (f->head != NULL) {
		struct queue_chunk *c = f->head;
		f->head = c->next;
		free(c);
	}
	f->tail = NULL;
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	f->inited = 0;
}

/* ---- the output: stdout, or a player started at the first segment */

struct queue_output {
	const struct client_opts *o;
	struct player *player;	/* NULL for cat */
	int fd;			/* -1 until the first segment */
	struct queue_ts ts;	/* the songs' timestamps joined */
	struct queue_format format;	/* the stream's: its first song's */
	struct reencode *re;	/* the song being re-encoded, or NULL */
	long long frame_us;	/* a frame of the song being written, or 0 */
};

/* Opens the output for the first song that sends a segment. Returns 0 or
 * -1 (logged). */
static int
queue_output_open(struct queue_output *out)
{
	char err[CLIENT_ERR_LEN];

	if (out->player == NULL) {
		out->fd = STDOUT_FILENO;
		return 0;
	}
	if (player_start(out->player, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return -1;
	}
	out->fd = out->player->fd;
	return 0;
}

/* Writes len bytes of the stream. Returns 0, 1 when the output went away,
 * 2 on an interrupt, or -1 on a local failure (logged). */
static int
queue_output_write(struct queue_output *out, const char *data, size_t len)
{
	if (net_write_all(out->fd, data, len) == 0)
		return 0;
	if (errno == EPIPE)
		return 1;
	if (client_stop)
		return 2;
	log_error("cannot write the stream: %s", strerror(errno));
	return -1;
}

/* The re-encoder's output (its thread): timestamps moved on as a song's. */
static int
queue_output_reencoded(void *ctx, char *data, size_t len)
{
	struct queue_output *out = ctx;

	if (client_stop)
		return 2;
	len = queue_ts_rewrite(&out->ts, data, len, 0, 0);
	return queue_output_write(out, data, len);
}

/* Chooses at song f's first segment (c) how it goes into the stream: the
 * first song written sets the stream's format; a later one in another
 * codec is re-encoded into it, one in the same codec (or whose format
 * cannot be read) is copied. --start only ever applies to the first song
 * written, which is never re-encoded. Returns 0, or -1 when the song
 * cannot go into the stream (logged). */
static int
queue_song_begin(struct queue_output *out, const struct queue_fetch *f,
    const struct queue_chunk *c)
{
	struct queue_format fmt;
	char err[CLIENT_ERR_LEN];

	out->frame_us = 0;
	if (queue_ts_format(c->data, c->len, &fmt) < 0)
		return 0;
	out->frame_us = fmt.frame_samples * 1000000LL / fmt.sample_rate;
	if (out->format.codec == QUEUE_CODEC_UNKNOWN) {
		out->format = fmt;
		return 0;
	}
	if (fmt.codec == out->format.codec)
		return 0;
	out->frame_us = out->format.frame_samples * 1000000LL /
	    out->format.sample_rate;
	log_info("'%s' is %s, the stream %s: re-encoding it into %s, %d Hz, "
	    "%d channel(s), %d kb/s", f->song, queue_codec_name(fmt.codec),
	    queue_codec_name(out->format.codec),
	    queue_codec_name(out->format.codec), out->format.sample_rate,
	    out->format.channels, REENCODE_KBPS);
	out->re = reencode_start(&out->format, queue_output_reencoded, out, err,
	    sizeof(err));
	if (out->re == NULL) {
		log_error("cannot put '%s' (%s) into a stream of %s: %s", f->song,
		    queue_codec_name(fmt.codec),
		    queue_codec_name(out->format.codec), err);
		return -1;
	}
	return 0;
}

/* Ends the re-encoding of the song (stop: at once) and returns what
 * reencode_finish says. */
static int
queue_song_end_reencode(struct queue_output *out, int stop)
{
	int rc = reencode_finish(out->re, stop);

	out->re = NULL;
	return rc;
}

/* One segment of song f into the stream (copied with its timestamps moved
 * on, or into the re-encoder). Returns as queue_write_song does. */
static int
queue_write_chunk(struct queue_output *out, struct queue_fetch *f,
    struct queue_chunk *c)
{
	long skip_ms = 0;
	size_t len;
	int rc;

	if (out->fd < 0 && queue_output_open(out) < 0)
		return -1;
	if (!f->written) {
		f->written = 1;
		if (queue_song_begin(out, f, c) < 0)
			return 3;
		/* --start: the first segment from the time asked on */
		if (f->opts.start_ms > 0) {
			skip_ms = f->into_ms;
			log_info("starting '%s' at segment %zu, %ld.%03ld s into it",
			    f->song, f->first_segment + 1, skip_ms / 1000,
			    skip_ms % 1000);
		}
	}
	if (out->re != NULL) {
		if (reencode_write(out->re, c->data, c->len) == 0)
			return 0;
		rc = queue_song_end_reencode(out, 1);
		if (rc != 0)
			return rc;
		if (client_stop)
			return 2;
		log_error("%s stopped reading the song", REENCODE_FFMPEG);
		return -1;
	}
	len = queue_ts_rewrite(&out->ts, c->data, c->len, c->duration_us,
	    skip_ms);
	return queue_output_write(out, c->data, len);
}

/* Writes song f out as its segments come. Returns 0 when the song has
 * ended (f->done; its result says how), 1 when the output went away, 2 on
 * an interrupt, 3 when the song cannot go into the stream (logged; the
 * rest of it is not written), or -1 on a local failure (logged). Once the
 * song's fetch is done and less than QUEUE_PREFETCH_AHEAD_MS of it is left
 * to write, the next one (next, if not NULL) is started. */
static int
queue_write_song_segments(struct queue_output *out, struct queue_fetch *f,
    struct queue_fetch *next, const char *next_song)
{
	int rc;

	pthread_mutex_lock(&f->lock);
	for (;;) {
		if (client_stop) {
			pthread_mutex_unlock(&f->lock);
			return 2;
		}
		if (f->done && next != NULL && !next->running &&
		    f->buffered_us <= QUEUE_PREFETCH_AHEAD_MS * 1000LL) {
			pthread_mutex_unlock(&f->lock);
			if (queue_fetch_start(next, out->o, next_song, 0) < 0)
				return -1;
			pthread_mutex_lock(&f->lock);
		}
		if (f->head != NULL) {
			struct queue_chunk *c = f->head;

			f->head = c->next;
			if (f->head == NULL)
				f->tail = NULL;
			f->bytes -= (long)c->len;
			f->buffered_us -= c->duration_us;
			pthread_cond_broadcast(&f->cond);
			pthread_mutex_unlock(&f->lock);
			rc = queue_write_chunk(out, f, c);
			free(c);
			if (rc != 0)
				return rc;
			pthread_mutex_lock(&f->lock);
			continue;
		}
		if (f->done)
			break;
		struct timespec ts;
		clock_deadline_after(&ts, QUEUE_TICK_MS);
		pthread_cond_timedwait(&f->cond, &f->lock, &ts);
	}
	pthread_mutex_unlock(&f->lock);
	if (out->re != NULL && (rc = queue_song_end_reencode(out, 0)) != 0)
		return rc;
	/* the next song begins where this one's last frame ends */
	if (f->written && out->frame_us > 0)
		queue_ts_end_song(&out->ts, out->frame_us);
	return 0;
}

/* queue_write_song_segments, and a re-encoding it left stopped. */
static int
queue_write_song(struct queue_output *out, struct queue_fetch *f,
    struct queue_fetch *next, const char *next_song)
{
	int rc = queue_write_song_segments(out, f, next, next_song);

	if (out->re != NULL)
		(void)queue_song_end_reencode(out, 1);
	return rc;
}

/* The queue into out. Returns the exit code: a song that fails is said
 * and skipped, and makes it 1 (its own code when it was the only one). */
static int
queue_run(const struct client_opts *o, const struct queue *q,
    struct queue_output *out, enum fetch_result *last)
{
	struct queue_fetch *f = calloc(2, sizeof(*f));
	size_t failed = 0;
	int rc = CLIENT_EXIT_OK, song_rc = CLIENT_EXIT_OK;

	*last = FETCH_DONE;
	if (f == NULL) {
		log_error("out of memory");
		return CLIENT_EXIT_LOCAL;
	}
	if (queue_fetch_start(&f[0], o, q->names[0], o->start_ms) < 0) {
		free(f);
		return CLIENT_EXIT_LOCAL;
	}
	for (size_t i = 0; i < q->count; i++) {
		struct queue_fetch *cur = &f[i % 2], *next = &f[(i + 1) % 2];
		int w;

		if (q->count > 1)
			log_info("song %zu/%zu: '%s'", i + 1, q->count, q->names[i]);
		queue_ts_next_song(&out->ts);
		w = queue_write_song(out, cur, i + 1 < q->count ? next : NULL,
		    i + 1 < q->count ? q->names[i + 1] : NULL);
		if (w == 3) {
			/* the song is dropped; the next one goes on */
			queue_fetch_end(cur, 1);
			failed++;
			song_rc = CLIENT_EXIT_LOCAL;
			log_error("'%s' failed; %s", q->names[i], i + 1 < q->count ?
			    "going on with the next song" : "it was the last");
			if (i + 1 < q->count && !next->running &&
			    queue_fetch_start(next, o, q->names[i + 1], 0) < 0) {
				free(f);
				return CLIENT_EXIT_LOCAL;
			}
			continue;
		}
		if (w == 2) {
			*last = FETCH_INTERRUPTED;
			queue_fetch_end(cur, 1);
			queue_fetch_end(next, 1);
			free(f);
			log_error("interrupted");
			return CLIENT_EXIT_INTERRUPTED;
		}
		if (w != 0) {
			*last = w < 0 ? FETCH_LOCAL_ERROR : FETCH_OUTPUT_CLOSED;
			queue_fetch_end(cur, 1);
			if (i + 1 < q->count)
				queue_fetch_end(next, 1);
			rc = w < 0 ? CLIENT_EXIT_LOCAL : CLIENT_EXIT_OK;
			if (w > 0)
				log_info(out->player ? "the player closed; download "
				    "stopped" : "the reader of the stream went away; "
				    "stopped");
			free(f);
			return rc;
		}
		*last = cur->result;
		if (cur->result == FETCH_INTERRUPTED || client_stop) {
			queue_fetch_end(cur, 1);
			if (i + 1 < q->count)
				queue_fetch_end(next, 1);
			free(f);
			return CLIENT_EXIT_INTERRUPTED;
		}
		if (cur->result != FETCH_DONE) {
			failed++;
			song_rc = cur->rc != CLIENT_EXIT_OK ? cur->rc : CLIENT_EXIT_LOCAL;
			if (q->count > 1)
				log_error("'%s' failed; %s", q->names[i], i + 1 < q->count ?
				    "going on with the next song" : "it was the last");
		}
		queue_fetch_end(cur, 0);
	}
	free(f);
	if (failed > 0 && q->count > 1) {
		log_error("%zu of %zu songs failed", failed, q->count);
		return CLIENT_EXIT_NOT_FOUND;
	}
	return failed > 0 ? song_rc : rc;
}

int
cmd_cat(const struct client_opts *o, const char *const *songs, size_t nsongs)
{
	struct queue_output out = { o, NULL, -1, { 0 }, { 0 }, NULL, 0 };
	struct queue q = { NULL, 0 };
	enum fetch_result last;
	int rc;

	queue_ts_init(&out.ts);
	if (isatty(STDOUT_FILENO)) {
		log_error("not writing a binary stream to a terminal; "
		    "pipe it into a player: client cat SONG | ffplay -");
		return CLIENT_EXIT_USAGE;
	}
	if ((rc = queue_build(&q, o, songs, nsongs)) != CLIENT_EXIT_OK)
		return rc;
	rc = queue_run(o, &q, &out, &last);
	queue_free(&q);
	return rc;
}

int
cmd_play(const struct client_opts *o, const char *const *songs, size_t nsongs)
{
	const char *cmd = o->player ? o->player : PLAYER_DEFAULT;
	struct queue q = { NULL, 0 };
	struct queue_output out;
	struct player player;
	enum fetch_result last;
	char err[CLIENT_ERR_LEN];
	size_t count;
	int rc, status;

	if (player_parse(&player, cmd) < 0) {
		log_error("--player wants a command of 1 to %d words",
		    PLAYER_MAX_ARGS);
		return CLIENT_EXIT_USAGE;
	}
	if (player_find(&player, err, sizeof(err)) < 0) {
		log_error("%s", err);
		player_finish(&player, 1);
		return CLIENT_EXIT_LOCAL;
	}
	if ((rc = queue_build(&q, o, songs, nsongs)) != CLIENT_EXIT_OK) {
		player_finish(&player, 1);
		return rc;
	}
	out.o = o;
	out.player = &player;
	out.fd = -1;
	out.re = NULL;
	out.frame_us = 0;
	memset(&out.format, 0, sizeof(out.format));
	queue_ts_init(&out.ts);
	rc = queue_run(o, &q, &out, &last);
	count = q.count;
	queue_free(&q);
	if (out.fd < 0) {
		/* no song sent a segment: the player never started */
		player_finish(&player, 1);
		return rc == CLIENT_EXIT_OK ? CLIENT_EXIT_LOCAL : rc;
	}
	/* one song that failed half-way stops the player, as a failure of the
	 * last of several does not: what came plays to its end */
	status = player_finish(&player, last == FETCH_LOCAL_ERROR ||
	    last == FETCH_INTERRUPTED || (count == 1 && rc != CLIENT_EXIT_OK));
	if (rc != CLIENT_EXIT_OK && count == 1)
		return rc;
	if (client_stop)
		return CLIENT_EXIT_INTERRUPTED;
	if (rc == CLIENT_EXIT_LOCAL && last == FETCH_LOCAL_ERROR)
		return rc;
	/* a player the user closed early is not a failure */
	if (status == 0 || (last == FETCH_OUTPUT_CLOSED &&
	    (status == 128 + SIGINT || status == 128 + SIGTERM ||
	    status == 128 + SIGPIPE)))
		return rc;
	if (status > 128)
		log_error("player '%s' was killed by signal %d%s%s", cmd,
		    status - 128, *player.reason ? ": " : "", player.reason);
	else
		log_error("player '%s' exited with status %d%s%s", cmd, status,
		    *player.reason ? ": " : "", player.reason);
	return CLIENT_EXIT_LOCAL;
}
