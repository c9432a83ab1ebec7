/* playlist.c - parsing and checking HLS VOD media playlists (RFC 8216). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/strnum.h"
#include "playlist.h"

/* longest playlist line we look at */
#define PLAYLIST_MAX_LINE 1024
/* longest target duration we believe, in seconds */
#define PLAYLIST_MAX_TARGET_S 86400

int
playlist_segment_name_ok(const char *name)
{
	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	for (const char *p = name; *p != '\0'; p++) {
		char c = *p;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* True if name is "<prefix>-<decimal>.ts". */
static int
playlist_segment_matches(const char *name, const char *prefix)
{
	size_t pl = strlen(prefix), nl = strlen(name);
	const char *p;

	if (!playlist_segment_name_ok(name) || nl < pl + 5 ||
	    strncmp(name, prefix, pl) != 0 || name[pl] != '-' ||
	    strcmp(name + nl - 3, ".ts") != 0)
		return 0;
	for (p = name + pl + 1; p < name + nl - 3; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/* True if s is a positive decimal duration such as "4" or "4.022856". */
static int
playlist_duration_ok(const char *s)
{
	int digits = 0, dot = 0, nonzero = 0;

	for (; *s != '\0'; s++) {
		if (*s == '.' && !dot && digits > 0)
			dot = 1;
		else if (*s >= '0' && *s <= '9') {
			digits++;
			nonzero |= *s != '0';
		} else
			return 0;
	}
	return digits > 0 && nonzero;
}

static int
playlist_add_segment(struct playlist *pl, const char *name)
{
	char **v;

	if (pl->nsegments >= PLAYLIST_MAX_SEGMENTS)
		return -1;
	v = realloc(pl->segments, (pl->nsegments + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	pl->segments = v;
	v[pl->nsegments] = strdup(name);
	if (v[pl->nsegments] == NULL)
		return -1;
	pl->nsegments++;
	return 0;
}

int
playlist_parse(const char *text, size_t len, const char *prefix,
    struct playlist *pl, char *why, size_t whylen)
{
	char line[PLAYLIST_MAX_LINE];
	int have_target = 0, have_vod = 0, have_end = 0, pending_inf = 0;
	size_t lineno = 0, off = 0;
	const char *err = NULL;
	long target;

	memset(pl, 0, sizeof(*pl));
	if (len > PLAYLIST_MAX_BYTES)
		err = "playlist too large";
	else if (memchr(text, '\0', len) != NULL)
		err = "NUL byte in playlist";
	while (err == NULL && off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl != NULL ? (size_t)(nl - (text + off)) : len - off;

		lineno++;
		if (n >= sizeof(line)) {
			err = "line too long";
			break;
		}
		memcpy(line, text + off, n);
		line[n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		off += n + (nl != NULL);

		if (lineno == 1) {
			if (strcmp(line, "#EXTM3U") != 0)
				err = "does not start with #EXTM3U";
		} else if (have_end) {
			if (line[0] != '\0')
				err = "text after #EXT-X-ENDLIST";
		} else if (line[0] == '\0') {
			continue;
		} else if (strncmp(line, "#EXT-X-TARGETDURATION:", 22) == 0) {
			if (strnum_parse(line + 22, 1, PLAYLIST_MAX_TARGET_S, &target) < 0)
				err = "bad #EXT-X-TARGETDURATION";
			have_target = 1;
		} else if (strcmp(line, "#EXT-X-PLAYLIST-TYPE:VOD") == 0) {
			have_vod = 1;
		} else if (strncmp(line, "#EXTINF:", 8) == 0) {
			char *comma = strchr(line + 8, ',');
			if (comma != NULL)
				*comma = '\0';
			if (!playlist_duration_ok(line + 8))
				err = "bad #EXTINF duration";
			pending_inf = 1;
		} else if (strcmp(line, "#EXT-X-ENDLIST") == 0) {
			have_end = 1;
		} else if (line[0] == '#') {
			continue;	/* other tags (VERSION, MEDIA-SEQUENCE) */
		} else if (!pending_inf) {
			err = "segment without #EXTINF";
		} else if (!playlist_segment_matches(line, prefix)) {
			err = "unexpected segment name";
		} else if (playlist_add_segment(pl, line) < 0) {
			err = "too many segments or out of memory";
		} else {
			pending_inf = 0;
		}
	}
	if (err == NULL && lineno == 0)
		err = "empty playlist";
	else if (err == NULL && !have_target)
		err = "no #EXT-X-TARGETDURATION";
	else if (err == NULL && !have_vod)
		err = "not a VOD playlist";
	else if (err == NULL && !have_end)
		err = "no #EXT-X-ENDLIST";
	else if (err == NULL && pl->nsegments == 0)
		err = "no segments";
	if (err == NULL && (pl->text = malloc(len)) == NULL)
		err = "out of memory";
	if (err != NULL) {
		snprintf(why, whylen, "playlist line %zu: %s", lineno, err);
		playlist_free(pl);
		return -1;
	}
	memcpy(pl->text, text, len);
	pl->len = len;
	return 0;
}

void
playlist_free(struct playlist *pl)
{
	for (size_t i = 0; i < pl->nsegments; i++)
		free(pl->segments[i]);
	free(pl->segments);
	free(pl->text);
	memset(pl, 0, sizeof(*pl));
}
