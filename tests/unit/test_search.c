/* test_search.c - folding for search, word matching, and suggestions by
 * a bounded Damerau-Levenshtein distance. */
#include <string.h>

#include "p2pm/search.h"
#include "tap.h"

static int
folds(const char *in, const char *want)
{
	char out[SEARCH_FOLDED_LEN];
	long n = search_fold(in, strlen(in), out, sizeof(out));

	return ok(n == (long)strlen(want) && strcmp(out, want) == 0,
	    "\"%s\" folds to \"%s\" for search (got \"%s\")", in, want,
	    n < 0 ? "(error)" : out);
}

static int
finds(const char *query, const char *name, const char *artist,
    const char *album, int want)
{
	struct search_query q;
	const char *fields[] = { name, artist, album, NULL };

	search_query_init(&q, query);
	return ok(search_matches(&q, fields, 4) == want, "'%s' %s '%s' (%s, %s)",
	    query, want ? "finds" : "does not find", name,
	    artist ? artist : "-", album ? album : "-");
}

static int
distance_is(const char *a, const char *b, size_t max, size_t want)
{
	size_t got = search_distance(a, b, max);

	return ok(got == want, "distance '%s' to '%s' (at most %zu) is %zu (got %zu)",
	    a, b, max, want, got);
}

int
main(void)
{
	const char *songs[] = { "Björk - Jóga", "Björk - Hunter", "Portishead - Roads",
		NULL, "Sigur Rós - Hoppípolla" };
	const char *commands[] = { "list", "query", "fetch", "cat", "play", "serve", "save" };
	char small[4];

	/* folding: case and diacritics */
	folds("Björk", "bjork");
	folds("BJÖRK", "bjork");
	folds("Sigur Rós - Hoppípolla", "sigur ros - hoppipolla");
	folds("Straße", "strasse");
	folds("Ærøskøbing", "aeroskobing");
	folds("Łódź Żółw", "lodz zolw");
	folds("Dvořák Œuvre", "dvorak oeuvre");
	folds("Þór Ðuð", "thor dud");
	folds("Bjo\xCC\x88rk", "bjork");	/* o + combining diaeresis */
	folds("Σίσυφος", "σίσυφοσ");		/* Greek: case only */
	folds("日本", "日本");
	folds("a\xFFz", "a\xEF\xBF\xBDz");	/* an invalid byte */
	ok(search_fold("Björk", 6, small, sizeof(small)) == -1 && strlen(small) < 4,
	    "a folding that does not fit is -1, cut and terminated");

	/* matching, word by word, in any field */
	finds("homogenic", "Björk - Jóga", "Björk", "Homogenic", 1);
	finds("bjork", "Björk - Jóga", "Björk", "Homogenic", 1);
	finds("BJÖRK joga", "Björk - Jóga", NULL, NULL, 1);
	finds("joga homogenic", "Björk - Jóga", "Björk", "Homogenic", 1);
	finds("joga debut", "Björk - Jóga", "Björk", "Homogenic", 0);
	finds("", "anything", NULL, NULL, 1);
	finds("   ", "anything", NULL, NULL, 1);
	finds("portis", "Björk - Jóga", "Björk", "Homogenic", 0);

	/* distances */
	distance_is("bjork", "bjork", 3, 0);
	distance_is("bjrok", "Björk", 3, 1);		/* a transposition */
	distance_is("lsit", "list", 2, 1);
	distance_is("plya", "play", 2, 1);
	distance_is("kitten", "sitting", 3, 3);
	distance_is("kitten", "sitting", 2, 3);	/* past max: max + 1 */
	distance_is("a", "abcdefghijkl", 3, 4);	/* lengths alone tell */
	distance_is("", "abc", 8, 3);
	distance_is("ca", "abc", 3, 3);		/* OSA: no edit of a transposed pair */
	ok(search_distance_limit(2) == 1 && search_distance_limit(12) == 4 &&
	    search_distance_limit(300) == SEARCH_MAX_DISTANCE,
	    "the distance offered grows with the text, from 1 to %d",
	    SEARCH_MAX_DISTANCE);

	/* the nearest */
	ok(search_nearest("bjork joga", songs, 5) == 0,
	    "'bjork joga' is nearest to 'Björk - Jóga'");
	ok(search_nearest("Bjork - Huntr", songs, 5) == 1,
	    "'Bjork - Huntr' is nearest to 'Björk - Hunter'");
	ok(search_nearest("sigur ros hoppipola", songs, 5) == 4,
	    "a NULL candidate is skipped");
	ok(search_nearest("Metallica - One", songs, 5) == -1,
	    "nothing near enough is -1");
	ok(search_nearest("lsit", commands, 7) == 0, "'lsit' is nearest to 'list'");
	ok(search_nearest("sav", commands, 7) == 6, "'sav' is nearest to 'save'");
	ok(search_nearest("xyz", commands, 7) == -1, "'xyz' is near no command");

	/* the bounds */
	{
		char longa[SEARCH_MAX_TEXT + 64], longb[SEARCH_MAX_TEXT + 64];
		char words[256] = "";
		struct search_query q;
		const char *field[1] = { "a b c d e f g h i j k l m n o p" };

		memset(longa, 'x', sizeof(longa) - 1);
		longa[sizeof(longa) - 1] = '\0';
		memcpy(longb, longa, sizeof(longb));
		longb[SEARCH_MAX_CODEPOINTS + 10] = 'y';
		ok(search_distance(longa, longb, 3) == 0, "texts are compared in their "
		    "first %d code points only", SEARCH_MAX_CODEPOINTS);
		ok(search_fold(longa, strlen(longa), small, 0) == -1,
		    "no room at all is -1");
		{
			char out[SEARCH_FOLDED_LEN];
			ok(search_fold(longa, strlen(longa), out, sizeof(out)) ==
			    SEARCH_MAX_TEXT, "a text is folded in its first %d bytes only",
			    SEARCH_MAX_TEXT);
		}
		for (int i = 0; i < SEARCH_MAX_WORDS; i++)
			strcat(words, (const char *[]){ "a ", "b ", "c ", "d ", "e ", "f ",
			    "g ", "h ", "i ", "j ", "k ", "l ", "m ", "n ", "o ", "p " }[i]);
		strcat(words, "zz yy");
		search_query_init(&q, words);
		ok(q.nwords == SEARCH_MAX_WORDS && search_matches(&q, field, 1),
		    "a query counts its first %d words only", SEARCH_MAX_WORDS);
	}
	return done_testing();
}
