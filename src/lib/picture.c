/* picture.c - names, types and checks of cover art pictures. */
#include <string.h>

#include "p2pm/picture.h"

int
picture_name_ok(const char *name, size_t len)
{
	if (len != PICTURE_NAME_LEN)
		return 0;
	for (size_t i = 0; i < SHA256_HEX_LEN - 1; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return memcmp(name + SHA256_HEX_LEN - 1, ".jpg", 4) == 0 ||
	    memcmp(name + SHA256_HEX_LEN - 1, ".png", 4) == 0;
}

const char *
picture_type_of(const char *data, size_t len)
{
	static const unsigned char jpeg[] = { 0xFF, 0xD8, 0xFF };
	static const unsigned char png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };

	if (len >= sizeof(jpeg) && memcmp(data, jpeg, sizeof(jpeg)) == 0)
		return ".jpg";
	if (len >= sizeof(png) && memcmp(data, png, sizeof(png)) == 0)
		return ".png";
	return NULL;
}

const char *
picture_media_type(const char *name)
{
	size_t len = strlen(name);

	return len >= 4 && strcmp(name + len - 4, ".png") == 0 ? "image/png" :
	    "image/jpeg";
}

int
picture_name_of(const char *data, size_t len, char out[PICTURE_NAME_LEN + 1])
{
	const char *type = picture_type_of(data, len);

	if (type == NULL || len > (size_t)PICTURE_MAX_BYTES)
		return -1;
	sha256_hex(data, len, out);
	memcpy(out + SHA256_HEX_LEN - 1, type, 5);
	return 0;
}

int
picture_matches(const char *name, const char *data, size_t len)
{
	char want[PICTURE_NAME_LEN + 1];

	return picture_name_ok(name, strlen(name)) &&
	    picture_name_of(data, len, want) == 0 && strcmp(want, name) == 0;
}
