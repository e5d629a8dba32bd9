//! The two lifecycles. By default, bwrap's: sandwrap returns with the
//! command's status as soon as the command exits, what it left running
//! keeps running (pid 1 stays until the last process has gone), and the
//! sandbox does not die with sandwrap. With `--end-with-command`: when the
//! command exits everything it started is ended before sandwrap returns,
//! and when sandwrap dies the whole sandbox dies; the attacks below try to
//! outlive it with fork chains, double forks and fork loops, with and
//! without a pid namespace (and without any namespace, `--fallback
//! landlock`).
mod common;
mod fdpass;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use fdpass::*;

/// Every process of a helper's tree keeps the helper's argv[0] (a marker
/// made unique by a symlink) and gives up by itself after SECONDS, so that
/// a failing test cannot leave a fork loop running for long.
const FORKER_C: &str = r#"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static time_t deadline;

static void expire(void) {
    if (time(NULL) > deadline) _exit(0);
}

static void linger(void) {
    for (;;) { expire(); usleep(20000); }
}

/* Daemonise a lingering process: fork, new session, fork again, the
   middle one exits; returns once it has. */
static void daemonise(void) {
    pid_t p = fork();
    if (p == 0) {
        setsid();
        if (fork() == 0) linger();
        _exit(0);
    }
    waitpid(p, NULL, 0);
}

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    deadline = time(NULL) + atoi(argv[2]);
    const char *mode = argv[1];
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!strcmp(mode, "chain")) {
        /* Each process forks its successor and exits at once: the chain
           has no fixed pid, and every link is an orphan for a moment. */
        puts("started");
        for (;;) {
            expire();
            pid_t p = fork();
            if (p > 0) _exit(0);
            if (p < 0) usleep(1000);
        }
    }
    if (!strcmp(mode, "deep")) {
        /* A chain whose links stay: each process forks the next and
           lingers, 1500 deep (more than any fixed number of rounds that
           peel one generation at a time). */
        if (fork() == 0) {
            for (int depth = 0; depth < 1500; depth++) {
                pid_t p = fork();
                if (p != 0) break;
            }
            linger();
        }
        usleep(300000); /* let it grow */
        puts("started");
        return 0;
    }
    if (!strcmp(mode, "double")) {
        daemonise();
        puts("started");
        return 0;
    }
    if (!strcmp(mode, "loop")) {
        /* A spawner that keeps forking children (which fork too). */
        if (fork() == 0) {
            setsid();
            for (int n = 0;; n++) {
                expire();
                pid_t c = fork();
                if (c == 0) {
                    if (fork() == 0) linger();
                    linger();
                }
                usleep(n < 200 ? 1000 : 20000);
            }
        }
        puts("started");
        return 0;
    }
    if (!strcmp(mode, "stay")) {
        /* A daemonised child, and the command itself stays. */
        daemonise();
        puts("started");
        linger();
    }
    return 2;
}
"#;

/// The helper, compiled once; None (with the reason printed) without gcc.
fn forker() -> Option<PathBuf> {
    c_helper("forker", FORKER_C)
}

/// The options around a script: `BASE`, a /tmp for the marker, `extra`.
fn around(extra: &[&str], script: &str) -> Vec<String> {
    sh(&[&["--tmpfs", "/tmp"], extra].concat(), script)
}

/// A sleep under marker `m` in the background, once it really runs.
fn background_sleep(m: &str) -> String {
    format!(
        "ln -s \"$(command -v sleep)\" {m} || exit 9; {m} 100 >/dev/null 2>&1 & \
         while ! grep -q '^{m}' /proc/$!/cmdline 2>/dev/null; do :; done; echo started"
    )
}

/// Kill what is left under `m`, and say whether anything was.
fn leftovers(m: &str) -> Vec<u32> {
    let left = pids_with_argv0(m);
    kill_all(&left);
    left
}

#[derive(Debug, PartialEq)]
struct Outcome {
    code: i32,
    out: String,
    /// The background process still ran after the launcher returned.
    outlived: bool,
    /// (with --info-fd) the sandbox's first process was still there too.
    first_stayed: Option<bool>,
}

