/* CPU time no parent ever waits for: this process ignores SIGCHLD (so the
 * kernel reaps its children without accounting them to anyone), forks a
 * child that burns 1 s of CPU, sleeps while it does, and exits. */
#include <signal.h>
#include <time.h>
#include <unistd.h>

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void) {
    signal(SIGCHLD, SIG_IGN);
    if (fork() == 0) {
        volatile unsigned long n = 0;
        while (cpu_seconds() < 1.0)
            n++;
        _exit(0);
    }
    /* Long enough for the child to finish on a busy machine. */
    sleep(3);
    return 0;
}
