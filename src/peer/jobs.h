/* jobs.h - the pool that prepares songs in the background: content key,
 * cache or ffmpeg, then index and tracker. */
#ifndef P2PM_PEER_JOBS_H
#define P2PM_PEER_JOBS_H

#include "announce.h"
#include "cache.h"
#include "index.h"

#define JOBS_DEFAULT_THREADS 2
#define JOBS_MAX_THREADS 64
#define JOBS_THREAD_STACK (256 * 1024)
/* segmenting again a file that changed under ffmpeg, at most this often */
#define JOBS_CHANGED_RETRIES 2

struct jobs;

/* Starts nthreads workers. Call with signals blocked. ffmpeg is the path
 * of the ffmpeg executable. Returns NULL if no worker could start. */
struct jobs *jobs_start(int nthreads, const char *ffmpeg, struct cache *cache,
    struct index *idx, struct announcer *ann);

/* Queues the song name from file path for preparation. Returns -1 if out
 * of memory. */
int jobs_add(struct jobs *j, const char *name, const char *path);

/* Stops the workers: queued songs are dropped and a running ffmpeg is
 * killed. Waits for the workers and frees j. */
void jobs_stop(struct jobs *j);

#endif
