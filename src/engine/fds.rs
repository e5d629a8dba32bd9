//! The caller's fds that options name (`--bind-fd 5`, `--info-fd 7`, ...):
//! the one place that knows which of them sandwrap still holds.
//!
//! - A number is used as the caller's fd only while it is held: an fd that
//!   was not open when sandwrap started, or that an earlier option already
//!   consumed, is "closed" (EBADF), even when one of sandwrap's own fds has
//!   taken its number since. So `--bind-fd 4` with fd 4 closed fails as in
//!   bwrap, instead of binding whatever sandwrap opened as fd 4.
//! - Each fd is closed as soon as its option is done with it, as bwrap does.
//! - Before exec, every named fd that bwrap keeps from the command is closed,
//!   and none may still be open: an fd on a host directory inside the
//!   sandbox is a way out (`/proc/self/fd/N/..`).
//!
//! `--args` and `--add-seccomp-fd` are read and closed while parsing, before
//! anything here runs: a later option naming the same number finds it closed.

use std::os::fd::RawFd;
use std::sync::{Mutex, MutexGuard};

use anyhow::{Result, anyhow};

use super::sys::{self, SysError};
use crate::spec::{FsOp, ReportTo, Spec};

/// One fd an option names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Named {
    pub fd: RawFd,
    pub option: &'static str,
    /// bwrap leaves it open in the command.
    pub command_keeps: bool,
}

/// Every fd the spec names, in a fixed order, with what the command keeps.
/// bwrap 0.8 leaves `--userns`, `--userns2`, `--pidns` and
/// `--userns-block-fd` open in the command (it never closes them in the
/// sandbox), and `--sync-fd` with `--as-pid-1` (no pid 1 to hold it); it
/// closes all the others before exec.
pub fn named(spec: &Spec) -> Vec<Named> {
    let mut out = Vec::new();
    let mut add = |fd: Option<RawFd>, option: &'static str, command_keeps: bool| {
        if let Some(fd) = fd {
            out.push(Named {
                fd,
                option,
                command_keeps,
            });
        }
    };
    for op in &spec.ops {
        match op {
            FsOp::BindFd { fd, read_only, .. } => {
                let option = if *read_only {
                    "--ro-bind-fd"
                } else {
                    "--bind-fd"
                };
                add(Some(*fd), option, false);
            }
            FsOp::File { fd, .. } => add(Some(*fd), "--file", false),
            FsOp::BindData { fd, read_only, .. } => {
                let option = if *read_only {
                    "--ro-bind-data"
                } else {
                    "--bind-data"
                };
                add(Some(*fd), option, false);
            }
            _ => {}
        }
    }
    let status = &spec.status;
    add(spec.seccomp.fd, "--seccomp", false);
    add(status.info, "--info-fd", false);
    add(status.json_status, "--json-status-fd", false);
    add(status.block, "--block-fd", false);
    add(status.sync, "--sync-fd", spec.as_pid_1);
    add(report_fd(spec), "--seccomp-report-fd", false);
    add(spec.join.userns, "--userns", true);
    add(spec.join.userns2, "--userns2", true);
    add(spec.join.pidns, "--pidns", true);
    add(status.userns_block, "--userns-block-fd", true);
    out
}

fn report_fd(spec: &Spec) -> Option<RawFd> {
    match spec.seccomp.report {
        Some(ReportTo::Fd(fd)) => Some(fd),
        _ => None,
    }
}

/// The fds that must be closed before exec: named, and not kept by bwrap
/// under any option naming the same number.
pub fn closed_for_command(named: &[Named]) -> Vec<RawFd> {
    let mut v: Vec<RawFd> = named
        .iter()
        .filter(|n| !n.command_keeps)
        .map(|n| n.fd)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Named fds sandwrap holds: open when it started, not yet consumed. Per
/// process: the sandbox's processes get a copy at clone, as they get a copy
/// of the fd table.
static HELD: Mutex<Vec<RawFd>> = Mutex::new(Vec::new());

fn held() -> MutexGuard<'static, Vec<RawFd>> {
    HELD.lock().unwrap_or_else(|e| e.into_inner())
}

