//! `--network pasta`: the sandbox's network namespace gets an interface
//! configured like the host's, connected to the host's sockets by pasta
//! (from the passt project), a user-mode network stack.
//!
//! The supervisor starts pasta as its own child once the namespaces exist
//! and before the child is let go, waits until pasta has configured the
//! interface (pasta writes its pid file only then: the file is a pipe to
//! us), and kills it when the sandbox ends. pasta runs in the foreground
//! (it daemonizes by default) with a death signal, so it never outlives
//! sandwrap, even a sandwrap killed by SIGKILL.

use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};

use super::sys;
use crate::spec::Spec;

/// How long pasta may take to configure the namespace.
const READY_WITHIN: Duration = Duration::from_secs(20);

/// Where the sandbox sends DNS queries when the host's resolver is on its
/// loopback (which the sandbox cannot reach): pasta answers this address
/// itself (`--dns-forward`) and passes the queries to the host's first
/// resolver. Link-local, so it is nobody's real server, and the address
/// podman gives pasta for the same purpose; reached through the default
/// route, so it works whatever the host's gateway is.
pub const DNS_FORWARD: &str = "169.254.1.1";

/// What `prepare` found: pasta, and whether the host's resolver is on
/// loopback (DNS is then forwarded).
pub struct Prepared {
    pub bin: PathBuf,
    pub dns_forward: bool,
}

/// Checks made before any namespace exists, each failure one clear line:
/// the pasta binary (found in PATH) and a usable /dev/net/tun. Reads the
/// host's /etc/resolv.conf (pasta reads the same file for the resolver it
/// forwards to).
pub fn prepare(spec: &Spec) -> Result<Option<Prepared>> {
    if !spec.network.pasta {
        return Ok(None);
    }
    let bin = sys::find_in_path("pasta").map_err(|why| {
        anyhow!(
            "--network pasta: pasta {why}: install it (Debian, Ubuntu: apt-get install passt; Fedora: dnf install passt)"
        )
    })?;
    // pasta opens the tap device as the caller (from inside the sandbox's
    // user namespace, where root's file is "other"'s): the caller must be
    // able to open it read-write, as on desktop distributions (mode 0666).
    let tun = Path::new("/dev/net/tun");
    if let Err(e) = sys::openat(libc::AT_FDCWD, tun, libc::O_RDWR | libc::O_CLOEXEC, 0) {
        let fix = match e.errno {
            libc::ENOENT | libc::ENODEV | libc::ENXIO => {
                "load the tun module (modprobe tun) or create the device (mknod /dev/net/tun c 10 200)"
            }
            _ => {
                "pasta needs it readable and writable by the caller: desktop distributions ship it mode 0666 (as root: chmod 0666 /dev/net/tun)"
            }
        };
        bail!(
            "--network pasta: /dev/net/tun is not usable: {}: {fix}",
            crate::errno_text(e.errno)
        );
    }
    let dns_forward = std::fs::read_to_string("/etc/resolv.conf")
        .is_ok_and(|host| sandbox_resolv_conf(&host).is_some());
    Ok(Some(Prepared { bin, dns_forward }))
}

/// The resolv.conf for the sandbox when the first nameserver of `conf` (the
/// host's, the sandbox's) is an IPv4 loopback address (systemd-resolved's
/// 127.0.0.53, a local dnsmasq): the forward address instead of the
/// nameservers, the other lines (search, options) kept. None otherwise.
pub fn sandbox_resolv_conf(conf: &str) -> Option<String> {
    let first = conf.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        (words.next() == Some("nameserver")).then(|| words.next().unwrap_or(""))
    })?;
    if !first
        .parse::<std::net::Ipv4Addr>()
        .is_ok_and(|a| a.is_loopback())
    {
        return None;
    }
    let mut out = format!(
        "# sandwrap --network pasta: the host's resolver, forwarded by pasta\nnameserver {DNS_FORWARD}\n"
    );
    for l in conf.lines() {
        if l.split_whitespace().next() != Some("nameserver") {
            out.push_str(l);
            out.push('\n');
        }
    }
    Some(out)
}

