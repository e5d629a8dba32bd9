//! cgroup v2 limits (`--memory`, `--memory-swap`, `--pids-max`, `--cpus`)
//! and `--own-cgroup`: whether this process sits in a cgroup v2 it may
//! write to, with the controllers the options need; if not, one error
//! naming the cause and the fix. If so, the sandbox's own cgroup is made
//! there (`cgroup_own`). Nothing here runs unless one of the options is
//! given.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::cgroup_own::{OwnCgroup, needed};
use crate::spec::CgroupLimits;

/// What the host shows of cgroup v2, read once (pure data, so the
/// diagnosis is testable with any layout).
#[derive(Debug, Default)]
pub struct Facts {
    /// The `0::PATH` line of /proc/self/cgroup.
    pub v2_path: Option<String>,
    /// Where cgroup2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified
    /// on a hybrid host).
    pub mount: Option<PathBuf>,
    /// Whether any cgroup v1 hierarchy is mounted.
    pub v1_mounted: bool,
    /// cgroup.controllers of our own cgroup.
    pub controllers: Vec<String>,
    /// Whether our cgroup's directory and cgroup.procs are writable by us.
    pub writable: bool,
}

/// `a`, `a and b`, `a, b and c`.
pub(super) fn and_list(items: &[&str]) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => items.join(""),
    }
}

pub(super) const SYSTEMD_RUN: &str = "systemd-run --user --scope -p Delegate=yes sandwrap ...";

/// (cause, fix) when no usable delegated cgroup v2 exists; `None` when one
/// does.
pub fn diagnose(facts: &Facts, limits: &CgroupLimits) -> Option<(String, String)> {
    let unified = "boot with the unified cgroup hierarchy (kernel option systemd.unified_cgroup_hierarchy=1, the default of systemd since version 247)";
    let (Some(path), Some(mount)) = (&facts.v2_path, &facts.mount) else {
        return Some((
            "this host has no cgroup v2 hierarchy (cgroup v1 only)".into(),
            format!("{unified}, then run sandwrap in a delegated cgroup: {SYSTEMD_RUN}"),
        ));
    };
    let dir = mount.join(path.trim_start_matches('/'));
    let missing: Vec<&str> = needed(limits)
        .into_iter()
        .filter(|c| !facts.controllers.iter().any(|have| have == c))
        .collect();
    if !missing.is_empty() && facts.v1_mounted {
        return Some((
            format!(
                "this host uses cgroup v1 (a hybrid layout: the {} controller{} {} bound to cgroup v1, and the cgroup v2 hierarchy at {} has none of them)",
                and_list(&missing),
                if missing.len() == 1 { "" } else { "s" },
                if missing.len() == 1 { "is" } else { "are" },
                mount.display()
            ),
            format!("{unified}, then run sandwrap in a delegated cgroup: {SYSTEMD_RUN}"),
        ));
    }
    if !facts.writable {
        return Some((
            format!(
                "the cgroup sandwrap runs in ({}) is not delegated to this user (not writable)",
                dir.display()
            ),
            format!("run sandwrap in a cgroup of its own that systemd delegates: {SYSTEMD_RUN}"),
        ));
    }
    if !missing.is_empty() {
        return Some((
            format!(
                "the {} controller{} not enabled for the cgroup sandwrap runs in ({})",
                and_list(&missing),
                if missing.len() == 1 { " is" } else { "s are" },
                dir.display()
            ),
            format!(
                "run it in a cgroup with every controller delegated: {SYSTEMD_RUN} (on systemd before 244, also allow them with Delegate=cpu memory pids in user@.service)"
            ),
        ));
    }
    None
}

/// Read the facts from /proc and the cgroup filesystem.
pub fn facts() -> Facts {
    let v2_path = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("0::").map(str::to_string))
        });
    let mut mount = None;
    let mut v1_mounted = false;
    if let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") {
        for line in info.lines() {
            // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS... - FSTYPE SOURCE OPTS
            let Some((left, right)) = line.split_once(" - ") else {
                continue;
            };
            let point = left.split(' ').nth(4);
            match right.split(' ').next() {
                Some("cgroup2") if mount.is_none() => {
                    mount = point.map(crate::engine::mount::unescape_mountinfo)
                }
                Some("cgroup") => v1_mounted = true,
                _ => {}
            }
        }
    }
    let dir = match (&mount, &v2_path) {
        (Some(m), Some(p)) => Some(m.join(p.trim_start_matches('/'))),
        _ => None,
    };
    let controllers = dir
        .as_ref()
        .and_then(|d| std::fs::read_to_string(d.join("cgroup.controllers")).ok())
        .map(|t| t.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let writable = dir.as_ref().is_some_and(|d| {
        writable(d)
            && writable(&d.join("cgroup.procs"))
            && writable(&d.join("cgroup.subtree_control"))
    });
    Facts {
        v2_path,
        mount,
        v1_mounted,
        controllers,
        writable,
    }
}

