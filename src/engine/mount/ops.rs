//! The filesystem operations, run in command-line order inside the new root.
//! Error messages follow bwrap's wording, with the destination as the user
//! wrote it.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

use super::attach::{attach, bind, bind_tree, fail, make_dir, mount_fs, new_fs, newroot_path};
use super::root::{NewRoot, is_root};
use super::source::OpenedOp;
use super::{c_octal, dev, legacy};
use crate::engine::fds;
use crate::engine::sys::{self, SysError};
use crate::spec::{BindMode, FsOp, OverlayKind, Spec};

/// Settings of the whole sandbox that change how an operation behaves.
pub struct OpEnv {
    /// A new procfs can be mounted (we are in a pid namespace of our own).
    pub own_pid_ns: bool,
    /// Counter for hidden setup files and directories.
    pub hidden_seq: u32,
}

impl OpEnv {
    /// A fresh name for a hidden setup file or directory at the top of the
    /// root tmpfs (never on the host; removed again by the operation).
    fn hidden_name(&mut self, what: &str) -> std::path::PathBuf {
        self.hidden_seq += 1;
        format!(
            ".sandwrap-{what}-{}-{}",
            std::process::id(),
            self.hidden_seq
        )
        .into()
    }
}

pub fn apply_all(
    root: &mut NewRoot,
    ops: Vec<OpenedOp<'_>>,
    spec: &Spec,
    own_pid_ns: bool,
    dns_forward: bool,
) -> Result<()> {
    root.lenient = spec.not_a_security_boundary.then_some(spec.level_prefix);
    let mut env = OpEnv {
        own_pid_ns,
        hidden_seq: 0,
    };
    for opened in ops {
        if opened.skip {
            continue;
        }
        apply(root, opened, &mut env)?;
    }
    if dns_forward {
        forward_dns(root, &mut env)?;
    }
    Ok(())
}

fn apply(root: &mut NewRoot, opened: OpenedOp<'_>, env: &mut OpEnv) -> Result<()> {
    let OpenedOp {
        op, sources, tree, ..
    } = opened;
    match op {
        FsOp::Bind {
            src, dest, mode, ..
        } => {
            let src_fd = sources.into_iter().next().context("bind source missing")?;
            // Sources that could not contain the new root are cloned now.
            let tree = tree.unwrap_or_else(|| sys::open_tree_clone(src_fd.as_fd(), src));
            bind_tree(
                root,
                src_fd.as_fd(),
                tree,
                &src.display().to_string(),
                dest,
                *mode,
                None,
            )
        }
        FsOp::BindFd {
            fd,
            dest,
            read_only,
        } => {
            // An earlier --bind-fd of the same number has closed it.
            if let Err(e) = fds::get(*fd) {
                bail!("Can't stat fd {fd}: {}", crate::errno_text(e.errno));
            }
            let src = sources.into_iter().next().context("bind source missing")?;
            let mode = if *read_only {
                BindMode::ReadOnly
            } else {
                BindMode::ReadWrite
            };
            let tree = tree.context("bind source tree missing")?;
            let bound = bind_tree(
                root,
                src.as_fd(),
                tree,
                &format!("/proc/self/fd/{fd}"),
                dest,
                mode,
                None,
            );
            // Bound: bwrap closes the caller's fd right away. Failed: kept
            // until we exit, as it may be our stderr, which must carry the
            // error (`--bind-fd 2`).
            if bound.is_ok() {
                fds::consume(*fd);
            }
            bound
        }
        FsOp::RemountRo { dest } => remount_ro(root, dest),
        FsOp::Tmpfs { dest, perms, size } => {
            let mut opts = vec![("mode", c_octal(perms.unwrap_or(0o755)))];
            if let Some(size) = size {
                opts.push(("size", size.to_string()));
            }
            let attrs = sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV;
            mount_fs(
                root,
                dest,
                Some(perms.unwrap_or(0o755)),
                "tmpfs",
                &opts,
                attrs,
                "Can't mount tmpfs on",
            )
        }
        FsOp::Mqueue { dest } => {
            // bwrap mounts mqueue with no flags at all.
            mount_fs(root, dest, None, "mqueue", &[], 0, "Can't mount mqueue on")
        }
        FsOp::Proc { dest } => proc(root, dest, env),
        FsOp::Dev { dest } => dev::mount_dev(root, dest),
        FsOp::Dir { dest, perms } => {
            let (parent, name) = root
                .ensure_parents(dest, Some(perms.unwrap_or(0o755)))
                .map_err(|e| fail("Can't mkdir parents for", dest, e))?;
            make_dir(&parent, &name, perms.unwrap_or(0o755))
                .map_err(|e| fail("Can't mkdir", dest, e))?;
            root.resolve_with(dest, libc::O_PATH | libc::O_DIRECTORY, 0)
                .map_err(|e| fail("Can't mkdir", dest, e))?;
            Ok(())
        }
        FsOp::File { fd, dest, perms } => {
            root.ensure_parents(dest, Some(perms.unwrap_or(0o666)))
                .map_err(|e| fail("Can't mkdir parents for", dest, e))?;
            let file = root
                .resolve_with(
                    dest,
                    libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC,
                    perms.unwrap_or(0o666),
                )
                .map_err(|e| fail("Can't create file", dest, e))?;
            copy_fd(*fd, file.as_raw_fd()).map_err(|e| fail("Can't write data to file", dest, e))
        }
        FsOp::BindData {
            fd,
            dest,
            perms,
            read_only,
        } => bind_data(root, *fd, dest, *perms, *read_only, env),
        FsOp::Symlink { target, dest } => symlink(root, target, dest),
        FsOp::Chmod { path, perms } => {
            let what = format!("Can't chmod {} {}", c_octal(*perms), path.display());
            let fd = root
                .resolve(path)
                .map_err(|e| anyhow::Error::new(e).context(what.to_string()))?;
            sys::chmod_fd(fd.as_fd(), *perms, path)
                .map_err(|e| anyhow::Error::new(e).context(what.to_string()))
        }
        FsOp::Overlay { kind, dest, .. } => overlay(root, sources, kind, dest, env),
    }
}

