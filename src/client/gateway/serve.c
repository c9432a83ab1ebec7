/* serve.c - `client serve`: an HTTP/1.1 gateway to the network. Players
 * and browsers get a song's playlist and segments under /songs/<name>/,
 * the song list as JSON under /api/songs, cover art under /art/, and a
 * player page at /.
 *
 * One detached thread per connection, at most SERVE_MAX_CONNS of them
 * and SERVE_MAX_CONNS_PER_SOURCE from one source; at either limit the
 * oldest idle connection (waiting for a request, no byte of it read) is
 * closed for the newcomer, and only when none is idle is the newcomer
 * answered 503; persistent connections; a request head must arrive
 * within HTTP_HEAD_DEADLINE_MS of its first byte (else 408) and fit
 * HTTP_MAX_HEAD_BYTES (else 431 or 414); a reader that stops reading is
 * dropped after HTTP_SEND_TIMEOUT_MS. Songs come from gateway.c, which
 * fetches them through the swarm.
 *
 * Against DNS rebinding, a request whose Host is not one of the
 * gateway's names (serve_host_ok) is answered 421; against other sites'
 * pages, a request they make (Sec-Fetch-Site other than same-origin or
 * none, or an Origin not the gateway's) is answered 403, but for the
 * media GETs (/songs/..., /art/...) that any page may embed and for
 * navigating to the page at /. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "p2pm/cli.h"
#include "p2pm/clock.h"
#include "p2pm/http.h"
#include "p2pm/log.h"
#include "p2pm/picture.h"
#include "p2pm/textsafe.h"
#include "../client.h"
#include "../songsearch.h"
#include "gateway.h"
#include "serve.h"
#include "webpage.h"

/* most connections served at once; past it the oldest idle one is
 * closed for a newcomer, or, with none idle, the newcomer gets 503 */
#define SERVE_MAX_CONNS 64
/* most connections served at once from one source (an address; all of
 * loopback is one source), the same way: one local process or one host
 * cannot hold more than half of SERVE_MAX_CONNS */
#define SERVE_MAX_CONNS_PER_SOURCE 32
/* what serve_source_of calls every loopback address */
#define SERVE_LOOPBACK_SOURCE "loopback"
#define SERVE_THREAD_STACK (256 * 1024)
/* how often the accept loop looks at the stop flag, in milliseconds */
#define SERVE_POLL_MS 200
/* how long shutdown waits for open connections to end, in milliseconds */
#define SERVE_SHUTDOWN_WAIT_MS 2000
/* most songs one /api/songs reply lists (the reply says when it stops) */
#define SERVE_MAX_API_SONGS 5000
/* longest search text, in bytes */
#define SERVE_MAX_QUERY PROTO_MAX_FILTER
#define SERVE_STR_(x) #x
#define SERVE_STR(x) SERVE_STR_(x)
/* room for a decoded path piece before its length is checked */
#define SERVE_MAX_PIECE HTTP_MAX_REQUEST_LINE
/* before a close, unread input is drained for at most this long (ms) and
 * this many bytes, so that the last reply is not lost to a TCP reset */
#define SERVE_LINGER_MS 500
#define SERVE_LINGER_BYTES (1024 * 1024)
#define SERVE_SEGMENT_CACHE "public, max-age=31536000, immutable"

#define SERVE_TYPE_HTML "text/html; charset=utf-8"
#define SERVE_TYPE_JSON "application/json"
#define SERVE_TYPE_TEXT "text/plain; charset=utf-8"
#define SERVE_TYPE_PLAYLIST "application/vnd.apple.mpegurl"
#define SERVE_TYPE_SEGMENT "video/mp2t"

struct serve_conn {
	int fd;
	struct serve *srv;
	struct serve_conn *next, *prev;
	/* in srv->idle while waiting for a request with no byte of it read */
	struct serve_conn *idle_next, *idle_prev;
	int idle;
	int evicted;			/* shut down for a newcomer: to end */
	char remote[NET_ADDR_MAX];
	char source[NET_ADDR_MAX];	/* serve_source_of remote */
	int closing;			/* this request is the connection's last */
	int keep_alive_10;		/* an HTTP/1.0 request asked for keep-alive */
	size_t len;			/* bytes in buf */
	char buf[HTTP_MAX_HEAD_BYTES];
};

struct serve {
	int listen_fd;
	char address[NET_ADDR_MAX];
	char host[NET_ADDR_MAX];	/* of address: "127.0.0.1", "[::1]" */
	const char *port;		/* of address: "8800" */
	int wildcard;			/* bound to 0.0.0.0 or [::] */
	const char *const *allow_hosts;	/* --allow-host */
	size_t nallow_hosts;
	struct gateway *gw;
	pthread_attr_t attr;
	/* guards conns, live, the idle list and each connection's idle,
	 * evicted and links; a connection's fd is closed under it */
	pthread_mutex_t lock;
	struct serve_conn *conns;
	int live;			/* connections in conns not evicted */
	/* the idle connections, the one idle longest first */
	struct serve_conn *idle_head, *idle_tail;
};

