/* The cost of the cheapest system call (getppid, mean over N calls) and of
 * a fork (the fastest of 200: fork to its return in the parent), in ns, on
 * one line. Run as is and under the tracepoints of bench/breakdown.sh, the
 * differences are what the tracing adds to each system call and to each
 * fork (perf copies its events into every new process) of a traced launch. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 20000;
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        getppid();
    double call = (now_ns() - t0) / n;
    double fork_best = 1e18;
    for (int i = 0; i < 200; i++) {
        double a = now_ns();
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        double b = now_ns() - a;
        if (pid < 0) {
            perror("syscall_cost: fork");
            return 1;
        }
        waitpid(pid, NULL, 0);
        if (b < fork_best)
            fork_best = b;
    }
    printf("%.1f %.1f\n", call, fork_best);
    return 0;
}
