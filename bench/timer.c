/* Wall time of launching commands, interleaved, with identical overhead for
 * each: posix_spawn, then waitpid, timed with CLOCK_MONOTONIC around both.
 *
 * usage: timer N LABEL=ARGFILE...
 *   ARGFILE holds one command's argv, NUL-separated.
 * Runs every command once per round, N rounds, then prints per command:
 *   LABEL median_ms p90_ms runs cpu_ms minflt
 * The wall time ends when the command exits. The timer is a child
 * subreaper: what the command leaves running (a sandbox's pid 1 that ends
 * after the supervisor) comes back to it and is waited for, untimed, before
 * the next command starts. cpu_ms (user + system) and minflt (minor page
 * faults) are medians of what wait4 reports for the command and all those
 * descendants: counts that the other load of a shared machine disturbs far
 * less than wall time.
 * Children get /dev/null on stdin/stdout and keep stderr; only fds 0-2 are
 * inherited. A command exiting non-zero stops the run with status 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct cmd {
    const char *label;
    char **argv;
    long long *ns;
    long long *cpu_ns;
    long long *minflt;
};

static char **read_argv(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "timer: open %s: %s\n", path, strerror(errno));
        exit(2);
    }
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf || len == 0 || buf[len - 1] != '\0') {
        fprintf(stderr, "timer: %s: empty or not NUL-terminated\n", path);
        exit(2);
    }
    size_t words = 0;
    for (size_t i = 0; i < len; i++)
        words += buf[i] == '\0';
    char **argv = calloc(words + 1, sizeof *argv);
    size_t w = 0;
    for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
        argv[w++] = buf + i;
    return argv;
}

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static long long tv_ns(struct timeval t) { return t.tv_sec * 1000000000LL + t.tv_usec * 1000LL; }

static double median_of(long long *v, int n) {
    qsort(v, n, sizeof(long long), cmp_ll);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: timer N LABEL=ARGFILE...\n");
        return 2;
    }
    int rounds = atoi(argv[1]);
    int ncmd = argc - 2;
    struct cmd *cmds = calloc(ncmd, sizeof *cmds);
    for (int i = 0; i < ncmd; i++) {
        char *eq = strchr(argv[i + 2], '=');
        if (!eq || rounds <= 0) {
            fprintf(stderr, "usage: timer N LABEL=ARGFILE...\n");
            return 2;
        }
        *eq = '\0';
        cmds[i].label = argv[i + 2];
        cmds[i].argv = read_argv(eq + 1);
        cmds[i].ns = calloc(rounds, sizeof(long long));
        cmds[i].cpu_ns = calloc(rounds, sizeof(long long));
        cmds[i].minflt = calloc(rounds, sizeof(long long));
    }
    /* Nothing but 0-2 reaches the children. */
    closefrom(3);
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        perror("timer: PR_SET_CHILD_SUBREAPER");
        return 1;
    }

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);

    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < ncmd; i++) {
            int status;
            pid_t pid;
            struct rusage ru;
            long long t0 = now_ns();
            int err = posix_spawn(&pid, cmds[i].argv[0], &fa, NULL, cmds[i].argv, environ);
            if (err) {
                fprintf(stderr, "timer: spawn %s: %s\n", cmds[i].argv[0], strerror(err));
                return 1;
            }
            while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
                ;
            cmds[i].ns[r] = now_ns() - t0;
            cmds[i].cpu_ns[r] = tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
            cmds[i].minflt[r] = ru.ru_minflt;
            /* Orphans of the command, reparented to us. */
            int st;
            while (wait4(-1, &st, 0, &ru) > 0 || errno == EINTR) {
                cmds[i].cpu_ns[r] += tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
                cmds[i].minflt[r] += ru.ru_minflt;
            }
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "timer: %s (%s) failed with wait status 0x%x\n", cmds[i].label,
                        cmds[i].argv[0], status);
                return 1;
            }
        }
    }
    for (int i = 0; i < ncmd; i++) {
        double median = median_of(cmds[i].ns, rounds);
        /* Nearest-rank p90 (ns is sorted now). */
        int p90 = (rounds * 9 + 9) / 10 - 1;
        printf("%s %.3f %.3f %d %.3f %.0f\n", cmds[i].label, median / 1e6, cmds[i].ns[p90] / 1e6,
               rounds, median_of(cmds[i].cpu_ns, rounds) / 1e6, median_of(cmds[i].minflt, rounds));
    }
    return 0;
}