/* What one response is: status, type, body, and the headers it needs. */
struct serve_reply {
	enum http_status status;
	const char *type;
	const char *body;
	size_t len;
	const char *etag;		/* NULL: none */
	const char *cache;		/* Cache-Control, NULL: no-cache */
	int ranges;			/* Accept-Ranges: bytes */
	unsigned long long range_start, total;	/* for 206 and 416 */
	int close;			/* Connection: close */
	const char *allow;		/* Allow, for 405 */
};

/* ---- writing responses */

/* Sends the head of r and, unless head_only, its body. Returns 0 or -1
 * when the connection is lost. */
static int
serve_send(struct serve_conn *c, const struct serve_reply *r, int head_only)
{
	struct http_head h;

	http_head_start(&h, r->status);
	http_head_add(&h, "Server", "p2p-music");
	if (r->type != NULL)
		http_head_add(&h, "Content-Type", "%s", r->type);
	http_head_add(&h, "Content-Length", "%zu", r->len);
	if (r->status == HTTP_PARTIAL_CONTENT)
		http_head_add(&h, "Content-Range", "bytes %llu-%llu/%llu",
		    r->range_start, r->range_start + r->len - 1, r->total);
	else if (r->status == HTTP_RANGE_NOT_SATISFIABLE)
		http_head_add(&h, "Content-Range", "bytes */%llu", r->total);
	if (r->etag != NULL)
		http_head_add(&h, "ETag", "\"%s\"", r->etag);
	http_head_add(&h, "Cache-Control", "%s",
	    r->cache != NULL ? r->cache : "no-cache");
	if (r->ranges)
		http_head_add(&h, "Accept-Ranges", "bytes");
	if (r->allow != NULL)
		http_head_add(&h, "Allow", "%s", r->allow);
	http_head_add(&h, "X-Content-Type-Options", "nosniff");
	if (r->close || c->closing)
		http_head_add(&h, "Connection", "close");
	else if (c->keep_alive_10)
		http_head_add(&h, "Connection", "keep-alive");
	if (http_head_finish(&h) < 0)
		return -1;
	if (net_write_all(c->fd, h.buf, h.len) < 0)
		return -1;
	if (!head_only && r->len > 0 && net_write_all(c->fd, r->body, r->len) < 0)
		return -1;
	return 0;
}

/* Sends a short text/plain error: "<code> <reason>: <why>". */
static int
serve_error(struct serve_conn *c, enum http_status status, const char *why,
    int head_only, int close)
{
	char body[CLIENT_ERR_LEN + 64];
	struct serve_reply r = { .status = status, .type = SERVE_TYPE_TEXT,
	    .body = body, .close = close };
	int n;

	n = snprintf(body, sizeof(body), "%d %s%s%s\n", (int)status,
	    http_status_text(status), why != NULL ? ": " : "",
	    why != NULL ? why : "");
	r.len = n < 0 ? 0 : (size_t)n < sizeof(body) ? (size_t)n : sizeof(body) - 1;
	if (status == HTTP_METHOD_NOT_ALLOWED)
		r.allow = "GET, HEAD";
	return serve_send(c, &r, head_only);
}

/* The HTTP status for what the gateway said. */
static enum http_status
serve_status_of(enum gateway_result res)
{
	switch (res) {
	case GATEWAY_OK: return HTTP_OK;
	case GATEWAY_NOT_FOUND: return HTTP_NOT_FOUND;
	case GATEWAY_TRACKER_DOWN: return HTTP_BAD_GATEWAY;
	case GATEWAY_NO_SOURCE: return HTTP_BAD_GATEWAY;
	case GATEWAY_NO_MEMORY: return HTTP_UNAVAILABLE;
	}
	return HTTP_INTERNAL_ERROR;
}

/* ---- the resources */

/* A growing text buffer for JSON. */
struct serve_text {
	char *buf;
	size_t len, cap;
	int failed;
};

static void
serve_text_add(struct serve_text *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t ncap = t->cap ? t->cap : 4096;
		while (ncap < t->len + n + 1)
			ncap *= 2;
		char *nb = realloc(t->buf, ncap);
		if (nb == NULL) {
			t->failed = 1;
			return;
		}
		t->buf = nb;
		t->cap = ncap;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

/* True if the len bytes at p start with U+2028 LINE SEPARATOR or U+2029
 * PARAGRAPH SEPARATOR in UTF-8 (E2 80 A8, E2 80 A9). */
static int
serve_is_separator(const char *p, size_t len)
{
	return len >= 3 && p[0] == '\xe2' && p[1] == '\x80' &&
	    (p[2] == '\xa8' || p[2] == '\xa9');
}

/* Adds s as a JSON string, quotes included. The text goes through the
 * one sanitizer first (invalid UTF-8, controls and bidi controls become
 * '?'), then '"' and '\\' are escaped, and so are '<', '>', '&', U+2028
 * and U+2029, so that the text is safe wherever it lands (in a script
 * element too, where U+2028 ended a line before ES2019). */
static void
serve_text_json(struct serve_text *t, const char *s)
{
	size_t len = strlen(s);
	char *safe = malloc(len + 1);

	if (safe == NULL) {
		t->failed = 1;
		return;
	}
	len = textsafe_copy(safe, len + 1, s, len);
	serve_text_add(t, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)safe[i];
		char esc[8];
		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			serve_text_add(t, esc, 2);
		} else if (ch < 0x20 || ch == 0x7f || ch == '<' || ch == '>' ||
		    ch == '&') {
			snprintf(esc, sizeof(esc), "\\u%04x", ch);
			serve_text_add(t, esc, 6);
		} else if (serve_is_separator(safe + i, len - i)) {
			serve_text_add(t, safe[i + 2] == '\xa8' ? "\\u2028" :
			    "\\u2029", 6);
			i += 2;
		} else {
			serve_text_add(t, safe + i, 1);
		}
	}
	serve_text_add(t, "\"", 1);
	free(safe);
}

