/* The cost of a fork in ns: the fastest of 200, from the call to its return
 * in the parent. Run as is and under the tracepoints of bench/breakdown.sh,
 * the difference is what the tracing adds to each fork of a traced launch
 * (perf copies its events into every new process). */
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    long best = -1;
    for (int i = 0; i < 200; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (pid < 0) {
            perror("fork_cost: fork");
            return 1;
        }
        waitpid(pid, NULL, 0);
        long ns = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
        if (best < 0 || ns < best)
            best = ns;
    }
    printf("%ld\n", best);
    return 0;
}
