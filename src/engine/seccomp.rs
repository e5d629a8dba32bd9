//! sandwrap's own seccomp filter at run time: build it before the clone,
//! install it last before exec (and in pid 1), hand the notification
//! listener to the supervisor, and answer notifications there.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use anyhow::{Result, anyhow, bail};
use seccompiler::sock_filter;

use super::sys;
use crate::seccomp::{self, Action, Mode, Policy, report};
use crate::spec::{ReportTo, Spec};

/// The compiled programs, built once in the supervisor.
pub struct OwnFilter {
    /// For the command: with `--seccomp-report`, denials are notifications.
    pub command: Vec<sock_filter>,
    /// For pid 1, which nobody could answer for: the kernel acts itself.
    pub pid1: Option<Vec<sock_filter>>,
    /// Whether the command's program needs a listener.
    pub listener: bool,
}

pub fn build(spec: &Spec) -> Result<Option<OwnFilter>> {
    let Some(policy) = &spec.seccomp.policy else {
        return Ok(None);
    };
    let compile = |mode| {
        seccomp::compile(policy, mode).map_err(|e| anyhow!("seccomp policy {}: {e}", policy.name))
    };
    let report = spec.seccomp.report.is_some();
    let command = compile(if report { Mode::Notify } else { Mode::Plain })?;
    let listener = report && seccomp::compile::uses_notify(&command);
    // pid 1 never reports: it gets the plain program, when there is a pid 1.
    let pid1 = match (spec.needs_reaper(), report) {
        (false, _) => None,
        (true, false) => Some(command.clone()),
        (true, true) => Some(compile(Mode::Plain)?),
    };
    Ok(Some(OwnFilter {
        command,
        pid1,
        listener,
    }))
}

/// A filter's length as the kernel's `u16`; longer programs are refused,
/// not cut short.
pub fn filter_len(instructions: usize) -> Result<u16> {
    u16::try_from(instructions).map_err(|_| {
        anyhow!("seccomp program too long: {instructions} instructions (at most 65535)")
    })
}

/// `seccomp(SECCOMP_SET_MODE_FILTER)`, optionally asking for a listener.
pub fn install(prog: &[sock_filter], want_listener: bool) -> Result<Option<OwnedFd>> {
    let fprog = libc::sock_fprog {
        len: filter_len(prog.len())?,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    let flags = if want_listener {
        libc::SECCOMP_FILTER_FLAG_NEW_LISTENER
    } else {
        0
    };
    // SAFETY: fprog points at prog (same layout as struct sock_filter), which outlives the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &fprog as *const libc::sock_fprog,
        )
    };
    if r < 0 {
        let e = sys::errno();
        if e == libc::EINVAL {
            bail!(
                "Unable to set up system call filtering as requested: seccomp(SECCOMP_SET_MODE_FILTER, {flags:#x}) reported EINVAL. (Hint: this requires a kernel configured with CONFIG_SECCOMP and CONFIG_SECCOMP_FILTER.)"
            );
        }
        bail!(
            "seccomp(SECCOMP_SET_MODE_FILTER, flags {flags:#x}, {} instructions): {}",
            prog.len(),
            crate::errno_text(e)
        );
    }
    // SAFETY: with NEW_LISTENER the kernel returns a new fd that we own.
    Ok(want_listener.then(|| unsafe { OwnedFd::from_raw_fd(r as RawFd) }))
}

/// A socket pair for passing the listener: (supervisor end, sandbox end).
pub fn channel() -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for two ints.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if r < 0 {
        bail!("socketpair(AF_UNIX, SOCK_SEQPACKET): {}", last_error());
    }
    // SAFETY: the kernel just created both fds.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn last_error() -> String {
    crate::errno_text(sys::errno())
}

const CMSG_SPACE_ONE_FD: usize = 24;

/// Send `fd` over `sock` with SCM_RIGHTS.
pub fn send_fd(sock: RawFd, fd: RawFd) -> Result<()> {
    let mut byte = [b'L'];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut cbuf = [0u64; CMSG_SPACE_ONE_FD / 8];
    // SAFETY: msghdr is plain data; the buffers outlive sendmsg.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) as usize;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>(), fd);
        if libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL) < 0 {
            bail!(
                "sendmsg(seccomp listener fd {fd} on fd {sock}): {}",
                last_error()
            );
        }
    }
    Ok(())
}

/// Receive one fd from `sock`; `Ok(None)` at end of stream.
fn recv_fd(sock: RawFd) -> Result<Option<OwnedFd>> {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut cbuf = [0u64; CMSG_SPACE_ONE_FD / 8];
    // SAFETY: as in send_fd; the kernel fills the control buffer.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&cbuf);
        let n = libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC);
        if n < 0 {
            bail!("recvmsg(seccomp listener on fd {sock}): {}", last_error());
        }
        if n == 0 {
            return Ok(None);
        }
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if cmsg.is_null()
            || (*cmsg).cmsg_level != libc::SOL_SOCKET
            || (*cmsg).cmsg_type != libc::SCM_RIGHTS
        {
            bail!("recvmsg(seccomp listener on fd {sock}): no file descriptor in the message");
        }
        let fd = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>());
        Ok(Some(OwnedFd::from_raw_fd(fd)))
    }
}