/* Adds ,"key": and s as a JSON string, or null when s is NULL or "". */
static void
serve_text_field(struct serve_text *t, const char *key, const char *s)
{
	serve_text_add(t, ",\"", 2);
	serve_text_add(t, key, strlen(key));
	serve_text_add(t, "\":", 2);
	if (s == NULL || *s == '\0')
		serve_text_add(t, "null", 4);
	else
		serve_text_json(t, s);
}

/* One song of /api/songs as a JSON object. */
static void
serve_text_song(struct serve_text *t, const struct song_entry *e)
{
	char num[64];

	serve_text_add(t, "{\"name\":", 8);
	serve_text_json(t, e->name);
	serve_text_field(t, "artist", e->artist);
	serve_text_field(t, "album", e->album);
	serve_text_field(t, "title", e->title);
	if (e->track < 0)
		snprintf(num, sizeof(num), ",\"track\":null");
	else
		snprintf(num, sizeof(num), ",\"track\":%ld", e->track);
	serve_text_add(t, num, strlen(num));
	if (e->duration_ms < 0)
		snprintf(num, sizeof(num), ",\"duration\":null");
	else
		snprintf(num, sizeof(num), ",\"duration\":%ld.%03ld",
		    e->duration_ms / 1000, e->duration_ms % 1000);
	serve_text_add(t, num, strlen(num));
	serve_text_field(t, "art", e->art);
	snprintf(num, sizeof(num), ",\"sources\":%ld}", e->peers);
	serve_text_add(t, num, strlen(num));
}

/* GET /api/songs?q=TEXT: the songs `client list TEXT` finds (the same
 * search, songsearch.c), {"songs":[{"name":..,"artist":..,"album":..,
 * "title":..,"track":N,"duration":S,"art":..,"sources":N},..],"count":N,
 * "truncated":false,"suggestion":null}; with no song found, "suggestion"
 * names the nearest song when one is near. */
static int
serve_api_songs(struct serve_conn *c, const struct http_request *req,
    int head_only)
{
	char q[SERVE_MAX_PIECE + 1], err[CLIENT_ERR_LEN], num[64];
	char near[PROTO_MAX_NAME + 1] = "";
	struct serve_text t = { 0 };
	struct song_list songs;
	size_t found, shown;
	int rc;

	/* the search text is the user's: one no song name could match is
	 * refused before anyone is asked */
	rc = http_query_value(req->query, req->querylen, "q", q, sizeof(q));
	if (rc < 0)
		return serve_error(c, HTTP_BAD_REQUEST, "bad percent-encoding in q=",
		    head_only, 0);
	if (rc > SERVE_MAX_QUERY)
		return serve_error(c, HTTP_BAD_REQUEST, "search text too long (at "
		    "most " SERVE_STR(SERVE_MAX_QUERY) " bytes)", head_only, 0);
	if (rc > 0 && !proto_name_valid(q, (size_t)rc))
		return serve_error(c, HTTP_BAD_REQUEST, "search text is not UTF-8 "
		    "text without control characters", head_only, 0);
	if (gateway_songs(c->srv->gw, NULL, &songs, err, sizeof(err)) != GATEWAY_OK)
		return serve_error(c, HTTP_BAD_GATEWAY, err, head_only, 0);
	found = songsearch_select(&songs, q);
	if (found == 0 && q[0] != '\0' && songsearch_suggest(&songs, q, near) < 0)
		near[0] = '\0';
	shown = found < SERVE_MAX_API_SONGS ? found : SERVE_MAX_API_SONGS;
	serve_text_add(&t, "{\"songs\":[", 10);
	for (size_t i = 0; i < shown; i++) {
		if (i > 0)
			serve_text_add(&t, ",", 1);
		serve_text_song(&t, &songs.songs[i]);
	}
	snprintf(num, sizeof(num), "],\"count\":%zu,\"truncated\":%s", found,
	    shown < found ? "true" : "false");
	serve_text_add(&t, num, strlen(num));
	serve_text_field(&t, "suggestion", near);
	serve_text_add(&t, "}\n", 2);
	song_list_free(&songs);
	if (t.failed) {
		free(t.buf);
		return serve_error(c, HTTP_UNAVAILABLE, "out of memory", head_only, 0);
	}
	struct serve_reply r = { .status = HTTP_OK, .type = SERVE_TYPE_JSON,
	    .body = t.buf, .len = t.len };
	rc = serve_send(c, &r, head_only);
	free(t.buf);
	return rc;
}