/// Run `launcher` over a command that leaves a background sleep and exits
/// 7; what is still running right after it returned.
fn leave_background(launcher: &str, pidns: bool) -> Option<Outcome> {
    let m = marker("bg");
    let script = format!("{}; exit 7", background_sleep(&m));
    let mut extra = vec!["--info-fd", "5"];
    if pidns {
        extra.push("--unshare-pid");
    }
    let args = around(&extra, &script);
    let mut cmd = if launcher == "bwrap" {
        bwrap(&args)?
    } else {
        sandwrap(&args)
    };
    let (info_r, info_w) = pipe();
    pass(&mut cmd, &[(std::os::fd::AsRawFd::as_raw_fd(&info_w), 5)]);
    // Into files: pid 1, which stays, keeps its stdout and stderr open
    // (bwrap's too), so a pipe would not see EOF when the launcher returns.
    let dir = scratch("lifecycle-out");
    let (out_path, err_path) = (dir.join("out"), dir.join("err"));
    let file = |p: &std::path::Path| std::fs::File::create(p).expect("create output file");
    cmd.stdout(file(&out_path)).stderr(file(&err_path));
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn");
    drop(info_w);
    let info = parse_flat_json(&read_to_end(info_r));
    let status = child.wait().expect("wait");
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{launcher} waited for the background process"
    );
    let outlived = !pids_with_argv0(&m).is_empty();
    let first = info.first().map(|(_, pid)| *pid);
    let first_stayed = pidns.then(|| first.is_some_and(alive));
    let left = leftovers(&m);
    if pidns && !left.is_empty() {
        // pid 1 stays until the last process has gone, then goes.
        if let Some(p) = first {
            assert!(
                wait_for(Duration::from_secs(10), || !alive(p)),
                "{launcher}: pid 1 ({p}) stayed after the last process had gone"
            );
        }
    }
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    assert!(
        read(&err_path).is_empty(),
        "{launcher}: {}",
        read(&err_path)
    );
    Some(Outcome {
        code: status.code().unwrap_or(-1),
        out: read(&out_path),
        outlived,
        first_stayed,
    })
}

#[test]
fn by_default_what_the_command_left_running_outlives_sandwrap_as_with_bwrap() {
    for pidns in [false, true] {
        let ours = leave_background("sandwrap", pidns).expect("sandwrap");
        assert_eq!(
            ours,
            Outcome {
                code: 7,
                out: "started\n".into(),
                outlived: true,
                first_stayed: pidns.then_some(true),
            },
            "pidns={pidns}"
        );
        match leave_background("bwrap", pidns) {
            Some(theirs) => assert_eq!(ours, theirs, "pidns={pidns}: differs from bwrap"),
            None => skip!("skipping the bwrap side: /usr/bin/bwrap is not installed"),
        }
    }
}

/// Start `args` (its command runs a sleep under marker `m` in the
/// foreground), SIGKILL the launcher once the sleep runs.
fn sigkill_launcher_once_running(mut cmd: Command, m: &str) {
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    // setpriv execs the launcher, so the child's pid is the launcher's.
    let mut child = cmd.spawn().expect("spawn");
    let started = wait_until("the sandboxed sleep", || !pids_with_argv0(m).is_empty());
    // SAFETY: killing our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    assert!(started, "the command never started");
}

/// `sigkill_launcher_once_running`; whether the sleep was still running a
/// moment later (time for a wrong end to show; a right one never comes).
fn survives_sigkill_of_launcher(cmd: Command, m: &str) -> bool {
    sigkill_launcher_once_running(cmd, m);
    std::thread::sleep(Duration::from_millis(300));
    !leftovers(m).is_empty()
}

/// `sigkill_launcher_once_running`; whether the sleep then ends (the end
/// is the sandbox's reaction to its supervisor's death: waited for, not
/// expected within a fixed 300 ms, which a loaded machine may exceed).
fn ends_after_sigkill_of_launcher(cmd: Command, m: &str) -> bool {
    sigkill_launcher_once_running(cmd, m);
    let ended = wait_until("the sandbox to end", || pids_with_argv0(m).is_empty());
    leftovers(m);
    ended
}

#[test]
fn by_default_the_sandbox_does_not_die_with_sandwrap_as_with_bwrap() {
    for pidns in [false, true] {
        let m = marker("nokill");
        let script = format!("ln -s \"$(command -v sleep)\" {m} && exec {m} 100");
        let mut extra = vec![];
        if pidns {
            extra.push("--unshare-pid");
        }
        let args = around(&extra, &script);
        assert!(
            survives_sigkill_of_launcher(sandwrap(&args), &m),
            "pidns={pidns}: the sandbox died with sandwrap"
        );
        let m = marker("nokill-bwrap");
        let script = format!("ln -s \"$(command -v sleep)\" {m} && exec {m} 100");
        let args = around(&extra, &script);
        match bwrap(&args) {
            Some(cmd) => assert!(
                survives_sigkill_of_launcher(cmd, &m),
                "pidns={pidns}: bwrap's sandbox died with bwrap (the reference changed?)"
            ),
            None => skip!("skipping the bwrap side: /usr/bin/bwrap is not installed"),
        }
    }
}

/// The forker in MODE under a fresh marker, as the command: (marker, the
/// options, made of `extra` then a bind of the helper, and the script).
fn forker_run(bin: &std::path::Path, mode: &str, extra: &[&str]) -> (String, Vec<String>) {
    let m = marker(mode);
    let script = format!("ln -s {} {m} && exec {m} {mode} 20", bin.display());
    let dir = bin.parent().expect("helper dir").display().to_string();
    let mut opts = extra.to_vec();
    opts.extend(["--ro-bind", &dir, &dir]);
    (m, around(&opts, &script))
}

