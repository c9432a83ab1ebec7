/* source.c - canonical addresses and the source-address rule. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "p2pm/net.h"
#include "source.h"

int
source_canonical_ip(const char *host, char out[SOURCE_IP_MAX])
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return inet_ntop(AF_INET, &a4, out, SOURCE_IP_MAX) != NULL;
	if (inet_pton(AF_INET6, host, &a6) != 1)
		return 0;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(&a4, a6.s6_addr + 12, sizeof(a4));
		return inet_ntop(AF_INET, &a4, out, SOURCE_IP_MAX) != NULL;
	}
	return inet_ntop(AF_INET6, &a6, out, SOURCE_IP_MAX) != NULL;
}

int
source_of_remote(const char *remote, char out[SOURCE_IP_MAX])
{
	char host[NET_HOST_MAX];
	unsigned port;

	if (net_parse_hostport(remote, host, sizeof(host), &port, 1) < 0)
		return -1;
	return source_canonical_ip(host, out) ? 0 : -1;
}

int
source_is_loopback(const char *ip)
{
	return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0;
}

static int
source_is_unspecified(const char *ip)
{
	return strcmp(ip, "0.0.0.0") == 0 || strcmp(ip, "::") == 0;
}

enum source_verdict
source_bind(const char *source, const char *advertised, int trust, char *out,
    size_t outlen)
{
	char host[NET_HOST_MAX], ip[SOURCE_IP_MAX];
	const char *bound;
	unsigned port;

	if (net_parse_hostport(advertised, host, sizeof(host), &port, 0) < 0)
		return SOURCE_FORBIDDEN;
	if (!source_canonical_ip(host, ip) || source_is_unspecified(ip))
		bound = source;		/* a name, or "wherever I am" */
	else if (strcmp(ip, source) == 0 || trust || source_is_loopback(source))
		bound = ip;
	else
		return SOURCE_FORBIDDEN;
	if (net_format_hostport(bound, port, out, outlen) < 0)
		return SOURCE_FORBIDDEN;
	return SOURCE_ACCEPT;
}

enum source_verdict
source_bind_nat(const char *source, const char *advertised, char *out,
    size_t outlen)
{
	char host[NET_HOST_MAX];
	unsigned port;

	if (net_parse_hostport(advertised, host, sizeof(host), &port, 0) < 0 ||
	    net_format_hostport(source, port, out, outlen) < 0)
		return SOURCE_FORBIDDEN;
	return SOURCE_ACCEPT;
}
