//! Who is whose child, as the supervisor (and a pid 1 without a pid
//! namespace of its own) finds the processes of the sandbox.
//!
//! The kernel lists each thread's children in /proc/PID/task/TID/children,
//! but only when built with CONFIG_PROC_CHILDREN. Without it, the parent of
//! every process is read from /proc/*/stat, once for a whole walk (a scan
//! per process looked up would read every process of the machine again for
//! each). `SANDWRAP_PROC_CHILDREN=scan` takes that path on any kernel, so
//! that it can be tested; it finds the same processes.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Forces the /proc scan, as on a kernel without the children files.
const FORCE_VAR: &str = "SANDWRAP_PROC_CHILDREN";

/// A way to look up children, good for one walk.
pub enum Children {
    /// The kernel's children files, read at each lookup: a process looked
    /// up after it was killed has its final list (it can fork no more).
    Files,
    /// Every process's children, from one scan of /proc taken at `read`.
    /// A child forked after it is missed; its parent, once killed, dies,
    /// and the child comes back to the subreaper, to be found by the next
    /// walk.
    Scanned(HashMap<libc::pid_t, Vec<libc::pid_t>>),
}

impl Children {
    /// Ready for a walk: on a kernel without children files, the scan.
    pub fn read() -> Children {
        if files_usable() {
            Children::Files
        } else {
            Children::Scanned(scan())
        }
    }

    /// The children of process `pid` (of all its threads).
    pub fn of(&self, pid: libc::pid_t) -> Vec<libc::pid_t> {
        match self {
            Children::Files => listed(pid),
            Children::Scanned(by_parent) => by_parent.get(&pid).cloned().unwrap_or_default(),
        }
    }
}

/// The children of process `pid`, now.
pub fn of(pid: libc::pid_t) -> Vec<libc::pid_t> {
    Children::read().of(pid)
}

/// Every descendant of process `pid`, parents first.
pub fn descendants(pid: libc::pid_t) -> Vec<libc::pid_t> {
    let children = Children::read();
    let mut out = children.of(pid);
    let mut i = 0;
    while i < out.len() && out.len() < 1_000_000 {
        let more = children.of(out[i]);
        out.extend(more);
        i += 1;
    }
    out
}

/// The kernel has children files (and the scan is not forced). Asked of
/// our own thread: another process's may be gone.
fn files_usable() -> bool {
    static USABLE: OnceLock<bool> = OnceLock::new();
    *USABLE.get_or_init(|| {
        std::env::var_os(FORCE_VAR).is_none_or(|v| v != "scan")
            && std::fs::metadata("/proc/thread-self/children").is_ok()
    })
}

/// From /proc/PID/task/*/children.
fn listed(pid: libc::pid_t) -> Vec<libc::pid_t> {
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

/// Every process's children, by the parent pid in its /proc/PID/stat
/// (the parent's process, whichever of its threads forked). A process
/// that ends during the scan is left out, as it would be from a list.
fn scan() -> HashMap<libc::pid_t, Vec<libc::pid_t>> {
    let mut by_parent: HashMap<libc::pid_t, Vec<libc::pid_t>> = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return by_parent;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let stat = std::fs::read(entry.path().join("stat")).unwrap_or_default();
        if let Some(ppid) = parent_in_stat(&stat) {
            by_parent.entry(ppid).or_default().push(pid);
        }
    }
    by_parent
}

/// The parent pid of a /proc/PID/stat line: the field after the state,
/// which follows the name's last `)` (the name itself may hold any byte).
fn parent_in_stat(stat: &[u8]) -> Option<libc::pid_t> {
    let end = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[end + 1..]).ok()?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_from_a_stat_line() {
        let line = b"4711 (a) b) (c) S 42 4711 4711 0 -1 4194560 100 0 0 0";
        assert_eq!(parent_in_stat(line), Some(42));
        assert_eq!(parent_in_stat(b"4711 (\xff\xfe) R 1 2 3"), Some(1));
        assert_eq!(parent_in_stat(b""), None);
        assert_eq!(parent_in_stat(b"4711 (cut"), None);
    }

    /// The scan finds what the kernel lists: a shell's two children, and
    /// their own child, in the same order of walk (parents first).
    #[test]
    fn the_scan_finds_what_the_children_files_list() {
        if std::fs::metadata("/proc/thread-self/children").is_err() {
            assert!(
                std::env::var_os("CI").is_none(),
                "no children files to compare with"
            );
            eprintln!("skipped: this kernel has no /proc/PID/task/TID/children");
            return;
        }
        let mut sh = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & sh -c 'sleep 30 & wait' & wait"])
            .spawn()
            .expect("spawn sh");
        let pid = sh.id() as libc::pid_t;
        let walk = |children: &Children| {
            let mut out = children.of(pid);
            let mut i = 0;
            while i < out.len() {
                let more = children.of(out[i]);
                out.extend(more);
                i += 1;
            }
            out.sort_unstable();
            out
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut listed = walk(&Children::Files);
        while listed.len() < 3 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
            listed = walk(&Children::Files);
        }
        let scanned = walk(&Children::Scanned(scan()));
        for p in &listed {
            // SAFETY: ending the processes this test started.
            unsafe { libc::kill(*p, libc::SIGKILL) };
        }
        sh.kill().expect("kill sh");
        sh.wait().expect("reap sh");
        assert_eq!(listed.len(), 3, "{listed:?}");
        assert_eq!(scanned, listed);
    }
}
