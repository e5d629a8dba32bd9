//! Namespaces and ids, seen from inside real sandboxes.
mod common;
use common::*;

use std::path::Path;

/// `/proc/self/uid_map` or `gid_map` lines, whitespace-normalised.
fn map_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// The namespace link (`net:[4026531840]`) of the test process itself: the
/// sandbox is started from the same namespaces (setpriv changes ids only).
fn outside_ns(name: &str) -> String {
    std::fs::read_link(format!("/proc/self/ns/{name}"))
        .expect("ns link")
        .display()
        .to_string()
}

#[test]
fn ids_and_maps_default_to_the_caller() {
    let (uid, gid) = (caller_uid(), caller_gid());
    let out = ok(&ro_root(
        &[],
        "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups",
    ));
    let lines = map_lines(&out);
    assert_eq!(
        lines,
        [
            uid.to_string(),
            gid.to_string(),
            format!("{uid} {uid} 1"),
            format!("{gid} {gid} 1"),
            "deny".into()
        ]
    );
}

#[test]
fn dev_nests_a_user_namespace_mapped_through_root() {
    let (uid, gid) = (caller_uid(), caller_gid());
    let out = ok(&ro_root(
        &["--dev", "/dev"],
        "id -u; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups",
    ));
    assert_eq!(
        map_lines(&out),
        [
            uid.to_string(),
            format!("{uid} 0 1"),
            format!("{gid} 0 1"),
            "deny".into()
        ]
    );
    // With --proc too (the maps are written through the host's procfs).
    let out = ok(&ro_root(
        &["--dev", "/dev", "--unshare-pid", "--proc", "/proc"],
        "id -u; cat /proc/self/uid_map",
    ));
    assert_eq!(map_lines(&out), [uid.to_string(), format!("{uid} 0 1")]);
    // And with no /proc in the sandbox at all.
    let o = output(sandwrap(cmdline(
        &[USR_ONLY, &["--dev", "/dev"]],
        &["/usr/bin/id", "-u"],
    )));
    if Path::new("/bin").read_link().is_ok() {
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o).trim(), uid.to_string());
    } else {
        skip!("/bin is not a symlink to usr/bin here: skipping the no-/proc case");
    }
}

#[test]
fn uid_and_gid_zero_inside() {
    let uid = caller_uid();
    let out = ok(&ro_root(
        &["--uid", "0", "--gid", "0"],
        "id -u; id -g; cat /proc/self/uid_map",
    ));
    assert_eq!(map_lines(&out), ["0", "0", &format!("0 {uid} 1")]);
    let out = ok(&ro_root(
        &["--uid", "0", "--gid", "0", "--dev", "/dev"],
        "id -u; id -g; cat /proc/self/uid_map",
    ));
    assert_eq!(map_lines(&out), ["0", "0", "0 0 1"]);
    let out = ok(&ro_root(
        &["--uid", "1234", "--gid", "5678"],
        "id -u; id -g",
    ));
    assert_eq!(out, "1234\n5678\n");
}

#[test]
fn pid_namespace_and_as_pid_1() {
    let out = ok(&ro_root(
        &["--unshare-pid", "--proc", "/proc"],
        "echo $$; tr '\\0' ' ' < /proc/1/cmdline; echo; ls -d /proc/[0-9]* | wc -l",
    ));
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(l[0], "2");
    let pid1_argv0 = l[1].split(' ').next().expect("argv0");
    assert!(
        pid1_argv0.ends_with("sandwrap"),
        "pid 1 is the reaper: {}",
        l[1]
    );
    let out = ok(&ro_root(
        &["--unshare-pid", "--as-pid-1", "--proc", "/proc"],
        "echo $$; ls -d /proc/[0-9]* | wc -l",
    ));
    assert_eq!(out.lines().next(), Some("1"));
    // Without a pid namespace the pid is the host's.
    let out = ok(&ro_root(&[], "echo $$"));
    assert!(out.trim().parse::<u32>().expect("pid") > 2, "{out}");
}

#[test]
fn net_namespace_has_only_loopback() {
    let outside = outside_ns("net");
    let script = "readlink /proc/self/ns/net; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '; \
                  if [ -n \"$(command -v ip)\" ]; then ip -o -4 addr show; ip -o link show | grep -c .; fi";
    let out = ok(&ro_root(
        &["--unshare-net", "--unshare-pid", "--proc", "/proc"],
        script,
    ));
    let mut l = out.lines();
    assert_ne!(l.next(), Some(outside.as_str()), "a new net namespace");
    assert_eq!(l.next(), Some("lo"), "{out}");
    let rest: Vec<&str> = l.collect();
    if Path::new("/usr/sbin/ip").exists()
        || Path::new("/usr/bin/ip").exists()
        || Path::new("/sbin/ip").exists()
    {
        assert_eq!(rest.len(), 2, "{out}");
        let addr: Vec<&str> = rest[0].split_whitespace().collect();
        assert_eq!(
            (addr[1], addr[2], addr[3]),
            ("lo", "inet", "127.0.0.1/8"),
            "{out}"
        );
        assert_eq!(rest[1], "1", "only one link: {out}");
    } else {
        eprintln!("`ip` not installed: checking /proc/net/if_inet6 instead");
        assert!(rest.is_empty(), "{out}");
        // ::1 is only configured once lo is up.
        let v6 = ok(&ro_root(
            &["--unshare-net", "--unshare-pid", "--proc", "/proc"],
            "cat /proc/net/if_inet6",
        ));
        if !v6.is_empty() {
            assert!(
                v6.lines().all(|l| l.ends_with(" lo"))
                    && v6.contains("00000000000000000000000000000001"),
                "{v6}"
            );
        } else {
            eprintln!("no IPv6 here: cannot tell lo's state without `ip`");
        }
    }
    // Without --unshare-net: the host's namespace.
    let out = ok(&ro_root(&[], "readlink /proc/self/ns/net"));
    assert_eq!(out.trim(), outside);
}

