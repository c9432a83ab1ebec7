/* probe.c - what the segmenting ffmpeg run found in a song file: its
 * codec (a framecrc header) and its tags (an ffmetadata file). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "p2pm/proto.h"
#include "probe.h"

static const char *const probe_tag_keys[PROBE_NTAGS] = {
	"artist", "album", "title", "track", "year"
};

const char *
probe_tag_key(enum probe_tag t)
{
	return t < PROBE_NTAGS ? probe_tag_keys[t] : "";
}

enum probe_mode
probe_mode_of(const struct probe_info *info)
{
	return strcmp(info->codec, "mp3") == 0 || strcmp(info->codec, "aac") == 0 ?
	    PROBE_COPY : PROBE_TRANSCODE;
}

/* Parses seconds as written in a file record ("1.044") into milliseconds.
 * Returns 0, or -1 if it is not such a number. */
static int
probe_parse_seconds(const char *s, long long *ms)
{
	long long whole = 0, frac = 0;
	int digits = 0, fdigits = 0;

	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		if (whole > LLONG_MAX / 10 / 1000 - 1)
			return -1;
		whole = whole * 10 + (*s - '0');
	}
	if (digits == 0)
		return -1;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, fdigits++)
			if (fdigits < 3)
				frac = frac * 10 + (*s - '0');
	if (*s != '\0')
		return -1;
	for (int i = fdigits; i < 3; i++)
		frac *= 10;
	*ms = whole * 1000 + frac;
	return 0;
}

/* Keeps the leading digits of a track number ("3" of "3/12"), the first
 * four of a year ("1999" of "1999-05-01"); empties anything else. */
static void
probe_tidy_tag(enum probe_tag t, char *v)
{
	size_t n = strspn(v, "0123456789");

	if (t == PROBE_TRACK) {
		v[n > 0 && n <= 4 ? n : 0] = '\0';
		/* "03" -> "3" */
		while (v[0] == '0' && v[1] != '\0')
			memmove(v, v + 1, strlen(v));
		if (strcmp(v, "0") == 0)
			v[0] = '\0';
	} else if (t == PROBE_YEAR) {
		v[n >= 4 ? 4 : 0] = '\0';
	} else {
		/* trim spaces; a value that is not valid UTF-8 is left out */
		size_t len = strlen(v), lead = strspn(v, " ");
		while (len > lead && v[len - 1] == ' ')
			len--;
		memmove(v, v + lead, len - lead);
		v[len - lead] = '\0';
		if (!proto_name_valid(v, strlen(v)))
			v[0] = '\0';
	}
}

/* Which tag a flat tag key names (case-insensitively), or PROBE_NTAGS. */
static enum probe_tag
probe_tag_of(const char *key, size_t len)
{
	static const struct { const char *key; enum probe_tag t; } map[] = {
		{ "artist", PROBE_ARTIST }, { "album", PROBE_ALBUM },
		{ "title", PROBE_TITLE }, { "track", PROBE_TRACK },
		{ "tracknumber", PROBE_TRACK }, { "date", PROBE_YEAR },
		{ "year", PROBE_YEAR }
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(*map); i++)
		if (strlen(map[i].key) == len && strncasecmp(key, map[i].key, len) == 0)
			return map[i].t;
	return PROBE_NTAGS;
}

/* Reads the file name in directory dirfd into buf (at most
 * PROBE_OUTPUT_MAX bytes, NUL-terminated). Returns its length, -1 if it
 * cannot be opened (errno ENOENT: it is not there), -2 if it is larger. */
static long
probe_slurp(int dirfd, const char *name, char *buf)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t len = 0;

	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t n = read(fd, buf + len, PROBE_OUTPUT_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len > PROBE_OUTPUT_MAX) {
			close(fd);
			return -2;
		}
	}
	close(fd);
	buf[len] = '\0';
	return (long)len;
}

/* The value of the framecrc header line "#<key> 0: <value>" in text, cut
 * to a word of [a-z0-9_] of at most outlen - 1 bytes into out. Returns 0,
 * or -1 if there is no such line. */
