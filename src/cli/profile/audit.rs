//! The audit of the built-in profiles (attack class 8, persistence and
//! secrets): for each host path that the host later runs, sources or trusts,
//! or that holds a secret, what the resolved sandbox gives the command.
//!
//! A pure function over the parsed `Spec`: a bind of host SRC at DEST shows
//! host path H (at or under SRC) at DEST/(H - SRC), unless a later mount at
//! that path or above it covers it; a later `--remount-ro` there makes it
//! read-only. Binds of a part of H (SRC under H) expose that part only and
//! are judged by their own path.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::{BUILTINS, ProfileEnv, Vars, load};
use crate::cli::tests::Host;
use crate::spec::{BindMode, EnvOp, FsOp, OverlayKind, Spec};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

impl Access {
    fn text(self) -> &'static str {
        match self {
            Access::Read => "readable",
            Access::Write => "writable",
        }
    }
}

/// What the sandbox gives the command of host path `host` (the strongest
/// of all its exposures), or None.
fn access(spec: &Spec, host: &Path) -> Option<Access> {
    let mut best = None;
    for (i, op) in spec.ops.iter().enumerate() {
        for (src, dest, writable) in exposures(op) {
            let Ok(rest) = host.strip_prefix(src) else {
                continue;
            };
            let seen_at = if rest.as_os_str().is_empty() {
                dest.to_path_buf()
            } else {
                dest.join(rest)
            };
            let mut now = Some(if writable {
                Access::Write
            } else {
                Access::Read
            });
            for later in &spec.ops[i + 1..] {
                if !seen_at.starts_with(later.dest()) {
                    continue;
                }
                match later {
                    FsOp::RemountRo { .. } => now = now.map(|_| Access::Read),
                    FsOp::Chmod { .. } | FsOp::Dir { .. } | FsOp::Symlink { .. } => {}
                    // Anything else mounted there or above hides it.
                    _ => now = None,
                }
            }
            best = best.max(now.map(|a| a == Access::Write));
        }
    }
    best.map(|w| if w { Access::Write } else { Access::Read })
}

/// (host source, sandbox destination, writable) of what `op` shows.
fn exposures(op: &FsOp) -> Vec<(&Path, &Path, bool)> {
    match op {
        FsOp::Bind {
            src, dest, mode, ..
        } => vec![(src, dest, *mode != BindMode::ReadOnly)],
        FsOp::Overlay {
            sources,
            kind,
            dest,
        } => {
            let mut out: Vec<(&Path, &Path, bool)> = sources
                .iter()
                .map(|s| (s.as_path(), dest.as_path(), false))
                .collect();
            if let OverlayKind::Persistent { upper, .. } = kind {
                out.push((upper, dest, true));
            }
            out
        }
        _ => Vec::new(),
    }
}

/// Host paths the command must never write: the host later runs them,
/// sources them, or trusts them as configuration. `~` is $HOME.
const NO_WRITE: &[&str] = &[
    "~/.cargo/bin",
    "~/.cargo/config",
    "~/.cargo/config.toml",
    "~/.cargo/env",
    "~/go/bin",
    "~/.local/bin",
    "~/bin",
    "~/.npm-global",
    "~/.bashrc",
    "~/.bash_profile",
    "~/.bash_login",
    "~/.bash_logout",
    "~/.profile",
    "~/.zshrc",
    "~/.zshenv",
    "~/.zprofile",
    "~/.zlogin",
    "~/.config/fish",
    "~/.pam_environment",
    "~/.xprofile",
    "~/.xsession",
    "~/.xinitrc",
    "~/.config/autostart",
    "~/.config/systemd",
    "~/.config/environment.d",
    "~/.local/share/applications",
    "~/.gitconfig",
    "~/.config/git",
    "~/.vimrc",
    "~/.config/nvim",
    "~/.cache",
    "~/.npm",
    "~/go",
    "~/.cargo",
    "~/.rustup",
    "~/.ssh/authorized_keys",
    "~/.ssh/config",
];

/// Inside the current directory: what a VCS command, entering the directory
/// or opening it in an editor runs on the host. `$PWD` is the directory.
const NO_WRITE_IN_PWD: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    ".bzr",
    ".jj",
    ".husky",
    ".githooks",
    ".pre-commit-config.yaml",
    ".envrc",
    ".direnv",
    "mise.toml",
    ".mise.toml",
    ".vscode",
    ".idea",
    ".devcontainer",
    ".nvim.lua",
    ".nvimrc",
    ".exrc",
];

