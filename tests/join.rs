//! Joining a running sandbox the way flatpak-spawn does (`--userns`,
//! `--userns2`, `--pidns`), and `--disable-userns` /
//! `--assert-userns-disabled`, as an unprivileged user.
mod common;
mod fdpass;

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::process::{Child, Stdio};
use std::time::Duration;

use common::*;
use fdpass::*;

/// The first sandbox's command, found by its arguments. It echoes its
/// stdin: a line read back proves it has exec'd (its /proc cmdline is
/// this), which a shell's `echo ready` next to `MARKER &` did not (the
/// fork could still be the shell when the second sandbox listed it).
const MARKER: &str = "cat -u";

struct First {
    child: Child,
    stdin: std::fs::File,
    pid: i64,
    info: Vec<(String, i64)>,
}

impl First {
    /// Start a sandbox with a pid namespace that runs MARKER, and wait
    /// until MARKER itself answers.
    fn start(extra: &[&str]) -> First {
        let (info_r, info_w) = pipe();
        let (in_r, in_w) = pipe();
        // No --dev: it would put the processes in a nested user namespace,
        // whose fd alone cannot be used to join the pid namespace (owned by
        // the outer one), exactly as with bwrap.
        let marker: Vec<&str> = MARKER.split(' ').collect();
        let args = cmdline(
            &[
                &["--unshare-user", "--unshare-pid", "--info-fd", "5"],
                RO_ROOT,
                &["--dev-bind", "/dev", "/dev"],
                PROC,
                extra,
            ],
            &marker,
        );
        let mut cmd = sandwrap(&args);
        pass(&mut cmd, &[(info_w.as_raw_fd(), 5)]);
        cmd.stdin(Stdio::from(in_r))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn first sandbox");
        drop(info_w);
        let info = parse_flat_json(&read_to_end(info_r));
        assert!(!info.is_empty(), "no info from the first sandbox");
        let mut stdin = std::fs::File::from(in_w);
        stdin.write_all(b"ready\n").expect("write to MARKER");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().expect("stdout"))
            .read_line(&mut line)
            .expect("ready");
        assert_eq!(line, "ready\n", "first sandbox did not start: {line:?}");
        let pid = info[0].1;
        First {
            child,
            stdin,
            pid,
            info,
        }
    }

    fn ns(&self, name: &str) -> i64 {
        self.info
            .iter()
            .find(|(k, _)| k == &format!("{name}-namespace"))
            .map(|(_, v)| *v)
            .expect("namespace in info")
    }

    /// `sandwrap --userns 3 --pidns 4 OPTS -- COMMAND`, with fds 3 and 4
    /// opened on this sandbox's user and pid namespaces.
    fn join(&self, opts: &[&[&str]], command: &[&str]) -> (i32, String, String) {
        let p = self.pid;
        let args = cmdline(
            &[&["--userns", "3", "--pidns", "4"], &opts.concat()],
            command,
        );
        join(
            &[
                (3, format!("/proc/{p}/ns/user")),
                (4, format!("/proc/{p}/ns/pid")),
            ],
            &strs(&args),
        )
    }

    fn stop(mut self) {
        let _ = self.stdin.write_all(b"\n");
        drop(self.stdin);
        let o = self.child.wait_with_output().expect("wait first");
        assert_eq!(o.status.code(), Some(0), "first sandbox: {}", stderr(&o));
    }
}

