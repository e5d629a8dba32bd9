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

/// How sandwrap finds a process's children: the kernel's lists, and the
/// scan of /proc a kernel without CONFIG_PROC_CHILDREN leaves it with.
const CHILDREN_SOURCES: [Option<&str>; 2] = [None, Some("scan")];

/// `SANDWRAP_PROC_CHILDREN=scan` on `cmd` for the scan.
fn find_children_by(cmd: &mut std::process::Command, source: Option<&str>) {
    if let Some(source) = source {
        cmd.env("SANDWRAP_PROC_CHILDREN", source);
    }
}

/// Run `sandwrap BASE --tmpfs /tmp EXTRA -- sh -c (leave a sleep)`, for at
/// most 20 s, finding children by `source`: (exit code or None if it hung,
/// stderr, seconds taken, pids under the marker still there right after it
/// returned). The leftovers are killed.
fn leave_behind(extra: &[&str], source: Option<&str>) -> (Option<i32>, String, f64, Vec<u32>) {
    let m = marker("review2");
    let args = sh(&[&["--tmpfs", "/tmp"], extra].concat(), &leave_a_sleep(&m));
    // stderr to a file: a pipe would stay open as long as pid 1 holds it.
    let path = scratch("review2").join("err");
    let file = std::fs::File::create(&path).expect("create the stderr file");
    let mut cmd = sandwrap(&args);
    find_children_by(&mut cmd, source);
    cmd.stdout(std::process::Stdio::null()).stderr(file);
    let mut child = cmd.spawn().expect("spawn");
    let start = Instant::now();
    let code = wait_within(&mut child, Duration::from_secs(20)).map(|s| s.code().unwrap_or(-1));
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
    // A timeout past leave_behind's 20 s: returning within that, status 3,
    // is returning at the command's exit, neither at the timeout nor when
    // the leftover (sleep 100) ends; no bound on how fast that is.
    for (extra, source) in [
        &["--timeout", "60"][..],
        &["--timeout", "60", "--json-status-fd", "2"],
    ]
    .into_iter()
    .flat_map(|e| CHILDREN_SOURCES.map(|s| (e, s)))
    {
        let (code, err, took, left) = leave_behind(extra, source);
        assert_eq!(
            code,
            Some(3),
            "{extra:?} {source:?}: ended by the timeout or hung ({took:.1}s): {err}"
        );
        assert!(
            left.is_empty(),
            "{extra:?} {source:?}: the command's background process outlived sandwrap and its --timeout: {left:?}"
        );
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
    for source in CHILDREN_SOURCES {
        let (code, err, took, _) = leave_behind(&extra, source);
        assert_eq!(
            code,
            Some(3),
            "{source:?}: sandwrap hung or failed ({took:.1}s): {err}"
        );
        assert!(
            took < 5.0,
            "{source:?}: sandwrap waited {took:.1}s for the leftover: {err}"
        );
        assert!(err.contains("\"exit-code\": 3"), "{err}");
        assert!(err.contains("\"user-cpu-seconds\""), "{err}");
    }
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
         while ! grep -q '}}' {info} 2>/dev/null; do sleep 0.05; done; \
         p=$(grep -o '\"child-pid\": [0-9]*' {info} | grep -o '[0-9]*$'); \
         {bin} --userns 3 --pidns 4 --timeout 5 {base} -- sh -c 'exit 3' \
           3</proc/$p/ns/user 4</proc/$p/ns/pid; echo code=$?; \
         {bin} --userns 3 --pidns 4 --timeout 1 --kill-after 1 {base} -- sleep 30 \
           3</proc/$p/ns/user 4</proc/$p/ns/pid; echo late=$?; kill $first"
    );
    for source in CHILDREN_SOURCES {
        let mut cmd = user_sh(&script);
        find_children_by(&mut cmd, source);
        let o = output(cmd);
        let (out, err) = (stdout(&o), stderr(&o));
        assert!(out.contains("code=3"), "{source:?}: {out} {err}");
        assert!(out.contains("late=124"), "{source:?}: {out} {err}");
        assert!(
            err.contains("timed out after 1s"),
            "{source:?}: {out} {err}"
        );
    }
}

/// What `--timeout` killed is accounted in the usage with the children
/// found either way: pid 1 (a reaper with a child) is spared while the rest
/// is killed and waits for it. Without a child found, pid 1 would be killed
/// at once, and the kernel's end of the namespace accounts for nothing.
#[test]
fn usage_after_a_timeout_counts_what_was_killed_however_children_are_found() {
    let Some(work) = c_helper("usage", include_str!("limits/usage.c")) else {
        return;
    };
    // A grandchild that ignores SIGTERM burns 0.3 s of CPU, then hangs.
    let script = format!("trap '' TERM; {} hang 0.3 & wait", work.display());
    let extra = ["--timeout", "3s", "--kill-after", "0.5s"];
    let status = ["--json-status-fd", "2", "--json-usage", "--unshare-pid"];
    for source in CHILDREN_SOURCES {
        let mut cmd = sandwrap(sh(&[&extra[..], &status].concat(), &script));
        find_children_by(&mut cmd, source);
        let (code, _, err) = output_within(cmd, Duration::from_secs(20));
        assert_eq!(code, Some(124), "{source:?}: {err}");
        let usage = err
            .lines()
            .find(|l| l.starts_with("{ \"timed-out\": true, "))
            .unwrap_or_else(|| panic!("{source:?}: no usage: {err}"));
        let cpu = ["user-cpu-seconds", "system-cpu-seconds"]
            .map(|key| {
                let at = usage.find(&format!("\"{key}\": ")).expect(key) + key.len() + 4;
                let end = usage[at..].find([',', ' ']).map_or(usage.len(), |e| at + e);
                usage[at..end].parse::<f64>().expect(key)
            })
            .iter()
            .sum::<f64>();
        assert!(cpu >= 0.29, "{source:?}: cpu {cpu}: {usage}");
    }
}
