//! `--fallback landlock`: without namespaces there is no new root, so each
//! filesystem option becomes the closest rule on the host's own paths, and
//! every option that cannot be honoured is named.

use std::path::{Path, PathBuf};

use super::rights::Rights;
use super::rules::{Need, Rule, bind_rights, describe, is_beneath, normalize, ro_rights};
use crate::spec::{FsOp, Spec, dev};

/// Host rules for the filesystem options, and one message per option (or
/// part of one) that cannot be honoured.
pub fn host_rules(ops: &[FsOp], cwd: &Path) -> (Vec<Rule>, Vec<String>) {
    let mut rules: Vec<Rule> = Vec::new();
    let mut lost = Vec::new();
    // (sandbox destination, index in `rules`) of each bind, for --remount-ro.
    let mut bound: Vec<(PathBuf, usize)> = Vec::new();
    for op in ops {
        let dest = normalize(op.dest());
        let what = describe(op);
        match op {
            FsOp::Bind {
                src,
                mode,
                allow_missing,
                ..
            } => {
                // A relative source is the caller's, as in namespaced mode.
                let src = normalize(&cwd.join(src));
                let rights = bind_rights(*mode);
                if src != dest {
                    lost.push(format!(
                        "{what}: nothing can be mounted on {} without a mount namespace; {} is allowed at its own path",
                        dest.display(),
                        src.display()
                    ));
                }
                let need = if *allow_missing {
                    Need::IfExists
                } else {
                    Need::Required
                };
                bound.push((dest.clone(), rules.len()));
                rules.push(Rule {
                    path: src,
                    rights,
                    need,
                    origin: what,
                });
            }
            FsOp::BindFd { fd, read_only, .. } => {
                lost.push(format!("{what}: nothing can be mounted without a mount namespace; fd {fd} is allowed as it is"));
                let rights = ro_rights(*read_only);
                let path = PathBuf::from(format!("/proc/self/fd/{fd}"));
                rules.push(Rule {
                    path,
                    rights,
                    need: Need::Required,
                    origin: what,
                });
            }
            FsOp::RemountRo { .. } => {
                let mut narrowed = false;
                for (_, i) in bound.iter().filter(|(d, _)| *d == dest) {
                    rules[*i].rights = rules[*i].rights & Rights::READ_EXEC;
                    narrowed = true;
                }
                if !narrowed {
                    lost.push(format!("{what}: cannot remount without a mount namespace"));
                }
            }
            FsOp::Proc { .. } => {
                if dest != Path::new("/proc") {
                    lost.push(format!("{what}: the host's /proc is used instead"));
                }
                rules.push(Rule {
                    path: "/proc".into(),
                    rights: Rights::PROC,
                    need: Need::Reported,
                    origin: what,
                });
            }
            FsOp::Dev { .. } => {
                if dest != Path::new("/dev") {
                    lost.push(format!("{what}: the host's /dev is used instead"));
                }
                // What `--dev` makes, allowed one by one on the host's /dev.
                for node in dev::NODES.iter().chain([&dev::PTMX]) {
                    let path = PathBuf::from("/dev").join(node);
                    rules.push(Rule {
                        path,
                        rights: Rights::FILE,
                        need: Need::Reported,
                        origin: what.clone(),
                    });
                }
                for dir in dev::DIRS {
                    let path = PathBuf::from("/dev").join(dir);
                    rules.push(Rule {
                        path,
                        rights: Rights::ALL,
                        need: Need::Reported,
                        origin: what.clone(),
                    });
                }
            }
            FsOp::Tmpfs { .. } | FsOp::Mqueue { .. } | FsOp::Overlay { .. } => {
                lost.push(format!(
                    "{what}: cannot mount without a mount namespace; {} is not allowed",
                    dest.display()
                ));
            }
            FsOp::Dir { .. }
            | FsOp::File { .. }
            | FsOp::BindData { .. }
            | FsOp::Symlink { .. }
            | FsOp::Chmod { .. } => {
                lost.push(format!("{what}: not done (it would change the host)"));
            }
        }
    }
    // A read-only mount narrows what lies beneath it; rules only add up,
    // so a rule without write rights beneath a writable one narrows nothing.
    let writes = |r: Rights| r & !Rights::READ_EXEC;
    for (i, inner) in rules.iter().enumerate() {
        // A rule for a single file only carries file rights.
        let applicable = if Rights::FILE.contains(inner.rights) {
            Rights::FILE
        } else {
            Rights::ALL
        };
        let wider = rules.iter().enumerate().find(|(j, outer)| {
            *j != i
                && outer.path != inner.path
                && is_beneath(&inner.path, &outer.path)
                && !(writes(outer.rights) & applicable & !inner.rights).is_empty()
        });
        if let Some((_, outer)) = wider {
            lost.push(format!(
                "{}: {} keeps the rights of {} ({}): landlock rules add up",
                inner.origin,
                inner.path.display(),
                outer.path.display(),
                outer.origin
            ));
        }
    }
    (rules, lost)
}

