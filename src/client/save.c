/* save.c - the save command: a song as one ordinary audio file (.mp3 for
 * an MP3 stream, .m4a for AAC), remuxed by ffmpeg without re-encoding.
 * The song's bytes come through the same path as cat's (the failover
 * fetch into an outstream), here the pipe to ffmpeg's stdin; the codec is
 * read by ffprobe from the first segment before ffmpeg starts. Every
 * segment must be whole MPEG-TS packets before either program sees it, and
 * both are told the format and the one protocol they may read, so that
 * bytes a peer chose (a playlist, a concat list) are never taken for
 * something that makes them open other files or addresses. The file is
 * written under a temporary name beside its final one, checked with
 * ffprobe, and renamed into place only when whole. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "p2pm/fsname.h"
#include "p2pm/log.h"
#include "p2pm/mpegts.h"
#include "p2pm/pathsearch.h"
#include "outdir.h"
#include "outstream.h"
#include "save.h"

/* the programs run (found in PATH, provided by the ffmpeg package) */
#define SAVE_FFMPEG "ffmpeg"
#define SAVE_FFPROBE "ffprobe"
/* the format and the protocol of the song's bytes, given to both programs */
#define SAVE_STREAM_FORMAT "mpegts"
#define SAVE_STREAM_PROTOCOL "pipe"
#define SAVE_STREAM_URL "pipe:0"
/* the protocol of the file written and read back */
#define SAVE_FILE_PROTOCOL "file"
/* room for ffprobe's answer (a codec name) */
#define SAVE_PROBE_OUT 64
/* the longest base name of the file, leaving room for the extension and
 * the temporary name's dot and suffix */
#define SAVE_BASE_MAX (FSNAME_MAX - 16)
/* the temporary name: ".<base>.part~", as fetch's output directory does */
#define SAVE_TMP_FMT "%s.%s.part~"
/* room for "key=value" of one tag given to ffmpeg */
#define SAVE_META_LEN (CLIENT_MAX_TAG + 16)
/* most words in an ffmpeg command line built here */
#define SAVE_MAX_ARGS 32
/* room for why a segment is not MPEG-TS */
#define SAVE_WHY_LEN 128

/* what each codec becomes */
static const struct save_format {
	const char *codec;	/* as ffprobe names it */
	const char *ext;	/* the file's extension */
	const char *muxer;	/* ffmpeg's -f */
	const char *demuxer;	/* ffprobe's -f, reading the file back */
	const char *bsf;	/* bitstream filter for the container, or NULL */
} save_formats[] = {
	{ "mp3", ".mp3", "mp3", "mp3", NULL },
	{ "aac", ".m4a", "ipod", "mov", "aac_adtstoasc" },
};

struct save_job {
	const struct client_opts *o;
	const char *song;
	struct outstream os;
	struct fetch_sink stream;	/* cat's sink, writing into ffmpeg */
	const struct save_format *format;
	pid_t ffmpeg;
	char dir[PATH_MAX];		/* "" or a directory ending in '/' */
	char base[FSNAME_MAX + 1];	/* the final name's last part */
	int base_given;			/* -o named the file (keep its name) */
	char final[PATH_MAX], tmp[PATH_MAX];
	struct song_entry tags;		/* from the tracker's LIST, if any */
	size_t segments;		/* in the playlist */
	int not_ts;			/* a segment was not MPEG-TS */
};

/* Starts argv[0] (searched in PATH) with stdin from in_fd and stdout to
 * out_fd (-1: the client's own); stderr is the client's. Returns the pid,
 * or -1 with errno set. */
static pid_t
save_spawn(char *const argv[], int in_fd, int out_fd)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in_fd, STDIN_FILENO) < 0 ||
	    (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0))
		_exit(127);
	execvp(argv[0], argv);
	_exit(127);
}

/* Waits for pid; returns its exit status, 128+signal, or -1. */
static int
save_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

/* Runs ffprobe for the codec of the first audio stream of input (len
 * bytes of MPEG-TS written to its stdin) or, with input NULL, of the file
 * url in the format demuxer. Puts the codec name into codec. Returns 0, or
 * -1 (logged). */
