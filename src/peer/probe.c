/* probe.c - runs ffprobe with fork/exec to read a song file's codec, tags
 * and duration. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/pathsearch.h"
#include "p2pm/proto.h"
#include "probe.h"
#include "spawn.h"

/* words on ffprobe's command line, with the NULL that ends it */
#define PROBE_ARGC 20

static const char *const probe_tag_keys[PROBE_NTAGS] = {
	"artist", "album", "title", "track", "year"
};

int
probe_find_ffprobe(char *out, size_t outlen)
{
	return pathsearch_find("ffprobe", out, outlen);
}

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

/* Reads ffprobe's output from fd into out (at most PROBE_OUTPUT_MAX bytes,
 * NUL-terminated) until it closes it. Returns PROBE_OK, or PROBE_STOPPED,
 * or PROBE_FAILED with a reason (timed out, too much output). */
static enum probe_result
probe_collect(int fd, const atomic_int *stop, char *out, size_t *outlen,
    char *why, size_t whylen)
{
	long long deadline = clock_now_ms() + (long long)PROBE_TIMEOUT_S * 1000;

	*outlen = 0;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int rc;

		if (atomic_load(stop))
			return PROBE_STOPPED;
		if (clock_now_ms() >= deadline) {
			snprintf(why, whylen, "ffprobe took over %d s and was killed",
			    PROBE_TIMEOUT_S);
			return PROBE_FAILED;
		}
		rc = poll(&pfd, 1, PROBE_POLL_MS);
		if (rc < 0 && errno != EINTR) {
			snprintf(why, whylen, "poll: %s", strerror(errno));
			return PROBE_FAILED;
		}
		if (rc <= 0)
			continue;
		if (*outlen == PROBE_OUTPUT_MAX) {
			snprintf(why, whylen, "ffprobe wrote more than %d bytes",
			    PROBE_OUTPUT_MAX);
			return PROBE_FAILED;
		}
		n = read(fd, out + *outlen, PROBE_OUTPUT_MAX - *outlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whylen, "read: %s", strerror(errno));
			return PROBE_FAILED;
		}
		if (n == 0)
			break;
		*outlen += (size_t)n;
	}
	out[*outlen] = '\0';
	return PROBE_OK;
}

/* Decodes the quoted value of a flat line (from just after its opening
 * '"' to the line's end, which must be the closing '"'): \n, \r, \t and
 * backslash-escaped \ " ` $. Control bytes become spaces. Returns the
 * length written to out (outlen > 0), or -1 if malformed or too long. */