/// `--network pasta` with a host resolver on loopback: the sandbox's
/// /etc/resolv.conf (whoever bound it), when it names a loopback resolver
/// first too, which the sandbox cannot reach, is covered by a read-only
/// copy naming pasta's DNS forward (where a symlink there leads, as
/// systemd-resolved's does). Anything else there is left alone: no file,
/// a file naming another resolver, no regular file (a FIFO would block
/// the setup), a --bind-data file.
fn forward_dns(root: &mut NewRoot, env: &mut OpEnv) -> Result<()> {
    let dest = Path::new("/etc/resolv.conf");
    let Ok(path) = root.resolve(dest) else {
        return Ok(());
    };
    // No link left: a --bind-data file, content the user gave on purpose
    // (and nothing can be mounted on an unlinked file).
    if !sys::fstat(path.as_fd())
        .is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFREG && st.st_nlink > 0)
    {
        return Ok(());
    }
    let file = sys::openat(
        libc::AT_FDCWD,
        &sys::fd_path(path.as_fd()),
        libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY,
        0,
    )
    .map_err(|e| fail("Can't read", dest, e))?;
    let mut text = Vec::new();
    // resolv.conf is small; more than this is no resolv.conf to fix.
    sys::read_to_end(file.as_raw_fd(), &mut text, 64 * 1024).map_err(|errno| {
        let e = SysError {
            call: "read".into(),
            errno,
        };
        fail("Can't read", dest, e)
    })?;
    let Some(forwarded) =
        crate::engine::pasta::sandbox_resolv_conf(&String::from_utf8_lossy(&text))
    else {
        return Ok(());
    };
    bind_contents(root, dest, Some(0o644), true, env, |out| {
        sys::write_all(out, forwarded.as_bytes()).map_err(|errno| SysError {
            call: "write".into(),
            errno,
        })
    })
}

