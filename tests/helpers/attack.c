/* Attacks on sandwrap's own processes, run as the sandboxed command.
 *
 *   attack caller PROGRAM ARGS...   outside: a new process group, then
 *       PROGRAM as a child with SANDWRAP_SUPERVISOR_PID (the child's pid:
 *       PROGRAM is execed there) and ATTACK_CALLER_PID set; reports how
 *       the child ended and that the caller is still alive.
 *   attack inside [--kill] TARGET... inside: try to take over each target
 *       (a pid, "ppid", or "env:NAME") through procfs at $ATTACK_PROC
 *       (default /proc); with --kill, then SIGKILL each target,
 *       kill(-1, SIGKILL) and kill(0, SIGKILL).
 *   attack mounts DIR COVERED     inside, with CAP_SYS_ADMIN: make the
 *       read-only bind DIR writable and write DIR/f; unmount or move the
 *       mount on COVERED and look for COVERED/secret beneath.
 *
 * Each attempt prints one line: "blocked NAME PID: why" or "ESCAPE NAME
 * PID: what worked". Lines are written unbuffered, so they survive the
 * final kill(0).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static int escapes;
static const char *procdir = "/proc";

static void say(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof buf - 2)
        n = sizeof buf - 2;
    buf[n++] = '\n';
    (void)!write(1, buf, n);
}

/* r < 0: blocked with errno; else the attack worked. */
static void result(const char *name, int pid, long r, const char *detail)
{
    if (r < 0) {
        say("blocked %s %d: %s", name, pid, strerror(errno));
    } else {
        escapes++;
        say("ESCAPE %s %d: %s", name, pid, detail);
    }
}

static void try_open(const char *name, int pid, const char *what, int flags)
{
    char path[64];
    snprintf(path, sizeof path, "%s/%d/%s", procdir, pid, what);
    int fd = open(path, flags);
    result(name, pid, fd, path);
    if (fd >= 0)
        close(fd);
}

/* Some files check at read time: the attack works if a byte comes back. */
static void try_read(const char *name, int pid, const char *what)
{
    char path[64], byte;
    snprintf(path, sizeof path, "%s/%d/%s", procdir, pid, what);
    int fd = open(path, O_RDONLY);
    long r = fd < 0 ? -1 : read(fd, &byte, 1);
    if (r == 0) {
        r = -1;
        errno = ENODATA;
    }
    result(name, pid, r, path);
    if (fd >= 0)
        close(fd);
}

static void attack_fds(int pid)
{
    char dir[64];
    snprintf(dir, sizeof dir, "%s/%d/fd", procdir, pid);
    DIR *d = opendir(dir);
    if (!d) {
        result("fd-list", pid, -1, dir);
        return;
    }
    int tried = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[320], name[300];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        snprintf(name, sizeof name, "fd-%s", e->d_name);
        char link[256];
        ssize_t n = readlink(path, link, sizeof link - 1);
        result("fd-readlink", pid, n, path);
        /* A pipe's write end reopened: the exit status could be forged. */
        int fd = open(path, O_WRONLY | O_NONBLOCK);
        if (fd < 0)
            fd = open(path, O_RDONLY | O_NONBLOCK);
        result(name, pid, fd, path);
        if (fd >= 0)
            close(fd);
        tried++;
    }
    closedir(d);
    if (!tried)
        say("blocked fd-list %d: no fds listed", pid);
}

static void attack(int pid)
{
    say("target %d", pid);
    long r = ptrace(PTRACE_ATTACH, pid, 0, 0);
    result("ptrace-attach", pid, r, "attached");
    if (r == 0) {
        waitpid(pid, NULL, __WALL);
        ptrace(PTRACE_DETACH, pid, 0, 0);
    }
    try_open("mem-write", pid, "mem", O_RDWR);
    try_open("mem-read", pid, "mem", O_RDONLY);
    char byte;
    struct iovec local = {&byte, 1}, remote = {(void *)0x1000, 1};
    r = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (r < 0 && errno == EFAULT)
        r = 0; /* the address was wrong, the access was allowed */
    result("process_vm_readv", pid, r, "memory access allowed");
    int pidfd = syscall(SYS_pidfd_open, pid, 0);
    if (pidfd >= 0) {
        r = syscall(SYS_pidfd_getfd, pidfd, 0, 0);
        result("pidfd_getfd", pid, r, "took fd 0");
        if (r >= 0)
            close(r);
        close(pidfd);
    }
    try_open("exe-read", pid, "exe", O_RDONLY);
    try_open("exe-path", pid, "exe", O_PATH);
    try_open("exe-write", pid, "exe", O_WRONLY);
    char path[64], link[256];
    snprintf(path, sizeof path, "%s/%d/exe", procdir, pid);
    result("exe-readlink", pid, readlink(path, link, sizeof link), path);
    result("exe-chmod", pid, chmod(path, 0777), "chmod 0777 of the binary");
    try_open("root", pid, "root/", O_PATH | O_DIRECTORY);
    try_open("cwd", pid, "cwd/", O_PATH | O_DIRECTORY);
    try_read("environ", pid, "environ");
    try_read("maps", pid, "maps");
    try_read("auxv", pid, "auxv");
    try_read("syscall", pid, "syscall");
    try_read("stack", pid, "stack");
    try_open("ns-user", pid, "ns/user", O_RDONLY);
    try_open("ns-mnt", pid, "ns/mnt", O_RDONLY);
    attack_fds(pid);
    result("signal", pid, kill(pid, 0), "may be signalled");
}

