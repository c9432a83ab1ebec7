/* serve.h - `client serve`: the HTTP gateway (serve.c) and the web page
 * it serves (webpage.c). */
#ifndef P2PM_SERVE_H
#define P2PM_SERVE_H

#include <stddef.h>

#include "client.h"

/* where `client serve` listens without -l: loopback only */
#define SERVE_DEFAULT_LISTEN "127.0.0.1:8800"

/* Serves HTTP on listen_addr (port 0 picks one; "listening on HOST:PORT"
 * is printed when ready) until SIGINT or SIGTERM, fetching songs through
 * o->trackers. Returns an exit code. */
int cmd_serve(const struct client_opts *o, const char *listen_addr);

/* The player page served at "/": HTML with its CSS and script inline. */
extern const char webpage_html[];
extern const size_t webpage_html_len;

#endif
