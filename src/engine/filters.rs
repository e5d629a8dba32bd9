//! The command's last steps: its seccomp filters, then exec.
//!
//! Once a filter is in force, any system call of sandwrap's own code may be
//! refused, turned into a notification nobody answers yet, or kill the
//! process (`--seccomp-deny write:kill`, `sendmsg`, `futex`, ...). So after
//! the first install the command's thread makes no system call but the
//! next installs and `execve`, and allocates nothing. What else must be
//! done then (sending the notification listener to the supervisor, telling
//! why exec failed, exiting) is done by a helper thread started before any
//! filter: seccomp filters bind the thread that installs them and threads
//! started later, never one already running. A successful exec ends the
//! helper with the rest of the old program. The command's thread hands it
//! work through atomics and waits by spinning, never by a system call.
//!
//! Order: sandwrap's own filter first (a caller's program could refuse the
//! call that installs it, or the sending of its listener), then the
//! caller's programs (`--seccomp`, `--add-seccomp-fd`), then exec.

use std::os::fd::{IntoRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::time::Duration;

use seccompiler::sock_filter;

use super::ctx::ChildCtx;
use super::execvp::{ExecPlan, exec_error};
use super::seccomp::{FilterError, send_fd, set_filter};
use super::{report, sys};
use crate::spec::Spec;

/// Work for the helper thread: what it is, and its numbers.
#[derive(Default)]
struct Desk {
    job: AtomicU32,
    /// A listener fd, or an errno.
    value: AtomicI32,
    /// Which caller program failed to install.
    index: AtomicU32,
    /// The helper has sent the listener on.
    done: AtomicBool,
}

const IDLE: u32 = 0;
const SEND_LISTENER: u32 = 1;
const INSTALL_FAILED: u32 = 2;
const EXEC_FAILED: u32 = 3;
const QUIT: u32 = 4;

impl Desk {
    fn post(&self, job: u32, value: i32, index: u32) {
        self.value.store(value, Ordering::Relaxed);
        self.index.store(index, Ordering::Relaxed);
        self.job.store(job, Ordering::Release);
    }

    /// Hand over a failure: the helper reports it and ends the process.
    fn fail(&self, job: u32, errno: i32, index: u32) -> ! {
        self.post(job, errno, index);
        loop {
            std::hint::spin_loop();
        }
    }
}

/// Install the filters and exec the command. Returns only when nothing was
/// installed yet, with the error to report the ordinary way.
pub fn seal_and_exec(
    spec: &Spec,
    ctx: &ChildCtx,
    caller: &[Vec<sock_filter>],
    mut plan: ExecPlan,
) -> anyhow::Error {
    let own = ctx.own_seccomp.as_ref();
    if own.is_none() && caller.is_empty() {
        let errno = plan.exec();
        exec_failed(ctx);
        return exec_error(spec, None, errno);
    }
    let desk = Desk::default();
    std::thread::scope(|scope| {
        let helper = std::thread::Builder::new()
            .name("sandwrap-helper".into())
            .spawn_scoped(scope, || helper(&desk, spec, ctx, caller));
        if let Err(e) = helper {
            exec_failed(ctx);
            return anyhow::anyhow!("Can't start a thread to install the seccomp filters: {e}");
        }
        if let Some(own) = own {
            match set_filter(&own.program, own.listener) {
                Ok(Some(listener)) => {
                    desk.post(SEND_LISTENER, listener.into_raw_fd(), 0);
                    while !desk.done.load(Ordering::Acquire) {
                        std::hint::spin_loop();
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    // Nothing is installed: this thread may still speak.
                    desk.post(QUIT, 0, 0);
                    exec_failed(ctx);
                    return e.to_error();
                }
            }
        }
        for (i, prog) in caller.iter().enumerate() {
            if let Err(e) = set_filter(prog, false) {
                desk.fail(INSTALL_FAILED, e.errno, i as u32);
            }
        }
        let errno = plan.exec();
        desk.fail(EXEC_FAILED, errno, 0)
    })
}

/// `--json-status-fd`: the command will not run after all.
fn exec_failed(ctx: &ChildCtx) {
    if let Some(fd) = ctx.exec_report {
        let _ = sys::write_all(fd, b"F");
    }
}

/// The helper thread: unfiltered, it does what the command's thread no
/// longer may. It never returns while the command's thread waits on it.
fn helper(desk: &Desk, spec: &Spec, ctx: &ChildCtx, caller: &[Vec<sock_filter>]) {
    loop {
        let job = desk.job.load(Ordering::Acquire);
        let value = desk.value.load(Ordering::Relaxed);
        let err = match job {
            IDLE => {
                std::thread::sleep(Duration::from_micros(20));
                continue;
            }
            QUIT => return,
            SEND_LISTENER => match send_listener(ctx, value) {
                Ok(()) => {
                    desk.job.store(IDLE, Ordering::Relaxed);
                    desk.done.store(true, Ordering::Release);
                    continue;
                }
                Err(e) => e,
            },
            INSTALL_FAILED => {
                let i = desk.index.load(Ordering::Relaxed) as usize;
                let len = caller.get(i).map_or(0, Vec::len);
                FilterError::caller(value, len).to_error()
            }
            _ => exec_error(spec, ctx.own_seccomp.as_ref().map(|o| &o.policy), value),
        };
        exec_failed(ctx);
        report(spec, &err);
        // The whole process, from a thread no filter binds.
        super::exit_now(1);
    }
}

/// Send the listener to the supervisor, then close it here (the process
/// shares one fd table): without a listener anywhere, notified calls fail
/// with ENOSYS rather than wait forever.
fn send_listener(ctx: &ChildCtx, listener: RawFd) -> anyhow::Result<()> {
    let sent = match ctx.seccomp_sock {
        Some(sock) => send_fd(sock, listener),
        None => Err(anyhow::anyhow!(
            "no channel to the supervisor for the seccomp listener"
        )),
    };
    // SAFETY: the listener was handed to this thread to pass on and close.
    unsafe { libc::close(listener) };
    sent.map_err(|e| e.context("--seccomp-report: the listener did not reach the supervisor"))
}
