/* proto.c - protocol v2: names, request parsing, reply formatting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/proto.h"
#include "p2pm/textsafe.h"

const char *
proto_status_text(enum proto_status status)
{
	switch (status) {
	case PROTO_OK: return "ok";
	case PROTO_BAD_REQUEST: return "bad request";
	case PROTO_FORBIDDEN: return "forbidden";
	case PROTO_NOT_FOUND: return "not found";
	case PROTO_TOO_LARGE: return "too large";
	case PROTO_LINE_TOO_LONG: return "line too long";
	case PROTO_INTERNAL: return "internal error";
	case PROTO_TOO_MANY: return "too many requests";
	case PROTO_BUSY: return "busy";
	case PROTO_UNREACHABLE: return "not reachable";
	}
	return "unknown";
}

static int
proto_needs_escape(unsigned char c)
{
	return c <= 0x20 || c == '%' || c >= 0x7f;
}

int
proto_encode_name(const char *name, size_t namelen, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < namelen; i++) {
		unsigned char c = (unsigned char)name[i];
		if (proto_needs_escape(c)) {
			if (o + 3 >= outlen)
				return -1;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (char)c;
		}
	}
	if (o >= outlen)
		return -1;
	out[o] = '\0';
	return (int)o;
}

int
proto_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
proto_name_valid(const char *name, size_t len)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t need;
		unsigned long cp;

		if (c < 0x20 || c == 0x7f)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else
			return 0;
		if (i + need >= len)
			return 0;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* reject overlong forms, surrogates, > U+10FFFF, C1 controls,
		 * and bidi controls and zero-width characters, with which one
		 * name could be made to look like another */
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
		    textsafe_is_control((uint32_t)cp) ||
		    textsafe_is_invisible((uint32_t)cp))
			return 0;
		i += need + 1;
	}
	return 1;
}

int
proto_decode_name(const char *token, size_t toklen, char *out, size_t outlen,
    size_t maxlen)
{
	size_t o = 0;

	if (outlen <= maxlen)
		return -1;
	for (size_t i = 0; i < toklen; i++) {
		unsigned char c = (unsigned char)token[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= toklen)
				return -1;
			hi = proto_hexval(token[i + 1]);
			lo = proto_hexval(token[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c <= 0x20 || c == 0x7f)
			return -1;	/* raw space or control byte */
		if (o >= maxlen)
			return -1;
		out[o++] = (char)c;
	}
	if (o == 0 || !proto_name_valid(out, o))
		return -1;
	out[o] = '\0';
	return (int)o;
}

struct proto_cmd_entry {
	const char *word;
	enum proto_cmd cmd;
	enum { ARG_NONE, ARG_NAME, ARG_ADDR, ARG_OPTIONAL, ARG_PAGE, ARG_PORT } arg;
};

static const struct proto_cmd_entry proto_cmds[] = {
	{ "REGISTER", PROTO_CMD_REGISTER, ARG_ADDR },
	{ "UNREGISTER", PROTO_CMD_UNREGISTER, ARG_ADDR },
	{ "QUERY", PROTO_CMD_QUERY, ARG_NAME },
	{ "LIST", PROTO_CMD_LIST, ARG_OPTIONAL },
	{ "STATS", PROTO_CMD_STATS, ARG_NONE },
	{ "PING", PROTO_CMD_PING, ARG_NONE },
	{ "QUIT", PROTO_CMD_QUIT, ARG_NONE },
	{ "REQUEST_SONG", PROTO_CMD_REQUEST_SONG, ARG_NAME },
	{ "REQUEST_SEGMENT", PROTO_CMD_REQUEST_SEGMENT, ARG_NAME },
	{ "LOCATE", PROTO_CMD_LOCATE, ARG_NAME },
	{ "LISTPAGE", PROTO_CMD_LISTPAGE, ARG_PAGE },
	{ "WHOAMI", PROTO_CMD_WHOAMI, ARG_NONE },
	{ "DIALBACK", PROTO_CMD_DIALBACK, ARG_PORT },
	{ "RESERVE", PROTO_CMD_RESERVE, ARG_ADDR },
	{ "CONNECT", PROTO_CMD_CONNECT, ARG_ADDR },
	{ "ACCEPT", PROTO_CMD_ACCEPT, ARG_NAME },
	{ "PUNCH", PROTO_CMD_PUNCH, ARG_ADDR },
	{ "PUNCHWAIT", PROTO_CMD_PUNCHWAIT, ARG_ADDR },
	{ "RESOLVE", PROTO_CMD_RESOLVE, ARG_NAME },
};

/* If the last word of arg (arglen bytes) is `word`, drops it (and the
 * space before it) from *arglen and returns 1; else 0. */
static int
proto_take_last_word(const char *arg, size_t *arglen, const char *word)
{
	size_t wl = strlen(word);

	if (*arglen <= wl + 1 || arg[*arglen - wl - 1] != ' ' ||
	    memcmp(arg + *arglen - wl, word, wl) != 0)
		return 0;
	*arglen -= wl + 1;
	return 1;
}

/* Parses a port in decimal, 1-65535, no sign, no leading zero. Returns
 * it, or 0 for anything else. */
static unsigned
proto_parse_port(const char *text, size_t len)
{
	unsigned v = 0;

	if (len == 0 || len > 5 || text[0] == '0')
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(text[i] - '0');
	}
	return v <= 65535 ? v : 0;
}

