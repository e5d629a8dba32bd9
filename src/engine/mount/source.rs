//! Host sources are opened (O_PATH, following symlinks, with the caller's
//! view) before the new root is attached, so later mounts cannot change what
//! a source path means and each bind works on an fd, not a path.

use std::os::fd::OwnedFd;
use std::path::Path;

use anyhow::{Result, anyhow};

use crate::engine::sys;
use crate::spec::{FsOp, OverlayKind};

/// A filesystem operation with its host paths already opened.
pub struct OpenedOp<'a> {
    pub op: &'a FsOp,
    /// Sources in the order the operation lists them (bind: one; overlay:
    /// lower layers, then upper and work for a persistent overlay).
    pub sources: Vec<OwnedFd>,
    /// A `-try` bind whose source does not exist: skipped.
    pub skip: bool,
}

fn open_source(path: &Path) -> std::result::Result<OwnedFd, sys::SysError> {
    sys::openat(libc::AT_FDCWD, path, libc::O_PATH, 0)
}

fn not_found(path: &Path, e: &sys::SysError) -> anyhow::Error {
    anyhow!("Can't find source path {}: {}", path.display(), crate::errno_text(e.errno))
}

/// Open the host side of every operation, in order.
pub fn open_sources(ops: &[FsOp]) -> Result<Vec<OpenedOp<'_>>> {
    let needed: usize = ops.iter().map(source_count).sum();
    raise_nofile_limit(needed);
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        let mut opened = OpenedOp { op, sources: Vec::new(), skip: false };
        match op {
            FsOp::Bind { src, allow_missing, .. } => match open_source(src) {
                Ok(fd) => opened.sources.push(fd),
                Err(e) if *allow_missing && e.errno == libc::ENOENT => opened.skip = true,
                Err(e) => return Err(not_found(src, &e)),
            },
            FsOp::Overlay { sources, kind, .. } => {
                for src in sources {
                    opened.sources.push(open_source(src).map_err(|e| not_found(src, &e))?);
                }
                if let OverlayKind::Persistent { upper, work } = kind {
                    for p in [upper, work] {
                        opened.sources.push(open_source(p).map_err(|e| not_found(p, &e))?);
                    }
                }
            }
            _ => {}
        }
        out.push(opened);
    }
    Ok(out)
}

fn source_count(op: &FsOp) -> usize {
    match op {
        FsOp::Bind { .. } => 1,
        FsOp::Overlay { sources, .. } => sources.len() + 2,
        _ => 0,
    }
}

/// Thousands of binds need thousands of open sources at once: lift the soft
/// fd limit to the hard one for setup (the command gets the original back).
fn raise_nofile_limit(needed: usize) {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: valid out-pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return;
    }
    if (needed as u64 + 64) > lim.rlim_cur && lim.rlim_cur < lim.rlim_max {
        crate::engine::saved_nofile_limit(Some(lim.rlim_cur));
        let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
        // SAFETY: valid pointer; failure only means the old limit stays.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) };
    }
}
