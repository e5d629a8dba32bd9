//! Thin wrappers around the system calls the engine makes, including the
//! ones nix lacks (openat2, the new mount API, pivot_root, close_range).
//! Every error carries the call and its arguments, e.g.
//! `mount "/a" on "/b": Operation not permitted`.

use std::ffi::{CStr, CString, OsStr};
use std::fmt;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub use crate::hostio::{current_dir, errno, fd_is_open, read_some, write_all};

mod pidfd;
pub use pidfd::Pidfd;

/// A failed system call: what was called, with which arguments, and errno.
#[derive(Debug)]
pub struct SysError {
    pub call: String,
    pub errno: i32,
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.call, crate::errno_text(self.errno))
    }
}

impl std::error::Error for SysError {}

pub type Result<T> = std::result::Result<T, SysError>;

/// Run a raw call returning -1 on error, retrying on EINTR.
fn check(ret: libc::c_long, call: impl FnOnce() -> String) -> Result<libc::c_long> {
    if ret < 0 {
        Err(SysError {
            call: call(),
            errno: errno(),
        })
    } else {
        Ok(ret)
    }
}

fn cstr(p: &Path) -> CString {
    // Paths from argv cannot contain NUL; an interior NUL becomes an empty
    // string, which every call rejects with ENOENT.
    CString::new(p.as_os_str().as_bytes()).unwrap_or_default()
}

fn cstr_os(s: &OsStr) -> CString {
    CString::new(s.as_bytes()).unwrap_or_default()
}

/// Quote a path for an error message.
pub fn q(p: &Path) -> String {
    format!("{:?}", p.as_os_str())
}

fn owned(fd: libc::c_long) -> OwnedFd {
    // SAFETY: the kernel just returned this fd to us and nobody else owns it.
    unsafe { OwnedFd::from_raw_fd(fd as RawFd) }
}

// ---- openat2 -------------------------------------------------------------

pub const RESOLVE_IN_ROOT: u64 = 0x10;

#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// `openat2(dirfd, path, flags, mode, resolve)`.
pub fn openat2(
    dirfd: BorrowedFd<'_>,
    path: &Path,
    flags: i32,
    mode: u32,
    resolve: u64,
) -> Result<OwnedFd> {
    let c = cstr(path);
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: mode as u64,
        resolve,
    };
    loop {
        // SAFETY: valid pointers for the duration of the call.
        let r = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dirfd.as_raw_fd(),
                c.as_ptr(),
                &how,
                std::mem::size_of::<OpenHow>(),
            )
        };
        if r < 0 && errno() == libc::EAGAIN {
            continue; // a concurrent rename raced the lookup; retry
        }
        return check(r, || format!("openat2 {}", q(path))).map(owned);
    }
}

/// `openat(dirfd, path, flags, mode)` with O_CLOEXEC.
pub fn openat(dirfd: RawFd, path: &Path, flags: i32, mode: u32) -> Result<OwnedFd> {
    let c = cstr(path);
    // SAFETY: valid C string.
    let r = unsafe { libc::openat(dirfd, c.as_ptr(), flags | libc::O_CLOEXEC, mode) };
    check(r as libc::c_long, || format!("open {}", q(path))).map(owned)
}

pub fn mkdirat(dirfd: BorrowedFd<'_>, name: &Path, mode: u32) -> Result<()> {
    let c = cstr(name);
    // SAFETY: valid C string.
    let r = unsafe { libc::mkdirat(dirfd.as_raw_fd(), c.as_ptr(), mode) };
    check(r as libc::c_long, || format!("mkdir {}", q(name))).map(drop)
}

pub fn symlinkat(target: &Path, dirfd: BorrowedFd<'_>, name: &Path) -> Result<()> {
    let (t, n) = (cstr(target), cstr(name));
    // SAFETY: valid C strings.
    let r = unsafe { libc::symlinkat(t.as_ptr(), dirfd.as_raw_fd(), n.as_ptr()) };
    check(r as libc::c_long, || {
        format!("symlink {} at {}", q(target), q(name))
    })
    .map(drop)
}

