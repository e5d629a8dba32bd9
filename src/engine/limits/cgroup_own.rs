//! The sandbox's own cgroup (`--own-cgroup`, and every cgroup limit): a
//! child `sandwrap-PID` of the delegated cgroup v2 sandwrap runs in, with
//! the limits written into it. The supervisor and its helpers (newuidmap,
//! pasta) stay outside; the sandbox's first process is moved in before it
//! can run anything, so everything the sandbox ever starts is in it and
//! cannot leave (see `lock_cgroupfs`). At the end, `cgroup.kill` ends
//! whatever is left, however it escaped the process tree, and the
//! directory is removed.
//!
//! No fd of the cgroup is kept open: every file is opened by path when it
//! is used, so nothing of it can be inherited by the sandbox (an fd of the
//! directory would reach the parent through `..`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};

use crate::spec::CgroupLimits;

/// Prefix of the cgroups sandwrap makes (`sandwrap-PID`); the supervisor's
/// own leaf, when it had to leave its cgroup, is `sandwrap-PID.supervisor`.
const PREFIX: &str = "sandwrap-";
const SUPERVISOR_LEAF: &str = ".supervisor";

/// How long the end waits for the killed processes to be gone.
const END_WAIT: Duration = Duration::from_secs(10);

/// A cgroup made for one sandbox; removed when dropped.
#[derive(Debug)]
pub struct OwnCgroup {
    pub dir: PathBuf,
    ended: std::cell::Cell<bool>,
    removed: std::cell::Cell<bool>,
}

/// The sandbox's figures from its cgroup.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CgroupUsage {
    pub user: Duration,
    pub system: Duration,
    /// memory.peak, where the memory controller is enabled.
    pub memory_peak: Option<u64>,
}

fn io_text(e: &std::io::Error) -> String {
    crate::io_error_text(e)
}

/// Write `data` to an existing cgroup file (never created).
fn write(path: &Path, data: &str) -> std::result::Result<(), std::io::Error> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)?
        .write_all(data.as_bytes())
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// `populated 0|1` of a cgroup.events text.
fn populated(events: &str) -> Option<bool> {
    events
        .lines()
        .find_map(|l| l.strip_prefix("populated "))
        .map(|v| v.trim() != "0")
}

/// `populated` of an open cgroup.events, read afresh.
fn populated_now(events: &std::fs::File) -> Option<bool> {
    use std::os::unix::fs::FileExt;
    let mut buf = [0u8; 256];
    let n = events.read_at(&mut buf, 0).ok()?;
    populated(std::str::from_utf8(&buf[..n]).ok()?)
}

/// `usage_usec`-style fields of cpu.stat.
fn cpu_stat_field(stat: &str, key: &str) -> Option<u64> {
    stat.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// The pid in a `sandwrap-PID` or `sandwrap-PID.supervisor` name.
fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?;
    let digits = rest.strip_suffix(SUPERVISOR_LEAF).unwrap_or(rest);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Remove the empty cgroups left by sandwraps that were killed (SIGKILL
/// leaves no chance to clean up): those whose owner is gone. A cgroup
/// that still holds processes is left alone (rmdir refuses it anyway).
/// Called before this sandwrap makes anything: one named after our own
/// pid is a leftover of a killed sandwrap that had it before (pids wrap
/// around), and would make our mkdir fail.
fn remove_stale(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let me = std::process::id();
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(owner_pid) else {
            continue;
        };
        if pid != me && Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let dir = e.path();
        if read(&dir.join("cgroup.events")).and_then(|t| populated(&t)) == Some(false) {
            let _ = std::fs::remove_dir(&dir);
        }
    }
}

/// The controllers `limits` need enabled for the sandbox's cgroup.
pub fn needed(limits: &CgroupLimits) -> Vec<&'static str> {
    let mut v = Vec::new();
    if limits.memory.is_some() || limits.memory_swap.is_some() {
        v.push("memory");
    }
    if limits.pids_max.is_some() {
        v.push("pids");
    }
    if limits.cpus_milli.is_some() {
        v.push("cpu");
    }
    v
}

