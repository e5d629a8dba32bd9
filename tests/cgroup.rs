//! The sandbox's own cgroup v2 (README "Limits": --own-cgroup and the
//! cgroup limits), as the unprivileged test user in a delegated cgroup v2
//! (tests/common/cgroup.rs): it exists while the sandbox runs and is gone
//! after, cgroup.kill ends what escaped the process tree, the cgroup
//! namespace shows it as `/`, accounting from cpu.stat, the cleanup of a
//! killed run's cgroup, the limits (where the controllers are there) or
//! their precise refusal, and the attacks on the cgroup from inside.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::*;

/// `BASE` + `extra` + `-- sh -c SCRIPT` in the test's delegated cgroup:
/// (exit code, stdout, stderr).
fn run_in(cg: &Delegated, extra: &[&str], script: &str) -> (i32, String, String) {
    let o = output(cg.command(sandwrap(sh(extra, script))));
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

/// The `0::` line of a /proc/PID/cgroup text.
fn v2_line(text: &str) -> &str {
    text.lines()
        .find(|l| l.starts_with("0::"))
        .unwrap_or_else(|| panic!("no 0:: line in {text:?}"))
}

/// The path of `dir` as /proc/PID/cgroup names it (below the cgroup2 mount).
fn cgroup_path(dir: &Path) -> String {
    let mount = cgroup2_mount().expect("cgroup2 mount");
    format!(
        "/{}",
        dir.strip_prefix(&mount).expect("below the mount").display()
    )
}

/// The controllers the test's cgroup offers (those its parent enables).
fn controllers(cg: &Delegated) -> Vec<String> {
    std::fs::read_to_string(cg.dir.join("cgroup.controllers"))
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
fn the_cgroup_exists_while_the_sandbox_runs_and_is_gone_after() {
    let Some(cg) = delegated_cgroup("exists") else {
        return;
    };
    let dir = scratch("cgroup-exists");
    let flag = dir.join("running");
    let script = format!("cat /proc/self/cgroup; touch {}; sleep 0.5", flag.display());
    let bind = dir.display().to_string();
    let mut child = cg
        .command(sandwrap(sh(
            &["--own-cgroup", "--bind", &bind, &bind],
            &script,
        )))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sandwrap");
    // Seen from the host, while it runs: one cgroup, named after sandwrap's
    // pid, holding the sandbox (and not sandwrap itself).
    assert!(wait_until("the sandbox to run", || flag.exists()));
    let name = format!("sandwrap-{}", child.id());
    assert_eq!(cg.sandwrap_cgroups(), std::slice::from_ref(&name));
    let procs = std::fs::read_to_string(cg.dir.join(&name).join("cgroup.procs")).unwrap();
    assert!(!procs.trim().is_empty(), "empty cgroup");
    assert!(
        !procs.lines().any(|p| p == child.id().to_string()),
        "sandwrap itself is in the sandbox's cgroup: {procs}"
    );
    let status = child.wait().expect("wait");
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "{err}");
    assert_eq!(
        v2_line(&out),
        format!("0::{}", cgroup_path(&cg.dir.join(&name)))
    );
    assert_eq!(cg.sandwrap_cgroups(), Vec::<String>::new(), "left behind");
}

/// A daemon that double-forks out of the process tree and ignores SIGTERM
/// is ended at the end by cgroup.kill: without --own-cgroup (bwrap's
/// lifecycle) it outlives sandwrap, which shows the test can fail.
#[test]
fn cgroup_kill_ends_a_daemon_that_left_the_process_tree() {
    let Some(cg) = delegated_cgroup("daemon") else {
        return;
    };
    for pid_ns in [&[][..], &["--unshare-pid"][..]] {
        for own in [false, true] {
            let mark = marker("daemon");
            let script = format!(
                "ln -s /bin/sleep {mark} && setsid sh -c 'trap \"\" TERM; {mark} 1000 & :' >/dev/null 2>&1 </dev/null"
            );
            let mut extra = vec!["--tmpfs", "/tmp"];
            extra.extend_from_slice(pid_ns);
            if own {
                extra.push("--own-cgroup");
            }
            // Not captured: what stays behind (without --own-cgroup) holds
            // stdout and stderr open.
            let status = cg
                .command(sandwrap(sh(&extra, &script)))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("run sandwrap");
            assert!(status.success(), "{extra:?}: {status}");
            let left = || pids_with_argv0(&mark);
            if own {
                assert_eq!(left(), Vec::<u32>::new(), "{extra:?}: the daemon survived");
                assert_eq!(cg.sandwrap_cgroups(), Vec::<String>::new());
            } else {
                // It outlives sandwrap (bwrap's lifecycle): found once it
                // has executed.
                let found = wait_until("the daemon", || !left().is_empty());
                let alive = left();
                kill_all(&alive);
                assert!(found && alive.len() == 1, "{extra:?}: without --own-cgroup");
            }
        }
    }
}

#[test]
fn unshare_cgroup_shows_the_sandboxs_cgroup_as_root() {
    let Some(cg) = delegated_cgroup("cgroupns") else {
        return;
    };
    let (code, out, err) = run_in(
        &cg,
        &["--own-cgroup", "--unshare-cgroup"],
        "cat /proc/self/cgroup; readlink /proc/self/ns/cgroup",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(v2_line(&out), "0::/");
    // Without a cgroup of its own, the namespace is rooted where sandwrap
    // runs (the test's cgroup), as with bwrap.
    let (code, out, err) = run_in(&cg, &["--unshare-cgroup"], "cat /proc/self/cgroup");
    assert_eq!((code, v2_line(&out)), (0, "0::/"), "{err}");
    // And the --info-fd/--json-status-fd report names the namespace the
    // command is in (made after the move, not with the clone).
    let mut args: Vec<String> = vec!["--own-cgroup".into(), "--unshare-cgroup".into()];
    args.extend(sh(&[], "readlink /proc/self/ns/cgroup"));
    let (o, status) = with_status(&cg, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let inode = stdout(&o)
        .trim()
        .trim_start_matches("cgroup:[")
        .trim_end_matches(']')
        .to_string();
    assert!(
        status
            .first()
            .is_some_and(|l| l.contains(&format!("\"cgroup-namespace\": {inode}"))),
        "{inode}: {status:?}"
    );
}

/// `sandwrap --json-status-fd 3 ARGS` in `cg`: its output and the status
/// lines.
fn with_status(cg: &Delegated, args: &[String]) -> (std::process::Output, Vec<String>) {
    let (mut r, w) = read_pipe();
    let mut all = vec!["--json-status-fd".to_string(), "3".to_string()];
    all.extend_from_slice(args);
    let mut cmd = cg.command(sandwrap(&all));
    let fds = [(3, w)];
    inherit_fds(&mut cmd, &fds);
    let o = cmd.output().expect("run");
    drop((cmd, fds));
    let mut status = String::new();
    r.read_to_string(&mut status).unwrap();
    (o, status.lines().map(str::to_string).collect())
}

/// The usage object of a run in `cg` with `extra`, and stderr.
fn usage_of(cg: &Delegated, extra: &[&str], command: &[&str]) -> (String, String) {
    let mut args: Vec<String> = ["--json-usage", "--verbose"]
        .iter()
        .chain(BASE)
        .chain(extra)
        .map(|s| s.to_string())
        .collect();
    args.push("--".into());
    args.extend(command.iter().map(|s| s.to_string()));
    let (o, status) = with_status(cg, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    (status.last().cloned().unwrap_or_default(), stderr(&o))
}

/// CPU time of a process nobody waits for (its parent ignores SIGCHLD) is
/// in cpu.stat: ~1 s with --own-cgroup, said to come from there; without,
/// getrusage never sees it.
#[test]
fn usage_from_cpu_stat_counts_what_was_never_waited_for() {
    let Some(cg) = delegated_cgroup("cpustat") else {
        return;
    };
    let Some(bin) = compile_c("unwaited", include_str!("cgroup/unwaited.c")) else {
        return;
    };
    let bin = bin.display().to_string();
    for pid_ns in [&[][..], &["--unshare-pid"][..]] {
        let mut extra = vec!["--own-cgroup"];
        extra.extend_from_slice(pid_ns);
        let (usage, err) = usage_of(&cg, &extra, &[&bin]);
        let cpu =
            json_number(&usage, "user-cpu-seconds") + json_number(&usage, "system-cpu-seconds");
        assert!((0.95..1.6).contains(&cpu), "{extra:?}: cpu {cpu}: {usage}");
        assert!(
            usage.contains("\"cpu-source\": \"cgroup cpu.stat\""),
            "{usage}"
        );
        assert!(
            err.lines()
                .any(|l| l.starts_with("sandwrap: used ")
                    && l.ends_with("(CPU from cgroup cpu.stat)")),
            "{err}"
        );
        let (usage, _) = usage_of(&cg, pid_ns, &[&bin]);
        let cpu =
            json_number(&usage, "user-cpu-seconds") + json_number(&usage, "system-cpu-seconds");
        assert!(cpu < 0.5, "{pid_ns:?}: getrusage saw it after all: {usage}");
        assert!(usage.contains("\"cpu-source\": \"getrusage\""), "{usage}");
    }
}

/// A sandwrap killed with SIGKILL cannot remove its cgroup; the next run
/// in the same cgroup removes it (empty, its owner gone).
#[test]
fn the_cgroup_of_a_killed_sandwrap_is_removed_by_the_next_run() {
    let Some(cg) = delegated_cgroup("stale") else {
        return;
    };
    let mut child = cg
        .command(sandwrap(cmdline(
            &[
                BASE,
                &["--own-cgroup", "--unshare-pid", "--die-with-parent"],
            ],
            &["sleep", "1000"],
        )))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sandwrap");
    let name = format!("sandwrap-{}", child.id());
    let events = cg.dir.join(&name).join("cgroup.events");
    assert!(wait_until("the sandbox in its cgroup", || {
        std::fs::read_to_string(&events).is_ok_and(|e| e.contains("populated 1"))
    }));
    child.kill().expect("SIGKILL sandwrap");
    child.wait().expect("wait");
    // The sandbox ends with it (--die-with-parent); the cgroup stays.
    assert!(wait_until("the sandbox to end", || {
        std::fs::read_to_string(&events).is_ok_and(|e| e.contains("populated 0"))
    }));
    assert_eq!(cg.sandwrap_cgroups(), [name]);
    let (code, _, err) = run_in(&cg, &["--own-cgroup"], "true");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        cg.sandwrap_cgroups(),
        Vec::<String>::new(),
        "stale cgroup kept"
    );
}

/// A killed sandwrap's cgroup whose pid a later sandwrap gets (pids wrap
/// around) is that sandwrap's to remove, not a reason to fail: its own
/// name is taken. The leftover is made here just before sandwrap starts
/// with that pid (the shell execs it).
#[test]
fn a_leftover_cgroup_with_sandwraps_own_pid_is_removed() {
    let Some(cg) = delegated_cgroup("ownpid") else {
        return;
    };
    let cmd = sandwrap(sh(&["--own-cgroup"], "grep ^0:: /proc/self/cgroup"));
    let c = cg.command_after(r#"mkdir "$0/sandwrap-$$" && "#, cmd);
    let o = output(c);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("/sandwrap-"), "{}", stdout(&o));
    assert_eq!(cg.sandwrap_cgroups(), Vec::<String>::new(), "left behind");
}

/// Each limit either holds (where the delegated cgroup has the controller)
/// or, as on this CI machine (hybrid: memory, pids and cpu bound to cgroup
/// v1), is one precise error before anything runs, leaving nothing behind.
#[test]
fn limits_hold_or_are_one_precise_error() {
    let Some(cg) = delegated_cgroup("limits") else {
        return;
    };
    let have = controllers(&cg);
    let dir = scratch("cgroup-limits");
    let ran = dir.join("ran");
    let bind = dir.display().to_string();
    for (extra, controller) in [
        (&["--pids-max", "20"][..], "pids"),
        (&["--memory", "64M"][..], "memory"),
        (&["--cpus", "0.5"][..], "cpu"),
    ] {
        if have.iter().any(|c| c == controller) {
            continue; // tested by limits_hold
        }
        let mut args = vec!["--bind", &bind, &bind];
        args.extend_from_slice(extra);
        let (code, out, err) = run_in(&cg, &args, &format!("touch {}", ran.display()));
        assert_eq!((code, out.as_str()), (1, ""), "{extra:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!(
                "sandwrap: {} needs a delegated cgroup v2, and ",
                extra[0]
            )),
            "{err}"
        );
        assert!(
            err.contains(&format!("the {controller} controller is")),
            "{err}"
        );
        assert!(err.contains("To fix: "), "{err}");
        assert!(!ran.exists(), "{extra:?}: the command ran");
        assert_eq!(cg.sandwrap_cgroups(), Vec::<String>::new(), "{extra:?}");
    }
    limits_hold(&cg, &have);
}

/// Where the controllers are there: a fork bomb stops at --pids-max, an
/// allocation beyond --memory is killed, --cpus halves a busy loop.
fn limits_hold(cg: &Delegated, have: &[String]) {
    let has = |c: &str| have.iter().any(|h| h == c);
    if !has("pids") && !has("memory") && !has("cpu") {
        eprintln!(
            "the limits themselves are not tested here: {} offers no pids, memory or cpu controller (cgroup v1 holds them)",
            cg.dir.display()
        );
        return;
    }
    if has("pids") {
        let Some(bomb) = compile_c("bomb", include_str!("limits/bomb.c")) else {
            return;
        };
        let bomb = bomb.display().to_string();
        let o = output(cg.command(sandwrap(cmdline(
            &[
                BASE,
                &["--pids-max", "20", "--unshare-pid", "--end-with-command"],
            ],
            &[&bomb, "2"],
        ))));
        let out = stdout(&o);
        assert!(o.status.success(), "{}", stderr(&o));
        let max: u32 = out
            .lines()
            .find_map(|l| l.strip_prefix("max="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(u32::MAX);
        assert!(max <= 20, "--pids-max 20: {out}");
        assert!(!out.contains("fork=ok"), "--pids-max 20: {out}");
    }
    if has("memory") {
        // A child touching 100 MiB under a 32 MiB limit without swap is
        // killed by the kernel's OOM killer: the helper fails.
        let Some(usage) = compile_c("usage", include_str!("limits/usage.c")) else {
            return;
        };
        let usage = usage.display().to_string();
        let o = output(cg.command(sandwrap(cmdline(
            &[BASE, &["--memory", "32M", "--memory-swap", "0"]],
            &[&usage],
        ))));
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    }
    if has("cpu") {
        let (usage, _) = usage_of(
            cg,
            &["--cpus", "0.5"],
            &["timeout", "2", "sh", "-c", "while :; do :; done"],
        );
        let cpu =
            json_number(&usage, "user-cpu-seconds") + json_number(&usage, "system-cpu-seconds");
        assert!(
            (0.6..1.4).contains(&cpu),
            "--cpus 0.5 over 2 s: {cpu}: {usage}"
        );
    }
}

/// The attack: the command is the sandbox's uid, which owns its cgroup and
/// the delegated one above it. It must not be able to move itself out
/// (into the delegated parent, out of reach of cgroup.kill and the limits),
/// change its cgroup's settings, or make cgroups next to it, however it
/// sees the cgroup filesystem: the host's read-only (--ro-bind / /), the
/// host's /sys bound read-write, with and without its own cgroup
/// namespace, or one it mounts itself in new namespaces.
#[test]
fn the_command_cannot_leave_or_change_its_cgroup() {
    let Some(cg) = delegated_cgroup("attack") else {
        return;
    };
    let mount = cgroup2_mount().expect("cgroup2 mount");
    let parent = cg.dir.display().to_string();
    // Written from inside: every attempt prints ok or the error.
    let script = format!(
        r#"try() {{ if sh -c "$1" 2>/dev/null; then echo "ESCAPE: $1"; fi; }}
        own=$(sed -n 's/^0:://p' /proc/self/cgroup)
        for base in {mount} {mount}$own; do
          try "echo \$\$ > {parent}/cgroup.procs"
          try "echo \$\$ > $base/cgroup.procs"
          try "mkdir {parent}/x"
          try "mkdir $base/x"
          try "echo 1 > $base/cgroup.max.descendants"
          try "echo +hugetlb > $base/cgroup.subtree_control"
        done
        if unshare -Urmc --propagation private sh -c 'mount -t cgroup2 none /tmp' 2>/dev/null; then
          try "unshare -Urmc --propagation private sh -c 'mount -t cgroup2 none /tmp && echo 1 > /tmp/cgroup.max.descendants'"
          try "unshare -Urmc --propagation private sh -c 'mount -t cgroup2 none /tmp && echo \$\$ > /tmp/../cgroup.procs'"
        fi
        # Allowed (a cgroup below its own, in a namespace of its own), and
        # removed with the sandbox's.
        unshare -Urmc --propagation private sh -c 'mount -t cgroup2 none /tmp && mkdir /tmp/sub' 2>/dev/null
        sed -n 's/^0:://p' /proc/self/cgroup"#,
        mount = mount.display(),
    );
    let variants: &[&[&str]] = &[
        &[],
        &["--bind", "/sys", "/sys"],
        &["--unshare-cgroup"],
        &["--bind", "/sys", "/sys", "--unshare-cgroup"],
        &["--dev-bind", "/", "/", "--unshare-pid"],
        &[
            "--bind",
            "/sys",
            "/sys",
            "--unshare-user",
            "--disable-userns",
        ],
    ];
    for extra in variants {
        let mut args = vec!["--own-cgroup", "--tmpfs", "/tmp"];
        args.extend_from_slice(extra);
        let (code, out, err) = run_in(&cg, &args, &script);
        assert_eq!(code, 0, "{extra:?}: {err}");
        assert!(!out.contains("ESCAPE"), "{extra:?}: {out}");
        let last = out.lines().last().unwrap_or_default();
        let unshared = extra.contains(&"--unshare-cgroup");
        if unshared {
            assert_eq!(last, "/", "{extra:?}: {out}");
        } else {
            assert!(
                last.starts_with(&format!("{}/sandwrap-", cgroup_path(&cg.dir))),
                "{extra:?}: {out}"
            );
        }
        // Nothing was made next to the sandbox, nothing left behind.
        assert_eq!(cg.sandwrap_cgroups(), Vec::<String>::new(), "{extra:?}");
        let entries: Vec<PathBuf> = std::fs::read_dir(&cg.dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        assert_eq!(entries, Vec::<PathBuf>::new(), "{extra:?}");
    }
}

/// The attack the read-only mount does not stop: clone3's
/// CLONE_INTO_CGROUP takes the target cgroup as a directory fd, which a
/// read-only cgroup filesystem still opens, and the kernel checks only who
/// owns that cgroup's cgroup.procs (the command's uid, for the delegated
/// parent and the delegated root above it), not the mount. A child started
/// there would be out of the sandbox's cgroup: past its limits and
/// cgroup.kill. With or without a cgroup namespace (which, without the
/// hierarchy's nsdelegate option, is no boundary for moves), a pid
/// namespace, or the host's /sys bound read-write.
#[test]
fn clone_into_cgroup_cannot_start_a_child_outside() {
    let Some(cg) = delegated_cgroup("into") else {
        return;
    };
    let Some(bin) = compile_c("into_cgroup", include_str!("cgroup/into_cgroup.c")) else {
        return;
    };
    let bin = bin.display().to_string();
    let parent = cg.dir.display().to_string();
    let root = cg
        .dir
        .parent()
        .expect("delegated root")
        .display()
        .to_string();
    let script = format!("{bin} {parent}; {bin} {root}; grep ^0:: /proc/self/cgroup");
    let variants: &[&[&str]] = &[
        &[],
        &["--unshare-cgroup"],
        &["--unshare-pid"],
        &[
            "--bind",
            "/sys",
            "/sys",
            "--unshare-cgroup",
            "--unshare-pid",
        ],
        &["--uid", "0", "--cap-add", "ALL"],
    ];
    for extra in variants {
        let mut args = vec!["--own-cgroup"];
        args.extend_from_slice(extra);
        let (code, out, err) = run_in(&cg, &args, &script);
        assert_eq!(code, 0, "{extra:?}: {err}");
        let lines: Vec<&str> = out.lines().collect();
        // Two refusals, then the sandbox's own cgroup: a child that
        // started elsewhere prints its 0:: line instead of a refusal.
        assert_eq!(lines.len(), 3, "{extra:?}: {out}");
        for line in &lines[..2] {
            assert!(
                line.starts_with("clone3: ") || line.starts_with("open: "),
                "{extra:?}: a child started outside the sandbox's cgroup: {out}"
            );
        }
        assert!(lines[2].starts_with("0::"), "{extra:?}: {out}");
        assert_eq!(cg.sandwrap_cgroups(), Vec::<String>::new(), "{extra:?}");
    }
}

/// Without a pid namespace the command can name the user's processes
/// outside, whose /proc/PID/root is the host's root with its writable
/// cgroup filesystem: the command's landlock domain (always made, where
/// the kernel has landlock) denies it every /proc/PID/root outside. The
/// process outside runs as the test user, in the test's delegated cgroup.
#[test]
fn another_processs_root_does_not_reach_a_writable_cgroupfs() {
    let Some(cg) = delegated_cgroup("procroot") else {
        return;
    };
    if landlock_abi() < 1 {
        skip!("skipping: no landlock here (the hole docs/security.md names)");
        return;
    }
    let mut outside = cg
        .command(user_sh("exec sleep 30"))
        .spawn()
        .expect("spawn the process outside");
    let pid = outside.id();
    let parent = cg.dir.display().to_string();
    assert!(wait_until("the process outside", || {
        std::fs::read_to_string(cg.dir.join("cgroup.procs"))
            .is_ok_and(|p| p.lines().any(|l| l == pid.to_string()))
    }));
    let script = format!(
        "if echo $$ > /proc/{pid}/root{parent}/cgroup.procs; then echo ESCAPE; fi; \
         if ls /proc/{pid}/root/ >/dev/null; then echo ROOT; fi; grep ^0:: /proc/self/cgroup"
    );
    for extra in [
        &["--own-cgroup"][..],
        &["--own-cgroup", "--bind", "/sys", "/sys"],
    ] {
        let (code, out, err) = run_in(&cg, extra, &script);
        assert_eq!(code, 0, "{extra:?}: {err}");
        assert!(
            !out.contains("ESCAPE") && !out.contains("ROOT"),
            "{extra:?}: {out}"
        );
        assert!(out.contains("/sandwrap-"), "{extra:?}: {out}");
    }
    let _ = outside.kill();
    let _ = outside.wait();
}

/// `own-cgroup = true` in a profile is --own-cgroup; --explain says what it
/// does, and so it does for a limit (which implies it).
#[test]
fn own_cgroup_is_a_profile_key_and_explained() {
    let dir = scratch("cgroup-profile");
    let file = dir.join("owned.toml");
    std::fs::write(&file, "own-cgroup = true\n").expect("write profile");
    give(&file);
    let profile = file.display().to_string();
    let line = "a cgroup v2 of its own (sandwrap-PID below sandwrap's): usage of the whole sandbox, cgroup.kill at the end";
    for args in [
        vec!["--profile", &profile, "--explain"],
        vec!["--pids-max", "5", "--explain"],
    ] {
        let o = output(sandwrap(&args));
        let text = stdout(&o);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(text.contains(line), "{args:?}: {text}");
    }
    let o = output(sandwrap(["--profile", &profile, "--explain"]));
    assert!(stdout(&o).contains("--own-cgroup"), "{}", stdout(&o));
    let o = output(sandwrap(["--explain", "true"]));
    assert!(!stdout(&o).contains(line), "{}", stdout(&o));
}

/// The commands of the processes in cgroup `dir` (its cgroup.procs).
fn comms_in(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/comm")).ok())
        .map(|c| c.trim().to_string())
        .collect()
}

/// sandwrap's helpers stay out of the sandbox's cgroup: pasta (started for
/// --network pasta, running as long as the sandbox) is in sandwrap's own
/// cgroup, not in the one cgroup.kill ends and the limits bound. In a
/// network namespace the test makes (tests/common/netns.rs): no traffic
/// leaves the machine.
#[test]
fn pasta_stays_out_of_the_sandboxs_cgroup() {
    if !is_root() {
        skip!("skipping: the test makes its own network namespace, which needs root");
        return;
    }
    let Some(cg) = delegated_cgroup("pasta") else {
        return;
    };
    if !std::path::Path::new("/usr/bin/pasta").exists() {
        skip!("skipping: pasta is not installed (see .ci/run)");
        return;
    }
    let dir = scratch("cgroup-pasta");
    let flag = dir.join("running");
    let bind = dir.display().to_string();
    let script = format!("touch {}; sleep 1", flag.display());
    let cmd = cg.command(sandwrap(sh(
        &[
            "--unshare-all",
            "--network",
            "pasta",
            "--own-cgroup",
            "--bind",
            &bind,
            &bind,
        ],
        &script,
    )));
    let child = in_test_netns(&cmd, "")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let running = wait_until("the sandbox to run", || flag.exists());
    let outside = comms_in(&cg.dir);
    let inside: Vec<String> = cg
        .sandwrap_cgroups()
        .iter()
        .flat_map(|n| comms_in(&cg.dir.join(n)))
        .collect();
    let o = child.wait_with_output().expect("wait");
    assert!(running && o.status.success(), "{}", stderr(&o));
    // pasta runs as passt (passt.avx2 where the CPU has AVX2).
    // Inside, "sandwrap" is the sandbox's pid 1; outside, the supervisor.
    let pasta = |c: &String| c.starts_with("pasta") || c.starts_with("passt");
    assert!(outside.iter().any(pasta), "{outside:?}");
    assert!(outside.iter().any(|c| c == "sandwrap"), "{outside:?}");
    assert!(inside.iter().any(|c| c == "sh"), "{inside:?}");
    assert!(!inside.iter().any(pasta), "{inside:?}");
}

/// --timeout with a cgroup of its own: the SIGKILL step is cgroup.kill, a
/// command ignoring SIGTERM (and what it started) is gone within the grace
/// period and a second, the status is 124, the usage from cpu.stat, and
/// the cgroup is removed.
#[test]
fn timeout_ends_the_sandbox_through_its_cgroup() {
    let Some(cg) = delegated_cgroup("timeout") else {
        return;
    };
    for pid_ns in [&[][..], &["--unshare-pid"][..]] {
        let mark = marker("timeout");
        let mut extra = vec![
            "--own-cgroup",
            "--tmpfs",
            "/tmp",
            "--timeout",
            "0.5",
            "--kill-after",
            "0.3",
        ];
        extra.extend_from_slice(pid_ns);
        let script = format!(
            "ln -s /bin/sleep {mark}; trap '' TERM; setsid sh -c 'trap \"\" TERM; {mark} 100' & {mark} 100"
        );
        let start = std::time::Instant::now();
        let (o, status) = with_status(&cg, &sh(&extra, &script));
        let (usage, err, code) = (
            status.last().cloned().unwrap_or_default(),
            stderr(&o),
            o.status.code(),
        );
        let took = start.elapsed();
        assert_eq!(code, Some(124), "{pid_ns:?}: {err}");
        assert!(
            took < std::time::Duration::from_millis(1800),
            "{pid_ns:?}: {took:?}"
        );
        assert!(usage.contains("\"timed-out\": true"), "{usage}");
        assert!(
            usage.contains("\"cpu-source\": \"cgroup cpu.stat\""),
            "{usage}"
        );
        assert_eq!(pids_with_argv0(&mark), Vec::<u32>::new(), "{pid_ns:?}");
        assert_eq!(cg.sandwrap_cgroups(), Vec::<String>::new(), "{pid_ns:?}");
    }
}

/// Only cgroup2 mounts are made read-only: a tmpfs the command line puts
/// over the cgroup mount point (or over a parent of it) is the command's,
/// writable as asked, and the sandbox starts.
#[test]
fn a_tmpfs_over_the_cgroup_mount_stays_as_asked() {
    let Some(cg) = delegated_cgroup("tmpfsover") else {
        return;
    };
    let mount = cgroup2_mount()
        .expect("cgroup2 mount")
        .display()
        .to_string();
    let parent = Path::new(&mount)
        .parent()
        .expect("a parent")
        .display()
        .to_string();
    for over in [&mount, &parent] {
        let extra = ["--own-cgroup", "--bind", "/sys", "/sys", "--tmpfs", over];
        let (code, out, err) = run_in(&cg, &extra, &format!("touch {over}/x && echo writable"));
        assert_eq!((code, out.trim()), (0, "writable"), "--tmpfs {over}: {err}");
    }
}
