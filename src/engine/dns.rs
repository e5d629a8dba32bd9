//! `--network pasta` with the host's resolver on its own loopback
//! (systemd-resolved's 127.0.0.53, a local dnsmasq, `::1`), which the
//! sandbox cannot reach: sandwrap forwards DNS, over UDP and TCP, from
//! `pasta::DNS_FORWARD` in the sandbox to that resolver and nothing else.
//!
//! pasta's own `--dns-forward` (passt 2023-03-09) forwards UDP only, to an
//! IPv4 resolver only: a resolver's retry over TCP (an answer too large for
//! a datagram) and a `::1` resolver failed. So the address is the
//! sandbox's own (on its `lo`), its two sockets are opened in the sandbox's
//! network namespace and held by the supervisor, which stays in the
//! host's, where a thread relays each query to the resolver.

use std::collections::HashMap;
use std::ffi::CString;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};

use super::sys;

/// Queries waiting for an answer, and TCP connections, at most (a sandbox
/// that floods the relay gets no more of the resolver than this).
const MAX_PENDING: usize = 512;
const MAX_CONNS: usize = 32;
/// An unanswered query or an idle connection is given up after this.
const GIVE_UP: Duration = Duration::from_secs(30);
/// A DNS message over TCP: two length bytes and at most 64 KiB.
const TCP_BUF: usize = 65536 + 2;

/// The first nameserver of resolv.conf text `conf`, if it is on loopback
/// (IPv4 127/8 or IPv6 ::1): the sandbox cannot reach it without a forward.
pub fn loopback_resolver(conf: &str) -> Option<IpAddr> {
    let first = conf.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        (words.next() == Some("nameserver")).then(|| words.next().unwrap_or(""))
    })?;
    first.parse::<IpAddr>().ok().filter(|a| a.is_loopback())
}

/// The forward of the sandbox whose first process is `child`: its sockets
/// exist from `open` on (queries wait in them), `serve` starts the relay,
/// dropping it ends the relay.
pub struct Forward {
    udp: UdpSocket,
    tcp: TcpListener,
    upstream: UdpSocket,
    resolver: SocketAddr,
    /// The relay ends when the write end closes.
    stop_r: Option<OwnedFd>,
    stop_w: Option<OwnedFd>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Forward {
    /// Open the forward's sockets in the network namespace of `child`
    /// (entering its user namespace first when it has one of ours), and a
    /// socket to `resolver` here.
    pub fn open(child: libc::pid_t, user_ns: bool, resolver: IpAddr) -> Result<Forward> {
        let (udp, tcp) = open_in_namespace(child, user_ns)?;
        let resolver = SocketAddr::new(resolver, 53);
        let here = match resolver {
            SocketAddr::V4(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            SocketAddr::V6(_) => SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0)),
        };
        let upstream = UdpSocket::bind(here)
            .and_then(|s| s.connect(resolver).map(|()| s))
            .map_err(|e| {
                anyhow!(
                    "--network pasta: DNS forward: can't reach the host's resolver {resolver}: {}",
                    crate::io_error_text(&e)
                )
            })?;
        let (stop_r, stop_w) = sys::pipe()?;
        Ok(Forward {
            udp: UdpSocket::from(udp),
            tcp: TcpListener::from(tcp),
            upstream,
            resolver,
            stop_r: Some(stop_r),
            stop_w: Some(stop_w),
            thread: None,
        })
    }

    /// The fds the supervisor must keep open.
    pub fn fds(&self) -> Vec<RawFd> {
        let mut fds = vec![
            self.udp.as_raw_fd(),
            self.tcp.as_raw_fd(),
            self.upstream.as_raw_fd(),
        ];
        fds.extend(
            self.stop_r
                .iter()
                .chain(&self.stop_w)
                .map(|f| f.as_raw_fd()),
        );
        fds
    }

