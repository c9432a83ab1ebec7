/* jobs.h - the pool that prepares songs in the background: content key,
 * cache or ffmpeg, then index and tracker. */
#ifndef P2PM_PEER_JOBS_H
#define P2PM_PEER_JOBS_H

#include "announce.h"
#include "cache.h"
#include "index.h"
#include "library.h"
#include "names.h"
#include "shared.h"

#define JOBS_DEFAULT_THREADS 2
#define JOBS_MAX_THREADS 64
#define JOBS_THREAD_STACK (256 * 1024)
/* kb/s of the AAC other audio is encoded to (--aac-bitrate), and its bounds */
#define JOBS_DEFAULT_AAC_KBPS 192
#define JOBS_MIN_AAC_KBPS 32
#define JOBS_MAX_AAC_KBPS 512
/* while songs become ready, a REGISTER at most this often, in ms */
#define JOBS_ANNOUNCE_MS 1000
/* a progress line while songs are prepared this often, in ms */
#define JOBS_PROGRESS_MS 5000
/* segmenting again a file that changed under ffmpeg, at most this often */
#define JOBS_CHANGED_RETRIES 2

struct jobs;

/* Starts nthreads workers. Call with signals blocked. ffmpeg is the path
 * of that executable; audio other than MP3 and AAC is
 * encoded to AAC at aac_kbps kb/s; song directories are checked through
 * sh; what the tags of song files of the -L trees name them goes to names. With keep_cache, cache sweeps remove nothing and only log what they
 * would have removed. Returns NULL if no worker could start. */
struct jobs *jobs_start(int nthreads, const char *ffmpeg, int aac_kbps, struct cache *cache, struct index *idx, struct announcer *ann,
    struct shared *sh, struct names *names, int keep_cache);

/* Queues the song name from path (a song file, or a song directory
 * served in place, as kind says; tagged for a file named by its tags, see
 * names.h; pathname, if not NULL, the name its path gives it, registered
 * as its alias when it differs from name) for preparation. Returns -1 if
 * out of memory. */
int jobs_add(struct jobs *j, const char *name, const char *path,
    enum library_kind kind, int tagged, const char *pathname);

/* Has the announcer register what is ready: at once when no song is
 * being prepared or JOBS_ANNOUNCE_MS have passed since the last time,
 * else when the next song is done or the queue drains, whichever comes
 * first after that. Lock not held; any thread. */
void jobs_announce(struct jobs *j);

/* Asks for one sweep of the cache (evict_unused with what the index still
 * uses) as soon as every queued song is ready or has failed. Songs queued
 * meanwhile are prepared first; a sweep under way when one is queued is
 * cut short and done again later. */
void jobs_sweep_when_idle(struct jobs *j);

/* How many songs renamed by their tags (each logged once, when its tags
 * were read) have not been queued again under their names yet: a look at
 * the library that finds only them need not say the library changed. */
size_t jobs_renames_pending(struct jobs *j);

/* Called by each look at the library before it queues its songs: until
 * jobs_rescanned, the batch is not taken for drained (workers may empty
 * the queue between two songs queued). */
void jobs_look_begins(struct jobs *j);

/* Called by each look at the library, after its songs are queued (found,
 * how many song files it queued): one that queued none has left no rename
 * pending. Logs the batch's last progress line if it was only waiting for
 * renamed songs or for the look. */
void jobs_rescanned(struct jobs *j, size_t found);

/* Stops the workers: queued songs are dropped and a running ffmpeg is
 * killed. Waits for the workers and frees j. */
void jobs_stop(struct jobs *j);

#endif
