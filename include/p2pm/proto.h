/* proto.h - wire protocol v2 (docs/protocol.md): limits, status codes,
 * percent-encoding of names, request parsing and reply formatting.
 *
 * Works on buffers only: no sockets, no registry. */
#ifndef P2PM_PROTO_H
#define P2PM_PROTO_H

#include <stddef.h>

#include "p2pm/net.h"

#define PROTO_VERSION 2
/* longest request or reply line, terminator included */
#define PROTO_MAX_LINE 4096
/* longest decoded song or segment name, in bytes */
#define PROTO_MAX_NAME 255
/* longest name in a reply header: a song name plus ".m3u8" */
#define PROTO_MAX_REPLY_NAME (PROTO_MAX_NAME + 5)
/* longest encoded name: every byte may become %XX */
#define PROTO_MAX_ENCODED_NAME (3 * PROTO_MAX_NAME)
/* songs one REGISTER may carry */
#define PROTO_MAX_SONGS 100000
/* largest playlist or segment body a client accepts */
#define PROTO_MAX_PLAYLIST_BYTES (4L * 1024 * 1024)
#define PROTO_MAX_SEGMENT_BYTES (64L * 1024 * 1024)
/* a song's content id: a SHA-256, in bytes and as lowercase hex */
#define PROTO_CONTENT_ID_LEN 32
#define PROTO_CONTENT_ID_HEX (2 * PROTO_CONTENT_ID_LEN)
/* longest LIST filter text, decoded */
#define PROTO_MAX_FILTER PROTO_MAX_NAME
/* bytes of the tag words ("artist=Bj%C3%B6rk title=...") after the
 * content id of a REGISTER body line kept per registration, at most;
 * longer tags are dropped, the name still registered */
#define PROTO_MAX_TAG_BYTES 512
/* bytes of a tag word's key ("artist"), at most */
#define PROTO_MAX_TAG_KEY 16
/* most songs one LISTPAGE reply may be asked for (limit=) */
#define PROTO_MAX_LIST_PAGE 500

/* Status codes: the values are the numbers sent after ERR. */
enum proto_status {
	PROTO_OK = 200,
	PROTO_BAD_REQUEST = 400,
	PROTO_FORBIDDEN = 403,
	PROTO_NOT_FOUND = 404,
	PROTO_TOO_LARGE = 413,
	PROTO_LINE_TOO_LONG = 414,
	PROTO_TOO_MANY = 429,
	PROTO_INTERNAL = 500,
	PROTO_BUSY = 503,
	PROTO_UNREACHABLE = 504
};

/* The fixed text of a status ("bad request", "not found", ...). */
const char *proto_status_text(enum proto_status status);

enum proto_cmd {
	PROTO_CMD_REGISTER,
	PROTO_CMD_UNREGISTER,
	PROTO_CMD_QUERY,
	PROTO_CMD_LIST,
	PROTO_CMD_STATS,
	PROTO_CMD_PING,
	PROTO_CMD_QUIT,
	PROTO_CMD_REQUEST_SONG,
	PROTO_CMD_REQUEST_SEGMENT,
	PROTO_CMD_LOCATE,
	PROTO_CMD_LISTPAGE,
	PROTO_CMD_WHOAMI,
	PROTO_CMD_DIALBACK,
	PROTO_CMD_RESERVE,	/* a relay: keep a reservation (peer) */
	PROTO_CMD_CONNECT,	/* a relay: a circuit to a reserved peer */
	PROTO_CMD_ACCEPT,	/* a relay: the reserved peer's end of one */
	PROTO_CMD_PUNCH,	/* the tracker: coordinate a hole punch */
	PROTO_CMD_PUNCHWAIT,	/* the tracker: a peer waits for punches */
	PROTO_CMD_RESOLVE
};

/* How a REGISTER says its peer can be reached (its reach= word). */
enum proto_reach {
	PROTO_REACH_DEFAULT,	/* no word: reachable at the address, as in v1 */
	PROTO_REACH_DIRECT,	/* reach=direct: the same, said outright */
	PROTO_REACH_NAT,	/* reach=nat: behind a NAT, not reachable */
	PROTO_REACH_MAPPED	/* reach=mapped: reachable at the address through
				 * a port mapping its router made (NAT-PMP/PCP) */
};

/* A parsed request. arg holds the decoded name (QUERY, REQUEST_*), the
 * filter (LIST and LISTPAGE's match=, possibly empty), the name (LOCATE, RESOLVE) or the peer address (REGISTER, UNREGISTER),
 * empty for DIALBACK (its port is in port),
 * NUL-terminated; arglen is its length in bytes. */
