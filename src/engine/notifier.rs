//! The supervisor's side of `--seccomp-report`: it answers the
//! notifications of the command's filter as the policy says, prints one line
//! for each, and waits for signals meanwhile.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use anyhow::Result;

use super::seccomp::recv_fd;
use super::sys;
use crate::out::{self, Level};
use crate::seccomp::{Action, Policy, report};
use crate::spec::{ReportTo, Spec};

/// The supervisor's side: waits for signals while answering the
/// notifications of the command's filter.
pub struct Notifier<'a> {
    policy: &'a Policy,
    out: RawFd,
    level_prefix: bool,
    sigfd: super::signals::SignalFd,
    sock: Option<OwnedFd>,
    listener: Option<OwnedFd>,
    /// Processes sent SIGSYS by a kill rule.
    signalled: Signalled,
    /// Writing to `out` failed once: reports are no longer written.
    out_lost: std::cell::Cell<bool>,
}

impl<'a> Notifier<'a> {
    pub fn new(
        policy: &'a Policy,
        spec: &Spec,
        report: ReportTo,
        sock: OwnedFd,
        sigset: &libc::sigset_t,
    ) -> Result<Notifier<'a>> {
        // The signals are blocked, so they queue for the fd.
        let sigfd = super::signals::SignalFd::new(sigset)?;
        let out = match report {
            ReportTo::Stderr => libc::STDERR_FILENO,
            ReportTo::Fd(fd) => fd,
        };
        Ok(Notifier {
            policy,
            out,
            level_prefix: spec.level_prefix,
            sigfd,
            sock: Some(sock),
            listener: None,
            signalled: Signalled::default(),
            out_lost: std::cell::Cell::new(false),
        })
    }

    /// The fds to keep open in the supervisor.
    pub fn fds(&self) -> Vec<RawFd> {
        let mut v = vec![self.sigfd.raw(), self.out];
        v.extend(self.sock.as_ref().map(|s| s.as_raw_fd()));
        v
    }

    /// Wait for one of the blocked signals: (signal, si_code), answering
    /// notifications meanwhile.
    pub fn wait(&mut self) -> (i32, i32) {
        loop {
            let mut fds = vec![libc::pollfd {
                fd: self.sigfd.raw(),
                events: libc::POLLIN,
                revents: 0,
            }];
            for fd in [&self.sock, &self.listener].into_iter().flatten() {
                fds.push(libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                });
            }
            // SAFETY: fds is a valid array of pollfd.
            if unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) } < 0 {
                if sys::errno() == libc::EINTR {
                    continue;
                }
                // Cannot wait on the listener any more: fall back to plain
                // signal waiting (notified calls then fail with ENOSYS).
                self.sock = None;
                self.listener = None;
                continue;
            }
            for p in &fds[1..] {
                if p.revents == 0 {
                    continue;
                }
                if self.sock.as_ref().is_some_and(|s| s.as_raw_fd() == p.fd) {
                    match recv_fd(p.fd) {
                        Ok(Some(l)) => self.listener = Some(l),
                        Ok(None) => self.sock = None,
                        Err(e) => {
                            self.say(Level::Error, &format!("{e:#}"));
                            self.sock = None;
                        }
                    }
                } else if p.revents & libc::POLLIN != 0 {
                    self.answer_one();
                } else {
                    // POLLHUP: no process uses the filter any more.
                    self.listener = None;
                }
            }
            if fds[0].revents & libc::POLLIN != 0 {
                if let Some(got) = self.sigfd.read() {
                    return got;
                }
            }
        }
    }

    /// One line, with the program name (and its syslog level under
    /// `--level-prefix`) in front.
    fn say(&self, level: Level, msg: &str) {
        if self.out_lost.get() {
            return;
        }
        let l = format!("{}\n", out::line(self.level_prefix, level, msg));
        // A report fd that fails (its reader gone: EPIPE) is said once, on
        // stderr; the sandbox goes on and its status is kept.
        if let Err(e) = sys::write_all(self.out, l.as_bytes()) {
            self.out_lost.set(true);
            if self.out != libc::STDERR_FILENO {
                super::warn(
                    self.level_prefix,
                    &format!(
                        "--seccomp-report-fd {}: can't write reports, later ones are lost: {}",
                        self.out,
                        crate::errno_text(e)
                    ),
                );
            }
        }
    }

    fn answer_one(&mut self) {
        let Some(listener) = &self.listener else {
            return;
        };
        let lfd = listener.as_raw_fd();
        // SAFETY: the kernel requires a zeroed buffer of this exact struct.
        let mut req: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        // SAFETY: valid fd and buffer.
        if unsafe { libc::ioctl(lfd, libc::SECCOMP_IOCTL_NOTIF_RECV, &mut req) } < 0 {
            return; // ENOENT: the caller died or was interrupted meanwhile
        }
        let d = req.data;
        let nr = d.nr as u32;
        let (action, by) = self.policy.decide(d.arch, nr, &d.args);
        // Who it was, read once while the process still exists (a kill
        // rule ends it).
        let caller = CallerStatus::read(req.pid);
        if !pending(lfd, req.id) {
            // Gone, and its pid may be another process's now: what was
            // read is not the caller's, and there is nothing to answer.
            return;
        }
        let mut resp = libc::seccomp_notif_resp {
            id: req.id,
            val: 0,
            error: 0,
            flags: 0,
        };
        match action {
            Action::Allow | Action::Log => {
                resp.flags = libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32
            }
            Action::Errno(e) => resp.error = -e,
            Action::Kill | Action::Trap => {
                self.kill(lfd, req.id, caller.tgid, caller.survives_sigsys);
                resp.error = -libc::ENOSYS;
            }
        }
        // SAFETY: valid fd and response.
        if unsafe { libc::ioctl(lfd, libc::SECCOMP_IOCTL_NOTIF_SEND, &resp) } < 0 {
            let e = sys::errno();
            if e != libc::ENOENT && resp.flags != 0 {
                // A kernel without FLAG_CONTINUE (before 5.5) refuses it:
                // the call must still be answered, or its caller hangs.
                self.say(
                    Level::Warning,
                    &format!(
                        "seccomp: cannot let {} through on this kernel ({}): it fails with ENOSYS",
                        report::call_name(self.policy, d.arch, nr),
                        crate::errno_text(e)
                    ),
                );
                resp.flags = 0;
                resp.error = -libc::ENOSYS;
                // SAFETY: as above.
                unsafe { libc::ioctl(lfd, libc::SECCOMP_IOCTL_NOTIF_SEND, &resp) };
            }
        }
        let who = report::Caller {
            pid: caller.pid,
            host_pid: req.pid,
            comm: &caller.comm,
        };
        // A denial is a warning; a call let through (`log`) is news.
        let level = if action.is_denial() {
            Level::Warning
        } else {
            Level::Info
        };
        self.say(
            level,
            &report::line(self.policy, &who, d.arch, nr, &d.args, action, by),
        );
    }

    /// Kill like SECCOMP_RET_KILL_PROCESS: SIGSYS, unless the process
    /// could survive it (caught, blocked or ignored), then SIGKILL.
    ///
    /// The process, `tgid`, not the calling thread: the kernel gives no
    /// pidfd for a thread but its group's leader (before 6.9), and a signal
    /// to the process is what ends it whichever thread called.
    ///
    /// By pidfd, opened before the notification is checked to be still
    /// pending: the caller may have been killed and reaped meanwhile (by
    /// another process of the sandbox), and its pid taken by a process
    /// outside, which the supervisor (outside every landlock domain) could
    /// signal. A pending notification means the caller lives, so its
    /// process still holds `tgid` and the pidfd is the caller's.
    fn kill(&mut self, lfd: RawFd, id: u64, tgid: u32, survives_sigsys: bool) {
        let Ok(pidfd) = sys::Pidfd::open(tgid as libc::pid_t) else {
            return; // gone
        };
        if !pending(lfd, id) {
            return;
        }
        // A second kill rule hit by the same process: it survived SIGSYS.
        if survives_sigsys || self.signalled.holds(&pidfd) {
            let _ = pidfd.send_signal(libc::SIGKILL);
        } else if pidfd.send_signal(libc::SIGSYS).is_ok() {
            self.signalled.add(pidfd);
        }
    }
}