static int
probe_unquote(const char *v, const char *end, char *out, size_t outlen)
{
	size_t o = 0;

	if (end <= v || end[-1] != '"')
		return -1;
	end--;
	for (const char *p = v; p < end; p++) {
		char c = *p;
		if (c == '"')
			return -1;
		if (c == '\\') {
			if (++p == end)
				return -1;
			switch (*p) {
			case 'n': case 'r': case 't':
				c = ' ';
				break;
			case '\\': case '"': case '`': case '$':
				c = *p;
				break;
			default:
				return -1;
			}
		}
		if ((unsigned char)c < 0x20 || c == 0x7f)
			c = ' ';
		if (o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return (int)o;
}

/* Parses seconds as ffprobe writes them ("1.044898") into milliseconds.
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

/* Parses ffprobe's -of flat output: every line is key="value"; the keys
 * used are streams.stream.0.{codec_name,codec_type,tags.*} and
 * format.{duration,tags.*}, the first of each tag kept. Returns PROBE_OK,
 * PROBE_NOT_AUDIO if there is no audio stream, or PROBE_FAILED with a
 * reason if a line is malformed. */
static enum probe_result
probe_parse_flat(char *text, struct probe_info *info, char *why, size_t whylen)
{
	static const char stream[] = "streams.stream.0.", format[] = "format.";
	char value[PROBE_TAG_MAX + 1], type[16] = "";
	char *save = NULL;

	memset(info, 0, sizeof(*info));
	for (char *l = strtok_r(text, "\n", &save); l != NULL;
	    l = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(l, '='), *end = l + strlen(l);
		const char *key;
		int long_value;

		if (eq == NULL || eq[1] != '"') {
			snprintf(why, whylen, "unexpected ffprobe output line");
			return PROBE_FAILED;
		}
		*eq = '\0';
		long_value = probe_unquote(eq + 2, end, value, sizeof(value)) < 0;
		if (strncmp(l, stream, strlen(stream)) == 0)
			key = l + strlen(stream);
		else if (strncmp(l, format, strlen(format)) == 0)
			key = l + strlen(format);
		else
			continue;
		if (strncmp(key, "tags.", 5) == 0) {
			enum probe_tag t = probe_tag_of(key + 5, strlen(key + 5));
			/* a value too long or malformed is left out */
			if (t == PROBE_NTAGS || long_value || info->tag[t][0] != '\0')
				continue;
			probe_tidy_tag(t, value);
			memcpy(info->tag[t], value, strlen(value) + 1);
			continue;
		}
		if (long_value) {
			snprintf(why, whylen, "malformed ffprobe output for %s", l);
			return PROBE_FAILED;
		}
		if (key == l + strlen(stream) && strcmp(key, "codec_name") == 0) {
			if (strlen(value) >= sizeof(info->codec))
				continue;
			memcpy(info->codec, value, strlen(value) + 1);
		} else if (key == l + strlen(stream) && strcmp(key, "codec_type") == 0) {
			if (strlen(value) < sizeof(type))
				memcpy(type, value, strlen(value) + 1);
		} else if (key != l + strlen(stream) && strcmp(key, "duration") == 0 &&
		    probe_parse_seconds(value, &info->duration_ms) < 0)
			info->duration_ms = 0;	/* "N/A" */
	}
	if (strcmp(type, "audio") != 0 || info->codec[0] == '\0' ||
	    strspn(info->codec, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
	    strlen(info->codec)) {
		snprintf(why, whylen, "no audio stream in it");
		return PROBE_NOT_AUDIO;
	}
	return PROBE_OK;
}

enum probe_result
probe_run(const char *ffprobe, const char *path, const atomic_int *stop,
    struct probe_info *info, char *why, size_t whylen)
{
	char in_arg[PATH_MAX + 8], *out;
	size_t outlen = 0;
	enum probe_result res;
	int fd, status;
	pid_t pid;

	if (snprintf(in_arg, sizeof(in_arg), "file:%s", path) >= (int)sizeof(in_arg)) {
		snprintf(why, whylen, "path too long");
		return PROBE_FAILED;
	}
	char *const argv[PROBE_ARGC] = {
		(char *)"ffprobe", (char *)"-v", (char *)"quiet",
		(char *)"-protocol_whitelist", (char *)"file",
		(char *)"-format_whitelist", (char *)PROBE_FORMATS,
		(char *)"-select_streams", (char *)"a:0",
		(char *)"-show_entries",
		(char *)"stream=codec_name,codec_type:stream_tags:format=duration:format_tags",
		(char *)"-of", (char *)"flat", in_arg, NULL
	};
	if ((out = malloc(PROBE_OUTPUT_MAX + 1)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return PROBE_FAILED;
	}
	pid = spawn_child(ffprobe, argv, STDOUT_FILENO, -1, -1, &fd, why, whylen);
	if (pid < 0) {
		free(out);
		return PROBE_FAILED;
	}
	res = probe_collect(fd, stop, out, &outlen, why, whylen);
	close(fd);
	if (res != PROBE_OK && kill(-pid, SIGKILL) < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (res == PROBE_OK) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
			snprintf(why, whylen, "cannot run ffprobe");
			res = PROBE_FAILED;
		} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			snprintf(why, whylen, "ffprobe cannot open it as audio "
			    "(%s)", PROBE_FORMATS);
			res = PROBE_NOT_AUDIO;
		} else
			res = probe_parse_flat(out, info, why, whylen);
	}
	free(out);
	return res;
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