/* GET /art/<name>?song=NAME: a song's cover art picture, fetched from the
 * song's sources and checked against its name; cached for good. */
static int
serve_art(struct serve_conn *c, const struct http_request *req,
    const char *enc_name, size_t namelen, int head_only)
{
	char name[SERVE_MAX_PIECE + 1], song[SERVE_MAX_QUERY + 1];
	char err[CLIENT_ERR_LEN];
	struct gateway_blob *b;
	enum gateway_result res;
	int n, rc;

	n = http_decode_path(enc_name, namelen, name, sizeof(name));
	if (n < 0 || !picture_name_ok(name, (size_t)n))
		return serve_error(c, HTTP_NOT_FOUND, "no such picture", head_only, 0);
	rc = http_query_value(req->query, req->querylen, "song", song, sizeof(song));
	if (rc < 0 || (rc > 0 && !proto_name_valid(song, (size_t)rc)))
		return serve_error(c, HTTP_BAD_REQUEST, "bad song= value", head_only, 0);
	if (rc == 0)
		return serve_error(c, HTTP_NOT_FOUND, "song= names no song", head_only, 0);
	res = gateway_art(c->srv->gw, song, name, &b, err, sizeof(err));
	if (res != GATEWAY_OK) {
		log_info("%s: art %s of '%s': %s", c->remote, name, song, err);
		return serve_error(c, serve_status_of(res), err, head_only, 0);
	}
	struct serve_reply r = { .status = HTTP_OK, .type = picture_media_type(name),
	    .body = b->data, .len = b->len, .etag = b->etag,
	    .cache = SERVE_SEGMENT_CACHE };
	if (req->if_none_match[0] != '\0' &&
	    http_etag_matches(req->if_none_match, b->etag)) {
		r.status = HTTP_NOT_MODIFIED;
		head_only = 1;
	}
	rc = serve_send(c, &r, head_only);
	gateway_blob_release(b);
	return rc;
}

/* A playlist or a segment: 304 for a matching If-None-Match, Range for
 * segments. */
static int
serve_blob(struct serve_conn *c, const struct http_request *req,
    const struct gateway_blob *b, int segment, int head_only)
{
	struct serve_reply r = { .status = HTTP_OK, .body = b->data, .len = b->len,
	    .etag = b->etag, .total = b->len };
	unsigned long long start, len;

	r.type = segment ? SERVE_TYPE_SEGMENT : SERVE_TYPE_PLAYLIST;
	if (segment) {
		r.cache = SERVE_SEGMENT_CACHE;
		r.ranges = 1;
	}
	if (req->if_none_match[0] != '\0' &&
	    http_etag_matches(req->if_none_match, b->etag)) {
		/* the length a 200 would have, and no body */
		r.status = HTTP_NOT_MODIFIED;
		return serve_send(c, &r, 1);
	}
	if (segment) {
		switch (http_parse_range(req->range, b->len, &start, &len)) {
		case HTTP_RANGE_NONE:
			break;
		case HTTP_RANGE_OK:
			r.status = HTTP_PARTIAL_CONTENT;
			r.range_start = start;
			r.body = b->data + start;
			r.len = (size_t)len;
			break;
		case HTTP_RANGE_UNSATISFIABLE:
			r.status = HTTP_RANGE_NOT_SATISFIABLE;
			r.type = NULL;
			r.len = 0;
			return serve_send(c, &r, 1);
		}
	}
	return serve_send(c, &r, head_only);
}

/* /songs/<name>/index.m3u8 and /songs/<name>/<segment>, pieces still
 * percent-encoded. */
static int
serve_song(struct serve_conn *c, const struct http_request *req,
    const char *enc_name, size_t namelen, const char *enc_file,
    size_t filelen, int head_only)
{
	char name[SERVE_MAX_PIECE + 1], file[SERVE_MAX_PIECE + 1];
	char err[CLIENT_ERR_LEN];
	struct gateway_blob *b;
	enum gateway_result res;
	int n, m, segment, rc;

	n = http_decode_path(enc_name, namelen, name, sizeof(name));
	m = http_decode_path(enc_file, filelen, file, sizeof(file));
	if (n < 0 || m < 0)
		return serve_error(c, HTTP_BAD_REQUEST, "bad percent-encoding",
		    head_only, 0);
	if (n == 0 || !proto_name_valid(name, (size_t)n))
		return serve_error(c, HTTP_BAD_REQUEST, "not a valid song name "
		    "(1 to 255 bytes of UTF-8, no control characters)", head_only, 0);
	if (n > PROTO_MAX_NAME)
		return serve_error(c, HTTP_NOT_FOUND, "no song of that name",
		    head_only, 0);
	segment = strcmp(file, PLAYLIST_INDEX_NAME) != 0;
	if (segment && !playlist_segment_name_ok(file, (size_t)m))
		return serve_error(c, HTTP_NOT_FOUND, "no such segment", head_only, 0);
	if (segment)
		res = gateway_segment(c->srv->gw, name, file, &b, err, sizeof(err));
	else
		res = gateway_playlist(c->srv->gw, name, &b, err, sizeof(err));
	if (res != GATEWAY_OK) {
		log_info("%s: '%s' %s: %s", c->remote, name, file, err);
		return serve_error(c, serve_status_of(res), err, head_only, 0);
	}
	rc = serve_blob(c, req, b, segment, head_only);
	gateway_blob_release(b);
	return rc;
}

