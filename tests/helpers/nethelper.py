# Network helper for tests/network.rs (loopback and test-made namespaces only).
#   serve ADDR PORT      TCP: answer every client with "hello-PORT"
#   serve-udp ADDR PORT  UDP: answer every datagram with "hello-PORT"
#   dns ADDR [tc]        a resolver on ADDR:53 answering every A query with 10.1.2.3
#                        (tc: with a truncated answer instead, as for a large one)
#   dns-tcp ADDR         the same over TCP
#   query-tcp ADDR       one A query over TCP to ADDR:53; print "ADDR=TCP " and the answer
#   wait ADDR PORT       retry connecting for 10 s (a server is up)
#   wait-dns ADDR        retry a query to ADDR:53 for 10 s (a resolver is up)
#   probe ADDR PORT      print "ADDR:PORT=" and the answer, or the error's name
#   probe-udp ADDR PORT  the same over UDP
#   wait-udp ADDR PORT   retry a datagram for 10 s (a UDP server answers)
#   hold-tcp ADDR PORT N open N connections to ADDR:PORT (as many as connect), print
#                        "held " and how many, and keep them open for 8 s
#   resolve NAME         print "NAME=" and the address the system resolver gives
#   reset-after-eof ADDR hold one connection to ADDR:53 open (a serial resolver
#                        then takes no other), send a query on a second one, end
#                        it (EOF), then reset it; print "reset", keep the first 3 s
#   self-query ADDR      a query to ADDR:53 from ADDR:53 itself (a raw socket: needs
#                        CAP_NET_RAW); print "sent", wait 3 s
import socket, struct, sys, time

def serve(addr, port):
    s = socket.socket(family(addr))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(16)
    while True:
        c, _ = s.accept()
        c.sendall(b"hello-%d" % port); c.close()

def serve_udp(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        _, peer = s.recvfrom(512)
        s.sendto(b"hello-%d" % port, peer)

def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET

def dns_answer(q, tc=False):
    # same id, response + recursion available, 1 question, 1 answer (10.1.2.3);
    # truncated: the TC flag and no answer (the client retries over TCP)
    end = 12
    while q[end] != 0:
        end += q[end] + 1
    question = q[12:end + 5]
    if tc:
        return q[:2] + b"\x83\x80\x00\x01\x00\x00\x00\x00\x00\x00" + question
    answer = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + bytes([10, 1, 2, 3])
    return q[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + question + answer

def dns(addr, tc=False):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind((addr, 53))
    while True:
        q, peer = s.recvfrom(512)
        if len(q) >= 17:
            s.sendto(dns_answer(q, tc), peer)

def recv_exact(c, n):
    data = b""
    while len(data) < n:
        more = c.recv(n - len(data))
        if not more:
            raise EOFError
        data += more
    return data

def dns_tcp(addr):
    s = socket.socket(family(addr))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 53)); s.listen(16)
    while True:
        c, _ = s.accept()
        try:
            while True:
                q = recv_exact(c, int.from_bytes(recv_exact(c, 2), "big"))
                a = dns_answer(q)
                c.sendall(len(a).to_bytes(2, "big") + a)
        except (EOFError, OSError):
            c.close()

def query_tcp(addr):
    # one A query over TCP; print "ADDR=TCP" and the address answered
    q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01x\x00\x00\x01\x00\x01"
    try:
        with socket.create_connection((addr, 53), timeout=3) as c:
            c.sendall(len(q).to_bytes(2, "big") + q)
            a = recv_exact(c, int.from_bytes(recv_exact(c, 2), "big"))
            print("%s=TCP %s" % (addr, ".".join(str(b) for b in a[-4:])))
    except (EOFError, OSError) as e:
        print("%s=TCP %s" % (addr, type(e).__name__))

def wait_dns(addr):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.settimeout(0.1)
    query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01x\x00\x00\x01\x00\x01"
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            s.sendto(query, (addr, 53))
            if s.recv(512)[:2] == query[:2]:
                return
        except OSError:
            time.sleep(0.05)
    sys.exit("no resolver answers on %s:53" % addr)

def answer(addr, port, once, wait):
    # print "ADDR:PORT=" and once()'s answer, or the error's name; with
    # wait, retry errors for 10 s
    deadline = time.time() + 10
    while True:
        try:
            print("%s:%d=%s" % (addr, port, once()))
            return
        except OSError as e:
            if not wait or time.time() > deadline:
                print("%s:%d=%s" % (addr, port, type(e).__name__))
                return
            time.sleep(0.05)

def probe(addr, port, wait=False):
    def once():
        with socket.create_connection((addr, port), timeout=2) as c:
            c.settimeout(2)
            return c.recv(100).decode()
    answer(addr, port, once, wait)

def probe_udp(addr, port, wait=False):
    def once():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2 if wait else 2)
            s.sendto(b"hi", (addr, port))
            return s.recv(100).decode()
    answer(addr, port, once, wait)

def hold_tcp(addr, port, n):
    held = []
    for _ in range(n):
        try:
            held.append(socket.create_connection((addr, port), timeout=0.2))
        except OSError:
            pass
    print("held %d" % len(held), flush=True)
    time.sleep(8)

def resolve(name):
    try:
        print("%s=%s" % (name, socket.gethostbyname(name)))
    except OSError as e:
        print("%s=%s" % (name, type(e).__name__))

def reset_after_eof(addr):
    q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01x\x00\x00\x01\x00\x01"
    held = socket.create_connection((addr, 53), timeout=2)
    c = socket.create_connection((addr, 53), timeout=2)
    c.sendall(len(q).to_bytes(2, "big") + q)
    c.shutdown(socket.SHUT_WR)
    time.sleep(0.2)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    print("reset", flush=True)
    time.sleep(3)
    held.close()

def self_query(addr):
    q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01x\x00\x00\x01\x00\x01"
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    s.bind((addr, 0))
    # UDP header: source and destination port 53, no checksum (IPv4).
    s.sendto(struct.pack("!HHHH", 53, 53, 8 + len(q), 0) + q, (addr, 0))
    print("sent", flush=True)
    time.sleep(3)

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "serve": serve(args[0], int(args[1]))
elif cmd == "serve-udp": serve_udp(args[0], int(args[1]))
elif cmd == "dns": dns(args[0], tc=args[1:] == ["tc"])
elif cmd == "dns-tcp": dns_tcp(args[0])
elif cmd == "query-tcp": query_tcp(args[0])
elif cmd == "wait-dns": wait_dns(args[0])
elif cmd == "wait": probe(args[0], int(args[1]), wait=True)
elif cmd == "probe": probe(args[0], int(args[1]))
elif cmd == "probe-udp": probe_udp(args[0], int(args[1]))
elif cmd == "wait-udp": probe_udp(args[0], int(args[1]), wait=True)
elif cmd == "resolve": resolve(args[0])
elif cmd == "reset-after-eof": reset_after_eof(args[0])
elif cmd == "self-query": self_query(args[0])
elif cmd == "hold-tcp": hold_tcp(args[0], int(args[1]), int(args[2]))
