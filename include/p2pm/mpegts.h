/* mpegts.h - telling whether bytes are an MPEG transport stream. */
#ifndef P2PM_MPEGTS_H
#define P2PM_MPEGTS_H

#include <stddef.h>

/* bytes in one transport stream packet (ISO/IEC 13818-1) */
#define MPEGTS_PACKET 188
/* the byte every packet begins with */
#define MPEGTS_SYNC 0x47

/* Checks that buf (len bytes) is whole MPEG-TS packets: len a non-zero
 * multiple of MPEGTS_PACKET and MPEGTS_SYNC at offset 0, 188, 376, ...
 * Returns 0, or -1 with the first fault put into why (whylen bytes):
 * "empty", "N bytes is not a whole number of 188-byte packets" or "byte
 * 0xHH at offset N where a packet's sync byte 0x47 belongs". */
int mpegts_check(const void *buf, size_t len, char *why, size_t whylen);

#endif