/// At launch, before sandwrap opens any fd of its own: note which named
/// fds the caller really passed, and check the ones sandwrap writes to
/// without bwrap's error path (`--seccomp-report-fd`).
pub fn claim(spec: &Spec) -> Result<()> {
    let mut h = held();
    h.clear();
    for n in named(spec) {
        if n.fd >= 0 && sys::fd_is_open(n.fd) && !h.contains(&n.fd) {
            h.push(n.fd);
        }
    }
    drop(h);
    // bwrap goes on after a failed read of --userns-block-fd, then fails
    // for want of the id maps the helper never wrote; say why at once.
    if let Some(fd) = spec.status.userns_block {
        get(fd).map_err(|e| anyhow!("--userns-block-fd {fd}: {}", crate::errno_text(e.errno)))?;
    }
    if let Some(fd) = report_fd(spec) {
        check_writable(fd).map_err(|why| anyhow!("--seccomp-report-fd {fd}: {why}"))?;
    }
    Ok(())
}

/// Why `fd` cannot take lines written to it, if it cannot.
fn check_writable(fd: RawFd) -> std::result::Result<(), String> {
    // SAFETY: F_GETFL has no side effects.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(crate::errno_text(sys::errno()));
    }
    // SAFETY: fstat into a zeroed struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd and out-pointer.
    let is_dir =
        unsafe { libc::fstat(fd, &mut st) } == 0 && st.st_mode & libc::S_IFMT == libc::S_IFDIR;
    writable_why(flags, is_dir)
}

/// The pure part of `check_writable`: the fd's status flags and type.
fn writable_why(flags: i32, is_dir: bool) -> std::result::Result<(), String> {
    if flags & libc::O_PATH != 0 {
        return Err("an O_PATH fd cannot be written to".into());
    }
    if is_dir {
        return Err("is a directory, not a file, pipe or socket to write to".into());
    }
    match flags & libc::O_ACCMODE {
        libc::O_WRONLY | libc::O_RDWR => Ok(()),
        _ => Err("not open for writing (opened read-only)".into()),
    }
}

/// The caller's fd `fd`, while sandwrap holds it; EBADF otherwise, as the
/// closed fd it is to the caller.
pub fn get(fd: RawFd) -> std::result::Result<RawFd, SysError> {
    if held().contains(&fd) {
        Ok(fd)
    } else {
        Err(SysError {
            call: format!("fd {fd} (not open, or already used by an earlier option)"),
            errno: libc::EBADF,
        })
    }
}

/// The option is done with `fd`: close it (when held) and forget it.
pub fn consume(fd: RawFd) {
    let mut h = held();
    if let Some(i) = h.iter().position(|&f| f == fd) {
        h.swap_remove(i);
        // SAFETY: the caller handed this fd to us for one option, which has
        // used it; nothing else refers to it.
        unsafe { libc::close(fd) };
    }
}

/// Read a held fd to EOF and close it (`--seccomp FD`).
pub fn read_all(fd: RawFd) -> std::result::Result<Vec<u8>, SysError> {
    let fd = get(fd)?;
    let mut data = Vec::new();
    let res = sys::read_to_end(fd, &mut data, usize::MAX).map_err(|errno| SysError {
        call: format!("read fd {fd}"),
        errno,
    });
    consume(fd);
    res.map(|()| data)
}

/// `close_fds_except` for a process that keeps only `keep` from now on:
/// the named fds it closes are no longer held.
pub fn close_all_except(keep: &[RawFd]) {
    sys::close_fds_except(keep);
    held().retain(|fd| *fd <= 2 || keep.contains(fd));
}

