//! Attacks on the network rules from inside (attack classes 6 and 7):
//! MPTCP sockets, which landlock's TCP rules do not see, and io_uring,
//! which makes socket calls no seccomp filter sees. Whenever a landlock
//! network rule is in force both must fail; the `default` preset denies
//! io_uring. With `--fallback landlock`, pathname unix sockets of host
//! daemons are reachable (landlock does not restrict connecting to them):
//! the fallback says so, and with `--unshare-net` refuses unix sockets.
mod common;
use common::*;

use std::net::TcpListener;
use std::path::{Path, PathBuf};

/// Each argument `probe[:arg]` prints `probe=OK` or `probe=STAGE:ERRNO`.
const NETPROBE_C: &str = include_str!("helpers/netprobe.c");

fn netprobe() -> Option<PathBuf> {
    c_helper("netprobe", NETPROBE_C)
}

const MPTCP_REFUSED: &str = "socket:EPROTONOSUPPORT";
const IO_URING_DENIED: &str = "io_uring_setup:EPERM";

/// A TCP listener on the host's loopback, and its port.
fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").expect("listen on 127.0.0.1");
    let port = l.local_addr().expect("addr").port();
    (l, port)
}

/// A port nothing listens on (bound once, released).
fn free_port() -> u16 {
    listener().1
}

/// `--ro-bind / / EXTRA... -- netprobe PROBES...`
fn probe(extra: &[&str], probes: &[String]) -> Option<(i32, String, String)> {
    let bin = netprobe()?;
    let mut args: Vec<String> = ["--ro-bind", "/", "/"].map(String::from).to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push("--".into());
    args.push(bin.display().to_string());
    args.extend(probes.iter().cloned());
    Some(run(&args))
}

/// The attacks of this file get through without any rule: otherwise the
/// tests below could not tell a refusal from a kernel without MPTCP.
fn bypasses_exist_here() -> bool {
    let (_l, port) = listener();
    let Some((code, out, err)) = probe(&[], &[format!("mptcp_connect:{port}"), "io_uring".into()])
    else {
        return false;
    };
    assert_eq!(code, 0, "{err}");
    for p in ["mptcp_connect", "io_uring"] {
        if probe_value(&out, p) != "OK" {
            skip!("skipping: {p} does not work here even unsandboxed: {out}");
            return false;
        }
    }
    true
}

fn needs_net_landlock() -> bool {
    if landlock_abi() < 4 {
        skip!(
            "skipping: landlock network rules need ABI 4, this kernel has {}",
            landlock_abi()
        );
        return false;
    }
    bypasses_exist_here()
}

/// The probes of an outbound attack on `port`, which landlock forbids.
fn connect_probes(port: u16) -> Vec<String> {
    vec![
        format!("tcp_connect:{port}"),
        format!("mptcp_connect:{port}"),
        "mptcp6_socket".into(),
        "mptcp_high_bits".into(),
        "io_uring".into(),
    ]
}

/// Plain TCP is refused by landlock; MPTCP (both families, and with junk
/// in the upper half of the protocol argument) and io_uring by seccomp.
fn assert_connect_refused(out: &str, err: &str) {
    assert_eq!(
        probe_value(out, "tcp_connect"),
        "connect:EACCES",
        "{out}{err}"
    );
    for p in ["mptcp_connect", "mptcp6_socket", "mptcp_high_bits"] {
        assert_eq!(probe_value(out, p), MPTCP_REFUSED, "{p}: {out}{err}");
    }
    assert_eq!(probe_value(out, "io_uring"), IO_URING_DENIED, "{out}{err}");
}

#[test]
fn mptcp_and_io_uring_fail_under_landlock_tcp_connect() {
    if !needs_net_landlock() {
        return;
    }
    let (_l, port) = listener();
    let allowed = free_port().to_string();
    let (code, out, err) =
        probe(&["--landlock-tcp-connect", &allowed], &connect_probes(port)).expect("helper");
    assert_eq!(code, 0, "{err}");
    assert_connect_refused(&out, &err);
}

