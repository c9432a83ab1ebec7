/* test_playlist.c - playlist parsing, segment-name safety and file names
 * made from song names. */
#include <stdlib.h>

#include "p2pm/fsname.h"
#include "p2pm/playlist.h"
#include "tap.h"

static const char good[] =
    "#EXTM3U\n"
    "#EXT-X-VERSION:3\n"
    "#EXT-X-TARGETDURATION:3\n"
    "#EXT-X-PLAYLIST-TYPE:VOD\n"
    "#EXTINF:2.500000,\n"
    "3f2a9c01d4e5b6a7-0.ts\n"
    "#EXTINF:2,\n"
    "3f2a9c01d4e5b6a7-1.ts\r\n"
    "#EXTINF:0.75,\n"
    "3f2a9c01d4e5b6a7-2.ts\n"
    "#EXT-X-ENDLIST\n";

static int
parses(const char *text, char *why, size_t whylen)
{
	struct playlist pl;
	int rc = playlist_parse(text, strlen(text), &pl, why, whylen);

	playlist_free(&pl);
	return rc == 0;
}

static void
test_parse(void)
{
	struct playlist pl, other;
	char why[128];

	ok(playlist_parse(good, strlen(good), &pl, why, sizeof(why)) == 0,
	    "a peer's VOD playlist parses");
	ok(pl.count == 3, "it lists three segments");
	ok(strcmp(pl.segs[0].name, "3f2a9c01d4e5b6a7-0.ts") == 0 &&
	    strcmp(pl.segs[1].name, "3f2a9c01d4e5b6a7-1.ts") == 0,
	    "segment names are read in order, CR LF dropped");
	ok(pl.segs[0].duration_ms == 2500 && pl.segs[1].duration_ms == 2000 &&
	    pl.segs[2].duration_ms == 750, "durations come from #EXTINF");
	ok(pl.total_ms == 5250, "the total duration is their sum");

	ok(playlist_parse(good, strlen(good), &other, why, sizeof(why)) == 0 &&
	    playlist_same_segments(&pl, &other), "a playlist matches itself");
	strcpy(other.segs[0].name, "elsewhere-0.ts");
	ok(!playlist_same_segments(&pl, &other) && playlist_same_tail(&pl, &other, 1),
	    "a different first segment differs, the tail after it matches");
	other.count = 2;
	ok(!playlist_same_tail(&pl, &other, 1), "a shorter list never matches");
	other.count = 3;
	playlist_free(&other);
	playlist_free(&pl);

	ok(!parses("", why, sizeof(why)), "an empty playlist is refused");
	ok(!parses("#EXTM3U\n#EXT-X-ENDLIST\n", why, sizeof(why)),
	    "a playlist without segments is refused");
	ok(!parses("hello\n#EXTINF:1,\na.ts\n", why, sizeof(why)),
	    "a playlist must begin with #EXTM3U");
	ok(!parses("#EXTM3U\na.ts\n", why, sizeof(why)),
	    "a segment without #EXTINF is refused");
	ok(!parses("#EXTM3U\n#EXTINF:abc,\na.ts\n", why, sizeof(why)),
	    "a bad duration is refused");
	ok(!parses("#EXTM3U\n#EXTINF:99999999,\na.ts\n", why, sizeof(why)),
	    "a duration over PLAYLIST_MAX_SEGMENT_SECONDS is refused");
	ok(!parses("#EXTM3U\n#EXTINF:1,\na.ts\n#EXTINF:1,\na.ts\n", why, sizeof(why)),
	    "a segment listed twice is refused");
	ok(!parses("#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=\"http://x/k\"\n"
	    "#EXTINF:1,\na.ts\n", why, sizeof(why)),
	    "a tag pointing at another URI is refused");

	static const char *const bad[] = {
		"../a.ts", "/etc/passwd", "a/b.ts", ".", "..", "index.m3u8",
		"http://evil/x.ts", "a b.ts", "a%2Fb.ts", "~x", NULL
	};
	for (int i = 0; bad[i] != NULL; i++) {
		char text[512];
		snprintf(text, sizeof(text), "#EXTM3U\n#EXTINF:1,\n%s\n", bad[i]);
		ok(!parses(text, why, sizeof(why)),
		    "a playlist listing '%s' is refused (%s)", bad[i], why);
	}
	ok(playlist_parse("#EXTM3U\n#EXTINF:1,\na\0b\n", 22, &pl, why,
	    sizeof(why)) < 0, "a playlist holding a NUL byte is refused");

	ok(playlist_segment_name_ok("a-b_c.9.ts", 10), "[A-Za-z0-9._-] is safe");
	ok(playlist_segment_name_ok("...", 3), "'...' is an ordinary name");
	char big[PROTO_MAX_NAME + 2];
	memset(big, 'a', sizeof(big));
	ok(playlist_segment_name_ok(big, PROTO_MAX_NAME),
	    "a name of PROTO_MAX_NAME bytes is safe");
	ok(!playlist_segment_name_ok(big, PROTO_MAX_NAME + 1),
	    "a name of PROTO_MAX_NAME+1 bytes is not");
}