/// `--remount-ro`: read-only (plus nosuid, nodev) on the mount at DEST only.
fn remount_ro(root: &mut NewRoot, dest: &Path) -> Result<()> {
    // bwrap's wording, with paths as its mount namespace sees them.
    let what = format!("Can't remount readonly on {}", newroot_path(dest).display());
    let fd = root
        .resolve(dest)
        .map_err(|e| anyhow::Error::new(e).context(format!("{what}: realpath(destination)")))?;
    let resolved = std::fs::read_link(sys::fd_path(fd.as_fd()))
        .ok()
        .and_then(|p| {
            p.strip_prefix(super::root::ATTACH_POINT)
                .ok()
                .map(newroot_path)
        })
        .unwrap_or_else(|| newroot_path(dest));
    let attrs = sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV;
    let tried = if legacy::forced() {
        Err(SysError {
            call: "mount_setattr (not used)".into(),
            errno: libc::ENOSYS,
        })
    } else {
        sys::mount_setattr(fd.as_fd(), false, attrs, dest)
    };
    match tried {
        Ok(()) => Ok(()),
        // Retry with a legacy remount (also all that Linux < 5.12 has),
        // keeping the flags the mount has (locked ones cannot be cleared
        // anyway); EINVAL there means DEST is not a mount point, which bwrap
        // refuses too.
        Err(e) if e.errno == libc::EINVAL || e.errno == libc::ENOSYS => {
            // SAFETY: zeroed statvfs is a valid out-parameter.
            let mut vfs: libc::statvfs = unsafe { std::mem::zeroed() };
            // SAFETY: valid fd and pointer.
            let flags = if unsafe { libc::fstatvfs(fd.as_raw_fd(), &mut vfs) } == 0 {
                vfs.f_flag
            } else {
                0
            };
            let keep = flags
                & (libc::ST_NOEXEC | libc::ST_NOATIME | libc::ST_NODIRATIME | libc::ST_RELATIME);
            let ms = libc::MS_REMOUNT
                | libc::MS_BIND
                | libc::MS_RDONLY
                | libc::MS_NOSUID
                | libc::MS_NODEV
                | keep as libc::c_ulong;
            sys::mount(None, &sys::fd_path(fd.as_fd()), None, ms, None).map_err(|e| match e.errno {
                // Not a mount point at all: bwrap's wording.
                libc::EINVAL => anyhow!(
                    "{what}: Unable to find \"{}\" in mount table",
                    resolved.display()
                ),
                errno => anyhow!(
                    "{what}: Unable to remount destination \"{}\" with correct flags: {}",
                    resolved.display(),
                    crate::errno_text(errno)
                ),
            })
        }
        Err(e) => Err(anyhow!(
            "{what}: Unable to remount destination \"{}\" with correct flags: {}",
            resolved.display(),
            crate::errno_text(e.errno)
        )),
    }
}

/// `--proc`: a new procfs in our own pid namespace, else a bind of the host's;
/// then the parts that can change the host kernel are made read-only when
/// they are writable.
fn proc(root: &mut NewRoot, dest: &Path, env: &OpEnv) -> Result<()> {
    let what = "Can't mount proc on";
    if env.own_pid_ns {
        mount_fs(
            root,
            dest,
            None,
            "proc",
            &[],
            sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV | sys::MOUNT_ATTR_NOEXEC,
            what,
        )?;
    } else {
        let host = sys::openat(
            libc::AT_FDCWD,
            Path::new("/proc"),
            libc::O_PATH | libc::O_DIRECTORY,
            0,
        )
        .map_err(|e| fail(what, dest, e))?;
        bind(root, host.as_fd(), "/proc", dest, BindMode::ReadWrite)?;
    }
    for sub in ["sys", "sysrq-trigger", "irq", "bus"] {
        let path = dest.join(sub);
        let Ok(fd) = root.resolve(&path) else {
            continue;
        };
        let proc_path = sys::fd_path(fd.as_fd());
        let c = sys::cstring(proc_path.as_os_str());
        // SAFETY: valid C string.
        if unsafe { libc::access(c.as_ptr(), libc::W_OK) } != 0 {
            continue; // EACCES / EROFS: already harmless
        }
        bind(
            root,
            fd.as_fd(),
            &path.display().to_string(),
            &path,
            BindMode::ReadOnly,
        )?;
    }
    Ok(())
}

/// Copy a caller's fd to EOF into `out`, then close the caller's fd. A
/// number the caller did not pass, or that an earlier option consumed,
/// fails with EBADF as bwrap's read does.
pub fn copy_fd(from: i32, out: i32) -> std::result::Result<(), SysError> {
    let from = fds::get(from)?;
    let mut buf = vec![0u8; 64 * 1024];
    let res = loop {
        match sys::read_some(from, &mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                if let Err(errno) = sys::write_all(out, &buf[..n]) {
                    break Err(SysError {
                        call: "write".into(),
                        errno,
                    });
                }
            }
            Err(errno) => {
                break Err(SysError {
                    call: format!("read fd {from}"),
                    errno,
                });
            }
        }
    };
    fds::consume(from);
    res
}