#[test]
fn end_with_command_leaves_nothing_of_fork_chains_double_forks_and_fork_loops() {
    let Some(bin) = forker() else { return };
    for pidns in [false, true] {
        for mode in ["chain", "deep", "double", "loop"] {
            let mut extra = vec!["--end-with-command"];
            if pidns {
                extra.push("--unshare-pid");
            }
            let (m, args) = forker_run(&bin, mode, &extra);
            let (code, out, err) = run(&args);
            // Nothing may come back, not even a moment later.
            std::thread::sleep(Duration::from_millis(300));
            let left = leftovers(&m);
            assert_eq!(
                (code, out.as_str()),
                (0, "started\n"),
                "pidns={pidns} {mode}: {err}"
            );
            assert!(
                left.is_empty(),
                "pidns={pidns} {mode}: {} processes outlived sandwrap",
                left.len()
            );
        }
    }
}

#[test]
fn end_with_command_ends_everything_when_sandwrap_is_killed() {
    let Some(bin) = forker() else { return };
    for pidns in [false, true] {
        let mut extra = vec!["--end-with-command"];
        if pidns {
            extra.push("--unshare-pid");
        }
        let (m, args) = forker_run(&bin, "stay", &extra);
        let cmd = sandwrap(args);
        assert!(
            ends_after_sigkill_of_launcher(cmd, &m),
            "pidns={pidns}: the sandbox outlived SIGKILL of sandwrap"
        );
    }
}

#[test]
fn end_with_command_is_refused_with_as_pid_1() {
    let (code, _, err) = run(&around(
        &["--unshare-pid", "--as-pid-1", "--end-with-command"],
        "true",
    ));
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "sandwrap: --end-with-command is not compatible with --as-pid-1: the command, as pid 1, could keep the sandbox alive after sandwrap has gone\n"
    );
}

/// Run `script` in an outer sandbox that forbids user namespaces, so that
/// an inner `sandwrap --fallback landlock` runs without any namespace;
/// the outer sandbox's pid namespace holds everything, and the script
/// looks for leftovers from inside it.
fn in_fallback(script: &str) -> (i32, String, String) {
    // The shared test directory holds both sandwrap and the helper.
    let shared = sandwrap_bin();
    let shared = shared.parent().expect("shared dir").display().to_string();
    let args = sh(
        &[
            "--unshare-user",
            "--disable-userns",
            "--unshare-pid",
            "--tmpfs",
            "/tmp",
            "--ro-bind",
            &shared,
            &shared,
        ],
        script,
    );
    run(&args)
}

/// Count the processes under marker M, from inside the outer sandbox.
const COUNT: &str = "count() { n=0; for f in /proc/[0-9]*/cmdline; do \
     [ \"$(tr '\\0' '\\n' < $f 2>/dev/null | head -n1)\" = \"$M\" ] && n=$((n+1)); done; echo $n; }";

#[test]
fn end_with_command_holds_without_any_namespace_in_the_landlock_fallback() {
    let Some(bin) = forker() else { return };
    let sandwrap = sandwrap_bin().display().to_string();
    // "stop": the command first tries to stop its pid 1 and the
    // supervisor (same uid, no namespace between them), which would leave
    // its tree unwatched; its landlock domain's signal scope refuses it.
    // Each also with the children of a process found by a scan of /proc,
    // as on a kernel without CONFIG_PROC_CHILDREN.
    let modes = ["chain", "deep", "double", "loop", "kill", "stop"];
    for (mode, env) in modes
        .into_iter()
        .flat_map(|m| [(m, ""), (m, "SANDWRAP_PROC_CHILDREN=scan ")])
    {
        let m = format!("/tmp/fallback-{mode}");
        let command = match mode {
            "kill" => format!("{m} stay 20"),
            "stop" => format!(
                "sh -c 'kill -STOP $PPID $(cut -d\" \" -f4 /proc/$PPID/stat); exec {m} double 20'"
            ),
            _ => format!("{m} {mode} 20"),
        };
        // Bounded: a stopped supervisor would wait for ever.
        let bound = if mode == "stop" {
            "timeout -s KILL 20 "
        } else {
            ""
        };
        let inner = format!(
            "{env}{bound}{sandwrap} --fallback landlock --end-with-command --ro-bind / / -- {command}"
        );
        let body = if mode == "kill" {
            // SIGKILL of the inner sandwrap once its command runs.
            format!(
                "{inner} > /dev/null 2>/tmp/err & s=$!; \
                 while [ \"$(count)\" = 0 ]; do sleep 0.05; done; kill -9 $s; wait $s; echo code=$?"
            )
        } else {
            format!("{inner} 2>/tmp/err; echo code=$?")
        };
        let script = format!(
            "M={m}; {COUNT}; ln -s {} $M || exit 9; {body}; sleep 0.5; echo left=$(count); \
             grep -q 'cannot create namespaces' /tmp/err && echo fell-back; \
             grep -v '^sandwrap: warning' /tmp/err >&2; true",
            bin.display()
        );
        let (code, out, err) = in_fallback(&script);
        if err.contains("landlock") && err.contains("not supported") {
            skip!("skipping: the landlock fallback is not available here: {err}");
            return;
        }
        assert_eq!(code, 0, "{env}{mode}: {out} {err}");
        let expected_code = if mode == "kill" { "code=137" } else { "code=0" };
        assert!(
            out.contains(expected_code) && out.contains("left=0") && out.contains("fell-back"),
            "{env}{mode}: {out} {err}"
        );
    }
}
