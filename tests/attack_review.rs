//! Attacks from a review of the fixes for the escapes of issue 9, from
//! inside, as the unprivileged test user: what the report line lets the
//! command print on the caller's terminal, locked mounts against the new
//! mount API and a mount namespace of the command's own, and what a
//! command that can name the supervisor (no `--unshare-pid`) does to it
//! with `prlimit`, which no landlock domain confines.
mod common;
use common::*;

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Sets its name (`prctl(PR_SET_NAME)`) to argv[1], then calls `keyctl`,
/// which the `default` preset denies: the report line names it.
const RENAME_C: &str = r#"
#define _GNU_SOURCE
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
    prctl(PR_SET_NAME, argv[1], 0, 0, 0);
    syscall(SYS_keyctl, 0, 0, 0, 0, 0);
    return 0;
}
"#;

const MOUNT_API_C: &str = include_str!("helpers/mount_api.c");
const PTY_C: &str = include_str!("helpers/pty.c");

/// Forks a child that writes its pid to argv[1], waits for the file argv[2],
/// then makes a call a kill rule refuses (`ptrace`); the parent reaps it
/// (freeing its pid at once) and ends a second later.
const KILL_RULE_C: &str = r#"
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
    pid_t a = fork();
    if (a == 0) {
        FILE *f = fopen(argv[1], "w");
        fprintf(f, "%d\n", getpid());
        fclose(f);
        while (access(argv[2], F_OK)) usleep(10000);
        ptrace(PTRACE_ATTACH, 1, 0, 0);
        _exit(0);
    }
    waitpid(a, 0, 0);
    sleep(1);
    return 0;
}
"#;

/// The command's name is the command's to choose, and the report goes to
/// the caller's terminal: an escape sequence in it (clear the screen, set
/// the title, shift to another character set) must arrive escaped. The
/// kernel passes ESC through `/proc/PID/status` as it is.
#[test]
fn seccomp_report_shows_no_control_characters_of_the_commands_name() {
    let Some(bin) = c_helper("rename", RENAME_C) else {
        return;
    };
    for name in ["\x1b[2J\x1b]0;pwn\x07", "\u{9b}2J\x0e\x7f", "a\u{1b}X"] {
        let (code, _out, err) = run(&[
            "--ro-bind",
            "/",
            "/",
            "--seccomp-policy",
            "default",
            "--seccomp-report",
            "--",
            &bin.display().to_string(),
            name,
        ]);
        assert_eq!(code, 0, "{err}");
        let line = err
            .lines()
            .find(|l| l.contains("keyctl("))
            .unwrap_or_else(|| panic!("no report line: {err:?}"));
        assert!(
            !line.chars().any(char::is_control),
            "control characters reach the caller's terminal: {line:?}"
        );
        assert!(
            line.contains(r"\x1b") || line.contains(r"\u{9b}"),
            "{line:?}"
        );
    }
}

/// With every capability (`--uid 0 --cap-add ALL`), in every way the
/// namespaces can be set up: `open_tree` clones with `mount_setattr`,
/// `move_mount`, `fspick` reconfiguration, a mount namespace of the
/// command's own (`unshare(CLONE_NEWNS)`, where it owns nothing it did not
/// mount) with umount and remount there, a non-recursive clone of a parent
/// of locked mounts, `pivot_root`. The host file stays as it was.
#[test]
fn locked_mounts_hold_against_the_new_mount_api() {
    let Some(bin) = c_helper("mount_api", MOUNT_API_C) else {
        return;
    };
    let dir = scratch("review-locked");
    let (ro, covered) = (dir.join("ro"), dir.join("covered"));
    std::fs::create_dir_all(&ro).expect("mkdir");
    std::fs::create_dir_all(&covered).expect("mkdir");
    std::fs::write(ro.join("f"), "host\n").expect("write");
    std::fs::write(covered.join("secret"), "secret\n").expect("write");
    for p in [&ro, &covered, &ro.join("f"), &covered.join("secret")] {
        give(p);
    }
    let (ro_s, cov_s, bin_s) = (
        ro.display().to_string(),
        covered.display().to_string(),
        bin.display().to_string(),
    );
    for extra in [&[][..], &["--unshare-pid"], &["--dev", "/dev"]] {
        let mut args: Vec<&str> = vec!["--ro-bind", "/", "/", "--proc", "/proc", "--tmpfs", "/tmp"];
        args.extend(extra);
        args.extend([
            "--ro-bind",
            &bin_s,
            "/tmp/attack",
            "--bind",
            &cov_s,
            "/tmp/covered",
            "--tmpfs",
            "/tmp/covered",
            "--ro-bind",
            &ro_s,
            "/tmp/ro",
            "--uid",
            "0",
            "--cap-add",
            "ALL",
            "--",
            "/tmp/attack",
            "/tmp/ro",
            "f",
            "/tmp/covered",
        ]);
        let (code, out, err) = run(&args);
        let what = format!("{extra:?}: {out}{err}");
        assert!(out.contains("RESULT HELD"), "{what}");
        assert!(!out.contains("ESCAPE"), "{what}");
        assert_eq!(code, 0, "{what}");
        assert_eq!(
            std::fs::read_to_string(ro.join("f")).expect("read"),
            "host\n"
        );
    }
}