/// The one line the fallback prints about host daemons: landlock (ABI <= 8)
/// does not restrict connecting to pathname unix sockets, so the session
/// bus, ssh-agent, X11 or docker.sock stay reachable wherever their path
/// is; with `--unshare-net`, seccomp refuses unix sockets instead
/// (`seccomp::guard::add_unix_socket_rules`).
pub fn unix_socket_warning(spec: &Spec) -> String {
    let what = "warning: --fallback landlock: landlock does not restrict connecting to pathname unix sockets";
    if spec.namespaces.net {
        format!(
            "{what}: with --unshare-net, creating unix sockets (but connected pairs) is refused instead"
        )
    } else {
        format!(
            "{what}: host daemons (session bus, ssh-agent, X11, docker.sock) stay reachable by their path; --unshare-net refuses unix sockets"
        )
    }
}

/// Options outside the filesystem that need a namespace.
pub fn lost_namespaces(spec: &Spec, caller: (u32, u32)) -> Vec<String> {
    let ns = &spec.namespaces;
    let mut lost = Vec::new();
    if ns.pid {
        lost.push("--unshare-pid: no pid namespace; outside processes stay visible (landlock's signal scope keeps them from being signalled)".into());
    }
    if ns.net {
        lost.push("--unshare-net: no network namespace; landlock denies TCP connect and bind and abstract unix sockets, other protocols (UDP, ICMP) stay usable".into());
    }
    if ns.ipc {
        lost.push("--unshare-ipc: no IPC namespace; the host's System V IPC and POSIX message queues are shared".into());
    }
    if ns.uts || spec.hostname.is_some() {
        lost.push("--unshare-uts/--hostname: no UTS namespace; the host name is the host's".into());
    }
    if ns.cgroup {
        lost.push("--unshare-cgroup: no cgroup namespace".into());
    }
    if spec.uid.is_some_and(|u| u != caller.0) || spec.gid.is_some_and(|g| g != caller.1) {
        lost.push(format!(
            "--uid/--gid: no user namespace; the command runs as uid {} gid {}",
            caller.0, caller.1
        ));
    }
    if spec
        .caps
        .iter()
        .any(|c| matches!(c, crate::spec::CapOp::Add(_) | crate::spec::CapOp::AddAll))
    {
        lost.push("--cap-add: no user namespace, so no capabilities".into());
    }
    if spec.disable_userns || spec.assert_userns_disabled {
        lost.push("--disable-userns: not enforced by sandwrap (user namespaces are unavailable here anyway)".into());
    }
    if spec.join.userns2.is_some() {
        lost.push("--userns2: not joined".into());
    }
    lost
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::BindMode;

    #[test]
    fn relative_sources_are_the_callers_and_remount_ro_follows_the_destination() {
        let ops = vec![
            FsOp::Bind {
                src: "build".into(),
                dest: "/work".into(),
                mode: BindMode::ReadWrite,
                allow_missing: false,
            },
            FsOp::RemountRo {
                dest: "/work".into(),
            },
        ];
        let (rules, lost) = host_rules(&ops, Path::new("/home/u/proj"));
        assert_eq!(rules[0].path, Path::new("/home/u/proj/build"));
        assert_eq!(rules[0].rights, Rights::ALL & Rights::READ_EXEC);
        assert!(
            !lost.iter().any(|l| l.contains("cannot remount")),
            "{lost:?}"
        );
    }

    #[test]
    fn binds_map_to_their_source() {
        let ops = vec![
            FsOp::Bind {
                src: "/usr".into(),
                dest: "/usr".into(),
                mode: BindMode::ReadOnly,
                allow_missing: false,
            },
            FsOp::Bind {
                src: "/home/u/w".into(),
                dest: "/work".into(),
                mode: BindMode::ReadWrite,
                allow_missing: true,
            },
            FsOp::Tmpfs {
                dest: "/tmp".into(),
                perms: None,
                size: None,
            },
            FsOp::Dir {
                dest: "/x".into(),
                perms: None,
            },
        ];
        let (rules, lost) = host_rules(&ops, Path::new("/"));
        assert_eq!(rules.len(), 2);
        assert_eq!(
            (rules[0].path.as_path(), rules[0].rights, rules[0].need),
            (
                std::path::Path::new("/usr"),
                Rights::READ_EXEC,
                Need::Required
            )
        );
        assert_eq!(
            (rules[1].path.as_path(), rules[1].need),
            (std::path::Path::new("/home/u/w"), Need::IfExists)
        );
        assert_eq!(lost.len(), 3, "{lost:?}");
        assert!(lost[0].starts_with("--bind-try /home/u/w /work:"));
        assert!(lost[1].contains("/tmp is not allowed"));
    }

    #[test]
    fn dev_and_proc_become_node_rules() {
        let (rules, lost) = host_rules(
            &[
                FsOp::Dev {
                    dest: "/dev".into(),
                },
                FsOp::Proc {
                    dest: "/proc".into(),
                },
            ],
            Path::new("/"),
        );
        assert!(rules.iter().any(|r| r.path == Path::new("/dev/null") && r.rights == Rights::ALL & Rights::FILE));
        assert!(rules.iter().any(|r| r.path == Path::new("/dev/pts")));
        assert!(!rules.iter().any(|r| r.path == Path::new("/dev")));
        assert!(
            rules
                .iter()
                .any(|r| r.path == Path::new("/proc") && r.rights == Rights::PROC)
        );
        assert!(lost.is_empty(), "{lost:?}");
        // Device nodes beneath a read-only root are wider, not narrower.
        let ops = [
            FsOp::Bind {
                src: "/".into(),
                dest: "/".into(),
                mode: BindMode::ReadOnly,
                allow_missing: false,
            },
            FsOp::Dev {
                dest: "/dev".into(),
            },
        ];
        assert!(host_rules(&ops, Path::new("/")).1.is_empty());
    }

    #[test]
    fn remount_ro_narrows_a_bind() {
        let ops = vec![
            FsOp::Bind {
                src: "/srv".into(),
                dest: "/srv".into(),
                mode: BindMode::ReadWrite,
                allow_missing: false,
            },
            FsOp::RemountRo {
                dest: "/srv".into(),
            },
        ];
        let (rules, lost) = host_rules(&ops, Path::new("/"));
        assert_eq!(rules[0].rights, Rights::READ_EXEC);
        assert!(lost.is_empty());
    }

    #[test]
    fn narrower_nested_rule_is_reported() {
        let ops = vec![
            FsOp::Bind {
                src: "/".into(),
                dest: "/".into(),
                mode: BindMode::ReadWrite,
                allow_missing: false,
            },
            FsOp::Bind {
                src: "/etc".into(),
                dest: "/etc".into(),
                mode: BindMode::ReadOnly,
                allow_missing: false,
            },
            FsOp::Bind {
                src: "/tmp".into(),
                dest: "/tmp".into(),
                mode: BindMode::ReadWrite,
                allow_missing: false,
            },
        ];
        let (_, lost) = host_rules(&ops, Path::new("/"));
        assert_eq!(lost.len(), 1, "{lost:?}");
        assert!(
            lost[0].starts_with("--ro-bind /etc /etc: /etc keeps the rights of / (--bind / /)")
        );
    }

    #[test]
    fn namespaces_are_named() {
        let mut spec = Spec::default();
        spec.namespaces.pid = true;
        spec.namespaces.net = true;
        spec.uid = Some(0);
        let lost = lost_namespaces(&spec, (1000, 1000));
        assert_eq!(lost.len(), 3);
        assert!(lost[2].contains("uid 1000"));
        spec.uid = Some(1000);
        assert_eq!(lost_namespaces(&spec, (1000, 1000)).len(), 2);
    }
}
