//! Signals: the supervisor and pid 1 take them synchronously (blocked, then
//! `sigwaitinfo`) and pass the ones meant for the sandbox on to it.

use std::mem::MaybeUninit;

use super::children::Children;

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

/// The signal state sandwrap was started with, which the command gets
/// back (as bwrap leaves it): the caller's signal mask, and which of the
/// signals sandwrap handles itself the caller ignored (e.g. SIGHUP under
/// nohup, SIGINT for a background job). sandwrap changes no other
/// disposition (SIGPIPE stays as the caller left it: main is entered
/// without std's runtime, which would ignore it).
#[derive(Clone, Copy)]
pub struct Caller {
    mask: libc::sigset_t,
    ignored: [bool; FORWARDED.len()],
}

impl Caller {
    /// Read the caller's state; call before changing any of it.
    pub fn save() -> Caller {
        // SAFETY: valid out-pointers; a null new set only reads.
        unsafe {
            let mut mask = MaybeUninit::<libc::sigset_t>::zeroed().assume_init();
            libc::sigprocmask(libc::SIG_BLOCK, std::ptr::null(), &mut mask);
            let mut ignored = [false; FORWARDED.len()];
            for (slot, sig) in ignored.iter_mut().zip(FORWARDED) {
                let mut old = MaybeUninit::<libc::sigaction>::zeroed().assume_init();
                libc::sigaction(sig, std::ptr::null(), &mut old);
                *slot = old.sa_sigaction == libc::SIG_IGN;
            }
            Caller { mask, ignored }
        }
    }

    /// The forwarded signals the caller did not ignore.
    fn handled(&self) -> impl Iterator<Item = i32> + '_ {
        FORWARDED
            .into_iter()
            .zip(self.ignored)
            .filter(|(_, ign)| !ign)
            .map(|(s, _)| s)
    }
}

/// A caller that ignores SIGCHLD would have its children reaped by the
/// kernel, and sandwrap could not learn the command's status: SIGCHLD goes
/// back to its default at start, as bwrap (0.11) does it.
pub fn default_sigchld() {
    // SAFETY: setting a default disposition.
    unsafe { libc::signal(libc::SIGCHLD, libc::SIG_DFL) };
}

/// During setup: the passed-on signals end this process, as they would end
/// the command (exit status 128+N); those the caller ignored stay ignored.
pub fn end_on_signals(caller: &Caller) {
    // SAFETY: installing an async-signal-safe handler; plain set operations.
    unsafe {
        let mut set = MaybeUninit::<libc::sigset_t>::zeroed().assume_init();
        libc::sigemptyset(&mut set);
        for s in caller.handled() {
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
pub fn take_signals_back(set: &libc::sigset_t, caller: &Caller) {
    block(set);
    // SAFETY: restoring default dispositions.
    unsafe {
        for s in caller.handled() {
            libc::signal(s, libc::SIG_DFL);
        }
    }
}

/// Give the command the caller's signal state back: its mask, except
/// SIGCHLD, which bwrap unblocks too; the dispositions were never changed
/// (the setup's handlers are gone with exec; ignored signals stayed
/// ignored).
pub fn reset_for_exec(caller: &Caller) {
    // SAFETY: plain libc calls on valid arguments.
    unsafe {
        let mut mask = caller.mask;
        libc::sigdelset(&mut mask, libc::SIGCHLD);
        libc::sigprocmask(libc::SIG_SETMASK, &mask, std::ptr::null_mut());
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
    reap_all(watched).map(|(found, _)| found)
}

/// The signal a reaper without a pid namespace of its own gets when the
/// supervisor dies (its `PR_SET_PDEATHSIG`): it must live on long enough
/// to end the tree, so SIGKILL will not do.
pub fn supervisor_death_signal() -> i32 {
    libc::SIGRTMIN()
}

/// Reap every child that has exited: the status of `watched` if it was
/// one, and whether no child at all is left.
pub fn reap_all(watched: libc::pid_t) -> Result<(Option<i32>, bool), super::sys::SysError> {
    let mut found = None;
    loop {
        match super::sys::waitpid(-1, libc::WNOHANG) {
            Ok((0, _)) => return Ok((found, false)),
            Ok((pid, status)) if pid == watched => found = Some(status),
            Ok(_) => {}
            Err(e) if e.errno == libc::ECHILD => return Ok((found, true)),
            Err(e) => return Err(e),
        }
    }
}

/// Reap children, blocking, until `watched` has exited; its status.
pub fn reap_blocking(watched: libc::pid_t) -> Result<i32, super::sys::SysError> {
    loop {
        let (pid, status) = super::sys::waitpid(-1, 0)?;
        if pid == watched {
            return Ok(status);
        }
    }
}

/// End every descendant of this process, which must be a child subreaper
/// (so an orphan of the tree comes back to it and cannot leave the tree).
/// A process is SIGKILLed before its children are read: with SIGKILL
/// pending it can no longer fork (the kernel fails the fork) nor reap, so
/// each child read is either killed in turn or comes back to us. Then we
/// reap, and whenever one of our children has not been killed yet (it was
/// forked during the walk, or came back to us), kill it and its subtree.
/// It ends when we have no child left, and with no child there is no
/// descendant: the end is certain, not a number of rounds, and a fork chain
/// or fork loop only makes it take a few more. (Without the kernel's
/// children lists, a round's children come from one scan made before its
/// kills: a child forked after it comes back to us when its killed parent
/// dies, which wakes our wait, and the next round kills it.)
pub fn end_descendants() {
    let me = std::process::id() as libc::pid_t;
    let mut killed = std::collections::HashSet::new();
    loop {
        let children = Children::read();
        let mut queue: Vec<libc::pid_t> = children
            .of(me)
            .into_iter()
            .filter(|p| !killed.contains(p))
            .collect();
        let mut i = 0;
        while i < queue.len() {
            let pid = queue[i];
            // SAFETY: a descendant of ours, found just now.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed.insert(pid);
            queue.extend(children.of(pid).into_iter().filter(|p| !killed.contains(p)));
            i += 1;
        }
        let Ok((reaped, _)) = super::sys::waitpid(-1, 0) else {
            return; // ECHILD: no child, so no descendant, is left
        };
        // A reaped pid may be used again, by anyone.
        killed.remove(&reaped);
    }
}
