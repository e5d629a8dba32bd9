//! `--timeout`: a watchdog thread of the supervisor. When the time is up it
//! sends SIGTERM to every process of the sandbox, and SIGKILL after the
//! grace period (`--kill-after`) to every process of the sandbox until none
//! is left but a reaper pid 1, which then ends; with a pid namespace of our
//! own, pid 1 gets SIGKILL too if it has not ended a second later (the
//! kernel then ends every process in the namespace).
//!
//! "Every process of the sandbox" is every descendant of the supervisor: it
//! is a subreaper, so a process that double-forks or calls setsid is
//! reparented to it and stays in reach. But for sandwrap's own helpers
//! (pasta) and theirs: the sandbox keeps its network through the grace
//! period, and the helper is ended by its own supervision.
//!
//! A thread keeps the supervisor's wait loop (signals, the seccomp
//! notifier, pid 1's report) unchanged: the thread only signals, and the
//! loop sees the sandbox end as it would for any other reason. The thread
//! never waits for a process, so no status is taken from the loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use anyhow::{Result, anyhow};

use super::super::children;
use super::super::sys::Pidfd;
use crate::cli::limits::show_duration;
use crate::spec::{DEFAULT_KILL_AFTER, Spec};

/// timeout(1)'s exit status when the time limit was reached.
pub const EXIT_TIMED_OUT: i32 = 124;

const RUNNING: u8 = 0;
const TIMED_OUT: u8 = 1;
const ENDED: u8 = 2;

/// The running watchdog; `finish` says who won the race with the command.
pub struct Watchdog {
    state: Arc<AtomicU8>,
}

impl Watchdog {
    /// The sandbox has ended: stop the watchdog. True when the time limit
    /// was reached first (the command's own end came too late to count).
    pub fn finish(&self) -> bool {
        self.state
            .compare_exchange(RUNNING, ENDED, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
    }
}

/// What the thread needs to end the sandbox.
struct Plan {
    /// The sandbox's first process, held by a pidfd (never a reused pid).
    first: Pidfd,
    /// The first process becomes a reaper that passes SIGTERM on to the
    /// command: once it is one, it is not sent one of its own (the command
    /// would get two).
    reaper: bool,
    /// The first process is pid 1 of a pid namespace sandwrap created.
    own_pid_ns: bool,
    timeout: Duration,
    grace: Duration,
    level_prefix: bool,
    /// sandwrap's helpers, spared with their subtrees.
    helpers: Vec<Pidfd>,
    /// The sandbox's own cgroup's cgroup.kill: at the SIGKILL step, every
    /// process of the sandbox at once, wherever it is in the tree.
    cgroup_kill: Option<std::path::PathBuf>,
}

/// A watchdog thread started before the supervisor joins a pid namespace
/// (`--pidns`): once a process's children belong to another pid namespace
/// than its own, the kernel refuses it new threads. It waits for its plan.
pub struct Early {
    plan: std::sync::mpsc::Sender<(Plan, Arc<AtomicU8>)>,
}

/// Start the thread `start` will hand its plan to, if `--timeout` was
/// given. The thread only waits until then (and ends if it never comes).
pub fn spawn_early(spec: &Spec) -> Result<Option<Early>> {
    if spec.limits.timeout.is_none() {
        return Ok(None);
    }
    let (tx, rx) = std::sync::mpsc::channel::<(Plan, Arc<AtomicU8>)>();
    spawn(move || {
        if let Ok((plan, state)) = rx.recv() {
            plan.run(&state);
        }
    })?;
    Ok(Some(Early { plan: tx }))
}

fn spawn(run: impl FnOnce() + Send + 'static) -> Result<()> {
    std::thread::Builder::new()
        .name("sandwrap-timeout".into())
        .spawn(run)
        .map(drop)
        .map_err(|e| {
            anyhow!(
                "--timeout: cannot start the timer thread: {}",
                crate::io_error_text(&e)
            )
        })
}

/// Start the watchdog for the sandbox whose first process is `pid`, if
/// `--timeout` was given, in the thread `early` started if there is one.
/// `fallback`: no namespaces were created. `helpers`: sandwrap's own
/// children that are not the sandbox's, not reaped yet.
pub fn start(
    spec: &Spec,
    pid: libc::pid_t,
    fallback: bool,
    early: Option<Early>,
    helpers: &[libc::pid_t],
    cgroup_kill: Option<std::path::PathBuf>,
) -> Result<Option<Watchdog>> {
    let Some(timeout) = spec.limits.timeout else {
        return Ok(None);
    };
    let plan = Plan {
        first: Pidfd::open(pid).map_err(|e| anyhow!("--timeout: {e}"))?,
        reaper: spec.needs_reaper(),
        own_pid_ns: spec.new_pid_ns() && !fallback,
        timeout,
        grace: spec.limits.kill_after.unwrap_or(DEFAULT_KILL_AFTER),
        level_prefix: spec.level_prefix,
        // ESRCH cannot be: not reaped yet. Any other failure leaves the
        // helper to the watchdog, as any process of the sandbox.
        helpers: helpers
            .iter()
            .filter_map(|&h| Pidfd::open(h).ok())
            .collect(),
        cgroup_kill,
    };
    let state = Arc::new(AtomicU8::new(RUNNING));
    let theirs = Arc::clone(&state);
    match early {
        Some(early) => early
            .plan
            .send((plan, theirs))
            .map_err(|_| anyhow!("--timeout: the timer thread has gone"))?,
        None => spawn(move || plan.run(&theirs))?,
    }
    Ok(Some(Watchdog { state }))
}

impl Plan {
    fn run(&self, state: &AtomicU8) {
        std::thread::sleep(self.timeout);
        if state
            .compare_exchange(RUNNING, TIMED_OUT, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return; // the sandbox ended in time
        }
        super::super::warn(
            self.level_prefix,
            &format!(
                "timed out after {}: SIGTERM to the sandbox, SIGKILL in {}",
                show_duration(self.timeout),
                show_duration(self.grace)
            ),
        );
        // A reaper with no child yet is still setting the sandbox up: the
        // signal ends setup.
        let skip_first = self.reaper && !children::of(self.first.pid()).is_empty();
        for pid in supervised(&self.helpers()) {
            if !(skip_first && pid == self.first.pid()) {
                // SAFETY: signalling a process of the sandbox.
                unsafe { libc::kill(pid, libc::SIGTERM) };
            }
        }
        std::thread::sleep(self.grace);
        if let Some(kill) = &self.cgroup_kill {
            // Nothing to spare for the accounting: the cgroup's cpu.stat
            // has every process's time. The walks below find nothing left.
            let _ = std::fs::write(kill, "1");
        }
        // A reaper is spared at first: it waits for what is killed, so that
        // the CPU time used is accounted (processes the kernel ends with a
        // pid namespace are not), then ends the namespace itself.
        let spare =
            (self.reaper && !children::of(self.first.pid()).is_empty()).then_some(self.first.pid());
        if spare.is_some() || !self.own_pid_ns {
            kill_tree(spare, &self.helpers());
        }
        let spared_and_ended = spare.is_some() && self.first.exits_within(Duration::from_secs(1));
        if self.own_pid_ns && !spared_and_ended {
            // The kernel ends every other process of the namespace with it.
            self.send(libc::SIGKILL);
        }
    }

