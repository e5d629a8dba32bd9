//! User namespace id maps.
//!
//! The first user namespace maps the caller to the sandbox ids directly, as
//! bwrap does, unless setup needs uid 0 inside (devpts, limiting user
//! namespaces): then it maps the caller to 0 and a nested namespace maps
//! the sandbox ids onto that 0 after setup.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;

use anyhow::{Context, Result};

use crate::engine::sys;

/// One single-id map line each for uid and gid: `inside outside 1`; or,
/// for the nested namespace of `--map-subids`, `mirror`: every line of the
/// first namespace's maps, each id onto itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdMap {
    pub uid_inside: u32,
    pub uid_outside: u32,
    pub gid_inside: u32,
    pub gid_outside: u32,
    pub mirror: bool,
}

impl IdMap {
    /// `uid: (inside, outside)`, `gid: (inside, outside)`.
    fn single(uid: (u32, u32), gid: (u32, u32)) -> IdMap {
        IdMap {
            uid_inside: uid.0,
            uid_outside: uid.1,
            gid_inside: gid.0,
            gid_outside: gid.1,
            mirror: false,
        }
    }
}

/// The maps of the first (and, when nesting, the second) user namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdPlan {
    pub first: IdMap,
    pub nested: Option<IdMap>,
}

/// Work out the id maps. `caller` is the real (uid, gid) outside, `sandbox`
/// the ids the command should have.
pub fn plan(caller: (u32, u32), sandbox: (u32, u32), nest: bool) -> IdPlan {
    if nest {
        IdPlan {
            first: IdMap::single((0, caller.0), (0, caller.1)),
            nested: Some(IdMap::single((sandbox.0, 0), (sandbox.1, 0))),
        }
    } else {
        IdPlan {
            first: IdMap::single((sandbox.0, caller.0), (sandbox.1, caller.1)),
            nested: None,
        }
    }
}

/// The maps with `--map-subids`: the first namespace's maps (0 → the
/// caller, 1..=N → the subordinate ranges) are written by newuidmap and
/// newgidmap from outside; `first` only records the caller's line. A
/// nested namespace maps the whole range onto itself, so every id stays
/// usable; the command switches to its --uid/--gid with setresuid.
pub fn plan_subids(caller: (u32, u32), nest: bool) -> IdPlan {
    IdPlan {
        first: IdMap::single((0, caller.0), (0, caller.1)),
        nested: nest.then_some(IdMap {
            mirror: true,
            ..IdMap::single((0, 0), (0, 0))
        }),
    }
}

/// Write this process's maps (it must have just entered a new user
/// namespace). `deny_setgroups` is required for an unprivileged writer.
/// `proc` is a procfs directory (the host's, opened before the pivot: the
/// sandbox's own /proc may be missing or read-only).
pub fn write_maps(map: &IdMap, deny_setgroups: bool, proc: BorrowedFd<'_>) -> Result<()> {
    if deny_setgroups {
        match write_proc(proc, "self/setgroups", "deny") {
            Err(e) if e.errno != libc::ENOENT => {
                return Err(e).context("error writing to setgroups");
            }
            _ => {}
        }
    }
    write_proc(
        proc,
        "self/uid_map",
        &format!("{} {} 1\n", map.uid_inside, map.uid_outside),
    )
    .context("setting up uid map")?;
    write_proc(
        proc,
        "self/gid_map",
        &format!("{} {} 1\n", map.gid_inside, map.gid_outside),
    )
    .context("setting up gid map")?;
    Ok(())
}

fn write_proc(
    proc: BorrowedFd<'_>,
    name: &str,
    text: &str,
) -> std::result::Result<(), sys::SysError> {
    let fd = sys::openat(proc.as_raw_fd(), Path::new(name), libc::O_WRONLY, 0)?;
    sys::write_all(fd.as_raw_fd(), text.as_bytes()).map_err(|errno| sys::SysError {
        call: format!("write /proc/{name}"),
        errno,
    })
}

/// Enter a nested user namespace (and a mount namespace owned by it, which
/// locks every mount made during setup: not even a capable command inside
/// can remount a read-only bind writable) and map the sandbox ids there.
pub fn enter_nested(map: &IdMap, proc: BorrowedFd<'_>) -> Result<()> {
    if !map.mirror {
        sys::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS).context("unshare user ns")?;
        return write_maps(map, false, proc);
    }
    // A range needs CAP_SETUID over the parent namespace in the writer,
    // which this process gives up by entering: a helper left behind in the
    // first namespace writes the maps. It finds us by our pid as the
    // procfs it holds counts it (ours may be a different pid namespace).
    let me = sys::readlinkat(proc, Path::new("self")).context("setting up the nested id maps")?;
    let me = me.to_string_lossy().into_owned();
    let (go_r, go_w) = sys::pipe()?;
    let (done_r, done_w) = sys::pipe()?;
    let pid = sys::clone_fork(0).context("fork to write the nested id maps")?;
    if pid == 0 {
        drop(go_w);
        let mut b = [0u8; 1];
        let word: i32 = match sys::read_some(go_r.as_raw_fd(), &mut b) {
            Ok(1) => mirror_map(proc, "uid_map", &me)
                .and_then(|()| mirror_map(proc, "gid_map", &me))
                .map_or_else(|e| e.errno, |()| 0),
            _ => libc::ECANCELED,
        };
        let _ = sys::write_all(done_w.as_raw_fd(), &word.to_ne_bytes());
        super::exit_now(0);
    }
    drop((go_r, done_w));
    let entered = sys::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS);
    if entered.is_ok() {
        let _ = sys::write_all(go_w.as_raw_fd(), b"g");
    }
    drop(go_w);
    let mut buf = [0u8; 4];
    let got = sys::read_some(done_r.as_raw_fd(), &mut buf);
    // Reaping the helper we just forked.
    let _ = sys::waitpid(pid, 0);
    entered.context("unshare user ns")?;
    match got {
        Ok(4) if i32::from_ne_bytes(buf) == 0 => Ok(()),
        Ok(4) => Err(sys::SysError {
            call: format!("write /proc/{me}/uid_map, gid_map (nested, by a helper)"),
            errno: i32::from_ne_bytes(buf),
        })
        .context("setting up the nested id maps"),
        _ => Err(anyhow::anyhow!(
            "setting up the nested id maps: the helper died"
        )),
    }
}

