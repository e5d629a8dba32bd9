//! The sandbox's first process: enters the id maps, builds the new root,
//! then becomes pid 1 (reaper) and forks the command, or execs it directly.

use std::os::fd::{AsFd, RawFd};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{exec, fds, init, mount, net, report, signals, sys, userns};
use crate::spec::Spec;

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
    /// Written once the time namespace exists (for the supervisor's report).
    pub time_ready: Option<RawFd>,
    /// Our copies of the write ends of `lifeline` and `go`: closed first, so
    /// that only the supervisor holds them and its death reads as HUP/EOF.
    pub supervisor_ends: [Option<RawFd>; 2],
    pub sigset: libc::sigset_t,
    /// Highest capability number, read before /proc may be gone.
    pub last_cap: u8,
    /// `--fallback landlock`: no namespaces were created; skip everything
    /// that builds or enters them.
    pub fallback: bool,
    /// sandwrap's own seccomp programs, compiled before the clone.
    pub own_seccomp: Option<super::seccomp::OwnFilter>,
    /// Where the command sends its seccomp listener (with --seccomp-report).
    pub seccomp_sock: Option<RawFd>,
    /// `--rlimit`, checked by the supervisor; set by the command before exec.
    pub rlimits: Vec<super::limits::rlimits::Resolved>,
}

/// Entry point after clone; never returns.
pub fn main(spec: &Spec, ctx: &ChildCtx) -> ! {
    let err = match setup(spec, ctx) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    report(spec, &err);
    super::exit_now(1)
}

