/* test_units.c - byte counts written for people. */
#include "p2pm/units.h"
#include "tap.h"

static int
formats(unsigned long long bytes, const char *want)
{
	char out[UNITS_BYTES_LEN];

	units_format_bytes(bytes, out, sizeof(out));
	return ok(strcmp(out, want) == 0, "%llu bytes read \"%s\" (got \"%s\")",
	    bytes, want, out);
}

int
main(void)
{
	char small[4];

	formats(0, "0 B");
	formats(1023, "1023 B");
	formats(1024, "1.0 KiB");
	formats(41165, "40.2 KiB");
	formats(1048576, "1.0 MiB");
	formats(3565158, "3.4 MiB");
	formats(1073741824ULL, "1.0 GiB");
	formats(1099511627776ULL, "1.0 TiB");
	formats(1099511627776ULL * 2048, "2048.0 TiB");
	units_format_bytes(123456, small, sizeof(small));
	ok(strcmp(small, "120") == 0, "a short buffer gets a cut, terminated text");
	return done_testing();
}