/// Map `pid`'s new namespace onto ours id for id, line for line (a line of
/// a map must lie within one line of the parent's).
fn mirror_map(
    proc: BorrowedFd<'_>,
    name: &str,
    pid: &str,
) -> std::result::Result<(), sys::SysError> {
    let fd = sys::openat(
        proc.as_raw_fd(),
        Path::new(&format!("self/{name}")),
        libc::O_RDONLY,
        0,
    )?;
    let mut ours = Vec::new();
    sys::read_to_end(fd.as_raw_fd(), &mut ours, usize::MAX).map_err(|errno| sys::SysError {
        call: format!("read /proc/self/{name}"),
        errno,
    })?;
    let ours = String::from_utf8_lossy(&ours);
    write_proc(proc, &format!("{pid}/{name}"), &identity_lines(&ours))
}

/// `inside outside count` lines → `inside inside count`.
fn identity_lines(map: &str) -> String {
    map.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (inside, _, count) = (f.next()?, f.next()?, f.next()?);
            Some(format!("{inside} {inside} {count}\n"))
        })
        .collect()
}

/// Lock every mount made during setup while staying in this user
/// namespace (`Spec::needs_mount_lock`): a helper child makes a mount
/// namespace owned by a new user namespace below ours (copying the mounts
/// into a less privileged namespace locks them: MNT_LOCKED and the
/// MNT_LOCK_* flags, which no capability lifts), and this process enters
/// it. The command, forked from here, keeps its capabilities over the
/// sandbox's network, UTS and IPC namespaces (owned by our user namespace),
/// as with bwrap; only the mounts are out of its reach.
/// `proc`: a procfs directory (the host's, opened before the pivot).
pub fn lock_mounts(proc: BorrowedFd<'_>) -> Result<()> {
    let (r, w) = sys::pipe()?;
    // CLONE_FILES: the helper opens its namespace into our fd table.
    let pid = sys::clone_fork(libc::CLONE_FILES).context("fork to lock the mounts")?;
    if pid == 0 {
        // The fd table is shared: nothing here may close an fd (no drop
        // of `r`, `w` or `proc`; `_exit` runs no destructor).
        let fd = sys::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS)
            .and_then(|()| {
                sys::openat(
                    proc.as_raw_fd(),
                    Path::new("thread-self/ns/mnt"),
                    libc::O_RDONLY,
                    0,
                )
            })
            .map(std::os::fd::IntoRawFd::into_raw_fd);
        let word: i32 = match fd {
            Ok(fd) => fd,
            Err(e) => -e.errno,
        };
        let _ = sys::write_all(w.as_raw_fd(), &word.to_ne_bytes());
        super::exit_now(0);
    }
    // The table is shared until the helper has exited: only then is `w`
    // closed (for an EOF if the helper died without writing).
    let _ = sys::waitpid(pid, 0);
    drop(w);
    let mut buf = [0u8; 4];
    let got = sys::read_some(r.as_raw_fd(), &mut buf);
    let word = match got {
        Ok(4) => i32::from_ne_bytes(buf),
        _ => -libc::EIO,
    };
    if word < 0 {
        return Err(sys::SysError {
            call: "unshare NEWUSER|NEWNS, open /proc/thread-self/ns/mnt".into(),
            errno: -word,
        })
        .context("can't lock the mounts for a command with CAP_SYS_ADMIN");
    }
    // SAFETY: the helper opened this fd into our shared table for us.
    let ns = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(word) };
    sys::setns(ns.as_raw_fd(), libc::CLONE_NEWNS, "mnt (locked mounts)")
        .context("can't lock the mounts for a command with CAP_SYS_ADMIN")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_map_by_default() {
        let p = plan((1001, 1002), (1001, 1002), false);
        assert_eq!(p.first, IdMap::single((1001, 1001), (1002, 1002)));
        assert!(p.nested.is_none());
        let p = plan((1001, 1002), (0, 0), false);
        assert_eq!((p.first.uid_inside, p.first.uid_outside), (0, 1001));
    }

    #[test]
    fn nested_maps_through_root() {
        let p = plan((1001, 1002), (1001, 1002), true);
        assert_eq!((p.first.uid_inside, p.first.uid_outside), (0, 1001));
        let n = p.nested.expect("nested");
        assert_eq!(
            (n.uid_inside, n.uid_outside, n.gid_inside, n.gid_outside),
            (1001, 0, 1002, 0)
        );
    }

    #[test]
    fn subids_nest_the_whole_range() {
        let p = plan_subids((1001, 1002), true);
        assert_eq!((p.first.uid_inside, p.first.uid_outside), (0, 1001));
        assert!(p.nested.expect("nested").mirror && !p.first.mirror);
        assert!(plan_subids((1, 1), false).nested.is_none());
        assert_eq!(
            identity_lines("         0       4314          1\n         1    1400000      65536\n"),
            "0 0 1\n1 1 65536\n"
        );
    }
}
