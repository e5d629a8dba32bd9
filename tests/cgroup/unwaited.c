/* CPU time no parent ever waits for: this process ignores SIGCHLD (so the
 * kernel reaps its children without accounting them to anyone), forks a
 * child that burns 1 s of CPU, and exits only once the kernel has reaped
 * it. With SIGCHLD ignored, wait() accounts nothing: it blocks until no
 * child is left, then fails with ECHILD. (EOF on a pipe the child held was
 * too early: a child closes its fds before the kernel decides, at its
 * parent, whether to reap it; had this process exited in between, the
 * child went to pid 1, which waited for it and so counted its CPU.) */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void) {
    signal(SIGCHLD, SIG_IGN);
    pid_t child = fork();
    if (child < 0)
        return 1;
    if (child == 0) {
        volatile unsigned long n = 0;
        while (cpu_seconds() < 1.0)
            n++;
        _exit(0);
    }
    while (wait(NULL) >= 0 || errno == EINTR)
        ;
    return errno == ECHILD ? 0 : 1;
}
