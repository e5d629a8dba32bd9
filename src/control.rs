//! The control socket between a program using the library and the
//! `sandwrap` helper it started (`--control-fd FD`): its records, and the
//! process-wide note of the helper's end. Pure encoding plus one `send`.
//!
//! The socket is a `SOCK_SEQPACKET` pair: every record is one message, so
//! records written by different sandwrap processes (the supervisor, the
//! sandbox's setup process) never interleave, and a 0-byte read is EOF.
//!
//! Caller to helper:
//! - `F n1 n2 ...`, first and once, with the caller's fds attached
//!   (SCM_RIGHTS) in that order: the numbers they get in the helper, and so
//!   in the command (the helper places them before it reads its options).
//! - `K sig`: send `sig` to the sandbox.
//!
//! Helper to caller:
//! - `S pid`: the sandbox's first process exists (its pid 1 with a pid
//!   namespace, else the command's process), as `--json-status-fd`'s
//!   `child-pid`.
//! - `E message`: an error sandwrap printed (without `sandwrap: `).
//! - `R status [timeout]`: the command ran; its raw wait status, and
//!   whether `--timeout` ended it.
//! - `N exec STATUS` / `N setup STATUS`: the command did not run (exec
//!   failed, or the setup failed or was killed after the sandbox's first
//!   process was created); the raw wait status of that process.
//!
//! EOF on the helper's end (every copy of the caller's end closed: the
//! caller process is gone, or dropped its `Child`) ends the sandbox.

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};

/// The most fds one spawn can pass (the kernel's SCM_MAX_FD is 253; three
/// stay for the other records' room).
pub const MAX_FDS: usize = 250;

/// A record the helper sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The sandbox's first process, created.
    Started(i32),
    /// An error line sandwrap printed.
    Error(String),
    /// The command ran and ended with this raw wait status; `timed_out`:
    /// `--timeout` ended it.
    Ran { status: i32, timed_out: bool },
    /// The command did not run: its exec failed (`exec_failed`) or the
    /// setup did (or was killed); the sandbox's raw wait status.
    NotRun { exec_failed: bool, status: i32 },
}

impl Event {
    /// The record's bytes.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Event::Started(pid) => format!("S {pid}").into_bytes(),
            Event::Error(msg) => format!("E {msg}").into_bytes(),
            Event::Ran { status, timed_out } => {
                let t = if *timed_out { " timeout" } else { "" };
                format!("R {status}{t}").into_bytes()
            }
            Event::NotRun {
                exec_failed,
                status,
            } => {
                let stage = if *exec_failed { "exec" } else { "setup" };
                format!("N {stage} {status}").into_bytes()
            }
        }
    }

    /// A record back; None for anything malformed.
    pub fn decode(rec: &[u8]) -> Option<Event> {
        let text = std::str::from_utf8(rec).ok()?;
        let (tag, rest) = text.split_once(' ')?;
        match tag {
            "S" => rest.parse().ok().map(Event::Started),
            "E" => Some(Event::Error(rest.to_string())),
            "R" => {
                let (status, timed_out) = match rest.split_once(' ') {
                    Some((st, "timeout")) => (st, true),
                    Some(_) => return None,
                    None => (rest, false),
                };
                let status = status.parse().ok()?;
                Some(Event::Ran { status, timed_out })
            }
            "N" => {
                let (stage, status) = rest.split_once(' ')?;
                let exec_failed = match stage {
                    "exec" => true,
                    "setup" => false,
                    _ => return None,
                };
                let status = status.parse().ok()?;
                Some(Event::NotRun {
                    exec_failed,
                    status,
                })
            }
            _ => None,
        }
    }
}

/// A record the caller sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// The numbers the attached fds take, in order.
    Fds(Vec<RawFd>),
    /// A signal for the sandbox.
    Signal(i32),
}

impl Request {
    /// The record's bytes.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Request::Fds(targets) => {
                let mut s = String::from("F");
                for t in targets {
                    s.push_str(&format!(" {t}"));
                }
                s.into_bytes()
            }
            Request::Signal(sig) => format!("K {sig}").into_bytes(),
        }
    }

    /// A record back; None for anything malformed.
    pub fn decode(rec: &[u8]) -> Option<Request> {
        let text = std::str::from_utf8(rec).ok()?;
        let mut words = text.split(' ');
        match words.next()? {
            "F" => words
                .map(|w| w.parse::<RawFd>().ok().filter(|&fd| fd >= 0))
                .collect::<Option<Vec<_>>>()
                .filter(|v| v.len() <= MAX_FDS)
                .map(Request::Fds),
            "K" => {
                let sig: i32 = words.next()?.parse().ok()?;
                (words.next().is_none() && (1..=64).contains(&sig)).then_some(Request::Signal(sig))
            }
            _ => None,
        }
    }
}

/// The helper's end of the control socket in this process (-1: none).
static FD: AtomicI32 = AtomicI32::new(-1);

/// Note (or forget, with None) this process's end of the control socket.
pub fn set_fd(fd: Option<RawFd>) {
    FD.store(fd.unwrap_or(-1), Ordering::Relaxed);
}

/// This process's end of the control socket, if it has one.
pub fn fd() -> Option<RawFd> {
    Some(FD.load(Ordering::Relaxed)).filter(|&fd| fd >= 0)
}

/// Send `event` to the caller, if there is a control socket. A caller that
/// has gone is no error here (the socket's EOF ends the sandbox).
pub fn send(event: &Event) {
    if let Some(fd) = fd() {
        let rec = event.encode();
        // SAFETY: rec is valid for rec.len() bytes; MSG_NOSIGNAL: a gone
        // reader gives EPIPE, not SIGPIPE.
        unsafe { libc::send(fd, rec.as_ptr().cast(), rec.len(), libc::MSG_NOSIGNAL) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        for e in [
            Event::Started(42),
            Event::Error("bind /x: No such file or directory".into()),
            Event::Error("two words\nand a line".into()),
            Event::Ran {
                status: 9 | 0x80,
                timed_out: false,
            },
            Event::Ran {
                status: 9,
                timed_out: true,
            },
            Event::NotRun {
                exec_failed: true,
                status: 1 << 8,
            },
            Event::NotRun {
                exec_failed: false,
                status: 9,
            },
        ] {
            assert_eq!(Event::decode(&e.encode()), Some(e));
        }
        for r in [
            Request::Fds(vec![]),
            Request::Fds(vec![0, 1, 2, 9]),
            Request::Signal(15),
        ] {
            assert_eq!(Request::decode(&r.encode()), Some(r));
        }
    }

    #[test]
    fn malformed_records_are_refused() {
        for rec in [
            &b""[..],
            b"F -1",
            b"F x",
            b"K 0",
            b"K 65",
            b"K 9 9",
            b"Z 1",
            b"\xff",
        ] {
            assert_eq!(Request::decode(rec), None, "{rec:?}");
        }
        for rec in [
            &b""[..],
            b"R x",
            b"R 9 later",
            b"N later 1",
            b"N exec",
            b"N exec x",
            b"E",
        ] {
            assert_eq!(Event::decode(rec), None, "{rec:?}");
        }
    }
}
