/* playlist.c - parsing HLS media playlists into checked segment names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/playlist.h"
#include "p2pm/sha256.h"

#define PLAYLIST_FIRST_LINE "#EXTM3U"
#define PLAYLIST_EXTINF "#EXTINF:"
/* initial room in the segment array; it doubles as needed */
#define PLAYLIST_INITIAL_SEGMENTS 16

static void
playlist_why(char *why, size_t whylen, const char *msg)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
}

int
playlist_segment_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > PROTO_MAX_NAME)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (len == strlen(PLAYLIST_INDEX_NAME) &&
	    memcmp(name, PLAYLIST_INDEX_NAME, len) == 0)
		return 0;
	return 1;
}

int
playlist_hash_name_ok(const char *name, size_t len)
{
	if (len != PLAYLIST_HASH_NAME_LEN)
		return 0;
	for (size_t i = 0; i < SHA256_HEX_LEN - 1; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return memcmp(name + SHA256_HEX_LEN - 1, PLAYLIST_SEGMENT_SUFFIX,
	    strlen(PLAYLIST_SEGMENT_SUFFIX)) == 0;
}

int
playlist_content_addressed(const struct playlist *pl)
{
	for (size_t i = 0; i < pl->count; i++)
		if (!playlist_hash_name_ok(pl->segs[i].name, strlen(pl->segs[i].name)))
			return 0;
	return pl->count > 0;
}

/* Reads "<digits>[.<digits>]" followed by ',' or the end of the line as
 * microseconds (fraction digits past the sixth are dropped). Returns 0 or
 * -1. */
static int
playlist_parse_duration(const char *p, size_t len, long long *us)
{
	size_t i = 0;
	long long secs = 0, frac = 0, scale = 100000;

	if (len == 0 || p[0] < '0' || p[0] > '9')
		return -1;
	for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
		secs = secs * 10 + (p[i] - '0');
		if (secs > PLAYLIST_MAX_SEGMENT_SECONDS)
			return -1;
	}
	if (i < len && p[i] == '.') {
		i++;
		for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
			frac += (p[i] - '0') * scale;
			scale /= 10;
		}
	}
	if (i < len && p[i] != ',')
		return -1;
	*us = secs * 1000000 + frac;
	return *us <= PLAYLIST_MAX_SEGMENT_SECONDS * 1000000LL ? 0 : -1;
}

/* Appends one segment, growing the array; returns -1 on a bad name, too many segments or no memory, with a reason in why. */
static int
playlist_add(struct playlist *pl, size_t *cap, const char *name, size_t len,
    long long us, char *why, size_t whylen)
{
	if (!playlist_segment_name_ok(name, len)) {
		playlist_why(why, whylen, "playlist lists an unsafe segment name");
		return -1;
	}
	if (pl->count == PLAYLIST_MAX_SEGMENTS) {
		playlist_why(why, whylen, "playlist lists too many segments");
		return -1;
	}
	if (pl->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : PLAYLIST_INITIAL_SEGMENTS;
		struct playlist_segment *n = realloc(pl->segs, ncap * sizeof(*n));
		if (n == NULL) {
			playlist_why(why, whylen, "out of memory");
			return -1;
		}
		pl->segs = n;
		*cap = ncap;
	}
	memcpy(pl->segs[pl->count].name, name, len);
	pl->segs[pl->count].name[len] = '\0';
	pl->segs[pl->count].duration_us = us;
	pl->segs[pl->count].duration_ms = (long)(us / 1000);
	pl->count++;
	pl->total_us += us;
	pl->total_ms = (long)(pl->total_us / 1000);
	return 0;
}

