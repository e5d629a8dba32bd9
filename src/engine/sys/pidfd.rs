//! Pidfds: a handle on one process. A pid names whichever process holds it
//! now (once the process is reaped, anyone's next one); a pidfd stays the
//! process it was opened for, so a signal sent through it never reaches
//! another.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::Duration;

use super::{Result, check, owned};

pub struct Pidfd {
    fd: OwnedFd,
    pid: libc::pid_t,
}

impl Pidfd {
    /// `pidfd_open(pid, 0)`: the process that holds `pid` now (ESRCH if
    /// none does).
    pub fn open(pid: libc::pid_t) -> Result<Pidfd> {
        // SAFETY: plain system call; the result is a new fd or -1.
        let r = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        check(r, || format!("pidfd_open {pid}")).map(|fd| Pidfd { fd: owned(fd), pid })
    }

    /// The pid it was opened for (the process's until it is reaped).
    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// `pidfd_send_signal`: ESRCH once the process has ended.
    pub fn send_signal(&self, sig: i32) -> Result<()> {
        // SAFETY: plain system call on our own pidfd.
        let r = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.fd.as_raw_fd(),
                sig,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        check(r, || {
            format!("pidfd_send_signal {} to pid {}", sig, self.pid)
        })
        .map(drop)
    }

    /// Whether the process ends (the pidfd becomes readable: it has
    /// exited, reaped or not) within `limit`; zero only looks.
    pub fn exits_within(&self, limit: Duration) -> bool {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = limit.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, ms) > 0 }
    }
}

impl AsRawFd for Pidfd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_only_the_process_it_was_opened_for() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let pid = child.id() as libc::pid_t;
        let fd = Pidfd::open(pid).expect("pidfd_open");
        assert_eq!(fd.pid(), pid);
        assert!(!fd.exits_within(Duration::ZERO));
        fd.send_signal(libc::SIGKILL).expect("pidfd_send_signal");
        assert!(fd.exits_within(Duration::from_secs(10)));
        child.wait().expect("reap");
        // Reaped: its pid may be anyone's now, the pidfd still knows it ended.
        let gone = fd
            .send_signal(libc::SIGKILL)
            .expect_err("signal after the end");
        assert_eq!(gone.errno, libc::ESRCH);
        assert!(
            gone.to_string()
                .starts_with(&format!("pidfd_send_signal 9 to pid {pid}: "))
        );
        let none = Pidfd::open(-1).err().map(|e| e.to_string());
        assert!(none.is_some_and(|e| e.starts_with("pidfd_open -1: ")));
    }
}
