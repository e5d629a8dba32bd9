//! The supervisor's watch over a running sandbox (bwrap calls it the
//! monitor): pass signals on, learn the command's status, make sure nothing
//! is left, and write the last `--json-status-fd` line.

use std::os::fd::{AsRawFd, OwnedFd};

use super::{exit_code, fds, seccomp, signals, status, sys};
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
    pub notifier: Option<seccomp::Notifier<'a>>,
    pub fallback: bool,
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
    let status = wait_status(spec, &mut w);
    if let Some(note) = seccomp::sigsys_note(spec, status) {
        crate::out::stderr(&format!("{note}\n"));
    }
    let code = exit_code(status);
    if let (Some(fd), Some(r)) = (spec.status.json_status, &w.exec_report) {
        if exec_succeeded(r) {
            let line = status::exit_line(code);
            let written = fds::get(fd)
                .map_err(|e| e.errno)
                .and_then(|fd| sys::write_all(fd, line.as_bytes()));
            // The command's status still becomes ours; the lost line is said.
            if let Err(e) = written {
                super::warn(
                    spec.level_prefix,
                    &format!(
                        "--json-status-fd {fd}: can't write the exit code: {}",
                        crate::errno_text(e)
                    ),
                );
            }
        }
        fds::consume(fd);
    }
    code
}

/// The command's wait status, passing signals on meanwhile.
fn wait_status(spec: &Spec, w: &mut Watch<'_>) -> i32 {
    let shares_pgrp = !spec.new_session;
    // With a pid namespace of our own, pid 1's report is the end: it has
    // already ended every other process of the sandbox and exits right
    // after, so there is no need to wait while the kernel tears the
    // namespaces down. Not with lock files or a sync fd: when sandwrap
    // exits, those must already be released.
    let holds = !spec.lock_files.is_empty() || spec.status.sync.is_some();
    let early_ok = w.notifier.is_none() && !w.fallback && spec.namespaces.pid && !holds;
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
            (None, None) => signals::wait(&w.sigset),
        };
        if pipe_closed {
            // EOF (or a short write): pid 1 died without a report, or no
            // longer holds the pipe. The pipe would stay readable for
            // good: stop watching it and wait for SIGCHLD alone.
            early = None;
            continue;
        }
        if sig == libc::SIGCHLD {
            if let Some(st) = signals::reap(w.pid) {
                break st;
            }
        } else if signals::should_forward(code, shares_pgrp) {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(w.pid, sig) };
        }
    };
    match reported {
        Some(st) => {
            // pid 1 is on its way out; make sure of it, without waiting.
            // SAFETY: signalling our own child.
            unsafe { libc::kill(w.pid, libc::SIGKILL) };
            st
        }
        None => {
            let st = w
                .status_report
                .as_ref()
                .and_then(read_report)
                .unwrap_or(child_status);
            signals::kill_remaining_children();
            st
        }
    }
}

/// Exactly one byte on the exec report: the command was really executed.
fn exec_succeeded(r: &OwnedFd) -> bool {
    let mut buf = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match sys::read_some(r.as_raw_fd(), &mut buf[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    got == 1
}
