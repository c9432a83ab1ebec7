/* test_songdir.c - writing a song directory whole and checking one. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2pm/songdir.h"
#include "tap.h"

#define NSEG 3

static char base[PATH_MAX];
static char seg_data[NSEG][64];

/* A content-addressed playlist of NSEG small segments. */
static void
make_playlist(struct playlist *pl)
{
	char text[4096], hex[SHA256_HEX_LEN], why[128];
	size_t n = 0;

	n += (size_t)snprintf(text + n, sizeof(text) - n, "#EXTM3U\n");
	for (int i = 0; i < NSEG; i++) {
		snprintf(seg_data[i], sizeof(seg_data[i]), "segment %d bytes", i);
		sha256_hex(seg_data[i], strlen(seg_data[i]), hex);
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "#EXTINF:2.5,\n%s.ts\n", hex);
	}
	if (playlist_parse(text, n, pl, why, sizeof(why)) < 0)
		printf("# %s\n", why);
}

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static void
test_write_and_verify(void)
{
	struct songdir_writer *w;
	struct songdir_info info;
	struct playlist pl;
	char dir[PATH_MAX + 32], path[PATH_MAX + 512], err[512], *canon;
	size_t canonlen;

	make_playlist(&pl);
	snprintf(dir, sizeof(dir), "%s/Blue Monday", base);
	w = songdir_writer_open(dir, "Blue Monday", &pl, err, sizeof(err));
	ok(w != NULL, "a writer starts beside a directory that does not exist");
	ok(access(dir, F_OK) < 0, "  and does not make the directory yet");
	ok(count_entries(base) == 1, "  but one temporary directory beside it");
	ok(songdir_writer_put(w, 0, "wrong", 5, err, sizeof(err)) < 0 &&
	    strstr(err, "hash") != NULL, "a segment that does not hash to its name is refused");
	ok(songdir_writer_put(w, 0, seg_data[0], strlen(seg_data[0]), err,
	    sizeof(err)) == 0, "a verified segment is written");
	ok(songdir_writer_put(w, 0, seg_data[0], strlen(seg_data[0]), err,
	    sizeof(err)) < 0, "  only once");
	ok(songdir_writer_commit(w, err, sizeof(err)) < 0 &&
	    strstr(err, "missing") != NULL, "a commit with segments missing fails");
	ok(songdir_writer_put(w, 2, seg_data[2], strlen(seg_data[2]), err,
	    sizeof(err)) == 0, "segments may come in any order");
	ok(songdir_writer_put_verified(w, NSEG, seg_data[1], strlen(seg_data[1]),
	    err, sizeof(err)) < 0, "a segment past the playlist is refused "
	    "unhashed too");
	ok(songdir_writer_put_verified(w, 2, seg_data[2], strlen(seg_data[2]),
	    err, sizeof(err)) < 0, "  and one written already");
	ok(songdir_writer_put_verified(w, 1, seg_data[1], strlen(seg_data[1]),
	    err, sizeof(err)) == 0, "a segment the caller hashed is written "
	    "without hashing again");
	ok(songdir_writer_commit(w, err, sizeof(err)) == 0, "the commit succeeds");
	songdir_writer_abort(w);
	ok(count_entries(base) == 1, "  the temporary directory became the song's");
	ok(count_entries(dir) == NSEG + 2, "  holding the segments, index.m3u8 and song.name");

	ok(songdir_verify(dir, &info, err, sizeof(err)) == 0, "the written directory verifies");
	canon = playlist_canonical(&pl, &canonlen);
	{
		char id[SHA256_HEX_LEN];
		sha256_hex(canon, canonlen, id);
		ok(strcmp(info.content_id, id) == 0,
		    "its content id is the SHA-256 of the canonical playlist");
	}
	free(canon);
	ok(strcmp(info.name, "Blue Monday") == 0, "song.name gives the name");
	ok(info.playlist.count == NSEG && info.other_files == 0,
	    "the playlist lists every segment, nothing else is there");
	ok(info.bytes == (long long)(strlen(seg_data[0]) + strlen(seg_data[1]) +
	    strlen(seg_data[2])), "the segments' bytes are summed");
	ok(songdir_unchanged(dir, &info), "an untouched directory is unchanged");

	/* another file: counted, not fatal */
	snprintf(path, sizeof(path), "%s/cover.jpg", dir);
	write_file(path, "x");
	{
		struct songdir_info again;
		ok(songdir_verify(dir, &again, err, sizeof(err)) == 0 &&
		    again.other_files == 1, "another file is counted, not refused");
		songdir_info_free(&again);
	}
	unlink(path);

	/* an altered segment */
	snprintf(path, sizeof(path), "%s/%s", dir, pl.segs[1].name);
	write_file(path, "segment 1 bytez");
	ok(!songdir_unchanged(dir, &info), "an altered segment shows in its stat identity");
	songdir_info_free(&info);
	ok(songdir_verify(dir, &info, err, sizeof(err)) < 0 &&
	    strstr(err, pl.segs[1].name) != NULL,
	    "an altered segment is refused, naming it");
	write_file(path, seg_data[1]);

	/* a bad name file */
	snprintf(path, sizeof(path), "%s/%s", dir, SONGDIR_NAME_FILE);
	write_file(path, "no newline");
	ok(songdir_verify(dir, &info, err, sizeof(err)) < 0 &&
	    strstr(err, SONGDIR_NAME_FILE) != NULL, "a song.name without its LF is refused");
	write_file(path, "bad\001name\n");
	ok(songdir_verify(dir, &info, err, sizeof(err)) < 0,
	    "a song.name with a control byte is refused");
	write_file(path, "Blue Monday\n");

	/* a non-canonical playlist */
	snprintf(path, sizeof(path), "%s/%s", dir, PLAYLIST_INDEX_NAME);
	{
		char text[4096];
		size_t n = 0;
		n += (size_t)snprintf(text + n, sizeof(text) - n, "#EXTM3U\n");
		for (int i = 0; i < NSEG; i++)
			n += (size_t)snprintf(text + n, sizeof(text) - n,
			    "#EXTINF:2.5,\n%s\n", pl.segs[i].name);
		write_file(path, text);
	}
	ok(songdir_verify(dir, &info, err, sizeof(err)) < 0 &&
	    strstr(err, "canonical") != NULL, "a playlist not in canonical form is refused");
	unlink(path);
	ok(songdir_verify(dir, &info, err, sizeof(err)) < 0 &&
	    strstr(err, PLAYLIST_INDEX_NAME) != NULL, "a missing index.m3u8 is refused");

	/* the commit never replaces a directory holding something */
	w = songdir_writer_open(dir, "Blue Monday", &pl, err, sizeof(err));
	for (int i = 0; w != NULL && i < NSEG; i++)
		songdir_writer_put(w, (size_t)i, seg_data[i], strlen(seg_data[i]),
		    err, sizeof(err));
	ok(w != NULL && songdir_writer_commit(w, err, sizeof(err)) < 0,
	    "a commit onto a directory holding files fails");
	songdir_writer_abort(w);
	ok(count_entries(base) == 1, "  and the abort removes the temporary directory");
	ok(count_entries(dir) == NSEG + 1, "  leaving the directory as it was");

	/* onto an empty directory, and aborted before any commit */
	snprintf(dir, sizeof(dir), "%s/empty", base);
	mkdir(dir, 0755);
	w = songdir_writer_open(dir, "Empty", &pl, err, sizeof(err));
	for (int i = 0; w != NULL && i < NSEG; i++)
		songdir_writer_put(w, (size_t)i, seg_data[i], strlen(seg_data[i]),
		    err, sizeof(err));
	ok(w != NULL && songdir_writer_commit(w, err, sizeof(err)) == 0,
	    "a commit onto an empty directory succeeds");
	songdir_writer_abort(w);
	ok(songdir_verify(dir, &info, err, sizeof(err)) == 0, "  and it verifies");
	songdir_info_free(&info);
	snprintf(dir, sizeof(dir), "%s/never", base);
	w = songdir_writer_open(dir, "Never", &pl, err, sizeof(err));
	songdir_writer_put(w, 0, seg_data[0], strlen(seg_data[0]), err, sizeof(err));
	songdir_writer_abort(w);
	ok(count_entries(base) == 2 && access(dir, F_OK) < 0,
	    "an aborted writer leaves nothing behind");
	snprintf(path, sizeof(path), "%s/afile", base);
	write_file(path, "x");
	w = songdir_writer_open(path, "A File", &pl, err, sizeof(err));
	for (int i = 0; w != NULL && i < NSEG; i++)
		songdir_writer_put(w, (size_t)i, seg_data[i], strlen(seg_data[i]),
		    err, sizeof(err));
	ok(w != NULL && songdir_writer_commit(w, err, sizeof(err)) < 0,
	    "a commit onto a file fails");
	songdir_writer_abort(w);
	ok(access(path, F_OK) == 0 && count_entries(base) == 3, "  and keeps the file");
	playlist_free(&pl);
}

