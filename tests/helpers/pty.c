#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
/* TIOCSTI attacks (tests/attack_review.rs).
   pty ARGV...: runs ARGV as the session leader of a new pseudo-terminal
   (its controlling terminal, stdin/out/err), as an interactive shell's
   child would; when it ends, prints what waits in the terminal's input,
   which the shell would read next: "PENDING:<text>" or "PENDING-NONE".
   pty inject TEXT: pushes TEXT into the input of the terminal on fd 0. */
int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "inject")) {
        for (const char *c = argv[2]; *c; c++)
            if (ioctl(0, TIOCSTI, c) < 0) return 1;
        return 0;
    }
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) || unlockpt(m)) { perror("pty"); return 2; }
    char *name = ptsname(m);
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        int s = open(name, O_RDWR);
        if (s < 0) _exit(2);
        ioctl(s, TIOCSCTTY, 0);
        dup2(s, 0); dup2(s, 1); dup2(s, 2);
        if (s > 2) close(s);
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    /* drain the output meanwhile, so the child never blocks on it */
    int st;
    char buf[4096];
    fcntl(m, F_SETFL, O_NONBLOCK);
    while (waitpid(pid, &st, WNOHANG) == 0) { while (read(m, buf, sizeof buf) > 0) {} usleep(10000); }
    while (read(m, buf, sizeof buf) > 0) {}
    int s = open(name, O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (s < 0) { perror("reopen"); return 2; }
    struct termios t; tcgetattr(s, &t); t.c_lflag &= ~ICANON; t.c_cc[VMIN] = 0; t.c_cc[VTIME] = 0; tcsetattr(s, TCSANOW, &t);
    int n = read(s, buf, sizeof buf - 1);
    if (n > 0) { buf[n] = 0; printf("PENDING:%s\n", buf); } else printf("PENDING-NONE\n");
    printf("EXIT:%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    return 0;
}
