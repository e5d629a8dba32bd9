//! Host sources are opened (O_PATH, following symlinks, with the caller's
//! view) before the new root is attached, so later mounts cannot change what
//! a source path means and each bind works on an fd, not a path.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};

use crate::engine::fds;
use crate::engine::sys::{self, SysError};
use crate::spec::{FsOp, OverlayKind};

type SysResult<T> = std::result::Result<T, SysError>;

/// A filesystem operation with its host paths already opened.
pub struct OpenedOp<'a> {
    pub op: &'a FsOp,
    /// Sources in the order the operation lists them (bind: one; overlay:
    /// lower layers, then upper and work for a persistent overlay).
    pub sources: Vec<OwnedFd>,
    /// Binds: a detached copy of the source's mount tree, taken before the
    /// new root is attached (over the host's /tmp) when the source contains
    /// that place, so a bind of `/` or `/tmp` shows the host's /tmp, not the
    /// new root. Other sources are cloned when their operation runs, which
    /// keeps one fd per bind open instead of two.
    pub tree: Option<SysResult<OwnedFd>>,
    /// A `-try` bind whose source does not exist: skipped.
    pub skip: bool,
}

fn open_source(path: &Path) -> std::result::Result<OwnedFd, sys::SysError> {
    sys::openat(libc::AT_FDCWD, path, libc::O_PATH, 0)
}

/// A `--protect` source: its last component is not followed, and a symbolic
/// link there counts as missing, so a link planted where a file or
/// directory was expected cannot bind what it points to (a key, /tmp's
/// agent sockets).
fn open_source_nofollow(path: &Path) -> std::result::Result<OwnedFd, sys::SysError> {
    let fd = sys::openat(libc::AT_FDCWD, path, libc::O_PATH | libc::O_NOFOLLOW, 0)?;
    let st = sys::fstat(fd.as_fd())?;
    if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
        return Err(sys::SysError {
            call: format!("open {} (a symbolic link, not followed)", sys::q(path)),
            errno: libc::ENOENT,
        });
    }
    Ok(fd)
}

fn not_found(path: &Path, e: sys::SysError) -> anyhow::Error {
    anyhow::Error::new(e).context(format!("Can't find source path {}", path.display()))
}

/// Open the host side of every operation, in order. Bind sources listed in
/// `no_follow` (`--protect`) are opened without following a final symlink.
pub fn open_sources<'a>(ops: &'a [FsOp], no_follow: &[PathBuf]) -> Result<Vec<OpenedOp<'a>>> {
    let needed: usize = ops.iter().map(source_count).sum();
    raise_nofile_limit(needed);
    let attach_point = AttachPoint::find();
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        let mut opened = OpenedOp {
            op,
            sources: Vec::new(),
            tree: None,
            skip: false,
        };
        match op {
            FsOp::Bind {
                src, allow_missing, ..
            } => match if no_follow.contains(src) {
                open_source_nofollow(src)
            } else {
                open_source(src)
            } {
                Ok(fd) => {
                    let (fd, tree) = clone_source(fd, src, &attach_point)?;
                    opened.tree = tree;
                    opened.sources.push(fd);
                }
                Err(e) if *allow_missing && e.errno == libc::ENOENT => opened.skip = true,
                Err(e) if e.errno == libc::EMFILE => return Err(too_many(src, ops.len())),
                Err(e) => return Err(not_found(src, e)),
            },
            FsOp::BindFd { fd, .. } if fds::get(*fd).is_ok() => {
                let shown = PathBuf::from(format!("/proc/self/fd/{fd}"));
                // SAFETY: the caller handed us this fd; we only borrow it here.
                let given = unsafe { BorrowedFd::borrow_raw(*fd) };
                let src = reopen_here(given, &shown)?;
                opened.tree = Some(sys::open_tree_clone(src.as_fd(), &shown));
                opened.sources.push(src);
            }
            // bwrap's realpath("/proc/self/fd/N") of a closed fd (one the
            // caller did not pass: never whatever of ours took its number).
            FsOp::BindFd { fd, .. } => {
                return Err(anyhow!(
                    "Can't find source path /proc/self/fd/{fd}: {}",
                    crate::errno_text(libc::ENOENT)
                ));
            }
            FsOp::Overlay { sources, kind, .. } => {
                for src in sources {
                    opened
                        .sources
                        .push(open_source(src).map_err(|e| not_found(src, e))?);
                }
                if let OverlayKind::Persistent { upper, work } = kind {
                    for p in [upper, work] {
                        opened
                            .sources
                            .push(open_source(p).map_err(|e| not_found(p, e))?);
                    }
                }
            }
            _ => {}
        }
        out.push(opened);
    }
    Ok(out)
}

