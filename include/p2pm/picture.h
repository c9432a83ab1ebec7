/* picture.h - cover art pictures as the network names them: the bytes of
 * a JPEG or PNG named by their SHA-256, "<64 hex>.jpg" or "<64 hex>.png",
 * advertised with a song as the tag word art=NAME and fetched from peers
 * with REQUEST_SEGMENT NAME (docs/protocol.md). */
#ifndef P2PM_PICTURE_H
#define P2PM_PICTURE_H

#include <stddef.h>

#include "p2pm/sha256.h"

/* the largest picture a peer shares and a client takes, in bytes */
#define PICTURE_MAX_BYTES (4L * 1024 * 1024)
/* bytes of a picture's name, "<64 hex>.jpg", without its NUL */
#define PICTURE_NAME_LEN (SHA256_HEX_LEN - 1 + 4)
/* the tag word's key */
#define PICTURE_TAG_KEY "art"

/* True if name (len bytes) is a picture name: 64 lower-case hex digits
 * and ".jpg" or ".png". */
int picture_name_ok(const char *name, size_t len);

/* The ending of the picture data (len bytes) holds by its first bytes:
 * ".jpg" for JPEG (FF D8 FF), ".png" for PNG (its 8-byte signature), or
 * NULL for anything else. */
const char *picture_type_of(const char *data, size_t len);

/* The media type of a picture name's ending: "image/jpeg" or "image/png". */
const char *picture_media_type(const char *name);

/* Writes into out (PICTURE_NAME_LEN + 1 bytes) the name of the picture
 * data: its SHA-256 and the ending of its type. Returns 0, or -1 if it is
 * neither JPEG nor PNG, is empty, or is over PICTURE_MAX_BYTES. */
int picture_name_of(const char *data, size_t len, char out[PICTURE_NAME_LEN + 1]);

/* True if data (len bytes) is the picture called name: its type matches
 * the ending and its SHA-256 the digits. */
int picture_matches(const char *name, const char *data, size_t len);

#endif
