/* test_listline.c - the client's reading of LIST and LISTPAGE reply lines:
 * name, count, then tag words, tolerant of words it does not know. */
#include <stdio.h>
#include <string.h>

#include "../../src/client/tracker_client.h"
#include "tap.h"

int
main(void)
{
	struct song_entry e;
	char line[PROTO_MAX_LINE];

	ok(song_entry_parse("My%20Song 2", &e) == 0 && strcmp(e.name, "My Song") == 0 &&
	    e.peers == 2 && e.artist == NULL && e.album == NULL && e.title == NULL &&
	    e.duration_ms == -1, "a line without tags gives the name, the count and no tags");
	ok(song_entry_parse("Bj%C3%B6rk 3 artist=Bj%C3%B6rk album=Homog%C3%A9nic "
	    "title=J%C3%B3ga duration=305.4", &e) == 0 && e.peers == 3 &&
	    strcmp(e.artist, "Björk") == 0 && strcmp(e.album, "Homogénic") == 0 &&
	    strcmp(e.title, "Jóga") == 0 && e.duration_ms == 305400,
	    "tags are decoded; the duration is read in seconds");
	song_entry_clear(&e);
	ok(song_entry_parse("T 1 track=3", &e) == 0 && e.track == 3 &&
	    song_entry_parse("T 1 track=4/12", &e) == 0 && e.track == 4 &&
	    song_entry_parse("T 1 track=x track=5/ track=/9 track=-1", &e) == 0 &&
	    e.track == -1 && song_entry_parse("T 1", &e) == 0 && e.track == -1,
	    "track= is read as N or N/M; anything else leaves no track");
	song_entry_clear(&e);
	ok(e.artist == NULL && e.album == NULL && e.title == NULL, "clearing frees the tags");
	ok(song_entry_parse("S 1 year=1997 bogus =x artist= album=%ZZ duration=1e3 "
	    "duration=-4 duration=12. title=T", &e) == 0 && e.artist == NULL &&
	    e.album == NULL && e.duration_ms == -1 && strcmp(e.title, "T") == 0,
	    "unknown words, empty or badly encoded values and bad durations are skipped");
	song_entry_clear(&e);
	ok(song_entry_parse("S 1  artist=A   album=B ", &e) == 0 &&
	    strcmp(e.artist, "A") == 0 && strcmp(e.album, "B") == 0,
	    "runs of spaces between words are tolerated");
	song_entry_clear(&e);
	ok(song_entry_parse("S 1 artist=A artist=B", &e) == 0 && strcmp(e.artist, "B") == 0,
	    "a tag given twice keeps the last");
	song_entry_clear(&e);
	ok(song_entry_parse("S 1 artist=a%09b title=%FF", &e) == 0 && e.artist == NULL &&
	    e.title == NULL, "control characters and invalid UTF-8 in a value are refused");
	ok(song_entry_parse("S 1 duration=604801", &e) == 0 && e.duration_ms == -1,
	    "a duration beyond a week is refused");
	ok(song_entry_parse("S 1 duration=99999999999999999999", &e) == 0 &&
	    e.duration_ms == -1, "  and one that would overflow");
	ok(song_entry_parse("S 1 duration=3.14159", &e) == 0 && e.duration_ms == 3141,
	    "fractions of a millisecond are dropped");

	memcpy(line, "S 1 artist=", 11);
	memset(line + 11, 'x', CLIENT_MAX_TAG + 1);
	line[11 + CLIENT_MAX_TAG + 1] = '\0';
	ok(song_entry_parse(line, &e) == 0 && e.artist == NULL,
	    "a value longer than CLIENT_MAX_TAG bytes is skipped");
	line[11 + CLIENT_MAX_TAG] = '\0';
	ok(song_entry_parse(line, &e) == 0 && e.artist != NULL &&
	    strlen(e.artist) == CLIENT_MAX_TAG, "  one of CLIENT_MAX_TAG bytes is kept");
	song_entry_clear(&e);

	ok(song_entry_parse("A 1 art=" "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef.jpg", &e) == 0 &&
	    strcmp(e.art, "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef.jpg") == 0,
	    "art=<sha256>.jpg is kept as the song's cover art");
	song_entry_clear(&e);
	ok(song_entry_parse("A 1 art=..%2Fcover.jpg", &e) == 0 && e.art[0] == '\0',
	    "  an art= word that is not a picture name is not");
	ok(song_entry_parse("A 1", &e) == 0 && e.art[0] == '\0', "  and none is \"\"");
	ok(song_entry_parse("NoCount", &e) < 0, "a line without a count is refused");
	ok(song_entry_parse("S x", &e) < 0, "  and one with a count that is not a number");
	ok(song_entry_parse("S -1", &e) < 0, "  or is negative");
	ok(song_entry_parse("S 1x artist=A", &e) < 0 && e.artist == NULL,
	    "  or has junk after it, leaving no tags");
	ok(song_entry_parse(" 1", &e) < 0, "an empty name is refused");
	ok(song_entry_parse("a%00b 1", &e) < 0, "  and a name with a NUL");
	return done_testing();
}
