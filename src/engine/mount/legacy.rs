//! Kernels before 5.12 have no `mount_setattr`: there, a bind's tree is
//! attached first and each of its mounts is then remounted with the flags
//! it must have, found in /proc/self/mountinfo (bwrap's way: one read of the
//! mount table per bind). `SANDWRAP_MOUNT_API=legacy` forces this path on a
//! newer kernel, so that it can be tested.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::engine::sys::{self, SysError};

/// Whether the legacy path is forced by the environment.
pub fn forced() -> bool {
    static FORCED: OnceLock<bool> = OnceLock::new();
    *FORCED.get_or_init(|| std::env::var_os("SANDWRAP_MOUNT_API").is_some_and(|v| v == "legacy"))
}

/// One line of /proc/self/mountinfo: what we need of it.
#[derive(Debug, PartialEq, Eq)]
pub struct MountLine {
    pub id: u64,
    pub parent: u64,
    pub mount_point: PathBuf,
    /// Per-mount flags as MS_* bits (ro, nosuid, nodev, noexec, atime ones).
    pub flags: libc::c_ulong,
}

/// Undo mountinfo's octal escapes (`\040` for a space, ...).
pub fn unescape(field: &str) -> PathBuf {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    let os: std::ffi::OsString = std::os::unix::ffi::OsStringExt::from_vec(out);
    PathBuf::from(os)
}

pub fn option_flags(options: &str) -> libc::c_ulong {
    options.split(',').fold(0, |f, o| {
        f | match o {
            "ro" => libc::MS_RDONLY,
            "nosuid" => libc::MS_NOSUID,
            "nodev" => libc::MS_NODEV,
            "noexec" => libc::MS_NOEXEC,
            "noatime" => libc::MS_NOATIME,
            "nodiratime" => libc::MS_NODIRATIME,
            "relatime" => libc::MS_RELATIME,
            _ => 0,
        }
    })
}

pub fn parse(mountinfo: &str) -> Vec<MountLine> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(' ').collect();
            Some(MountLine {
                id: f.first()?.parse().ok()?,
                parent: f.get(1)?.parse().ok()?,
                mount_point: unescape(f.get(4)?),
                flags: option_flags(f.get(5)?),
            })
        })
        .collect()
}

/// The mounts of the tree just attached at `at`: the newest mount on that
/// path and every mount below it, parents before children.
pub fn attached_tree(lines: &[MountLine], at: &Path) -> Vec<usize> {
    let Some(top) = lines.iter().rposition(|l| l.mount_point == at) else {
        return Vec::new();
    };
    let mut tree = vec![top];
    let mut i = 0;
    while i < tree.len() {
        let (id, this) = (lines[tree[i]].id, tree[i]);
        let children: Vec<usize> = (0..lines.len())
            .filter(|&j| lines[j].parent == id && j != this)
            .collect();
        tree.extend(children);
        i += 1;
    }
    tree
}

/// Give every mount of the tree attached at `target` the flags `add` (MS_*
/// bits) on top of those it has.
pub fn restrict_attached(
    target: BorrowedFd<'_>,
    add: libc::c_ulong,
    shown: &Path,
) -> Result<(), SysError> {
    let at = std::fs::read_link(sys::fd_path(target)).map_err(|e| SysError {
        call: format!("readlink {}", sys::q(shown)),
        errno: e.raw_os_error().unwrap_or(libc::EIO),
    })?;
    let info = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| SysError {
        call: "read /proc/self/mountinfo".into(),
        errno: e.raw_os_error().unwrap_or(libc::EIO),
    })?;
    let lines = parse(&info);
    for i in attached_tree(&lines, &at) {
        let line = &lines[i];
        let flags = libc::MS_REMOUNT | libc::MS_BIND | line.flags | add;
        match sys::mount(None, &line.mount_point, None, flags, None) {
            // bwrap ignores submounts it may not touch.
            Err(e) if e.errno == libc::EACCES && i != 0 => {}
            Err(e) => return Err(e),
            Ok(()) => {}
        }
    }
    let _ = target.as_raw_fd();
    Ok(())
}

/// MOUNT_ATTR_* bits as MS_* flags.
pub fn ms_flags(attrs: u64) -> libc::c_ulong {
    let mut f = 0;
    if attrs & sys::MOUNT_ATTR_RDONLY != 0 {
        f |= libc::MS_RDONLY;
    }
    if attrs & sys::MOUNT_ATTR_NOSUID != 0 {
        f |= libc::MS_NOSUID;
    }
    if attrs & sys::MOUNT_ATTR_NODEV != 0 {
        f |= libc::MS_NODEV;
    }
    if attrs & sys::MOUNT_ATTR_NOEXEC != 0 {
        f |= libc::MS_NOEXEC;
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = "\
21 1 0:20 / / rw,relatime shared:1 - ext4 /dev/vda rw
22 21 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:2 - proc proc rw
30 21 0:30 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw
31 30 0:20 /usr /tmp/usr ro,relatime - ext4 /dev/vda rw
40 30 0:20 /usr /tmp/usr rw,relatime - ext4 /dev/vda rw
41 40 0:22 / /tmp/usr/my\\040dir rw,noexec - tmpfs tmpfs rw
42 31 0:23 / /tmp/usr/old rw - tmpfs tmpfs rw
";

    #[test]
    fn parses_ids_paths_and_flags() {
        let l = parse(INFO);
        assert_eq!(l.len(), 7);
        assert_eq!(
            l[1].flags,
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC | libc::MS_RELATIME
        );
        assert_eq!(l[5].mount_point, Path::new("/tmp/usr/my dir"));
        assert_eq!(l[3].flags, libc::MS_RDONLY | libc::MS_RELATIME);
    }

    #[test]
    fn attached_tree_is_the_newest_mount_and_its_descendants() {
        let l = parse(INFO);
        let ids: Vec<u64> = attached_tree(&l, Path::new("/tmp/usr"))
            .into_iter()
            .map(|i| l[i].id)
            .collect();
        // 40 is the newest on /tmp/usr; 42 belongs to the older, covered 31.
        assert_eq!(ids, [40, 41]);
        assert!(attached_tree(&l, Path::new("/nowhere")).is_empty());
    }

    #[test]
    fn attribute_bits_map_to_mount_flags() {
        assert_eq!(
            ms_flags(sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NODEV),
            libc::MS_RDONLY | libc::MS_NODEV
        );
        assert_eq!(ms_flags(0), 0);
    }
}
