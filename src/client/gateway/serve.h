/* serve.h - `client serve`: the HTTP gateway to the network, with the web
 * page (webpage.c) at "/" and songs through gateway.c. */
#ifndef P2PM_SERVE_H
#define P2PM_SERVE_H

#include "../commands.h"

/* where `client serve` listens without -l: loopback only */
#define SERVE_DEFAULT_LISTEN "127.0.0.1:8800"

/* True if name may be given to --allow-host: 1 to CLIENT_MAX_HOST_NAME
 * bytes of letters, digits, '-' and '.'. */
int serve_host_name_ok(const char *name);

/* Serves HTTP on listen_addr (port 0 picks one; "listening on HOST:PORT"
 * is printed when ready) until SIGINT or SIGTERM, fetching songs through
 * o->trackers. Only requests whose Host names the gateway (its bound
 * address, localhost, 127.0.0.1 or [::1], or o->allow_hosts, with its
 * port) are answered, others get 421; requests from another site's page
 * (Sec-Fetch-Site, Origin) get 403 but for media GETs. Returns an exit code. */
int cmd_serve(const struct client_opts *o, const char *listen_addr);

#endif
