/* test_picture.c - cover art names, types and checks. */
#include <stdlib.h>
#include <string.h>

#include "p2pm/picture.h"
#include "tap.h"

int
main(void)
{
	static const char jpeg[] = "\xFF\xD8\xFF\xE0 a tiny jpeg";
	static const char png[] = "\x89PNG\r\n\x1A\n a tiny png";
	char name[PICTURE_NAME_LEN + 1], hex[SHA256_HEX_LEN], *big;

	sha256_hex(jpeg, sizeof(jpeg) - 1, hex);
	ok(picture_name_of(jpeg, sizeof(jpeg) - 1, name) == 0 &&
	    strncmp(name, hex, SHA256_HEX_LEN - 1) == 0 &&
	    strcmp(name + SHA256_HEX_LEN - 1, ".jpg") == 0,
	    "a JPEG is named <its sha256>.jpg (%s)", name);
	ok(picture_name_ok(name, strlen(name)), "  which is a picture name");
	ok(picture_matches(name, jpeg, sizeof(jpeg) - 1), "  and its bytes match it");
	ok(!picture_matches(name, jpeg, sizeof(jpeg) - 2), "  other bytes do not");
	ok(strcmp(picture_media_type(name), "image/jpeg") == 0, "  served as image/jpeg");
	ok(picture_name_of(png, sizeof(png) - 1, name) == 0 &&
	    strcmp(name + SHA256_HEX_LEN - 1, ".png") == 0 &&
	    strcmp(picture_media_type(name), "image/png") == 0,
	    "a PNG is named <its sha256>.png, served as image/png");
	ok(picture_name_of("GIF89a....", 10, name) == -1, "a GIF is not taken");
	ok(picture_name_of("", 0, name) == -1, "nothing is not a picture");
	ok(picture_type_of("\xFF\xD8", 2) == NULL, "two bytes of a JPEG are not one");

	/* names */
	memcpy(name, hex, SHA256_HEX_LEN - 1);
	memcpy(name + SHA256_HEX_LEN - 1, ".ts", 4);
	ok(!picture_name_ok(name, strlen(name)), "a segment name is not a picture name");
	memcpy(name + SHA256_HEX_LEN - 1, ".JPG", 5);
	ok(!picture_name_ok(name, strlen(name)), "nor is .JPG");
	memcpy(name + SHA256_HEX_LEN - 1, ".jpg", 5);
	name[0] = 'A';
	ok(!picture_name_ok(name, strlen(name)), "nor upper-case hex");
	ok(!picture_name_ok("../x.jpg", 8), "nor a path");
	/* picture_matches with a JPEG's bytes and a PNG's name */
	picture_name_of(jpeg, sizeof(jpeg) - 1, name);
	memcpy(name + SHA256_HEX_LEN - 1, ".png", 5);
	ok(!picture_matches(name, jpeg, sizeof(jpeg) - 1),
	    "a JPEG does not match its hash named .png");

	/* the bound */
	big = malloc((size_t)PICTURE_MAX_BYTES + 1);
	if (big != NULL) {
		memset(big, 0, (size_t)PICTURE_MAX_BYTES + 1);
		memcpy(big, jpeg, 4);
		ok(picture_name_of(big, (size_t)PICTURE_MAX_BYTES, name) == 0,
		    "a picture of PICTURE_MAX_BYTES (%ld) is taken", PICTURE_MAX_BYTES);
		ok(picture_name_of(big, (size_t)PICTURE_MAX_BYTES + 1, name) == -1,
		    "  one byte more is not");
		free(big);
	}
	return done_testing();
}
