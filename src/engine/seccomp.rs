//! sandwrap's own seccomp filter at run time: decide and build it before
//! the clone, install programs (`set_filter`), carry the listener out of
//! the sandbox (`channel`, `send_fd`, `recv_fd`), and answer notifications
//! in the supervisor. The order of installs in the command is in
//! `engine::filters`.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use anyhow::{Result, anyhow, bail};
use nix::sys::socket::{
    AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, recvmsg,
    sendmsg, socketpair,
};
use seccompiler::sock_filter;

use super::sys;
use crate::landlock::Mode as Where;
use crate::out::{self, Level};
use crate::seccomp::{self, Action, Mode, Policy, guard, report};
use crate::spec::{ReportTo, Spec};

/// sandwrap's filter for the command, built once in the supervisor. It
/// never applies to sandwrap's own processes (pid 1 does not install it).
pub struct OwnFilter {
    /// The policy in force: the user's, plus the guards other restrictions
    /// need (`seccomp::guard`).
    pub policy: Policy,
    /// With `--seccomp-report`, denials are notifications.
    pub program: Vec<sock_filter>,
    /// Whether the program needs a listener.
    pub listener: bool,
}

/// The filter for a command that runs namespaced or in the fallback
/// (`place`), or `None` when sandwrap installs none of its own.
pub fn build(spec: &Spec, place: Where) -> Result<Option<OwnFilter>> {
    let policy = guard::command_policy(spec, place).map_err(|e| anyhow!("seccomp policy: {e}"))?;
    let Some(policy) = policy else {
        if crate::landlock::plan::restricts_tcp(spec, place) {
            super::warn(
                spec.level_prefix,
                "warning: MPTCP, SCTP and io_uring are not refused on this architecture (sandwrap's seccomp filters support x86_64 and aarch64): they can bypass landlock's TCP rules",
            );
        }
        return Ok(None);
    };
    let caller_programs = spec.seccomp.fd.is_some() || !spec.seccomp.programs.is_empty();
    if caller_programs {
        refuses_caller_programs(&policy)?;
    }
    let report = spec.seccomp.report.is_some();
    let mode = if report { Mode::Notify } else { Mode::Plain };
    let program = seccomp::compile(&policy, mode)
        .map_err(|e| anyhow!("seccomp policy {}: {e}", policy.name))?;
    let listener = report && seccomp::compile::uses_notify(&program);
    Ok(Some(OwnFilter {
        policy,
        program,
        listener,
    }))
}

/// Ours is installed first (a caller's program could refuse the call that
/// installs it), so it must let the caller's programs be installed after
/// it: refused up front, before anything runs.
fn refuses_caller_programs(policy: &Policy) -> Result<()> {
    let Some(nr) = policy.arch.nr("prctl") else {
        return Ok(());
    };
    let args = [
        libc::PR_SET_SECCOMP as u64,
        libc::SECCOMP_MODE_FILTER as u64,
        0,
        0,
        0,
        0,
    ];
    let (action, by) = policy.decide(policy.arch.audit(), nr, &args);
    if action.is_denial() {
        bail!(
            "seccomp policy {} refuses prctl(PR_SET_SECCOMP), which installs the --seccomp/--add-seccomp-fd programs after it ({}): allow it with --seccomp-allow prctl",
            policy.name,
            policy.describe(by)
        );
    }
    Ok(())
}

/// A filter's length as the kernel's `u16`; longer programs are refused,
/// not cut short.
fn filter_len(instructions: usize) -> Result<u16, FilterError> {
    u16::try_from(instructions).map_err(|_| FilterError {
        errno: libc::E2BIG,
        flags: 0,
        len: instructions,
    })
}

/// A program that could not be installed. Kept as numbers: it may happen
/// under a filter already in force, where only the unfiltered helper
/// thread may allocate and print (see `engine::filters`).
#[derive(Clone, Copy, Debug)]
pub struct FilterError {
    pub errno: i32,
    flags: u32,
    len: usize,
}

impl FilterError {
    /// A caller's program of `len` instructions failed with `errno`.
    pub fn caller(errno: i32, len: usize) -> FilterError {
        FilterError {
            errno,
            flags: 0,
            len,
        }
    }

