//! Mounting one thing at a destination inside the new root: a bind of an
//! opened source, or a new filesystem instance. The filesystem operations
//! (`ops`) and `--dev` (`dev`) are built from these.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use anyhow::{Result, anyhow};

use super::legacy;
use super::root::{NewRoot, is_root};
use crate::engine::sys::{self, FsContext, SysError};
use crate::spec::BindMode;

/// DEST as bwrap's mount namespace sees it, for the messages where bwrap
/// prints that path rather than DEST as given.
pub(super) fn newroot_path(dest: &Path) -> std::path::PathBuf {
    Path::new("/newroot").join(dest.strip_prefix("/").unwrap_or(dest))
}

/// "Can't X DEST: strerror", bwrap's shape for setup failures.
/// The failed call stays in the error for `--verbose` (engine::message).
pub(super) fn fail(msg: &str, dest: &Path, e: SysError) -> anyhow::Error {
    anyhow::Error::new(e).context(format!("{msg} {}", dest.display()))
}
/// mkdir that accepts an existing directory (and reports an existing
/// non-directory as ENOTDIR when it is resolved afterwards).
pub(super) fn make_dir(
    parent: &OwnedFd,
    name: &Path,
    mode: u32,
) -> std::result::Result<(), SysError> {
    match sys::mkdirat(parent.as_fd(), name, mode) {
        Err(e) if e.errno != libc::EEXIST => Err(e),
        _ => Ok(()),
    }
}

/// A directory made by `mkdirat` just now, opened relative to its parent
/// (already inside the root) so that the mount need not resolve the whole
/// destination again. `None` when it existed, or cannot be opened that way:
/// then the destination is resolved inside the root as usual.
fn made_dir(
    parent: &OwnedFd,
    name: &Path,
    mode: u32,
) -> std::result::Result<Option<OwnedFd>, SysError> {
    match sys::mkdirat(parent.as_fd(), name, mode) {
        // A new entry: a normal name, never `.` or `..`. Not followed if
        // something replaced it by a symlink since.
        Ok(()) => Ok(sys::openat(
            parent.as_raw_fd(),
            name,
            libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW,
            0,
        )
        .ok()),
        Err(e) if e.errno == libc::EEXIST => Ok(None),
        Err(e) => Err(e),
    }
}

/// Create what a mount needs to land on: a directory for a directory source,
/// an empty file (0444) otherwise. An existing destination is used as is
/// (a symlink is followed, inside the root). Returns the mount point when
/// it is already open.
fn make_mount_point(
    root: &NewRoot,
    dest: &Path,
    is_dir: bool,
    perms: Option<u32>,
) -> Result<Option<OwnedFd>> {
    // `/` always exists.
    if !is_root(dest) {
        if let Some(made) = create_mount_point(root, dest, is_dir, perms)? {
            return Ok(Some(made));
        }
    }
    // Something is there: used as is, a symlink followed inside the root.
    // It must be of the source's kind (bwrap's ensure_dir/ensure_file).
    // One that cannot be resolved (a dangling symlink) fails when the
    // mount is attached.
    let Ok(existing) = root.resolve(dest) else {
        return Ok(None);
    };
    let existing_dir =
        sys::fstat(existing.as_fd()).is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR);
    let refuse = |call: &str, errno| SysError {
        call: call.into(),
        errno,
    };
    match (is_dir, existing_dir) {
        (true, false) => Err(fail("Can't mkdir", dest, refuse("mkdir", libc::ENOTDIR))),
        (false, true) => Err(fail(
            "Can't create file at",
            dest,
            refuse("creat", libc::EISDIR),
        )),
        _ => Ok(Some(existing)),
    }
}

/// Make the mount point, tried first: a destination is new far more often
/// than not, and looking it up beforehand would be one more walk of its
/// path. Returns a directory made now, opened; None when the destination is
/// to be looked up (it existed, or is a file).
fn create_mount_point(
    root: &NewRoot,
    dest: &Path,
    is_dir: bool,
    perms: Option<u32>,
) -> Result<Option<OwnedFd>> {
    let (parent, name) = root
        .ensure_parents(dest, perms)
        .map_err(|e| fail("Can't mkdir parents for", dest, e))?;
    if is_dir {
        return made_dir(&parent, &name, 0o755).map_err(|e| fail("Can't mkdir", dest, e));
    }
    match sys::openat(
        parent.as_raw_fd(),
        &name,
        libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_NOFOLLOW,
        0o444,
    ) {
        Ok(_) => Ok(None),
        Err(e) if e.errno == libc::EEXIST => Ok(None),
        Err(e) => Err(fail("Can't create file at", dest, e)),
    }
}

fn attrs_for(mode: BindMode) -> u64 {
    match mode {
        BindMode::ReadWrite => sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
        BindMode::ReadOnly => {
            sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV | sys::MOUNT_ATTR_RDONLY
        }
        BindMode::Device => sys::MOUNT_ATTR_NOSUID,
    }
}