pub fn readlinkat(dirfd: BorrowedFd<'_>, name: &Path) -> Result<std::path::PathBuf> {
    let n = cstr(name);
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: buf is valid for buf.len() bytes.
    let r = unsafe {
        libc::readlinkat(
            dirfd.as_raw_fd(),
            n.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    let len = check(r as libc::c_long, || format!("readlink {}", q(name)))? as usize;
    buf.truncate(len);
    let os: std::ffi::OsString = std::os::unix::ffi::OsStringExt::from_vec(buf);
    Ok(std::path::PathBuf::from(os))
}

pub fn fstat(fd: BorrowedFd<'_>) -> Result<libc::stat> {
    // SAFETY: zeroed stat is a valid out-parameter.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let empty = c"";
    // SAFETY: valid pointers.
    let r = unsafe { libc::fstatat(fd.as_raw_fd(), empty.as_ptr(), &mut st, libc::AT_EMPTY_PATH) };
    check(r as libc::c_long, || format!("fstat fd {}", fd.as_raw_fd())).map(|_| st)
}

/// `/proc/self/fd/N`, the path through which an O_PATH fd can be used by
/// calls that take only a path.
pub fn fd_path(fd: BorrowedFd<'_>) -> std::path::PathBuf {
    format!("/proc/self/fd/{}", fd.as_raw_fd()).into()
}

pub fn chmod_fd(fd: BorrowedFd<'_>, mode: u32, shown: &Path) -> Result<()> {
    let c = cstr(&fd_path(fd));
    // SAFETY: valid C string.
    let r = unsafe { libc::chmod(c.as_ptr(), mode) };
    check(r as libc::c_long, || {
        format!("chmod {} to {:o}", q(shown), mode)
    })
    .map(drop)
}

// ---- mounts --------------------------------------------------------------

pub const OPEN_TREE_CLONE: u32 = 1;
pub const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x04;
pub const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;
pub const MOUNT_ATTR_RDONLY: u64 = 0x01;
pub const MOUNT_ATTR_NOSUID: u64 = 0x02;
pub const MOUNT_ATTR_NODEV: u64 = 0x04;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x08;
const FSCONFIG_SET_FLAG: u32 = 0;
const FSCONFIG_SET_STRING: u32 = 1;
const FSCONFIG_CMD_CREATE: u32 = 6;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// Clone the mount tree at `fd` (recursively) as a detached tree.
pub fn open_tree_clone(fd: BorrowedFd<'_>, shown: &Path) -> Result<OwnedFd> {
    let flags = OPEN_TREE_CLONE
        | libc::AT_RECURSIVE as u32
        | libc::AT_EMPTY_PATH as u32
        | libc::O_CLOEXEC as u32;
    // SAFETY: empty C string, valid fd.
    let r = unsafe { libc::syscall(libc::SYS_open_tree, fd.as_raw_fd(), c"".as_ptr(), flags) };
    check(r, || format!("open_tree {}", q(shown))).map(owned)
}

/// Set (never clear) attributes on a mount, or with `recursive` on every
/// mount below it, in one call.
pub fn mount_setattr(
    fd: BorrowedFd<'_>,
    recursive: bool,
    attr_set: u64,
    shown: &Path,
) -> Result<()> {
    let attr = MountAttr {
        attr_set,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let mut flags = libc::AT_EMPTY_PATH as u32;
    if recursive {
        flags |= libc::AT_RECURSIVE as u32;
    }
    // SAFETY: valid pointers.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &attr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    check(r, || {
        format!("mount_setattr {} (set {:#x})", q(shown), attr_set)
    })
    .map(drop)
}

/// Attach a detached mount (`from`) on top of the object `to` refers to.
pub fn move_mount(
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    shown_from: &str,
    shown_to: &Path,
) -> Result<()> {
    let flags = MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH;
    // SAFETY: empty C strings, valid fds.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            from.as_raw_fd(),
            c"".as_ptr(),
            to.as_raw_fd(),
            c"".as_ptr(),
            flags,
        )
    };
    check(r, || format!("mount {shown_from} on {}", q(shown_to))).map(drop)
}