    pub fn to_error(self) -> anyhow::Error {
        // bwrap's wording for its prctl; ours with flags use seccomp().
        let call = if self.flags == 0 {
            "prctl(PR_SET_SECCOMP)".to_string()
        } else {
            format!("seccomp(SECCOMP_SET_MODE_FILTER, {:#x})", self.flags)
        };
        match self.errno {
            libc::E2BIG => anyhow!(
                "seccomp program too long: {} instructions (at most 65535)",
                self.len
            ),
            libc::EINVAL => anyhow!(
                "Unable to set up system call filtering as requested: {call} reported EINVAL. (Hint: this requires a kernel configured with CONFIG_SECCOMP and CONFIG_SECCOMP_FILTER.)"
            ),
            e => anyhow!(
                "{call} with {} instructions: {}",
                self.len,
                crate::errno_text(e)
            ),
        }
    }
}

/// Install one program on this thread: with `listener`, through
/// `seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER)`, returning the listener;
/// otherwise through `prctl(PR_SET_SECCOMP)`, as bwrap does. Makes no
/// allocation and prints nothing (it may run under a filter).
pub fn set_filter(prog: &[sock_filter], listener: bool) -> Result<Option<OwnedFd>, FilterError> {
    let fprog = libc::sock_fprog {
        len: filter_len(prog.len())?,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    let flags: u32 = if listener {
        libc::SECCOMP_FILTER_FLAG_NEW_LISTENER as u32
    } else {
        0
    };
    // SAFETY: fprog points at prog (same layout as struct sock_filter),
    // which outlives the call.
    let r = unsafe {
        if listener {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                libc::c_ulong::from(flags),
                &fprog as *const libc::sock_fprog,
            )
        } else {
            libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER,
                &fprog as *const libc::sock_fprog,
                0,
                0,
            ) as libc::c_long
        }
    };
    if r < 0 {
        return Err(FilterError {
            errno: sys::errno(),
            flags,
            len: prog.len(),
        });
    }
    // SAFETY: with NEW_LISTENER the kernel returns a new fd that we own.
    Ok(listener.then(|| unsafe { OwnedFd::from_raw_fd(r as RawFd) }))
}

/// A caller's program (`--seccomp`, `--add-seccomp-fd`): raw bytes, eight
/// per instruction in the machine's byte order, as bwrap takes them.
pub fn caller_program(data: &[u8]) -> Vec<sock_filter> {
    data.chunks_exact(8)
        .map(|c| sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect()
}

/// A socket pair for passing the listener: (supervisor end, sandbox end).
pub fn channel() -> Result<(OwnedFd, OwnedFd)> {
    socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| anyhow!("socketpair(AF_UNIX, SOCK_SEQPACKET): {}", e.desc()))
}

/// Send `fd` over `sock` with SCM_RIGHTS.
pub fn send_fd(sock: RawFd, fd: RawFd) -> Result<()> {
    let fds = [fd];
    sendmsg::<()>(
        sock,
        &[IoSlice::new(b"L")],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::MSG_NOSIGNAL,
        None,
    )
    .map_err(|e| {
        anyhow!(
            "sendmsg(seccomp listener fd {fd} on fd {sock}): {}",
            e.desc()
        )
    })?;
    Ok(())
}

