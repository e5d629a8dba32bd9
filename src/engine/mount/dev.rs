//! `--dev`: a minimal /dev on a fresh tmpfs, as bwrap builds it.

use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;

use anyhow::{Result, anyhow};

use super::attach::{bind, mount_fs, new_fs, newroot_path};
use super::root::NewRoot;
use crate::engine::sys;
use crate::spec::BindMode;
use crate::spec::dev::{LINKS, NODES, PTMX, PTS, SHM};

pub fn mount_dev(root: &mut NewRoot, dest: &Path) -> Result<()> {
    mount_fs(
        root,
        dest,
        None,
        "tmpfs",
        &[("mode", "0755".into())],
        sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
        "Can't mount tmpfs on",
    )?;
    let shown = dest.display();
    for node in NODES {
        let host_path = Path::new("/dev").join(node);
        let host = sys::openat(libc::AT_FDCWD, &host_path, libc::O_PATH, 0).map_err(|e| {
            anyhow::Error::new(e).context(format!("Can't create file {shown}/{node}"))
        })?;
        bind(
            root,
            host.as_fd(),
            &host_path.display().to_string(),
            &dest.join(node),
            BindMode::Device,
        )?;
    }
    let dir = root
        .resolve_with(dest, libc::O_PATH | libc::O_DIRECTORY, 0)
        .map_err(|e| anyhow::Error::new(e).context(format!("Can't mount tmpfs on {shown}")))?;
    for (name, target) in LINKS {
        sys::symlinkat(Path::new(target), dir.as_fd(), Path::new(name)).map_err(|e| {
            anyhow::Error::new(e).context(format!("Can't create symlink {shown}/{name}"))
        })?;
    }
    sys::mkdirat(dir.as_fd(), Path::new(SHM), 0o755)
        .map_err(|e| anyhow::Error::new(e).context(format!("Can't create {shown}/{SHM}")))?;
    sys::mkdirat(dir.as_fd(), Path::new(PTS), 0o755)
        .map_err(|e| anyhow::Error::new(e).context(format!("Can't create {shown}/devpts")))?;
    let pts = sys::openat(
        dir.as_raw_fd(),
        Path::new(PTS),
        libc::O_PATH | libc::O_DIRECTORY,
        0,
    )?;
    let opts = [
        ("newinstance", String::new()),
        ("ptmxmode", "0666".into()),
        ("mode", "620".into()),
    ];
    // bwrap names the devpts mount point by its path under /newroot.
    let pts_shown = newroot_path(dest).join(PTS);
    let devpts = new_fs(
        "devpts",
        &opts,
        sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NOEXEC,
    )
    .map_err(|e| {
        anyhow::Error::new(e).context(format!("Can't mount devpts on {}", pts_shown.display()))
    })?;
    sys::move_mount(devpts.as_fd(), pts.as_fd(), "devpts", &dest.join(PTS)).map_err(|e| {
        anyhow::Error::new(e).context(format!("Can't mount devpts on {}", pts_shown.display()))
    })?;
    let ptmx_target = Path::new(PTS).join(PTMX);
    sys::symlinkat(&ptmx_target, dir.as_fd(), Path::new(PTMX)).map_err(|e| {
        anyhow::Error::new(e).context(format!("Can't make symlink at {shown}/{PTMX}"))
    })?;
    // A terminal on stdout becomes /dev/console, as bwrap does it.
    // SAFETY: isatty/ttyname on fd 1 have no side effects.
    if unsafe { libc::isatty(1) } == 1 {
        let name = unsafe { libc::ttyname(1) };
        if !name.is_null() {
            // SAFETY: ttyname returned a valid C string.
            let tty = sys::cstr_lossy(unsafe { std::ffi::CStr::from_ptr(name) });
            if let Ok(host) = sys::openat(libc::AT_FDCWD, Path::new(&tty), libc::O_PATH, 0) {
                bind(
                    root,
                    host.as_fd(),
                    &tty,
                    &dest.join("console"),
                    BindMode::Device,
                )
                .map_err(|e| anyhow!("creating {shown}/console: {e}"))?;
            }
        }
    }
    Ok(())
}