static void
proto_why(char *why, size_t whylen, const char *text)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", text);
}

/* If the last word of arg (arglen bytes) is relay=<host:port>, drops it
 * from *arglen and keeps the address, canonical, in req->relay. Returns
 * 0 (no such word too), or -1 if the address is malformed. */
static int
proto_take_relay(const char *arg, size_t *arglen, struct proto_request *req)
{
	const char *sp = NULL;
	char host[NET_HOST_MAX], addr[NET_ADDR_MAX];
	unsigned port;

	for (size_t i = *arglen; i > 0; i--)
		if (arg[i - 1] == ' ') {
			sp = arg + i - 1;
			break;
		}
	if (sp == NULL || (size_t)(arg + *arglen - sp) <= 7 ||
	    memcmp(sp + 1, "relay=", 6) != 0)
		return 0;
	size_t wlen = (size_t)(arg + *arglen - (sp + 7));
	if (wlen >= sizeof(addr))
		return -1;
	memcpy(addr, sp + 7, wlen);
	addr[wlen] = '\0';
	if (net_parse_hostport(addr, host, sizeof(host), &port, 0) < 0 ||
	    net_format_hostport(host, port, req->relay, sizeof(req->relay)) < 0) {
		req->relay[0] = '\0';
		return -1;
	}
	*arglen = (size_t)(sp - arg);
	return 0;
}

/* Parses LISTPAGE's words "limit=<n>[ after=<name>][ match=<text>]"
 * (each at most once, limit required, in any order) into req. */
static enum proto_status
proto_parse_page(const char *arg, size_t arglen, struct proto_request *req,
    char *why, size_t whylen)
{
	const char *p = arg, *end = arg + arglen;
	int seen_after = 0, seen_match = 0;

	req->limit = -1;
	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		const char *wend = sp != NULL ? sp : end;
		size_t wlen = (size_t)(wend - p);
		int n = 0;

		if (wlen > 6 && memcmp(p, "limit=", 6) == 0 && req->limit < 0) {
			long v = 0;
			for (const char *d = p + 6; d < wend; d++) {
				if (*d < '0' || *d > '9' || v > PROTO_MAX_LIST_PAGE) {
					v = -1;
					break;
				}
				v = v * 10 + (*d - '0');
			}
			if (v < 1 || v > PROTO_MAX_LIST_PAGE || p[6] == '0') {
				proto_why(why, whylen, "limit= wants 1-500");
				return PROTO_BAD_REQUEST;
			}
			req->limit = v;
		} else if (wlen > 6 && memcmp(p, "after=", 6) == 0 && !seen_after) {
			n = proto_decode_name(p + 6, wlen - 6, req->after, sizeof(req->after),
			    PROTO_MAX_NAME);
			req->afterlen = n > 0 ? (size_t)n : 0;
			seen_after = 1;
		} else if (wlen == 6 && memcmp(p, "tags=1", 6) == 0 && !req->tags) {
			req->tags = 1;
		} else if (wlen > 6 && memcmp(p, "match=", 6) == 0 && !seen_match) {
			n = proto_decode_name(p + 6, wlen - 6, req->arg, sizeof(req->arg),
			    PROTO_MAX_FILTER);
			req->arglen = n > 0 ? (size_t)n : 0;
			seen_match = 1;
		} else {
			proto_why(why, whylen, "want limit=N [after=NAME] [match=TEXT] [tags=1]");
			return PROTO_BAD_REQUEST;
		}
		if (n < 0) {
			proto_why(why, whylen, "invalid name encoding");
			return PROTO_BAD_REQUEST;
		}
		p = wend + 1;
	}
	if (req->limit < 0) {
		proto_why(why, whylen, "missing limit=");
		return PROTO_BAD_REQUEST;
	}
	return PROTO_OK;
}

