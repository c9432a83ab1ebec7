/* natpmp.h - the messages of NAT-PMP (RFC 6886) and PCP (RFC 6887) that
 * ask a home router for a TCP port mapping: requests built into buffers,
 * answers parsed strictly (every length, version, opcode, reserved
 * framing and echoed field checked: the router may be hostile). Buffers
 * only: no sockets, no clock. IPv4 alone. */
#ifndef P2PM_NATPMP_H
#define P2PM_NATPMP_H

#include <stddef.h>
#include <stdint.h>

/* the UDP port a router serves both protocols on */
#define NATPMP_SERVER_PORT 5351
#define NATPMP_VERSION 0
#define PCP_VERSION 2
/* NAT-PMP: the external address request and its answer, a mapping
 * request and its answer, in bytes */
#define NATPMP_ADDR_REQUEST_LEN 2
#define NATPMP_ADDR_ANSWER_LEN 12
#define NATPMP_MAP_REQUEST_LEN 12
#define NATPMP_MAP_ANSWER_LEN 16
/* an error answer of either protocol is at least its header: NAT-PMP's
 * version, opcode and result code; PCP's 24 bytes */
#define NATPMP_MIN_ANSWER_LEN 4
#define PCP_HEADER_LEN 24
/* a PCP MAP request or answer without options, and the most any PCP
 * message may be (RFC 6887 section 7) */
#define PCP_MAP_LEN 60
#define PCP_MAX_LEN 1100
#define PCP_NONCE_LEN 12
/* result codes both protocols share the meaning of */
#define NATPMP_RESULT_SUCCESS 0
#define NATPMP_RESULT_UNSUPP_VERSION 1

enum natpmp_verdict {
	NATPMP_ANSWER_OK,	/* a success answer to this request: see the fields */
	NATPMP_ANSWER_REFUSED,	/* a well-formed answer with a result code */
	NATPMP_ANSWER_VERSION,	/* the router does not speak this version */
	NATPMP_ANSWER_BAD	/* not an answer to this request: ignore it */
};

/* What an answer said. */
struct natpmp_answer {
	int result;		/* the result code (0: success) */
	uint32_t epoch;		/* seconds since the router's epoch began */
	uint32_t lifetime;	/* a mapping's granted lifetime, seconds */
	unsigned internal_port;
	unsigned external_port;
	unsigned char external_ip[4];	/* (IPv4, network order) */
};

/* NAT-PMP requests: the external address; a TCP mapping of internal_port
 * (suggested_port 0: any) for lifetime seconds (0 with suggested_port 0:
 * delete it). Return the length written (out holds at least that). */
size_t natpmp_addr_request(unsigned char out[NATPMP_ADDR_REQUEST_LEN]);
size_t natpmp_map_request(unsigned char out[NATPMP_MAP_REQUEST_LEN],
    unsigned internal_port, unsigned suggested_port, uint32_t lifetime);

/* Parses a NAT-PMP answer of len bytes to the external address request,
 * or to a TCP mapping request of internal_port, into a. */
enum natpmp_verdict natpmp_parse_addr_answer(const unsigned char *buf,
    size_t len, struct natpmp_answer *a);
enum natpmp_verdict natpmp_parse_map_answer(const unsigned char *buf,
    size_t len, unsigned internal_port, struct natpmp_answer *a);

/* A PCP MAP request for TCP from client_ip (the address the router sees
 * the request come from) with the mapping's nonce, of internal_port,
 * suggesting suggested_port and suggested_ip (NULL, or port 0: no
 * preference) for lifetime seconds (0: delete). Returns PCP_MAP_LEN. */
size_t pcp_map_request(unsigned char out[PCP_MAP_LEN],
    const unsigned char client_ip[4], const unsigned char nonce[PCP_NONCE_LEN],
    unsigned internal_port, unsigned suggested_port,
    const unsigned char suggested_ip[4], uint32_t lifetime);

/* Parses a PCP answer of len bytes to a MAP request with that nonce and
 * internal_port into a. Options after the MAP data are checked for
 * framing and skipped; an answer of NAT-PMP's version (a router without
 * PCP) gives NATPMP_ANSWER_VERSION. A success must carry an IPv4 external
 * address and, unless its lifetime is 0, an external port. */
enum natpmp_verdict pcp_parse_map_answer(const unsigned char *buf, size_t len,
    const unsigned char nonce[PCP_NONCE_LEN], unsigned internal_port,
    struct natpmp_answer *a);

/* True when the router's epoch says it lost its state since the previous
 * answer (RFC 6887 section 8.5, RFC 6886 section 3.6): its epoch went
 * back, or it advanced far less (or more) than the client's own clock
 * over the same time. Times in seconds. */
int natpmp_epoch_lost(uint32_t prev_epoch, long long prev_s, uint32_t epoch,
    long long now_s);

/* A result code in words, for a log line. */
const char *natpmp_result_text(int pcp, int result);

#endif
