//! The engine: the only code that makes system calls. It takes a `Spec` and
//! returns the exit status sandwrap should exit with.
//!
//! Processes: the supervisor stays outside and waits; the child (created in
//! the new namespaces by clone) builds the root and either becomes pid 1
//! (reaper) and forks the command, or execs the command itself.

mod caps;
mod child;
mod children;
pub(crate) mod control;
mod ctx;
mod diagnose;
pub(crate) mod exec;
mod execvp;
mod fds;
mod filters;
mod init;
mod landlock;
mod limits;
mod monitor;
mod mount;
mod net;
mod notifier;
mod pasta;
mod seccomp;
mod signals;
mod status;
mod subids;
mod supervisor;
pub(crate) mod sys;
mod timens;
mod userns;

use std::sync::atomic::{AtomicU64, Ordering};

use crate::out::{self, Level};

pub use supervisor::run;

/// The soft RLIMIT_NOFILE before setup raised it (0: not raised).
static SAVED_NOFILE: AtomicU64 = AtomicU64::new(0);

/// Remember (`Some`) or fetch (`None`) the caller's soft fd limit.
pub(crate) fn saved_nofile_limit(set: Option<u64>) -> Option<u64> {
    match set {
        Some(v) => {
            SAVED_NOFILE.store(v.max(1), Ordering::Relaxed);
            Some(v)
        }
        None => match SAVED_NOFILE.load(Ordering::Relaxed) {
            0 => None,
            v => Some(v),
        },
    }
}

/// Print an error the way bwrap does: `sandwrap: message`, or `<3>sandwrap:`
/// with `--level-prefix`.
pub(crate) fn report(spec: &crate::spec::Spec, err: &anyhow::Error) {
    let (msg, call) = message(err);
    out::message(spec.level_prefix, Level::Error, &msg);
    if let (true, Some(call)) = (spec.verbose, call) {
        out::message(
            spec.level_prefix,
            Level::Error,
            &format!("failed call: {call}"),
        );
    }
}

/// The one-line message for an error chain, and the failed system call
/// behind it (if any). The message uses bwrap's wording: the contexts, then
/// the `strerror` text; the call with its arguments is kept for --verbose,
/// and stands alone only when no context says what was being done.
pub(crate) fn message(err: &anyhow::Error) -> (String, Option<String>) {
    let mut parts = Vec::new();
    let mut failed: Option<&sys::SysError> = None;
    for e in err.chain() {
        match e.downcast_ref::<sys::SysError>() {
            Some(s) => {
                failed.get_or_insert(s);
            }
            None => parts.push(e.to_string()),
        }
    }
    let mut msg = parts.join(": ");
    if let Some(s) = failed {
        let text = crate::errno_text(s.errno);
        if msg.is_empty() {
            msg = s.to_string();
        } else if !msg.ends_with(&text) {
            msg = format!("{msg}: {text}");
        }
    }
    (msg, failed.map(|s| s.to_string()))
}

/// A warning line: `sandwrap: msg`, `<4>sandwrap: msg` with `--level-prefix`.
pub(crate) fn warn(level_prefix: bool, msg: &str) {
    out::message(level_prefix, Level::Warning, msg);
}

/// Leave a forked process without running the parent's exit handlers.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no shared state.
    unsafe { libc::_exit(code) }
}

/// bash's convention: the command's exit code, or 128+N for signal N.
pub fn exit_code(status: i32) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        255
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn exit_codes() {
        assert_eq!(super::exit_code(3 << 8), 3);
        assert_eq!(super::exit_code(9), 137);
        assert_eq!(super::exit_code(15), 143);
    }
}