/// pasta's command line for the sandbox whose first process is `child`.
fn arguments(spec: &Spec, dns: bool, child: libc::pid_t, ready_fd: RawFd) -> Vec<OsString> {
    let net = &spec.network;
    let mut args: Vec<String> = vec![
        "--foreground".into(),
        "--quiet".into(),
        "--config-net".into(),
        // Its own copy of /proc/PID/ns/net is no file to watch: we end it.
        "--no-netns-quit".into(),
        // From the sandbox to the host's loopback: nothing by default
        // (pasta forwards every port bound there otherwise).
        "--tcp-ns".into(),
        "none".into(),
        "--udp-ns".into(),
        "none".into(),
    ];
    if dns {
        // Only DNS to this address (UDP port 53; this pasta does not
        // forward TCP) reaches the host's resolver, nothing else of its
        // loopback.
        args.extend(["--dns-forward".into(), DNS_FORWARD.into()]);
    }
    if !net.allow_host_loopback {
        // The gateway address would otherwise lead to the host's loopback.
        args.push("--no-map-gw".into());
    }
    for udp in [false, true] {
        let flag = if udp { "--udp-ports" } else { "--tcp-ports" };
        let mut any = false;
        for p in net.publish.iter().filter(|p| p.udp == udp) {
            args.extend([flag.into(), crate::cli::network::pasta_forward(p)]);
            any = true;
        }
        if !any {
            // Explicit: pasta would forward UDP along with TCP ports.
            args.extend([flag.into(), "none".into()]);
        }
    }
    args.extend([
        "--pid".into(),
        format!("/proc/self/fd/{ready_fd}"),
        "--userns".into(),
        format!("/proc/{child}/ns/user"),
        "--netns".into(),
        format!("/proc/{child}/ns/net"),
    ]);
    // SAFETY: geteuid has no failure mode.
    if unsafe { libc::geteuid() } == 0 {
        // pasta would switch from root to nobody, who cannot enter the
        // sandbox's namespaces (they are root's): it runs as the caller.
        args.extend(["--runas".into(), "0:0".into()]);
    }
    if !spec.namespaces.user {
        // A network namespace of the caller's own user namespace.
        args.retain(|a| a != "--userns" && !a.ends_with("/ns/user"));
    }
    args.into_iter().map(OsString::from).collect()
}

/// The running pasta; dropping it kills it and reaps it.
pub struct Pasta {
    pidfd: sys::Pidfd,
}

impl Pasta {
    /// The fds the supervisor must keep open while the sandbox runs.
    pub fn fds(&self) -> Vec<RawFd> {
        vec![self.pidfd.as_raw_fd()]
    }
}

impl Drop for Pasta {
    fn drop(&mut self) {
        // Through the pidfd: the monitor may have reaped pasta already (it
        // reaps every child), and its pid may be someone else's by now.
        // ESRCH: it has ended already.
        let _ = self.pidfd.send_signal(libc::SIGKILL);
        let mut st = 0;
        // SAFETY: waiting for our own child (ECHILD if already reaped).
        unsafe { libc::waitpid(self.pidfd.pid(), &mut st, 0) };
    }
}

/// Start pasta for the sandbox whose first process is `child` (waiting for
/// the go-ahead, so its namespaces are as the clone made them), and wait
/// until it has configured the network.
pub fn start(spec: &Spec, prep: &Prepared, child: libc::pid_t) -> Result<Pasta> {
    let bin = &prep.bin;
    let (ready_r, ready_w) = sys::pipe()?;
    let (err_r, err_w) = sys::pipe()?;
    let ready_fd = ready_w.as_raw_fd();
    let supervisor = std::process::id() as libc::pid_t;
    let mut cmd = Command::new(bin);
    cmd.args(arguments(spec, prep.dns_forward, child, ready_fd))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(err_w));
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            // Dies with the supervisor (SIGKILL included); the check after
            // arming covers a supervisor that was already gone.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0
                || libc::getppid() != supervisor
            {
                libc::_exit(1);
            }
            // Nothing of the supervisor's (the caller's fds for the
            // sandbox) goes to pasta but its pid-file pipe.
            libc::syscall(
                libc::SYS_close_range,
                3u32,
                u32::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            );
            if libc::fcntl(ready_fd, libc::F_SETFD, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let proc = cmd
        .spawn()
        .map_err(|e| anyhow!("--network pasta: can't run {}: {e}", bin.display()))?;
    drop(cmd);
    let pid = proc.id() as libc::pid_t;
    // pid is our unreaped child.
    let pidfd = sys::Pidfd::open(pid).inspect_err(|_| {
        // SAFETY: our own child, not reaped yet.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let mut st = 0;
        // SAFETY: reaping our own child.
        unsafe { libc::waitpid(pid, &mut st, 0) };
    })?;
    let pasta = Pasta { pidfd };
    drop(ready_w);
    match wait_ready(&ready_r) {
        Ready::Yes => Ok(pasta),
        Ready::Gone => {
            let text = messages(&err_r);
            let mut st = 0;
            // SAFETY: reaping our own child, which closed its pipe.
            unsafe { libc::waitpid(pid, &mut st, 0) };
            let how = match super::exit_code(st) {
                c if c > 128 => format!("was killed by signal {}", c - 128),
                c => format!("exited with status {c}"),
            };
            drop(pasta);
            bail!("--network pasta: pasta {how} before the network was ready: {text}")
        }
        Ready::TimedOut => {
            drop(pasta);
            bail!(
                "--network pasta: pasta did not configure the network within {} s: {}",
                READY_WITHIN.as_secs(),
                messages(&err_r)
            )
        }
    }
}

