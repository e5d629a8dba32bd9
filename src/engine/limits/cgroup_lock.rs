//! Inside the sandbox, every cgroup v2 mount is made read-only when the
//! sandbox has a cgroup of its own. That cgroup, like the delegated one
//! above it, belongs to the caller's uid, which the command runs as: through
//! a writable cgroupfs (`--bind /sys /sys`, `--dev-bind / /`) it could move
//! itself out (into the delegated parent: out of reach of cgroup.kill and
//! of the limits), raise the limits, or make cgroups next to its own. Read
//! only, and locked as read-only in any namespace it makes, it can do none
//! of that. (A cgroupfs the command mounts itself, in a cgroup namespace
//! of its own, is rooted at its own cgroup: the kernel refuses writes to the
//! limits of that root, and moves out of it.)

use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::engine::mount::{mountinfo_flags, unescape_mountinfo};
use crate::engine::sys;

/// The mount points of cgroup2 mounts, with their MS_* flags, in a
/// mountinfo text.
fn cgroup2_mounts(mountinfo: &str) -> Vec<(PathBuf, libc::c_ulong)> {
    mountinfo
        .lines()
        .filter_map(|line| {
            // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS... - FSTYPE SOURCE OPTS
            let (left, right) = line.split_once(" - ")?;
            if right.split(' ').next() != Some("cgroup2") {
                return None;
            }
            let f: Vec<&str> = left.split(' ').collect();
            Some((unescape_mountinfo(f.get(4)?), mountinfo_flags(f.get(5)?)))
        })
        .collect()
}

/// Whether `point` reaches a cgroup2 filesystem. A remount by path acts on
/// the mount on top: one the spec put over a cgroup2 mount (`--tmpfs
/// /sys/fs/cgroup`) or over a parent of it is not to be changed, and the
/// cgroup2 mount below is out of the command's reach.
fn reaches_cgroup2(point: &Path) -> bool {
    const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;
    let c = sys::cstring(point.as_os_str());
    // SAFETY: statfs is plain data; zero is a valid start.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid C string and out-pointer.
    unsafe { libc::statfs(c.as_ptr(), &mut st) == 0 && st.f_type as i64 == CGROUP2_SUPER_MAGIC }
}

/// Remount every cgroup2 mount of this (the sandbox's) mount namespace
/// read-only; `proc` is the host's procfs, opened before the pivot.
pub fn lock_cgroupfs(proc: BorrowedFd<'_>) -> Result<()> {
    let fd = sys::openat(
        proc.as_raw_fd(),
        Path::new("thread-self/mountinfo"),
        libc::O_RDONLY,
        0,
    )
    .context("reading the sandbox's mounts")?;
    let mut info = String::new();
    std::io::Read::read_to_string(&mut std::fs::File::from(fd), &mut info).map_err(|e| {
        anyhow::anyhow!(
            "reading the sandbox's mounts: read /proc/thread-self/mountinfo: {}",
            crate::io_error_text(&e)
        )
    })?;
    for (point, flags) in cgroup2_mounts(&info) {
        if flags & libc::MS_RDONLY != 0 || !reaches_cgroup2(&point) {
            continue;
        }
        let flags = libc::MS_REMOUNT | libc::MS_BIND | flags | libc::MS_RDONLY;
        sys::mount(None, &point, None, flags, None).with_context(|| {
            format!(
                "making the cgroup filesystem at {} read-only in the sandbox (the sandbox has a cgroup of its own)",
                point.display()
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_cgroup2_mounts() {
        let info = "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n\
                    42 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n\
                    43 31 0:38 /x /a\\040b ro,nosuid - cgroup2 cgroup2 rw\n";
        let found = super::cgroup2_mounts(info);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, std::path::Path::new("/sys/fs/cgroup/unified"));
        assert_eq!(found[1].0, std::path::Path::new("/a b"));
        assert_eq!(found[1].1, libc::MS_RDONLY | libc::MS_NOSUID);
    }
}
