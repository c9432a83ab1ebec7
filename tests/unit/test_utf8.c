/* test_utf8.c - decoding, simple case folding and display width. */
#include <string.h>

#include "p2pm/utf8.h"
#include "tap.h"

static int
folds(const char *in, const char *want)
{
	char out[256];
	long n = utf8_fold_string(in, strlen(in), out, sizeof(out));

	return ok(n == (long)strlen(want) && strcmp(out, want) == 0,
	    "\"%s\" folds to \"%s\" (got \"%s\")", in, want, n < 0 ? "(error)" : out);
}

static int
width_is(const char *s, size_t want)
{
	size_t got = utf8_width(s);

	return ok(got == want, "\"%s\" takes %zu columns (got %zu)", s, want, got);
}

int
main(void)
{
	uint32_t cp;
	char small[4], enc[UTF8_MAX_SEQ];

	/* decoding */
	ok(utf8_decode("\xC3\xB6", 2, &cp) == 2 && cp == 0xF6, "ö decodes from 2 bytes");
	ok(utf8_decode("\xE6\x97\xA5", 3, &cp) == 3 && cp == 0x65E5, "日 decodes from 3 bytes");
	ok(utf8_decode("\xF0\x9F\x8E\xB5", 4, &cp) == 4 && cp == 0x1F3B5, "🎵 decodes from 4 bytes");
	ok(utf8_decode("\xC0\xAF", 2, &cp) == 1 && cp == UTF8_REPLACEMENT,
	    "an overlong form is one invalid byte");
	ok(utf8_decode("\xED\xA0\x80", 3, &cp) == 1 && cp == UTF8_REPLACEMENT,
	    "a surrogate is one invalid byte");
	ok(utf8_decode("\xE6\x97", 2, &cp) == 1 && cp == UTF8_REPLACEMENT,
	    "a sequence cut short is one invalid byte");
	ok(utf8_decode("\xF4\x90\x80\x80", 4, &cp) == 1 && cp == UTF8_REPLACEMENT,
	    "a code point past U+10FFFF is invalid");
	ok(utf8_encode(0x65E5, enc) == 3 && memcmp(enc, "\xE6\x97\xA5", 3) == 0,
	    "日 encodes to 3 bytes");
	ok(utf8_encode(0xD800, enc) == 3 && memcmp(enc, "\xEF\xBF\xBD", 3) == 0,
	    "a surrogate encodes as U+FFFD");

	/* folding */
	folds("BJÖRK", "björk");
	folds("Björk", "björk");
	folds("ÀÉÎÕÜÇÑØÞ", "àéîõüçñøþ");
	ok(utf8_fold(0xD7) == 0xD7, "the multiplication sign × has no case");
	ok(utf8_fold(0xDF) == 0xDF, "ß folds to itself (simple folding)");
	folds("ŁÓDŹ ŻÓŁW", "łódź żółw");
	folds("ČEŠKÝ ŘÍJEN", "češký říjen");
	folds("ŐRÜLT ŰR", "őrült űr");
	folds("Ÿ", "ÿ");
	folds("ſ", "s");
	folds("µ", "μ");
	folds("ΣΊΣΥΦΟΣ", "σίσυφοσ");
	folds("σίσυφος", "σίσυφοσ");
	folds("ΆΈΉΊΌΎΏ", "άέήίόύώ");
	folds("ДДТ КИНО", "ддт кино");
	folds("ЁЖИК ЇЖАК ЎЎ", "ёжик їжак ўў");
	folds("ҐҒӀ", "ґғӏ");
	folds("日本語の歌", "日本語の歌");
	folds("ABC xyz 123", "abc xyz 123");
	folds("\xFF" "A", "\xEF\xBF\xBD" "a");
	ok(utf8_fold_string("ÀÀÀ", 6, small, sizeof(small)) == -1 &&
	    strlen(small) < sizeof(small), "folding into a short buffer fails, terminated");

	ok(utf8_contains_folded("Björk - Jóga", "BJÖRK") == 1, "BJÖRK is found in Björk - Jóga");
	ok(utf8_contains_folded("Björk - Jóga", "jÓGA") == 1, "jÓGA is found too");
	ok(utf8_contains_folded("Björk - Jóga", "bjork") == 0, "bjork is not (no accent stripping)");
	ok(utf8_contains_folded("Кино - Группа крови", "ГРУППА") == 1, "ГРУППА is found in Cyrillic");
	ok(utf8_contains_folded("anything", "") == 1, "an empty text is found everywhere");

	/* width */
	width_is("Björk", 5);
	width_is("日本語の歌", 10);
	width_is("e\xCC\x81t\xC3\xA9", 3);	/* e + combining acute, t, é */
	width_is("한국어", 6);
	width_is("ＡＢ", 4);
	width_is("🎵 x", 4);
	width_is("a\xE2\x80\x8B" "b", 2);	/* zero width space */
	width_is("\xFF", 1);
	ok(utf8_is_ascii("plain text") && !utf8_is_ascii("Björk"), "ASCII text is told apart");
	return done_testing();
}
