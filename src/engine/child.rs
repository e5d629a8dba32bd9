//! The sandbox's first process: enters the id maps, builds the new root,
//! then becomes pid 1 (reaper) and forks the command, or execs it directly.

use std::os::fd::{AsFd, RawFd};
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::ctx::{ChildCtx, supervisor_gone};
use super::{caps, exec, fds, init, mount, net, report, signals, sys, userns};
use crate::spec::Spec;

/// Entry point after clone; never returns.
pub fn main(spec: &Spec, ctx: &ChildCtx) -> ! {
    let err = match setup(spec, ctx) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    report(spec, &err);
    super::exit_now(1)
}

/// `--pidns` with a new pid namespace: this process, in the joined pid
/// namespace, cannot be in a new one itself (setns(CLONE_NEWPID) only
/// moves children), so it makes one for its children and forks the new
/// namespace's pid 1, which goes on with the setup. This process stays as
/// a relay between the supervisor and pid 1: a process injected into a
/// pid namespace hands its orphans to that namespace's init, not to the
/// supervisor, so pid 1 could not become the supervisor's child. The relay
/// holds nothing, passes on the signals the supervisor sends, dies with
/// the supervisor (and pid 1 with it when its lifecycle says so), and
/// exits with pid 1's status.
fn relay_pid_ns(ctx: &ChildCtx, forked: RawFd) -> Result<()> {
    sys::unshare(libc::CLONE_NEWPID).context("unshare pid ns")?;
    // SAFETY: single-threaded; the child goes on with our own code.
    match unsafe { libc::fork() } {
        -1 => bail!("Can't fork: {}", crate::errno_text(sys::errno())),
        0 => {
            // SAFETY: the relay's end; pid 1 does not keep it.
            unsafe { libc::close(forked) };
            Ok(())
        }
        pid1 => {
            sys::close_fds_except(&[forked]);
            let _ = sys::write_all(forked, b"f");
            // SAFETY: our own pipe end, used once.
            unsafe { libc::close(forked) };
            loop {
                let status = match signals::wait(&ctx.sigset) {
                    Ok((libc::SIGCHLD, _)) => signals::reap(pid1),
                    // From the terminal (the relay shares the caller's
                    // process group): the command has it already, and
                    // what should go on comes from the supervisor.
                    Ok((_, libc::SI_KERNEL)) => continue,
                    Ok((sig, _)) => {
                        // SAFETY: our child, not yet reaped.
                        unsafe { libc::kill(pid1, sig) };
                        continue;
                    }
                    Err(_) => signals::reap_blocking(pid1).map(Some),
                };
                match status {
                    Ok(Some(status)) => super::exit_now(super::exit_code(status)),
                    Ok(None) => {}
                    Err(_) => super::exit_now(1),
                }
            }
        }
    }
}

/// During setup: die with the supervisor (its parent), or with the relay.
fn tie_to_parent(lifeline: RawFd) -> Result<()> {
    sys::prctl(
        libc::PR_SET_PDEATHSIG,
        libc::SIGKILL as libc::c_ulong,
        "PR_SET_PDEATHSIG",
    )
    .context("prctl")?;
    if supervisor_gone(lifeline) {
        super::exit_now(1);
    }
    Ok(())
}

fn setup(spec: &Spec, ctx: &ChildCtx) -> Result<std::convert::Infallible> {
    for fd in ctx.supervisor_ends.into_iter().flatten() {
        // SAFETY: our copy of a pipe end the supervisor keeps.
        unsafe { libc::close(fd) };
    }
    tie_to_parent(ctx.lifeline)?;
    if let Some(placed) = ctx.cgroup_placed {
        // Nothing runs (nor forks) before we are in the sandbox's cgroup.
        let mut b = [0u8; 1];
        if sys::read_some(placed, &mut b) != Ok(1) {
            super::exit_now(1);
        }
        // SAFETY: our end of a pipe used once.
        unsafe { libc::close(placed) };
        if spec.namespaces.cgroup && !ctx.fallback {
            // Rooted at the cgroup we are in now: the command sees `/`.
            sys::unshare(libc::CLONE_NEWCGROUP).context("unshare cgroup namespace")?;
        }
    }
    if let Some(forked) = ctx.relay {
        relay_pid_ns(ctx, forked)?;
        tie_to_parent(ctx.lifeline)?;
    }
    // Until the command runs, a signal passed on by the supervisor (SIGTERM
    // from `timeout`, Ctrl-C with --new-session) ends setup, even one that
    // waits on --block-fd: pid 1 of a pid namespace only gets signals from
    // outside for which it has a handler.
    signals::end_on_signals(&ctx.caller_signals);
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
    let proc = if spec.namespaces.user || spec.needs_mount_lock() || ctx.cgroup_placed.is_some() {
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
    mount::apply_all(&mut root, opened, spec, ctx.own_pid_ns, ctx.dns_forward)?;

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
    if ctx.cgroup_placed.is_some() {
        if let Some(proc) = &proc {
            super::limits::cgroup_lock::lock_cgroupfs(proc.as_fd())?;
        }
    }

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
    if let Some(fd) = ctx.namespaces_final {
        // The supervisor reports the namespaces the command runs in; it
        // must have done so before the command runs.
        let _ = sys::write_all(fd, b"n");
        // SAFETY: our end of a pipe used once.
        unsafe { libc::close(fd) };
        if let Some(go) = ctx.go {
            let mut b = [0u8; 1];
            if sys::read_some(go, &mut b) != Ok(1) {
                // EOF: the supervisor failed to report, or is gone.
                super::exit_now(1);
            }
        }
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
    signals::take_signals_back(&ctx.sigset, &ctx.caller_signals);
    // Once here for pid 1 and the command: ~40 calls, not twice that.
    let keep = exec::command_caps(spec, ctx);
    caps::limit_bounding(keep, ctx.last_cap)?;
    if spec.needs_reaper() {
        // Locked before the fork (fcntl locks stay with the process that
        // becomes pid 1), so they are held before the command starts.
        let locks = init::take_locks(spec)?;
        let sigset = init::arm_lifetime(spec, ctx)?;
        // pid 1 gives up its capabilities (and installs the caller's
        // programs) before the command may go on: before the fork when
        // the command needs neither, else the command waits for it.
        let ready = if exec::needs_caps(spec, ctx) || !prepared.seccomp.is_empty() {
            Some(sys::pipe()?)
        } else {
            init::protect(keep, ctx, prepared.isolation)?;
            None
        };
        // SAFETY: single-threaded; the child only runs our own code then execs.
        match unsafe { libc::fork() } {
            -1 => bail!("Can't fork for pid 1: {}", crate::errno_text(sys::errno())),
            0 => {
                let ready_r = ready.map(|(r, w)| {
                    drop(w);
                    r
                });
                exec::run_command(spec, ctx, prepared, ready_r)
            }
            cmd => {
                let ready_w = ready.map(|(r, w)| {
                    drop(r);
                    w
                });
                init::reap(
                    spec,
                    ctx,
                    &prepared.without_landlock(),
                    cmd,
                    locks,
                    ready_w,
                    sigset,
                )
            }
        }
    } else {
        exec::run_command(spec, ctx, prepared, None)
    }
}
