/* fuzz_natpmp.c - datagrams as a hostile router may send them to the
 * peer's port mapping: every NAT-PMP and PCP answer parser on the same
 * bytes. A success must carry what the request asked about. */
#include <string.h>

#include "fuzz.h"
#include "p2pm/natpmp.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char nonce[PCP_NONCE_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct natpmp_answer a;

	if (size > PCP_MAX_LEN + 64)
		return 0;
	natpmp_parse_addr_answer(data, size, &a);
	if (natpmp_parse_map_answer(data, size, 7701, &a) == NATPMP_ANSWER_OK &&
	    (a.internal_port != 7701 || (a.lifetime > 0 && a.external_port == 0)))
		abort();
	if (pcp_parse_map_answer(data, size, nonce, 7701, &a) == NATPMP_ANSWER_OK &&
	    (size < PCP_MAP_LEN || size > PCP_MAX_LEN || size % 4 != 0 ||
	    memcmp(data + 24, nonce, PCP_NONCE_LEN) != 0 || a.internal_port != 7701))
		abort();
	natpmp_result_text(1, (int)(size % 300));
	return 0;
}
