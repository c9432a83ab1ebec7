/* test_queuetime.c - the times play --start takes, and the segment of a
 * playlist that holds a time. */
#include <string.h>

#include "../../src/client/queue_time.h"
#include "tap.h"

int
main(void)
{
	struct playlist_segment segs[3];
	struct playlist pl = { segs, 3, 0, 0 };
	long ms = -1, into = -1;

	ok(queue_time_parse("90", &ms) == 0 && ms == 90000, "90 is 90 s");
	ok(queue_time_parse("1:30", &ms) == 0 && ms == 90000, "1:30 is 90 s");
	ok(queue_time_parse("1:02:03", &ms) == 0 && ms == 3723000, "1:02:03 is 3723 s");
	ok(queue_time_parse("1:30.25", &ms) == 0 && ms == 90250, "1:30.25 keeps the fraction");
	ok(queue_time_parse("0.1239", &ms) == 0 && ms == 123, "fraction digits past milliseconds are dropped");
	ok(queue_time_parse("0", &ms) == 0 && ms == 0, "0 is the start");
	ok(queue_time_parse("", &ms) < 0, "an empty time is refused");
	ok(queue_time_parse("1:60", &ms) < 0, "60 seconds after a colon are refused");
	ok(queue_time_parse("1:5:", &ms) < 0, "a trailing colon is refused");
	ok(queue_time_parse("1:2:3:4", &ms) < 0, "more than three fields are refused");
	ok(queue_time_parse("-5", &ms) < 0 && queue_time_parse("5s", &ms) < 0 &&
	    queue_time_parse("1.", &ms) < 0 && queue_time_parse(" 5", &ms) < 0,
	    "signs, units, a bare point and spaces are refused");
	ok(queue_time_parse("604800", &ms) == 0 && ms == 604800000 &&
	    queue_time_parse("604801", &ms) < 0 && queue_time_parse("168:00:01", &ms) < 0 &&
	    queue_time_parse("99999999999999999999", &ms) < 0,
	    "QUEUE_MAX_START_S is the most, however it is written");

	memset(segs, 0, sizeof(segs));
	segs[0].duration_ms = segs[1].duration_ms = 4000;
	segs[2].duration_ms = 2000;
	ok(queue_segment_at(&pl, 0, &into) == 0 && into == 0, "time 0 is in the first segment");
	ok(queue_segment_at(&pl, 5500, &into) == 1 && into == 1500,
	    "5.5 s is 1.5 s into the second");
	ok(queue_segment_at(&pl, 8000, &into) == 2 && into == 0, "8 s begins the third");
	ok(queue_segment_at(&pl, 60000, &into) == 2 && into == 52000,
	    "a time past the end falls in the last");
	return done_testing();
}