/// TCP Fast Open connects from `sendto(MSG_FASTOPEN)`, where landlock's
/// connect check does not look: under `--landlock-tcp-connect` it must fail
/// (EOPNOTSUPP, as with Fast Open turned off) and nothing reach the port.
#[test]
fn tcp_fast_open_fails_under_landlock_tcp_connect() {
    if landlock_abi() < 4 {
        skip!("skipping: landlock network rules need ABI 4");
        return;
    }
    let (l, port) = listener();
    let attack = [format!("tfo_connect:{port}")];
    let Some((_, out, err)) = probe(&[], &attack) else {
        return;
    };
    if probe_value(&out, "tfo_connect") != "OK" {
        skip!("skipping: TCP Fast Open does not connect here even unsandboxed: {out}{err}");
        return;
    }
    let _ = l.accept().expect("the unsandboxed connection");
    l.set_nonblocking(true).expect("nonblocking");
    let allowed = free_port().to_string();
    let (code, out, err) = probe(&["--landlock-tcp-connect", &allowed], &attack).expect("helper");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        probe_value(&out, "tfo_connect"),
        "sendto:EOPNOTSUPP",
        "{out}{err}"
    );
    assert!(
        l.accept().is_err(),
        "a connection reached the port landlock forbids"
    );
}

#[test]
fn mptcp_and_io_uring_fail_under_landlock_tcp_bind() {
    if !needs_net_landlock() {
        return;
    }
    let (allowed, denied) = (free_port().to_string(), free_port());
    let probes = [format!("mptcp_listen:{denied}"), "io_uring".into()];
    let (code, out, err) = probe(&["--landlock-tcp-bind", &allowed], &probes).expect("helper");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        probe_value(&out, "mptcp_listen"),
        MPTCP_REFUSED,
        "{out}{err}"
    );
    assert_eq!(probe_value(&out, "io_uring"), IO_URING_DENIED, "{out}{err}");
    // Also on top of a policy of the user's that allows io_uring, and with
    // the denial reported: the rule that decided names landlock.
    let (code, out, err) = probe(
        &[
            "--landlock-tcp-bind",
            &allowed,
            "--seccomp-allow",
            "io_uring_setup",
            "--seccomp-report",
        ],
        &probes,
    )
    .expect("helper");
    assert_eq!(code, 0, "{err}");
    assert_eq!(probe_value(&out, "io_uring"), IO_URING_DENIED, "{out}{err}");
    assert!(
        err.lines().any(|l| l.contains("io_uring_setup(")
            && l.contains("landlock network rules")
            && l.contains("= -EPERM (denied)")),
        "{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.contains("socket(2, 1, 262") && l.contains("= -EPROTONOSUPPORT (denied)")),
        "{err}"
    );
}

#[test]
fn mptcp_and_io_uring_fail_under_profile_ci() {
    if !needs_net_landlock() {
        return;
    }
    // ci shows the project directory (the working directory) and an empty
    // home: the helper runs from the project.
    let home = scratch("ci-home");
    let proj = scratch("ci-proj");
    let bin = proj.join("netprobe");
    std::fs::copy(netprobe().expect("helper"), &bin).expect("copy helper");
    give(&bin);
    let (_l, port) = listener();
    let mut cmd = sandwrap(["--profile", "ci", "--", "./netprobe"]);
    cmd.args(connect_probes(port))
        .env("HOME", &home)
        .env("PWD", &proj)
        .current_dir(&proj);
    let o = output(cmd);
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert_connect_refused(&out, &err);
}

#[test]
fn mptcp_and_io_uring_fail_in_the_fallback_with_unshare_net() {
    if !needs_net_landlock() {
        return;
    }
    let top = scratch("attack-net-fallback");
    let bin = top.join("netprobe");
    std::fs::copy(netprobe().expect("helper"), &bin).expect("copy helper");
    give(&bin);
    let (_l, port) = listener();
    let bin = bin.display().to_string();
    let probes = connect_probes(port);
    let mut command = vec![bin.as_str()];
    command.extend(probes.iter().map(String::as_str));
    let inner = cmdline(&[FALLBACK_NO_NET], &command);
    let (code, out, err) = without_userns(&strs(&inner), &top);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("--fallback landlock"),
        "the fallback ran: {err}"
    );
    assert_connect_refused(&out, &err);
}

