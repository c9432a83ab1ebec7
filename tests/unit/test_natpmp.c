/* test_natpmp.c - NAT-PMP and PCP mapping messages: the requests' bytes
 * and the strict parsing of answers (natpmp.h). */
#include <string.h>

#include "p2pm/natpmp.h"
#include "tap.h"

static const unsigned char nonce[PCP_NONCE_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
};

/* a PCP MAP success answer: lifetime 120, epoch 1000, port 7701 -> 7701
 * at 198.18.2.1, len bytes (options, if any, zero-filled) */
static size_t
pcp_answer(unsigned char *b, size_t len)
{
	static const unsigned char ext[4] = { 198, 18, 2, 1 };

	memset(b, 0, len);
	pcp_map_request(b, (const unsigned char *)"\xc6\x13\x81\x02", nonce, 7701, 7701,
	    ext, 120);
	b[1] = 0x81;	/* answer to MAP */
	b[3] = 0;	/* success */
	b[8] = 0, b[9] = 0, b[10] = 0x03, b[11] = 0xe8;	/* epoch 1000 */
	memset(b + 12, 0, 12);
	return len;
}

int
main(void)
{
	unsigned char b[PCP_MAX_LEN + 8];
	struct natpmp_answer a;

	/* requests */
	ok(natpmp_addr_request(b) == 2 && b[0] == 0 && b[1] == 0,
	    "NAT-PMP: the external address request is version 0, opcode 0");
	ok(natpmp_map_request(b, 7701, 0, 7200) == 12 && b[1] == 2 && b[4] == 0x1e &&
	    b[5] == 0x15 && b[6] == 0 && b[7] == 0 && b[10] == 0x1c && b[11] == 0x20,
	    "NAT-PMP: a TCP mapping request carries its ports and lifetime in network order");
	ok(pcp_map_request(b, (const unsigned char *)"\xc6\x13\x81\x02", nonce, 7701, 0,
	    NULL, 7200) == PCP_MAP_LEN && b[0] == 2 && b[1] == 1 && b[18] == 0xff &&
	    b[19] == 0xff && b[20] == 198 && memcmp(b + 24, nonce, 12) == 0 && b[36] == 6 &&
	    b[54] == 0xff && b[56] == 0,
	    "PCP: a MAP request for TCP, the client address and no preference IPv4-mapped");

	/* NAT-PMP answers */
	static const unsigned char addr_ok[12] = { 0, 128, 0, 0, 0, 0, 0, 5, 198, 18, 2, 1 };
	ok(natpmp_parse_addr_answer(addr_ok, 12, &a) == NATPMP_ANSWER_OK &&
	    a.epoch == 5 && a.external_ip[0] == 198 && a.external_ip[3] == 1,
	    "NAT-PMP: an external address answer gives the address and epoch");
	ok(natpmp_parse_addr_answer(addr_ok, 11, &a) == NATPMP_ANSWER_BAD,
	    "NAT-PMP:   one byte short is not an answer");
	unsigned char longer[13];
	memcpy(longer, addr_ok, 12);
	longer[12] = 0;
	ok(natpmp_parse_addr_answer(longer, 13, &a) == NATPMP_ANSWER_BAD,
	    "NAT-PMP:   nor one byte long");
	static const unsigned char map_ok[16] = { 0, 130, 0, 0, 0, 0, 0, 9, 0x1e, 0x15,
		0x1e, 0x16, 0, 0, 0, 60 };
	ok(natpmp_parse_map_answer(map_ok, 16, 7701, &a) == NATPMP_ANSWER_OK &&
	    a.external_port == 7702 && a.lifetime == 60 && a.epoch == 9,
	    "NAT-PMP: a mapping answer gives the external port and lifetime");
	ok(natpmp_parse_map_answer(map_ok, 16, 7703, &a) == NATPMP_ANSWER_BAD,
	    "NAT-PMP:   an answer about another internal port is ignored");
	unsigned char m[16];
	memcpy(m, map_ok, 16);
	m[1] = 129;	/* UDP */
	ok(natpmp_parse_map_answer(m, 16, 7701, &a) == NATPMP_ANSWER_BAD,
	    "NAT-PMP:   so is one about a UDP mapping");
	memcpy(m, map_ok, 16);
	m[10] = m[11] = 0;
	ok(natpmp_parse_map_answer(m, 16, 7701, &a) == NATPMP_ANSWER_BAD,
	    "NAT-PMP:   and a mapping to port 0 with a lifetime");
	memcpy(m, map_ok, 16);
	m[3] = 2;
	ok(natpmp_parse_map_answer(m, 16, 7701, &a) == NATPMP_ANSWER_REFUSED && a.result == 2,
	    "NAT-PMP: a result code is a refusal, with its code");
	m[3] = 1;
	ok(natpmp_parse_map_answer(m, 4, 7701, &a) == NATPMP_ANSWER_VERSION,
	    "NAT-PMP: 'unsupported version' may stop after its header");
	memcpy(m, map_ok, 16);
	m[0] = 1;
	ok(natpmp_parse_map_answer(m, 16, 7701, &a) == NATPMP_ANSWER_BAD,
	    "NAT-PMP: another version is not an answer");
	ok(natpmp_parse_map_answer(map_ok, 0, 7701, &a) == NATPMP_ANSWER_BAD &&
	    natpmp_parse_map_answer(map_ok, 3, 7701, &a) == NATPMP_ANSWER_BAD,
	    "NAT-PMP: an empty or 3-byte datagram is not an answer");

	/* PCP answers */
	size_t n = pcp_answer(b, PCP_MAP_LEN);
	ok(pcp_parse_map_answer(b, n, nonce, 7701, &a) == NATPMP_ANSWER_OK &&
	    a.external_port == 7701 && a.lifetime == 120 && a.epoch == 1000 &&
	    a.external_ip[0] == 198 && a.external_ip[3] == 1,
	    "PCP: a MAP answer gives the external address, port, lifetime and epoch");
	static const unsigned char other[PCP_NONCE_LEN] = { 9 };
	ok(pcp_parse_map_answer(b, n, other, 7701, &a) == NATPMP_ANSWER_BAD,
	    "PCP:   an answer with another nonce is ignored");
	ok(pcp_parse_map_answer(b, n, nonce, 7702, &a) == NATPMP_ANSWER_BAD,
	    "PCP:   so is one about another internal port");
	ok(pcp_parse_map_answer(b, n - 1, nonce, 7701, &a) == NATPMP_ANSWER_BAD &&
	    pcp_parse_map_answer(b, n - 4, nonce, 7701, &a) == NATPMP_ANSWER_BAD,
	    "PCP:   a length not a multiple of 4, or short of the MAP data, is not an answer");
	b[36] = 17;
	ok(pcp_parse_map_answer(b, n, nonce, 7701, &a) == NATPMP_ANSWER_BAD,
	    "PCP:   nor is a UDP mapping");
	n = pcp_answer(b, PCP_MAP_LEN);
	b[44] = 0x20;
	ok(pcp_parse_map_answer(b, n, nonce, 7701, &a) == NATPMP_ANSWER_BAD,
	    "PCP:   nor an external address that is not IPv4");
	/* options: one of 4 bytes of data is well framed */
	n = pcp_answer(b, PCP_MAP_LEN + 8);
	b[PCP_MAP_LEN] = 2;
	b[PCP_MAP_LEN + 3] = 4;
	ok(pcp_parse_map_answer(b, n, nonce, 7701, &a) == NATPMP_ANSWER_OK,
	    "PCP: a well-framed option after the MAP data is skipped");
	b[PCP_MAP_LEN + 3] = 5;
	ok(pcp_parse_map_answer(b, n, nonce, 7701, &a) == NATPMP_ANSWER_BAD,
	    "PCP:   one whose length runs past the datagram is not an answer");
	n = pcp_answer(b, PCP_MAX_LEN + 4);
	ok(pcp_parse_map_answer(b, n, nonce, 7701, &a) == NATPMP_ANSWER_BAD,
	    "PCP: a datagram over 1100 bytes is not an answer");
	n = pcp_answer(b, PCP_MAP_LEN);
	b[3] = 8;
	ok(pcp_parse_map_answer(b, n, nonce, 7701, &a) == NATPMP_ANSWER_REFUSED &&
	    a.result == 8, "PCP: a result code is a refusal");
	ok(pcp_parse_map_answer(b, PCP_HEADER_LEN, nonce, 7701, &a) == NATPMP_ANSWER_REFUSED,
	    "PCP:   which may stop after its header");
	static const unsigned char pmp_version[8] = { 0, 129, 0, 1, 0, 0, 0, 3 };
	ok(pcp_parse_map_answer(pmp_version, 8, nonce, 7701, &a) == NATPMP_ANSWER_VERSION,
	    "PCP: a NAT-PMP router's 'unsupported version' says to fall back");

	/* epochs */
	ok(!natpmp_epoch_lost(1000, 50, 1060, 110), "epoch: advancing with the clock is kept");
	ok(natpmp_epoch_lost(1000, 50, 3, 110), "epoch: going back means the router restarted");
	ok(natpmp_epoch_lost(1000, 50, 1001, 410),
	    "epoch: far behind the client's clock means it restarted too");
	ok(natpmp_epoch_lost(1000, 50, 5000, 60), "epoch: far ahead is lost as well");
	ok(strcmp(natpmp_result_text(1, 8), "no resources") == 0 &&
	    strcmp(natpmp_result_text(0, 99), "unknown result code") == 0,
	    "result codes in words, unknown ones too");
	return done_testing();
}
