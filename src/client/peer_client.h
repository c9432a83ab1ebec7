/* peer_client.h - REQUEST_SONG and REQUEST_SEGMENT over a connection to a
 * peer (rpc_open, then any number of requests, then rpc_close). */
#ifndef P2PM_CLIENT_PEER_CLIENT_H
#define P2PM_CLIENT_PEER_CLIENT_H

#include <stddef.h>

#include "p2pm/rpc.h"

/* REQUEST_SONG: on success *body holds the playlist (*len bytes, plus a
 * NUL after them), owned by the caller; otherwise rpc_error(c) says why. */
enum rpc_result peer_request_song(struct rpc_conn *c, const char *song,
    char **body, size_t *len);

/* REQUEST_SEGMENT: on success *body holds the segment (*len bytes), owned
 * by the caller; the reply must name the segment asked for. */
enum rpc_result peer_request_segment(struct rpc_conn *c, const char *name,
    char **body, size_t *len);

#endif