#[test]
fn uts_namespace_and_hostname() {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    let out = ok(&ro_root(
        &["--unshare-uts", "--hostname", "sandbox-host"],
        "uname -n; cat /proc/sys/kernel/hostname",
    ));
    assert_eq!(out, "sandbox-host\nsandbox-host\n");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname"),
        host,
        "host name changed"
    );
    let out = ok(&ro_root(&["--unshare-uts"], "uname -n"));
    assert_eq!(
        out.trim(),
        host.trim(),
        "a new uts namespace starts with the host's name"
    );
    let (code, _, err) = run(&ro_root(&["--hostname", "x"], "true"));
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "sandwrap: Specifying --hostname requires --unshare-uts\n"
        )
    );
}

#[test]
fn ipc_and_cgroup_namespaces() {
    let ipc = outside_ns("ipc");
    let out = ok(&ro_root(&["--unshare-ipc"], "readlink /proc/self/ns/ipc"));
    assert_ne!(out.trim(), ipc);
    let out = ok(&ro_root(&[], "readlink /proc/self/ns/ipc"));
    assert_eq!(out.trim(), ipc);
    if !Path::new("/proc/self/ns/cgroup").exists() {
        skip!("no cgroup namespaces on this kernel: skipping that part");
        return;
    }
    let cg = outside_ns("cgroup");
    let out = ok(&ro_root(
        &["--unshare-cgroup"],
        "readlink /proc/self/ns/cgroup",
    ));
    assert_ne!(out.trim(), cg);
    let out = ok(&ro_root(
        &["--unshare-cgroup-try"],
        "readlink /proc/self/ns/cgroup",
    ));
    assert_ne!(out.trim(), cg);
    let out = ok(&ro_root(&[], "readlink /proc/self/ns/cgroup"));
    assert_eq!(out.trim(), cg);
}

#[test]
fn share_net_is_order_sensitive() {
    let net = outside_ns("net");
    let script = "readlink /proc/self/ns/net /proc/self/ns/ipc /proc/self/ns/uts";
    let out = ok(&ro_root(
        &["--unshare-all", "--share-net", "--proc", "/proc"],
        script,
    ));
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(
        l[0], net,
        "--unshare-all --share-net keeps the host network"
    );
    assert_ne!(l[1], outside_ns("ipc"), "the rest is still unshared");
    assert_ne!(l[2], outside_ns("uts"));
    let out = ok(&ro_root(
        &["--share-net", "--unshare-all", "--proc", "/proc"],
        script,
    ));
    assert_ne!(
        out.lines().next(),
        Some(net.as_str()),
        "--share-net --unshare-all unshares the network"
    );
    let out = ok(&ro_root(&["--unshare-all", "--proc", "/proc"], "echo $$"));
    assert_eq!(out, "2\n", "--unshare-all includes a pid namespace");
}

#[test]
fn as_pid_1_requires_unshare_pid() {
    let (code, _, err) = run(&ro_root(&["--as-pid-1"], "true"));
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "sandwrap: Specifying --as-pid-1 requires --unshare-pid\n"
        )
    );
}

/// Run nested where the outer sandbox forbids user namespaces, sandwrap's
/// hint names that, and what to ask of the outer one, not the host's sysctl.
#[test]
fn nested_in_a_sandbox_forbidding_user_namespaces_says_so() {
    let inner = format!(
        "exec {} --ro-bind / / --unshare-user true",
        sandwrap_bin().display()
    );
    let check = |what: &str, code: i32, err: &str| {
        assert_eq!(code, 1, "{what}: {err}");
        assert!(
            err.contains(
                "sandwrap runs nested in a sandbox (or container) that forbids user namespaces"
            ) && err.contains("ask the outer sandbox to allow nested user namespaces")
                && !err.contains("sysctl"),
            "{what}: {err}"
        );
    };
    // The outer sandbox used --disable-userns: sandwrap's own, then bwrap's.
    let (code, _, err) = run(&ro_root(&["--unshare-user", "--disable-userns"], &inner));
    check("in sandwrap --disable-userns", code, &err);
    if let Some((code, _, err)) =
        run_bwrap(&ro_root(&["--unshare-user", "--disable-userns"], &inner))
    {
        check("in bwrap --disable-userns", code, &err);
    }
    // A user namespace whose own user.max_user_namespaces is 0.
    let script = format!("echo 0 > /proc/sys/user/max_user_namespaces && {inner}");
    let mut cmd = user_command(Path::new("unshare"));
    cmd.args(["--user", "--map-root-user", "sh", "-c", &script]);
    let o = output(cmd);
    if stderr(&o).contains("unshare failed") {
        skip!("skipping the max_user_namespaces=0 case: {}", stderr(&o));
        return;
    }
    check(
        "with max_user_namespaces=0",
        o.status.code().unwrap_or(-1),
        &stderr(&o),
    );
    assert!(stderr(&o).contains("user.max_user_namespaces is 0 in its user namespace"));
}

/// With --level-prefix, the hint after bwrap's wording is a line of its own
/// that carries the prefix too.
#[test]
fn level_prefix_marks_the_hint_line() {
    let inner = format!(
        "exec {} --level-prefix --ro-bind / / --unshare-user true",
        sandwrap_bin().display()
    );
    let (code, _, err) = run(&ro_root(&["--unshare-user", "--disable-userns"], &inner));
    assert_eq!(code, 1, "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[1].starts_with("<3>sandwrap: Hint: "), "{err}");
    assert!(
        lines.iter().all(|l| l.starts_with("<3>sandwrap: ")),
        "{err}"
    );
}
