/* strnum.c - checked decimal conversion (no atoi). */
#include <errno.h>
#include <stdlib.h>

#include "p2pm/strnum.h"

int
strnum_parse(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
