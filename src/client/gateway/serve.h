/* serve.h - `client serve`: the HTTP gateway to the network, with the web
 * page (webpage.c) at "/" and songs through gateway.c. */
#ifndef P2PM_SERVE_H
#define P2PM_SERVE_H

#include "../commands.h"

/* where `client serve` listens without -l: loopback only */
#define SERVE_DEFAULT_LISTEN "127.0.0.1:8800"

/* Serves HTTP on listen_addr (port 0 picks one; "listening on HOST:PORT"
 * is printed when ready) until SIGINT or SIGTERM, fetching songs through
 * o->trackers. Returns an exit code. */
int cmd_serve(const struct client_opts *o, const char *listen_addr);

#endif