/// The notifier kills a process that hit a kill rule by its pid. If that
/// process is gone by then (another process of the sandbox killed it and
/// its parent reaped it) and the pid was taken by a process outside, the
/// supervisor, which no landlock domain confines, killed that one. Here the
/// supervisor is held (gdb) between receiving the notification and the
/// kill while the pid is handed to a `sleep` of the caller's uid outside.
#[test]
fn a_kill_rule_never_kills_a_process_that_took_the_callers_pid() {
    if !is_root() || !std::path::Path::new("/usr/bin/gdb").exists() {
        skip!(
            "skipping: needs root (to hold the non-dumpable supervisor with gdb and choose the next pid) and gdb"
        );
        return;
    }
    let Some(bin) = c_helper("kill_rule", KILL_RULE_C) else {
        return;
    };
    let dir = scratch("review-notif");
    let d = dir.display().to_string();
    let uid = test_uid().to_string();
    std::fs::write(
        dir.join("swap.sh"),
        format!(
            "a=$(cat {d}/pid); kill -9 $a; while [ -e /proc/$a ]; do sleep 0.01; done\n\
             echo $((a - 1)) > /proc/sys/kernel/ns_last_pid\n\
             setpriv --reuid {uid} --regid {uid} --clear-groups sleep 60 >/dev/null 2>&1 &\n\
             v=$!; while [ \"$(cat /proc/$v/comm)\" != sleep ]; do sleep 0.01; done\n\
             echo $v > {d}/victim\n"
        ),
    )
    .expect("write");
    std::fs::write(
        dir.join("gdb"),
        format!(
            "set pagination off\nset confirm off\n\
             break sandwrap::engine::notifier::CallerStatus::read\n\
             commands\nshell sh {d}/swap.sh\ncontinue\nend\n\
             shell touch {d}/go\ncontinue\n"
        ),
    )
    .expect("write");
    let mut sw = sandwrap([
        "--ro-bind",
        "/",
        "/",
        "--bind",
        &d,
        &d,
        "--seccomp-deny",
        "ptrace:kill",
        "--seccomp-report",
        "--",
        &bin.display().to_string(),
        &format!("{d}/pid"),
        &format!("{d}/go"),
    ]);
    sw.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let child = sw.spawn().expect("spawn");
    let supervisor = child.id().to_string();
    assert!(wait_until("the child's pid", || dir.join("pid").exists()));
    let g = std::process::Command::new("gdb")
        .args([
            "-q",
            "-nx",
            "-batch",
            "-iex",
            "set sysroot /",
            "-p",
            &supervisor,
            "-x",
        ])
        .arg(dir.join("gdb"))
        .output()
        .expect("gdb");
    let o = child.wait_with_output().expect("wait");
    let victim: u32 = std::fs::read_to_string(dir.join("victim"))
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "gdb never stopped the supervisor: {}",
                String::from_utf8_lossy(&g.stdout)
            )
        });
    let a: u32 = std::fs::read_to_string(dir.join("pid"))
        .expect("pid")
        .trim()
        .parse()
        .expect("pid");
    std::thread::sleep(Duration::from_millis(200));
    let alive = std::fs::read_to_string(format!("/proc/{victim}/stat"))
        .is_ok_and(|s| s.contains("(sleep) S"));
    kill_all(&[victim]);
    if victim != a {
        skip!("skipping: another process took pid {a} first (the victim got {victim})");
        return;
    }
    assert!(
        alive,
        "the supervisor killed pid {a}, now a process outside the sandbox: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// sandwrap's own machinery leaves no fd in the command: the notification
/// listener and its socket (`--seccomp-report` to stderr), the timeout's
/// pidfd, the guard filter of landlock's network rules, the lock file's fd
/// (held by the reaper), the status pipe. The command's fd list equals a
/// plain run's (the fd options are `tests/fds.rs`'s).
#[test]
fn no_fd_of_sandwraps_own_reaches_the_command() {
    let list = |extra: &[&str]| {
        let mut args = vec!["--ro-bind", "/", "/", "--proc", "/proc"];
        args.extend(extra);
        args.extend(["--", "sh", "-c", "cd /proc/self/fd && echo *"]);
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{extra:?}: {err}");
        out
    };
    let plain = list(&[]);
    for extra in [
        &["--seccomp-policy", "default", "--seccomp-report"][..],
        &[
            "--seccomp-deny",
            "mkdir:kill",
            "--seccomp-report",
            "--unshare-pid",
        ],
        &["--timeout", "30s"],
        &["--timeout", "30s", "--unshare-pid", "--new-session"],
        &["--landlock-tcp-connect", "443", "--unshare-net"],
        &["--lock-file", "/etc/hostname"],
        &["--uid", "0", "--cap-add", "ALL", "--unshare-pid"],
    ] {
        assert_eq!(list(extra), plain, "{extra:?}");
    }
}

/// What the caller's shell would read after running `sandwrap ARGS --
/// pty inject ...` in a terminal (the helper bound at /tmp/inject).
fn pending_after(args: &[&str]) -> Option<String> {
    let pty = c_helper("pty", PTY_C)?;
    let pty_s = pty.display().to_string();
    let mut cmd = user_command(&pty);
    cmd.arg(sandwrap_bin()).args(args).args([
        "--ro-bind",
        &pty_s,
        "/tmp/inject",
        "--",
        "/tmp/inject",
        "inject",
        "echo INJECTED\n",
    ]);
    let (_, out, err) = output_within(cmd, Duration::from_secs(30));
    assert!(out.contains("EXIT:"), "{out}{err}");
    Some(out)
}

/// TIOCSTI pushes keystrokes into the controlling terminal, which the
/// caller's shell reads once sandwrap is done (CVE-2017-5226). The profiles
/// and `--new-session` leave nothing in the terminal's input, on a kernel
/// that allows TIOCSTI (`dev.tty.legacy_tiocsti=1`).
#[test]
fn tiocsti_reaches_no_shell_with_new_session_or_a_profile() {
    let base = ["--ro-bind", "/", "/", "--tmpfs", "/tmp"];
    let Some(open) = pending_after(&base) else {
        return;
    };
    if !open.contains("PENDING:echo INJECTED") {
        skip!("skipping: TIOCSTI does not inject here even without --new-session: {open}");
        return;
    }
    let mut args = base.to_vec();
    args.push("--new-session");
    let out = pending_after(&args).expect("helper");
    assert!(out.contains("PENDING-NONE"), "--new-session: {out}");
    for profile in ["untrusted", "build", "ci"] {
        let out = pending_after(&["--profile", profile]).expect("helper");
        assert!(out.contains("PENDING-NONE"), "--profile {profile}: {out}");
    }
}

/// The same without `--new-session` nor a seccomp policy, the default
/// (bwrap's too): the command's keystrokes run in the caller's shell, on
/// the host, as soon as sandwrap exits. Open (see the report).
#[test]
#[ignore = "open: TIOCSTI without --new-session injects into the caller's terminal, as with bwrap"]
fn tiocsti_reaches_no_shell_by_default() {
    let Some(out) = pending_after(&["--ro-bind", "/", "/", "--tmpfs", "/tmp", "--unshare-all"])
    else {
        return;
    };
    assert!(out.contains("PENDING-NONE"), "{out}");
}

/// `--profile untrusted` keeps the top-level `.git` read-only, but a
/// submodule's `.git` is a file in the work tree naming its git directory:
/// the command points it at a git directory of its own with
/// `core.fsmonitor` set, and the host's next `git status` at the top (which
/// runs a `git status` in each submodule) runs that command on the host.
/// `--protect DIR/.git` (as `untrusted` uses it) also protects the `.git`
/// of every submodule its index registers.
#[test]
fn untrusted_profile_leaves_no_git_config_for_the_hosts_git() {
    let Some((dir, d, setup)) = submodule_project("review-submodule") else {
        return;
    };
    let attack = format!(
        "cp -r .git/modules/sub .evil && \
         sed -i 's|worktree = .*|worktree = ../sub|' .evil/config && \
         printf '[core]\\n\\tfsmonitor = \"touch {d}/PWNED; false\"\\n' >> .evil/config && \
         echo 'gitdir: ../.evil' > sub/.git"
    );
    let script = format!(
        "{setup}
         {sw} --profile untrusted -- sh -c \"$0\" || echo refused
         git status >/dev/null 2>&1 || true",
        sw = sandwrap_bin().display()
    );
    let mut cmd = user_sh(&script);
    cmd.arg(&attack);
    let (code, out, err) = output_within(cmd, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        !dir.join("PWNED").exists(),
        "the host's git status ran the command's core.fsmonitor: {out}{err}"
    );
}

/// A submodule path replaced by a symlink (as an earlier run could leave
/// it) must neither make `--protect DIR/.git` bind what the link points to
/// (here a git directory outside the project holding a token) nor keep the
/// sandbox from starting (binding through the link failed setup).
#[test]
fn a_symlinked_submodule_path_exposes_nothing() {
    let Some((_dir, d, setup)) = submodule_project("review-submodule-link") else {
        return;
    };
    let script = format!(
        "{setup}
         mkdir -p {d}/secret/.git; echo TOKEN-1234 > {d}/secret/.git/config
         mv sub sub.real; ln -s {d}/secret sub
         {sw} --profile untrusted -- sh -c 'echo RAN; cat sub/.git/config; cat {d}/secret/.git/config' || true",
        sw = sandwrap_bin().display()
    );
    let cmd = user_sh(&script);
    let (code, out, err) = output_within(cmd, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("RAN"), "the sandbox did not start: {out}{err}");
    assert!(
        !out.contains("TOKEN-1234"),
        "the link's target was bound: {out}{err}"
    );
}

/// A scratch dir (and its path as text) with a project `top` whose
/// submodule `sub` is checked out, and the shell lines that make it
/// (ending in `top`); None when git is missing.
fn submodule_project(name: &str) -> Option<(std::path::PathBuf, String, String)> {
    if !std::path::Path::new("/usr/bin/git").exists() {
        skip!("skipping: git is not installed");
        return None;
    }
    let dir = scratch(name);
    let d = dir.display().to_string();
    let setup = format!(
        "set -e; export HOME={d} GIT_CONFIG_NOSYSTEM=1; cd {d}
         git config --global user.email a@b; git config --global user.name a
         git config --global protocol.file.allow always
         git init -q lib; git -C lib commit -q --allow-empty -m x
         git init -q top; cd top; git submodule add -q ../lib sub; git commit -qm s"
    );
    Some((dir, d, setup))
}

/// `sh -c SCRIPT` in the host's view, without a pid namespace, so that the
/// command's parent (`$PPID`) is the supervisor.
fn without_pid_namespace(extra: &[&str], script: &str) -> Vec<String> {
    let mut args: Vec<String> = ["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
        .map(String::from)
        .to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["--", "sh", "-c", script].map(String::from));
    args
}

/// `prlimit --pid $PPID --nofile=0` from inside, without --unshare-pid: had
/// the supervisor been the command's parent, it could no longer open
/// `/proc/PID/task/TID/children`, its walks of the sandbox's processes
/// would find none, and `--timeout` would kill nothing (landlock does not
/// confine prlimit(2)). `--timeout` implies a pid namespace: `$PPID` is
/// pid 1, and the supervisor outside is out of reach.
#[test]
fn prlimit_on_the_supervisor_does_not_defeat_the_timeout() {
    if !prlimit_available() {
        return;
    }
    let script = "prlimit --pid $PPID --nofile=0; sleep 20; echo still running";
    let args = without_pid_namespace(&["--timeout", "1s", "--kill-after", "1s"], script);
    let started = Instant::now();
    let (_, out, err) = output_within(sandwrap(&args), Duration::from_secs(30));
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "ran {took:?} under --timeout 1s: {out}{err}"
    );
    assert!(!out.contains("still running"), "{out}{err}");
}