/// `--bind-data`/`--ro-bind-data`: the data goes into a hidden file on the
/// root tmpfs (never on the host), which is bound on DEST and unlinked.
fn bind_data(
    root: &mut NewRoot,
    fd: i32,
    dest: &Path,
    given_perms: Option<u32>,
    read_only: bool,
    env: &mut OpEnv,
) -> Result<()> {
    bind_contents(root, dest, given_perms, read_only, env, |out| {
        copy_fd(fd, out)
    })
}

/// A hidden file on the root tmpfs, filled by `fill`, bound on DEST and
/// unlinked.
fn bind_contents(
    root: &mut NewRoot,
    dest: &Path,
    given_perms: Option<u32>,
    read_only: bool,
    env: &mut OpEnv,
    fill: impl FnOnce(i32) -> std::result::Result<(), SysError>,
) -> Result<()> {
    let perms = given_perms.unwrap_or(0o600);
    let name = env.hidden_name("data");
    let file = sys::openat(
        root.base.as_raw_fd(),
        &name,
        libc::O_CREAT | libc::O_EXCL | libc::O_RDWR | libc::O_NOFOLLOW,
        perms,
    )
    .map_err(|e| fail("Can't create tmpfile for", dest, e))?;
    // SAFETY: valid fd.
    if unsafe { libc::fchmod(file.as_raw_fd(), perms) } != 0 {
        let e = SysError {
            call: "fchmod".into(),
            errno: sys::errno(),
        };
        return Err(anyhow::Error::new(e).context(format!(
            "Can't set mode {} on file to be used for {}",
            c_octal(perms),
            dest.display()
        )));
    }
    let res = fill(file.as_raw_fd())
        .map_err(|e| fail("Can't write data to file", dest, e))
        .and_then(|()| {
            let mode = if read_only {
                BindMode::ReadOnly
            } else {
                BindMode::ReadWrite
            };
            let tree = sys::open_tree_clone(file.as_fd(), dest);
            bind_tree(
                root,
                file.as_fd(),
                tree,
                &dest.display().to_string(),
                dest,
                mode,
                given_perms,
            )
        });
    let c = sys::cstring(name.as_os_str());
    // SAFETY: valid fd and C string; the bound mount keeps the inode alive.
    unsafe { libc::unlinkat(root.base.as_raw_fd(), c.as_ptr(), 0) };
    res
}

/// `--symlink`: idempotent when the same link already exists.
fn symlink(root: &NewRoot, target: &Path, dest: &Path) -> Result<()> {
    let what = format!("Can't make symlink at {}", dest.display());
    let (parent, name) = root
        .ensure_parents(dest, None)
        .map_err(|e| fail("Can't mkdir parents for", dest, e))?;
    match sys::symlinkat(target, parent.as_fd(), &name) {
        Ok(()) => Ok(()),
        Err(e) if e.errno == libc::EEXIST => match sys::readlinkat(parent.as_fd(), &name) {
            Ok(existing) if existing == target => Ok(()),
            Ok(existing) => bail!("{what}: existing destination is {}", existing.display()),
            Err(e) if e.errno == libc::EINVAL => {
                bail!("{what}: destination exists and is not a symlink")
            }
            Err(e) => Err(anyhow::Error::new(e).context(format!(
                "{what}: destination exists, and cannot read symlink target"
            ))),
        },
        Err(e) => Err(anyhow::Error::new(e).context(what.to_string())),
    }
}

