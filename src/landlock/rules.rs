//! Filesystem rules: explicit ones from `--landlock-ro`/`-rw`, or ones
//! derived from the filesystem options so that landlock allows what the
//! new root's mounts allow, and nothing else.

use std::path::{Component, Path, PathBuf};

use super::rights::Rights;
use crate::spec::{BindMode, FsOp, LandlockAccess, LandlockRule, OverlayKind};

/// What to do when a rule's path cannot be opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// The user named the path: an error.
    Required,
    /// Only there if its source was (`--bind-try`): skipped when missing.
    IfExists,
    /// Derived by sandwrap: a warning (an error with `--landlock-strict`).
    Reported,
}

/// Allow `rights` beneath `path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub path: PathBuf,
    pub rights: Rights,
    pub need: Need,
    /// The option the rule comes from, for messages (`--ro-bind /usr /usr`).
    pub origin: String,
}

/// A lexically normal absolute path: `/a/./b/../c` is `/a/c`.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

/// Whether `path` is `base` or lies beneath it (both normalized).
pub fn is_beneath(path: &Path, base: &Path) -> bool {
    path.starts_with(base)
}

pub fn rights_of(access: LandlockAccess) -> Rights {
    match access {
        LandlockAccess::ReadOnly => Rights::READ_EXEC,
        LandlockAccess::ReadWrite => Rights::ALL,
        LandlockAccess::ReadOnlyNoExec => Rights::READ,
        LandlockAccess::ReadWriteNoExec => Rights::ALL & !Rights::EXECUTE,
    }
}

pub fn option_name(access: LandlockAccess) -> &'static str {
    match access {
        LandlockAccess::ReadOnly => "--landlock-ro",
        LandlockAccess::ReadWrite => "--landlock-rw",
        LandlockAccess::ReadOnlyNoExec => "--landlock-ro-noexec",
        LandlockAccess::ReadWriteNoExec => "--landlock-rw-noexec",
    }
}

/// The user's own rules, exactly as given.
pub fn explicit(rules: &[LandlockRule]) -> Vec<Rule> {
    rules
        .iter()
        .map(|r| Rule {
            path: normalize(&r.path),
            rights: rights_of(r.access),
            need: Need::Required,
            origin: format!("{} {}", option_name(r.access), r.path.display()),
        })
        .collect()
}

/// How a filesystem operation shapes the view, for derivation.
enum Effect {
    /// A new mount on the path: it hides what was beneath, and allows `Rights`.
    Mount(Rights, Need),
    /// Something created in place (a directory or file); allowed unless
    /// an earlier rule already covers it.
    Create(Rights),
    /// The mount on the path became read-only.
    ReadOnly,
    None,
}

/// What a bind of this kind lets the command do beneath it.
pub fn bind_rights(mode: BindMode) -> Rights {
    match mode {
        BindMode::ReadOnly => Rights::READ_EXEC,
        BindMode::ReadWrite | BindMode::Device => Rights::ALL,
    }
}

/// A read-only or writable bind's rights (`--bind-fd`, `--bind-data`).
pub fn ro_rights(read_only: bool) -> Rights {
    bind_rights(if read_only {
        BindMode::ReadOnly
    } else {
        BindMode::ReadWrite
    })
}

fn effect(op: &FsOp) -> Effect {
    match op {
        FsOp::Bind {
            mode,
            allow_missing,
            ..
        } => Effect::Mount(
            bind_rights(*mode),
            if *allow_missing {
                Need::IfExists
            } else {
                Need::Reported
            },
        ),
        FsOp::BindFd { read_only, .. } | FsOp::BindData { read_only, .. } => {
            Effect::Mount(ro_rights(*read_only), Need::Reported)
        }
        FsOp::Tmpfs { .. } | FsOp::Dev { .. } | FsOp::Mqueue { .. } => {
            Effect::Mount(Rights::ALL, Need::Reported)
        }
        FsOp::Proc { .. } => Effect::Mount(Rights::PROC, Need::Reported),
        FsOp::Overlay { kind, .. } => match kind {
            OverlayKind::ReadOnly => Effect::Mount(Rights::READ_EXEC, Need::Reported),
            _ => Effect::Mount(Rights::ALL, Need::Reported),
        },
        FsOp::Dir { .. } | FsOp::File { .. } => Effect::Create(Rights::ALL),
        FsOp::RemountRo { .. } => Effect::ReadOnly,
        FsOp::Symlink { .. } | FsOp::Chmod { .. } => Effect::None,
    }
}