/// Clone the mount tree at `fd`. A source reached through a magic link
/// (`/dev/fd/N`, `/proc/self/fd/N`) sits on a mount of the caller's mount
/// namespace, which cannot be cloned from ours (EINVAL): then the path it
/// names is opened again here.
fn clone_source(
    fd: OwnedFd,
    shown: &Path,
    attach_point: &AttachPoint,
) -> Result<(OwnedFd, Option<SysResult<OwnedFd>>)> {
    // Only a path through procfs (or /dev/fd, /dev/stdin...) can land on a
    // mount of the caller's namespace; other sources are cloned now only
    // when they contain the new root's attach point.
    let via_magic_link = shown.starts_with("/proc") || shown.starts_with("/dev");
    if !via_magic_link && !attach_point.inside(fd.as_fd()) {
        return Ok((fd, None));
    }
    match sys::open_tree_clone(fd.as_fd(), shown) {
        Err(e) if e.errno == libc::EINVAL => {
            let here = reopen_here(fd.as_fd(), shown)?;
            let tree = sys::open_tree_clone(here.as_fd(), shown);
            Ok((here, Some(tree)))
        }
        tree => Ok((fd, Some(tree))),
    }
}

/// The directories that contain the new root's attach point: `/` and the
/// attach point itself, as (device, inode), looked up (before it is
/// attached) when the first source needs them.
struct AttachPoint(std::cell::OnceCell<Option<[(u64, u64); 2]>>);

impl AttachPoint {
    fn find() -> AttachPoint {
        AttachPoint(std::cell::OnceCell::new())
    }

    /// Whether the attach point lies inside this source, so that a
    /// recursive copy made later would contain the new root itself: the
    /// source is one of those two directories. The same directory reached
    /// through another bind mount counts too (a copy taken early is only
    /// one more fd held). An fstat per source, not a readlink of
    /// /proc/self/fd/N, which costs several times more per bind.
    fn inside(&self, fd: BorrowedFd<'_>) -> bool {
        use std::os::unix::fs::MetadataExt;
        let ids = self.0.get_or_init(|| {
            let id = |p: &str| std::fs::metadata(p).map(|m| (m.dev(), m.ino()));
            match (id("/"), id(super::root::ATTACH_POINT)) {
                (Ok(root), Ok(at)) => Some([root, at]),
                _ => None,
            }
        });
        match (ids, sys::fstat(fd)) {
            (Some(ids), Ok(st)) => {
                st.st_mode & libc::S_IFMT == libc::S_IFDIR && ids.contains(&(st.st_dev, st.st_ino))
            }
            _ => true, // unknown: take the copy now, to be safe
        }
    }
}

fn too_many(src: &Path, ops: usize) -> anyhow::Error {
    anyhow!(
        "Can't find source path {}: {} ({ops} filesystem operations hold their sources open during setup; raise the open-files limit, e.g. ulimit -n)",
        src.display(),
        crate::errno_text(libc::EMFILE)
    )
}

/// Open, in our mount namespace, the path that `fd` (from the caller's)
/// names, and check that it is the same file: bwrap's sources go through
/// realpath, so it binds that path too.
fn reopen_here(fd: BorrowedFd<'_>, shown: &Path) -> Result<OwnedFd> {
    let path = std::fs::read_link(sys::fd_path(fd)).map_err(|e| {
        anyhow!(
            "Can't find source path {}: {}",
            shown.display(),
            crate::io_error_text(&e)
        )
    })?;
    let here = open_source(&path).map_err(|e| not_found(shown, e))?;
    let stat = |f: BorrowedFd<'_>| {
        sys::fstat(f).map_err(|e| {
            anyhow::Error::new(e).context(format!("Can't get type of source {}", shown.display()))
        })
    };
    let (a, b) = (stat(fd)?, stat(here.as_fd())?);
    if (a.st_dev, a.st_ino) != (b.st_dev, b.st_ino) {
        return Err(anyhow!("Race condition binding dirfd"));
    }
    Ok(here)
}

/// Fds held open per operation until it runs.
fn source_count(op: &FsOp) -> usize {
    match op {
        FsOp::Bind { .. } | FsOp::BindFd { .. } => 2,
        FsOp::Overlay { sources, .. } => sources.len() + 2,
        _ => 0,
    }
}

/// Thousands of binds need thousands of open sources at once: lift the soft
/// fd limit to the hard one for setup (the command gets the original back).
fn raise_nofile_limit(needed: usize) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid out-pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return;
    }
    if (needed as u64 + 64) > lim.rlim_cur && lim.rlim_cur < lim.rlim_max {
        crate::engine::saved_nofile_limit(Some(lim.rlim_cur));
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: valid pointer; failure only means the old limit stays.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) };
    }
}