enum Ready {
    Yes,
    Gone,
    TimedOut,
}

/// pasta writes "PID\n" to its pid file once the namespace is configured;
/// EOF means it exited first.
fn wait_ready(r: &OwnedFd) -> Ready {
    let deadline = Instant::now() + READY_WITHIN;
    let mut got = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ready::TimedOut;
        }
        let mut pfd = libc::pollfd {
            fd: r.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(i32::MAX as u128) as i32) };
        if n < 0 {
            if sys::errno() == libc::EINTR {
                continue;
            }
            return Ready::Gone;
        }
        if n == 0 {
            return Ready::TimedOut;
        }
        let mut buf = [0u8; 32];
        match sys::read_some(r.as_raw_fd(), &mut buf) {
            Ok(0) | Err(_) => return Ready::Gone,
            Ok(k) => {
                got.extend_from_slice(&buf[..k]);
                if got.contains(&b'\n') {
                    return Ready::Yes;
                }
            }
        }
    }
}

/// What pasta said on stderr, on one line (its syslog complaints left out).
fn messages(r: &OwnedFd) -> String {
    // Non-blocking: a pasta that hangs must not hang us.
    // SAFETY: fcntl on our own fd.
    unsafe { libc::fcntl(r.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) };
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    while all.len() < 65536 {
        match sys::read_some(r.as_raw_fd(), &mut buf) {
            Ok(k) if k > 0 => all.extend_from_slice(&buf[..k]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&all);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !is_syslog_complaint(l))
        .collect();
    if lines.is_empty() {
        "it said nothing".into()
    } else {
        lines.join("; ")
    }
}

/// pasta also logs to syslog, and says so on stderr where there is none.
fn is_syslog_complaint(line: &str) -> bool {
    line.starts_with("Failed to send") && line.ends_with("to syslog")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_closed_unless_allowed() {
        let mut spec = Spec::default();
        spec.namespaces.user = true;
        spec.network.pasta = true;
        let words = |s: &Spec| -> Vec<String> {
            arguments(s, false, 42, 7)
                .into_iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        };
        let w = words(&spec);
        assert!(w.contains(&"--no-map-gw".into()));
        assert!(w.windows(2).any(|p| p == ["--tcp-ns", "none"]));
        assert!(w.windows(2).any(|p| p == ["--udp-ns", "none"]));
        assert!(w.windows(2).any(|p| p == ["--tcp-ports", "none"]));
        assert!(w.windows(2).any(|p| p == ["--userns", "/proc/42/ns/user"]));
        assert!(w.windows(2).any(|p| p == ["--pid", "/proc/self/fd/7"]));
        spec.network.allow_host_loopback = true;
        spec.network
            .publish
            .push(crate::cli::network::parse_publish("8080:80").unwrap());
        let w = words(&spec);
        assert!(!w.contains(&"--no-map-gw".into()));
        assert!(
            w.windows(2)
                .any(|p| p == ["--tcp-ports", "127.0.0.1/8080:80"])
        );
        assert!(w.windows(2).any(|p| p == ["--udp-ports", "none"]));
        assert!(!w.contains(&"--dns-forward".into()));
        let w: Vec<String> = arguments(&spec, true, 42, 7)
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(w.windows(2).any(|p| p == ["--dns-forward", DNS_FORWARD]));
    }

    #[test]
    fn resolv_conf_forwarded_only_for_a_loopback_resolver() {
        let host = "# stub\nsearch example.org\nnameserver 127.0.0.53\nnameserver 10.0.0.1\noptions edns0\n";
        assert_eq!(
            sandbox_resolv_conf(host).as_deref(),
            Some(
                "# sandwrap --network pasta: the host's resolver, forwarded by pasta\nnameserver 169.254.1.1\n# stub\nsearch example.org\noptions edns0\n"
            )
        );
        assert_eq!(
            sandbox_resolv_conf("nameserver 10.0.0.1\nnameserver 127.0.0.1\n"),
            None
        );
        assert_eq!(sandbox_resolv_conf("search x\n"), None);
        assert_eq!(sandbox_resolv_conf("nameserver ::1\n"), None);
    }
}