/// The processes sent SIGSYS, held by pidfd and forgotten once they have
/// ended: a pid is anyone's once reaped, and a new process that gets it
/// must be treated as new (SIGSYS first), and the list stays as short as
/// the processes that live on.
#[derive(Default)]
struct Signalled(Vec<sys::Pidfd>);

impl Signalled {
    /// Whether `live` (a pidfd of a process known to live now) was sent
    /// SIGSYS before. A remembered pidfd that has not ended holds its pid,
    /// so the same pid is the same process.
    fn holds(&mut self, live: &sys::Pidfd) -> bool {
        self.0
            .retain(|p| !p.exits_within(std::time::Duration::ZERO));
        self.0.iter().any(|p| p.pid() == live.pid())
    }

    fn add(&mut self, pidfd: sys::Pidfd) {
        self.0.push(pidfd);
    }
}

/// Whether notification `id` still waits for an answer (its caller lives).
fn pending(lfd: RawFd, id: u64) -> bool {
    let mut id = id;
    // SAFETY: valid fd and u64.
    unsafe { libc::ioctl(lfd, libc::SECCOMP_IOCTL_NOTIF_ID_VALID, &mut id) == 0 }
}

/// What the notifier needs of a caller's `/proc/PID/status`, read once.
struct CallerStatus {
    /// The pid inside the sandbox (last NSpid entry).
    pid: u32,
    /// Its process (thread group) as the supervisor sees it.
    tgid: u32,
    comm: String,
    /// SIGSYS is caught, blocked or ignored (or the status is unreadable).
    survives_sigsys: bool,
}

