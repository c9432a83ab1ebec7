/* units.h - quantities written for people. */
#ifndef P2PM_UNITS_H
#define P2PM_UNITS_H

#include <stddef.h>

/* room for any units_format_bytes text */
#define UNITS_BYTES_LEN 32

/* Writes a byte count for people: "812 B" below 1 KiB, else one decimal
 * and the largest binary unit that keeps it at least 1: "40.2 KiB",
 * "3.4 MiB", up to TiB. Always NUL-terminates out (when outlen > 0). */
void units_format_bytes(unsigned long long bytes, char *out, size_t outlen);

#endif