    /// Start relaying, in a thread of the supervisor: only once the
    /// supervisor has closed the fds it does not keep (the thread opens
    /// connections of its own).
    pub fn serve(&mut self) -> Result<()> {
        let Some(stop) = self.stop_r.take() else {
            return Ok(());
        };
        let fail = |e: std::io::Error| {
            anyhow!("--network pasta: DNS forward: {}", crate::io_error_text(&e))
        };
        let relay = Relay {
            udp: self.udp.try_clone().map_err(fail)?,
            tcp: self.tcp.try_clone().map_err(fail)?,
            upstream: self.upstream.try_clone().map_err(fail)?,
            resolver: self.resolver,
            pending: HashMap::new(),
            conns: Vec::new(),
        };
        relay.udp.set_nonblocking(true).map_err(fail)?;
        relay.tcp.set_nonblocking(true).map_err(fail)?;
        relay.upstream.set_nonblocking(true).map_err(fail)?;
        let thread = std::thread::Builder::new()
            .name("sandwrap-dns".into())
            .spawn(move || relay.run(&stop))
            .map_err(fail)?;
        self.thread = Some(thread);
        Ok(())
    }
}

impl Drop for Forward {
    fn drop(&mut self) {
        // Close the write end: the relay sees it and ends.
        drop(self.stop_w.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The sandbox's side of the forward: the address on its `lo`, and a UDP
/// socket and a TCP listener on port 53 there. Made by a short-lived clone
/// that shares our fd table and enters the sandbox's namespaces (a process
/// with threads could not enter a user namespace; we stay in the host's
/// network namespace to reach the resolver); it puts the sockets on two fd
/// numbers we hold. Only system calls between the clone and its exit.
fn open_in_namespace(child: libc::pid_t, user_ns: bool) -> Result<(OwnedFd, OwnedFd)> {
    const STEPS: [&str; 12] = [
        "open the sandbox's user namespace",
        "enter it (setns)",
        "open the sandbox's network namespace",
        "enter it (setns)",
        "socket",
        "add the address to lo (SIOCSIFADDR)",
        "make it a /32 (SIOCSIFNETMASK)",
        "bring lo up (SIOCSIFFLAGS)",
        "UDP socket",
        "bind UDP port 53",
        "TCP socket",
        "bind and listen on TCP port 53",
    ];
    let user = CString::new(format!("/proc/{child}/ns/user")).unwrap_or_default();
    let net = CString::new(format!("/proc/{child}/ns/net")).unwrap_or_default();
    let addr: Ipv4Addr = super::pasta::DNS_FORWARD
        .parse()
        .unwrap_or(Ipv4Addr::LOCALHOST);
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 53u16.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(addr).to_be(),
        },
        sin_zero: [0; 8],
    };
    let mask = libc::sockaddr_in {
        sin_addr: libc::in_addr { s_addr: u32::MAX },
        ..sin
    };
    let ifreq = |name: &[u8], a: Option<&libc::sockaddr_in>| {
        // SAFETY: ifreq is plain data; zero is a valid starting value.
        let mut r: libc::ifreq = unsafe { std::mem::zeroed() };
        for (d, s) in r.ifr_name.iter_mut().zip(name) {
            *d = *s as libc::c_char;
        }
        if let Some(a) = a {
            // SAFETY: sockaddr_in fits the union's sockaddr (both 16 bytes).
            r.ifr_ifru.ifru_addr =
                unsafe { std::mem::transmute::<libc::sockaddr_in, libc::sockaddr>(*a) };
        }
        r
    };
    let alias_addr = ifreq(b"lo:sandwrap\0", Some(&sin));
    let alias_mask = ifreq(b"lo:sandwrap\0", Some(&mask));
    let mut lo = ifreq(b"lo\0", None);
    // The two fd numbers the clone puts the sockets on.
    let (slot_udp, slot_tcp) = sys::pipe()?;
    let (err_r, err_w) = sys::pipe()?;
    let (su, st, ew) = (
        slot_udp.as_raw_fd(),
        slot_tcp.as_raw_fd(),
        err_w.as_raw_fd(),
    );
    let pid = sys::clone_fork(libc::CLONE_FILES)?;
    if pid == 0 {
        // SAFETY: system calls on valid arguments prepared above; the
        // clone exits without returning.
        unsafe {
            let fail = |step: usize| -> ! {
                let report = [step as i32, sys::errno()];
                libc::write(ew, report.as_ptr().cast(), std::mem::size_of_val(&report));
                libc::_exit(1)
            };
            let enter = |path: &CString, kind: i32, step: usize| {
                let fd = libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
                if fd < 0 {
                    fail(step);
                }
                if libc::setns(fd, kind) != 0 {
                    fail(step + 1);
                }
                libc::close(fd);
            };
            if user_ns {
                enter(&user, libc::CLONE_NEWUSER, 0);
            }
            enter(&net, libc::CLONE_NEWNET, 2);
            let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
            if s < 0 {
                fail(4);
            }
            if libc::ioctl(s, libc::SIOCSIFADDR, &alias_addr) != 0 {
                fail(5);
            }
            if libc::ioctl(s, libc::SIOCSIFNETMASK, &alias_mask) != 0 {
                fail(6);
            }
            if libc::ioctl(s, libc::SIOCGIFFLAGS, &mut lo) != 0 {
                fail(7);
            }
            lo.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            if libc::ioctl(s, libc::SIOCSIFFLAGS, &lo) != 0 {
                fail(7);
            }
            libc::close(s);
            let sa = (&sin as *const libc::sockaddr_in).cast::<libc::sockaddr>();
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let u = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
            if u < 0 {
                fail(8);
            }
            if libc::bind(u, sa, len) != 0 {
                fail(9);
            }
            let t = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            if t < 0 {
                fail(10);
            }
            if libc::bind(t, sa, len) != 0 || libc::listen(t, 64) != 0 {
                fail(11);
            }
            // Shared fd table: the sockets take the slots' numbers.
            if libc::dup3(u, su, libc::O_CLOEXEC) < 0 || libc::dup3(t, st, libc::O_CLOEXEC) < 0 {
                fail(11);
            }
            libc::close(u);
            libc::close(t);
            libc::_exit(0)
        }
    }
    drop(err_w);
    // Our own clone (nothing else reaps before the monitor).
    let (_, status) = sys::waitpid(pid, 0)
        .map_err(|e| anyhow!("--network pasta: DNS forward: its setup process: {e}"))?;
    let mut report = [0u8; 8];
    if let Ok(8) = sys::read_some(err_r.as_raw_fd(), &mut report) {
        let step = i32::from_ne_bytes([report[0], report[1], report[2], report[3]]);
        let errno = i32::from_ne_bytes([report[4], report[5], report[6], report[7]]);
        return Err(anyhow!(
            "--network pasta: DNS forward: can't {} at {}: {}",
            STEPS.get(step as usize).unwrap_or(&"set it up"),
            super::pasta::DNS_FORWARD,
            crate::errno_text(errno)
        ));
    }
    if super::exit_code(status) != 0 {
        return Err(anyhow!(
            "--network pasta: DNS forward: its setup in the sandbox's network namespace failed"
        ));
    }
    Ok((slot_udp, slot_tcp))
}

/// A query sent on to the resolver under an id of ours.
struct Pending {
    client: SocketAddr,
    id: [u8; 2],
    at: Instant,
}

/// One TCP connection: the sandbox's client, the resolver (until
/// `connected`, a connection under way), and what each sent that the other
/// has not taken yet.
struct Conn {
    client: TcpStream,
    server: TcpStream,
    connected: bool,
    to_server: Vec<u8>,
    to_client: Vec<u8>,
    client_done: bool,
    server_done: bool,
    at: Instant,
}

struct Relay {
    udp: UdpSocket,
    tcp: TcpListener,
    upstream: UdpSocket,
    resolver: SocketAddr,
    pending: HashMap<u16, Pending>,
    conns: Vec<Conn>,
}

fn poll_fd(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

impl Relay {
    fn run(mut self, stop: &OwnedFd) {
        loop {
            let accepting = self.conns.len() < MAX_CONNS;
            let mut fds = vec![
                poll_fd(stop.as_raw_fd(), libc::POLLIN),
                poll_fd(self.udp.as_raw_fd(), libc::POLLIN),
                poll_fd(self.upstream.as_raw_fd(), libc::POLLIN),
                poll_fd(
                    self.tcp.as_raw_fd(),
                    if accepting { libc::POLLIN } else { 0 },
                ),
            ];
            // A socket with nothing to wait for is left out (fd -1): poll
            // reports an error or a hang-up whatever the events asked,
            // and a reset client (or a closed resolver) whose side has
            // nothing left to move would make every poll return at once,
            // the relay spinning (and never idle long enough to be given
            // up). Such a connection ends when its other side does, or
            // after GIVE_UP.
            for c in &self.conns {
                for (fd, ev) in [
                    (c.client.as_raw_fd(), c.events(true)),
                    (c.server.as_raw_fd(), c.events(false)),
                ] {
                    fds.push(poll_fd(if ev == 0 { -1 } else { fd }, ev));
                }
            }
            // SAFETY: fds is a valid array of fds.len() pollfds.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 1000) };
            if n < 0 && sys::errno() != libc::EINTR {
                return;
            }
            if fds[0].revents != 0 {
                return; // the forward was dropped
            }
            if fds[1].revents != 0 {
                self.queries();
            }
            if fds[2].revents != 0 {
                self.answers();
            }
            if fds[3].revents != 0 {
                self.accept();
            }
            let ready: Vec<bool> = fds[4..]
                .chunks(2)
                .map(|p| p[0].revents != 0 || p[1].revents != 0)
                .collect();
            for (c, r) in self.conns.iter_mut().zip(ready) {
                if r {
                    c.pump();
                }
            }
            let now = Instant::now();
            self.conns.retain(|c| !c.finished() && now - c.at < GIVE_UP);
            self.pending.retain(|_, p| now - p.at < GIVE_UP);
        }
    }

    /// Queries from the sandbox: on to the resolver under a fresh id. An
    /// answer (the QR bit) is no query: one sent from the forward's own
    /// address (a raw socket) would come back here as a query, and with a
    /// resolver that answers anything, go round for ever.
    fn queries(&mut self) {
        let mut buf = [0u8; 65536];
        while let Ok((len, client)) = self.udp.recv_from(&mut buf) {
            if len < 12 || buf[2] & 0x80 != 0 || self.pending.len() >= MAX_PENDING {
                continue;
            }
            let Some(id) = self.fresh_id() else {
                continue;
            };
            let orig = [buf[0], buf[1]];
            buf[..2].copy_from_slice(&id.to_be_bytes());
            if self.upstream.send(&buf[..len]).is_ok() {
                self.pending.insert(
                    id,
                    Pending {
                        client,
                        id: orig,
                        at: Instant::now(),
                    },
                );
            }
        }
    }

    /// An id no pending query has, unpredictable (the resolver's answers
    /// come to a port on the host's loopback).
    fn fresh_id(&self) -> Option<u16> {
        for _ in 0..16 {
            let mut b = [0u8; 2];
            // SAFETY: b is valid for 2 bytes.
            if unsafe { libc::getrandom(b.as_mut_ptr().cast(), 2, 0) } != 2 {
                return None;
            }
            let id = u16::from_be_bytes(b);
            if !self.pending.contains_key(&id) {
                return Some(id);
            }
        }
        None
    }

    /// Answers from the resolver: back to whoever asked, under their id.
    fn answers(&mut self) {
        let mut buf = [0u8; 65536];
        while let Ok(len) = self.upstream.recv(&mut buf) {
            if len < 12 {
                continue;
            }
            let id = u16::from_be_bytes([buf[0], buf[1]]);
            if let Some(p) = self.pending.remove(&id) {
                buf[..2].copy_from_slice(&p.id);
                let _ = self.udp.send_to(&buf[..len], p.client);
            }
        }
    }

    /// A TCP connection from the sandbox: one to the resolver for it,
    /// without waiting (a resolver slow to accept must not hold the relay).
    fn accept(&mut self) {
        while self.conns.len() < MAX_CONNS {
            let Ok((client, _)) = self.tcp.accept() else {
                return;
            };
            // On failure, dropping the client closes it.
            let Some(server) = connect_started(self.resolver) else {
                continue;
            };
            if client.set_nonblocking(true).is_err() {
                continue;
            }
            self.conns.push(Conn {
                client,
                server,
                connected: false,
                to_server: Vec::new(),
                to_client: Vec::new(),
                client_done: false,
                server_done: false,
                at: Instant::now(),
            });
        }
    }
}

impl Conn {
    /// What to wait for on the client's (or the server's) socket: room to
    /// read into, something to write.
    fn events(&self, client: bool) -> libc::c_short {
        if !self.connected {
            // The client waits until the resolver has answered the call.
            return if client { 0 } else { libc::POLLOUT };
        }
        let (done, inbox, outbox) = if client {
            (self.client_done, &self.to_server, &self.to_client)
        } else {
            (self.server_done, &self.to_client, &self.to_server)
        };
        let mut ev = 0;
        if !done && inbox.len() < TCP_BUF {
            ev |= libc::POLLIN;
        }
        if !outbox.is_empty() {
            ev |= libc::POLLOUT;
        }
        ev
    }

    /// Move what can be moved, both ways.
    fn pump(&mut self) {
        self.at = Instant::now();
        if !self.connected {
            match self.server.take_error() {
                Ok(None) if self.server.peer_addr().is_ok() => self.connected = true,
                Ok(None) => return, // still under way
                _ => {
                    // Refused: the client is closed.
                    self.client_done = true;
                    self.server_done = true;
                    return;
                }
            }
        }
        let broken = !(copy(&mut self.client, &mut self.to_server, &mut self.client_done)
            && copy(&mut self.server, &mut self.to_client, &mut self.server_done)
            && flush(&mut self.server, &mut self.to_server, self.client_done)
            && flush(&mut self.client, &mut self.to_client, self.server_done));
        if broken {
            self.client_done = true;
            self.server_done = true;
            self.to_server.clear();
            self.to_client.clear();
        }
    }

    fn finished(&self) -> bool {
        self.client_done
            && self.server_done
            && self.to_server.is_empty()
            && self.to_client.is_empty()
    }
}

/// A non-blocking TCP socket whose connection to `to` is under way.
fn connect_started(to: SocketAddr) -> Option<TcpStream> {
    // SAFETY: sockaddr_in6 and sockaddr_in are plain data; zero is valid.
    let mut sa: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
    let (family, len) = match to {
        SocketAddr::V4(a) => {
            let v4 = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(*a.ip()).to_be(),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: a sockaddr_in fits in a sockaddr_in6.
            unsafe { std::ptr::write((&mut sa as *mut libc::sockaddr_in6).cast(), v4) };
            (libc::AF_INET, std::mem::size_of::<libc::sockaddr_in>())
        }
        SocketAddr::V6(a) => {
            sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sa.sin6_port = a.port().to_be();
            sa.sin6_addr.s6_addr = a.ip().octets();
            (libc::AF_INET6, std::mem::size_of::<libc::sockaddr_in6>())
        }
    };
    let flags = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: plain system call.
    let fd = unsafe { libc::socket(family, flags, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: a new fd that nothing else owns.
    let sock = unsafe { <TcpStream as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let addr = (&sa as *const libc::sockaddr_in6).cast::<libc::sockaddr>();
    // SAFETY: addr is valid for len bytes.
    let r = unsafe { libc::connect(fd, addr, len as libc::socklen_t) };
    (r == 0 || sys::errno() == libc::EINPROGRESS).then_some(sock)
}

/// Read from `from` into `buf` while there is room; `done` at EOF. False
/// on an error.
fn copy(from: &mut TcpStream, buf: &mut Vec<u8>, done: &mut bool) -> bool {
    let mut chunk = [0u8; 16384];
    while !*done && buf.len() < TCP_BUF {
        let room = (TCP_BUF - buf.len()).min(chunk.len());
        match from.read(&mut chunk[..room]) {
            Ok(0) => *done = true,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    true
}

/// Write what `buf` holds to `to`; once the other side is done and all is
/// written, say so (shutdown). False on an error.
fn flush(to: &mut TcpStream, buf: &mut Vec<u8>, other_done: bool) -> bool {
    while !buf.is_empty() {
        match to.write(buf) {
            Ok(n) => {
                buf.drain(..n);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    if other_done {
        let _ = to.shutdown(std::net::Shutdown::Write);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_resolvers_are_forwarded() {
        let first = |c: &str| loopback_resolver(c).map(|a| a.to_string());
        assert_eq!(
            first("search x\nnameserver 127.0.0.53\nnameserver 10.0.0.1\n").as_deref(),
            Some("127.0.0.53")
        );
        assert_eq!(first("nameserver ::1\n").as_deref(), Some("::1"));
        assert_eq!(first("nameserver 10.0.0.1\nnameserver 127.0.0.1\n"), None);
        assert_eq!(first("nameserver fe80::1%eth0\n"), None);
        assert_eq!(first("search x\n"), None);
    }
}