/// The supervisor's side: waits for signals while answering the
/// notifications of the command's filter.
pub struct Notifier<'a> {
    policy: &'a Policy,
    out: RawFd,
    sigfd: super::signals::SignalFd,
    sock: Option<OwnedFd>,
    listener: Option<OwnedFd>,
    /// Processes already sent SIGSYS that called again (they caught it).
    signalled: Vec<u32>,
    /// Writing to `out` failed once: reports are no longer written.
    out_lost: std::cell::Cell<bool>,
}

impl<'a> Notifier<'a> {
    pub fn new(
        policy: &'a Policy,
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
            sigfd,
            sock: Some(sock),
            listener: None,
            signalled: Vec::new(),
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
                            self.say(&format!("sandwrap: {e:#}"));
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

    fn say(&self, line: &str) {
        let mut l = line.to_string();
        l.push('\n');
        if self.out_lost.get() {
            return;
        }
        // A report fd that fails (its reader gone: EPIPE) is said once, on
        // stderr; the sandbox goes on and its status is kept.
        if let Err(e) = sys::write_all(self.out, l.as_bytes()) {
            self.out_lost.set(true);
            if self.out != libc::STDERR_FILENO {
                let msg = format!(
                    "sandwrap: --seccomp-report-fd {}: can't write reports, later ones are lost: {}\n",
                    self.out,
                    crate::errno_text(e)
                );
                let _ = sys::write_all(libc::STDERR_FILENO, msg.as_bytes());
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
        // Who it was, read while the process still exists (a kill rule ends it).
        let (pid, comm) = sandbox_pid_and_comm(req.pid);
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
                self.kill(req.pid);
                resp.error = -libc::ENOSYS;
            }
        }
        // SAFETY: valid fd and response.
        if unsafe { libc::ioctl(lfd, libc::SECCOMP_IOCTL_NOTIF_SEND, &resp) } < 0 {
            let e = sys::errno();
            if e != libc::ENOENT && resp.flags != 0 {
                // A kernel without FLAG_CONTINUE (before 5.5) refuses it:
                // the call must still be answered, or its caller hangs.
                self.say(&format!(
                    "sandwrap: seccomp: cannot let {} through on this kernel ({}): it fails with ENOSYS",
                    report::call_name(self.policy, d.arch, nr),
                    crate::errno_text(e)
                ));
                resp.flags = 0;
                resp.error = -libc::ENOSYS;
                // SAFETY: as above.
                unsafe { libc::ioctl(lfd, libc::SECCOMP_IOCTL_NOTIF_SEND, &resp) };
            }
        }
        let who = report::Caller {
            pid,
            host_pid: req.pid,
            comm: &comm,
        };
        self.say(&report::line(
            self.policy,
            &who,
            d.arch,
            nr,
            &d.args,
            action,
            by,
        ));
    }

    /// Kill like SECCOMP_RET_KILL_PROCESS: SIGSYS, unless the process
    /// could survive it (caught, blocked or ignored), then SIGKILL.
    fn kill(&mut self, pid: u32) {
        let sigsys_bit = 1u64 << (libc::SIGSYS - 1);
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let mask = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
                .unwrap_or(u64::MAX)
        };
        let survives = (mask("SigCgt:") | mask("SigBlk:") | mask("SigIgn:")) & sigsys_bit != 0;
        let sig = if survives || self.signalled.contains(&pid) {
            libc::SIGKILL
        } else {
            libc::SIGSYS
        };
        if sig == libc::SIGSYS {
            // A second kill rule hit by the same process gets SIGKILL.
            self.signalled.push(pid);
        }
        // SAFETY: signalling a process of our sandbox that is blocked in a notified call.
        unsafe { libc::kill(pid as libc::pid_t, sig) };
    }
}

/// The pid inside the sandbox (last NSpid entry) and the command name.
fn sandbox_pid_and_comm(host_pid: u32) -> (u32, String) {
    let status = std::fs::read_to_string(format!("/proc/{host_pid}/status")).unwrap_or_default();
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(str::trim)
    };
    let pid = field("NSpid:")
        .and_then(|v| v.split_whitespace().last())
        .and_then(|p| p.parse().ok())
        .unwrap_or(host_pid);
    let comm = field("Name:").unwrap_or("?").to_string();
    (pid, comm)
}

/// The note for a command that died of SIGSYS, when no report named the call.
pub fn sigsys_note(spec: &Spec, status: i32) -> Option<String> {
    let policy = spec.seccomp.policy.as_ref()?;
    if spec.seccomp.report.is_some()
        || !libc::WIFSIGNALED(status)
        || libc::WTERMSIG(status) != libc::SIGSYS
    {
        return None;
    }
    let command = spec
        .command
        .first()
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_default();
    Some(report::sigsys_note(policy, &command))
}
