//! Why a user namespace could not be created, and how to fix it.
//! `facts()` reads the host; `diagnose()` is pure, so every cause is
//! unit-tested.

use std::path::Path;

pub(crate) use crate::hostio::read_trimmed as read;

/// What the host says about user namespaces.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// The errno of the failed clone/unshare.
    pub errno: i32,
    pub apparmor_restrict: Option<String>,
    pub max_user_namespaces: Option<String>,
    pub unprivileged_userns_clone: Option<String>,
    /// `/proc/self/uid_map`: anything but the full identity map means we
    /// already run inside a user namespace (container or sandbox).
    pub uid_map: Option<String>,
    /// `Seccomp:` of /proc/self/status (2: a filter is installed).
    pub seccomp: Option<String>,
    /// /.dockerenv, /run/.containerenv or `container=` in pid 1's environment.
    pub container_marker: Option<String>,
}

pub fn facts(errno: i32) -> Facts {
    let seccomp = read("/proc/self/status").and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Seccomp:").map(|v| v.trim().to_owned()))
    });
    let container_marker = if Path::new("/.dockerenv").exists() {
        Some("docker".into())
    } else if Path::new("/run/.containerenv").exists() {
        Some("podman".into())
    } else {
        std::fs::read("/proc/1/environ").ok().and_then(|env| {
            env.split(|&b| b == 0)
                .find_map(|kv| kv.strip_prefix(b"container="))
                .map(|v| String::from_utf8_lossy(v).into_owned())
        })
    };
    Facts {
        errno,
        apparmor_restrict: read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
        max_user_namespaces: read("/proc/sys/user/max_user_namespaces"),
        unprivileged_userns_clone: read("/proc/sys/kernel/unprivileged_userns_clone"),
        uid_map: read("/proc/self/uid_map"),
        seccomp,
        container_marker,
    }
}

/// The cause found, and what fixes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnosis {
    pub cause: String,
    pub fix: String,
}

fn is_identity_map(map: &str) -> bool {
    let fields: Vec<&str> = map.split_whitespace().collect();
    fields == ["0", "0", "4294967295"]
}

pub fn diagnose(f: &Facts) -> Diagnosis {
    let d = |cause: &str, fix: &str| Diagnosis {
        cause: cause.into(),
        fix: fix.into(),
    };
    if f.apparmor_restrict.as_deref() == Some("1") {
        return d(
            "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)",
            "run 'sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0', or give sandwrap an AppArmor \
             profile allowing them: /etc/apparmor.d/sandwrap containing \
             'abi <abi/4.0>, include <tunables/global> profile sandwrap /usr/bin/sandwrap flags=(unconfined) { userns, }' \
             (with sandwrap's real path), then 'sudo apparmor_parser -r /etc/apparmor.d/sandwrap'",
        );
    }
    let nested = f.uid_map.as_deref().is_some_and(|m| !is_identity_map(m));
    let outer_forbids = |how: &str| {
        d(
            &format!(
                "sandwrap runs nested in a sandbox (or container) that forbids user namespaces \
                 ({how})"
            ),
            "ask the outer sandbox to allow nested user namespaces: start it without \
             --disable-userns (bwrap, sandwrap), or with nesting allowed (a container's \
             settings), or run sandwrap outside it",
        )
    };
    if f.max_user_namespaces.as_deref() == Some("0") {
        // Inside a user namespace the sysctl is that namespace's own limit:
        // the host's setting is not what stops us.
        if nested {
            return outer_forbids("user.max_user_namespaces is 0 in its user namespace");
        }
        return d(
            "user namespaces are disabled (user.max_user_namespaces=0)",
            "run 'sudo sysctl user.max_user_namespaces=15000'",
        );
    }
    if f.unprivileged_userns_clone.as_deref() == Some("0") {
        return d(
            "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0)",
            "run 'sudo sysctl kernel.unprivileged_userns_clone=1'",
        );
    }
    if f.errno == libc::ENOSPC || f.errno == libc::EUSERS {
        if nested {
            return outer_forbids(
                "the limit on nested user namespaces is reached, as with bwrap or sandwrap \
                 --disable-userns",
            );
        }
        return d(
            "the limit on user namespaces is reached (user.max_user_namespaces)",
            "raise it: 'sudo sysctl user.max_user_namespaces=15000'",
        );
    }
    if let Some(kind) = &f.container_marker {
        return d(
            &format!(
                "this runs in a container ({kind}) whose security policy forbids user namespaces"
            ),
            "start the container with user namespaces allowed: docker/podman '--security-opt seccomp=unconfined \
             --security-opt apparmor=unconfined' (or a seccomp profile allowing clone/unshare with CLONE_NEWUSER), \
             LXC/Incus 'security.nesting=true'",
        );
    }
    if nested {
        return d(
            "this runs inside a user namespace (a container or another sandbox) that does not allow nesting",
            "run sandwrap outside it, or configure the container to allow nested user namespaces",
        );
    }
    if f.seccomp.as_deref() == Some("2") {
        return d(
            "a seccomp filter on this process forbids creating namespaces",
            "run sandwrap without that filter (check the service manager's or container's seccomp settings)",
        );
    }
    d(
        &format!("the kernel refused ({})", crate::errno_text(f.errno)),
        "check that the kernel has CONFIG_USER_NS and that no security module forbids user namespaces",
    )
}

