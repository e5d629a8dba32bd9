/* A fork bomb, bounded so that it cannot harm the machine even where no
 * limit holds it: every process keeps trying to fork (retrying every 10 ms
 * when fork fails) until it has two children, down to depth 9, so at most
 * 1023 processes. The first process only watches: for SECONDS it counts the
 * processes in its pid namespace (/proc), then prints the most it saw and
 * whether its own fork fails, and exits (pid 1 then ends the rest).
 * With "ignore-term", every process ignores SIGTERM.
 * usage: bomb SECONDS [ignore-term] */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void grow(int depth) {
    int children = 0;
    while (depth < 9 && children < 2) {
        pid_t p = fork();
        if (p == 0) {
            depth++;
            children = 0;
        } else if (p > 0) {
            children++;
        } else {
            usleep(10000);
        }
    }
    for (;;)
        pause();
}

static int count_procs(void) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
            n++;
    closedir(d);
    return n;
}

int main(int argc, char **argv) {
    double secs = argc > 1 ? atof(argv[1]) : 2;
    struct timespec start, now;
    int max = 0;
    if (argc > 2 && !strcmp(argv[2], "ignore-term"))
        signal(SIGTERM, SIG_IGN);
    if (fork() == 0)
        grow(0);
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        int n = count_procs();
        if (n > max)
            max = n;
        usleep(50000);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 < secs);
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    printf("max=%d\nfork=%s\n", max, p < 0 ? strerror(errno) : "ok");
    return 0;
}