/// A filesystem context being configured (`fsopen`).
pub struct FsContext {
    fd: OwnedFd,
    fstype: &'static str,
}

impl FsContext {
    pub fn open(fstype: &'static str) -> Result<FsContext> {
        let c = CString::new(fstype).unwrap_or_default();
        // SAFETY: valid C string.
        let r = unsafe { libc::syscall(libc::SYS_fsopen, c.as_ptr(), libc::FSOPEN_CLOEXEC) };
        check(r, || format!("fsopen {fstype:?}")).map(|fd| FsContext {
            fd: owned(fd),
            fstype,
        })
    }

    pub fn set(&self, key: &str, value: &str) -> Result<&Self> {
        let (k, v) = (
            CString::new(key).unwrap_or_default(),
            CString::new(value).unwrap_or_default(),
        );
        // SAFETY: valid C strings.
        let r = unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                self.fd.as_raw_fd(),
                FSCONFIG_SET_STRING,
                k.as_ptr(),
                v.as_ptr(),
                0,
            )
        };
        check(r, || format!("fsconfig {} {key}={value}", self.fstype)).map(|_| self)
    }

    pub fn flag(&self, key: &str) -> Result<&Self> {
        let k = CString::new(key).unwrap_or_default();
        // SAFETY: valid C string.
        let r = unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                self.fd.as_raw_fd(),
                FSCONFIG_SET_FLAG,
                k.as_ptr(),
                std::ptr::null::<u8>(),
                0,
            )
        };
        check(r, || format!("fsconfig {} {key}", self.fstype)).map(|_| self)
    }

    /// Create the superblock and return a detached mount of it.
    pub fn mount(&self, attrs: u64) -> Result<OwnedFd> {
        // SAFETY: plain integer arguments.
        let r = unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                self.fd.as_raw_fd(),
                FSCONFIG_CMD_CREATE,
                std::ptr::null::<u8>(),
                std::ptr::null::<u8>(),
                0,
            )
        };
        check(r, || format!("fsconfig {} create", self.fstype))?;
        // SAFETY: plain integer arguments.
        let r = unsafe {
            libc::syscall(
                libc::SYS_fsmount,
                self.fd.as_raw_fd(),
                libc::FSMOUNT_CLOEXEC,
                attrs,
            )
        };
        check(r, || format!("fsmount {}", self.fstype)).map(owned)
    }
}