int
serve_host_name_ok(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= CLIENT_MAX_HOST_NAME &&
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-.") == len;
}

/* True if name (len bytes) is an IP address literal: a dotted quad or a
 * bracketed IPv6 address. */
static int
serve_is_ip_literal(const char *name, size_t len)
{
	char buf[NET_ADDR_MAX];
	unsigned char addr[16];

	if (len < 2 || len >= sizeof(buf))
		return 0;
	if (name[0] == '[') {
		if (name[len - 1] != ']')
			return 0;
		memcpy(buf, name + 1, len - 2);
		buf[len - 2] = '\0';
		return inet_pton(AF_INET6, buf, addr) == 1;
	}
	memcpy(buf, name, len);
	buf[len] = '\0';
	return inet_pton(AF_INET, buf, addr) == 1;
}

/* True if name (len bytes) is word, in any case. */
static int
serve_name_is(const char *name, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(name, word, len) == 0;
}

/* True if a Host value names this gateway: its port (or none when that
 * is 80) after its bound address, localhost, 127.0.0.1, [::1], an
 * --allow-host name, or, when it is bound to every address, any IP
 * address literal (a page cannot rebind those). */
static int
serve_host_ok(const struct serve *srv, const char *host)
{
	const char *colon, *port;
	size_t len;

	if (host[0] == '[') {
		const char *close = strchr(host, ']');
		if (close == NULL)
			return 0;
		colon = close[1] == ':' ? close + 1 : close[1] == '\0' ? NULL : host;
		if (colon == host)
			return 0;
	} else {
		colon = strchr(host, ':');
	}
	len = colon != NULL ? (size_t)(colon - host) : strlen(host);
	port = colon != NULL ? colon + 1 : "80";
	if (len == 0 || strcmp(port, srv->port) != 0)
		return 0;
	if (serve_name_is(host, len, srv->host) ||
	    serve_name_is(host, len, "localhost") ||
	    serve_name_is(host, len, "127.0.0.1") ||
	    serve_name_is(host, len, "[::1]"))
		return 1;
	for (size_t i = 0; i < srv->nallow_hosts; i++)
		if (serve_name_is(host, len, srv->allow_hosts[i]))
			return 1;
	return srv->wildcard && serve_is_ip_literal(host, len);
}

/* True if req comes from another site's page: its Sec-Fetch-Site is
 * other than same-origin or none (same-site is another origin too), or
 * its Origin is not this gateway's, "http://" and its Host. */
static int
serve_cross_site(const struct http_request *req)
{
	if (req->fetch_site[0] != '\0' && strcmp(req->fetch_site, "same-origin") != 0 &&
	    strcmp(req->fetch_site, "none") != 0)
		return 1;
	if (req->origin[0] == '\0')
		return 0;
	return strncasecmp(req->origin, "http://", 7) != 0 || req->host[0] == '\0' ||
	    strcasecmp(req->origin + 7, req->host) != 0;
}

/* True if the request may come from any page: a GET or HEAD of media (a
 * playlist, a segment, cover art), or navigating to the page. */
static int
serve_open_to_all(const struct http_request *req)
{
	const char *p = req->path;
	size_t len = req->pathlen;

	if (req->method == HTTP_METHOD_OTHER)
		return 0;
	if (len == 1)
		return strcmp(req->fetch_mode, "navigate") == 0;
	return (len > 7 && memcmp(p, "/songs/", 7) == 0) ||
	    (len > 5 && memcmp(p, "/art/", 5) == 0);
}

/* Answers one parsed request. Returns 0 to go on with the connection, -1
 * to close it. */
