/* defaults.h - the addresses the programs use when not told otherwise. */
#ifndef P2PM_DEFAULTS_H
#define P2PM_DEFAULTS_H

/* where the tracker listens, and where the peer and client look for it */
#define P2PM_DEFAULT_TRACKER "127.0.0.1:7700"
/* the environment variable naming the tracker for the peer and client;
 * -t wins over it */
#define P2PM_TRACKER_ENV "P2P_MUSIC_TRACKER"
/* where the peer listens */
#define P2PM_DEFAULT_PEER "127.0.0.1:7701"

#endif