/// One extra sentence naming the cause found on this host, if any (for the
/// clone error, which keeps bwrap's wording before it).
pub fn userns_hint(errno: i32) -> String {
    let dg = diagnose(&facts(errno));
    if dg.cause.starts_with("the kernel refused") {
        return String::new();
    }
    format!(
        "\nHint: {}; {}. Or add --fallback landlock to run without namespaces, confined by landlock.",
        dg.cause, dg.fix
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Facts {
        Facts {
            errno: libc::EPERM,
            max_user_namespaces: Some("63000".into()),
            uid_map: Some("         0          0 4294967295".into()),
            seccomp: Some("0".into()),
            ..Facts::default()
        }
    }

    #[test]
    fn apparmor_comes_first() {
        let mut f = host();
        f.apparmor_restrict = Some("1".into());
        f.max_user_namespaces = Some("0".into());
        let d = diagnose(&f);
        assert!(d.cause.contains("AppArmor"));
        assert!(
            d.fix.contains("apparmor_restrict_unprivileged_userns=0") && d.fix.contains("userns,")
        );
        f.apparmor_restrict = Some("0".into());
        assert!(diagnose(&f).fix.contains("user.max_user_namespaces=15000"));
    }

    #[test]
    fn debian_sysctl() {
        let mut f = host();
        f.unprivileged_userns_clone = Some("0".into());
        assert!(diagnose(&f).fix.contains("unprivileged_userns_clone=1"));
    }

    #[test]
    fn nested_sandbox_and_containers() {
        let mut f = host();
        f.errno = libc::ENOSPC;
        assert!(diagnose(&f).fix.contains("user.max_user_namespaces=15000"));
        f.uid_map = Some("1000 0 1".into());
        let d = diagnose(&f);
        assert!(
            d.cause.starts_with("sandwrap runs nested in a sandbox"),
            "{d:?}"
        );
        assert!(
            d.cause.contains("--disable-userns") && !d.fix.contains("sysctl"),
            "{d:?}"
        );
        // The sysctl read inside a user namespace is that namespace's limit.
        f.max_user_namespaces = Some("0".into());
        let d = diagnose(&f);
        assert!(
            d.cause
                .contains("user.max_user_namespaces is 0 in its user namespace")
        );
        assert!(
            d.fix.contains("ask the outer sandbox") && !d.fix.contains("sysctl"),
            "{d:?}"
        );
        f.max_user_namespaces = Some("63000".into());
        f.errno = libc::EPERM;
        assert!(diagnose(&f).cause.contains("inside a user namespace"));
        f.container_marker = Some("docker".into());
        let d = diagnose(&f);
        assert!(d.cause.contains("container (docker)") && d.fix.contains("seccomp=unconfined"));
    }

    #[test]
    fn seccomp_and_unknown() {
        let mut f = host();
        f.seccomp = Some("2".into());
        assert!(diagnose(&f).cause.contains("seccomp"));
        f.seccomp = Some("0".into());
        assert!(
            diagnose(&f)
                .cause
                .starts_with("the kernel refused (Operation not permitted)")
        );
    }
}
