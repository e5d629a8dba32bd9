//! pid 1 of the sandbox: holds the lock files and the sync fd, reaps
//! orphans, passes signals on to the command and reports its status. When
//! the command exits, pid 1 exits too, which ends every process left in the
//! pid namespace: nothing the sandbox started outlives it.

use std::os::fd::{OwnedFd, RawFd};

use anyhow::{Result, anyhow};

use super::child::ChildCtx;
use super::exec::Prepared;
use super::{caps, exit_code, fds, report, signals, sys};
use crate::spec::Spec;

/// `locks`: the `--lock-file` locks, taken by this process before it forked
/// the command.
/// `ready`: closed once this process holds no capabilities and is filtered,
/// which lets the command go on.
pub fn reap(
    spec: &Spec,
    ctx: &ChildCtx,
    prepared: &Prepared,
    cmd: libc::pid_t,
    locks: Vec<OwnedFd>,
    ready: OwnedFd,
) -> ! {
    let mut keep: Vec<RawFd> = locks.iter().map(std::os::fd::AsRawFd::as_raw_fd).collect();
    keep.push(std::os::fd::AsRawFd::as_raw_fd(&ready));
    keep.extend(ctx.status_report);
    keep.extend(spec.status.sync.and_then(|fd| fds::get(fd).ok()));
    fds::close_all_except(&keep);
    let _ = caps::drop_all(ctx.last_cap);
    // Before the command may run: without landlock, non-dumpable is what
    // keeps the command out of this process. The caller's programs bind
    // pid 1 too, as in bwrap; sandwrap's own policy is the command's alone
    // (pid 1 must wait and take signals).
    if let Err(e) = super::landlock::protect_own_process()
        .and_then(|()| super::exec::install_caller_programs(&prepared.seccomp))
    {
        report(spec, &e);
        // SAFETY: killing the command we just forked; it must not run
        // under a pid 1 that failed to restrict itself.
        unsafe { libc::kill(cmd, libc::SIGKILL) };
        super::exit_now(1);
    }
    drop(ready);
    let shares_pgrp = !spec.new_session;
    // Waiting refused by a caller's program: fail as bwrap does, never spin
    // or hang.
    let refused = |e: super::sys::SysError| -> ! {
        report(spec, &anyhow::Error::new(e).context("init wait()"));
        // SAFETY: ending the command; nobody would reap it any more.
        unsafe { libc::kill(cmd, libc::SIGKILL) };
        super::exit_now(1)
    };
    let finish = |status: i32| -> ! {
        // Only as pid 1 of a namespace we created: a joined one
        // (--pidns without --unshare-pid) holds processes not ours.
        if spec.namespaces.pid && std::process::id() == 1 {
            end_namespace();
        }
        if let Some(fd) = ctx.status_report {
            let _ = sys::write_all(fd, &status.to_ne_bytes());
        }
        super::exit_now(exit_code(status))
    };
    loop {
        let (sig, code) = match signals::wait(&ctx.sigset) {
            Ok(got) => got,
            // Taking signals refused (a caller's program): just reap, as
            // bwrap's pid 1 does, without passing signals on.
            Err(_) => finish(signals::reap_blocking(cmd).unwrap_or_else(|e| refused(e))),
        };
        if sig == libc::SIGCHLD {
            if let Some(status) = signals::reap(cmd).unwrap_or_else(|e| refused(e)) {
                finish(status);
            }
        } else if signals::should_forward(code, shares_pgrp) {
            // SAFETY: signalling the command we forked.
            unsafe { libc::kill(cmd, sig) };
        }
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

/// The command is gone: end everything else in our pid namespace and reap
/// it, so that when the supervisor hears the status no process the command
/// started is left (only pid 1 itself, about to exit).
fn end_namespace() {
    // SAFETY: as pid 1 of our own pid namespace, -1 means "every other
    // process in this namespace", never anything outside it.
    unsafe { libc::kill(-1, libc::SIGKILL) };
    loop {
        let mut status = 0;
        // SAFETY: valid out-pointer.
        let r = unsafe { libc::waitpid(-1, &mut status, 0) };
        if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return; // ECHILD: nobody left
        }
    }
}
