//! [`Child`]: a running sandboxed command, watched through its helper.

use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::command::Ends;
use super::{Error, ExitStatus};
use crate::control::{Event, Request};

/// A command running in a sandbox, as [`std::process::Child`].
///
/// Dropping a `Child` without waiting for it ends its sandbox (the control
/// socket closes); a short-lived thread then reaps the helper.
///
/// For async runtimes, `Child` is [`AsFd`] and [`AsRawFd`]: the fd (a pidfd of the helper)
/// becomes readable when the sandbox has ended, and then [`wait`](Child::wait)
/// does not block; it stays open, and the same, for the `Child`'s lifetime
/// (what tokio's `AsyncFd::register` asks). With tokio:
///
/// ```no_run
/// # async fn f(sb: sandwrap::Sandbox) -> Result<(), Box<dyn std::error::Error>> {
/// use tokio::io::unix::AsyncFd;
/// let child = sb.command("true").spawn()?;
/// // SAFETY: a Child's fd stays open, and the same, until it is dropped.
/// let fd = unsafe { AsyncFd::register_with_interest(child, tokio::io::Interest::READABLE) }?;
/// let mut ready = fd.readable().await?;
/// ready.retain_ready();
/// let status = fd.into_inner().wait()?;
/// assert!(status.success());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Child {
    helper: std::process::Child,
    control: OwnedFd,
    /// pidfd of the helper; None on kernels without pidfds (the control
    /// socket stands in).
    pidfd: Option<OwnedFd>,
    /// The command's stdin, if piped.
    pub stdin: Option<std::process::ChildStdin>,
    /// The command's stdout, if piped.
    pub stdout: Option<std::process::ChildStdout>,
    /// The command's stderr (and sandwrap's messages), if piped.
    pub stderr: Option<std::process::ChildStderr>,
    /// Records received so far.
    events: Vec<Event>,
    done: Option<Result<ExitStatus, String>>,
}

/// The result of [`Command::output`](crate::Command::output).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// How the command ended.
    pub status: ExitStatus,
    /// What it wrote to stdout.
    pub stdout: Vec<u8>,
    /// What it (and sandwrap, for warnings) wrote to stderr.
    pub stderr: Vec<u8>,
}

impl Child {
    pub(crate) fn new(helper: std::process::Child, control: OwnedFd, ends: Ends) -> Self {
        // SAFETY: pidfd_open only creates an fd; the helper is our
        // unreaped child, so its pid cannot have been reused.
        let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, helper.id(), 0) };
        // SAFETY: a new fd that nobody else owns.
        let pidfd = (raw >= 0).then(|| unsafe { OwnedFd::from_raw_fd(raw as i32) });
        Child {
            helper,
            control,
            pidfd,
            stdin: ends.stdin.map(Into::into),
            stdout: ends.stdout.map(Into::into),
            stderr: ends.stderr.map(Into::into),
            events: Vec::new(),
            done: None,
        }
    }

    /// The helper's pid (the `sandwrap` process; signals sent to it are
    /// passed on to the sandbox, as with the command).
    pub fn id(&self) -> u32 {
        self.helper.id()
    }

    /// The pid of the sandbox's first process (its pid 1 with a pid
    /// namespace, else the command's own process), once sandwrap has
    /// created it; None before, or if setup failed first. Never blocks.
    pub fn sandbox_pid(&mut self) -> Option<u32> {
        if self.done.is_none() {
            self.drain();
        }
        self.events.iter().find_map(|e| match e {
            Event::Started(pid) => u32::try_from(*pid).ok(),
            _ => None,
        })
    }

    /// Send `sig` to the sandbox's first process (with a pid namespace,
    /// its pid 1 passes it on to the command). A sandbox that has ended
    /// is no error.
    pub fn signal(&mut self, sig: i32) -> Result<(), Error> {
        if self.done.is_some() {
            return Ok(());
        }
        let rec = Request::Signal(sig).encode();
        // SAFETY: rec is valid for its length; MSG_NOSIGNAL for a gone peer.
        let r = unsafe {
            libc::send(
                self.control.as_raw_fd(),
                rec.as_ptr().cast(),
                rec.len(),
                libc::MSG_NOSIGNAL,
            )
        };
        match r {
            n if n >= 0 => Ok(()),
            _ => match std::io::Error::last_os_error() {
                e if e.raw_os_error() == Some(libc::EPIPE) => Ok(()),
                e if e.raw_os_error() == Some(libc::ECONNRESET) => Ok(()),
                e => Err(Error::Io(e)),
            },
        }
    }

    /// SIGKILL the sandbox's first process (everything, with a pid
    /// namespace); [`wait`](Self::wait) then gives signal 9.
    pub fn kill(&mut self) -> Result<(), Error> {
        self.signal(libc::SIGKILL)
    }

    /// Wait for the command to end (closing its stdin first, as std does).
    /// `Err` when the sandbox could not be set up ([`Error::Setup`]) or the
    /// command not executed ([`Error::Exec`]), with sandwrap's message.
    pub fn wait(&mut self) -> Result<ExitStatus, Error> {
        drop(self.stdin.take());
        if self.done.is_none() {
            let st = self.helper.wait()?;
            self.finish(st);
        }
        self.result()
    }

    /// The command's end if it has come, without blocking.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>, Error> {
        if self.done.is_none() {
            match self.helper.try_wait()? {
                Some(st) => self.finish(st),
                None => return Ok(None),
            }
        }
        self.result().map(Some)
    }

    /// Wait, collecting what is left on piped stdout and stderr.
    pub fn wait_with_output(mut self) -> Result<Output, Error> {
        self.wait_with_output_piped()
    }

    pub(crate) fn wait_with_output_piped(&mut self) -> Result<Output, Error> {
        drop(self.stdin.take());
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let (so, se) = (self.stdout.take(), self.stderr.take());
        // Both at once (a full stderr pipe must not stall stdout).
        std::thread::scope(|s| -> std::io::Result<()> {
            let e = se.map(|mut se| {
                let err = &mut err;
                s.spawn(move || se.read_to_end(err))
            });
            if let Some(mut so) = so {
                so.read_to_end(&mut out)?;
            }
            if let Some(h) = e {
                h.join()
                    .map_err(|_| std::io::Error::other("stderr reader panicked"))??;
            }
            Ok(())
        })?;
        let status = self.wait()?;
        Ok(Output {
            status,
            stdout: out,
            stderr: err,
        })
    }

    /// The helper has exited with `st`: everything it and the sandbox sent
    /// is in the socket; read it and decide.
    fn finish(&mut self, st: std::process::ExitStatus) {
        self.drain();
        self.done = Some(decide(&self.events, st));
    }

    /// Take every record waiting on the control socket, without blocking.
    fn drain(&mut self) {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: buf is valid for its length.
            let n = unsafe {
                libc::recv(
                    self.control.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n <= 0 {
                break;
            }
            if let Some(e) = Event::decode(&buf[..n as usize]) {
                self.events.push(e);
            }
        }
    }

    fn result(&self) -> Result<ExitStatus, Error> {
        let exec_failed = self.events.iter().any(|e| {
            matches!(
                e,
                Event::NotRun {
                    exec_failed: true,
                    ..
                }
            )
        });
        let error = |m: &str| match exec_failed {
            true => Error::Exec(m.to_string()),
            false => Error::Setup(m.to_string()),
        };
        match &self.done {
            Some(Ok(st)) => Ok(*st),
            Some(Err(m)) => Err(error(m)),
            None => Err(Error::Setup("not finished".into())),
        }
    }
}