fn supervisor_gone(lifeline: RawFd) -> bool {
    let mut pfd = libc::pollfd {
        fd: lifeline,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, zero timeout.
    let r = unsafe { libc::poll(&mut pfd, 1, 0) };
    r > 0 && pfd.revents & libc::POLLHUP != 0
}

fn setup(spec: &Spec, ctx: &ChildCtx) -> Result<std::convert::Infallible> {
    for fd in ctx.supervisor_ends.into_iter().flatten() {
        // SAFETY: our copy of a pipe end the supervisor keeps.
        unsafe { libc::close(fd) };
    }
    sys::prctl(
        libc::PR_SET_PDEATHSIG,
        libc::SIGKILL as libc::c_ulong,
        "PR_SET_PDEATHSIG",
    )
    .context("prctl")?;
    if supervisor_gone(ctx.lifeline) {
        super::exit_now(1);
    }
    // Until the command runs, a signal passed on by the supervisor (SIGTERM
    // from `timeout`, Ctrl-C with --new-session) ends setup, even one that
    // waits on --block-fd: pid 1 of a pid namespace only gets signals from
    // outside for which it has a handler.
    signals::end_on_signals();
    // The status fds belong to the supervisor.
    let report_fd = match spec.seccomp.report {
        Some(crate::spec::ReportTo::Fd(fd)) => Some(fd),
        _ => None,
    };
    for fd in [spec.status.info, spec.status.json_status, report_fd]
        .into_iter()
        .flatten()
    {
        fds::consume(fd);
    }

    if spec.namespaces.time && !ctx.fallback {
        // Before anything forks: see timens.rs.
        super::timens::create(spec)?;
    }
    if let Some(fd) = ctx.time_ready {
        let _ = sys::write_all(fd, b"t");
        // SAFETY: our end of the supervisor's pipe, used once.
        unsafe { libc::close(fd) };
    }
    if let Some(go) = ctx.go {
        // The supervisor has reported us (and, with --userns-block-fd, an
        // outside helper has written our id maps). Anything but its byte
        // means it failed and has said why: end without a word.
        let mut b = [0u8; 1];
        if sys::read_some(go, &mut b) != Ok(1) {
            super::exit_now(1);
        }
    }
    if ctx.fallback {
        // SAFETY: umask has no failure mode.
        let old_umask = unsafe { libc::umask(0) };
        return run(spec, ctx, old_umask);
    }
    // The nested maps are written after the pivot, through the host's
    // procfs: the sandbox's own /proc may be missing or read-only.
    let proc = if spec.namespaces.user || spec.needs_mount_lock() {
        Some(
            sys::openat(
                libc::AT_FDCWD,
                Path::new("/proc"),
                libc::O_PATH | libc::O_DIRECTORY,
                0,
            )
            .context("Can't open /proc")?,
        )
    } else {
        None
    };
    if let Some(proc) = proc
        .as_ref()
        // Written from outside with --userns-block-fd and --map-subids.
        .filter(|_| {
            spec.namespaces.user && spec.status.userns_block.is_none() && spec.subids.is_none()
        })
    {
        userns::write_maps(&ctx.ids.first, true, proc.as_fd())?;
    }

    // SAFETY: umask has no failure mode.
    let old_umask = unsafe { libc::umask(0) };

    sys::mount(
        None,
        Path::new("/"),
        None,
        libc::MS_SLAVE | libc::MS_REC,
        None,
    )
    .context("Failed to make / slave")?;
    let opened = mount::open_sources(&spec.ops, &spec.no_follow)?;
    let mut root = mount::NewRoot::create()?;
    mount::apply_all(&mut root, opened, spec, ctx.own_pid_ns)?;

    if let Some(name) = &spec.hostname {
        let c = sys::cstring(name);
        // SAFETY: valid buffer and length.
        if unsafe { libc::sethostname(c.as_ptr(), c.as_bytes().len()) } != 0 {
            bail!(
                "Can't set hostname to {}: {}",
                name.to_string_lossy(),
                crate::errno_text(sys::errno())
            );
        }
    }
    if spec.namespaces.net {
        net::loopback_up()?;
    }
    if spec.disable_userns {
        // One more user namespace (the nested one below) and no more: the
        // limit counts every namespace created below this one.
        sys::write_file(Path::new("/proc/sys/user/max_user_namespaces"), b"1")
            .context("sysctl user.max_user_namespaces = 1")?;
    }
    root.pivot()?;

    if let Some(fd) = spec.join.userns2 {
        fds::get(fd)
            .and_then(|fd| sys::setns(fd, libc::CLONE_NEWUSER, "userns2"))
            .context("Setting userns2 failed")?;
    }
    if let (Some(nested), Some(proc)) = (&ctx.ids.nested, &proc) {
        userns::enter_nested(nested, proc.as_fd())?;
    }
    if let (true, Some(proc)) = (spec.needs_mount_lock(), &proc) {
        userns::lock_mounts(proc.as_fd())?;
    }
    drop(proc);
    if spec.disable_userns || spec.assert_userns_disabled {
        // SAFETY: plain syscall; success is the failure we check for.
        if unsafe { libc::unshare(libc::CLONE_NEWUSER) } == 0 {
            bail!("creation of new user namespaces was not disabled as requested");
        }
    }

    run(spec, ctx, old_umask)
}

/// Everything after the sandbox is in place: prepare, then become pid 1 or
/// the command.
fn run(spec: &Spec, ctx: &ChildCtx, old_umask: libc::mode_t) -> Result<std::convert::Infallible> {
    let prepared = exec::prepare(spec, ctx, old_umask)?;
    // From here pid 1 takes signals with sigwaitinfo and passes them on.
    signals::take_signals_back(&ctx.sigset);
    if spec.needs_reaper() {
        // Locked before the fork (fcntl locks stay with the process that
        // becomes pid 1), so they are held before the command starts.
        let locks = init::take_locks(spec)?;
        // The command waits until pid 1 has given up its capabilities.
        let (ready_r, ready_w) = sys::pipe()?;
        // SAFETY: single-threaded; the child only runs our own code then execs.
        match unsafe { libc::fork() } {
            -1 => bail!("Can't fork for pid 1: {}", crate::errno_text(sys::errno())),
            0 => {
                drop(ready_w);
                exec::run_command(spec, ctx, prepared, Some(ready_r))
            }
            cmd => {
                drop(ready_r);
                init::reap(spec, ctx, &prepared.without_landlock(), cmd, locks, ready_w)
            }
        }
    } else {
        exec::run_command(spec, ctx, prepared, None)
    }
}