/// A short description of an operation for messages.
pub fn describe(op: &FsOp) -> String {
    let d = op.dest().display();
    match op {
        FsOp::Bind {
            src,
            mode,
            allow_missing,
            ..
        } => {
            let name = match mode {
                BindMode::ReadWrite => "bind",
                BindMode::ReadOnly => "ro-bind",
                BindMode::Device => "dev-bind",
            };
            let tr = if *allow_missing { "-try" } else { "" };
            format!("--{name}{tr} {} {d}", src.display())
        }
        FsOp::BindFd { fd, read_only, .. } => {
            format!("--{}bind-fd {fd} {d}", if *read_only { "ro-" } else { "" })
        }
        FsOp::RemountRo { .. } => format!("--remount-ro {d}"),
        FsOp::Tmpfs { .. } => format!("--tmpfs {d}"),
        FsOp::Proc { .. } => format!("--proc {d}"),
        FsOp::Dev { .. } => format!("--dev {d}"),
        FsOp::Mqueue { .. } => format!("--mqueue {d}"),
        FsOp::Dir { .. } => format!("--dir {d}"),
        FsOp::File { fd, .. } => format!("--file {fd} {d}"),
        FsOp::BindData { fd, read_only, .. } => format!(
            "--{}bind-data {fd} {d}",
            if *read_only { "ro-" } else { "" }
        ),
        FsOp::Symlink { target, .. } => format!("--symlink {} {d}", target.display()),
        FsOp::Chmod { perms, .. } => format!("--chmod {perms:o} {d}"),
        FsOp::Overlay { kind, .. } => match kind {
            OverlayKind::Persistent { upper, work } => {
                format!("--overlay {} {} {d}", upper.display(), work.display())
            }
            OverlayKind::Temporary => format!("--tmp-overlay {d}"),
            OverlayKind::ReadOnly => format!("--ro-overlay {d}"),
        },
    }
}