struct proto_request {
	enum proto_cmd cmd;
	int tags;	/* LISTPAGE tags=1, LOCATE <name> tags: rows carry tags */
	int reach;	/* LOCATE <name> reach: rows carry direct/nat/relay= */
	enum proto_reach reach_word;	/* REGISTER <addr> reach=... */
	/* REGISTER <addr> ... relay=<host:port>: the relay that carries
	 * connections to the peer, canonical ("" for none) */
	char relay[NET_ADDR_MAX];
	unsigned port;	/* DIALBACK <port>: 1-65535 */
	/* the command word is one followed by a body (REGISTER); set even
	 * when the rest of the line is malformed, so the body can be skipped */
	int has_body;
	char arg[PROTO_MAX_NAME + 1];
	size_t arglen;
	/* LISTPAGE: limit=, and after= (afterlen 0: from the start) */
	long limit;
	char after[PROTO_MAX_NAME + 1];
	size_t afterlen;
};

/* Encodes a name for the wire: bytes that are a space, '%', a control byte,
 * DEL or >= 0x80 become %XX (upper-case hex). Returns the encoded length or
 * -1 if it does not fit in outlen (including the NUL). */
int proto_encode_name(const char *name, size_t namelen, char *out, size_t outlen);

/* Decodes a wire token into out. Accepts %XX in either case and raw
 * UTF-8. The result must be 1..maxlen bytes passing proto_name_valid;
 * otherwise returns -1. On success returns the decoded length and
 * NUL-terminates out (outlen must exceed maxlen). */
int proto_decode_name(const char *token, size_t toklen, char *out, size_t outlen,
    size_t maxlen);

/* The value of one hex digit (either case), or -1 for any other byte. */
int proto_hexval(char c);

/* True if the bytes are valid UTF-8 with no control code (C0, DEL, C1),
 * no bidi control and no zero-width character (textsafe_is_invisible):
 * the rules for names and tag values. */
int proto_name_valid(const char *name, size_t len);

/* Parses one request line (without its line terminator). On failure
 * returns PROTO_BAD_REQUEST and writes a short reason to why. */
enum proto_status proto_parse_request(const char *line, size_t len,
    struct proto_request *req, char *why, size_t whylen);

/* Parses one line of a REGISTER body: "<name>[ <ignored>]". Returns 0
 * with the decoded name in out (out must hold PROTO_MAX_NAME + 1 bytes), or -1. */
int proto_parse_song_line(const char *line, size_t len, char *out, size_t *outlen);

/* Parses one line of a version-2 REGISTER body: "<name>[ <word>]...".
 * Returns 0 with the decoded name in out (PROTO_MAX_NAME + 1 bytes); when
 * the second word is a content id (exactly PROTO_CONTENT_ID_HEX lowercase
 * hex digits) its bytes go to id and *has_id is 1, otherwise *has_id is 0
 * and the rest of the line is ignored (version 1). Returns -1 if the line
 * does not start with a valid name. */
int proto_parse_register_line(const char *line, size_t len, char *out,
    size_t *outlen, unsigned char id[PROTO_CONTENT_ID_LEN], int *has_id);

/* Finds the tag words of a version-2 REGISTER body line: what follows
 * its content id. Sets *tags and *tagslen to them when they are 1 to
 * PROTO_MAX_TAG_BYTES bytes of words key=value (key 1..PROTO_MAX_TAG_KEY
 * bytes of a-z, value an encoded name, docs/protocol.md), else to NULL
 * and 0 (no tags, or tags not kept). The line must have passed
 * proto_parse_register_line with a content id. */
void proto_parse_register_tags(const char *line, size_t len, const char **tags,
    size_t *tagslen);

/* Parses exactly PROTO_CONTENT_ID_HEX lowercase hex digits into id.
 * Returns 0, or -1 (id unchanged) for anything else. */
int proto_parse_content_id(const char *text, size_t len,
    unsigned char id[PROTO_CONTENT_ID_LEN]);

/* Writes id as PROTO_CONTENT_ID_HEX lowercase hex digits and a NUL. */
void proto_format_content_id(const unsigned char id[PROTO_CONTENT_ID_LEN],
    char out[PROTO_CONTENT_ID_HEX + 1]);

/* Formats "ERR <code> <text>\n" into out; returns its length. */
int proto_format_err(char *out, size_t outlen, enum proto_status status,
    const char *text);

/* Parses a reply header "<WORD> <name> <bytes>" as sent before a body
 * (PLAYLIST, SEGMENT). Checks that the first word is `word`, decodes the
 * name into name (PROTO_MAX_REPLY_NAME + 1 bytes: a playlist is named after
 * its song plus ".m3u8") and the length, which must be 0..maxbytes. Returns 0, or -1 with a reason in why. */
int proto_parse_body_header(const char *line, const char *word, char *name,
    long *bytes, long maxbytes, char *why, size_t whylen);

/* the codes an ERR line may carry */
#define PROTO_ERR_MIN_CODE 400
#define PROTO_ERR_MAX_CODE 599

/* Parses "ERR <code> <text>": returns the code (three digits,
 * PROTO_ERR_MIN_CODE..PROTO_ERR_MAX_CODE) and points *text at the text,
 * or -1 if the line is not such an ERR line. */
int proto_parse_err(const char *line, const char **text);

#endif