/// Pids listed in a cgroup.procs text.
fn pids(text: &str) -> Vec<u32> {
    text.split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Enable `wanted` for the children of `parent`. cgroup v2 enables a
/// controller for children only of a cgroup that holds no process itself
/// (the "no internal processes" rule: EBUSY otherwise). As systemd's
/// delegation documentation asks of a delegated subtree's owner, sandwrap
/// then moves itself out, into a leaf of its own, when it is the only
/// process there (as under `systemd-run --scope`); with other processes
/// there, it cannot, and says so.
fn enable(parent: &Path, wanted: &[&str], options: &str) -> Result<()> {
    let subtree = parent.join("cgroup.subtree_control");
    let enabled = read(&subtree).unwrap_or_default();
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|c| !enabled.split_whitespace().any(|e| e == *c))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let procs_file = parent.join("cgroup.procs");
    let me = std::process::id();
    let others: Vec<u32> = read(&procs_file)
        .map(|t| pids(&t))
        .unwrap_or_default()
        .into_iter()
        .filter(|p| *p != me)
        .collect();
    let word = format!(
        "{} controller{}",
        super::cgroup::and_list(&missing),
        if missing.len() == 1 { "" } else { "s" }
    );
    if !others.is_empty() {
        let shown: Vec<String> = others.iter().take(5).map(u32::to_string).collect();
        bail!(
            "{options}: cannot enable the {word} for sandwrap's cgroup: {} holds other processes (pid {}{}), and cgroup v2 enables controllers only below a cgroup that holds no process itself. To fix: run sandwrap in a cgroup of its own: {}",
            parent.display(),
            shown.join(", "),
            if others.len() > 5 { ", ..." } else { "" },
            super::cgroup::SYSTEMD_RUN
        );
    }
    if read(&procs_file).is_some_and(|t| pids(&t).contains(&me)) {
        let leaf = parent.join(format!("{PREFIX}{me}{SUPERVISOR_LEAF}"));
        match std::fs::create_dir(&leaf) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => bail!(
                "{options}: mkdir {} (a leaf for sandwrap itself, so that its cgroup can enable controllers): {}",
                leaf.display(),
                io_text(&e)
            ),
            _ => {}
        }
        write(&leaf.join("cgroup.procs"), &me.to_string()).map_err(|e| {
            anyhow!(
                "{options}: moving sandwrap into {}: {}",
                leaf.display(),
                io_text(&e)
            )
        })?;
    }
    let plus: Vec<String> = missing.iter().map(|c| format!("+{c}")).collect();
    write(&subtree, &plus.join(" ")).map_err(|e| {
        let why = match e.raw_os_error() {
            Some(libc::EBUSY) => format!(
                "{} still holds processes (cgroup v2 enables controllers only below a cgroup that holds none). To fix: run sandwrap in a cgroup of its own: {}",
                parent.display(),
                super::cgroup::SYSTEMD_RUN
            ),
            _ => io_text(&e),
        };
        anyhow!(
            "{options}: enabling {word} in {}: {why}",
            subtree.display()
        )
    })
}

/// The limit files and values to write.
fn limit_files(limits: &CgroupLimits) -> Vec<(&'static str, &'static str, String)> {
    let mut out = Vec::new();
    if let Some(v) = limits.memory {
        out.push(("--memory", "memory.max", v.to_string()));
    }
    if let Some(v) = limits.memory_swap {
        out.push(("--memory-swap", "memory.swap.max", v.to_string()));
    }
    if let Some(v) = limits.pids_max {
        out.push(("--pids-max", "pids.max", v.to_string()));
    }
    if let Some(m) = limits.cpus_milli {
        // A 100 ms period, the kernel's default.
        out.push(("--cpus", "cpu.max", format!("{} 100000", m * 100)));
    }
    out
}

