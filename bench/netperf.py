# Throughput and latency over TCP, for bench/network.sh.
#   server PORT             accept one client at a time: "s" = sink, "e" = echo
#   sink HOST PORT MIB      send MIB MiB; print "MiB/s"
#   rtt HOST PORT N         N one-byte round trips; print the median in us
import socket, statistics, sys, time

def server(port):
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port)); ls.listen(4)
    while True:
        c, _ = ls.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        mode = c.recv(1)
        if mode == b"s":
            got = 0
            while True:
                b = c.recv(1 << 20)
                if not b: break
                got += len(b)
            c.sendall(b"%d\n" % got)
        else:
            while True:
                b = c.recv(1)
                if not b: break
                c.sendall(b)
        c.close()

def connect(host, port):
    deadline = time.time() + 10
    while True:
        try:
            c = socket.create_connection((host, port), timeout=30)
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return c
        except OSError:
            if time.time() > deadline: raise
            time.sleep(0.05)

def sink(host, port, mib):
    c = connect(host, port); c.sendall(b"s")
    block = b"x" * (1 << 20)
    t = time.monotonic()
    for _ in range(mib): c.sendall(block)
    c.shutdown(socket.SHUT_WR)
    got = int(c.makefile().readline())
    dt = time.monotonic() - t
    assert got == mib << 20, got
    print("%.0f" % (mib / dt))

def rtt(host, port, n):
    c = connect(host, port); c.sendall(b"e")
    times = []
    for _ in range(n):
        t = time.monotonic_ns(); c.sendall(b"p"); c.recv(1)
        times.append((time.monotonic_ns() - t) / 1000)
    print("%.1f" % statistics.median(times))

cmd, a = sys.argv[1], sys.argv[2:]
if cmd == "server": server(int(a[0]))
elif cmd == "sink": sink(a[0], int(a[1]), int(a[2]))
elif cmd == "rtt": rtt(a[0], int(a[1]), int(a[2]))
