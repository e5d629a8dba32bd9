//! The new root: a tmpfs attached over `/tmp` in the sandbox's private mount
//! namespace, and path resolution that never leaves it.
//!
//! Every destination is resolved with `openat2(RESOLVE_IN_ROOT)` relative to
//! the new root, so a symlink planted in a writable bind (absolute, or with
//! `..`) can never make setup create, chmod or mount anything outside it.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};

use crate::engine::sys::{self, FsContext, SysError};

/// Where the new root is attached during setup. Only this mount namespace
/// sees it, and every host source was opened before it was attached.
pub(super) const ATTACH_POINT: &str = "/tmp";

pub struct NewRoot {
    /// The root tmpfs itself (its root dentry), even when later covered by a
    /// bind on `/`: hidden setup files are made here, never on the host.
    pub base: OwnedFd,
    /// The topmost mount on `/`, from which destinations are resolved.
    top: OwnedFd,
    /// `top`'s (device, inode), taken once instead of at every attach.
    top_id: Option<(u64, u64)>,
    /// `--not-a-security-boundary`: a failure to restrict submounts is a
    /// warning, not an error.
    pub lenient: Option<bool>,
}

/// Split a destination into normal components (`..` is kept: the kernel
/// clamps it at the new root).
fn components(dest: &Path) -> Vec<&std::ffi::OsStr> {
    dest.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n),
            Component::ParentDir => Some(std::ffi::OsStr::new("..")),
            _ => None,
        })
        .collect()
}

/// A file's (device, inode); None when it cannot be known.
fn file_id(fd: BorrowedFd<'_>) -> Option<(u64, u64)> {
    sys::fstat(fd).ok().map(|st| (st.st_dev, st.st_ino))
}

pub fn is_root(dest: &Path) -> bool {
    components(dest).is_empty()
}

impl NewRoot {
    /// Mount the root tmpfs (mode 0755, nosuid, nodev) and attach it.
    pub fn create() -> Result<NewRoot> {
        let ctx = FsContext::open("tmpfs").context("Failed to mount tmpfs")?;
        ctx.set("mode", "0755").context("Failed to mount tmpfs")?;
        let mnt = ctx
            .mount(sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV)
            .context("Failed to mount tmpfs")?;
        let attach = sys::openat(
            libc::AT_FDCWD,
            Path::new(ATTACH_POINT),
            libc::O_PATH | libc::O_DIRECTORY,
            0,
        )
        .context("Failed to mount tmpfs")?;
        sys::move_mount(
            mnt.as_fd(),
            attach.as_fd(),
            "tmpfs",
            Path::new(ATTACH_POINT),
        )
        .context("Failed to mount tmpfs")?;
        let base = sys::openat(
            libc::AT_FDCWD,
            Path::new(ATTACH_POINT),
            libc::O_PATH | libc::O_DIRECTORY,
            0,
        )
        .context("Failed to mount tmpfs")?;
        let top = base.try_clone().context("dup")?;
        Ok(NewRoot {
            base,
            top_id: file_id(top.as_fd()),
            top,
            lenient: None,
        })
    }

    pub fn top(&self) -> BorrowedFd<'_> {
        self.top.as_fd()
    }

    /// After something was mounted on `/` itself, resolve from the new top.
    pub fn refresh_top(&mut self) -> Result<()> {
        self.top = sys::openat(
            libc::AT_FDCWD,
            Path::new(ATTACH_POINT),
            libc::O_PATH | libc::O_DIRECTORY,
            0,
        )?;
        self.top_id = file_id(self.top());
        Ok(())
    }

    /// Open `dest` inside the new root (following symlinks, confined to it).
    pub fn resolve(&self, dest: &Path) -> std::result::Result<OwnedFd, SysError> {
        sys::openat2(self.top(), dest, libc::O_PATH, 0, sys::RESOLVE_IN_ROOT)
    }

    pub fn resolve_with(
        &self,
        dest: &Path,
        flags: i32,
        mode: u32,
    ) -> std::result::Result<OwnedFd, SysError> {
        sys::openat2(self.top(), dest, flags, mode, sys::RESOLVE_IN_ROOT)
    }

    /// Whether `fd` is the root of the new tree (a mount on it covers `/`).
    pub fn is_top(&self, fd: BorrowedFd<'_>) -> bool {
        self.top_id.is_some() && file_id(fd) == self.top_id
    }

    /// Create the missing parent directories of `dest` and return the parent
    /// (opened inside the root) with the last component's name. Parents get
    /// mode 0755, less group/other bits the op's mode lacks (bwrap). `perms`
    /// is the mode bwrap records for the op: None for ops without one,
    /// which bwrap records as 0, so their parents are 0700.
    pub fn ensure_parents(
        &self,
        dest: &Path,
        perms: Option<u32>,
    ) -> std::result::Result<(OwnedFd, PathBuf), SysError> {
        let comps = components(dest);
        let mut mode = 0o755;
        let p = perms.unwrap_or(0);
        if p & 0o070 == 0 {
            mode &= !0o050;
        }
        if p & 0o007 == 0 {
            mode &= !0o005;
        }
        let Some((last, parents)) = comps.split_last() else {
            let fd = self.top.try_clone().map_err(|e| SysError {
                call: "dup".into(),
                errno: e.raw_os_error().unwrap_or(libc::EIO),
            })?;
            return Ok((fd, PathBuf::from(".")));
        };
        let mut prefix = PathBuf::from("/");
        // The top itself is only borrowed: a dup of it per destination
        // would be two more system calls per bind.
        let mut parent: Option<OwnedFd> = None;
        for comp in parents {
            prefix.push(comp);
            parent = Some(
                match self.resolve_with(&prefix, libc::O_PATH | libc::O_DIRECTORY, 0) {
                    Ok(fd) => fd,
                    Err(e) if e.errno == libc::ENOENT => {
                        let at = parent.as_ref().map_or(self.top(), |p| p.as_fd());
                        match sys::mkdirat(at, Path::new(comp), mode) {
                            Ok(()) => {}
                            Err(e) if e.errno == libc::EEXIST => {}
                            Err(e) => return Err(e),
                        }
                        self.resolve_with(&prefix, libc::O_PATH | libc::O_DIRECTORY, 0)?
                    }
                    Err(e) => return Err(e),
                },
            );
        }
        let parent = match parent {
            Some(fd) => fd,
            None => self.top.try_clone().map_err(|e| SysError {
                call: "dup".into(),
                errno: e.raw_os_error().unwrap_or(libc::EIO),
            })?,
        };
        Ok((parent, PathBuf::from(last)))
    }

    /// Make the new root `/` and detach the host's root for good.
    pub fn pivot(self) -> Result<()> {
        sys::fchdir(self.top(), Path::new(ATTACH_POINT)).context("chdir /newroot")?;
        sys::pivot_root(Path::new("."), Path::new(".")).context("pivot_root(/newroot)")?;
        // The old root now sits on top of the new one at "/": detach it.
        sys::umount_detach(Path::new(".")).context("umount old root")?;
        sys::chdir(Path::new("/")).context("chdir /")?;
        drop(self.base);
        let _ = self.top.as_raw_fd();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_detection() {
        assert!(is_root(Path::new("/")));
        assert!(is_root(Path::new("//.")));
        assert!(!is_root(Path::new("/usr")));
        assert_eq!(components(Path::new("/a/./b/../c")), ["a", "b", "..", "c"]);
    }
}