/// The same lever against the end of the sandbox (--end-with-command; by
/// default what the command leaves keeps running, as with bwrap): a
/// process that left the command's session and parentage must not survive.
/// The option implies a pid namespace, whose pid 1 (the `$PPID` here) ends
/// it with kill(-1), which needs no fd, so a zero RLIMIT_NOFILE stops
/// nothing.
#[test]
fn prlimit_on_the_supervisor_leaves_nothing_behind() {
    if !prlimit_available() {
        return;
    }
    let dir = scratch("review-leftover");
    let mark = dir.join("survived");
    let script = format!(
        "prlimit --pid $PPID --nofile=0; setsid sh -c 'sleep 2; echo yes > {}' & exit 0",
        mark.display()
    );
    let args = without_pid_namespace(
        &[
            "--end-with-command",
            "--bind",
            &dir.display().to_string(),
            &dir.display().to_string(),
        ],
        &script,
    );
    let (code, _, err) = output_within(sandwrap(&args), Duration::from_secs(30));
    assert_eq!(code, Some(0), "{err}");
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !mark.exists(),
        "a process of the sandbox ran on after it ended"
    );
}

fn prlimit_available() -> bool {
    let ok = PathBuf::from("/usr/bin/prlimit").exists();
    if !ok {
        skip!("skipping: prlimit(1) is not installed");
    }
    ok
}
