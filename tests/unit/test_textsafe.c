/* test_textsafe.c - the sanitizer for text from elsewhere: what it
 * replaces, what it keeps, that it never grows a text, and the
 * name rules that refuse invisible characters. */
#include <string.h>

#include "p2pm/proto.h"
#include "p2pm/textsafe.h"
#include "tap.h"

static int
safe_is(const char *in, size_t len, const char *want, const char *what)
{
	char out[256];
	size_t n = textsafe_copy(out, sizeof(out), in, len);

	return ok(n == strlen(want) && strcmp(out, want) == 0,
	    "%s becomes \"%s\" (got \"%s\")", what, want, out);
}

int
main(void)
{
	static const char hostile[] =
	    "ERR 404 no \xc2\x9b" "31mRED\xc2\x9b" "0m \x9b" "32mX\x9b" "0m "
	    "\xe2\x80\xaereversed";
	char small[6], buf[64];
	size_t n;

	safe_is("plain text", 10, "plain text", "ASCII text");
	safe_is("Bj\xc3\xb6rk \xe6\x97\xa5\xf0\x9f\x8e\xb5", 14,
	    "Bj\xc3\xb6rk \xe6\x97\xa5\xf0\x9f\x8e\xb5", "UTF-8 of 2, 3 and 4 bytes");
	safe_is(hostile, strlen(hostile), "ERR 404 no ?31mRED?0m ?32mX?0m ?reversed",
	    "the hostile ERR text (U+009B, raw 0x9B, U+202E)");
	safe_is("\x1b[2J\x07\t\r\n\x7f", 9, "?[2J?????", "ESC, BEL, TAB, CR, LF and DEL");
	safe_is("a\0b", 3, "a?b", "a NUL");
	safe_is("\xc2\x80\xc2\x9f\xc2\xa0", 6, "??\xc2\xa0",
	    "U+0080 and U+009F (C1) go, U+00A0 stays");
	safe_is("\xe2\x80\xaa\xe2\x80\xae\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\xa9", 15,
	    "????\xe2\x80\xa9", "U+202A, U+202E, U+2066, U+2069 go, U+2029 stays");
	safe_is("a\xe2\x80\x8b" "b", 5, "a\xe2\x80\x8b" "b",
	    "a zero-width space is shown (it moves nothing)");
	safe_is("\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80", 9, "?????????",
	    "overlong, surrogate and beyond U+10FFFF: one '?' a byte");
	safe_is("\xe2\x80", 2, "??", "a sequence cut short");
	safe_is("\xef\xbf\xbd", 3, "\xef\xbf\xbd", "a real U+FFFD stays");

	/* cut before a whole code point, always terminated */
	n = textsafe_copy(small, sizeof(small), "abcd\xe6\x97\xa5xyz", 10);
	ok(n == 4 && strcmp(small, "abcd") == 0,
	    "a code point that does not fit is left out whole (got \"%s\")", small);
	n = textsafe_copy(small, 1, "abc", 3);
	ok(n == 0 && small[0] == '\0', "room for the NUL only: an empty text");

	/* in place */
	snprintf(buf, sizeof(buf), "%s", hostile);
	ok(strcmp(textsafe_fix(buf), "ERR 404 no ?31mRED?0m ?32mX?0m ?reversed") == 0,
	    "textsafe_fix works in place (got \"%s\")", buf);

	ok(textsafe_is_safe("Bj\xc3\xb6rk", 6), "a plain name is safe");
	ok(!textsafe_is_safe("a\xc2\x9b", 3), "one with U+009B is not");
	ok(!textsafe_is_safe("a\xff", 2), "nor one with an invalid byte");

	/* the name rules refuse what could make one name look like another */
	ok(proto_name_valid("Bj\xc3\xb6rk", 6), "Björk is a valid name");
	ok(!proto_name_valid("evil\xe2\x80\xaegpj.mp3", 14), "a name with U+202E is not");
	ok(!proto_name_valid("a\xe2\x81\xa6" "b", 5), "nor with U+2066");
	ok(!proto_name_valid("a\xe2\x80\x8b" "b", 5), "nor with U+200B");
	ok(!proto_name_valid("a\xe2\x80\x8d" "b", 5), "nor with U+200D");
	ok(!proto_name_valid("a\xe2\x81\xa0" "b", 5), "nor with U+2060");
	ok(!proto_name_valid("\xef\xbb\xbf" "a", 4), "nor with U+FEFF");
	ok(!proto_name_valid("a\xc2\x9b" "b", 4), "nor with U+009B");
	ok(proto_name_valid("a\xe2\x80\x90" "b", 5), "U+2010 (a hyphen) is fine");
	return done_testing();
}