static int
serve_route(struct serve_conn *c, const struct http_request *req)
{
	const char *p = req->path;
	size_t len = req->pathlen;
	int head_only = req->method == HTTP_METHOD_HEAD;

	log_info("%s %s %.*s", c->remote, head_only ? "HEAD" : "GET",
	    (int)len, p);
	if (req->has_host && !serve_host_ok(c->srv, req->host)) {
		log_info("%s: Host names another server: 421", c->remote);
		return serve_error(c, HTTP_MISDIRECTED_REQUEST, "this gateway answers "
		    "to its own address, localhost and --allow-host names only",
		    head_only, 0);
	}
	if (serve_cross_site(req) && !serve_open_to_all(req)) {
		log_info("%s: a request from another site's page: 403", c->remote);
		return serve_error(c, HTTP_FORBIDDEN, "another site's page may only "
		    "embed songs and cover art", head_only, 0);
	}
	if (req->method == HTTP_METHOD_OTHER)
		return serve_error(c, HTTP_METHOD_NOT_ALLOWED, NULL, 0, 0);
	if (len == 1) {
		struct serve_reply r = { .status = HTTP_OK, .type = SERVE_TYPE_HTML,
		    .body = webpage_html, .len = webpage_html_len };
		return serve_send(c, &r, head_only);
	}
	if (len == 10 && memcmp(p, "/api/songs", 10) == 0)
		return serve_api_songs(c, req, head_only);
	if (len > 5 && memcmp(p, "/art/", 5) == 0 &&
	    memchr(p + 5, '/', len - 5) == NULL)
		return serve_art(c, req, p + 5, len - 5, head_only);
	if (len > 7 && memcmp(p, "/songs/", 7) == 0) {
		const char *name = p + 7, *end = p + len;
		const char *slash = memchr(name, '/', (size_t)(end - name));
		if (slash != NULL && slash > name && slash + 1 < end &&
		    memchr(slash + 1, '/', (size_t)(end - slash - 1)) == NULL)
			return serve_song(c, req, name, (size_t)(slash - name),
			    slash + 1, (size_t)(end - slash - 1), head_only);
	}
	return serve_error(c, HTTP_NOT_FOUND, "no such page", head_only, 0);
}

/* ---- connections */

/* Takes c out of the idle list. */
static void
serve_idle_unlink_locked(struct serve *srv, struct serve_conn *c)
{
	if (!c->idle)
		return;
	if (c->idle_prev != NULL)
		c->idle_prev->idle_next = c->idle_next;
	else
		srv->idle_head = c->idle_next;
	if (c->idle_next != NULL)
		c->idle_next->idle_prev = c->idle_prev;
	else
		srv->idle_tail = c->idle_prev;
	c->idle_next = c->idle_prev = NULL;
	c->idle = 0;
}

/* Marks c idle (about to wait for a request of which no byte is read:
 * it may be closed for a newcomer) or busy (something came: it is not).
 * Returns -1 if c was closed for a newcomer and is to end, else 0. */
static int
serve_set_idle(struct serve_conn *c, int idle)
{
	struct serve *srv = c->srv;
	int evicted;

	pthread_mutex_lock(&srv->lock);
	evicted = c->evicted;
	if (idle && !c->idle && !evicted) {
		c->idle = 1;
		c->idle_prev = srv->idle_tail;
		c->idle_next = NULL;
		if (srv->idle_tail != NULL)
			srv->idle_tail->idle_next = c;
		else
			srv->idle_head = c;
		srv->idle_tail = c;
	} else if (!idle) {
		serve_idle_unlink_locked(srv, c);
	}
	pthread_mutex_unlock(&srv->lock);
	return evicted ? -1 : 0;
}

/* Reads until a whole request head is in c->buf. Returns its length, 0
 * when the connection ends quietly (closed, or idle past
 * HTTP_IDLE_TIMEOUT_MS between requests), or -1 having answered an error
 * (408, 414, 431) that ends it. */
static long
serve_read_head(struct serve_conn *c)
{
	long long first_ms = c->len > 0 ? clock_now_ms() : 0;
	size_t head;

	for (;;) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		long long wait_ms;
		ssize_t n;
		int rc;

		head = http_head_length(c->buf, c->len);
		if (head > 0)
			return (long)head;
		if (http_check_request_line(c->buf, c->len) != HTTP_OK) {
			serve_error(c, HTTP_URI_TOO_LONG, NULL, 0, 1);
			return -1;
		}
		if (c->len == sizeof(c->buf)) {
			serve_error(c, HTTP_HEADERS_TOO_LARGE, NULL, 0, 1);
			return -1;
		}
		wait_ms = c->len == 0 ? HTTP_IDLE_TIMEOUT_MS :
		    first_ms + HTTP_HEAD_DEADLINE_MS - clock_now_ms();
		if (c->len == 0 && serve_set_idle(c, 1) < 0)
			return 0;
		rc = wait_ms > 0 ? poll(&pfd, 1, (int)wait_ms) : 0;
		if (c->len == 0 && serve_set_idle(c, 0) < 0)
			return 0;	/* closed for a newcomer */
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return 0;
		if (rc == 0) {
			if (c->len == 0)
				return 0;	/* idle between requests */
			log_info("%s: request head not whole after %d ms", c->remote,
			    HTTP_HEAD_DEADLINE_MS);
			serve_error(c, HTTP_REQUEST_TIMEOUT, "request head too slow",
			    0, 1);
			return -1;
		}
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		if (c->len == 0)
			first_ms = clock_now_ms();
		c->len += (size_t)n;
	}
}