/// Legacy `mount(2)`, for remounts.
pub fn mount(
    src: Option<&Path>,
    target: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> Result<()> {
    let s = src.map(cstr);
    let t = cstr(target);
    let f = fstype.map(|f| CString::new(f).unwrap_or_default());
    let d = data.map(|d| CString::new(d).unwrap_or_default());
    let ptr = |c: &Option<CString>| c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: valid or null C strings.
    let r = unsafe { libc::mount(ptr(&s), t.as_ptr(), ptr(&f), flags, ptr(&d).cast()) };
    check(r as libc::c_long, || match src {
        Some(s) => format!("mount {} on {}", q(s), q(target)),
        None => format!("mount {} (flags {flags:#x})", q(target)),
    })
    .map(drop)
}

pub fn umount_detach(target: &Path) -> Result<()> {
    let t = cstr(target);
    // SAFETY: valid C string.
    let r = unsafe { libc::umount2(t.as_ptr(), libc::MNT_DETACH) };
    check(r as libc::c_long, || format!("umount {}", q(target))).map(drop)
}

pub fn pivot_root(new_root: &Path, put_old: &Path) -> Result<()> {
    let (n, o) = (cstr(new_root), cstr(put_old));
    // SAFETY: valid C strings.
    let r = unsafe { libc::syscall(libc::SYS_pivot_root, n.as_ptr(), o.as_ptr()) };
    check(r, || format!("pivot_root {} {}", q(new_root), q(put_old))).map(drop)
}

pub fn fchdir(fd: BorrowedFd<'_>, shown: &Path) -> Result<()> {
    // SAFETY: valid fd.
    let r = unsafe { libc::fchdir(fd.as_raw_fd()) };
    check(r as libc::c_long, || format!("chdir {}", q(shown))).map(drop)
}

pub fn chdir(path: &Path) -> Result<()> {
    let c = cstr(path);
    // SAFETY: valid C string.
    let r = unsafe { libc::chdir(c.as_ptr()) };
    check(r as libc::c_long, || format!("chdir {}", q(path))).map(drop)
}

// ---- processes and namespaces --------------------------------------------

/// `clone(flags | SIGCHLD)` with fork semantics (no new stack). The caller
/// is single-threaded, so the child may run arbitrary code.
pub fn clone_fork(flags: i32) -> Result<libc::pid_t> {
    // SAFETY: with a null stack the child continues on a copy of ours, like fork().
    let r = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (flags | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    check(r, || format!("clone {}", clone_flag_names(flags))).map(|p| p as libc::pid_t)
}

pub fn clone_flag_names(flags: i32) -> String {
    let names = [
        (libc::CLONE_NEWUSER, "NEWUSER"),
        (libc::CLONE_NEWNS, "NEWNS"),
        (libc::CLONE_NEWPID, "NEWPID"),
        (libc::CLONE_NEWNET, "NEWNET"),
        (libc::CLONE_NEWIPC, "NEWIPC"),
        (libc::CLONE_NEWUTS, "NEWUTS"),
        (libc::CLONE_NEWCGROUP, "NEWCGROUP"),
        (libc::CLONE_NEWTIME, "NEWTIME"),
    ];
    let v: Vec<&str> = names
        .iter()
        .filter(|(f, _)| flags & f != 0)
        .map(|(_, n)| *n)
        .collect();
    v.join("|")
}

pub fn unshare(flags: i32) -> Result<()> {
    // SAFETY: plain integer argument.
    let r = unsafe { libc::unshare(flags) };
    check(r as libc::c_long, || {
        format!("unshare {}", clone_flag_names(flags))
    })
    .map(drop)
}

pub fn setns(fd: RawFd, nstype: i32, what: &str) -> Result<()> {
    // SAFETY: plain integer arguments.
    let r = unsafe { libc::setns(fd, nstype) };
    check(r as libc::c_long, || format!("setns {what} fd {fd}")).map(drop)
}

pub fn prctl(option: i32, arg: libc::c_ulong, what: &str) -> Result<()> {
    // SAFETY: prctl options used here take integer arguments only.
    let r = unsafe { libc::prctl(option, arg, 0, 0, 0) };
    check(r as libc::c_long, || format!("prctl {what}")).map(drop)
}

/// `waitpid(pid, flags)`, retried on EINTR: the pid reaped (0 with
/// WNOHANG when no child has changed state yet) and its status.
pub fn waitpid(pid: libc::pid_t, flags: i32) -> Result<(libc::pid_t, i32)> {
    loop {
        let mut status = 0;
        // SAFETY: valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, flags) };
        if r >= 0 {
            return Ok((r, status));
        }
        if errno() != libc::EINTR {
            return check(r as libc::c_long, || format!("waitpid {pid}")).map(|_| (r, status));
        }
    }
}

/// Write a whole buffer to a path (for /proc files such as uid_map).
pub fn write_file(path: &Path, data: &[u8]) -> Result<()> {
    let fd = openat(libc::AT_FDCWD, path, libc::O_WRONLY, 0)?;
    write_all(fd.as_raw_fd(), data).map_err(|errno| SysError {
        call: format!("write {}", q(path)),
        errno,
    })
}

/// read() until EOF, or until `data` holds `max` bytes, appending to
/// `data`; what was read before an error stays there. Retries EINTR.
pub fn read_to_end(fd: RawFd, data: &mut Vec<u8>, max: usize) -> std::result::Result<(), i32> {
    let mut buf = [0u8; 16 * 1024];
    while data.len() < max {
        let want = buf.len().min(max - data.len());
        match read_some(fd, &mut buf[..want])? {
            0 => break,
            n => data.extend_from_slice(&buf[..n]),
        }
    }
    Ok(())
}

/// A close-on-exec pipe: (read end, write end).
pub fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for two ints.
    let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    check(r as libc::c_long, || "pipe2".to_string())?;
    Ok((owned(fds[0] as libc::c_long), owned(fds[1] as libc::c_long)))
}

/// Close every fd ≥ 3 except those in `keep`.
pub fn close_fds_except(keep: &[RawFd]) {
    let mut keep: Vec<RawFd> = keep.iter().copied().filter(|&fd| fd >= 3).collect();
    keep.sort_unstable();
    keep.dedup();
    let mut start: u32 = 3;
    for &fd in &keep {
        let fd = fd as u32;
        if fd > start {
            close_range(start, fd - 1);
        }
        start = fd + 1;
    }
    close_range(start, u32::MAX);
}

fn close_range(first: u32, last: u32) {
    // SAFETY: closing fds we own by construction (everything not kept).
    let r = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0) };
    if r < 0 {
        // Kernels before 5.9: close one by one from /proc/self/fd.
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            let fds: Vec<u32> = dir
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect();
            for fd in fds.into_iter().filter(|fd| (first..=last).contains(fd)) {
                // SAFETY: see above.
                unsafe { libc::close(fd as RawFd) };
            }
        }
    }
}