static int
save_probe(const char *input, size_t len, const char *url,
    const char *demuxer, char *codec, size_t codeclen)
{
	char *argv[] = { (char *)SAVE_FFPROBE, (char *)"-v", (char *)"error",
	    (char *)"-select_streams", (char *)"a:0", (char *)"-show_entries",
	    (char *)"stream=codec_name", (char *)"-of", (char *)"csv=p=0",
	    (char *)"-protocol_whitelist",
	    (char *)(url ? SAVE_FILE_PROTOCOL : SAVE_STREAM_PROTOCOL),
	    (char *)"-f", (char *)(url ? demuxer : SAVE_STREAM_FORMAT),
	    (char *)"-i", (char *)(url ? url : SAVE_STREAM_URL), NULL };
	int in[2], out[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	pid = save_spawn(argv, in[0], out[1]);
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		log_error("cannot run %s: %s", SAVE_FFPROBE, strerror(errno));
		close(in[1]);
		close(out[0]);
		return -1;
	}
	/* ffprobe answers a few bytes, so writing all first cannot block it;
	 * it may stop reading once it knows (EPIPE), which is fine */
	if (input != NULL)
		(void)net_write_all(in[1], input, len);
	close(in[1]);
	while (got < codeclen - 1 &&
	    ((n = read(out[0], codec + got, codeclen - 1 - got)) > 0 ||
	    (n < 0 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	close(out[0]);
	codec[got] = '\0';
	codec[strcspn(codec, "\r\n,")] = '\0';
	status = save_wait(pid);
	if (status != 0 || codec[0] == '\0') {
		log_error("%s found no audio stream in %s (exit status %d)",
		    SAVE_FFPROBE, url ? "the saved file" : "the song's first segment",
		    status);
		return -1;
	}
	return 0;
}

/* Sets the final and temporary paths for the chosen format, creating the
 * missing directories above them (as fetch -o does). */
static int
save_paths(struct save_job *job)
{
	const char *ext = job->base_given ? "" : job->format->ext;

	if ((size_t)snprintf(job->final, sizeof(job->final), "%s%s%s", job->dir,
	    job->base, ext) >= sizeof(job->final) ||
	    (size_t)snprintf(job->tmp, sizeof(job->tmp), SAVE_TMP_FMT, job->dir,
	    job->base) >= sizeof(job->tmp)) {
		log_error("output path too long");
		return -1;
	}
	if (outdir_make_parents(job->final) < 0) {
		log_error("cannot create the directories of '%s': %s", job->final,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Starts ffmpeg remuxing its stdin into the temporary file; job->os.fd
 * becomes the pipe to it. Returns 0, or -1 (logged). */
static int
save_start_ffmpeg(struct save_job *job)
{
	char title[SAVE_META_LEN], artist[SAVE_META_LEN], album[SAVE_META_LEN];
	char url[PATH_MAX + 8];
	char *argv[SAVE_MAX_ARGS];
	int n = 0, data[2];

	snprintf(url, sizeof(url), "file:%s", job->tmp);
	snprintf(title, sizeof(title), "title=%s", job->tags.title ?
	    job->tags.title : job->song);
	argv[n++] = (char *)SAVE_FFMPEG;
	argv[n++] = (char *)"-v";
	argv[n++] = (char *)"error";
	argv[n++] = (char *)"-protocol_whitelist";
	argv[n++] = (char *)SAVE_STREAM_PROTOCOL;
	argv[n++] = (char *)"-f";
	argv[n++] = (char *)SAVE_STREAM_FORMAT;
	argv[n++] = (char *)"-i";
	argv[n++] = (char *)SAVE_STREAM_URL;
	argv[n++] = (char *)"-map";
	argv[n++] = (char *)"0:a:0";
	argv[n++] = (char *)"-c";
	argv[n++] = (char *)"copy";
	if (job->format->bsf != NULL) {
		argv[n++] = (char *)"-bsf:a";
		argv[n++] = (char *)job->format->bsf;
	}
	argv[n++] = (char *)"-metadata";
	argv[n++] = title;
	if (job->tags.artist != NULL) {
		snprintf(artist, sizeof(artist), "artist=%s", job->tags.artist);
		argv[n++] = (char *)"-metadata";
		argv[n++] = artist;
	}
	if (job->tags.album != NULL) {
		snprintf(album, sizeof(album), "album=%s", job->tags.album);
		argv[n++] = (char *)"-metadata";
		argv[n++] = album;
	}
	argv[n++] = (char *)"-protocol_whitelist";
	argv[n++] = (char *)SAVE_FILE_PROTOCOL;
	argv[n++] = (char *)"-f";
	argv[n++] = (char *)job->format->muxer;
	argv[n++] = (char *)"-y";
	argv[n++] = url;
	argv[n] = NULL;

	if (pipe2(data, O_CLOEXEC) < 0) {
		log_error("cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	job->ffmpeg = save_spawn(argv, data[0], -1);
	close(data[0]);
	if (job->ffmpeg < 0) {
		log_error("cannot run %s: %s", SAVE_FFMPEG, strerror(errno));
		close(data[1]);
		return -1;
	}
	job->os.fd = data[1];
	log_debug("%s remuxing into %s", SAVE_FFMPEG, job->tmp);
	return 0;
}

static int
save_sink_start(void *ctx, const struct playlist *playlist,
    const char *content_id)
{
	struct save_job *job = ctx;

	job->segments = playlist->count;
	return job->stream.start(job->stream.ctx, playlist, content_id);
}

/* Every segment must be whole MPEG-TS packets (the bytes hash to their
 * names, so every source of the song holds the same: the song itself is
 * refused). The first tells the codec; then ffmpeg starts, and every
 * segment goes to it as cat writes them. */
static int
save_sink_segment(void *ctx, size_t index, const char *data, size_t len)
{
	struct save_job *job = ctx;
	char why[SAVE_WHY_LEN];

	if (mpegts_check(data, len, why, sizeof(why)) < 0) {
		log_error("'%s' is not an MPEG-TS stream (segment %zu/%zu: %s); "
		    "refused", job->song, index + 1, job->segments, why);
		job->not_ts = 1;
		return -1;
	}
	if (job->ffmpeg < 0) {
		char codec[SAVE_PROBE_OUT];

		if (save_probe(data, len, NULL, NULL, codec, sizeof(codec)) < 0)
			return -1;
		for (size_t i = 0; i < sizeof(save_formats) / sizeof(save_formats[0]); i++)
			if (strcmp(codec, save_formats[i].codec) == 0)
				job->format = &save_formats[i];
		if (job->format == NULL) {
			log_error("cannot save a stream of codec '%s' without "
			    "re-encoding it (MP3 and AAC only)", codec);
			return -1;
		}
		if (save_paths(job) < 0 || save_start_ffmpeg(job) < 0)
			return -1;
	}
	return job->stream.segment(job->stream.ctx, index, data, len);
}

static int
save_sink_finish(void *ctx)
{
	struct save_job *job = ctx;

	return job->stream.finish(job->stream.ctx);
}

/* Splits -o (or, without it, the song's name made safe) into the
 * directory and base name of the file. An existing directory given to -o
 * gets the file inside it, under the song's name. */
static int
save_target(struct save_job *job)
{
	const char *out = job->o->outdir, *slash;
	struct stat st;

	if (out == NULL || (stat(out, &st) == 0 && S_ISDIR(st.st_mode))) {
		if (out != NULL && snprintf(job->dir, sizeof(job->dir), "%s%s", out,
		    out[strlen(out) - 1] == '/' ? "" : "/") >= (int)sizeof(job->dir)) {
			log_error("output path too long");
			return -1;
		}
		fsname_from_song(job->song, job->base, SAVE_BASE_MAX + 1);
		return 0;
	}
	slash = strrchr(out, '/');
	if (slash != NULL && slash[1] == '\0') {
		log_error("'%s': no such directory", out);
		return -1;
	}
	if (slash != NULL) {
		if ((size_t)(slash - out + 1) >= sizeof(job->dir)) {
			log_error("output path too long");
			return -1;
		}
		memcpy(job->dir, out, (size_t)(slash - out + 1));
		job->dir[slash - out + 1] = '\0';
	}
	if (strlen(slash ? slash + 1 : out) > SAVE_BASE_MAX) {
		log_error("output file name too long");
		return -1;
	}
	snprintf(job->base, sizeof(job->base), "%s", slash ? slash + 1 : out);
	job->base_given = 1;
	return 0;
}

/* Looks the song's tags up in the tracker's LIST (not with -p: then no
 * tracker is asked). Missing tags are not an error. */
static void
save_lookup_tags(struct save_job *job)
{
	struct song_list songs;
	char err[CLIENT_ERR_LEN];

	job->tags.duration_ms = -1;
	if (job->o->peers.count > 0)
		return;
	if (tracker_list(&job->o->trackers, job->song, job->o->timeout_ms, &songs,
	    err, sizeof(err)) < 0) {
		log_debug("no tags for '%s': %s", job->song, err);
		return;
	}
	for (size_t i = 0; i < songs.count; i++) {
		struct song_entry *e = &songs.songs[i];
		if (strcmp(e->name, job->song) != 0)
			continue;
		job->tags.artist = e->artist;
		job->tags.album = e->album;
		job->tags.title = e->title;
		e->artist = e->album = e->title = NULL;
		break;
	}
	song_list_free(&songs);
}

int
cmd_save(const struct client_opts *o, const char *asked)
{
	char name[PROTO_MAX_NAME + 1];
	const char *song = cmd_song_name(o, asked, name);
	struct save_job job;
	struct fetch_report rep;
	struct fetch_sink sink;
	enum fetch_result result;
	char full[PATH_MAX], codec[SAVE_PROBE_OUT], url[PATH_MAX + 8];
	int rc, status = 0;

	memset(&job, 0, sizeof(job));
	job.o = o;
	job.song = song;
	job.ffmpeg = -1;
	job.os.fd = -1;
	if (pathsearch_find(SAVE_FFMPEG, full, sizeof(full)) < 0 ||
	    pathsearch_find(SAVE_FFPROBE, full, sizeof(full)) < 0) {
		log_error("save needs ffmpeg and ffprobe; install them with: "
		    "apt-get install ffmpeg");
		return CLIENT_EXIT_LOCAL;
	}
	if (save_target(&job) < 0)
		return CLIENT_EXIT_LOCAL;
	save_lookup_tags(&job);

	/* cat's path, with the pipe to ffmpeg as its output */
	outstream_sink(&job.os, &job.stream);
	sink.start = save_sink_start;
	sink.segment = save_sink_segment;
	sink.finish = save_sink_finish;
	sink.in_order = 1;
	sink.ctx = &job;
	rc = cmd_swarm(o, song, &sink, &rep, &result);
	if (job.os.fd >= 0)
		close(job.os.fd);
	if (job.ffmpeg > 0) {
		if (result != FETCH_DONE)
			kill(job.ffmpeg, SIGTERM);
		status = save_wait(job.ffmpeg);
	}
	if (result == FETCH_DONE && job.ffmpeg > 0 && status != 0) {
		log_error("%s could not write '%s' (exit status %d)", SAVE_FFMPEG,
		    job.final, status);
		rc = CLIENT_EXIT_LOCAL;
	} else if (result == FETCH_OUTPUT_CLOSED) {
		log_error("%s stopped reading the song", SAVE_FFMPEG);
		rc = CLIENT_EXIT_LOCAL;
	} else if (job.not_ts) {
		rc = CLIENT_EXIT_NOT_FOUND;
	} else if ((result != FETCH_DONE || job.ffmpeg < 0) && rc == CLIENT_EXIT_OK)
		rc = CLIENT_EXIT_LOCAL;
	/* checked before it takes its name: ffprobe reads the codec back */
	if (rc == CLIENT_EXIT_OK) {
		snprintf(url, sizeof(url), "file:%s", job.tmp);
		if (save_probe(NULL, 0, url, job.format->demuxer, codec,
		    sizeof(codec)) < 0 ||
		    strcmp(codec, job.format->codec) != 0) {
			log_error("the saved file does not read back as %s",
			    job.format->codec);
			rc = CLIENT_EXIT_LOCAL;
		} else if (rename(job.tmp, job.final) < 0) {
			log_error("cannot rename '%s' to '%s': %s", job.tmp, job.final,
			    strerror(errno));
			rc = CLIENT_EXIT_LOCAL;
		}
	}
	if (rc != CLIENT_EXIT_OK && job.ffmpeg > 0)
		unlink(job.tmp);
	song_entry_clear(&job.tags);
	if (rc == CLIENT_EXIT_OK && !o->quiet) {
		long secs = (rep.duration_ms + 500) / 1000;
		printf("saved '%s' as '%s' (%s, %ld:%02ld)\n", song, job.final,
		    job.format->codec, secs / 60, secs % 60);
	}
	if (rc == CLIENT_EXIT_OK && fflush(stdout) != 0)
		rc = CLIENT_EXIT_LOCAL;
	return rc;
}
