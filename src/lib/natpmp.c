/* natpmp.c - NAT-PMP and PCP mapping messages (natpmp.h). */
#include <string.h>

#include "p2pm/natpmp.h"

/* opcodes: NAT-PMP's external address and TCP mapping, PCP's MAP; an
 * answer has the request's opcode plus NATPMP_ANSWER_BIT */
#define NATPMP_OP_ADDR 0
#define NATPMP_OP_MAP_TCP 2
#define NATPMP_ANSWER_BIT 0x80
#define PCP_OP_MAP 1
#define PCP_PROTO_TCP 6
/* a PCP option's header: code, reserved, length */
#define PCP_OPTION_HEADER 4

static void
put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* an IPv4 address as PCP carries it: the IPv4-mapped IPv6 address */
static void
put_mapped_v4(unsigned char p[16], const unsigned char ip[4])
{
	memset(p, 0, 10);
	p[10] = 0xff;
	p[11] = 0xff;
	if (ip != NULL)
		memcpy(p + 12, ip, 4);
	else
		memset(p + 12, 0, 4);
}

size_t
natpmp_addr_request(unsigned char out[NATPMP_ADDR_REQUEST_LEN])
{
	out[0] = NATPMP_VERSION;
	out[1] = NATPMP_OP_ADDR;
	return NATPMP_ADDR_REQUEST_LEN;
}

size_t
natpmp_map_request(unsigned char out[NATPMP_MAP_REQUEST_LEN],
    unsigned internal_port, unsigned suggested_port, uint32_t lifetime)
{
	out[0] = NATPMP_VERSION;
	out[1] = NATPMP_OP_MAP_TCP;
	put16(out + 2, 0);
	put16(out + 4, internal_port);
	put16(out + 6, suggested_port);
	put32(out + 8, lifetime);
	return NATPMP_MAP_REQUEST_LEN;
}

/* The part both NAT-PMP answers share: version, opcode, result code and
 * (from 8 bytes on) the epoch. A success must be exactly `full` bytes; an
 * error answer may stop after its header. */
static enum natpmp_verdict
natpmp_parse_head(const unsigned char *buf, size_t len, unsigned op, size_t full,
    struct natpmp_answer *a)
{
	memset(a, 0, sizeof(*a));
	if (len < NATPMP_MIN_ANSWER_LEN || len > full)
		return NATPMP_ANSWER_BAD;
	if (buf[0] != NATPMP_VERSION || buf[1] != (NATPMP_ANSWER_BIT | op))
		return NATPMP_ANSWER_BAD;
	a->result = (int)get16(buf + 2);
	if (len >= 8)
		a->epoch = get32(buf + 4);
	if (a->result == NATPMP_RESULT_UNSUPP_VERSION)
		return NATPMP_ANSWER_VERSION;
	if (a->result != NATPMP_RESULT_SUCCESS)
		return NATPMP_ANSWER_REFUSED;
	return len == full ? NATPMP_ANSWER_OK : NATPMP_ANSWER_BAD;
}

enum natpmp_verdict
natpmp_parse_addr_answer(const unsigned char *buf, size_t len,
    struct natpmp_answer *a)
{
	enum natpmp_verdict v = natpmp_parse_head(buf, len, NATPMP_OP_ADDR,
	    NATPMP_ADDR_ANSWER_LEN, a);

	if (v == NATPMP_ANSWER_OK)
		memcpy(a->external_ip, buf + 8, 4);
	return v;
}

enum natpmp_verdict
natpmp_parse_map_answer(const unsigned char *buf, size_t len,
    unsigned internal_port, struct natpmp_answer *a)
{
	enum natpmp_verdict v = natpmp_parse_head(buf, len, NATPMP_OP_MAP_TCP,
	    NATPMP_MAP_ANSWER_LEN, a);

	if (v != NATPMP_ANSWER_OK)
		return v;
	a->internal_port = get16(buf + 8);
	a->external_port = get16(buf + 10);
	a->lifetime = get32(buf + 12);
	/* an answer about another mapping, or a mapping to no port */
	if (a->internal_port != internal_port || (a->lifetime > 0 && a->external_port == 0))
		return NATPMP_ANSWER_BAD;
	return NATPMP_ANSWER_OK;
}

size_t
pcp_map_request(unsigned char out[PCP_MAP_LEN], const unsigned char client_ip[4],
    const unsigned char nonce[PCP_NONCE_LEN], unsigned internal_port,
    unsigned suggested_port, const unsigned char suggested_ip[4],
    uint32_t lifetime)
{
	memset(out, 0, PCP_MAP_LEN);
	out[0] = PCP_VERSION;
	out[1] = PCP_OP_MAP;
	put32(out + 4, lifetime);
	put_mapped_v4(out + 8, client_ip);
	/* the MAP opcode's data */
	memcpy(out + 24, nonce, PCP_NONCE_LEN);
	out[36] = PCP_PROTO_TCP;
	put16(out + 40, internal_port);
	put16(out + 42, suggested_port);
	put_mapped_v4(out + 44, suggested_port != 0 ? suggested_ip : NULL);
	return PCP_MAP_LEN;
}