/* Serves one connection's requests until it closes or fails. */
static void
serve_conn_run(struct serve_conn *c)
{
	for (;;) {
		struct http_request req;
		enum http_status st;
		long head = serve_read_head(c);

		if (head <= 0)
			return;
		st = http_parse_request(c->buf, (size_t)head, &req);
		if (st != HTTP_OK) {
			log_info("%s: bad request: %d %s", c->remote, (int)st,
			    http_status_text(st));
			serve_error(c, st, NULL, 0, 1);
			return;
		}
		c->closing = !req.keep_alive;
		c->keep_alive_10 = req.minor == 0 && req.keep_alive;
		if (serve_route(c, &req) < 0 || !req.keep_alive)
			return;
		/* what follows the head is the next request (pipelining) */
		c->len -= (size_t)head;
		memmove(c->buf, c->buf + head, c->len);
	}
}

/* Ends the sending side, then reads and drops what the client still
 * sends, boundedly: closing with unread input would send a reset that
 * can destroy the last reply before the client reads it. */
static void
serve_linger(struct serve_conn *c)
{
	long long until = clock_now_ms() + SERVE_LINGER_MS;
	size_t dropped = 0;

	shutdown(c->fd, SHUT_WR);
	while (dropped < SERVE_LINGER_BYTES) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		long long left = until - clock_now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return;
		n = read(c->fd, c->buf, sizeof(c->buf));
		if (n <= 0)
			return;
		dropped += (size_t)n;
	}
}

