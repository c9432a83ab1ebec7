/* spawn.c - starting ffmpeg in a process group of its own. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "spawn.h"

pid_t
spawn_child(const char *path, char *const argv[], const char *dir,
    int piped_fd, int input_fd, int input_as, int *readfd, char *why,
    size_t whylen)
{
	int pipefd[2], devnull, quiet_fd;
	sigset_t none;
	struct sigaction dfl;
	pid_t pid, parent = getpid();

	quiet_fd = piped_fd == STDOUT_FILENO ? STDERR_FILENO : STDOUT_FILENO;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0) {
		snprintf(why, whylen, "cannot open /dev/null: %s", strerror(errno));
		return -1;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		close(devnull);
		return -1;
	}
	/* prepared before fork: the child only calls async-signal-safe functions */
	sigemptyset(&none);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);

	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		close(devnull);
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(126);
		sigaction(SIGPIPE, &dfl, NULL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(devnull, STDIN_FILENO) < 0 || dup2(devnull, quiet_fd) < 0 ||
		    dup2(pipefd[1], piped_fd) < 0)
			_exit(126);
		/* dup2 clears close-on-exec, but not onto the same number */
		if (input_fd >= 0 && (input_fd == input_as ?
		    fcntl(input_fd, F_SETFD, 0) < 0 : dup2(input_fd, input_as) < 0))
			_exit(126);
		if (dir != NULL && chdir(dir) < 0)
			_exit(126);
		execv(path, argv);
		_exit(127);
	}
	/* also here, so that the group exists before any kill */
	setpgid(pid, pid);
	close(pipefd[1]);
	close(devnull);
	*readfd = pipefd[0];
	return pid;
}
