//! Why a user namespace could not be created, and how to fix it.

use std::path::Path;

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_owned())
}

/// One extra sentence naming the cause found on this host, if any.
pub fn userns_hint() -> String {
    if read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1") {
        return "\nHint: AppArmor restricts unprivileged user namespaces here \
                (kernel.apparmor_restrict_unprivileged_userns=1). Either run \
                'sysctl kernel.apparmor_restrict_unprivileged_userns=0' or install an AppArmor \
                profile for sandwrap with the 'userns,' rule."
            .into();
    }
    if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        return "\nHint: user.max_user_namespaces is 0 here; run 'sysctl user.max_user_namespaces=15000'.".into();
    }
    if read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        return "\nHint: run 'sysctl kernel.unprivileged_userns_clone=1'.".into();
    }
    if Path::new("/.dockerenv").exists() || Path::new("/run/.containerenv").exists() {
        return "\nHint: this looks like a container whose seccomp or security policy forbids \
                user namespaces; run it with a policy that allows them (e.g. \
                --security-opt seccomp=unconfined)."
            .into();
    }
    String::new()
}
