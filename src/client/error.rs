//! The library's errors and exit statuses.

use std::fmt;

/// Why a sandbox could not be described, started or run.
///
/// The variants that come from sandwrap carry its one-line message, as the
/// `sandwrap` command would print it after `sandwrap: `.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The description was refused before anything ran (an unknown option,
    /// a wrong number of values, a value sandwrap rejects).
    Invalid(String),
    /// Setting the sandbox up failed (a missing bind source, namespaces
    /// refused, a limit that cannot be applied, ...).
    Setup(String),
    /// The sandbox was ready but the command could not be executed in it
    /// (not found, not executable).
    Exec(String),
    /// No usable `sandwrap` helper binary: not found, or one the sandboxed
    /// command could replace (see [`Sandbox::helper`](crate::Sandbox::helper)).
    Helper(String),
    /// An I/O error on the caller's side: starting the helper, the control
    /// socket, the pipes.
    Io(std::io::Error),
}

impl Error {
    /// sandwrap's message (or the I/O error's text).
    pub fn message(&self) -> String {
        match self {
            Error::Invalid(m) | Error::Setup(m) | Error::Exec(m) | Error::Helper(m) => m.clone(),
            Error::Io(e) => e.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid(m) => write!(f, "invalid sandbox: {m}"),
            Error::Setup(m) => write!(f, "sandbox setup failed: {m}"),
            Error::Exec(m) => write!(f, "command not executed: {m}"),
            Error::Helper(m) => write!(f, "sandwrap helper: {m}"),
            Error::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

/// How the sandboxed command ended: its own wait status, with the signal
/// and core-dump information the `sandwrap` command's exit code (128+N)
/// cannot carry.
///
/// ```
/// let st = sandwrap::ExitStatus::from_raw(9);
/// assert_eq!((st.code(), st.signal(), st.core_dumped()), (None, Some(9), false));
/// assert_eq!(sandwrap::ExitStatus::from_raw(3 << 8).code(), Some(3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExitStatus(i32, bool);

impl ExitStatus {
    /// From a raw `waitpid` status.
    pub fn from_raw(raw: i32) -> Self {
        ExitStatus(raw, false)
    }

    pub(crate) fn with_timeout(self, timed_out: bool) -> Self {
        ExitStatus(self.0, timed_out)
    }

    /// The raw `waitpid` status.
    pub fn into_raw(self) -> i32 {
        self.0
    }

    /// Whether the sandbox's `--timeout` ([`Sandbox::timeout`](crate::Sandbox::timeout))
    /// ended the command (its status is then the signal that did).
    pub fn timed_out(&self) -> bool {
        self.1
    }

    /// The exit code, if the command exited.
    pub fn code(&self) -> Option<i32> {
        libc::WIFEXITED(self.0).then(|| libc::WEXITSTATUS(self.0))
    }

    /// The signal that killed the command, if one did.
    pub fn signal(&self) -> Option<i32> {
        libc::WIFSIGNALED(self.0).then(|| libc::WTERMSIG(self.0))
    }

    /// Whether the command dumped core when a signal killed it.
    pub fn core_dumped(&self) -> bool {
        libc::WIFSIGNALED(self.0) && libc::WCOREDUMP(self.0)
    }

    /// Whether the command exited with 0.
    pub fn success(&self) -> bool {
        self.code() == Some(0)
    }
}

impl From<ExitStatus> for std::process::ExitStatus {
    fn from(s: ExitStatus) -> Self {
        std::os::unix::process::ExitStatusExt::from_raw(s.0)
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code(), self.signal()) {
            (Some(c), _) => write!(f, "exit status: {c}")?,
            (_, Some(s)) if self.core_dumped() => write!(f, "signal: {s} (core dumped)")?,
            (_, Some(s)) => write!(f, "signal: {s}")?,
            _ => write!(f, "wait status: {}", self.0)?,
        }
        if self.timed_out() {
            write!(f, " (timed out)")?;
        }
        Ok(())
    }
}
