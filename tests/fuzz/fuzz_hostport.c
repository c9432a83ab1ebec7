/* fuzz_hostport.c - addresses as they arrive in PEERS replies, REGISTER
 * lines and on the command line: net_parse_hostport, and formatting the
 * result back must parse to the same host and port. */
#include <stdio.h>

#include "fuzz.h"
#include "p2pm/net.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char host[NET_HOST_MAX], again[NET_HOST_MAX], text[NET_ADDR_MAX];
	unsigned port, port2;
	char *s;

	if (size >= NET_ADDR_MAX * 4 || (s = fuzz_cstring(data, size)) == NULL)
		return 0;
	for (int allow0 = 0; allow0 <= 1; allow0++) {
		if (net_parse_hostport(s, host, sizeof(host), &port, allow0) < 0)
			continue;
		if (port > 65535 || (port == 0 && !allow0) || host[0] == '\0')
			abort();
		if (net_format_hostport(host, port, text, sizeof(text)) < 0)
			abort();
		if (net_parse_hostport(text, again, sizeof(again), &port2, allow0) < 0 ||
		    port2 != port || strcmp(again, host) != 0)
			abort();
	}
	free(s);
	return 0;
}
