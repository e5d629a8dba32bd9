//! sandwrap's own seccomp filter at run time: decide and build it before
//! the clone, install programs (`set_filter`), carry the listener out of
//! the sandbox (`channel`, `send_fd`, `recv_fd`) to the supervisor, which
//! answers its notifications (`engine::notifier`). The order of installs in
//! the command is in `engine::filters`.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use anyhow::{Result, anyhow, bail};
use nix::sys::socket::{
    AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, recvmsg,
    sendmsg, socketpair,
};
use seccompiler::sock_filter;

use super::sys;
use crate::landlock::Mode as Where;
use crate::seccomp::{self, Mode, Policy, guard, report};
use crate::spec::Spec;

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
pub fn recv_fd(sock: RawFd) -> Result<Option<OwnedFd>> {
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
