//! pid 1 of the sandbox: holds the lock files and the sync fd, reaps
//! orphans, passes signals on to the command and reports its status.
//!
//! Two lifecycles. bwrap's (the default): when the command exits, pid 1
//! reports its status and stays, reaping, until the last process of the
//! sandbox has gone; it dies with the supervisor only with
//! `--die-with-parent`. `--end-with-command`: when the command exits, pid 1
//! ends everything else first (as pid 1 of its own pid namespace with
//! `kill(-1)`; without one, in `--fallback landlock`, as a child subreaper
//! over its descendants), then reports and exits; and it takes the whole
//! sandbox with it when the supervisor dies.

use std::os::fd::{OwnedFd, RawFd};

use anyhow::{Context, Result, anyhow};

use super::ctx::ChildCtx;
use super::exec::Prepared;
use super::{caps, exit_code, fds, report, signals, sys};
use crate::spec::Spec;

/// What pid 1 gives up before the command may run: every capability and,
/// without landlock, dumpability, which is then what keeps the command out
/// of this process. Done before the fork when the command needs none of
/// the capabilities (`exec::needs_caps`): the command then inherits the
/// same empty sets and need not wait for pid 1 (the protection is in
/// place before the command exists). `bounded`: what the bounding set
/// still holds (`caps::limit_bounding`).
pub fn protect(bounded: u64, ctx: &ChildCtx, isolation: crate::landlock::Isolation) -> Result<()> {
    caps::drop_all(bounded, ctx.last_cap)?;
    super::landlock::protect_own_process(isolation)
}

/// `locks`: the `--lock-file` locks, taken by this process before it forked
/// the command.
/// `ready`: when pid 1 was not protected before the fork: closed once this
/// process holds no capabilities and is filtered, which lets the command go
/// on.
/// `sigset`: what `arm_lifetime` returned.
pub fn reap(
    spec: &Spec,
    ctx: &ChildCtx,
    prepared: &Prepared,
    cmd: libc::pid_t,
    locks: Vec<OwnedFd>,
    ready: Option<OwnedFd>,
    sigset: libc::sigset_t,
) -> ! {
    let mut keep: Vec<RawFd> = locks.iter().map(std::os::fd::AsRawFd::as_raw_fd).collect();
    keep.extend(ready.as_ref().map(std::os::fd::AsRawFd::as_raw_fd));
    keep.extend(ctx.status_report);
    keep.extend(spec.status.sync.and_then(|fd| fds::get(fd).ok()));
    // The library's control socket, until pid 1 has protected itself: a
    // failure there is said to the caller as an error record.
    keep.extend(crate::control::fd());
    fds::close_all_except(&keep);
    // The caller's programs bind pid 1 too, as in bwrap; sandwrap's own
    // policy is the command's alone (pid 1 must wait and take signals).
    let protected = match ready {
        Some(_) => protect(
            super::exec::command_caps(spec, ctx),
            ctx,
            prepared.isolation,
        ),
        None => Ok(()),
    };
    if let Err(e) = protected.and_then(|()| super::exec::install_caller_programs(&prepared.seccomp))
    {
        report(spec, &e);
        // SAFETY: killing the command we just forked; it must not run
        // under a pid 1 that failed to restrict itself.
        unsafe { libc::kill(cmd, libc::SIGKILL) };
        super::exit_now(1);
    }
    drop(ready);
    if let Some(fd) = crate::control::fd() {
        crate::control::set_fd(None);
        // SAFETY: pid 1's copy of the control socket, used no more.
        unsafe { libc::close(fd) };
    }
    let shares_pgrp = !spec.new_session;
    // Waiting refused by a caller's program: fail as bwrap does, never spin
    // or hang.
    let refused = |e: super::sys::SysError| -> ! {
        report(spec, &anyhow::Error::new(e).context("init wait()"));
        // SAFETY: ending the command; nobody would reap it any more.
        unsafe { libc::kill(cmd, libc::SIGKILL) };
        super::exit_now(1)
    };
    let mut after = AfterCommand {
        spec,
        report: ctx.status_report,
        locks,
    };
    let mut cmd_status: Option<i32> = None;
    loop {
        let (sig, code) = match signals::wait(&sigset) {
            Ok(got) => got,
            // Taking signals refused (a caller's program): just reap, as
            // bwrap's pid 1 does, without passing signals on.
            Err(_) => {
                let status = match cmd_status {
                    Some(status) => status,
                    None => {
                        let status = signals::reap_blocking(cmd).unwrap_or_else(|e| refused(e));
                        after.command_exited(status, false);
                        status
                    }
                };
                if !spec.ends_with_command() {
                    // No pid is 0: this reaps until the last process has
                    // gone (ECHILD).
                    let _ = signals::reap_blocking(0);
                }
                super::exit_now(exit_code(status))
            }
        };
        if sig == libc::SIGCHLD {
            let (found, none_left) = signals::reap_all(cmd).unwrap_or_else(|e| refused(e));
            if let Some(status) = found {
                cmd_status = Some(status);
                after.command_exited(status, none_left);
            }
            match cmd_status {
                Some(status) if spec.ends_with_command() || none_left => {
                    super::exit_now(exit_code(status))
                }
                _ => {}
            }
        } else if sig == signals::supervisor_death_signal() && spec.ends_with_command() {
            // The supervisor is gone: the sandbox goes with it.
            end_sandbox();
            super::exit_now(1);
        } else if cmd_status.is_none() && signals::should_forward(code, shares_pgrp) {
            // SAFETY: signalling the command we forked (not yet reaped).
            unsafe { libc::kill(cmd, sig) };
        }
    }
}

