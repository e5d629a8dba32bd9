#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static void say(const char *name, const char *stage, int ok) {
    if (ok) printf("%s=OK\n", name);
    else printf("%s=%s:%s\n", name, stage, strerrorname_np(errno));
    fflush(stdout);
}

static int inet(int port, struct sockaddr_in *a) {
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof *a;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        char name[64];
        const char *arg = strchr(argv[i], ':');
        snprintf(name, sizeof name, "%.*s", arg ? (int)(arg - argv[i]) : (int)strlen(argv[i]), argv[i]);
        arg = arg ? arg + 1 : "";
        struct sockaddr_in a;
        if (!strcmp(name, "tcp_connect") || !strcmp(name, "mptcp_connect")) {
            int proto = name[0] == 'm' ? IPPROTO_MPTCP : 0;
            int s = socket(AF_INET, SOCK_STREAM, proto);
            if (s < 0) { say(name, "socket", 0); continue; }
            int len = inet(atoi(arg), &a);
            say(name, "connect", connect(s, (struct sockaddr *)&a, len) == 0);
            close(s);
        } else if (!strcmp(name, "tfo_connect")) {
            /* TCP Fast Open: sendto with MSG_FASTOPEN connects, no connect(2). */
            int s = socket(AF_INET, SOCK_STREAM, 0);
            if (s < 0) { say(name, "socket", 0); continue; }
            int len = inet(atoi(arg), &a);
            say(name, "sendto", sendto(s, "x", 1, MSG_FASTOPEN, (struct sockaddr *)&a, len) == 1);
            close(s);
        } else if (!strcmp(name, "mptcp_listen")) {
            int s = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
            if (s < 0) { say(name, "socket", 0); continue; }
            int len = inet(atoi(arg), &a);
            if (bind(s, (struct sockaddr *)&a, len) < 0) { say(name, "bind", 0); close(s); continue; }
            say(name, "listen", listen(s, 1) == 0);
            close(s);
        } else if (!strcmp(name, "mptcp6_socket")) {
            int s = socket(AF_INET6, SOCK_STREAM, IPPROTO_MPTCP);
            say(name, "socket", s >= 0);
            if (s >= 0) close(s);
        } else if (!strcmp(name, "mptcp_high_bits")) {
            /* The kernel reads the protocol as an int: upper bits are dropped. */
            long s = syscall(SYS_socket, (long)AF_INET, (long)SOCK_STREAM, (1L << 32) | IPPROTO_MPTCP);
            say(name, "socket", s >= 0);
            if (s >= 0) close(s);
        } else if (!strcmp(name, "io_uring")) {
            struct io_uring_params p;
            memset(&p, 0, sizeof p);
            long fd = syscall(SYS_io_uring_setup, 4, &p);
            say(name, "io_uring_setup", fd >= 0);
            if (fd >= 0) close(fd);
        } else if (!strcmp(name, "unix_connect")) {
            int s = socket(AF_UNIX, SOCK_STREAM, 0);
            if (s < 0) { say(name, "socket", 0); continue; }
            struct sockaddr_un u = { .sun_family = AF_UNIX };
            snprintf(u.sun_path, sizeof u.sun_path, "%s", arg);
            say(name, "connect", connect(s, (struct sockaddr *)&u, sizeof u) == 0);
            close(s);
        } else if (!strcmp(name, "unix_sendto")) {
            /* A datagram socket pair can still address any named socket. */
            int sv[2];
            if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0) { say(name, "socketpair", 0); continue; }
            struct sockaddr_un u = { .sun_family = AF_UNIX };
            snprintf(u.sun_path, sizeof u.sun_path, "%s", arg);
            say(name, "sendto", sendto(sv[0], "x", 1, 0, (struct sockaddr *)&u, sizeof u) == 1);
            close(sv[0]); close(sv[1]);
        } else if (!strcmp(name, "socketpair_stream")) {
            int sv[2];
            int r = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
            say(name, "socketpair", r == 0);
            if (r == 0) { close(sv[0]); close(sv[1]); }
        } else {
            printf("%s=UNKNOWN\n", name);
        }
    }
    return 0;
}
