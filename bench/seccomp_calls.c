/* Time N getppid() and M stat() calls: prints ns per call for each.
   Used by bench/seccomp.sh inside sandboxes with different filters. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 10000000;
    long m = argc > 2 ? atol(argv[2]) : 1000000;
    double t0 = now_ns();
    for (long i = 0; i < n; i++) syscall(SYS_getppid);
    double t1 = now_ns();
    struct stat st;
    for (long i = 0; i < m; i++) stat("/usr/bin", &st);
    double t2 = now_ns();
    printf("%.1f %.1f\n", (t1 - t0) / n, (t2 - t1) / m);
    return 0;
}
