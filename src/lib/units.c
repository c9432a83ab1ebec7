/* units.c - quantities written for people. */
#include <stdio.h>

#include "p2pm/units.h"

#define UNITS_KIB 1024

void
units_format_bytes(unsigned long long bytes, char *out, size_t outlen)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < UNITS_KIB) {
		snprintf(out, outlen, "%llu B", bytes);
		return;
	}
	for (v /= UNITS_KIB; v >= UNITS_KIB &&
	    u + 1 < sizeof(units) / sizeof(units[0]); v /= UNITS_KIB)
		u++;
	snprintf(out, outlen, "%.1f %s", v, units[u]);
}