fn writable(p: &Path) -> bool {
    let c = super::super::sys::cstring(p.as_os_str());
    // SAFETY: valid C string.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

/// Before anything is created: refuse cgroup options this host cannot
/// honour, with the cause and the fix; where it can, make the sandbox's
/// own cgroup (with the limits written into it).
pub fn prepare(limits: &CgroupLimits) -> Result<Option<OwnCgroup>> {
    let mut given = limits.given();
    if given.is_empty() {
        if !limits.own {
            return Ok(None);
        }
        given.push("--own-cgroup");
    }
    let options = and_list(&given);
    let needs = if given.len() == 1 { "needs" } else { "need" };
    let facts = facts();
    if let Some((cause, fix)) = diagnose(&facts, limits) {
        bail!("{options} {needs} a delegated cgroup v2, and {cause}. To fix: {fix}");
    }
    let (Some(mount), Some(path)) = (&facts.mount, &facts.v2_path) else {
        bail!("{options}: no cgroup v2 hierarchy");
    };
    let parent = mount.join(path.trim_start_matches('/'));
    OwnCgroup::create(&parent, limits, &options).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> CgroupLimits {
        CgroupLimits {
            memory: Some(1 << 30),
            ..Default::default()
        }
    }

    #[test]
    fn v1_only() {
        let f = Facts {
            v1_mounted: true,
            ..Default::default()
        };
        let (cause, fix) = diagnose(&f, &memory()).unwrap();
        assert!(cause.contains("no cgroup v2 hierarchy"), "{cause}");
        assert!(
            fix.contains("systemd-run --user --scope -p Delegate=yes"),
            "{fix}"
        );
    }

    #[test]
    fn hybrid_names_the_v1_controllers() {
        // This CI machine: cgroup2 at /sys/fs/cgroup/unified with hugetlb only.
        let f = Facts {
            v2_path: Some("/".into()),
            mount: Some("/sys/fs/cgroup/unified".into()),
            v1_mounted: true,
            controllers: vec!["hugetlb".into()],
            writable: false,
        };
        let limits = CgroupLimits {
            memory: Some(1),
            pids_max: Some(5),
            ..Default::default()
        };
        let (cause, fix) = diagnose(&f, &limits).unwrap();
        assert_eq!(
            cause,
            "this host uses cgroup v1 (a hybrid layout: the memory and pids controllers are bound to cgroup v1, and the cgroup v2 hierarchy at /sys/fs/cgroup/unified has none of them)"
        );
        assert!(fix.contains("systemd.unified_cgroup_hierarchy=1"), "{fix}");
        assert!(
            fix.contains("systemd-run --user --scope -p Delegate=yes"),
            "{fix}"
        );
    }

    #[test]
    fn v2_not_delegated_or_missing_controller() {
        let mut f = Facts {
            v2_path: Some("/user.slice/user-1000.slice/session-2.scope".into()),
            mount: Some("/sys/fs/cgroup".into()),
            v1_mounted: false,
            controllers: vec!["memory".into(), "pids".into()],
            writable: false,
        };
        let (cause, _) = diagnose(&f, &memory()).unwrap();
        assert_eq!(
            cause,
            "the cgroup sandwrap runs in (/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope) is not delegated to this user (not writable)"
        );
        f.writable = true;
        assert_eq!(diagnose(&f, &memory()), None);
        let cpus = CgroupLimits {
            cpus_milli: Some(500),
            ..Default::default()
        };
        let (cause, fix) = diagnose(&f, &cpus).unwrap();
        assert!(
            cause.starts_with("the cpu controller is not enabled"),
            "{cause}"
        );
        assert!(fix.contains("Delegate=yes"), "{fix}");
    }
}