static int
probe_header_word(const char *text, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key);

	for (const char *l = text; *l != '\0'; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "") {
		size_t n;
		if (l[0] != '#' || strncmp(l + 1, key, klen) != 0 ||
		    strncmp(l + 1 + klen, " 0: ", 4) != 0)
			continue;
		l += 1 + klen + 4;
		n = strspn(l, "abcdefghijklmnopqrstuvwxyz0123456789_");
		if (n == 0 || n >= outlen || (l[n] != '\n' && l[n] != '\0'))
			return -1;
		memcpy(out, l, n);
		out[n] = '\0';
		return 0;
	}
	return -1;
}

/* Reads the tags of an ffmetadata file (";FFMETADATA1", then key=value
 * lines, '\' escaping '=', ';', '#', '\' and a line break; sections in
 * brackets) into info: the global ones, then those of the first
 * [STREAM], the first of each tag kept. A value too long is left out. */
static void
probe_parse_ffmetadata(const char *text, struct probe_info *info)
{
	char key[32], value[PROBE_TAG_MAX + 1];
	const char *p = text;
	int streams = 0;

	if (strncmp(p, ";FFMETADATA", 11) != 0)
		return;
	while (*p != '\0') {
		size_t klen = 0, vlen = 0;
		int in_value = 0, too_long = 0;

		if (*p == '[') {
			if (strncmp(p, "[STREAM]", 8) == 0)
				streams++;
			else
				streams = 2;	/* chapters: no more tags of ours */
		}
		if (*p == ';' || *p == '#' || *p == '[' || streams > 1) {
			while (*p != '\0' && *p != '\n')
				p++;
			if (*p == '\n')
				p++;
			continue;
		}
		for (; *p != '\0' && *p != '\n'; p++) {
			char c = *p;
			if (c == '\\' && p[1] != '\0')
				c = *++p == '\n' ? ' ' : *p;
			else if (c == '=' && !in_value) {
				in_value = 1;
				continue;
			}
			if ((unsigned char)c < 0x20 || c == 0x7f)
				c = ' ';
			if (!in_value) {
				if (klen + 1 < sizeof(key))
					key[klen++] = c;
				else
					too_long = 1;
			} else if (vlen + 1 < sizeof(value)) {
				value[vlen++] = c;
			} else
				too_long = 1;
		}
		if (*p == '\n')
			p++;
		key[klen] = '\0';
		value[vlen] = '\0';
		enum probe_tag t = probe_tag_of(key, klen);
		if (!in_value || too_long || t == PROBE_NTAGS || info->tag[t][0] != '\0')
			continue;
		probe_tidy_tag(t, value);
		memcpy(info->tag[t], value, strlen(value) + 1);
	}
}

enum probe_result
probe_read(int dirfd, struct probe_info *info, char *why, size_t whylen)
{
	char *text = malloc(PROBE_OUTPUT_MAX + 1), type[16];
	long n;

	memset(info, 0, sizeof(*info));
	if (text == NULL) {
		snprintf(why, whylen, "out of memory");
		return PROBE_FAILED;
	}
	n = probe_slurp(dirfd, PROBE_CODEC_FILE, text);
	if (n < 0) {
		free(text);
		if (n == -1 && errno == ENOENT) {
			snprintf(why, whylen, "no audio stream found in it");
			return PROBE_NOT_AUDIO;
		}
		snprintf(why, whylen, "cannot read what ffmpeg found (%s)", PROBE_CODEC_FILE);
		return PROBE_FAILED;
	}
	if (probe_header_word(text, "media_type", type, sizeof(type)) < 0 ||
	    strcmp(type, "audio") != 0 ||
	    probe_header_word(text, "codec_id", info->codec, sizeof(info->codec)) < 0) {
		free(text);
		snprintf(why, whylen, "no audio stream found in it");
		return PROBE_NOT_AUDIO;
	}
	if (probe_slurp(dirfd, PROBE_TAGS_FILE, text) >= 0)
		probe_parse_ffmetadata(text, info);
	free(text);
	return PROBE_OK;
}

void
probe_remove(int dirfd)
{
	unlinkat(dirfd, PROBE_CODEC_FILE, 0);
	unlinkat(dirfd, PROBE_TAGS_FILE, 0);
}