static int target_pid(const char *t)
{
    if (!strcmp(t, "ppid"))
        return getppid();
    if (!strncmp(t, "env:", 4)) {
        const char *v = getenv(t + 4);
        return v ? atoi(v) : 0;
    }
    return atoi(t);
}

static int inside(int argc, char **argv)
{
    if (getenv("ATTACK_PROC"))
        procdir = getenv("ATTACK_PROC");
    int lethal = argc > 0 && !strcmp(argv[0], "--kill");
    if (lethal) {
        argc--;
        argv++;
    }
    int pids[16], n = 0;
    for (int i = 0; i < argc && n < 16; i++) {
        int pid = target_pid(argv[i]);
        int seen = 0;
        for (int j = 0; j < n; j++)
            seen |= pids[j] == pid;
        if (pid <= 0 || pid == getpid() || seen) {
            say("skip %s (pid %d)", argv[i], pid);
            continue;
        }
        pids[n++] = pid;
        attack(pid);
    }
    say("escapes %d", escapes);
    if (!lethal)
        return escapes ? 1 : 0;
    for (int i = 0; i < n; i++)
        kill(pids[i], SIGKILL);
    usleep(100000);
    say("killed targets");
    kill(-1, SIGKILL);
    usleep(100000);
    say("killed -1");
    kill(0, SIGKILL);
    usleep(100000);
    say("survived kill(0)");
    return 3;
}

static int mounts(const char *dir, const char *covered)
{
    char path[512];
    snprintf(path, sizeof path, "%s/f", dir);
    result("remount-rw", 0, mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND, NULL),
           "read-only bind remounted read-write");
    int fd = open(path, O_WRONLY | O_APPEND);
    long r = fd < 0 ? -1 : write(fd, "changed\n", 8);
    result("write-ro-file", 0, r, path);
    if (fd >= 0)
        close(fd);
    result("move-covering", 0, mount(covered, "/tmp", NULL, MS_MOVE, NULL),
           "covering mount moved away");
    result("umount-covering", 0, umount2(covered, 0), "covering mount unmounted");
    result("detach-covering", 0, umount2(covered, MNT_DETACH), "covering mount detached");
    snprintf(path, sizeof path, "%s/secret", covered);
    result("covered-visible", 0, access(path, F_OK), path);
    /* A bind of DIR without what is mounted on it would show beneath. */
    const char *slash = strrchr(covered, '/');
    r = mount(dir, "/tmp", NULL, MS_BIND, NULL);
    if (r == 0 && slash) {
        snprintf(path, sizeof path, "/tmp%s/secret", slash);
        r = access(path, F_OK);
    }
    result("bind-uncovered", 0, r, path);
    say("escapes %d", escapes);
    return escapes ? 1 : 0;
}

static int caller(char **argv)
{
    setpgid(0, 0);
    pid_t child = fork();
    if (child < 0)
        return 2;
    if (child == 0) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d", getpid());
        setenv("SANDWRAP_SUPERVISOR_PID", buf, 1);
        snprintf(buf, sizeof buf, "%d", getppid());
        setenv("ATTACK_CALLER_PID", buf, 1);
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(st))
        say("sandwrap exited %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        say("sandwrap killed by signal %d", WTERMSIG(st));
    usleep(200000);
    say("caller alive");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "caller"))
        return caller(argv + 2);
    if (argc == 4 && !strcmp(argv[1], "mounts"))
        return mounts(argv[2], argv[3]);
    if (argc >= 2 && !strcmp(argv[1], "inside"))
        return inside(argc - 2, argv + 2);
    fprintf(stderr, "usage: attack caller PROGRAM ARGS... | attack inside [--kill] TARGET... | attack mounts DIR COVERED\n");
    return 2;
}
