/* client.h - what every module of the client shares: the stop flag and
 * the room for a failure reason. Each module has its own header. */
#ifndef P2PM_CLIENT_H
#define P2PM_CLIENT_H

#include <signal.h>

/* room for one failure reason */
#define CLIENT_ERR_LEN 512

/* Set by the SIGINT/SIGTERM handler; long operations stop when they see it. */
extern volatile sig_atomic_t client_stop;

#endif