/// What pid 1 does when the command has exited.
struct AfterCommand<'a> {
    spec: &'a Spec,
    report: Option<RawFd>,
    locks: Vec<OwnedFd>,
}

impl AfterCommand<'_> {
    /// With --end-with-command, end everything else first. Once the
    /// sandbox has ended (`none_left`, or ended here), release the lock
    /// files and the sync fd before the supervisor hears the status and
    /// returns. Then report it.
    fn command_exited(&mut self, status: i32, none_left: bool) {
        if self.spec.ends_with_command() {
            end_sandbox();
        }
        if self.spec.ends_with_command() || none_left {
            self.locks.clear();
            if let Some(fd) = self.spec.status.sync {
                fds::consume(fd);
            }
        }
        if let Some(fd) = self.report.take() {
            let _ = sys::write_all(fd, &status.to_ne_bytes());
            // SAFETY: our end of the report pipe, written once.
            unsafe { libc::close(fd) };
        }
    }
}

/// Before pid 1 forks the command: tie pid 1 to the supervisor as the
/// lifecycle asks, and return the signals pid 1 waits for. Done before the
/// fork (and before any seccomp program, which might deny prctl) so that
/// there is no moment when the command runs and pid 1 would die the wrong
/// way.
pub fn arm_lifetime(spec: &Spec, ctx: &ChildCtx) -> Result<libc::sigset_t> {
    let mut set = ctx.sigset;
    let own_ns = std::process::id() == 1;
    let deathsig = if spec.ends_with_command() && !own_ns {
        // No pid namespace (--fallback landlock): pid 1 must outlive the
        // supervisor long enough to end its descendants, which come back
        // to it as a child subreaper.
        sys::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, "PR_SET_CHILD_SUBREAPER")?;
        let sig = signals::supervisor_death_signal();
        // SAFETY: adding a valid signal number to a valid set.
        unsafe { libc::sigaddset(&mut set, sig) };
        signals::block(&set);
        sig
    } else if spec.ends_with_command() || spec.die_with_parent || crate::control::fd().is_some() {
        // With a pid namespace of its own, pid 1's death ends all of it.
        // A library's sandbox ends with its helper: once the caller has
        // the command's status it has no handle left on what the command
        // left running, and the helper's watch on the caller is gone.
        libc::SIGKILL
    } else {
        0 // bwrap's lifecycle: the sandbox does not die with sandwrap
    };
    sys::prctl(
        libc::PR_SET_PDEATHSIG,
        deathsig as libc::c_ulong,
        "PR_SET_PDEATHSIG",
    )
    .context("prctl")?;
    if deathsig != 0 && super::ctx::supervisor_gone(ctx.lifeline) {
        // It died before the signal was armed.
        super::exit_now(1);
    }
    Ok(set)
}

/// `--end-with-command`, the command is gone: end every other process of
/// the sandbox and reap it, so that when the supervisor hears the status
/// nothing the command started is left (only pid 1 itself, about to exit).
fn end_sandbox() {
    if std::process::id() == 1 {
        end_namespace();
    } else {
        signals::end_descendants();
    }
}

/// `--lock-file`: a shared (read) lock on each file for the sandbox's lifetime.
pub fn take_locks(spec: &Spec) -> Result<Vec<OwnedFd>> {
    let mut out = Vec::new();
    for path in &spec.lock_files {
        let fd = sys::openat(libc::AT_FDCWD, path, libc::O_RDONLY, 0).map_err(|e| {
            anyhow::Error::new(e).context(format!("Unable to open lock file {}", path.display()))
        })?;
        let lock = libc::flock {
            l_type: libc::F_RDLCK as i16,
            l_whence: libc::SEEK_SET as i16,
            l_start: 0,
            l_len: 0,
            l_pid: 0,
        };
        // SAFETY: valid fd and flock struct.
        if unsafe { libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(&fd), libc::F_SETLK, &lock) } != 0 {
            let e = sys::errno();
            return Err(anyhow!(
                "Unable to lock file {}: {}",
                path.display(),
                crate::errno_text(e)
            ));
        }
        out.push(fd);
    }
    Ok(out)
}

/// End everything else in our pid namespace and reap it.
fn end_namespace() {
    // SAFETY: as pid 1 of our own pid namespace, -1 means "every other
    // process in this namespace", never anything outside it.
    unsafe { libc::kill(-1, libc::SIGKILL) };
    // Until ECHILD: nobody left.
    while sys::waitpid(-1, 0).is_ok() {}
}