/* True when the options from off to len are well framed: each a 4-byte
 * header and its data padded to 4 bytes, ending exactly at len. */
static int
pcp_options_framed(const unsigned char *buf, size_t off, size_t len)
{
	while (off < len) {
		if (len - off < PCP_OPTION_HEADER)
			return 0;
		size_t olen = get16(buf + off + 2);
		size_t padded = (olen + 3) & ~(size_t)3;
		off += PCP_OPTION_HEADER;
		if (padded > len - off)
			return 0;
		off += padded;
	}
	return 1;
}

enum natpmp_verdict
pcp_parse_map_answer(const unsigned char *buf, size_t len,
    const unsigned char nonce[PCP_NONCE_LEN], unsigned internal_port,
    struct natpmp_answer *a)
{
	static const unsigned char v4prefix[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	memset(a, 0, sizeof(*a));
	/* a NAT-PMP router answers PCP with its own "unsupported version" */
	if (len >= NATPMP_MIN_ANSWER_LEN && len <= NATPMP_MAP_ANSWER_LEN &&
	    buf[0] == NATPMP_VERSION && (buf[1] & NATPMP_ANSWER_BIT) &&
	    get16(buf + 2) == NATPMP_RESULT_UNSUPP_VERSION) {
		a->result = NATPMP_RESULT_UNSUPP_VERSION;
		return NATPMP_ANSWER_VERSION;
	}
	if (len < PCP_HEADER_LEN || len > PCP_MAX_LEN || len % 4 != 0)
		return NATPMP_ANSWER_BAD;
	if (buf[1] != (NATPMP_ANSWER_BIT | PCP_OP_MAP))
		return NATPMP_ANSWER_BAD;
	a->result = buf[3];
	a->lifetime = get32(buf + 4);
	a->epoch = get32(buf + 8);
	if (buf[0] != PCP_VERSION)
		return a->result == NATPMP_RESULT_UNSUPP_VERSION ? NATPMP_ANSWER_VERSION :
		    NATPMP_ANSWER_BAD;
	if (a->result == NATPMP_RESULT_UNSUPP_VERSION)
		return NATPMP_ANSWER_VERSION;
	/* an error answer need not carry the MAP data; if it does, it must
	 * be this request's */
	if (a->result != NATPMP_RESULT_SUCCESS) {
		if (len >= PCP_MAP_LEN && memcmp(buf + 24, nonce, PCP_NONCE_LEN) != 0)
			return NATPMP_ANSWER_BAD;
		return NATPMP_ANSWER_REFUSED;
	}
	if (len < PCP_MAP_LEN || memcmp(buf + 24, nonce, PCP_NONCE_LEN) != 0 ||
	    buf[36] != PCP_PROTO_TCP || get16(buf + 40) != internal_port ||
	    !pcp_options_framed(buf, PCP_MAP_LEN, len))
		return NATPMP_ANSWER_BAD;
	a->internal_port = internal_port;
	a->external_port = get16(buf + 42);
	if (memcmp(buf + 44, v4prefix, sizeof(v4prefix)) != 0)
		return NATPMP_ANSWER_BAD;	/* not an IPv4 address */
	memcpy(a->external_ip, buf + 56, 4);
	if (a->lifetime > 0 && a->external_port == 0)
		return NATPMP_ANSWER_BAD;
	return NATPMP_ANSWER_OK;
}

int
natpmp_epoch_lost(uint32_t prev_epoch, long long prev_s, uint32_t epoch,
    long long now_s)
{
	long long client = now_s - prev_s, server = (long long)epoch - prev_epoch;

	if ((long long)epoch + 1 < (long long)prev_epoch)
		return 1;
	return client + 2 < server - server / 16 || server + 2 < client - client / 16;
}

const char *
natpmp_result_text(int pcp, int result)
{
	static const char *const natpmp[] = {
		"success", "unsupported version", "not authorized or refused",
		"network failure", "out of resources", "unsupported opcode"
	};
	static const char *const pcpt[] = {
		"success", "unsupported version", "not authorized", "malformed request",
		"unsupported opcode", "unsupported option", "malformed option",
		"network failure", "no resources", "unsupported protocol",
		"user exceeded quota", "cannot provide external", "address mismatch",
		"excessive remote peers"
	};

	if (pcp && result >= 0 && (size_t)result < sizeof(pcpt) / sizeof(pcpt[0]))
		return pcpt[result];
	if (!pcp && result >= 0 && (size_t)result < sizeof(natpmp) / sizeof(natpmp[0]))
		return natpmp[result];
	return "unknown result code";
}
