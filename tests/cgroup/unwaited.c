/* CPU time no parent ever waits for: this process ignores SIGCHLD (so the
 * kernel reaps its children without accounting them to anyone), forks a
 * child that burns 1 s of CPU, and exits once the child has (it sees EOF on
 * a pipe only the child holds open: no wait()), and then once the kernel
 * has reaped it (the pipe closes before the child's exit is through: a
 * parent exiting then would leave it to be reparented, and waited for, by
 * the pid namespace's pid 1). */
#include <signal.h>
#include <sys/types.h>
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