/// Receive one fd from `sock`; `Ok(None)` at end of stream.
fn recv_fd(sock: RawFd) -> Result<Option<OwnedFd>> {
    let mut byte = [0u8; 1];
    let mut iov = [IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!(RawFd);
    let msg = recvmsg::<()>(sock, &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)
        .map_err(|e| anyhow!("recvmsg(seccomp listener on fd {sock}): {}", e.desc()))?;
    if msg.bytes == 0 {
        return Ok(None);
    }
    let cmsgs = msg
        .cmsgs()
        .map_err(|e| anyhow!("recvmsg(seccomp listener on fd {sock}): {}", e.desc()))?;
    let mut got = None;
    for c in cmsgs {
        if let ControlMessageOwned::ScmRights(fds) = c {
            for fd in fds {
                // SAFETY: the kernel just installed these fds in our table.
                let owned = unsafe { OwnedFd::from_raw_fd(fd) };
                got.get_or_insert(owned);
            }
        }
    }
    got.map(Some).ok_or_else(|| {
        anyhow!("recvmsg(seccomp listener on fd {sock}): no file descriptor in the message")
    })
}

/// The supervisor's side: waits for signals while answering the
/// notifications of the command's filter.
pub struct Notifier<'a> {
    policy: &'a Policy,
    out: RawFd,
    level_prefix: bool,
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
                self.kill(req.pid, caller.survives_sigsys);
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
    fn kill(&mut self, pid: u32, survives_sigsys: bool) {
        let sig = if survives_sigsys || self.signalled.contains(&pid) {
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

/// What the notifier needs of a caller's `/proc/PID/status`, read once.
struct CallerStatus {
    /// The pid inside the sandbox (last NSpid entry).
    pid: u32,
    comm: String,
    /// SIGSYS is caught, blocked or ignored (or the status is unreadable).
    survives_sigsys: bool,
}

impl CallerStatus {
    fn read(host_pid: u32) -> CallerStatus {
        let status =
            std::fs::read_to_string(format!("/proc/{host_pid}/status")).unwrap_or_default();
        CallerStatus::parse(&status, host_pid)
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
            comm: field("Name:").unwrap_or("?").to_string(),
            survives_sigsys: (mask("SigCgt:") | mask("SigBlk:") | mask("SigIgn:")) & sigsys_bit
                != 0,
        }
    }
}

/// Whose death a wait status tells of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Died {
    /// The command (its status came through pid 1, or there is no pid 1).
    Command,
    /// sandwrap's own pid 1, which never reported the command's status.
    Pid1,
}

/// The note (without `sandwrap: `) for a process that died of SIGSYS,
/// when no report named the call.
pub fn sigsys_note(spec: &Spec, own: Option<&Policy>, status: i32, who: Died) -> Option<String> {
    if !libc::WIFSIGNALED(status) || libc::WTERMSIG(status) != libc::SIGSYS {
        return None;
    }
    let caller_programs = spec.seccomp.fd.is_some() || !spec.seccomp.programs.is_empty();
    match who {
        // Only the caller's programs apply to pid 1 (as in bwrap).
        Died::Pid1 => Some(format!(
            "sandwrap's pid 1 was killed by SIGSYS (Bad system call){}; the command's status is lost",
            if caller_programs {
                ": the --seccomp/--add-seccomp-fd program refused one of its system calls"
            } else {
                ""
            }
        )),
        Died::Command => {
            let policy = own?;
            if spec.seccomp.report.is_some() {
                return None;
            }
            let command = spec
                .command
                .first()
                .map(|c| c.to_string_lossy().into_owned())
                .unwrap_or_default();
            Some(report::sigsys_note(policy, &command))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_status_from_one_read() {
        let text = "Name:\tprobe\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\nNSpid:\t4711\t3\n";
        let c = CallerStatus::parse(text, 4711);
        assert_eq!(
            (c.pid, c.comm.as_str(), c.survives_sigsys),
            (3, "probe", false)
        );
        let caught = text.replace("SigCgt:\t0000000000000000", "SigCgt:\t0000000040000000");
        assert!(CallerStatus::parse(&caught, 4711).survives_sigsys);
        // Gone or unreadable: the host pid, and SIGKILL to be sure.
        let gone = CallerStatus::parse("", 9);
        assert_eq!(
            (gone.pid, gone.comm.as_str(), gone.survives_sigsys),
            (9, "?", true)
        );
    }

    #[test]
    fn caller_programs_are_read_as_bwrap_does() {
        let raw: Vec<u8> = [
            0x06u16.to_ne_bytes().to_vec(),
            vec![1, 2],
            0x7fff_0000u32.to_ne_bytes().to_vec(),
        ]
        .concat();
        let p = caller_program(&raw);
        assert_eq!(p.len(), 1);
        assert_eq!(
            (p[0].code, p[0].jt, p[0].jf, p[0].k),
            (6, 1, 2, 0x7fff_0000)
        );
    }
}