/// Without network nothing is fetched: the bare git clones the host's git
/// later fetches into (running their hooks and config) stay read-only.
const NO_WRITE_OFFLINE: &[&str] = &["~/.cargo/git/db", "~/go/pkg/mod/cache/vcs"];

/// Secrets: not even readable.
const NO_READ: &[&str] = &[
    "~/.ssh",
    "~/.gnupg",
    "~/.cargo/credentials",
    "~/.cargo/credentials.toml",
    "~/.netrc",
    "~/.npmrc",
    "~/.pypirc",
    "~/.git-credentials",
    "~/.config/git/credentials",
    "~/.docker",
    "~/.aws",
    "~/.kube",
    "~/.azure",
    "~/.config/gcloud",
    "~/.config/gh",
    "~/.password-store",
    "~/.local/share/keyrings",
    "~/.mozilla",
    "~/.config/google-chrome",
    "~/.config/chromium",
    "~/.bash_history",
    "~/.zsh_history",
];

/// Caller variables that are secrets: none may reach the command of the
/// profiles that clear the environment.
const SECRET_VARS: &[&str] = &[
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "SSH_AUTH_SOCK",
    "GPG_AGENT_INFO",
    "CARGO_REGISTRY_TOKEN",
    "NPM_TOKEN",
    "DBUS_SESSION_BUS_ADDRESS",
    "KUBECONFIG",
];

const HOME: &str = "/home/u";
const PWD: &str = "/home/u/proj";

fn host(p: &str) -> PathBuf {
    match p.strip_prefix('~') {
        Some(rest) => PathBuf::from(format!("{HOME}{rest}")),
        None => PathBuf::from(p),
    }
}

/// A built-in profile's resolved spec, for a caller in ~/proj.
fn resolved(name: &str) -> Spec {
    let env = ProfileEnv {
        vars: Vars {
            home: Some(HOME.into()),
            pwd: Some(PWD.into()),
            xdg_runtime_dir: Some("/run/user/1000".into()),
            uid: 1000,
            app: Some("app".into()),
            wayland_display: None,
        },
        ..Default::default()
    };
    let words: Vec<String> = load(name, &env)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .into_iter()
        .map(|w| w.into_string().expect("utf8"))
        .chain(["true".to_string()])
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    Host::user().spec(&words)
}

/// Every violation of the deny-lists by `spec`, as readable lines.
fn violations(spec: &Spec) -> Vec<String> {
    let mut out = Vec::new();
    let in_pwd = NO_WRITE_IN_PWD.iter().map(|n| format!("{PWD}/{n}"));
    // Offline: a network namespace without pasta's link out.
    let offline: &[&str] = if spec.namespaces.net && !spec.network.pasta {
        NO_WRITE_OFFLINE
    } else {
        &[]
    };
    for path in NO_WRITE
        .iter()
        .chain(offline)
        .map(|p| host(p).display().to_string())
        .chain(in_pwd)
    {
        if access(spec, Path::new(&path)) == Some(Access::Write) {
            out.push(format!("{path} is writable"));
        }
    }
    for p in NO_READ {
        let path = host(p);
        if let Some(a) = access(spec, &path) {
            out.push(format!("{} is {}", path.display(), a.text()));
        }
    }
    out
}

#[test]
fn the_audit_sees_writes_reads_and_covers() {
    // A check of the checker, on hand-made specs.
    let bind = |src: &str, dest: &str, mode| FsOp::Bind {
        src: src.into(),
        dest: dest.into(),
        mode,
        allow_missing: true,
    };
    let mut spec = Spec {
        ops: vec![bind(HOME, HOME, BindMode::ReadWrite)],
        ..Default::default()
    };
    let v = violations(&spec);
    assert!(v.contains(&format!("{HOME}/.bashrc is writable")), "{v:?}");
    assert!(v.contains(&format!("{HOME}/.ssh is writable")), "{v:?}");
    assert!(v.contains(&format!("{PWD}/.git is writable")), "{v:?}");
    // Covered by a tmpfs above it: nothing left.
    spec.ops.push(FsOp::Tmpfs {
        dest: HOME.into(),
        perms: None,
        size: None,
    });
    assert_eq!(violations(&spec), Vec::<String>::new());
    // A read-only bind elsewhere still shows the secret; a remount makes a
    // writable bind read-only.
    spec.ops
        .push(bind(&format!("{HOME}/.ssh"), "/keys", BindMode::ReadOnly));
    spec.ops.push(bind(
        &format!("{HOME}/.local/bin"),
        "/c",
        BindMode::ReadWrite,
    ));
    assert_eq!(
        violations(&spec),
        [
            format!("{HOME}/.local/bin is writable"),
            format!("{HOME}/.ssh is readable")
        ]
    );
    spec.ops.push(FsOp::RemountRo { dest: "/c".into() });
    assert_eq!(violations(&spec), [format!("{HOME}/.ssh is readable")]);
    // A part of a denied directory is judged by its own path.
    let spec = Spec {
        ops: vec![bind(
            &format!("{HOME}/.cargo/registry"),
            "/r",
            BindMode::ReadWrite,
        )],
        ..Default::default()
    };
    assert_eq!(violations(&spec), Vec::<String>::new());
    assert_eq!(
        access(&spec, Path::new("/home/u/.cargo/registry/src/x")),
        Some(Access::Write)
    );
}