static void *
serve_conn_main(void *arg)
{
	struct serve_conn *c = arg;
	struct serve *srv = c->srv;

	serve_conn_run(c);
	serve_linger(c);
	pthread_mutex_lock(&srv->lock);
	serve_idle_unlink_locked(srv, c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (!c->evicted)
		srv->live--;
	close(c->fd);
	pthread_mutex_unlock(&srv->lock);
	free(c);
	return NULL;
}

/* The source a remote address ("HOST:PORT") counts against: its HOST,
 * or SERVE_LOOPBACK_SOURCE for any loopback address. */
static void
serve_source_of(const char *remote, char *out, size_t outlen)
{
	const char *colon = strrchr(remote, ':');
	size_t len = colon != NULL ? (size_t)(colon - remote) : strlen(remote);

	if (strncmp(remote, "127.", 4) == 0 || strncmp(remote, "[::1]", 5) == 0 ||
	    strncmp(remote, "[::ffff:127.", 12) == 0)
		snprintf(out, outlen, "%s", SERVE_LOOPBACK_SOURCE);
	else
		snprintf(out, outlen, "%.*s", (int)len, remote);
}

/* Makes room for c under SERVE_MAX_CONNS_PER_SOURCE and SERVE_MAX_CONNS
 * by closing the oldest idle connection, of c's source if that source is
 * at its cap, else of any. Returns 0 when there is room, or -1 (with the
 * limit reached in *why) when every connection in the way is busy. The
 * closed connection's fd is shut down, not closed: its thread wakes
 * from poll, sees it is evicted and ends (its fd is closed under the
 * lock held here, so it is still the connection's). */
static int
serve_make_room_locked(struct serve *srv, const struct serve_conn *c,
    const char **why)
{
	struct serve_conn *victim = NULL;
	int from_source = 0;

	for (struct serve_conn *o = srv->conns; o != NULL; o = o->next)
		if (!o->evicted && strcmp(o->source, c->source) == 0)
			from_source++;
	if (from_source >= SERVE_MAX_CONNS_PER_SOURCE) {
		for (victim = srv->idle_head; victim != NULL; victim = victim->idle_next)
			if (strcmp(victim->source, c->source) == 0)
				break;
		if (victim == NULL) {
			*why = "too many connections from your address";
			return -1;
		}
	} else if (srv->live >= SERVE_MAX_CONNS) {
		victim = srv->idle_head;
		if (victim == NULL) {
			*why = "too many connections";
			return -1;
		}
	}
	if (victim != NULL) {
		log_info("%s: closing the idle connection of %s for a newcomer",
		    c->remote, victim->remote);
		serve_idle_unlink_locked(srv, victim);
		victim->evicted = 1;
		srv->live--;
		shutdown(victim->fd, SHUT_RDWR);
	}
	return 0;
}

/* Accepts one connection: a thread for it, or 503 when the caps are
 * reached and no connection is idle. */
static void
serve_accept_one(struct serve *srv)
{
	struct serve_conn *c;
	pthread_t tid;
	int fd;

	fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
			log_warn("accept: %s", strerror(errno));
		return;
	}
	net_set_timeouts(fd, 0, HTTP_SEND_TIMEOUT_MS);
	c = malloc(sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->srv = srv;
	c->len = 0;
	c->closing = 0;
	c->keep_alive_10 = 0;
	c->prev = NULL;
	c->idle_next = c->idle_prev = NULL;
	c->idle = 0;
	c->evicted = 0;
	if (net_remote_addr(fd, c->remote, sizeof(c->remote)) < 0)
		snprintf(c->remote, sizeof(c->remote), "?");
	serve_source_of(c->remote, c->source, sizeof(c->source));
	pthread_mutex_lock(&srv->lock);
	const char *why = NULL;
	if (serve_make_room_locked(srv, c, &why) < 0) {
		pthread_mutex_unlock(&srv->lock);
		log_warn("%s: %s, none idle; answering 503", c->remote, why);
		net_set_timeouts(fd, 0, SERVE_POLL_MS);
		serve_error(c, HTTP_UNAVAILABLE, why, 0, 1);
		close(fd);
		free(c);
		return;
	}
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->live++;
	if (pthread_create(&tid, &srv->attr, serve_conn_main, c) != 0) {
		srv->conns = c->next;
		if (c->next != NULL)
			c->next->prev = NULL;
		srv->live--;
		pthread_mutex_unlock(&srv->lock);
		log_warn("%s: cannot start a thread", c->remote);
		close(fd);
		free(c);
		return;
	}
	pthread_mutex_unlock(&srv->lock);
}

/* True if the bound address is a loopback one. */
static int
serve_is_loopback(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strncmp(addr, "[::1]", 5) == 0;
}

/* Ends every connection and waits (boundedly) for their threads. Returns
 * how many are still running. */
static int
serve_drain(struct serve *srv)
{
	long long until = clock_now_ms() + SERVE_SHUTDOWN_WAIT_MS;
	int live;

	pthread_mutex_lock(&srv->lock);
	for (struct serve_conn *c = srv->conns; c != NULL; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_unlock(&srv->lock);
	for (;;) {
		struct timespec ts = { 0, 20 * 1000000L };
		/* every thread, those closed for a newcomer too */
		live = 0;
		pthread_mutex_lock(&srv->lock);
		for (struct serve_conn *c = srv->conns; c != NULL; c = c->next)
			live++;
		pthread_mutex_unlock(&srv->lock);
		if (live == 0 || clock_now_ms() > until)
			return live;
		nanosleep(&ts, NULL);
	}
}

int
cmd_serve(const struct client_opts *o, const char *listen_addr)
{
	struct serve *srv = calloc(1, sizeof(*srv));
	char err[CLIENT_ERR_LEN];
	sigset_t all, old;
	int left;

	if (srv == NULL)
		return CLIENT_EXIT_LOCAL;
	srv->listen_fd = net_listen(listen_addr, err, sizeof(err));
	if (srv->listen_fd < 0) {
		log_error("cannot listen on %s: %s", listen_addr, err);
		free(srv);
		return CLIENT_EXIT_LOCAL;
	}
	if (net_local_addr(srv->listen_fd, srv->address, sizeof(srv->address)) < 0)
		snprintf(srv->address, sizeof(srv->address), "%s", listen_addr);
	snprintf(srv->host, sizeof(srv->host), "%s", srv->address);
	char *colon = strrchr(srv->host, ':');
	if (colon != NULL)
		*colon = '\0';
	srv->port = colon != NULL ? srv->address + (colon - srv->host) + 1 : "80";
	srv->wildcard = strcmp(srv->host, "0.0.0.0") == 0 ||
	    strcmp(srv->host, "[::]") == 0;
	srv->allow_hosts = o->allow_hosts;
	srv->nallow_hosts = o->nallow_hosts;
	/* the gateway's and the connections' threads take no signals */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	srv->gw = gateway_open(&o->trackers, o->timeout_ms, o->segment_delay_ms,
	    err, sizeof(err));
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (srv->gw == NULL) {
		log_error("%s", err);
		close(srv->listen_fd);
		free(srv);
		return CLIENT_EXIT_LOCAL;
	}
	pthread_mutex_init(&srv->lock, NULL);
	pthread_attr_init(&srv->attr);
	pthread_attr_setstacksize(&srv->attr, SERVE_THREAD_STACK);
	pthread_attr_setdetachstate(&srv->attr, PTHREAD_CREATE_DETACHED);
	if (!serve_is_loopback(srv->address))
		log_warn("serving on %s: anyone who can reach it can list the "
		    "network's songs and play them through this gateway",
		    srv->address);
	cli_print_ready(srv->address);

	while (!client_stop) {
		struct pollfd pfd = { .fd = srv->listen_fd, .events = POLLIN };
		int rc = poll(&pfd, 1, SERVE_POLL_MS);
		if (rc > 0) {
			sigfillset(&all);
			pthread_sigmask(SIG_SETMASK, &all, &old);
			serve_accept_one(srv);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
		}
	}
	close(srv->listen_fd);
	left = serve_drain(srv);
	if (left > 0) {
		/* their threads still use the gateway: leave it to exit */
		log_warn("%d connections still busy at exit", left);
		return CLIENT_EXIT_OK;
	}
	left = gateway_close(srv->gw);
	if (left > 0) {
		log_warn("%d swarms still busy at exit", left);
		return CLIENT_EXIT_OK;
	}
	pthread_attr_destroy(&srv->attr);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
	return CLIENT_EXIT_OK;
}