    /// The pids of the helpers still running: a live process has not been
    /// reaped, so its pid is not anyone else's. One that has ended is left
    /// out (its pid may be reused; it needs no sparing).
    fn helpers(&self) -> Vec<libc::pid_t> {
        self.helpers
            .iter()
            .filter(|h| !h.exits_within(Duration::ZERO))
            .map(Pidfd::pid)
            .collect()
    }

    fn send(&self, sig: i32) {
        // ESRCH: it has ended already.
        let _ = self.first.send_signal(sig);
    }
}

/// SIGKILL every live process of the sandbox but `spare`, again and again,
/// until a walk finds none: a process forked while a walk ran is found by
/// the next one (its parent, once killed, forks no more). `helpers` are
/// not the sandbox's.
fn kill_tree(spare: Option<libc::pid_t>, helpers: &[libc::pid_t]) {
    for _ in 0..10_000 {
        let live: Vec<libc::pid_t> = supervised(helpers)
            .into_iter()
            .filter(|p| Some(*p) != spare && !is_zombie(*p))
            .collect();
        if live.is_empty() {
            return;
        }
        for pid in live {
            // SAFETY: signalling a process of the sandbox.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn is_zombie(pid: libc::pid_t) -> bool {
    // A process that is gone counts as one: nothing to kill.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(')')
                .is_none_or(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']))
        })
        .unwrap_or(true)
}

/// Every descendant of this process (the supervisor), parents first, but
/// `helpers` and theirs.
fn supervised(helpers: &[libc::pid_t]) -> Vec<libc::pid_t> {
    // SAFETY: getpid has no failure mode.
    children::descendants(unsafe { libc::getpid() }, helpers)
}