#[test]
fn default_preset_denies_io_uring() {
    if !bypasses_exist_here() {
        return;
    }
    let (code, out, err) =
        probe(&["--seccomp-policy", "default"], &["io_uring".into()]).expect("helper");
    assert_eq!(code, 0, "{err}");
    assert_eq!(probe_value(&out, "io_uring"), IO_URING_DENIED, "{out}{err}");
}

/// A unix listener (stream) and a datagram socket of the "host" in `dir`,
/// reachable by the test user.
fn host_unix_sockets(
    dir: &Path,
) -> (
    std::os::unix::net::UnixListener,
    std::os::unix::net::UnixDatagram,
) {
    let stream = dir.join("daemon.sock");
    let dgram = dir.join("log.sock");
    let l = std::os::unix::net::UnixListener::bind(&stream).expect("bind unix listener");
    let d = std::os::unix::net::UnixDatagram::bind(&dgram).expect("bind unix datagram");
    give(&stream);
    give(&dgram);
    (l, d)
}

/// The unix socket probes against the "host" daemons of `host_unix_sockets`,
/// run by `--fallback landlock` with `extra` options: (output, stderr,
/// whether a datagram reached the host's socket).
fn unix_probes_in_fallback(tag: &str, extra: &[&str]) -> Option<(String, String, bool)> {
    if landlock_abi() < 1 {
        skip!("skipping: the fallback needs landlock");
        return None;
    }
    let top = scratch(tag);
    let daemons = host_unix_sockets(&top);
    let bin = netprobe()?.display().to_string();
    let probes = [
        format!("unix_connect:{}", top.join("daemon.sock").display()),
        format!("unix_sendto:{}", top.join("log.sock").display()),
        "socketpair_stream".into(),
    ];
    let mut inner = vec!["--ro-bind", "/", "/"];
    inner.extend_from_slice(extra);
    inner.extend(["--fallback", "landlock", "--", &bin]);
    inner.extend(probes.iter().map(String::as_str));
    let (code, out, err) = without_userns(&inner, &top);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("cannot create namespaces"),
        "the fallback ran: {err}"
    );
    let warnings: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("pathname unix sockets"))
        .collect();
    assert_eq!(warnings.len(), 1, "one line about unix sockets: {err}");
    assert!(
        warnings[0].starts_with("sandwrap: warning: --fallback landlock:"),
        "{err}"
    );
    let mut buf = [0u8; 4];
    daemons.1.set_nonblocking(true).expect("nonblocking");
    let got_datagram = daemons.1.recv(&mut buf).is_ok();
    Some((out, err, got_datagram))
}

#[test]
fn fallback_warns_that_host_unix_sockets_stay_reachable() {
    let Some((out, err, got_datagram)) = unix_probes_in_fallback("attack-unix-fallback", &[])
    else {
        return;
    };
    // The host's network is shared: its daemons are reachable (and the
    // probes can tell), which the line above says.
    assert_eq!(probe_value(&out, "unix_connect"), "OK", "{out}{err}");
    assert_eq!(probe_value(&out, "unix_sendto"), "OK", "{out}{err}");
    assert!(got_datagram);
}

#[test]
fn fallback_with_unshare_net_refuses_unix_sockets() {
    let Some((out, err, got_datagram)) =
        unix_probes_in_fallback("attack-unix-fallback-net", &["--unshare-net"])
    else {
        return;
    };
    assert_eq!(
        probe_value(&out, "unix_connect"),
        "socket:EACCES",
        "{out}{err}"
    );
    assert_eq!(
        probe_value(&out, "unix_sendto"),
        "socketpair:EACCES",
        "{out}{err}"
    );
    assert!(!got_datagram, "a datagram got out");
    // A connected pair reaches nothing outside: it keeps working.
    assert_eq!(probe_value(&out, "socketpair_stream"), "OK", "{out}{err}");
}
