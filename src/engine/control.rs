//! `--control-fd FD`: the helper's side of the library's control socket
//! (records in `crate::control`). First the caller's fds are received and
//! placed at their numbers, and every other inherited fd is closed; once the sandbox runs, a thread waits for a
//! signal to pass on or for EOF, the caller process's end, which ends the
//! sandbox.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};

use crate::control::{self, MAX_FDS, Request};

/// Receive the caller's fds on `fd` and place them; the control socket
/// itself moves to a close-on-exec number above all of them (the command
/// must not get it) and is noted in `crate::control`. The error is the
/// reason, for `--control-fd FD: reason`.
pub fn accept(fd: RawFd) -> Result<(), String> {
    let mut buf = vec![0u8; 16 * (MAX_FDS + 1)];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([RawFd; MAX_FDS]);
    let msg = recvmsg::<()>(fd, &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)
        .map_err(|e| format!("recvmsg: {}", crate::errno_text(e as i32)))?;
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
    let floor = sorted.last().map_or(3, |&t| (t + 1).max(3));
    let moved = dup_above(fd, floor)?;
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
    keep.push(moved.as_raw_fd());
    super::sys::close_fds_except(&keep);
    control::set_fd(Some(moved.as_raw_fd()));
    std::mem::forget(moved);
    Ok(())
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
    // SAFETY: pidfd_open only creates an fd.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as RawFd;
    let signal = move |sig: i32| {
        if pidfd >= 0 {
            // SAFETY: a pidfd of ours; no siginfo.
            unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    pidfd,
                    sig,
                    std::ptr::null::<libc::siginfo_t>(),
                    0,
                )
            };
        } else {
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
