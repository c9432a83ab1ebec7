/* fuzz_register.c - REGISTER bodies as the tracker reads them: each line
 * through proto_parse_song_line and proto_parse_register_line (version 2:
 * a content id after the name), which must give a valid name of at most
 * PROTO_MAX_NAME bytes or refuse the line. */
#include "fuzz.h"
#include "p2pm/proto.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[PROTO_MAX_NAME + 1];
	unsigned char id[PROTO_CONTENT_ID_LEN];
	size_t namelen, start = 0;
	int has_id;
	char *s = fuzz_cstring(data, size);

	if (s == NULL)
		return 0;
	/* one call per LF-terminated line, as the body reader hands them */
	for (size_t i = 0; i <= size; i++) {
		if (i < size && s[i] != '\n')
			continue;
		size_t len = i - start;
		if (len > 0 && s[start + len - 1] == '\r')
			len--;
		if (len < PROTO_MAX_LINE) {
			char *line = s + start;
			char save = line[len];
			line[len] = '\0';
			if (proto_parse_song_line(line, len, name, &namelen) == 0 &&
			    (namelen == 0 || namelen > PROTO_MAX_NAME ||
			    strlen(name) != namelen || !proto_name_valid(name, namelen)))
				abort();
			if (proto_parse_register_line(line, len, name, &namelen, id,
			    &has_id) == 0 && (namelen == 0 || namelen > PROTO_MAX_NAME ||
			    (has_id != 0 && has_id != 1)))
				abort();
			line[len] = save;
		}
		start = i + 1;
	}
	free(s);
	return 0;
}
