//! `--control-fd FD`: the helper's side of the library's control socket
//! (records in `crate::control`). First the caller's fds are received and
//! placed at their numbers, and every other inherited fd is closed; once the sandbox runs, a thread waits for a
//! signal to pass on or for EOF, the caller process's end, which ends the
//! sandbox.

use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};

use crate::control::{self, MAX_FDS, Request};

/// Receive the caller's fds on `fd` and place them; the control socket
/// itself moves to a close-on-exec number above all of them (the command
/// must not get it) and is noted in `crate::control`. The error is the
/// reason, for `--control-fd FD: reason`.
pub fn accept(fd: RawFd) -> Result<(), String> {
    // Records must stay apart (a stream runs them together) and a datagram
    // socket has no EOF: anything else would wait for a record for ever.
    let unix_seqpacket = sockopt(fd, libc::SO_DOMAIN)
        .map(|d| d == libc::AF_UNIX)
        .and_then(|unix| Ok(unix && sockopt(fd, libc::SO_TYPE)? == libc::SOCK_SEQPACKET));
    match unix_seqpacket {
        Ok(true) => {}
        Ok(false) | Err(libc::ENOTSOCK) => {
            return Err(format!("fd {fd} is not a SOCK_SEQPACKET unix socket"));
        }
        Err(errno) => return Err(format!("fd {fd}: {}", crate::errno_text(errno))),
    }
    let mut buf = vec![0u8; 16 * (MAX_FDS + 1)];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([RawFd; MAX_FDS]);
    let msg = recvmsg::<()>(fd, &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)
        .map_err(|e| format!("recvmsg: {}", crate::errno_text(e as i32)))?;
    // A caller is there: from now on a refusal goes back to it as well.
    control::set_fd(Some(fd));
    let mut received: Vec<OwnedFd> = Vec::new();
    for c in msg.cmsgs().map_err(|e| crate::errno_text(e as i32))? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            // SAFETY: the kernel just installed these fds for us.
            received.extend(fds.into_iter().map(|f| unsafe { OwnedFd::from_raw_fd(f) }));
        }
    }
    let truncated = msg.flags.contains(MsgFlags::MSG_CTRUNC);
    let bytes = msg.bytes;
    let rec = iov[0].get(..bytes).unwrap_or(&[]);
    let targets = match Request::decode(rec) {
        Some(Request::Fds(t)) if t.len() == received.len() && !truncated => t,
        _ if bytes == 0 => return Err("the caller closed it before sending its fds".into()),
        _ => return Err("malformed first record (expected the caller's fds)".into()),
    };
    let mut sorted = targets.clone();
    sorted.sort_unstable();
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        return Err("the same fd number is asked for twice".into());
    }
    // Above every target, so placing one cannot close it.
    let limit = nofile_limit();
    if let Some(&t) = sorted.last().filter(|&&t| i64::from(t) + 1 >= limit) {
        return Err(format!("fd {t}: beyond the limit on open files ({limit})"));
    }
    let floor = sorted.last().map_or(3, |&t| t.saturating_add(1).max(3));
    let moved = dup_above(fd, floor)?.into_raw_fd();
    control::set_fd(Some(moved));
    // SAFETY: `fd` was the control socket, now moved; nothing else uses it.
    unsafe { libc::close(fd) };
    let mut high = Vec::with_capacity(received.len());
    for r in &received {
        high.push(dup_above(r.as_raw_fd(), floor)?);
    }
    drop(received);
    for (h, &t) in high.iter().zip(&targets) {
        // dup2 leaves the new number without close-on-exec: the command
        // inherits it, as it inherits whatever the CLI's caller passes.
        // SAFETY: both are fds of ours; `t` is the caller's chosen number.
        if unsafe { libc::dup2(h.as_raw_fd(), t) } < 0 {
            let errno = crate::hostio::errno();
            return Err(format!("dup2 to {t}: {}", crate::errno_text(errno)));
        }
    }
    drop(high);
    // Only what the caller sent goes on: an fd its other threads left
    // inheritable while spawning (no O_CLOEXEC) must not reach the sandbox
    // (an fd on a host directory is a way out).
    let mut keep = targets;
    keep.push(moved);
    super::sys::close_fds_except(&keep);
    Ok(())
}