/// The last step before exec: close every named fd the command must not
/// keep, then make sure none is open (an fd of ours that took such a
/// number without close-on-exec would reach the command just the same).
pub fn seal_for_exec(spec: &Spec) -> Result<()> {
    let named = named(spec);
    let closed = closed_for_command(&named);
    for &fd in &closed {
        consume(fd);
    }
    for fd in closed {
        // SAFETY: F_GETFD has no side effects.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        if flags >= 0 && flags & libc::FD_CLOEXEC == 0 {
            let option = named
                .iter()
                .find(|n| n.fd == fd && !n.command_keeps)
                .map(|n| n.option)
                .unwrap_or("an option");
            return Err(anyhow!(
                "fd {fd} ({option}) is still open: refusing to run the command with it"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{JoinNamespaces, SeccompSpec, StatusFds};

    fn spec() -> Spec {
        Spec {
            ops: vec![
                FsOp::BindFd {
                    fd: 5,
                    dest: "/a".into(),
                    read_only: true,
                },
                FsOp::File {
                    fd: 6,
                    dest: "/f".into(),
                    perms: None,
                },
                FsOp::BindData {
                    fd: 7,
                    dest: "/d".into(),
                    perms: None,
                    read_only: false,
                },
            ],
            status: StatusFds {
                info: Some(8),
                json_status: Some(9),
                block: Some(10),
                userns_block: Some(11),
                sync: Some(12),
                control: None,
            },
            join: JoinNamespaces {
                userns: Some(13),
                userns2: Some(14),
                pidns: Some(15),
            },
            seccomp: SeccompSpec {
                fd: Some(16),
                report: Some(ReportTo::Fd(17)),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn every_fd_option_is_named_with_what_bwrap_keeps() {
        let n = named(&spec());
        let kept: Vec<RawFd> = n.iter().filter(|n| n.command_keeps).map(|n| n.fd).collect();
        assert_eq!(kept, [13, 14, 15, 11]);
        assert_eq!(
            closed_for_command(&n),
            [5, 6, 7, 8, 9, 10, 12, 16, 17],
            "everything else is closed before exec"
        );
        let opt = |fd| n.iter().find(|n| n.fd == fd).map(|n| n.option);
        assert_eq!(opt(5), Some("--ro-bind-fd"));
        assert_eq!(opt(7), Some("--bind-data"));
        assert_eq!(opt(17), Some("--seccomp-report-fd"));
    }

    #[test]
    fn sync_fd_reaches_the_command_only_as_pid_1() {
        let mut s = spec();
        assert!(closed_for_command(&named(&s)).contains(&12));
        s.as_pid_1 = true;
        assert!(!closed_for_command(&named(&s)).contains(&12));
    }

    #[test]
    fn a_number_kept_by_one_option_and_consumed_by_another_is_closed() {
        // `--userns 5 --bind-fd 5 /x`: bwrap's bind closes 5.
        let mut s = spec();
        s.join.userns = Some(5);
        assert!(closed_for_command(&named(&s)).contains(&5));
    }

    /// The only test that touches the registry (it is per process).
    #[test]
    fn a_held_fd_is_used_once_then_closed() {
        let mut p = [0; 2];
        // SAFETY: room for two fds.
        assert_eq!(unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let (r, w) = (p[0], p[1]);
        let never_open = 1 << 20; // above any fd limit
        let s = Spec {
            seccomp: SeccompSpec {
                fd: Some(r),
                ..Default::default()
            },
            status: StatusFds {
                block: Some(never_open),
                ..Default::default()
            },
            ..Default::default()
        };
        claim(&s).expect("claim");
        assert_eq!(get(r).map_err(|e| e.errno), Ok(r));
        assert_eq!(get(never_open).map_err(|e| e.errno), Err(libc::EBADF));
        assert_eq!(get(w).map_err(|e| e.errno), Err(libc::EBADF), "not named");
        assert_eq!(sys::write_all(w, b"prog"), Ok(()));
        // SAFETY: our own pipe's write end.
        unsafe { libc::close(w) };
        assert_eq!(read_all(r).map_err(|e| e.errno), Ok(b"prog".to_vec()));
        // Consumed: the number is no longer the caller's, whatever takes it.
        assert_eq!(read_all(r).map_err(|e| e.errno), Err(libc::EBADF));
        consume(r); // a second consume closes nothing
    }

    #[test]
    fn report_fd_must_be_writable() {
        assert!(writable_why(libc::O_WRONLY, false).is_ok());
        assert!(writable_why(libc::O_RDWR | libc::O_APPEND, false).is_ok());
        let ro = writable_why(libc::O_RDONLY, false).unwrap_err();
        assert!(ro.contains("read-only"), "{ro}");
        let path = writable_why(libc::O_PATH, false).unwrap_err();
        assert!(path.contains("O_PATH"), "{path}");
        let dir = writable_why(libc::O_RDONLY, true).unwrap_err();
        assert!(dir.contains("directory"), "{dir}");
    }
}