impl OwnCgroup {
    /// Make the sandbox's cgroup below `parent` (the delegated cgroup
    /// sandwrap runs in) and write the limits into it.
    pub fn create(parent: &Path, limits: &CgroupLimits, options: &str) -> Result<Self> {
        remove_stale(parent);
        let wanted = needed(limits);
        if !wanted.is_empty() {
            enable(parent, &wanted, options)?;
        }
        let dir = parent.join(format!("{PREFIX}{}", std::process::id()));
        if let Err(e) = std::fs::create_dir(&dir) {
            bail!(
                "{options}: mkdir {} (the sandbox's cgroup): {}",
                dir.display(),
                io_text(&e)
            );
        }
        let own = OwnCgroup {
            dir,
            ended: false.into(),
            removed: false.into(),
        };
        for (option, file, value) in limit_files(limits) {
            let path = own.dir.join(file);
            write(&path, &value).map_err(|e| {
                anyhow!(
                    "{option}: write {value} to {}: {}",
                    path.display(),
                    io_text(&e)
                )
            })?;
        }
        Ok(own)
    }

    /// Move process `pid` (the sandbox's first, still waiting) in.
    pub fn place(&self, pid: libc::pid_t) -> Result<()> {
        let procs = self.dir.join("cgroup.procs");
        write(&procs, &pid.to_string()).map_err(|e| {
            anyhow!(
                "moving the sandbox into its cgroup: write {pid} to {}: {}",
                procs.display(),
                io_text(&e)
            )
        })
    }

    /// End every process of the cgroup (`cgroup.kill`) and wait until the
    /// kernel says none is left. Once; false when some stayed (a process
    /// stuck in the kernel) past the wait.
    pub fn end(&self) -> bool {
        if self.ended.replace(true) {
            return true;
        }
        let events = std::fs::File::open(self.dir.join("cgroup.events"));
        if let Ok(ev) = &events
            && populated_now(ev) == Some(false)
        {
            return true;
        }
        // Also when its state cannot be read: nothing may outlive the end.
        let _ = write(&self.dir.join("cgroup.kill"), "1");
        let Ok(events) = events else {
            return false;
        };
        let until = Instant::now() + END_WAIT;
        while Instant::now() < until {
            if populated_now(&events) != Some(true) {
                return true;
            }
            // The kernel notifies a change of cgroup.events as POLLPRI;
            // its work is deferred, so it is polled for every 1 ms too.
            let mut pfd = libc::pollfd {
                fd: std::os::fd::AsRawFd::as_raw_fd(&events),
                events: libc::POLLPRI,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut pfd, 1, 1) };
        }
        false
    }

    /// What the sandbox used, from cpu.stat (kept by cgroup v2 with or
    /// without the cpu controller) and memory.peak (with the memory
    /// controller). Read after `end`, so it is final.
    pub fn usage(&self) -> Option<CgroupUsage> {
        let stat = read(&self.dir.join("cpu.stat"))?;
        let us = |k| cpu_stat_field(&stat, k).map(Duration::from_micros);
        Some(CgroupUsage {
            user: us("user_usec")?,
            system: us("system_usec")?,
            memory_peak: read(&self.dir.join("memory.peak")).and_then(|t| t.trim().parse().ok()),
        })
    }
}

/// Remove the cgroups the sandbox made below its own (it may, through a
/// cgroupfs it mounts in a cgroup namespace of its own), deepest first.
fn remove_below(dir: &Path, depth: u32) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        // cgroupfs has no symbolic links: a directory is a cgroup.
        if depth < 64 && e.file_type().is_ok_and(|t| t.is_dir()) {
            remove_below(&e.path(), depth + 1);
            let _ = std::fs::remove_dir(e.path());
        }
    }
}

