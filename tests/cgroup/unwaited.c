/* CPU time no parent ever waits for: this process ignores SIGCHLD (so the
 * kernel reaps its children without accounting them to anyone), forks a
 * child that burns 1 s of CPU, and exits once the child has (it sees EOF on
 * a pipe only the child holds open: no wait()). EOF comes while the child
 * is still exiting: this process stays until the child is gone for good
 * (kill() says ESRCH once the kernel has reaped it), or the child would be
 * reparented and its parent's new parent would wait for it and count it. */
#include <signal.h>
#include <time.h>
#include <unistd.h>

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void) {
    int p[2];
    char c;
    signal(SIGCHLD, SIG_IGN);
    if (pipe(p) != 0)
        return 1;
    pid_t child = fork();
    if (child < 0)
        return 1;
    if (child == 0) {
        volatile unsigned long n = 0;
        close(p[0]);
        while (cpu_seconds() < 1.0)
            n++;
        _exit(0);
    }
    close(p[1]);
    while (read(p[0], &c, 1) > 0)
        ;
    while (kill(child, 0) == 0)
        usleep(1000);
    return 0;
}