static void
test_many_segments(void)
{
	size_t n = PLAYLIST_MAX_SEGMENTS + 1, cap = 64 + n * 24;
	char *text = malloc(cap), why[128];
	size_t off = 0;
	struct playlist pl;

	off += (size_t)snprintf(text + off, cap - off, "#EXTM3U\n");
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(text + off, cap - off, "#EXTINF:1,\ns%zu\n", i);
	ok(playlist_parse(text, off, &pl, why, sizeof(why)) < 0,
	    "PLAYLIST_MAX_SEGMENTS+1 segments are refused (%s)", why);
	free(text);
}

static void
test_fsname(void)
{
	char out[FSNAME_MAX + 1];

	fsname_from_song("My Song", out, sizeof(out));
	ok(strcmp(out, "My Song") == 0, "an ordinary name stays as it is");
	fsname_from_song("AC/DC\\x", out, sizeof(out));
	ok(strcmp(out, "AC_DC_x") == 0, "slashes and backslashes become '_'");
	fsname_from_song("a\tb\x7f", out, sizeof(out));
	ok(strcmp(out, "a_b_") == 0, "control bytes become '_'");
	fsname_from_song("..", out, sizeof(out));
	ok(strcmp(out, "_.") == 0, "'..' cannot name the parent");
	fsname_from_song(".hidden", out, sizeof(out));
	ok(out[0] == '_', "no leading dot");
	fsname_from_song("-rf", out, sizeof(out));
	ok(strcmp(out, "_rf") == 0, "no leading dash");
	fsname_from_song("", out, sizeof(out));
	ok(strcmp(out, FSNAME_FALLBACK) == 0, "an empty name gets the fallback");
	fsname_from_song("Über", out, sizeof(out));
	ok(strcmp(out, "Über") == 0, "UTF-8 is kept");

	char small[5];
	fsname_from_song("abcÜber", small, sizeof(small));
	ok(strcmp(small, "abc") == 0, "a cut never splits a UTF-8 sequence");
	char big[400];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(fsname_from_song(big, out, sizeof(out)) == FSNAME_MAX,
	    "long names are cut to FSNAME_MAX bytes");
}

static const char canonical[] =
    "#EXTM3U\n"
    "#EXT-X-VERSION:3\n"
    "#EXT-X-TARGETDURATION:5\n"
    "#EXT-X-MEDIA-SEQUENCE:0\n"
    "#EXT-X-PLAYLIST-TYPE:VOD\n"
    "#EXTINF:4.000000,\n"
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.ts\n"
    "#EXTINF:4.180000,\n"
    "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210.ts\n"
    "#EXT-X-ENDLIST\n";

static void
test_canonical(void)
{
	struct playlist pl;
	char why[128], *out;
	size_t len;
	const char *ffmpeg_style =
	    "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n"
	    "#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:4,\n"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.ts\n"
	    "#EXTINF:4.18,\n"
	    "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210.ts\n"
	    "#EXT-X-ENDLIST\n";

	ok(playlist_parse(ffmpeg_style, strlen(ffmpeg_style), &pl, why,
	    sizeof(why)) == 0, "a content-addressed playlist parses");
	ok(playlist_content_addressed(&pl), "its names are all SHA-256 names");
	ok(pl.segs[1].duration_us == 4180000, "durations keep microseconds");
	out = playlist_canonical(&pl, &len);
	ok(out != NULL && len == strlen(canonical) &&
	    memcmp(out, canonical, len) == 0,
	    "the canonical form has six decimals and the target rounded up");
	playlist_free(&pl);
	ok(playlist_parse(out, len, &pl, why, sizeof(why)) == 0,
	    "the canonical form parses");
	free(out);
	out = playlist_canonical(&pl, &len);
	ok(out != NULL && len == strlen(canonical) &&
	    memcmp(out, canonical, len) == 0, "and gives itself again");
	free(out);
	playlist_free(&pl);

	const char *tiny = "#EXTM3U\n#EXTINF:0.3,\n"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.ts\n";
	ok(playlist_parse(tiny, strlen(tiny), &pl, why, sizeof(why)) == 0 &&
	    (out = playlist_canonical(&pl, &len)) != NULL,
	    "a song shorter than a second has a canonical form");
	ok(out != NULL && strstr(out, "#EXT-X-TARGETDURATION:1\n") != NULL,
	    "whose target duration is at least 1");
	free(out);
	playlist_free(&pl);

	ok(parses(good, why, sizeof(why)) && !playlist_hash_name_ok("3f2a9c01d4e5b6a7-0.ts", 21),
	    "other names are not SHA-256 names");
	ok(!playlist_hash_name_ok(
	    "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef.ts", 67),
	    "upper-case hex is not a SHA-256 name");
	ok(!playlist_hash_name_ok(
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.tx", 67),
	    "nor another suffix");

	ok(!parses("#EXTM3U\n#EXTINF:10,\r/etc/passwd\n", why, sizeof(why)),
	    "a lone CR inside a line is refused");
	ok(strstr(why, "CR") != NULL, "and the reason says so");
	ok(!parses("#EXTM3U\n#EXTINF:10,\na.ts\r", why, sizeof(why)),
	    "a CR at the very end is refused");
	ok(parses("#EXTM3U\r\n#EXTINF:10,\r\na.ts\r\n", why, sizeof(why)),
	    "CR LF line ends are fine");
}

int
main(void)
{
	test_parse();
	test_canonical();
	test_many_segments();
	test_fsname();
	return done_testing();
}
