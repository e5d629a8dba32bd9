/* The test app's own binary (tests/flatpak_real.rs), linked statically: the
 * busybox runtime has no libc.
 *   probe          prints "probe ran"
 *   probe ptrace   a ptrace call the kernel answers with ESRCH (no such
 *                  request on pid 0) unless a seccomp filter refuses ptrace
 *                  (EPERM), as flatpak's does except under --devel
 *   probe dbus     says Hello to $DBUS_SESSION_BUS_ADDRESS (a unix path):
 *                  ANONYMOUS authentication, then one method call, and
 *                  reports whether the bus (here: flatpak's proxy) answered
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static unsigned char msg[512];
static size_t len;

static void put(const void *p, size_t n) { memcpy(msg + len, p, n); len += n; }
static void put_u32(uint32_t v) { put(&v, 4); }
static void pad(size_t to) { while (len % to) msg[len++] = 0; }

/* One header field: (code, variant of signature SIG holding STR). */
static void field(unsigned char code, char sig, const char *str) {
    unsigned char head[4] = { code, 1, (unsigned char)sig, 0 };
    pad(8);
    put(head, 4);
    put_u32((uint32_t)strlen(str));
    put(str, strlen(str) + 1);
}

static int dbus_hello(void) {
    const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");
    const char *p = addr ? strstr(addr, "path=") : NULL;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char line[256], auth[128] = "", buf[16];
    if (!p) { puts("dbus=no-address"); return 0; }
    p += 5;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%.*s", (int)strcspn(p, ","), p);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
        printf("dbus=connect-failed\n");
        return 0;
    }
    /* ANONYMOUS (the test bus allows it: the test uid has no passwd
     * entry, which dbus-daemon needs for an authenticated user). */
    for (const char *c = "probe"; *c; c++) sprintf(auth + strlen(auth), "%02x", *c);
    int n = snprintf(line, sizeof line, "AUTH ANONYMOUS %s\r\n", auth);
    if (write(s, "", 1) != 1 || write(s, line, n) != n) { puts("dbus=write-failed"); return 0; }
    ssize_t got = read(s, line, sizeof line - 1);
    if (got < 3 || strncmp(line, "OK ", 3) != 0) { puts("dbus=auth-refused"); return 0; }
    unsigned char fixed[4] = { 'l', 1 /* method call */, 0, 1 };
    put(fixed, 4);
    put_u32(0); /* body length */
    put_u32(1); /* serial */
    put_u32(0); /* header fields length, set below */
    field(1, 'o', "/org/freedesktop/DBus");
    field(6, 's', "org.freedesktop.DBus");
    field(2, 's', "org.freedesktop.DBus");
    field(3, 's', "Hello");
    uint32_t fields = (uint32_t)(len - 16);
    memcpy(msg + 12, &fields, 4);
    pad(8);
    if (write(s, "BEGIN\r\n", 7) != 7 || write(s, msg, len) != (ssize_t)len) {
        puts("dbus=write-failed");
        return 0;
    }
    got = read(s, buf, sizeof buf);
    if (got < 2) puts("dbus=no-reply");
    else printf("dbus=%s\n", buf[1] == 2 ? "hello-answered" : buf[1] == 3 ? "error-reply" : "other-reply");
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "ptrace") == 0) {
        long r = syscall(SYS_ptrace, 0x4242L, 0L, 0L, 0L);
        int e = errno;
        printf("ptrace=%s\n", r == 0 ? "ok" : e == EPERM ? "EPERM" : e == ESRCH ? "ESRCH" : "other");
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "dbus") == 0)
        return dbus_hello();
    puts("probe ran");
    return 0;
}