enum proto_status
proto_parse_request(const char *line, size_t len, struct proto_request *req,
    char *why, size_t whylen)
{
	const struct proto_cmd_entry *e = NULL;
	const char *sp, *arg;
	size_t wordlen, arglen;

	req->has_body = 0;
	if (len == 0) {
		proto_why(why, whylen, "empty request");
		return PROTO_BAD_REQUEST;
	}
	if (memchr(line, '\0', len) != NULL) {
		proto_why(why, whylen, "NUL byte in request");
		return PROTO_BAD_REQUEST;
	}
	sp = memchr(line, ' ', len);
	wordlen = sp != NULL ? (size_t)(sp - line) : len;
	for (size_t i = 0; i < sizeof(proto_cmds) / sizeof(proto_cmds[0]); i++)
		if (strlen(proto_cmds[i].word) == wordlen &&
		    memcmp(proto_cmds[i].word, line, wordlen) == 0)
			e = &proto_cmds[i];
	if (e == NULL) {
		proto_why(why, whylen, "unknown command");
		return PROTO_BAD_REQUEST;
	}
	arg = sp != NULL ? sp + 1 : line + len;
	arglen = sp != NULL ? len - wordlen - 1 : 0;
	memset(req, 0, sizeof(*req));
	req->cmd = e->cmd;
	req->has_body = e->cmd == PROTO_CMD_REGISTER;
	if (sp != NULL && (arglen == 0 || arg[arglen - 1] == ' ')) {
		proto_why(why, whylen, "trailing space");
		return PROTO_BAD_REQUEST;
	}
	if (e->arg == ARG_PAGE) {
		if (memmem(arg, arglen, "  ", 2) != NULL) {
			proto_why(why, whylen, "two spaces");
			return PROTO_BAD_REQUEST;
		}
		return proto_parse_page(arg, arglen, req, why, whylen);
	}
	/* LOCATE <name>[ tags][ reach]: flag words after the name, in any
	 * order, each once */
	if (e->cmd == PROTO_CMD_LOCATE) {
		for (int k = 0; k < 2; k++) {
			if (!req->tags && proto_take_last_word(arg, &arglen, "tags"))
				req->tags = 1;
			else if (!req->reach && proto_take_last_word(arg, &arglen, "reach"))
				req->reach = 1;
		}
	}
	/* REGISTER <addr>[ reach=nat|reach=direct|reach=mapped]
	 * [ relay=<host:port>] */
	if (e->cmd == PROTO_CMD_REGISTER) {
		if (proto_take_relay(arg, &arglen, req) < 0) {
			proto_why(why, whylen, "invalid relay= address");
			return PROTO_BAD_REQUEST;
		}
		if (proto_take_last_word(arg, &arglen, "reach=nat"))
			req->reach_word = PROTO_REACH_NAT;
		else if (proto_take_last_word(arg, &arglen, "reach=direct"))
			req->reach_word = PROTO_REACH_DIRECT;
		else if (proto_take_last_word(arg, &arglen, "reach=mapped"))
			req->reach_word = PROTO_REACH_MAPPED;
	}
	if (memchr(arg, ' ', arglen) != NULL) {
		proto_why(why, whylen, "too many words");
		return PROTO_BAD_REQUEST;
	}
	switch (e->arg) {
	case ARG_NONE:
		if (sp != NULL) {
			proto_why(why, whylen, "too many words");
			return PROTO_BAD_REQUEST;
		}
		return PROTO_OK;
	case ARG_PAGE:
		return PROTO_BAD_REQUEST;	/* handled above */
	case ARG_PORT:
		if (sp == NULL || (req->port = proto_parse_port(arg, arglen)) == 0) {
			proto_why(why, whylen, "want a port, 1-65535");
			return PROTO_BAD_REQUEST;
		}
		return PROTO_OK;
	case ARG_OPTIONAL:
		if (sp == NULL)
			return PROTO_OK;
		/* FALLTHROUGH */
	case ARG_NAME: {
		int n;
		if (sp == NULL) {
			proto_why(why, whylen, "missing name");
			return PROTO_BAD_REQUEST;
		}
		n = proto_decode_name(arg, arglen, req->arg, sizeof(req->arg),
		    PROTO_MAX_NAME);
		if (n < 0) {
			proto_why(why, whylen, "invalid name encoding");
			return PROTO_BAD_REQUEST;
		}
		req->arglen = (size_t)n;
		return PROTO_OK;
	}
	case ARG_ADDR: {
		char host[NET_HOST_MAX];
		unsigned port;
		if (sp == NULL) {
			proto_why(why, whylen, "missing address");
			return PROTO_BAD_REQUEST;
		}
		if (arglen >= sizeof(req->arg) || arglen >= NET_ADDR_MAX) {
			proto_why(why, whylen, "invalid address");
			return PROTO_BAD_REQUEST;
		}
		memcpy(req->arg, arg, arglen);
		req->arg[arglen] = '\0';
		if (net_parse_hostport(req->arg, host, sizeof(host), &port, 0) < 0) {
			proto_why(why, whylen, "invalid address (want HOST:PORT, port 1-65535)");
			return PROTO_BAD_REQUEST;
		}
		/* store the canonical spelling so one peer is one key */
		if (net_format_hostport(host, port, req->arg, sizeof(req->arg)) < 0) {
			proto_why(why, whylen, "invalid address");
			return PROTO_BAD_REQUEST;
		}
		req->arglen = strlen(req->arg);
		return PROTO_OK;
	}
	}
	return PROTO_BAD_REQUEST;
}