pub fn cstring(s: &OsStr) -> CString {
    cstr_os(s)
}

pub fn cstr_lossy(c: &CStr) -> String {
    c.to_string_lossy().into_owned()
}

/// A helper program sandwrap runs itself (pasta, newuidmap): the first
/// executable regular file `name` in a directory of sandwrap's `$PATH`
/// (`/usr/bin:/bin` when unset). Relative entries (an empty one is the
/// current directory) are refused: the directory sandwrap is started in
/// must not choose what it runs. The error is the reason, naming what was
/// refused, for the caller to put after the name: `not found in PATH`.
pub fn find_in_path(name: &str) -> std::result::Result<std::path::PathBuf, String> {
    find_in(std::env::var_os("PATH").as_deref(), name)
}

fn find_in(path: Option<&OsStr>, name: &str) -> std::result::Result<std::path::PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let path = path.unwrap_or(OsStr::new("/usr/bin:/bin"));
    let (absolute, relative): (Vec<_>, Vec<_>) =
        std::env::split_paths(path).partition(|dir| dir.is_absolute());
    let found = absolute.iter().map(|dir| dir.join(name)).find(|p| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    });
    found.ok_or_else(|| match relative.as_slice() {
        [] => "not found in PATH".to_string(),
        dirs => {
            let shown: Vec<String> = dirs.iter().map(|d| q(d)).collect();
            format!(
                "not found in PATH (relative entries are not searched: {})",
                shown.join(", ")
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_lookup_searches_absolute_directories_only() {
        let sh = OsStr::new("/nonexistent:/bin:/usr/bin");
        assert!(find_in(Some(sh), "sh").is_ok_and(|p| p.is_absolute() && p.ends_with("sh")));
        // Only relative entries left: refused, and said so.
        assert_eq!(
            find_in(Some(OsStr::new("::bin:/nonexistent")), "sh"),
            Err(
                "not found in PATH (relative entries are not searched: \"\", \"\", \"bin\")"
                    .to_string()
            )
        );
        assert_eq!(
            find_in(Some(OsStr::new("/nonexistent")), "sh"),
            Err("not found in PATH".to_string())
        );
        // A directory or a file that is not executable is not a program.
        assert_eq!(
            find_in(Some(OsStr::new("/")), "etc"),
            Err("not found in PATH".to_string())
        );
        assert_eq!(
            find_in(Some(OsStr::new("/etc")), "passwd"),
            Err("not found in PATH".to_string())
        );
        assert!(find_in(None, "sh").is_ok());
    }
}
