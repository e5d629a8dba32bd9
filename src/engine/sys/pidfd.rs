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
        let until = std::time::Instant::now() + limit;
        loop {
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let left = until.saturating_duration_since(std::time::Instant::now());
            let ms = left.as_millis().min(i32::MAX as u128) as i32;
            // SAFETY: one valid pollfd.
            match unsafe { libc::poll(&mut pfd, 1, ms) } {
                // A signal cut the wait short: wait for the time left.
                r if r < 0 && super::errno() == libc::EINTR => continue,
                r => return r > 0,
            }
        }
    }

    /// Wait for our child's end and reap it (`waitid(P_PIDFD)`), never
    /// another process that holds its pid by now: ECHILD if it was reaped
    /// already. Its status as waitpid gives it.
    pub fn reap(&self) -> Result<i32> {
        loop {
            // SAFETY: siginfo_t is plain data; zero is a valid start.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: valid out-pointer; waiting on our own pidfd.
            let r = unsafe {
                libc::waitid(
                    libc::P_PIDFD,
                    self.fd.as_raw_fd() as libc::id_t,
                    &mut info,
                    libc::WEXITED,
                )
            };
            match check(r as libc::c_long, || {
                format!("waitid P_PIDFD for pid {}", self.pid)
            }) {
                Err(e) if e.errno == libc::EINTR => continue,
                Err(e) => return Err(e),
                Ok(_) => {}
            }
            // SAFETY: waitid filled in a child's siginfo.
            let st = unsafe { info.si_status() };
            return Ok(match info.si_code {
                libc::CLD_EXITED => (st & 0xff) << 8,
                libc::CLD_DUMPED => (st & 0x7f) | 0x80,
                _ => st & 0x7f,
            });
        }
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

    #[test]
    fn reap_takes_the_status_of_its_own_child_once() {
        let spawn = |script: &str| {
            let child = std::process::Command::new("sh")
                .args(["-c", script])
                .spawn()
                .expect("spawn sh");
            let fd = Pidfd::open(child.id() as libc::pid_t).expect("pidfd_open");
            (child, fd)
        };
        let (mut child, exited) = spawn("exit 7");
        assert_eq!(exited.reap().expect("reap"), 7 << 8);
        // Reaped: nothing more to take, whoever holds the pid now.
        assert_eq!(exited.reap().expect_err("reaped twice").errno, libc::ECHILD);
        assert!(child.wait().is_err(), "reaped by the pidfd");
        let (mut child, killed) = spawn("sleep 30");
        killed.send_signal(libc::SIGKILL).expect("kill");
        assert_eq!(killed.reap().expect("reap"), libc::SIGKILL);
        assert!(child.wait().is_err(), "reaped by the pidfd");
    }
}