int
proto_parse_song_line(const char *line, size_t len, char *out, size_t *outlen)
{
	const char *sp = memchr(line, ' ', len);
	size_t toklen = sp != NULL ? (size_t)(sp - line) : len;
	int n;

	if (memchr(line, '\0', len) != NULL)
		return -1;
	n = proto_decode_name(line, toklen, out, PROTO_MAX_NAME + 1, PROTO_MAX_NAME);
	if (n < 0)
		return -1;
	*outlen = (size_t)n;
	return 0;
}

int
proto_parse_content_id(const char *text, size_t len,
    unsigned char id[PROTO_CONTENT_ID_LEN])
{
	unsigned char buf[PROTO_CONTENT_ID_LEN];

	if (len != PROTO_CONTENT_ID_HEX)
		return -1;
	for (size_t i = 0; i < PROTO_CONTENT_ID_LEN; i++) {
		char hi = text[2 * i], lo = text[2 * i + 1];
		/* lowercase only: one spelling per content id */
		if ((hi >= 'A' && hi <= 'F') || (lo >= 'A' && lo <= 'F'))
			return -1;
		int h = proto_hexval(hi), l = proto_hexval(lo);
		if (h < 0 || l < 0)
			return -1;
		buf[i] = (unsigned char)(h << 4 | l);
	}
	memcpy(id, buf, sizeof(buf));
	return 0;
}

void
proto_format_content_id(const unsigned char id[PROTO_CONTENT_ID_LEN],
    char out[PROTO_CONTENT_ID_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < PROTO_CONTENT_ID_LEN; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 15];
	}
	out[PROTO_CONTENT_ID_HEX] = '\0';
}

int
proto_parse_register_line(const char *line, size_t len, char *out,
    size_t *outlen, unsigned char id[PROTO_CONTENT_ID_LEN], int *has_id)
{
	const char *sp, *word;
	size_t wordlen;

	*has_id = 0;
	if (proto_parse_song_line(line, len, out, outlen) < 0)
		return -1;
	sp = memchr(line, ' ', len);
	if (sp == NULL)
		return 0;
	word = sp + 1;
	wordlen = len - (size_t)(word - line);
	sp = memchr(word, ' ', wordlen);
	if (sp != NULL)
		wordlen = (size_t)(sp - word);
	if (proto_parse_content_id(word, wordlen, id) == 0)
		*has_id = 1;
	return 0;
}