/// Overlay mounts. Layers are handed to overlayfs as `/proc/self/fd/N` of
/// the opened sources, so no path needs escaping and none can change.
fn overlay(
    root: &mut NewRoot,
    sources: Vec<OwnedFd>,
    kind: &OverlayKind,
    dest: &Path,
    env: &mut OpEnv,
) -> Result<()> {
    let (parent, name) = root
        .ensure_parents(dest, None)
        .map_err(|e| fail("Can't mkdir parents for", dest, e))?;
    if !is_root(dest) {
        make_dir(&parent, &name, 0o755).map_err(|e| fail("Can't mkdir", dest, e))?;
    }
    let n_lower = match kind {
        OverlayKind::Persistent { .. } => sources.len() - 2,
        _ => sources.len(),
    };
    let lower: Vec<String> = sources[..n_lower]
        .iter()
        .rev()
        .map(|fd| sys::fd_path(fd.as_fd()).display().to_string())
        .collect();
    let mut opts: Vec<(&str, String)> = Vec::new();
    let mut scratch: Option<Scratch> = None;
    let mut scratch_fds = Vec::new();
    match kind {
        OverlayKind::Persistent { .. } => {
            opts.push((
                "upperdir",
                sys::fd_path(sources[n_lower].as_fd()).display().to_string(),
            ));
            opts.push((
                "workdir",
                sys::fd_path(sources[n_lower + 1].as_fd())
                    .display()
                    .to_string(),
            ));
        }
        OverlayKind::Temporary => {
            let (dirs, upper, work) = Scratch::create(root, env, dest)?;
            opts.push((
                "upperdir",
                sys::fd_path(upper.as_fd()).display().to_string(),
            ));
            opts.push(("workdir", sys::fd_path(work.as_fd()).display().to_string()));
            scratch_fds.extend([upper, work]);
            scratch = Some(dirs);
        }
        OverlayKind::ReadOnly => {}
    }
    opts.push(("lowerdir", lower.join(":")));
    opts.push(("userxattr", String::new()));
    let shown: Vec<String> = opts
        .iter()
        .map(|(k, v)| {
            if v.is_empty() {
                k.to_string()
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    let what = format!(
        "Can't make overlay mount on {} with options {}",
        dest.display(),
        shown.join(",")
    );
    let result = match new_fs(
        "overlay",
        &opts,
        sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
    ) {
        Ok(mnt) => attach(root, mnt, None, dest, &|| what.clone()),
        Err(e) if e.errno == libc::ELOOP => {
            Err(anyhow!("{what}: Overlay directories may not overlap"))
        }
        Err(e) => Err(anyhow::Error::new(e).context(what.to_string())),
    };
    drop(scratch_fds);
    drop(scratch);
    result
}

/// `--tmp-overlay`'s upper and work dirs: a private tmpfs attached on a
/// hidden directory of the root tmpfs, detached and removed again when
/// dropped (overlayfs holds its own references by then), on error paths too.
struct Scratch {
    base: OwnedFd,
    hidden: std::path::PathBuf,
}

impl Scratch {
    fn create(root: &NewRoot, env: &mut OpEnv, dest: &Path) -> Result<(Scratch, OwnedFd, OwnedFd)> {
        let hidden = env.hidden_name("overlay");
        sys::mkdirat(root.base.as_fd(), &hidden, 0o700)
            .map_err(|e| fail("Can't mkdir", dest, e))?;
        let scratch = Scratch {
            base: root.base.try_clone()?,
            hidden,
        };
        let open_dir = |dir: BorrowedFd<'_>, name: &Path| {
            sys::openat(dir.as_raw_fd(), name, libc::O_PATH | libc::O_DIRECTORY, 0)
        };
        let attach_at = open_dir(scratch.base.as_fd(), &scratch.hidden)?;
        let tmp = new_fs(
            "tmpfs",
            &[("mode", "0755".into())],
            sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
        )
        .map_err(|e| fail("Can't mount tmpfs on", dest, e))?;
        sys::move_mount(tmp.as_fd(), attach_at.as_fd(), "tmpfs", &scratch.hidden)?;
        let top = open_dir(scratch.base.as_fd(), &scratch.hidden)?;
        let mut dirs = Vec::with_capacity(2);
        for d in ["upper", "work"] {
            sys::mkdirat(top.as_fd(), Path::new(d), 0o755).map_err(|e| {
                anyhow::Error::new(e).context(format!("Creating --tmp-overlay {d}dir failed"))
            })?;
            dirs.push(open_dir(top.as_fd(), Path::new(d))?);
        }
        let work = dirs.pop().context("work dir")?;
        let upper = dirs.pop().context("upper dir")?;
        Ok((scratch, upper, work))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Not mounted yet (an early error) is fine: the umount then fails.
        let _ = sys::umount_detach(&sys::fd_path(self.base.as_fd()).join(&self.hidden));
        let c = sys::cstring(self.hidden.as_os_str());
        // SAFETY: valid fd and C string.
        unsafe { libc::unlinkat(self.base.as_raw_fd(), c.as_ptr(), libc::AT_REMOVEDIR) };
    }
}
