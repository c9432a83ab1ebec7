/* test_source.c - canonical addresses and the rule binding a registration
 * to the address it comes from (ERR 403, --trust-advertised). */
#include <stdio.h>

#include "../../src/tracker/source.h"
#include "p2pm/net.h"
#include "tap.h"

/* the address source_bind records, or "403" */
static const char *
bind_of(const char *src, const char *adv, int trust)
{
	static char out[NET_ADDR_MAX];

	if (source_bind(src, adv, trust, out, sizeof(out)) != SOURCE_ACCEPT)
		return "403";
	return out;
}

int
main(void)
{
	char ip[SOURCE_IP_MAX];

	ok(source_canonical_ip("10.1.2.3", ip) == 1 && strcmp(ip, "10.1.2.3") == 0,
	    "a dotted-quad IPv4 address is an IP literal");
	ok(source_canonical_ip("::FFFF:10.1.2.3", ip) == 1 && strcmp(ip, "10.1.2.3") == 0,
	    "an IPv4-mapped IPv6 address folds to IPv4");
	ok(source_canonical_ip("2001:DB8:0:0::1", ip) == 1 && strcmp(ip, "2001:db8::1") == 0,
	    "IPv6 has one spelling: lower case, zeros compressed");
	ok(source_canonical_ip("0:0:0:0:0:0:0:1", ip) == 1 && strcmp(ip, "::1") == 0,
	    "the long form of ::1 is ::1");
	const char *loose[] = { "127.1", "2130706433", "0x7f.1", "127.0.0.01", "0x7f000001",
		"localhost", "LOCALHOST", "017700000001", "127.0.0.1.", NULL };
	int none = 1;
	for (int i = 0; loose[i] != NULL; i++)
		if (source_canonical_ip(loose[i], ip) != 0) {
			none = 0;
			printf("# %s taken for an IP literal\n", loose[i]);
		}
	ok(none, "loose IPv4 spellings and names are not IP literals");

	ok(source_of_remote("[::ffff:192.0.2.7]:4000", ip) == 0 && strcmp(ip, "192.0.2.7") == 0,
	    "a connection from a mapped address has its IPv4 source");
	ok(source_is_loopback("127.0.0.1") && source_is_loopback("127.9.9.9") &&
	    source_is_loopback("::1") && !source_is_loopback("10.0.0.1") &&
	    !source_is_loopback("::"), "loopback is 127.0.0.0/8 and ::1");

	/* the rule, from a non-loopback source */
	ok(strcmp(bind_of("192.0.2.7", "192.0.2.7:7701", 0), "192.0.2.7:7701") == 0,
	    "a peer registering its own address is recorded as it is");
	ok(strcmp(bind_of("192.0.2.7", "[::ffff:192.0.2.7]:7701", 0), "192.0.2.7:7701") == 0,
	    "its mapped spelling is the same address");
	ok(strcmp(bind_of("192.0.2.7", "192.0.2.8:22", 0), "403") == 0,
	    "another machine's address is forbidden");
	ok(strcmp(bind_of("192.0.2.7", "[2001:db8::1]:80", 0), "403") == 0,
	    "so is another IPv6 address");
	ok(strcmp(bind_of("192.0.2.7", "192.0.2.8:22", 1), "192.0.2.8:22") == 0,
	    "with --trust-advertised another address is accepted");
	ok(strcmp(bind_of("192.0.2.7", "some.host.example:80", 0), "192.0.2.7:80") == 0,
	    "a host name is recorded as the source address");
	ok(strcmp(bind_of("192.0.2.7", "some.host.example:80", 1), "192.0.2.7:80") == 0,
	    "also with --trust-advertised (the tracker resolves no names)");
	ok(strcmp(bind_of("192.0.2.7", "0.0.0.0:7701", 0), "192.0.2.7:7701") == 0 &&
	    strcmp(bind_of("192.0.2.7", "[::]:7701", 0), "192.0.2.7:7701") == 0,
	    "the unspecified address is recorded as the source address");
	int same = 1;
	for (int i = 0; loose[i] != NULL; i++) {
		char adv[64];
		snprintf(adv, sizeof(adv), "%s:7701", loose[i]);
		if (strcmp(bind_of("192.0.2.7", adv, 0), "192.0.2.7:7701") != 0)
			same = 0;
	}
	ok(same, "every loose spelling binds to the source address: aliases are one peer");
	ok(strcmp(bind_of("2001:db8::5", "[2001:DB8::5]:9", 0), "[2001:db8::5]:9") == 0,
	    "an IPv6 source registering itself in upper case is one canonical peer");

	/* from loopback: exempt */
	ok(strcmp(bind_of("127.0.0.1", "10.1.2.3:80", 0), "10.1.2.3:80") == 0,
	    "a loopback source may register any IP address");
	ok(strcmp(bind_of("127.0.0.1", "localhost:7701", 0), "127.0.0.1:7701") == 0 &&
	    strcmp(bind_of("127.0.0.1", "127.1:7701", 0), "127.0.0.1:7701") == 0,
	    "but names and loose spellings still become the source address");
	ok(strcmp(bind_of("::1", "[::1]:7701", 0), "[::1]:7701") == 0,
	    "IPv6 loopback is written [::1]:port");
	ok(strcmp(bind_of("192.0.2.7", "nonsense", 0), "403") == 0,
	    "an advertised text that does not parse binds nowhere");
	char out[NET_ADDR_MAX];
	ok(source_bind_nat("198.18.2.1", "198.19.129.2:7701", out, sizeof(out)) ==
	    SOURCE_ACCEPT && strcmp(out, "198.18.2.1:7701") == 0,
	    "behind a NAT, the inside address is replaced by the source");
	ok(source_bind_nat("198.18.2.1", "0.0.0.0:7702", out, sizeof(out)) ==
	    SOURCE_ACCEPT && strcmp(out, "198.18.2.1:7702") == 0,
	    "  and so is the unspecified address");
	ok(source_bind_nat("198.18.2.1", "junk", out, sizeof(out)) == SOURCE_FORBIDDEN,
	    "  an address that does not parse is refused");
	return done_testing();
}