int
probe_format(const struct probe_info *info, char *out, size_t outlen)
{
	char enc[3 * PROBE_TAG_MAX + 1];
	size_t o;
	int n = snprintf(out, outlen, "codec=%s duration=%lld.%03lld", info->codec,
	    info->duration_ms / 1000, info->duration_ms % 1000);

	if (n < 0 || (size_t)n >= outlen)
		return -1;
	o = (size_t)n;
	for (int t = 0; t < PROBE_NTAGS; t++) {
		if (info->tag[t][0] == '\0')
			continue;
		if (proto_encode_name(info->tag[t], strlen(info->tag[t]), enc,
		    sizeof(enc)) < 0)
			return -1;
		n = snprintf(out + o, outlen - o, " %s=%s", probe_tag_keys[t], enc);
		if (n < 0 || (size_t)n >= outlen - o)
			return -1;
		o += (size_t)n;
	}
	return (int)o;
}

int
probe_parse(const char *line, struct probe_info *info)
{
	const char *p = line;

	memset(info, 0, sizeof(*info));
	while (*p != '\0') {
		const char *w = p, *eq, *end = strchr(p, ' ');
		size_t klen;

		if (end == NULL)
			end = p + strlen(p);
		p = *end == ' ' ? end + 1 : end;
		if ((eq = memchr(w, '=', (size_t)(end - w))) == NULL)
			return -1;
		klen = (size_t)(eq - w);
		eq++;
		if (klen == 5 && strncmp(w, "codec", 5) == 0) {
			size_t len = (size_t)(end - eq);
			if (len == 0 || len > PROBE_CODEC_MAX)
				return -1;
			memcpy(info->codec, eq, len);
			info->codec[len] = '\0';
			continue;
		}
		if (klen == 8 && strncmp(w, "duration", 8) == 0) {
			char num[32];
			if ((size_t)(end - eq) >= sizeof(num))
				return -1;
			memcpy(num, eq, (size_t)(end - eq));
			num[end - eq] = '\0';
			if (probe_parse_seconds(num, &info->duration_ms) < 0)
				return -1;
			continue;
		}
		for (int t = 0; t < PROBE_NTAGS; t++)
			if (strlen(probe_tag_keys[t]) == klen &&
			    strncmp(w, probe_tag_keys[t], klen) == 0 &&
			    proto_decode_name(eq, (size_t)(end - eq), info->tag[t],
			    sizeof(info->tag[t]), PROBE_TAG_MAX) < 0)
				return -1;
	}
	return info->codec[0] != '\0' ? 0 : -1;
}

/* Appends " key=value" (or "key=value" first) to out, which holds
 * PROTO_MAX_TAG_BYTES + 1 bytes, if it fits in PROTO_MAX_TAG_BYTES in all. */
static void
probe_wire_add(char *out, size_t *o, const char *key, const char *enc)
{
	size_t need = (*o > 0) + strlen(key) + 1 + strlen(enc);

	if (*o + need > PROTO_MAX_TAG_BYTES)
		return;
	*o += (size_t)snprintf(out + *o, PROTO_MAX_TAG_BYTES + 1 - *o, "%s%s=%s",
	    *o > 0 ? " " : "", key, enc);
}

int
probe_wire_tags(const struct probe_info *info, char *out, size_t outlen)
{
	char enc[3 * PROBE_TAG_MAX + 1];
	size_t o = 0;

	if (outlen < PROTO_MAX_TAG_BYTES + 1)
		return -1;
	out[0] = '\0';
	for (int t = 0; t < PROBE_NTAGS; t++)
		if (info->tag[t][0] != '\0' && proto_encode_name(info->tag[t],
		    strlen(info->tag[t]), enc, sizeof(enc)) > 0)
			probe_wire_add(out, &o, probe_tag_keys[t], enc);
	if (info->duration_ms > 0) {
		snprintf(enc, sizeof(enc), "%lld", (info->duration_ms + 500) / 1000);
		probe_wire_add(out, &o, "duration", enc);
	}
	return (int)o;
}