impl Drop for OwnCgroup {
    fn drop(&mut self) {
        if self.removed.replace(true) {
            return;
        }
        let ended = self.end();
        remove_below(&self.dir, 0);
        // A process that has just exited may hold the cgroup a moment
        // longer (EBUSY).
        let until = Instant::now() + Duration::from_secs(1);
        loop {
            match std::fs::remove_dir(&self.dir) {
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < until => {
                    std::thread::sleep(Duration::from_millis(2))
                }
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    let why = if ended {
                        io_text(&e)
                    } else {
                        "some processes did not end within 10s of cgroup.kill".into()
                    };
                    crate::out::message(
                        false,
                        crate::out::Level::Warning,
                        &format!(
                            "cannot remove the sandbox's cgroup {}: {why}",
                            self.dir.display()
                        ),
                    );
                    return;
                }
                _ => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `enable` on a directory laid out like a cgroup (plain files: the
    /// kernel's rules are not there, the steps and messages are).
    #[test]
    fn enabling_controllers_moves_sandwrap_out_or_names_the_others() {
        let dir = std::env::temp_dir().join(format!("sandwrap-enable-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let me = std::process::id();
        std::fs::write(dir.join("cgroup.subtree_control"), "").unwrap();
        std::fs::write(dir.join("cgroup.procs"), format!("{me}\n4000000\n")).unwrap();
        let err = enable(&dir, &["memory", "pids"], "--memory").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(
                "--memory: cannot enable the memory and pids controllers for sandwrap's cgroup: "
            ) && text.contains("holds other processes (pid 4000000)")
                && text.contains("systemd-run --user --scope -p Delegate=yes"),
            "{text}"
        );
        // Only sandwrap there: it moves into a leaf of its own, then enables.
        std::fs::write(dir.join("cgroup.procs"), format!("{me}\n")).unwrap();
        let leaf = dir.join(format!("sandwrap-{me}.supervisor"));
        std::fs::create_dir(&leaf).unwrap();
        std::fs::write(leaf.join("cgroup.procs"), "").unwrap();
        enable(&dir, &["memory", "pids"], "--memory").unwrap();
        assert_eq!(
            std::fs::read_to_string(leaf.join("cgroup.procs")).unwrap(),
            me.to_string()
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap(),
            "+memory +pids"
        );
        // Already enabled: nothing to do.
        std::fs::write(dir.join("cgroup.procs"), "4000000\n").unwrap();
        std::fs::write(dir.join("cgroup.subtree_control"), "cpu memory pids\n").unwrap();
        enable(&dir, &["memory", "pids"], "--memory").unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn names_and_files() {
        assert_eq!(owner_pid("sandwrap-123"), Some(123));
        assert_eq!(owner_pid("sandwrap-123.supervisor"), Some(123));
        for bad in ["sandwrap-", "sandwrap-x", "other-1", "sandwrap-1.x"] {
            assert_eq!(owner_pid(bad), None, "{bad}");
        }
        assert_eq!(populated("populated 1\nfrozen 0\n"), Some(true));
        assert_eq!(populated("populated 0\nfrozen 0\n"), Some(false));
        let stat = "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n";
        assert_eq!(cpu_stat_field(stat, "user_usec"), Some(1000));
        assert_eq!(cpu_stat_field(stat, "usage"), None);
        let limits = CgroupLimits {
            memory: Some(1 << 20),
            pids_max: Some(64),
            cpus_milli: Some(500),
            ..Default::default()
        };
        assert_eq!(needed(&limits), ["memory", "pids", "cpu"]);
        let files: Vec<(&str, String)> = limit_files(&limits)
            .into_iter()
            .map(|(_, f, v)| (f, v))
            .collect();
        assert_eq!(
            files,
            [
                ("memory.max", "1048576".to_string()),
                ("pids.max", "64".into()),
                ("cpu.max", "50000 100000".into())
            ]
        );
    }
}
