/* The kernel floor of a sandbox launch: one clone into new user, mount, pid,
 * net, ipc, uts and cgroup namespaces, the child writes its own id maps and
 * execs /bin/true, the parent waits. No mounts, no pid 1 helper, no checks a
 * real tool needs: anything a sandbox spends above this is its own cost. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

int main(void) {
    /* Taken before clone: in the new user namespace, before the maps are
     * written, getuid() would return the overflow id. */
    char uid_map[64], gid_map[64];
    snprintf(uid_map, sizeof uid_map, "%u %u 1\n", getuid(), getuid());
    snprintf(gid_map, sizeof gid_map, "%u %u 1\n", getgid(), getgid());

    long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
                 CLONE_NEWUTS | CLONE_NEWCGROUP | SIGCHLD;
    /* Raw clone with no new stack behaves like fork. */
    pid_t pid = syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
    if (pid < 0) {
        perror("floor: clone");
        return 1;
    }
    if (pid == 0) {
        if (write_file("/proc/self/setgroups", "deny") || write_file("/proc/self/uid_map", uid_map) ||
            write_file("/proc/self/gid_map", gid_map)) {
            perror("floor: id maps");
            _exit(1);
        }
        char *argv[] = {"/bin/true", NULL};
        execv(argv[0], argv);
        perror("floor: execv /bin/true");
        _exit(1);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0) {
        perror("floor: waitpid");
        return 1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