/// Rules that allow what the new root's mounts allow: read and execute
/// under read-only mounts, everything under writable ones (binds, tmpfs,
/// overlays, created directories and files), what procfs needs under a
/// new /proc, and listing the root itself when nothing is mounted on it.
/// A later mount on a path replaces the rules at or beneath it, as it hides
/// what they named.
pub fn derive(ops: &[FsOp]) -> Vec<Rule> {
    let mut rules: Vec<Rule> = Vec::new();
    for op in ops {
        let dest = normalize(op.dest());
        let origin = describe(op);
        match effect(op) {
            Effect::Mount(rights, need) => {
                rules.retain(|r| !is_beneath(&r.path, &dest));
                rules.push(Rule {
                    path: dest,
                    rights,
                    need,
                    origin,
                });
            }
            Effect::Create(rights) => {
                if !rules.iter().any(|r| is_beneath(&dest, &r.path)) {
                    rules.push(Rule {
                        path: dest,
                        rights,
                        need: Need::Reported,
                        origin,
                    });
                }
            }
            Effect::ReadOnly => {
                for r in rules.iter_mut().filter(|r| r.path == dest) {
                    r.rights = r.rights & Rights::READ_EXEC;
                }
            }
            Effect::None => {}
        }
    }
    let root = Path::new("/");
    if !rules.iter().any(|r| r.path == root) {
        // The root tmpfs: listing it is harmless and expected (`ls /`);
        // anything written there would be a setup artefact.
        rules.insert(
            0,
            Rule {
                path: root.into(),
                rights: Rights::READ_DIR,
                need: Need::Reported,
                origin: "the new root".into(),
            },
        );
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(src: &str, dest: &str, mode: BindMode) -> FsOp {
        FsOp::Bind {
            src: src.into(),
            dest: dest.into(),
            mode,
            allow_missing: false,
        }
    }

    fn paths(rules: &[Rule]) -> Vec<(String, Rights)> {
        rules
            .iter()
            .map(|r| (r.path.display().to_string(), r.rights))
            .collect()
    }

    #[test]
    fn normalizes_lexically() {
        assert_eq!(normalize(Path::new("/a/./b/../c/")), PathBuf::from("/a/c"));
        assert_eq!(normalize(Path::new("a//b")), PathBuf::from("/a/b"));
        assert_eq!(normalize(Path::new("/..")), PathBuf::from("/"));
        assert!(is_beneath(Path::new("/a/b"), Path::new("/a")));
        assert!(!is_beneath(Path::new("/ab"), Path::new("/a")));
        assert!(is_beneath(Path::new("/x"), Path::new("/")));
    }

    #[test]
    fn typical_view() {
        let ops = vec![
            bind("/usr", "/usr", BindMode::ReadOnly),
            FsOp::Symlink {
                target: "usr/bin".into(),
                dest: "/bin".into(),
            },
            FsOp::Tmpfs {
                dest: "/tmp".into(),
                perms: None,
                size: None,
            },
            FsOp::Proc {
                dest: "/proc".into(),
            },
            FsOp::Dev {
                dest: "/dev".into(),
            },
            bind("/home/u/p", "/home/u/p", BindMode::ReadWrite),
            FsOp::Dir {
                dest: "/run/user".into(),
                perms: None,
            },
        ];
        assert_eq!(
            paths(&derive(&ops)),
            vec![
                ("/".into(), Rights::READ_DIR),
                ("/usr".into(), Rights::READ_EXEC),
                ("/tmp".into(), Rights::ALL),
                ("/proc".into(), Rights::PROC),
                ("/dev".into(), Rights::ALL),
                ("/home/u/p".into(), Rights::ALL),
                ("/run/user".into(), Rights::ALL),
            ]
        );
    }

    #[test]
    fn later_mounts_hide_earlier_rules() {
        let ops = vec![
            bind("/a", "/x/y", BindMode::ReadWrite),
            bind("/b", "/x", BindMode::ReadOnly),
            bind("/c", "/z", BindMode::ReadWrite),
            bind("/d", "/z", BindMode::ReadOnly),
        ];
        assert_eq!(
            paths(&derive(&ops)),
            vec![
                ("/".into(), Rights::READ_DIR),
                ("/x".into(), Rights::READ_EXEC),
                ("/z".into(), Rights::READ_EXEC)
            ]
        );
    }

    #[test]
    fn bound_root_needs_no_listing_rule() {
        let ops = vec![
            bind("/", "/", BindMode::ReadOnly),
            FsOp::Dir {
                dest: "/tmp".into(),
                perms: None,
            },
        ];
        // /tmp already lies under the read-only root: creating it there adds nothing.
        assert_eq!(paths(&derive(&ops)), vec![("/".into(), Rights::READ_EXEC)]);
    }

    #[test]
    fn remount_ro_and_try() {
        let ops = vec![
            FsOp::Bind {
                src: "/opt".into(),
                dest: "/opt".into(),
                mode: BindMode::ReadWrite,
                allow_missing: true,
            },
            FsOp::RemountRo {
                dest: "/opt/".into(),
            },
            FsOp::Overlay {
                sources: vec!["/l".into()],
                kind: OverlayKind::Temporary,
                dest: "/o".into(),
            },
        ];
        let rules = derive(&ops);
        assert_eq!(rules[1].rights, Rights::READ_EXEC);
        assert_eq!(rules[1].need, Need::IfExists);
        assert_eq!(rules[1].origin, "--bind-try /opt /opt");
        assert_eq!(rules[2].rights, Rights::ALL);
    }

    #[test]
    fn explicit_rules_map_access() {
        let given = [
            ("/", LandlockAccess::ReadOnly),
            ("/tmp", LandlockAccess::ReadWrite),
            ("/data", LandlockAccess::ReadOnlyNoExec),
            ("/out", LandlockAccess::ReadWriteNoExec),
        ]
        .map(|(path, access)| LandlockRule {
            path: path.into(),
            access,
        });
        let rules = explicit(&given);
        assert_eq!(rules[0].rights, Rights::READ_EXEC);
        assert_eq!(rules[1].rights, Rights::ALL);
        assert_eq!(rules[2].rights, Rights::READ);
        assert!(
            !rules[3].rights.contains(Rights::EXECUTE)
                && rules[3].rights.contains(Rights::MAKE_REG)
        );
        assert!(rules.iter().all(|r| r.need == Need::Required));
        assert_eq!(rules[1].origin, "--landlock-rw /tmp");
    }
}
