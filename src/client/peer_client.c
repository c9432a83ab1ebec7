/* peer_client.c - the client's requests to a peer over one persistent rpc
 * connection: the playlist, then the segments one after the other. */
#include <stdio.h>

#include "p2pm/proto.h"
#include "peer_client.h"

enum rpc_result
peer_request_song(struct rpc_conn *c, const char *song, char **body,
    size_t *len)
{
	char want[PROTO_MAX_REPLY_NAME + 1];
	enum rpc_result res;

	*body = NULL;
	snprintf(want, sizeof(want), "%s.m3u8", song);
	res = rpc_request_name(c, "REQUEST_SONG", song);
	if (res != RPC_OK)
		return res;
	return rpc_body(c, "PLAYLIST", want, PROTO_MAX_PLAYLIST_BYTES, body, len);
}

enum rpc_result
peer_request_segment(struct rpc_conn *c, const char *name, char **body,
    size_t *len)
{
	enum rpc_result res;

	*body = NULL;
	res = rpc_request_name(c, "REQUEST_SEGMENT", name);
	if (res != RPC_OK)
		return res;
	return rpc_body(c, "SEGMENT", name, PROTO_MAX_SEGMENT_BYTES, body, len);
}
