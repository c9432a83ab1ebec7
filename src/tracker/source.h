/* source.h - binding a registration to the address it comes from.
 *
 * The tracker records a peer under the address its connection comes from
 * (with the port it advertises), so that nobody can register or remove a
 * peer at someone else's address. Addresses are made canonical here: one
 * spelling per address, IPv4-mapped IPv6 folded to IPv4. Pure functions
 * on text, no sockets, no registry. */
#ifndef P2PM_TRACKER_SOURCE_H
#define P2PM_TRACKER_SOURCE_H

#include <stddef.h>

/* longest canonical IP address text (an IPv6 address, no brackets) */
#define SOURCE_IP_MAX 46

enum source_verdict {
	SOURCE_ACCEPT,		/* record the address written to out */
	SOURCE_FORBIDDEN	/* ERR 403: the host is another machine's address */
};

/* If host is an IP literal in its strict form (what inet_pton(3) takes:
 * dotted-quad IPv4 without leading zeros, or IPv6), writes its canonical
 * text to out (SOURCE_IP_MAX bytes; IPv4-mapped IPv6 becomes IPv4) and
 * returns 1. Returns 0 for anything else (a host name, or a loose IPv4
 * spelling such as "127.1" or "2130706433"). */
int source_canonical_ip(const char *host, char out[SOURCE_IP_MAX]);

/* The canonical IP of a connection's "host:port" / "[v6]:port" remote
 * address, into out (SOURCE_IP_MAX bytes). Returns 0, or -1 if it is not
 * an IP address and port. */
int source_of_remote(const char *remote, char out[SOURCE_IP_MAX]);

/* True for 127.0.0.0/8 and ::1 (canonical text). */
int source_is_loopback(const char *ip);

/* Decides where a REGISTER or UNREGISTER of `advertised` ("host:port",
 * already syntax-checked) coming from the canonical IP `source` binds:
 * a host name or the unspecified address (0.0.0.0, ::) is replaced by
 * the source; an IP literal equal to the source is kept; any other IP
 * literal is kept when the source is loopback or trust is set, and is
 * SOURCE_FORBIDDEN otherwise. On SOURCE_ACCEPT out (outlen bytes) holds
 * the canonical "ip:port" to record. Returns SOURCE_FORBIDDEN also for an
 * advertised text that does not parse or does not fit. */
enum source_verdict source_bind(const char *source, const char *advertised,
    int trust, char *out, size_t outlen);

/* Where a REGISTER or UNREGISTER of `advertised` from a peer behind a NAT
 * (reach=nat) binds: always the source itself, with the advertised port,
 * whatever host it names (its own address is not one the outside can
 * use). On SOURCE_ACCEPT out holds "ip:port"; SOURCE_FORBIDDEN for an
 * advertised text that does not parse or an address that does not fit. */
enum source_verdict source_bind_nat(const char *source, const char *advertised,
    char *out, size_t outlen);

#endif
