//! The supervisor's watch over a running sandbox (bwrap calls it the
//! monitor): pass signals on, learn the command's status, with
//! --end-with-command make sure nothing is left, and write the last
//! `--json-status-fd` line.

use std::os::fd::{AsRawFd, OwnedFd};

use super::limits::{timeout, usage};
use super::seccomp::{self, Died};
use super::{exit_code, fds, signals, status, sys};
use crate::spec::Spec;

/// What the supervisor watches once the sandbox runs.
pub struct Watch<'a> {
    /// The sandbox's first process (pid 1, or the command itself).
    pub pid: libc::pid_t,
    pub sigset: libc::sigset_t,
    /// pid 1's report of the command's wait status.
    pub status_report: Option<OwnedFd>,
    /// One byte before exec, a second one when exec failed.
    pub exec_report: Option<OwnedFd>,
    /// Answers `--seccomp-report` notifications while waiting.
    pub notifier: Option<super::notifier::Notifier<'a>>,
    /// sandwrap's policy for the command, for the SIGSYS note.
    pub own_policy: Option<&'a crate::seccomp::Policy>,
    pub fallback: bool,
    /// The `--timeout` thread, when it had to start before a join.
    pub early_timer: Option<super::limits::timeout::Early>,
    /// `--network pasta`'s pasta: a child of ours but not of the sandbox,
    /// which the `--timeout` watchdog leaves alone (the sandbox keeps its
    /// network through the grace period); ended once the sandbox has.
    pub pasta: Option<super::pasta::Pasta>,
    /// The sandbox's own cgroup: ended with cgroup.kill once the command's
    /// status is known; its figures are the usage.
    pub cgroup: Option<&'a super::limits::cgroup_own::OwnCgroup>,
}

/// pid 1's report: the command's wait status.
fn read_report(r: &OwnedFd) -> Option<i32> {
    let mut buf = [0u8; 4];
    match sys::read_some(r.as_raw_fd(), &mut buf) {
        Ok(4) => Some(i32::from_ne_bytes(buf)),
        _ => None,
    }
}

/// Wait for the command to end; returns sandwrap's exit status.
pub fn run(spec: &Spec, mut w: Watch<'_>) -> i32 {
    let started = std::time::Instant::now();
    super::control::watch(w.pid);
    // --timeout: a thread that only signals; an error ends the sandbox.
    let helpers: Vec<libc::pid_t> = w.pasta.iter().map(|p| p.pid()).collect();
    let watchdog = timeout::start(
        spec,
        w.pid,
        w.fallback,
        w.early_timer.take(),
        &helpers,
        w.cgroup.map(|cg| cg.dir.join("cgroup.kill")),
    )
    .map_err(|e| {
        super::report(spec, &e);
        // SAFETY: killing our own child, which must not run unlimited.
        unsafe { libc::kill(w.pid, libc::SIGKILL) };
    });
    let (status, who) = wait_status(spec, &mut w);
    // pasta ends by its own supervision (killed and reaped through its
    // pidfd), before anything below ends what is left of the sandbox.
    drop(w.pasta.take());
    if let Some(cg) = w.cgroup {
        // Whatever is left in the sandbox ends now, wherever it went in
        // the process tree.
        cg.end();
    }
    if let Some(note) = seccomp::sigsys_note(spec, w.own_policy, status, who) {
        super::warn(spec.level_prefix, &note);
    }
    let code = exit_code(status);
    let timed_out = matches!(&watchdog, Ok(Some(d)) if d.finish());
    if timed_out {
        // The command's end may have come from the watchdog's SIGKILL while
        // it was still walking the sandbox: whatever it has not reached yet
        // goes now (we are a subreaper with --timeout), so the limit holds
        // for all the command started, whatever the lifecycle.
        signals::end_descendants();
    }
    let exec = w.exec_report.as_ref().map(exec_outcome);
    let executed = exec == Some(Exec::Ran);
    crate::control::send(&match exec {
        Some(Exec::Ran) => crate::control::Event::Ran { status, timed_out },
        failed => crate::control::Event::NotRun {
            exec_failed: failed == Some(Exec::Failed),
            status,
        },
    });
    // sandwrap's usage object: asked for (bwrap's stream stays bwrap's
    // otherwise), and only when the command ran (not for a failed setup).
    let json_usage = spec.limits.json_usage || spec.limits.timeout.is_some();
    let usage = ((executed || timed_out) && (json_usage || spec.verbose)).then(|| {
        // pid 1 may be left unwaited for (its report came first): its
        // figures include every process it waited for. By bwrap's
        // lifecycle pid 1 stays as long as anything the command left runs:
        // not waited for then (the command would hold sandwrap for ever).
        // With no child left it has reported its last and is exiting.
        let stays = !spec.ends_with_command() && !super::children::of(w.pid).is_empty();
        let how = if stays { libc::WNOHANG } else { 0 };
        // Our own child (ECHILD if already done).
        let _ = sys::waitpid(w.pid, how);
        usage::measure(started, w.cgroup.and_then(|cg| cg.usage()))
    });
    if let (true, Some(u)) = (spec.verbose, &usage) {
        let info = crate::out::Level::Info;
        crate::out::message(spec.level_prefix, info, &usage::summary(u));
    }
    if let (Some(fd), Some(_)) = (spec.status.json_status, &w.exec_report) {
        let mut lines = Vec::new();
        if executed {
            lines.push(("the exit code", status::exit_line(code)));
        }
        // sandwrap's own object, after bwrap's lines.
        if let (true, Some(u)) = (json_usage, &usage) {
            lines.push(("the usage", usage::json_line(u, timed_out)));
        }
        for (what, line) in lines {
            let written = fds::get(fd)
                .map_err(|e| e.errno)
                .and_then(|fd| sys::write_all(fd, line.as_bytes()));
            // The command's status still becomes ours; the lost line is
            // said, once (a reader that has gone does not come back).
            if let Err(e) = written {
                super::warn(
                    spec.level_prefix,
                    &format!(
                        "--json-status-fd {fd}: can't write {what}: {}",
                        crate::errno_text(e)
                    ),
                );
                break;
            }
        }
        fds::consume(fd);
    }
    match watchdog {
        Err(()) => 1,
        Ok(_) if timed_out => timeout::EXIT_TIMED_OUT,
        Ok(_) => code,
    }
}