/// The command's status, or the message that says why it did not run.
fn decide(events: &[Event], helper: std::process::ExitStatus) -> Result<ExitStatus, String> {
    use std::os::unix::process::ExitStatusExt;
    if let Some(st) = events.iter().find_map(|e| match e {
        Event::Ran { status, timed_out } => Some((*status, *timed_out)),
        _ => None,
    }) {
        return Ok(ExitStatus::from_raw(st.0).with_timeout(st.1));
    }
    let first_error = events.iter().find_map(|e| match e {
        Event::Error(m) => Some(m.clone()),
        _ => None,
    });
    let not_run = events.iter().find_map(|e| match e {
        Event::NotRun { status, .. } => Some(*status),
        _ => None,
    });
    match (first_error, helper.signal()) {
        (Some(m), _) => Err(m),
        // Ended before the command ran, without an error: killed during
        // the setup (`Child::kill`, a signal passed on).
        (None, _) if not_run.is_some_and(|st| libc::WIFSIGNALED(st)) => {
            Ok(ExitStatus::from_raw(not_run.unwrap_or_default()))
        }
        // The helper itself was killed (the sandbox with it): that is how
        // the command ended, as the `sandwrap` command's caller sees it.
        (None, Some(_)) => Ok(ExitStatus::from_raw(helper.into_raw())),
        (None, None) => Err(format!("sandwrap ended with {helper} without saying why")),
    }
}

impl AsFd for Child {
    /// A pidfd of the helper: readable once it has exited, when `wait`
    /// no longer blocks. (Without pidfd support, the control socket.)
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_ref().unwrap_or(&self.control).as_fd()
    }
}

impl AsRawFd for Child {
    /// The fd of [`as_fd`](AsFd::as_fd), for APIs that take a raw fd
    /// (tokio's `AsyncFd`).
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.done.is_some() {
            return;
        }
        // The control socket closes when this returns, which ends the
        // sandbox and then the helper; reap it then, off this thread. The
        // pid stays ours (unreaped) until this waitpid, so it cannot name
        // another process.
        let pid = self.helper.id() as libc::pid_t;
        let reaper = std::thread::Builder::new()
            .name("sandwrap-reap".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                let mut st = 0;
                // SAFETY: waiting for our own child, with a valid pointer.
                while unsafe { libc::waitpid(pid, &mut st, 0) } < 0
                    && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
                {
                }
            });
        // No thread: the helper stays a zombie until this process exits.
        drop(reaper);
    }
}
