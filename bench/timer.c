/* Wall time of launching commands, interleaved, with identical overhead for
 * each: posix_spawn, then waitpid, timed with CLOCK_MONOTONIC around both.
 *
 * usage: timer N LABEL=ARGFILE...
 *   ARGFILE holds one command's argv, NUL-separated.
 * Runs every command once per round, N rounds, then prints per command:
 *   LABEL median_ms p90_ms runs
 * Children get /dev/null on stdin/stdout and keep stderr; only fds 0-2 are
 * inherited. A command exiting non-zero stops the run with status 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct cmd {
    const char *label;
    char **argv;
    long long *ns;
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
    }
    /* Nothing but 0-2 reaches the children. */
    closefrom(3);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);

    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < ncmd; i++) {
            int status;
            pid_t pid;
            long long t0 = now_ns();
            int err = posix_spawn(&pid, cmds[i].argv[0], &fa, NULL, cmds[i].argv, environ);
            if (err) {
                fprintf(stderr, "timer: spawn %s: %s\n", cmds[i].argv[0], strerror(err));
                return 1;
            }
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            cmds[i].ns[r] = now_ns() - t0;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "timer: %s (%s) failed with wait status 0x%x\n", cmds[i].label,
                        cmds[i].argv[0], status);
                return 1;
            }
        }
    }
    for (int i = 0; i < ncmd; i++) {
        qsort(cmds[i].ns, rounds, sizeof(long long), cmp_ll);
        double median = rounds % 2 ? cmds[i].ns[rounds / 2]
                                   : (cmds[i].ns[rounds / 2 - 1] + cmds[i].ns[rounds / 2]) / 2.0;
        /* Nearest-rank p90. */
        int p90 = (rounds * 9 + 9) / 10 - 1;
        printf("%s %.3f %.3f %d\n", cmds[i].label, median / 1e6, cmds[i].ns[p90] / 1e6, rounds);
    }
    return 0;
}
