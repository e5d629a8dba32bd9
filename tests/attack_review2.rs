//! Attacks from a review of the lifecycle, `--timeout` and `--json-usage`,
//! from inside, as the unprivileged test user: a command that exits at
//! once and leaves a process behind, which by bwrap's lifecycle keeps
//! running, tries to outlive a `--timeout` (and so to hold what the caller
//! gave the sandbox past the limit) and to keep sandwrap itself from ever
//! returning.
mod common;
use common::*;

use std::time::{Duration, Instant};

/// A script that starts a `sleep 100` under marker `m` in the background,
/// waits until it really runs, and exits 3.
fn leave_a_sleep(m: &str) -> String {
    format!(
        "ln -s \"$(command -v sleep)\" {m} || exit 9; {m} 100 >/dev/null 2>&1 & \
         while ! grep -q '^{m}' /proc/$!/cmdline 2>/dev/null; do :; done; exit 3"
    )
}

/// Run `sandwrap BASE --tmpfs /tmp EXTRA -- sh -c (leave a sleep)`, for at
/// most 20 s: (exit code or None if it hung, stderr, seconds taken, pids
/// under the marker still there right after it returned). The leftovers
/// are killed.
fn leave_behind(extra: &[&str]) -> (Option<i32>, String, f64, Vec<u32>) {
    let m = marker("review2");
    let args = sh(&[&["--tmpfs", "/tmp"], extra].concat(), &leave_a_sleep(&m));
    // stderr to a file: a pipe would stay open as long as pid 1 holds it.
    let path = scratch("review2").join("err");
    let file = std::fs::File::create(&path).expect("create the stderr file");
    let mut cmd = sandwrap(&args);
    cmd.stdout(std::process::Stdio::null()).stderr(file);
    let mut child = cmd.spawn().expect("spawn");
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status.code().unwrap_or(-1));
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = start.elapsed().as_secs_f64();
    let left = pids_with_argv0(&m);
    kill_all(&left);
    let err = std::fs::read_to_string(&path).unwrap_or_default();
    (code, err, took, left)
}

/// docs/security.md: "with `--timeout`, the sandbox has a pid namespace of
/// its own: when the command exits pid 1 ends every process left". Before
/// the fix, a command that exited in time left its background process
/// running past the limit: sandwrap returned at once and nothing enforced
/// the time any more (or, with --json-status-fd, sandwrap waited for the
/// leftover as long as it lived, its watchdog already disarmed).
#[test]
fn timeout_ends_what_the_command_left_running_when_it_exits_first() {
    for extra in [
        &["--timeout", "2"][..],
        &["--timeout", "2", "--json-status-fd", "2"],
    ] {
        let (code, err, took, left) = leave_behind(extra);
        assert_eq!(code, Some(3), "{extra:?}: {err}");
        assert!(
            left.is_empty(),
            "{extra:?}: the command's background process outlived sandwrap and its --timeout: {left:?}"
        );
        assert!(took < 1.8, "{extra:?}: sandwrap took {took:.1}s: {err}");
        if extra.len() > 2 {
            assert!(err.contains("\"timed-out\": false"), "{err}");
        }
    }
}

/// `--json-usage` asks for a report, not another lifecycle: by default
/// (bwrap's lifecycle) sandwrap returns when the command exits, whatever
/// it left running. Before the fix, sandwrap waited for pid 1 to measure
/// the usage, and pid 1 stays until the last process has gone: a command
/// that leaves a daemon kept sandwrap (and its caller) waiting for ever.
#[test]
fn json_usage_does_not_keep_sandwrap_waiting_for_what_the_command_left() {
    let extra = ["--unshare-pid", "--json-status-fd", "2", "--json-usage"];
    let (code, err, took, _) = leave_behind(&extra);
    assert_eq!(code, Some(3), "sandwrap hung or failed ({took:.1}s): {err}");
    assert!(
        took < 5.0,
        "sandwrap waited {took:.1}s for the leftover: {err}"
    );
    assert!(err.contains("\"exit-code\": 3"), "{err}");
    assert!(err.contains("\"user-cpu-seconds\""), "{err}");
}

/// `--timeout` in a joined pid namespace (`--userns FD --pidns FD`, which
/// `--timeout` nests a pid namespace of its own in, through the relay).
/// The kernel refuses CLONE_THREAD once a process's pid namespace for
/// children differs from its own (EINVAL), and a threaded process cannot
/// join a user namespace: the watchdog thread is started between the two
/// joins. Both a command that ends in time and one that does not.
#[test]
fn timeout_works_in_a_joined_pid_namespace() {
    let bin = sandwrap_bin().display().to_string();
    let dir = scratch("review2-join");
    let info = dir.join("info").display().to_string();
    let base = "--ro-bind / / --dev-bind /dev /dev --proc /proc";
    let script = format!(
        "{bin} --unshare-user --unshare-pid --info-fd 5 {base} -- sleep 20 5>{info} & first=$!; \
         while ! grep -q child-pid {info} 2>/dev/null; do sleep 0.05; done; \
         p=$(grep -o '\"child-pid\": [0-9]*' {info} | grep -o '[0-9]*$'); \
         {bin} --userns 3 --pidns 4 --timeout 5 {base} -- sh -c 'exit 3' \
           3</proc/$p/ns/user 4</proc/$p/ns/pid; echo code=$?; \
         {bin} --userns 3 --pidns 4 --timeout 1 --kill-after 1 {base} -- sleep 30 \
           3</proc/$p/ns/user 4</proc/$p/ns/pid; echo late=$?; kill $first"
    );
    let mut cmd = user_command(std::path::Path::new("/bin/sh"));
    cmd.args(["-c", &script]);
    let o = output(cmd);
    let (out, err) = (stdout(&o), stderr(&o));
    assert!(out.contains("code=3"), "{out} {err}");
    assert!(out.contains("late=124"), "{out} {err}");
    assert!(err.contains("timed out after 1s"), "{out} {err}");
}
