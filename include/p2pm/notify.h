/* notify.h - telling a service manager that a daemon is ready: the
 * sd_notify protocol, which is one datagram of "KEY=value" lines to the
 * AF_UNIX socket named in $NOTIFY_SOCKET (a path, or '@' for an abstract
 * name). Written by hand: no libsystemd. Nothing here exits or prints. */
#ifndef P2PM_NOTIFY_H
#define P2PM_NOTIFY_H

#include <stddef.h>

#define NOTIFY_SOCKET_ENV "NOTIFY_SOCKET"
/* longest state text sent, in bytes */
#define NOTIFY_MAX_STATE 1024

/* Sends state ("READY=1\nSTATUS=...") to $NOTIFY_SOCKET. Returns 1 when
 * the variable is unset or empty (not run by a service manager: nothing
 * to do), 0 when the datagram went out, -1 with a reason in err when the
 * variable is malformed or sending failed. */
int notify_send(const char *state, char *err, size_t errlen);

#endif