/// Recursive bind of an opened source onto `dest`, with nosuid, nodev (not
/// for `--dev-bind`) and read-only (`--ro-bind`) set on every submount in
/// one `mount_setattr(AT_RECURSIVE)` on the still-detached copy.
pub fn bind(
    root: &mut NewRoot,
    src: BorrowedFd<'_>,
    shown_src: &str,
    dest: &Path,
    mode: BindMode,
) -> Result<()> {
    let tree = sys::open_tree_clone(src, Path::new(shown_src));
    bind_tree(root, src, tree, shown_src, dest, mode, None)
}

/// `bind` with the source's mount tree already cloned (`tree`).
pub fn bind_tree(
    root: &mut NewRoot,
    src: BorrowedFd<'_>,
    tree: std::result::Result<OwnedFd, SysError>,
    shown_src: &str,
    dest: &Path,
    mode: BindMode,
    parent_perms: Option<u32>,
) -> Result<()> {
    let st = sys::fstat(src).map_err(|e| {
        anyhow::Error::new(e).context(format!("Can't get type of source {shown_src}"))
    })?;
    let is_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
    let target = make_mount_point(root, dest, is_dir, parent_perms)?;
    let what = || format!("Can't bind mount {shown_src} on {}", dest.display());
    let tree = tree.map_err(|e| anyhow!("{}: {e}", what()))?;
    let mut legacy = legacy::forced();
    if !legacy {
        match sys::mount_setattr(tree.as_fd(), true, attrs_for(mode), dest) {
            Ok(()) => {}
            Err(e) if e.errno == libc::ENOSYS => legacy = true, // Linux < 5.12
            Err(e) => {
                let failed = anyhow::Error::new(e)
                    .context(format!("{}: Unable to apply mount flags", what()));
                let Some(level_prefix) = root.lenient else {
                    return Err(failed);
                };
                // Some submount refused (e.g. a dead automount): restrict at
                // least the top of the tree and go on, as bwrap 0.12 does
                // when told so.
                sys::mount_setattr(tree.as_fd(), false, attrs_for(mode), dest)
                    .map_err(|e| anyhow!("{}: {e}", what()))?;
                let (msg, _) = crate::engine::message(&failed);
                crate::engine::warn(
                    level_prefix,
                    &format!("{msg} (continuing: --not-a-security-boundary)"),
                );
            }
        }
    }
    attach(root, tree, target, dest, &what)?;
    if legacy {
        let target = root
            .resolve(dest)
            .map_err(|e| anyhow::Error::new(e).context(what()))?;
        legacy::restrict_attached(target.as_fd(), legacy::ms_flags(attrs_for(mode)), dest)
            .map_err(|e| {
                anyhow::Error::new(e).context(format!("{}: Unable to apply mount flags", what()))
            })?;
    }
    Ok(())
}

/// Attach a detached mount at `dest`: on `target` when the caller has it
/// open already, else on `dest` resolved inside the root.
pub(super) fn attach(
    root: &mut NewRoot,
    mnt: OwnedFd,
    target: Option<OwnedFd>,
    dest: &Path,
    what: &dyn Fn() -> String,
) -> Result<()> {
    let target = match target {
        Some(fd) => fd,
        None => root
            .resolve(dest)
            .map_err(|e| anyhow::Error::new(e).context(what().to_string()))?,
    };
    let covers_root = is_root(dest) || root.is_top(target.as_fd());
    sys::move_mount(mnt.as_fd(), target.as_fd(), "", dest).map_err(|e| {
        anyhow::Error::new(e).context(format!("{}: Unable to mount source on destination", what()))
    })?;
    if covers_root {
        root.refresh_top()?;
    }
    Ok(())
}

/// Mount a new filesystem instance on DEST (created as a directory; missing
/// parents follow `perms` as bwrap's do).
pub fn mount_fs(
    root: &mut NewRoot,
    dest: &Path,
    perms: Option<u32>,
    fstype: &'static str,
    opts: &[(&str, String)],
    attrs: u64,
    what: &str,
) -> Result<()> {
    let (parent, name) = root
        .ensure_parents(dest, perms)
        .map_err(|e| fail("Can't mkdir parents for", dest, e))?;
    let target = if is_root(dest) {
        None
    } else {
        made_dir(&parent, &name, 0o755).map_err(|e| fail("Can't mkdir", dest, e))?
    };
    // bwrap names the mount point by its path under /newroot here.
    let shown = newroot_path(dest);
    let mnt = new_fs(fstype, opts, attrs)
        .map_err(|e| anyhow::Error::new(e).context(format!("{what} {}", shown.display())))?;
    let w = || format!("{what} {}", shown.display());
    attach(root, mnt, target, dest, &w)
}

pub fn new_fs(
    fstype: &'static str,
    opts: &[(&str, String)],
    attrs: u64,
) -> std::result::Result<OwnedFd, SysError> {
    let ctx = FsContext::open(fstype)?;
    for (k, v) in opts {
        if v.is_empty() {
            ctx.flag(k)?;
        } else {
            ctx.set(k, v)?;
        }
    }
    ctx.mount(attrs)
}