#[test]
fn no_builtin_profile_exposes_persistence_targets_or_secrets() {
    let mut failures = Vec::new();
    for (name, _) in BUILTINS {
        let spec = resolved(name);
        failures.extend(
            violations(&spec)
                .into_iter()
                .map(|v| format!("{name}: {v}")),
        );
        // What they are for stays possible.
        let mut want = |path: &str, access_wanted: Access| {
            let got = access(&spec, &host(path));
            if got != Some(access_wanted) {
                failures.push(format!(
                    "{name}: {path} is {got:?}, wanted {access_wanted:?}"
                ));
            }
        };
        if matches!(*name, "untrusted" | "build" | "ci") {
            want(&format!("{PWD}/src/main.rs"), Access::Write);
            want(&format!("{PWD}/.git"), Access::Read);
        }
        if matches!(*name, "build" | "ci") {
            for cache in [
                "~/.cargo/registry",
                "~/.cargo/git",
                "~/go/pkg/mod",
                "~/.npm/_cacache",
            ] {
                want(cache, Access::Write);
            }
            for tool in ["~/.cargo/bin/cargo", "~/.rustup/toolchains"] {
                want(tool, Access::Read);
            }
            // Bare clones: read in a build, written by a fetch in ci.
            let fetches = if *name == "ci" {
                Access::Write
            } else {
                Access::Read
            };
            want("~/.cargo/git/db/x", fetches);
            want("~/go/pkg/mod/cache/vcs/x", fetches);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn untrusted_build_and_ci_pass_no_secret_variables() {
    let caller: Vec<(OsString, OsString)> = SECRET_VARS
        .iter()
        .map(|v| (OsString::from(v), OsString::from("secret")))
        .chain(
            [("PATH", "/usr/bin"), ("LC_ALL", "C"), ("TERM", "xterm")]
                .map(|(k, v)| (k.into(), v.into())),
        )
        .collect();
    for name in ["untrusted", "build", "ci"] {
        let spec = resolved(name);
        assert_eq!(spec.env.first(), Some(&EnvOp::Clear), "{name}");
        let env = crate::spec::build_env(caller.clone(), &spec.env);
        let names: Vec<&str> = env.iter().map(|(k, _)| k.to_str().expect("utf8")).collect();
        assert_eq!(names, ["PATH", "LC_ALL", "TERM"], "{name}");
    }
}

#[test]
fn every_builtin_tmpfs_has_a_size() {
    for (name, _) in BUILTINS {
        for op in &resolved(name).ops {
            if let FsOp::Tmpfs { dest, size, .. } = op {
                let size =
                    size.unwrap_or_else(|| panic!("{name}: tmpfs {} has no size", dest.display()));
                assert!(size <= 1 << 30, "{name}: {}: {size}", dest.display());
            }
        }
    }
}

#[test]
fn ci_has_pasta_and_cuts_off_abstract_unix_sockets() {
    let spec = resolved("ci");
    assert!(
        spec.namespaces.net && spec.network.pasta,
        "ci's network is pasta's"
    );
    assert!(!spec.network.allow_host_loopback);
    // For `--profile ci --network host`.
    assert!(spec.landlock.net.scope_abstract_unix);
}

#[test]
fn nothing_the_command_starts_outlives_untrusted_build_or_ci() {
    for name in ["untrusted", "build", "ci"] {
        let spec = resolved(name);
        assert!(spec.end_with_command, "{name}: end-with-command is off");
    }
}
