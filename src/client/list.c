/* list.c - the list command: songs from the tracker, searched here
 * (songsearch.c), printed as tab-separated lines, as a table aligned by
 * display width on a terminal, or as JSON lines. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "p2pm/log.h"
#include "p2pm/textsafe.h"
#include "p2pm/utf8.h"
#include "list.h"
#include "songsearch.h"

/* widest a table cell grows, in terminal columns, before it is cut */
#define LIST_MAX_NAME_COLUMNS 48
#define LIST_MAX_TAG_COLUMNS 32
/* room for "h:mm:ss" with any long count of hours */
#define LIST_DURATION_LEN 32
/* the mark ending a cut cell, one column wide */
#define LIST_CUT_MARK "\xE2\x80\xA6"

enum list_column { COL_NAME, COL_ARTIST, COL_ALBUM, COL_TIME, COL_SOURCES,
	COL_FILE, COL_COUNT };

static const char *const list_headings[COL_COUNT] = {
	"NAME", "ARTIST", "ALBUM", "TIME", "SOURCES", "FILE NAME"
};

/* "m:ss", or "h:mm:ss" from an hour on; "" when not known. */
static void
list_format_duration(long ms, char *out, size_t outlen)
{
	long s = (ms + 500) / 1000;

	if (ms < 0)
		out[0] = '\0';
	else if (s >= 3600)
		snprintf(out, outlen, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(out, outlen, "%ld:%02ld", s / 60, s % 60);
}

/* The columns text takes in a cell at most max wide. */
static size_t
list_cell_width(const char *text, size_t max)
{
	size_t w = utf8_width(text);

	return w > max ? max : w;
}

/* Prints text in a cell of width columns (text cut with a mark when it
 * is wider than max), padded with spaces unless it is the last cell. */
static void
list_print_cell(const char *text, size_t width, size_t max, int last)
{
	size_t len = strlen(text), used = 0;

	if (utf8_width(text) <= max) {
		fputs(text, stdout);
		used = utf8_width(text);
	} else {
		/* code points while they fit, leaving a column for the mark */
		for (size_t i = 0; i < len; ) {
			uint32_t cp;
			size_t n = utf8_decode(text + i, len - i, &cp);
			size_t w = (size_t)utf8_cp_width(cp);
			if (used + w > max - 1)
				break;
			fwrite(text + i, 1, n, stdout);
			used += w;
			i += n;
		}
		fputs(LIST_CUT_MARK, stdout);
		used++;
	}
	if (!last)
		printf("%*s", (int)(width - used + 2), "");
}

/* The table: a heading, then one row a song, columns as wide as their
 * widest cell (by display width). */
static void
list_print_table(const struct song_list *songs, int verbose)
{
	static const size_t max[COL_COUNT] = {
		LIST_MAX_NAME_COLUMNS, LIST_MAX_TAG_COLUMNS, LIST_MAX_TAG_COLUMNS,
		LIST_DURATION_LEN, LIST_DURATION_LEN, LIST_MAX_NAME_COLUMNS
	};
	/* the file name a song is also found by only with -v */
	int ncols = verbose ? COL_COUNT : COL_FILE;
	size_t width[COL_COUNT];
	char time[LIST_DURATION_LEN], count[24];

	for (int c = 0; c < ncols; c++)
		width[c] = utf8_width(list_headings[c]);
	for (size_t i = 0; i < songs->count; i++) {
		const struct song_entry *e = &songs->songs[i];
		const char *cells[COL_COUNT] = { e->name, e->artist ? e->artist : "",
		    e->album ? e->album : "", time, count, e->alias ? e->alias : "" };
		list_format_duration(e->duration_ms, time, sizeof(time));
		snprintf(count, sizeof(count), "%ld", e->peers);
		for (int c = 0; c < ncols; c++)
			if (list_cell_width(cells[c], max[c]) > width[c])
				width[c] = list_cell_width(cells[c], max[c]);
	}
	for (int c = 0; c < ncols; c++)
		list_print_cell(list_headings[c], width[c], max[c], c == ncols - 1);
	putchar('\n');
	for (size_t i = 0; i < songs->count; i++) {
		const struct song_entry *e = &songs->songs[i];
		const char *cells[COL_COUNT] = { e->name, e->artist ? e->artist : "",
		    e->album ? e->album : "", time, count, e->alias ? e->alias : "" };
		list_format_duration(e->duration_ms, time, sizeof(time));
		snprintf(count, sizeof(count), "%ld", e->peers);
		for (int c = 0; c < ncols; c++)
			list_print_cell(cells[c], width[c], max[c], c == ncols - 1);
		putchar('\n');
	}
}

/* Prints s as a JSON string: quotes, backslashes and control characters
 * escaped, UTF-8 kept as it is (the tracker's names are valid UTF-8). */
static void
list_print_json_string(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", stdout);
			break;
		case '\\':
			fputs("\\\\", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\r':
			fputs("\\r", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		default:
			if (*p < 0x20 || *p == 0x7F)
				printf("\\u%04x", *p);
			else
				putchar(*p);
		}
	}
	putchar('"');
}

/* A JSON string, or null when s is NULL. */
static void
list_print_json_field(const char *key, const char *s)
{
	printf(",\"%s\":", key);
	if (s == NULL)
		fputs("null", stdout);
	else
		list_print_json_string(s);
}

/* One JSON object a line: name, artist, album, title, track, duration
 * (seconds), sources; a field not known is null; with verbose, alias (the
 * file name it is also found by, null when none). */
static void
list_print_json(const struct song_list *songs, int verbose)
{
	for (size_t i = 0; i < songs->count; i++) {
		const struct song_entry *e = &songs->songs[i];
		fputs("{\"name\":", stdout);
		list_print_json_string(e->name);
		list_print_json_field("artist", e->artist);
		list_print_json_field("album", e->album);
		list_print_json_field("title", e->title);
		if (e->track < 0)
			fputs(",\"track\":null", stdout);
		else
			printf(",\"track\":%ld", e->track);
		if (e->duration_ms < 0)
			fputs(",\"duration\":null", stdout);
		else
			printf(",\"duration\":%ld.%03ld", e->duration_ms / 1000,
			    e->duration_ms % 1000);
		printf(",\"sources\":%ld", e->peers);
		if (verbose)
			list_print_json_field("alias", e->alias);
		fputs("}\n", stdout);
	}
}

int
cmd_list(const struct client_opts *o, const char *filter)
{
	struct song_list songs, shown;
	char err[CLIENT_ERR_LEN], near[PROTO_MAX_NAME + 1];
	int tty = isatty(STDOUT_FILENO), rc = CLIENT_EXIT_OK;

	/* the whole list, with its tags, searched here (songsearch.c), as the
	 * gateway does: names, artists, albums and titles, ignoring case and
	 * accents */
	if (tracker_list(&o->trackers, NULL, o->timeout_ms, &songs, err,
	    sizeof(err)) < 0) {
		log_error("%s", err);
		return CLIENT_EXIT_TRACKER;
	}
	shown.songs = songs.songs;
	shown.count = songsearch_select(&songs, filter);
	/* what the tracker sent reaches the terminal: names and tags passed
	 * proto_decode_name, which refuses all textsafe replaces; it runs
	 * here all the same, where the text is shown */
	for (size_t i = 0; i < songs.count; i++) {
		struct song_entry *e = &songs.songs[i];
		char *tags[] = { e->name, e->artist, e->album, e->title, e->alias };
		for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++)
			if (tags[t] != NULL)
				textsafe_fix(tags[t]);
	}
	if (o->json)
		list_print_json(&shown, o->verbose);
	else if (tty && shown.count > 0)
		list_print_table(&shown, o->verbose);
	else if (!tty)
		for (size_t i = 0; i < shown.count; i++) {
			/* with -v, a third column: the file name it is also found by */
			printf("%s\t%ld", shown.songs[i].name, shown.songs[i].peers);
			if (o->verbose)
				printf("\t%s", shown.songs[i].alias ? shown.songs[i].alias : "");
			putchar('\n');
		}
	if (shown.count == 0) {
		rc = CLIENT_EXIT_NOT_FOUND;
		if (filter == NULL)
			log_error("no songs on the network");
		else if (songsearch_suggest(&songs, filter, near) == 0)
			log_error("no songs matching '%s'; did you mean '%s'?", filter,
			    near);
		else
			log_error("no songs matching '%s'", filter);
	}
	song_list_free(&songs);
	if (fflush(stdout) != 0)
		return CLIENT_EXIT_LOCAL;
	return rc;
}
