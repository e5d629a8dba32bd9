//! What the supervisor prepares for the sandbox's first process before the
//! clone: shared by the setup (`child`), pid 1 (`init`), the last steps
//! (`exec`, `filters`) and the supervisor, none of which need each other for it.

use std::os::fd::RawFd;
use std::path::PathBuf;

use super::{signals, userns};

/// What the supervisor prepared for the child before the clone.
pub struct ChildCtx {
    pub ids: userns::IdPlan,
    pub caller: (u32, u32),
    pub old_cwd: Option<PathBuf>,
    pub own_pid_ns: bool,
    pub lifeline: RawFd,
    pub exec_report: Option<RawFd>,
    pub status_report: Option<RawFd>,
    pub go: Option<RawFd>,
    /// Written once the time namespace (and a cgroup namespace made after
    /// the move into the sandbox's cgroup) exists, for the supervisor's
    /// report.
    pub time_ready: Option<RawFd>,
    /// Our copies of the write ends of `lifeline`, `go` and
    /// `cgroup_placed`: closed first, so that only the supervisor holds
    /// them and its death reads as HUP/EOF.
    pub supervisor_ends: [Option<RawFd>; 3],
    /// With a cgroup of its own: a byte once the supervisor has moved us
    /// into it (EOF: it failed, and says why).
    pub cgroup_placed: Option<RawFd>,
    pub sigset: libc::sigset_t,
    /// The signal state the command gets back.
    pub caller_signals: signals::Caller,
    /// Highest capability number, read before /proc may be gone.
    pub last_cap: u8,
    /// `--fallback landlock`: no namespaces were created; skip everything
    /// that builds or enters them.
    pub fallback: bool,
    /// sandwrap's own seccomp programs, compiled before the clone.
    pub own_seccomp: Option<super::seccomp::OwnFilter>,
    /// Where the command sends its seccomp listener (with --seccomp-report).
    pub seccomp_sock: Option<RawFd>,
    /// `--pidns` with a new pid namespace: make it, fork its pid 1 and say
    /// so on this pipe, then stay as a relay (see `child::relay_pid_ns`).
    pub relay: Option<RawFd>,
    /// Where to say that the command's namespaces are in place (after the
    /// nested user and mount namespace), before a second go-ahead.
    pub namespaces_final: Option<RawFd>,
    /// `--rlimit`, checked by the supervisor; set by the command before exec.
    pub rlimits: Vec<super::limits::rlimits::Resolved>,
    /// `--network pasta` with a host resolver on loopback: pasta forwards
    /// DNS, the sandbox's resolv.conf is made to name the forward.
    pub dns_forward: bool,
}

/// Whether the supervisor is gone: the lifeline's write end, which only
/// the supervisor holds, has hung up.
pub fn supervisor_gone(lifeline: RawFd) -> bool {
    let mut pfd = libc::pollfd {
        fd: lifeline,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, zero timeout.
    let r = unsafe { libc::poll(&mut pfd, 1, 0) };
    r > 0 && pfd.revents & libc::POLLHUP != 0
}
