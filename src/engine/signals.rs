//! Signals: the supervisor and pid 1 take them synchronously (blocked, then
//! `sigwaitinfo`) and pass the ones meant for the sandbox on to it.

use std::mem::MaybeUninit;

/// Signals passed on to the sandbox. Terminal-generated ones (Ctrl-C) are
/// only passed on when the command does not share our process group, or it
/// would get them twice.
pub const FORWARDED: [i32; 6] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

pub fn handled_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set.
    unsafe {
        let mut set = MaybeUninit::<libc::sigset_t>::zeroed().assume_init();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        for s in FORWARDED {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

pub fn block(set: &libc::sigset_t) {
    // SAFETY: valid set pointer.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, set, std::ptr::null_mut()) };
}

extern "C" fn exit_on_signal(sig: libc::c_int) {
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(128 + sig) }
}

/// During setup: the passed-on signals end this process, as they would end
/// the command (exit status 128+N).
pub fn end_on_signals() {
    // SAFETY: installing an async-signal-safe handler; plain set operations.
    unsafe {
        let mut set = MaybeUninit::<libc::sigset_t>::zeroed().assume_init();
        libc::sigemptyset(&mut set);
        for s in FORWARDED {
            libc::signal(
                s,
                exit_on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
            libc::sigaddset(&mut set, s);
        }
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
    }
}

/// After setup: block them again (pid 1 waits for them) and drop the handler.
pub fn take_signals_back(set: &libc::sigset_t) {
    block(set);
    // SAFETY: restoring default dispositions.
    unsafe {
        for s in FORWARDED {
            libc::signal(s, libc::SIG_DFL);
        }
    }
}

/// Give the command a clean signal state: nothing blocked, default
/// dispositions (Rust ignores SIGPIPE, which exec would pass on).
pub fn reset_for_exec() {
    // SAFETY: plain libc calls on valid arguments.
    unsafe {
        let mut set = MaybeUninit::<libc::sigset_t>::zeroed().assume_init();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Wait for one of the blocked signals: (signal, si_code). Fails only
/// when the call itself is refused (a seccomp filter), never spins.
pub fn wait(set: &libc::sigset_t) -> Result<(i32, i32), super::sys::SysError> {
    loop {
        // SAFETY: valid set and out-pointer.
        let mut info = unsafe { MaybeUninit::<libc::siginfo_t>::zeroed().assume_init() };
        let sig = unsafe { libc::sigwaitinfo(set, &mut info) };
        if sig > 0 {
            return Ok((sig, info.si_code));
        }
        let errno = super::sys::errno();
        if errno != libc::EINTR {
            return Err(super::sys::SysError {
                call: "sigwaitinfo".into(),
                errno,
            });
        }
    }
}

/// What ended a wait: a signal, or data on the watched fd.
pub enum Event {
    Signal(i32, i32),
    Readable,
}

/// Blocked signals as a pollable fd, so a wait can also watch a pipe.
pub struct SignalFd(std::os::fd::OwnedFd);

impl SignalFd {
    pub fn new(set: &libc::sigset_t) -> Result<SignalFd, super::sys::SysError> {
        use std::os::fd::FromRawFd;
        // SAFETY: valid set; the fd is ours.
        let fd = unsafe { libc::signalfd(-1, set, libc::SFD_CLOEXEC) };
        if fd < 0 {
            return Err(super::sys::SysError {
                call: "signalfd".into(),
                errno: super::sys::errno(),
            });
        }
        // SAFETY: a fresh fd from the kernel.
        Ok(SignalFd(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }))
    }

    pub fn raw(&self) -> i32 {
        std::os::fd::AsRawFd::as_raw_fd(&self.0)
    }

    /// One pending signal: (signal, si_code), or None if there is none.
    pub fn read(&self) -> Option<(i32, i32)> {
        // SAFETY: zeroed signalfd_siginfo is a valid buffer of `size` bytes.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        // SAFETY: see above.
        let n = unsafe {
            libc::read(
                self.raw(),
                (&mut info as *mut libc::signalfd_siginfo).cast(),
                size,
            )
        };
        (n as usize == size).then_some((info.ssi_signo as i32, info.ssi_code))
    }

    /// Wait for a signal or for `watch` to become readable (or hung up).
    pub fn wait_or_readable(&self, watch: i32) -> Event {
        use std::os::fd::AsRawFd;
        loop {
            let mut fds = [
                libc::pollfd {
                    fd: self.0.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: watch,
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            // SAFETY: valid array of two pollfd.
            if unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) } < 0 {
                continue; // EINTR
            }
            if fds[0].revents & libc::POLLIN != 0 {
                if let Some((sig, code)) = self.read() {
                    return Event::Signal(sig, code);
                }
            }
            if fds[1].revents != 0 {
                return Event::Readable;
            }
        }
    }
}

/// Whether a received signal should be passed on to the sandbox.
pub fn should_forward(si_code: i32, shares_process_group: bool) -> bool {
    si_code != libc::SI_KERNEL || !shares_process_group
}

/// Reap every child that has exited; return the status of `watched` if it
/// was one. Fails only when waiting itself is refused (a seccomp filter).
pub fn reap(watched: libc::pid_t) -> Result<Option<i32>, super::sys::SysError> {
    let mut found = None;
    loop {
        let mut status = 0;
        // SAFETY: valid out-pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid < 0 {
            let errno = super::sys::errno();
            return match errno {
                libc::ECHILD => Ok(found),
                libc::EINTR => continue,
                _ => Err(super::sys::SysError {
                    call: "waitpid".into(),
                    errno,
                }),
            };
        }
        if pid == 0 {
            return Ok(found);
        }
        if pid == watched {
            found = Some(status);
        }
    }
}

/// Reap children, blocking, until `watched` has exited; its status.
pub fn reap_blocking(watched: libc::pid_t) -> Result<i32, super::sys::SysError> {
    loop {
        let mut status = 0;
        // SAFETY: valid out-pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid == watched {
            return Ok(status);
        }
        if pid < 0 {
            let errno = super::sys::errno();
            if errno != libc::EINTR {
                return Err(super::sys::SysError {
                    call: "waitpid".into(),
                    errno,
                });
            }
        }
    }
}

/// Kill and reap every remaining child (orphans reparented to us as a
/// subreaper), until none is left.
pub fn kill_remaining_children() {
    for _ in 0..1000 {
        let pids = children();
        if pids.is_empty() {
            return;
        }
        for pid in &pids {
            // SAFETY: signalling our own children.
            unsafe { libc::kill(*pid, libc::SIGKILL) };
        }
        for pid in &pids {
            let mut status = 0;
            // SAFETY: valid out-pointer.
            unsafe { libc::waitpid(*pid, &mut status, 0) };
        }
    }
}

fn children() -> Vec<libc::pid_t> {
    children_of(std::process::id() as libc::pid_t)
}

/// The children of every thread of process `pid`.
pub fn children_of(pid: libc::pid_t) -> Vec<libc::pid_t> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
                out.extend(
                    list.split_whitespace()
                        .filter_map(|p| p.parse::<libc::pid_t>().ok()),
                );
            }
        }
    }
    out
}