static int
playlist_cmp_names(const void *a, const void *b)
{
	const struct playlist_segment *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* True if some name is listed twice (sorts pointers: n log n). */
static int
playlist_has_duplicates(const struct playlist *pl, char *why, size_t whylen)
{
	const struct playlist_segment **v = malloc(pl->count * sizeof(*v));
	int dup = 0;

	if (v == NULL) {
		playlist_why(why, whylen, "out of memory");
		return 1;
	}
	for (size_t i = 0; i < pl->count; i++)
		v[i] = &pl->segs[i];
	qsort(v, pl->count, sizeof(*v), playlist_cmp_names);
	for (size_t i = 1; i < pl->count && !dup; i++)
		dup = strcmp(v[i - 1]->name, v[i]->name) == 0;
	free(v);
	if (dup)
		playlist_why(why, whylen, "playlist lists a segment twice");
	return dup;
}

int
playlist_parse(const char *text, size_t len, struct playlist *pl, char *why,
    size_t whylen)
{
	size_t pos = 0, cap = 0, lineno = 0;
	long long pending_us = -1;
	const char *cr;

	memset(pl, 0, sizeof(*pl));
	if (memchr(text, '\0', len) != NULL) {
		playlist_why(why, whylen, "playlist holds a NUL byte");
		return -1;
	}
	/* players take a lone CR for a line end: only CR LF is a line end here */
	for (cr = memchr(text, '\r', len); cr != NULL;
	    cr = memchr(cr + 1, '\r', len - (size_t)(cr + 1 - text))) {
		if ((size_t)(cr + 1 - text) == len || cr[1] != '\n') {
			playlist_why(why, whylen, "playlist holds a CR inside a line");
			return -1;
		}
	}
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;

		pos += n + (nl ? 1 : 0);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		lineno++;
		if (lineno == 1) {
			if (n != strlen(PLAYLIST_FIRST_LINE) ||
			    memcmp(line, PLAYLIST_FIRST_LINE, n) != 0) {
				playlist_why(why, whylen,
				    "playlist does not begin with #EXTM3U");
				goto fail;
			}
			continue;
		}
		if (n == 0)
			continue;
		if (line[0] == '#') {
			size_t tl = strlen(PLAYLIST_EXTINF);
			if (n >= tl && memcmp(line, PLAYLIST_EXTINF, tl) == 0) {
				if (playlist_parse_duration(line + tl, n - tl,
				    &pending_us) < 0) {
					playlist_why(why, whylen,
					    "playlist has a bad #EXTINF duration");
					goto fail;
				}
				continue;
			}
			for (size_t i = 0; i + 4 <= n; i++) {
				if (memcmp(line + i, "URI=", 4) == 0) {
					playlist_why(why, whylen,
					    "playlist tag refers to another URI");
					goto fail;
				}
			}
			continue;
		}
		if (pending_us < 0) {
			playlist_why(why, whylen,
			    "playlist segment without #EXTINF before it");
			goto fail;
		}
		if (playlist_add(pl, &cap, line, n, pending_us, why, whylen) < 0)
			goto fail;
		pending_us = -1;
	}
	if (lineno == 0) {
		playlist_why(why, whylen, "playlist is empty");
		goto fail;
	}
	if (pl->count == 0) {
		playlist_why(why, whylen, "playlist lists no segments");
		goto fail;
	}
	if (playlist_has_duplicates(pl, why, whylen))
		goto fail;
	return 0;
fail:
	playlist_free(pl);
	return -1;
}

void
playlist_free(struct playlist *pl)
{
	free(pl->segs);
	memset(pl, 0, sizeof(*pl));
}

char *
playlist_canonical(const struct playlist *pl, size_t *len)
{
	long long target_us = 0;
	size_t cap, n = 0;
	char *out;

	for (size_t i = 0; i < pl->count; i++)
		if (pl->segs[i].duration_us > target_us)
			target_us = pl->segs[i].duration_us;
	/* a header, and per segment an #EXTINF line and a name line */
	cap = 256 + pl->count * (sizeof("#EXTINF:86400.000000,\n") + PROTO_MAX_NAME + 1);
	if ((out = malloc(cap)) == NULL)
		return NULL;
	n += (size_t)snprintf(out + n, cap - n, "#EXTM3U\n#EXT-X-VERSION:%d\n"
	    "#EXT-X-TARGETDURATION:%lld\n#EXT-X-MEDIA-SEQUENCE:0\n"
	    "#EXT-X-PLAYLIST-TYPE:VOD\n", PLAYLIST_HLS_VERSION,
	    target_us <= 1000000 ? 1 : (target_us + 999999) / 1000000);
	for (size_t i = 0; i < pl->count; i++)
		n += (size_t)snprintf(out + n, cap - n, "#EXTINF:%lld.%06lld,\n%s\n",
		    pl->segs[i].duration_us / 1000000,
		    pl->segs[i].duration_us % 1000000, pl->segs[i].name);
	n += (size_t)snprintf(out + n, cap - n, "#EXT-X-ENDLIST\n");
	*len = n;
	return out;
}

int
playlist_same_tail(const struct playlist *a, const struct playlist *b,
    size_t from)
{
	if (a->count != b->count)
		return 0;
	for (size_t i = from; i < a->count; i++)
		if (strcmp(a->segs[i].name, b->segs[i].name) != 0)
			return 0;
	return 1;
}

int
playlist_same_segments(const struct playlist *a, const struct playlist *b)
{
	return playlist_same_tail(a, b, 0);
}
