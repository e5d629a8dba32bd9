//! `--info-fd` and `--json-status-fd` documents, byte for byte as bwrap
//! writes them.

use std::os::unix::fs::MetadataExt;

use crate::spec::Namespaces;

/// The sandbox's first process and the namespaces it was created in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NsInfo {
    pub child_pid: i32,
    /// `(name, inode)` in bwrap's fixed order: cgroup, ipc, mnt, net, pid, uts
    /// (then sandwrap's time).
    pub namespaces: Vec<(&'static str, u64)>,
}

/// Which namespace keys to report: `mnt` always, the others when created.
pub fn reported(ns: &Namespaces) -> Vec<&'static str> {
    let mut v = Vec::new();
    for (name, on) in [
        ("cgroup", ns.cgroup),
        ("ipc", ns.ipc),
        ("mnt", true),
        ("net", ns.net),
        ("pid", ns.pid),
        ("uts", ns.uts),
        // sandwrap's own, after bwrap's keys.
        ("time", ns.time),
    ] {
        if on {
            v.push(name);
        }
    }
    v
}

pub fn collect(pid: i32, ns: &Namespaces) -> NsInfo {
    let namespaces = reported(ns)
        .into_iter()
        .filter_map(|name| {
            // The first process made the time namespace for its children:
            // it stays outside itself (offsets are set before anyone enters).
            let link = if name == "time" {
                "time_for_children"
            } else {
                name
            };
            let ino = std::fs::metadata(format!("/proc/{pid}/ns/{link}"))
                .ok()?
                .ino();
            (ino != 0).then_some((name, ino))
        })
        .collect();
    NsInfo {
        child_pid: pid,
        namespaces,
    }
}

pub fn info_json(info: &NsInfo) -> String {
    let mut s = format!("{{\n    \"child-pid\": {}", info.child_pid);
    for (name, ino) in &info.namespaces {
        s.push_str(&format!(",\n    \"{name}-namespace\": {ino}"));
    }
    s.push_str("\n}\n");
    s
}

pub fn status_line(info: &NsInfo) -> String {
    let mut s = format!("{{ \"child-pid\": {}", info.child_pid);
    for (name, ino) in &info.namespaces {
        s.push_str(&format!(", \"{name}-namespace\": {ino}"));
    }
    s.push_str(" }\n");
    s
}

pub fn exit_line(code: i32) -> String {
    format!("{{ \"exit-code\": {code} }}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> NsInfo {
        NsInfo {
            child_pid: 42,
            namespaces: vec![("mnt", 4026532187), ("net", 4026532192)],
        }
    }

    #[test]
    fn info_is_indented_like_bwrap() {
        assert_eq!(
            info_json(&sample()),
            "{\n    \"child-pid\": 42,\n    \"mnt-namespace\": 4026532187,\n    \"net-namespace\": 4026532192\n}\n"
        );
    }

    #[test]
    fn status_lines() {
        assert_eq!(
            status_line(&sample()),
            "{ \"child-pid\": 42, \"mnt-namespace\": 4026532187, \"net-namespace\": 4026532192 }\n"
        );
        assert_eq!(exit_line(3), "{ \"exit-code\": 3 }\n");
    }

    #[test]
    fn order_and_selection() {
        let ns = Namespaces {
            net: true,
            cgroup: true,
            uts: true,
            ..Default::default()
        };
        assert_eq!(reported(&ns), ["cgroup", "mnt", "net", "uts"]);
        let ns = Namespaces {
            time: true,
            pid: true,
            ..Default::default()
        };
        assert_eq!(reported(&ns), ["mnt", "pid", "time"]);
    }
}
