/* Work spread over the sandbox's processes, none of them the first: a
 * grandchild burns 1 s of CPU, a child touches 100 MiB.
 * "hang S": ignore SIGTERM, burn S seconds of CPU, then wait forever. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void burn(double seconds) {
    volatile unsigned long n = 0;
    while (cpu_seconds() < seconds)
        n++;
}

int main(int argc, char **argv) {
    if (argc > 2 && !strcmp(argv[1], "hang")) {
        signal(SIGTERM, SIG_IGN);
        burn(atof(argv[2]));
        for (;;)
            pause();
    }
    pid_t a = fork();
    if (a == 0) {
        pid_t b = fork();
        if (b == 0) {
            burn(1.0);
            _exit(0);
        }
        waitpid(b, NULL, 0);
        _exit(0);
    }
    pid_t c = fork();
    if (c == 0) {
        size_t size = 100 << 20;
        /* volatile: the compiler must not drop the allocation. */
        volatile char *p = malloc(size);
        if (!p)
            _exit(1);
        for (size_t i = 0; i < size; i += 4096)
            p[i] = 1;
        _exit(p[size / 2] == 1 ? 0 : 1);
    }
    int st1 = 0, st2 = 0;
    waitpid(a, &st1, 0);
    waitpid(c, &st2, 0);
    return st1 || st2;
}
