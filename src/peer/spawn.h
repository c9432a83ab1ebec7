/* spawn.h - starting ffmpeg: fork/exec, no shell, in a process
 * group of their own and dying with the peer. */
#ifndef P2PM_PEER_SPAWN_H
#define P2PM_PEER_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/* Starts the program at path with argv (argv[0] first, NULL last): stdin
 * on /dev/null, the descriptor piped_fd (STDOUT_FILENO or STDERR_FILENO)
 * on a pipe whose reading end goes to *readfd, the other of the two on
 * /dev/null, and, when input_fd >= 0, that open file as descriptor
 * input_as, in the directory dir (NULL: the peer's own). The child runs
 * in a process group of its own (a Ctrl-C at the
 * terminal reaches the peer, which stops it itself), gets SIGKILL when the
 * peer dies, and starts with no signal blocked and SIGPIPE at its default.
 * Returns its pid (the caller waits for it and closes *readfd), or -1 with
 * a reason in why. */
pid_t spawn_child(const char *path, char *const argv[], const char *dir,
    int piped_fd, int input_fd, int input_as, int *readfd, char *why,
    size_t whylen);

#endif