/// The wait status, and whose it is, passing signals on meanwhile.
///
/// With a pid 1, its report is the end of the wait. By default (bwrap's
/// lifecycle) sandwrap returns with it, whatever the command left running:
/// pid 1 stays until the last process has gone. With --end-with-command
/// pid 1 has already ended every other process when it reports, and exits
/// right after; lock files and the sync fd must then be released before
/// sandwrap returns, so with those the wait is for pid 1 itself.
fn wait_status(spec: &Spec, w: &mut Watch<'_>) -> (i32, Died) {
    let shares_pgrp = !spec.new_session;
    let end = spec.ends_with_command();
    let holds = !spec.lock_files.is_empty() || spec.status.sync.is_some();
    let early_ok = w.notifier.is_none() && !(end && holds);
    let mut early = match (&w.status_report, early_ok) {
        (Some(r), true) => signals::SignalFd::new(&w.sigset).ok().map(|sfd| (r, sfd)),
        _ => None,
    };
    let mut reported = None;
    let child_status = loop {
        let mut pipe_closed = false;
        let (sig, code) = match (w.notifier.as_mut(), &early) {
            (Some(n), _) => n.wait(),
            (None, Some((r, sfd))) => match sfd.wait_or_readable(r.as_raw_fd()) {
                signals::Event::Signal(sig, code) => (sig, code),
                signals::Event::Readable => match read_report(r) {
                    Some(st) => {
                        reported = Some(st);
                        break st;
                    }
                    None => {
                        pipe_closed = true;
                        (0, 0)
                    }
                },
            },
            (None, None) => match signals::wait(&w.sigset) {
                Ok(got) => got,
                Err(e) => break refused(spec, w.pid, e),
            },
        };
        if pipe_closed {
            // EOF (or a short write): pid 1 died without a report, or no
            // longer holds the pipe. The pipe would stay readable for
            // good: stop watching it and wait for SIGCHLD alone.
            early = None;
            continue;
        }
        if sig == libc::SIGCHLD {
            match signals::reap(w.pid) {
                Ok(Some(st)) => break st,
                Ok(None) => {}
                Err(e) => break refused(spec, w.pid, e),
            }
        } else if signals::should_forward(code, shares_pgrp) {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(w.pid, sig) };
        }
    };
    let status = match reported {
        Some(st) => {
            if end {
                // pid 1 is on its way out; make sure of it, without waiting.
                // SAFETY: signalling our own child.
                unsafe { libc::kill(w.pid, libc::SIGKILL) };
            }
            (st, Died::Command)
        }
        // With a pid 1, a status it did not report is its own.
        None => match &w.status_report {
            Some(r) => read_report(r).map_or((child_status, Died::Pid1), |st| (st, Died::Command)),
            None => (child_status, Died::Command),
        },
    };
    if end && w.fallback {
        // No pid namespace: whatever came back to us (a subreaper) when
        // the sandbox's first process ended goes now.
        signals::end_descendants();
    }
    status
}

/// Waiting itself was refused (a seccomp filter around sandwrap): end the
/// sandbox rather than spin; the status of a process that exited with 1.
fn refused(spec: &Spec, pid: libc::pid_t, e: sys::SysError) -> i32 {
    super::report(
        spec,
        &anyhow::Error::new(e).context("waiting for the sandbox"),
    );
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    1 << 8
}

/// What the exec report says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exec {
    /// No byte: the setup failed before.
    NotReached,
    /// One byte: the command was really executed.
    Ran,
    /// A second byte: exec failed.
    Failed,
}

fn exec_outcome(r: &OwnedFd) -> Exec {
    let mut buf = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match sys::read_some(r.as_raw_fd(), &mut buf[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    match got {
        0 => Exec::NotReached,
        1 => Exec::Ran,
        _ => Exec::Failed,
    }
}