impl CallerStatus {
    fn read(host_pid: u32) -> CallerStatus {
        // Not read_to_string: a name that is not UTF-8 (the command sets
        // it) would lose the whole status, pid and signal masks included.
        let status = std::fs::read(format!("/proc/{host_pid}/status")).unwrap_or_default();
        CallerStatus::parse(&String::from_utf8_lossy(&status), host_pid)
    }

    fn parse(status: &str, host_pid: u32) -> CallerStatus {
        let field = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map(str::trim)
        };
        let mask = |key: &str| {
            field(key)
                .and_then(|v| u64::from_str_radix(v, 16).ok())
                .unwrap_or(u64::MAX)
        };
        let sigsys_bit = 1u64 << (libc::SIGSYS - 1);
        CallerStatus {
            pid: field("NSpid:")
                .and_then(|v| v.split_whitespace().last())
                .and_then(|p| p.parse().ok())
                .unwrap_or(host_pid),
            // Unreadable: the caller is gone, or is a group's leader.
            tgid: field("Tgid:")
                .and_then(|v| v.parse().ok())
                .unwrap_or(host_pid),
            comm: field("Name:").unwrap_or("?").to_string(),
            survives_sigsys: (mask("SigCgt:") | mask("SigBlk:") | mask("SigIgn:")) & sigsys_bit
                != 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_status_from_one_read() {
        let text = "Name:\tprobe\nTgid:\t4700\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\nNSpid:\t4711\t3\n";
        let c = CallerStatus::parse(text, 4711);
        assert_eq!(
            (c.pid, c.tgid, c.comm.as_str(), c.survives_sigsys),
            (3, 4700, "probe", false)
        );
        let caught = text.replace("SigCgt:\t0000000000000000", "SigCgt:\t0000000040000000");
        assert!(CallerStatus::parse(&caught, 4711).survives_sigsys);
        // Gone or unreadable: the host pid, and SIGKILL to be sure.
        let gone = CallerStatus::parse("", 9);
        assert_eq!(
            (
                gone.pid,
                gone.tgid,
                gone.comm.as_str(),
                gone.survives_sigsys
            ),
            (9, 9, "?", true)
        );
    }

    /// A process sent SIGSYS is remembered while it lives, and forgotten
    /// once it has ended: its pid, reused, is a new process's.
    #[test]
    fn signalled_processes_are_forgotten_when_they_end() {
        let spawn = || {
            let child = std::process::Command::new("sleep")
                .arg("30")
                .spawn()
                .expect("spawn sleep");
            let fd = sys::Pidfd::open(child.id() as libc::pid_t).expect("pidfd_open");
            (child, fd)
        };
        let mut set = Signalled::default();
        let (mut a, a_fd) = spawn();
        let (mut b, b_fd) = spawn();
        let a_again = sys::Pidfd::open(a_fd.pid()).expect("pidfd_open");
        set.add(a_fd);
        assert!(set.holds(&a_again));
        assert!(!set.holds(&b_fd));
        a.kill().expect("kill");
        a.wait().expect("reap");
        // Ended and reaped: not held, nothing is kept of it.
        assert!(!set.holds(&a_again));
        assert!(set.0.is_empty());
        b.kill().expect("kill");
        b.wait().expect("reap");
    }
}