/* What a killed fetch left beside its final place goes at the next
 * fetch there; a live writer's directory and other names stay. */
static void
test_sweep_stale(void)
{
	struct playlist pl = {0};
	struct songdir_writer *live, *w;
	char parent[PATH_MAX + 16], dir[PATH_MAX + 32], path[PATH_MAX + 64];
	char err[SONGDIR_ERR_LEN];

	make_playlist(&pl);
	snprintf(parent, sizeof(parent), "%s/sweep", base);
	mkdir(parent, 0755);
	snprintf(dir, sizeof(dir), "%s/Song", parent);
	snprintf(path, sizeof(path), "%s/.Song.999999.7.part~", parent);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/.Song.999999.7.part~/a.ts", parent);
	write_file(path, "left");
	snprintf(path, sizeof(path), "%s/.Song.1.x.part~", parent);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/.Songs.5.5.part~", parent);
	mkdir(path, 0700);
	live = songdir_writer_open(dir, "Song", &pl, err, sizeof(err));
	ok(live != NULL, "a writer starts beside a killed fetch's directory");
	snprintf(path, sizeof(path), "%s/.Song.999999.7.part~", parent);
	ok(access(path, F_OK) < 0, "  which it removes, with the file in it");
	snprintf(path, sizeof(path), "%s/.Song.1.x.part~", parent);
	ok(access(path, F_OK) == 0, "  but not a name of another form");
	snprintf(path, sizeof(path), "%s/.Songs.5.5.part~", parent);
	ok(access(path, F_OK) == 0, "  nor one of another song directory");
	ok(count_entries(parent) == 3, "  and makes its own");
	w = songdir_writer_open(dir, "Song", &pl, err, sizeof(err));
	ok(w != NULL && count_entries(parent) == 4,
	    "a second writer there leaves the first one's directory");
	songdir_writer_abort(w);
	songdir_writer_abort(live);
	ok(count_entries(parent) == 2, "  and each abort removes its own");
	playlist_free(&pl);
}

static void
test_name_ok(void)
{
	ok(songdir_name_ok("Blue Monday", 11), "a plain name is a valid song name");
	ok(!songdir_name_ok("", 0), "an empty name is not");
	ok(!songdir_name_ok("a\nb", 3), "a name with LF is not");
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");
	char cmd[PATH_MAX + 16];

	snprintf(base, sizeof(base), "%s/test_songdir.XXXXXX",
	    tmp != NULL && *tmp == '/' ? tmp : "/tmp");
	if (mkdtemp(base) == NULL) {
		printf("Bail out! cannot make a scratch directory\n");
		return 1;
	}
	test_name_ok();
	test_write_and_verify();
	test_sweep_stale();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (tap_failed == 0 && system(cmd) != 0)
		printf("# cannot remove %s\n", base);
	return done_testing();
}