/* True if text (len bytes) is tag words: key=value separated by single
 * spaces, key 1..PROTO_MAX_TAG_KEY bytes of a-z, value an encoded name. */
static int
proto_tags_valid(const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	char value[PROTO_MAX_NAME + 1];

	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		const char *wend = sp != NULL ? sp : end;
		const char *eq = memchr(p, '=', (size_t)(wend - p));
		if (eq == NULL || eq == p || (size_t)(eq - p) > PROTO_MAX_TAG_KEY)
			return 0;
		for (const char *k = p; k < eq; k++)
			if (*k < 'a' || *k > 'z')
				return 0;
		if (proto_decode_name(eq + 1, (size_t)(wend - eq - 1), value,
		    sizeof(value), PROTO_MAX_NAME) < 0)
			return 0;
		if (sp != NULL && sp + 1 == end)
			return 0;	/* a trailing space */
		p = wend + 1;
	}
	return len > 0;
}

void
proto_parse_register_tags(const char *line, size_t len, const char **tags,
    size_t *tagslen)
{
	const char *sp = memchr(line, ' ', len), *t;

	*tags = NULL;
	*tagslen = 0;
	/* "<name> <64 hex> <tags>" */
	if (sp == NULL || (size_t)(sp - line) + 2 + PROTO_CONTENT_ID_HEX >= len)
		return;
	t = sp + 1 + PROTO_CONTENT_ID_HEX;
	if (*t != ' ')
		return;
	t++;
	len -= (size_t)(t - line);
	if (len == 0 || len > PROTO_MAX_TAG_BYTES || !proto_tags_valid(t, len))
		return;
	*tags = t;
	*tagslen = len;
}

int
proto_format_err(char *out, size_t outlen, enum proto_status status,
    const char *text)
{
	int n = snprintf(out, outlen, "ERR %d %s\n", (int)status,
	    text != NULL ? text : proto_status_text(status));
	if (n < 0)
		return 0;
	if ((size_t)n >= outlen) {
		/* keep the line terminated even when the text was cut */
		out[outlen - 2] = '\n';
		return (int)outlen - 1;
	}
	return n;
}

int
proto_parse_body_header(const char *line, const char *word, char *name,
    long *bytes, long maxbytes, char *why, size_t whylen)
{
	size_t wl = strlen(word);
	const char *p, *sp;
	char *end;
	long v;

	if (strncmp(line, word, wl) != 0 || line[wl] != ' ') {
		proto_why(why, whylen, "unexpected reply");
		return -1;
	}
	p = line + wl + 1;
	sp = strchr(p, ' ');
	if (sp == NULL) {
		proto_why(why, whylen, "reply without a length");
		return -1;
	}
	if (proto_decode_name(p, (size_t)(sp - p), name, PROTO_MAX_REPLY_NAME + 1,
	    PROTO_MAX_REPLY_NAME) < 0) {
		proto_why(why, whylen, "reply with a bad name");
		return -1;
	}
	if (sp[1] < '0' || sp[1] > '9') {
		proto_why(why, whylen, "reply with a bad length");
		return -1;
	}
	v = strtol(sp + 1, &end, 10);
	if (*end != '\0' || v < 0 || v > maxbytes) {
		proto_why(why, whylen, "reply length bad or over the limit");
		return -1;
	}
	*bytes = v;
	return 0;
}

int
proto_parse_err(const char *line, const char **text)
{
	if (strncmp(line, "ERR ", 4) != 0)
		return -1;
	const char *p = line + 4;
	int code;

	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' ||
	    p[2] < '0' || p[2] > '9' || (p[3] != ' ' && p[3] != '\0'))
		return -1;
	code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	if (code < PROTO_ERR_MIN_CODE || code > PROTO_ERR_MAX_CODE)
		return -1;
	*text = p[3] == ' ' ? p + 4 : p + 3;
	return code;
}