/// Run `sandwrap ARGS` as the test user with fds 3, 4 and 5 opened (by the
/// test user, through the shell) on the given paths, like a launcher that
/// opens /proc/PID/ns/* itself.
fn join(opens: &[(u8, String)], args: &[&str]) -> (i32, String, String) {
    let mut script = String::from("exec \"$@\"");
    for (fd, path) in opens {
        script.push_str(&format!(" {fd}<'{path}'"));
    }
    let mut cmd = user_command(std::path::Path::new("/bin/sh"));
    cmd.args(["-c", &script, "sh"])
        .arg(sandwrap_bin())
        .args(args);
    let o = output(cmd);
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

const LIST_PROCS: &str = "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done";

fn sees_marker(out: &str) -> bool {
    out.lines().any(|l| l.trim_end() == MARKER)
}

#[test]
fn join_user_and_pid_namespace_of_a_running_sandbox() {
    let first = First::start(&[]);
    let p = first.pid;
    assert!(alive(p));
    let script = format!("{LIST_PROCS}; readlink /proc/self/ns/pid; id -u");
    let (code, out, err) = first.join(&[RO_ROOT, PROC], &["sh", "-c", &script]);
    assert_eq!(code, 0, "{err}");
    assert!(
        sees_marker(&out),
        "the second sandbox must see the first one's processes: {out}"
    );
    assert!(
        out.contains(&format!("pid:[{}]", first.ns("pid"))),
        "same pid namespace: {out}"
    );
    assert_eq!(
        out.lines().last(),
        Some(caller_uid().to_string().as_str()),
        "{out}"
    );
    first.stop();
}

#[test]
fn join_a_sandbox_with_disabled_user_namespaces_like_flatpak_spawn() {
    // The first sandbox exposes its outer user namespace at /run/.userns
    // (flatpak's trick); its processes live in a nested one.
    let first = First::start(&[
        "--disable-userns",
        "--tmpfs",
        "/run",
        "--ro-bind-try",
        "/proc/self/ns/user",
        "/run/.userns",
    ]);
    let p = first.pid;
    let script = format!("{LIST_PROCS}; id -u; if unshare -U true; then echo unshare-worked; fi");
    let args = sh_cmdline(
        &[
            &["--userns", "3", "--userns2", "5", "--pidns", "4"],
            &["--assert-userns-disabled"],
            RO_ROOT,
            PROC,
        ],
        &script,
    );
    let (code, out, err) = join(
        &[
            (3, format!("/proc/{p}/root/run/.userns")),
            (4, format!("/proc/{p}/ns/pid")),
            (5, format!("/proc/{p}/ns/user")),
        ],
        &strs(&args),
    );
    assert_eq!(code, 0, "{err}");
    assert!(sees_marker(&out), "{out}");
    assert!(!out.lines().any(|l| l == "unshare-worked"), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.last(),
        Some(&caller_uid().to_string().as_str()),
        "after --userns2 the ids are the sandbox's: {out}"
    );

    // Without --userns2 the command stays in the outer namespace, where the
    // caller is uid 0, and bwrap does not switch ids unless --uid is given.
    let args = sh_cmdline(
        &[&["--userns", "3", "--pidns", "4"], RO_ROOT, PROC],
        &format!("{LIST_PROCS}; id -u"),
    );
    let (code, out, err) = join(
        &[
            (3, format!("/proc/{p}/root/run/.userns")),
            (4, format!("/proc/{p}/ns/pid")),
        ],
        &strs(&args),
    );
    assert_eq!(code, 0, "{err}");
    assert!(sees_marker(&out), "{out}");
    assert_eq!(out.lines().last(), Some("0"), "{out}");
    first.stop();
}

#[test]
fn assert_userns_disabled_fails_when_user_namespaces_are_allowed() {
    let (code, out, err) = run(&sh(&["--assert-userns-disabled"], "echo ran"));
    assert_eq!(
        (code, out.as_str(), err.trim()),
        (
            1,
            "",
            "sandwrap: creation of new user namespaces was not disabled as requested"
        )
    );
    // Joining a sandbox that did not disable them does not help.
    let first = First::start(&[]);
    let (code, out, err) = first.join(&[&["--assert-userns-disabled"], RO_ROOT], &["echo", "ran"]);
    assert_eq!(
        (code, out.as_str(), err.trim()),
        (
            1,
            "",
            "sandwrap: creation of new user namespaces was not disabled as requested"
        )
    );
    first.stop();
}

#[test]
fn disable_userns_stops_new_user_namespaces_inside() {
    // Control: allowed by default.
    let (code, out, err) = run(&sh(&[], "unshare -U true && echo allowed"));
    if code != 0 {
        skip!("skipping: unshare -U does not work in a plain sandbox here: {err}");
        return;
    }
    assert_eq!(out, "allowed\n");
    for extra in [
        &["--disable-userns"][..],
        &["--disable-userns", "--assert-userns-disabled"][..],
    ] {
        let mut e = vec!["--unshare-user"];
        e.extend(extra);
        let (code, out, err) = run(&sh(
            &e,
            "if unshare -U true; then echo allowed; else echo refused; fi; id -u",
        ));
        assert_eq!(code, 0, "{extra:?}: {err}");
        assert_eq!(
            out,
            format!("refused\n{}\n", caller_uid()),
            "{extra:?}: {err}"
        );
    }
}

#[test]
fn join_errors() {
    // Not a namespace fd.
    let (code, _, err) = join(
        &[(3, "/dev/null".into())],
        &["--userns", "3", "--ro-bind", "/", "/", "true"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        err.trim(),
        "sandwrap: Joining the specified user namespace failed, it might not be a descendant of the current user namespace."
    );
    let (code, _, err) = join(
        &[(4, "/dev/null".into())],
        &["--pidns", "4", "--ro-bind", "/", "/", "true"],
    );
    assert_eq!(
        (code, err.trim()),
        (1, "sandwrap: Setting pidns failed: Invalid argument")
    );
    // Our own (initial) user namespace is not a descendant of itself.
    let (code, _, err) = join(
        &[(3, "/proc/self/ns/user".into())],
        &["--userns", "3", "--ro-bind", "/", "/", "true"],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("sandwrap: Joining the specified user namespace failed"),
        "{err}"
    );
    // Parse-time rules.
    let (code, _, err) = run(&["--userns", "3", "--unshare-user", "true"]);
    assert_eq!(
        (code, err.trim()),
        (1, "sandwrap: --userns not compatible --unshare-user")
    );
    let (code, _, err) = run(&["--userns", "3", "--unshare-all", "true"]);
    assert_eq!(
        (code, err.trim()),
        (1, "sandwrap: --userns not compatible --unshare-user-try")
    );
    let (code, _, err) = run(&["--disable-userns", "true"]);
    assert_eq!(
        (code, err.trim()),
        (1, "sandwrap: --disable-userns requires --unshare-user")
    );
    let (code, _, err) = run(&[
        "--unshare-user",
        "--disable-userns",
        "--userns-block-fd",
        "3",
        "--info-fd",
        "4",
        "true",
    ]);
    assert_eq!(
        (code, err.trim()),
        (
            1,
            "sandwrap: --disable-userns is not compatible with  --userns-block-fd"
        )
    );
}

#[test]
fn the_first_sandbox_ends_cleanly_after_being_joined() {
    // Nothing the second sandbox started keeps the first one alive, and
    // the marker goes away with the first sandbox's pid namespace.
    let first = First::start(&[]);
    let p = first.pid;
    let (code, _, err) = first.join(&[RO_ROOT], &["true"]);
    assert_eq!(code, 0, "{err}");
    first.stop();
    assert!(
        wait_for(Duration::from_secs(10), || !alive(p)),
        "pid 1 of the first sandbox outlived it"
    );
}

/// What the second sandbox sees, run by `launcher` joined to `first` with
/// a new pid namespace of its own: (its processes' number, whether the
/// first one's marker is among them, its own pid, the number of pid
/// namespace levels its command is in as the host sees it).
fn nested_view(launcher: &std::path::Path, first: &First, new_ns: &str) -> (i32, String, String) {
    let p = first.pid;
    // The new namespace's procfs at /run/proc; /proc stays the host's
    // (from the recursive bind of /), where NSpid lists every level.
    let script = "n=0; for f in /run/proc/[0-9]*/cmdline; do n=$((n+1)); \
                  [ \"$(tr '\\0' ' ' < $f)\" = 'sleep 3217 ' ] && echo sees-marker; done; \
                  echo procs=$n pid=$$; \
                  echo levels=$(grep NSpid /proc/self/status | wc -w)";
    let mut cmd = user_command(std::path::Path::new("/bin/sh"));
    cmd.args([
        "-c",
        &format!("exec \"$@\" 3</proc/{p}/ns/user 4</proc/{p}/ns/pid"),
        "sh",
    ])
    .arg(launcher)
    .args([
        "--userns",
        "3",
        "--pidns",
        "4",
        new_ns,
        "--ro-bind",
        "/",
        "/",
        "--tmpfs",
        "/run",
        "--proc",
        "/run/proc",
        "--",
        "sh",
        "-c",
        script,
    ]);
    let o = output(cmd);
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

#[test]
fn join_a_pid_namespace_and_nest_a_new_one_like_flatpak_expose_pids() {
    // flatpak's --parent-expose-pids: a second sandbox joins the first
    // one's user and pid namespaces and unshares a pid namespace of its
    // own, nested in the first one's. It sees only its own processes (its
    // pid 1 and its command, pid 2), and its command is three pid
    // namespace levels deep: the host's, the first sandbox's, its own.
    // --end-with-command implies the new pid namespace.
    let first = First::start(&[]);
    let ours = nested_view(&sandwrap_bin(), &first, "--unshare-pid");
    let expected = (0, "procs=2 pid=2\nlevels=4\n".to_string(), String::new());
    assert_eq!(ours, expected, "sandwrap");
    let ending = nested_view(&sandwrap_bin(), &first, "--end-with-command");
    assert_eq!(ending, expected, "sandwrap --end-with-command");
    match bwrap_bin() {
        Some(bwrap) => assert_eq!(
            ours,
            nested_view(&bwrap, &first, "--unshare-pid"),
            "differs from bwrap"
        ),
        None => skip!("skipping the bwrap side: /usr/bin/bwrap is not installed"),
    }
    first.stop();
}