/// The soft limit on open files (the fd numbers that can be placed are
/// below it).
fn nofile_limit() -> i64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a valid out-pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return i64::MAX;
    }
    i64::try_from(lim.rlim_cur).unwrap_or(i64::MAX)
}

/// With a control socket: refuse a sandbox that could replace this very
/// binary, which the library runs for its next spawns outside any sandbox.
/// Checked here once every option is read (an `--args` payload, a
/// `--bind-fd` directory are not seen by the library's own check).
pub fn refuse_replaceable_helper(spec: &crate::spec::Spec) -> Result<(), String> {
    if control::fd().is_none() {
        return Ok(());
    }
    let writable = spec.writable_sources(|fd| Some(format!("/proc/self/fd/{fd}").into()));
    if writable.is_empty() {
        return Ok(());
    }
    let exe = std::fs::read_link("/proc/self/exe")
        .map_err(|e| format!("/proc/self/exe: {}", crate::io_error_text(&e)))?;
    crate::hostio::refuse_bound(&exe, &writable)
}

/// An int-valued SOL_SOCKET option of `fd`; the errno of a failure.
fn sockopt(fd: RawFd, opt: libc::c_int) -> Result<libc::c_int, i32> {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: valid out-pointers of the sizes given.
    let r = unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, opt, (&raw mut v).cast(), &mut len) };
    if r == 0 {
        Ok(v)
    } else {
        Err(crate::hostio::errno())
    }
}

/// A close-on-exec copy of `fd` numbered `floor` or above.
fn dup_above(fd: RawFd, floor: RawFd) -> Result<OwnedFd, String> {
    // SAFETY: F_DUPFD_CLOEXEC only creates a new fd.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, floor) };
    if new < 0 {
        let errno = crate::hostio::errno();
        return Err(format!(
            "fcntl(F_DUPFD_CLOEXEC): {}",
            crate::errno_text(errno)
        ));
    }
    // SAFETY: a new fd that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// Once the sandbox runs (its first process is `pid`): pass the caller's
/// signals on, and at EOF (the caller process has gone, or dropped its
/// handle) kill the sandbox. A thread: the supervisor's own loop waits for
/// signals only, and this must not depend on it.
pub fn watch(pid: libc::pid_t) {
    let Some(fd) = control::fd() else { return };
    // A pidfd keeps a signal sent after the supervisor reaped `pid` from
    // reaching a process that took its number.
    let pidfd = match super::sys::Pidfd::open(pid) {
        Ok(p) => Some(p),
        // No pidfds (before Linux 5.3): the pid, as the supervisor has not
        // reaped it yet.
        Err(e) if e.errno == libc::ENOSYS => None,
        Err(_) => {
            // No way to end it later without maybe hitting another
            // process: a sandbox that could outlive its caller must not run.
            // SAFETY: our own child, not reaped yet.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            return;
        }
    };
    let signal = move |sig: i32| match &pidfd {
        // A failure is ESRCH: the sandbox has ended already.
        Some(p) => {
            let _ = p.send_signal(sig);
        }
        None => {
            // SAFETY: signalling our own child (pidfds unsupported).
            unsafe { libc::kill(pid, sig) };
        }
    };
    let spawned = std::thread::Builder::new()
        .name("control".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            let mut buf = [0u8; 64];
            loop {
                // SAFETY: buf is valid for its length.
                let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
                if n < 0 && crate::hostio::errno() == libc::EINTR {
                    continue;
                }
                let sig = match n {
                    n if n > 0 => match Request::decode(&buf[..n as usize]) {
                        Some(Request::Signal(sig)) => sig,
                        _ => continue,
                    },
                    // EOF or a broken socket: the caller has gone.
                    _ => libc::SIGKILL,
                };
                signal(sig);
                if sig == libc::SIGKILL {
                    return;
                }
            }
        });
    if spawned.is_err() {
        // No watcher: a sandbox that could outlive its caller must not run.
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}
