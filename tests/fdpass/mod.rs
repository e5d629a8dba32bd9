//! Passing file descriptors to a sandbox the way a launcher does: pipes,
//! memfds and opened files mapped onto chosen fd numbers in the child only.
//!
//! Tests run in parallel threads of one process, so every fd made here is
//! close-on-exec: only the child that `pass` maps it into ever sees it.
#![allow(dead_code)]

use crate::common::skip;
use std::ffi::CString;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A close-on-exec pipe: (read end, write end).
pub fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: fds has room for two ints.
    let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(r, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: the kernel just gave us these fds.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// A close-on-exec memfd holding `data`, positioned at its start.
pub fn memfd(data: &[u8]) -> OwnedFd {
    let name = CString::new("sandwrap-test").expect("name");
    // SAFETY: valid C string.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    assert!(fd >= 0, "memfd_create: {}", std::io::Error::last_os_error());
    // SAFETY: fresh fd we own.
    let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
    file.write_all(data).expect("write memfd");
    // SAFETY: valid fd.
    unsafe { libc::lseek(fd, 0, libc::SEEK_SET) };
    OwnedFd::from(file)
}

/// Open `path` (close-on-exec) with raw open(2) flags.
pub fn open(path: &Path, flags: i32) -> OwnedFd {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: valid C string.
    let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC) };
    assert!(
        fd >= 0,
        "open {}: {}",
        path.display(),
        std::io::Error::last_os_error()
    );
    // SAFETY: fresh fd we own.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Make each `(fd, target)` appear as fd `target` (not close-on-exec) in
/// the child `cmd` starts. The parent's fds are untouched; drop them after
/// spawning so that only the child holds them.
pub fn pass(cmd: &mut Command, fds: &[(RawFd, RawFd)]) {
    let fds = fds.to_vec();
    // SAFETY: only async-signal-safe calls (fcntl, dup2) run in the child.
    unsafe {
        cmd.pre_exec(move || {
            // Move every source out of the way first, so that a target
            // number equal to another source cannot clobber it.
            let mut moved = Vec::with_capacity(fds.len());
            for &(src, target) in &fds {
                let tmp = libc::fcntl(src, libc::F_DUPFD_CLOEXEC, 100);
                if tmp < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                moved.push((tmp, target));
            }
            for (tmp, target) in moved {
                if libc::dup2(tmp, target) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// Read everything from `fd` until EOF.
pub fn read_to_end(fd: OwnedFd) -> String {
    let mut s = String::new();
    std::fs::File::from(fd)
        .read_to_string(&mut s)
        .expect("read fd");
    s
}

/// Poll `fd` for `events` with a timeout; returns revents (0 on timeout).
pub fn poll(fd: &OwnedFd, events: i16, timeout: Duration) -> i16 {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut pfd, 1, timeout.as_millis() as i32) };
    if r > 0 { pfd.revents } else { 0 }
}

/// Wait until `cond` holds, for at most `limit` (a safety net against a
/// hung sandbox, never a speed assertion).
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// Wait for `child` (at most `limit`, then kill it) and collect its exit
/// code, stdout and stderr; a hang fails the test instead of blocking it.
pub fn finish_within(mut child: std::process::Child, limit: Duration) -> (i32, String, String) {
    let done = crate::common::wait_within(&mut child, limit).is_some();
    let o = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(done, "the launcher hangs: {err}");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    (o.status.code().unwrap_or(-1), out, err)
}

/// Read one line from `fd` (a pipe), byte by byte so nothing after it is
/// consumed; `None` on EOF before a newline.
pub fn read_line(fd: &OwnedFd) -> Option<String> {
    let mut out = Vec::new();
    loop {
        let mut b = [0u8; 1];
        // SAFETY: valid buffer of one byte.
        let n = unsafe { libc::read(fd.as_raw_fd(), b.as_mut_ptr().cast(), 1) };
        if n <= 0 {
            return None;
        }
        if b[0] == b'\n' {
            return Some(String::from_utf8_lossy(&out).into_owned());
        }
        out.push(b[0]);
    }
}

/// Parse the flat JSON objects sandwrap writes (string keys, integer
/// values) into ordered pairs; panics on anything else.
pub fn parse_flat_json(text: &str) -> Vec<(String, i64)> {
    let t = text.trim();
    let inner = t
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or_else(|| panic!("not an object: {text:?}"));
    if inner.trim().is_empty() {
        return Vec::new();
    }
    inner
        .split(',')
        .map(|kv| {
            let (k, v) = kv
                .split_once(':')
                .unwrap_or_else(|| panic!("bad member {kv:?} in {text:?}"));
            let k = k.trim();
            let key = k
                .strip_prefix('"')
                .and_then(|k| k.strip_suffix('"'))
                .unwrap_or_else(|| panic!("bad key {k:?}"));
            let val = v
                .trim()
                .parse::<i64>()
                .unwrap_or_else(|_| panic!("bad value {v:?} in {text:?}"));
            (key.to_string(), val)
        })
        .collect()
}

/// The inode of `/proc/PID/ns/NAME`, or None when it cannot be read.
pub fn ns_inode(pid: i64, name: &str) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/{pid}/ns/{name}"))
        .ok()
        .map(|m| m.ino())
}

/// Whether `pid` exists and is not a zombie.
pub fn alive(pid: i64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// `/usr/bin/python3` with the Debian `seccomp` module, or None with the reason printed.
pub fn python_seccomp() -> Option<&'static str> {
    let py = "/usr/bin/python3";
    let ok = Command::new(py)
        .args(["-c", "import seccomp"])
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        skip!("skipping: {py} with the seccomp module (python3-seccomp) is not available");
        return None;
    }
    Some(py)
}

/// Build a cBPF program with python3-seccomp: `rules` is Python code run
/// with `f` (a SyscallFilter allowing everything by default), `seccomp`,
/// `errno` and `termios` in scope. Returns the raw program bytes.
pub fn bpf(rules: &str) -> Option<Vec<u8>> {
    let py = python_seccomp()?;
    let script = format!(
        "import errno, os, sys, termios, seccomp\n\
         f = seccomp.SyscallFilter(seccomp.ALLOW)\n\
         {rules}\n\
         r, w = os.pipe()\n\
         f.export_bpf(os.fdopen(w, 'wb', closefd=False))\n\
         os.close(w)\n\
         sys.stdout.buffer.write(os.read(r, 1 << 20))\n"
    );
    let out = Command::new(py)
        .args(["-c", &script])
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "building the filter failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.stdout.is_empty() && out.stdout.len() % 8 == 0,
        "odd filter size {}",
        out.stdout.len()
    );
    Some(out.stdout)
}

/// Try an exclusive fcntl lock on `path` from outside, as another process
/// would: returns the errno (0 when the lock was granted, then released).
pub fn write_lock_errno(path: &Path) -> i32 {
    let fd = open(path, libc::O_RDWR);
    let lock = libc::flock {
        l_type: libc::F_WRLCK as i16,
        l_whence: libc::SEEK_SET as i16,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    // SAFETY: valid fd and flock.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETLK, &lock) };
    if r == 0 {
        0
    } else {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)
    }
}
