//! The library (issue 17): sandboxes spawned from threaded and async Rust
//! programs through the `sandwrap` helper.
//!
//! A library test must itself run as the unprivileged user, so each test
//! re-runs this test binary (that one test, `SANDWRAP_LIB_INNER` set) as
//! the test user with `SANDWRAP_BIN` naming the shared binary; the body
//! runs there. Roles (`#[ignore]`d tests) are callers that the outer side
//! watches or kills.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use sandwrap::{Error, ExitStatus, Sandbox, Stdio};

/// This test's body runs here (true), or was run as the test user in a
/// child of this process, and passed (false).
fn inner(name: &str) -> bool {
    if std::env::var_os("SANDWRAP_LIB_INNER").is_some() {
        return true;
    }
    let o = output(as_user(name, false));
    assert!(
        o.status.success() && stdout(&o).contains("1 passed"),
        "{name} as the test user: {}\n{}{}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    false
}

/// This test binary, running test `name` (a role with `ignored`) as the
/// test user.
fn as_user(name: &str, ignored: bool) -> std::process::Command {
    let exe = std::env::current_exe().expect("current_exe");
    let mut cmd = user_command(&exe);
    user_args(&mut cmd, name, ignored);
    cmd
}

fn user_args(cmd: &mut std::process::Command, name: &str, ignored: bool) {
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"]);
    if ignored {
        cmd.arg("--ignored");
    }
    cmd.env("SANDWRAP_LIB_INNER", "1")
        .env("SANDWRAP_BIN", sandwrap_bin());
    if let Some(ci) = std::env::var_os("CI") {
        cmd.env("CI", ci);
    }
}

/// The host read-only, a private /tmp, new namespaces.
fn base() -> Sandbox {
    Sandbox::new()
        .ro_bind("/", "/")
        .dev("/dev")
        .proc("/proc")
        .tmpfs("/tmp")
        .unshare_all()
}

/// What a spawn must leave alone in its caller: the open fds (number,
/// target, close-on-exec), no_new_privs, the blocked, ignored and caught
/// signals, the subreaper flag.
#[derive(Debug, PartialEq, Eq)]
struct CallerState {
    fds: BTreeMap<i32, (PathBuf, bool)>,
    status: Vec<String>,
    thread_mask: u64,
    subreaper: i32,
}

impl CallerState {
    fn now() -> Self {
        let mut fds = BTreeMap::new();
        for e in std::fs::read_dir("/proc/self/fd")
            .expect("fd dir")
            .flatten()
        {
            let Some(fd) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
                continue;
            };
            let Ok(target) = std::fs::read_link(e.path()) else {
                continue; // the directory listing itself, now closed
            };
            // SAFETY: F_GETFD has no side effects.
            let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
            if flags >= 0 {
                fds.insert(fd, (target, flags & libc::FD_CLOEXEC != 0));
            }
        }
        let status = std::fs::read_to_string("/proc/self/status").expect("status");
        let status = status
            .lines()
            .filter(|l| {
                ["NoNewPrivs:", "SigBlk:", "SigIgn:", "SigCgt:"]
                    .iter()
                    .any(|k| l.starts_with(k))
            })
            .map(String::from)
            .collect();
        // SAFETY: a query only (no new set).
        let mut mask: libc::sigset_t = unsafe { std::mem::zeroed() };
        unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut mask) };
        let thread_mask = (1..64)
            // SAFETY: mask is initialised.
            .filter(|&s| unsafe { libc::sigismember(&mask, s) } == 1)
            .fold(0u64, |m, s| m | 1 << s);
        let mut subreaper: libc::c_int = -1;
        // SAFETY: valid out-pointer.
        unsafe { libc::prctl(libc::PR_GET_CHILD_SUBREAPER, &mut subreaper) };
        CallerState {
            fds,
            status,
            thread_mask,
            subreaper,
        }
    }
}

#[test]
fn threads_spawn_concurrently_and_leave_the_caller_untouched() {
    if !inner("threads_spawn_concurrently_and_leave_the_caller_untouched") {
        return;
    }
    let sb = base();
    let mut kids: Vec<std::process::Child> = (0..2)
        .map(|_| {
            std::process::Command::new("sleep")
                .arg("60")
                .spawn()
                .expect("sleep")
        })
        .collect();
    let before = CallerState::now();
    let stop = Arc::new(AtomicBool::new(false));
    let mut noise = Vec::new();
    for _ in 0..2 {
        let stop = stop.clone();
        noise.push(std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let v: Vec<u8> = vec![n as u8; 1 << (12 + n % 10)];
                n = n.wrapping_add(v[v.len() - 1] as u64 + 1);
            }
        }));
    }
    {
        let stop = stop.clone();
        noise.push(std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // SAFETY: std's environment lock serialises these with
                // std's own readers (the spawns).
                unsafe { std::env::set_var("SANDWRAP_LIB_NOISE", n.to_string()) };
                unsafe { std::env::remove_var("SANDWRAP_LIB_NOISE") };
                n += 1;
            }
        }));
    }
    let leaked = Arc::new(Mutex::new(0u32));
    {
        let (stop, leaked) = (stop.clone(), leaked.clone());
        noise.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                // No O_CLOEXEC: inheritable by any spawn meanwhile.
                // SAFETY: plain open/close of our own fd.
                let fd = unsafe { libc::open(c"/".as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY) };
                if fd >= 0 {
                    *leaked.lock().unwrap() += 1;
                    std::thread::yield_now();
                    unsafe { libc::close(fd) };
                }
            }
        }));
    }
    let spawners: Vec<_> = (0..8)
        .map(|t| {
            let sb = sb.clone();
            std::thread::spawn(move || {
                for i in 0..4 {
                    let out = sb
                        .command("sh")
                        .arg("-c")
                        .arg("ls /proc/self/fd && echo $T.$I")
                        .env("T", t.to_string())
                        .env("I", i.to_string())
                        .output()
                        .expect("spawn");
                    assert!(out.status.success(), "{t}.{i}: {out:?}");
                    // Only 0-2 (and ls's own directory fd) in the sandbox:
                    // none of the caller's inheritable fds got in.
                    assert_eq!(
                        String::from_utf8_lossy(&out.stdout),
                        format!("0\n1\n2\n3\n{t}.{i}\n"),
                        "{t}.{i}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            })
        })
        .collect();
    for s in spawners {
        s.join().expect("spawner");
    }
    stop.store(true, Ordering::Relaxed);
    for n in noise {
        n.join().expect("noise");
    }
    assert!(*leaked.lock().unwrap() > 0, "the fd thread never ran");
    assert_eq!(CallerState::now(), before);
    for k in &mut kids {
        assert!(k.try_wait().expect("try_wait").is_none(), "own child gone");
    }
    for mut k in kids {
        k.kill().expect("kill");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(k.wait().expect("wait").signal(), Some(9));
    }
}

/// Spawn through the library with and without a pid namespace.
fn both() -> [Sandbox; 2] {
    let no_pidns = Sandbox::new()
        .ro_bind("/", "/")
        .dev("/dev")
        .tmpfs("/tmp")
        .unshare_user()
        .unshare_net()
        .unshare_ipc();
    [no_pidns, base()]
}

#[test]
fn exit_statuses_keep_codes_signals_and_core_dumps() {
    if !inner("exit_statuses_keep_codes_signals_and_core_dumps") {
        return;
    }
    for sb in both() {
        let run = |script: &str| -> ExitStatus {
            sb.command("sh")
                .args(["-c", script])
                .status()
                .unwrap_or_else(|e| panic!("{script}: {e}"))
        };
        for code in [0, 1, 3, 126, 255] {
            let st = run(&format!("exit {code}"));
            assert_eq!((st.code(), st.signal()), (Some(code), None));
            assert_eq!(st.success(), code == 0);
        }
        let st = run("kill -TERM $$");
        assert_eq!(
            (st.code(), st.signal(), st.core_dumped()),
            (None, Some(15), false)
        );
        let st = run("kill -KILL $$");
        assert_eq!(st.signal(), Some(9));
        // core_pattern `core` (relative): the dump goes to the writable /tmp.
        let st = run("cd /tmp && ulimit -c unlimited && kill -SEGV $$");
        assert_eq!(st.signal(), Some(11), "{st}");
        let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
        if pattern.trim() == "core" {
            assert!(st.core_dumped(), "{st}");
        } else {
            skip!("skipping the core flag: core_pattern is {pattern:?}");
        }
        let st = run("ulimit -c 0 && kill -SEGV $$");
        assert_eq!((st.signal(), st.core_dumped()), (Some(11), false));
        // Child::kill: SIGKILL to the sandbox, seen as such.
        let mut child = sb.command("sleep").arg("100").spawn().expect("spawn");
        std::thread::sleep(Duration::from_millis(50));
        child.kill().expect("kill");
        assert_eq!(child.wait().expect("wait").signal(), Some(9));
        // try_wait: None while running, then the status.
        let mut child = sb
            .command("sh")
            .args(["-c", "sleep 0.2; exit 4"])
            .spawn()
            .expect("spawn");
        assert_eq!(child.try_wait().expect("try_wait"), None);
        let st = loop {
            if let Some(st) = child.try_wait().expect("try_wait") {
                break st;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(st.code(), Some(4));
        assert!(!st.timed_out());
        // --timeout: the signal that ended it, and that it was the timeout.
        let st = sb
            .clone()
            .timeout(Duration::from_millis(200))
            .command("sleep")
            .arg("100")
            .status()
            .expect("status");
        assert!(st.timed_out() && st.signal().is_some(), "{st}");
    }
    // The CLI can only say 128+N: the library keeps what the CLI loses.
    let cli = std::process::Command::new(std::env::var_os("SANDWRAP_BIN").expect("bin"))
        .args(["--ro-bind", "/", "/", "sh", "-c", "kill -TERM $$"])
        .status()
        .expect("cli");
    assert_eq!(cli.code(), Some(143));
}

/// sandwrap's message, as the CLI prints it, for the same words.
fn cli_message(words: &[&str]) -> String {
    let o = std::process::Command::new(std::env::var_os("SANDWRAP_BIN").expect("bin"))
        .args(words)
        .output()
        .expect("cli");
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let text = String::from_utf8_lossy(&o.stderr).into_owned();
    text.strip_prefix("sandwrap: ")
        .and_then(|t| t.lines().next())
        .unwrap_or_else(|| panic!("CLI message: {text:?}"))
        .to_string()
}

#[test]
fn setup_errors_are_typed_with_sandwraps_message() {
    if !inner("setup_errors_are_typed_with_sandwraps_message") {
        return;
    }
    // Setup: a missing bind source, as the CLI says it.
    let sb = Sandbox::new().ro_bind("/nonexistent-lib-src", "/x");
    match sb.command("true").status() {
        Err(Error::Setup(m)) => assert_eq!(
            m,
            cli_message(&["--ro-bind", "/nonexistent-lib-src", "/x", "true"])
        ),
        other => panic!("expected a setup error: {other:?}"),
    }
    // Exec: the command is missing in the sandbox.
    match base().command("/nonexistent-cmd").output() {
        Err(Error::Exec(m)) => {
            assert_eq!(m, "execvp /nonexistent-cmd: No such file or directory")
        }
        other => panic!("expected an exec error: {other:?}"),
    }
    // Invalid: found by the parser before anything runs, same message.
    let bad = Sandbox::new().option("uid", ["nobody-x"]);
    let want = cli_message(&["--uid", "nobody-x", "true"]);
    match bad.check() {
        Err(Error::Invalid(m)) => assert_eq!(m, want),
        other => panic!("expected invalid: {other:?}"),
    }
    // A spawn checks too, before starting anything.
    match bad.command("true").spawn() {
        Err(Error::Invalid(m)) => assert_eq!(m, want),
        other => panic!("expected invalid at spawn: {other:?}"),
    }
    for bad in [
        Sandbox::new().option("no-such-option", [""; 0]),
        Sandbox::new().option("bind", ["/"]),
        Sandbox::new().option("control-fd", ["3"]),
    ] {
        assert!(matches!(bad.check(), Err(Error::Invalid(_))), "{bad:?}");
        assert!(matches!(
            bad.command("true").spawn(),
            Err(Error::Invalid(_))
        ));
    }
    assert!(base().check().is_ok());
}

/// A copy of the helper in a fresh directory of this user's with `mode`.
fn helper_copy(tag: &str, dir_mode: u32, file_mode: u32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("sandwrap-lib-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).expect("mkdir");
    let bin = dir.join("sandwrap");
    std::fs::copy(std::env::var_os("SANDWRAP_BIN").expect("bin"), &bin).expect("copy");
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(file_mode)).expect("chmod");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(dir_mode)).expect("chmod");
    bin
}

#[test]
fn a_helper_others_or_the_sandbox_could_replace_is_refused() {
    if !inner("a_helper_others_or_the_sandbox_could_replace_is_refused") {
        return;
    }
    let ok = helper_copy("ok", 0o755, 0o755);
    let good = base().helper(&ok);
    assert!(
        good.command("true")
            .status()
            .expect("a safe helper runs")
            .success()
    );
    for (tag, dir_mode, file_mode, why) in [
        ("dirw", 0o777, 0o755, "can be changed by other users"),
        ("filew", 0o755, 0o775, "writable by other users"),
    ] {
        let bin = helper_copy(tag, dir_mode, file_mode);
        match base().helper(&bin).command("true").status() {
            Err(Error::Helper(m)) => assert!(m.contains(why), "{m}"),
            other => panic!("{tag}: expected a refusal: {other:?}"),
        }
        let _ = std::fs::remove_dir_all(bin.parent().expect("dir"));
    }
    // The sandbox binds the helper's directory writable: the command could
    // replace it.
    let dir = ok.parent().expect("dir");
    match base().bind(dir, dir).helper(&ok).command("true").status() {
        Err(Error::Helper(m)) => assert!(m.contains("binds"), "{m}"),
        other => panic!("expected a refusal: {other:?}"),
    }
    // The same bind coming from a profile.
    let profile = dir.with_extension("toml");
    let d = dir.display();
    std::fs::write(
        &profile,
        format!("mounts = [[\"bind\", \"{d}\", \"{d}\"]]\n"),
    )
    .expect("profile");
    let from_profile = base().profile(&profile).helper(&ok);
    match from_profile.command("true").status() {
        Err(Error::Helper(m)) => assert!(m.contains("binds"), "{m}"),
        other => panic!("expected a refusal (profile): {other:?}"),
    }
    let _ = std::fs::remove_file(&profile);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn fds_and_streams_reach_the_command_at_their_numbers() {
    if !inner("fds_and_streams_reach_the_command_at_their_numbers") {
        return;
    }
    let (r, w) = nix::unistd::pipe().expect("pipe");
    let data = nix::unistd::pipe().expect("pipe");
    nix::unistd::write(&data.1, b"from the caller").expect("write");
    drop(data.1);
    let mut cmd = base().command("sh");
    cmd.args(["-c", "echo to-seven >&7; cat <&5; echo; cat; echo err >&2"])
        .fd(7, w)
        .fd(5, data.0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"via stdin\n")
        .expect("stdin");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "from the caller\nvia stdin\n"
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
    drop(cmd);
    let mut seven = String::new();
    use std::io::Read;
    std::fs::File::from(r)
        .read_to_string(&mut seven)
        .expect("read 7");
    assert_eq!(seven, "to-seven\n");
    // A Stdio from a file; env and working directory inside the sandbox.
    let path = std::env::temp_dir().join(format!("sandwrap-lib-out-{}", std::process::id()));
    let f = std::fs::File::create(&path).expect("create");
    let st = base()
        .command("sh")
        .args(["-c", "echo $A $B $(pwd)"])
        .env("A", "a")
        .env("B", "b")
        .env_remove("B")
        .current_dir("/tmp")
        .stdout(f)
        .status()
        .expect("status");
    assert!(st.success());
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "a /tmp\n");
    let _ = std::fs::remove_file(&path);
}

/// A sleep in `sb` whose argv[0] is marker `m` (a symlink in its /tmp).
fn marked_sleep(sb: &Sandbox, m: &str) -> sandwrap::Child {
    sb.command("sh")
        .arg("-c")
        .arg(format!(
            "ln -s \"$(command -v sleep)\" {m} && exec {m} 1000"
        ))
        .spawn()
        .expect("spawn")
}

/// A caller: spawns one sandbox with a pid namespace and one without (a
/// marker sleep each) from a thread that then ends, says `ready`, waits to
/// be killed.
#[test]
#[ignore = "a role for the_sandbox_dies_with_the_caller_process"]
fn caller_role() {
    let mark = std::env::var("SANDWRAP_LIB_MARK").expect("mark");
    static KEEP: Mutex<Vec<sandwrap::Child>> = Mutex::new(Vec::new());
    std::thread::spawn(move || {
        for (sb, tag) in both().into_iter().zip(["plain", "pidns"]) {
            let m = format!("{mark}-{tag}");
            let child = marked_sleep(&sb, &m);
            KEEP.lock().unwrap().push(child);
        }
    })
    .join()
    .expect("spawning thread");
    println!("ready");
    std::thread::sleep(Duration::from_secs(100));
}

#[test]
fn the_sandbox_dies_with_the_caller_process() {
    let mark = marker("libcaller");
    let mut caller = as_user("caller_role", true)
        .env("SANDWRAP_LIB_MARK", &mark)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("caller");
    // libtest's own lines come first.
    let mut lines = BufReader::new(caller.stdout.take().expect("stdout")).lines();
    let ready = lines.any(|l| l.is_ok_and(|l| l.ends_with("ready")));
    assert!(ready, "the caller did not get ready");
    let sleeps = || {
        let mut v = pids_with_argv0(&format!("{mark}-plain"));
        v.extend(pids_with_argv0(&format!("{mark}-pidns")));
        v
    };
    assert!(wait_until("both sandboxes", || sleeps().len() == 2));
    // The spawning thread has ended: the sandboxes stay (the tie is to the
    // process, not the thread).
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        sleeps().len(),
        2,
        "a sandbox ended with its spawning thread"
    );
    caller.kill().expect("kill the caller");
    caller.wait().expect("wait");
    let gone = wait_until("the sandboxes to end", || sleeps().is_empty());
    let left = sleeps();
    kill_all(&left);
    assert!(gone, "left running after the caller died: {left:?}");
}

/// A few spawns from several threads, for strace; prints the caller's pid.
#[test]
#[ignore = "a role for the_caller_never_forks"]
fn spawn_role() {
    println!("caller pid {}", std::process::id());
    let sb = base();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let sb = sb.clone();
            std::thread::spawn(move || {
                for _ in 0..3 {
                    assert!(sb.command("true").status().expect("spawn").success());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
}

#[test]
fn the_caller_never_forks() {
    let Ok(strace) = which("strace") else {
        skip!("skipping: strace is not installed");
        return;
    };
    let log = std::env::temp_dir().join(format!("sandwrap-lib-strace-{}", std::process::id()));
    let exe = std::env::current_exe().expect("exe");
    let mut cmd = user_command(&strace);
    cmd.args(["-f", "-qq", "-e", "trace=clone,clone3,fork,vfork", "-o"])
        .arg(&log)
        .arg(&exe);
    user_args(&mut cmd, "spawn_role", true);
    let o = output(cmd);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let caller: i64 = stdout(&o)
        .lines()
        .find_map(|l| l.split("caller pid ").nth(1))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no caller pid: {}{}", stdout(&o), stderr(&o)));
    let text = std::fs::read_to_string(&log).expect("strace log");
    let _ = std::fs::remove_file(&log);
    let (spawns, forks) = process_creations(&text, caller);
    assert!(spawns >= 12, "{spawns} spawns seen:\n{text}");
    assert!(forks.is_empty(), "the caller forked: {forks:?}");
}

/// From strace -f output: how many processes the caller's threads made
/// with CLONE_VM|CLONE_VFORK (posix_spawn), and every other process
/// creation of theirs (a fork).
fn process_creations(log: &str, caller: i64) -> (usize, Vec<String>) {
    let mut threads = std::collections::HashSet::from([caller]);
    let mut pending: BTreeMap<i64, String> = BTreeMap::new();
    let (mut spawns, mut forks) = (0, Vec::new());
    for line in log.lines() {
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(pid) = pid.trim().parse::<i64>() else {
            continue;
        };
        // strace pads the pid column.
        let rest = rest.trim_start();
        let call = if rest.starts_with("<...") {
            match pending.remove(&pid) {
                Some(start) => format!("{start}{rest}"),
                None => continue,
            }
        } else if rest.ends_with("<unfinished ...>") {
            pending.insert(pid, rest.to_string());
            continue;
        } else {
            rest.to_string()
        };
        if !threads.contains(&pid) {
            continue;
        }
        let Some(ret) = call
            .rsplit_once(" = ")
            .and_then(|(_, r)| r.trim().parse::<i64>().ok())
        else {
            continue;
        };
        if call.contains("CLONE_THREAD") {
            threads.insert(ret);
        } else if call.contains("CLONE_VM") && call.contains("CLONE_VFORK") {
            spawns += 1;
        } else {
            forks.push(call);
        }
    }
    (spawns, forks)
}

fn which(name: &str) -> Result<PathBuf, ()> {
    ["/usr/bin", "/bin", "/usr/local/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
        .ok_or(())
}

/// Median wall time of `n` spawn-and-wait rounds.
fn median_spawn(sb: &Sandbox, n: usize) -> Duration {
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            assert!(sb.command("true").status().expect("spawn").success());
            t.elapsed()
        })
        .collect();
    times.sort();
    times[n / 2]
}

#[test]
fn a_big_caller_spawns_as_fast_as_a_small_one() {
    if !inner("a_big_caller_spawns_as_fast_as_a_small_one") {
        return;
    }
    let sb = base();
    median_spawn(&sb, 3);
    let small = median_spawn(&sb, 15);
    // 2 GiB, every page touched (a fork would copy its page tables).
    let big: Vec<u8> = vec![1u8; 2 << 30];
    let large = median_spawn(&sb, 15);
    assert_eq!(big[big.len() - 1], 1);
    drop(big);
    assert!(
        large < small * 2 + Duration::from_millis(3),
        "small caller {small:?}, 2 GiB caller {large:?}"
    );
}

#[test]
fn tokio_runtimes_await_sandboxes_without_blocking_a_worker() {
    if !inner("tokio_runtimes_await_sandboxes_without_blocking_a_worker") {
        return;
    }
    use tokio::io::Interest;
    use tokio::io::unix::AsyncFd;
    async fn run(sb: Sandbox, script: String) -> ExitStatus {
        let child = sb
            .command("sh")
            .args(["-c", &script])
            .spawn()
            .expect("spawn");
        // SAFETY: a Child's fd stays open and the same until it is dropped.
        let fd =
            unsafe { AsyncFd::register_with_interest(child, Interest::READABLE) }.expect("AsyncFd");
        let mut guard = fd.readable().await.expect("readable");
        guard.retain_ready();
        drop(guard);
        let mut child = fd.into_inner();
        // Readable: the helper has exited, so this does not block.
        child
            .try_wait()
            .expect("try_wait")
            .expect("ended when readable")
    }
    let runtimes = [
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build(),
    ];
    for rt in runtimes {
        let rt = rt.expect("runtime");
        rt.block_on(async {
            let ticks = Arc::new(std::sync::atomic::AtomicU32::new(0));
            let ticker = {
                let ticks = ticks.clone();
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        ticks.fetch_add(1, Ordering::Relaxed);
                    }
                })
            };
            let tasks: Vec<_> = (0..4)
                .map(|i| tokio::spawn(run(base(), format!("sleep 0.3; exit {i}"))))
                .collect();
            for (i, t) in tasks.into_iter().enumerate() {
                assert_eq!(t.await.expect("task").code(), Some(i as i32));
            }
            ticker.abort();
            // The runtime kept running other tasks meanwhile (a blocking
            // wait would have stopped the current-thread one).
            assert!(ticks.load(Ordering::Relaxed) >= 10, "{ticks:?}");
        });
    }
}

#[test]
fn rayon_spawns_from_its_pool() {
    if !inner("rayon_spawns_from_its_pool") {
        return;
    }
    use rayon::prelude::*;
    let sb = base();
    let outs: Vec<String> = (0..16)
        .into_par_iter()
        .map(|i| {
            let o = sb
                .command("sh")
                .args(["-c", &format!("echo {i}")])
                .output()
                .expect("output");
            assert!(o.status.success());
            String::from_utf8_lossy(&o.stdout).into_owned()
        })
        .collect();
    let want: Vec<String> = (0..16).map(|i| format!("{i}\n")).collect();
    assert_eq!(outs, want);
}

/// The fd handed to a sandbox stays the caller's too (a copy is sent).
#[test]
fn a_passed_fd_stays_open_in_the_caller() {
    if !inner("a_passed_fd_stays_open_in_the_caller") {
        return;
    }
    let f = std::fs::File::open("/etc/hostname").expect("open");
    let raw = f.as_raw_fd();
    // SAFETY: dup of an open fd.
    let copy = unsafe { OwnedFd::from_raw_fd(libc::dup(raw)) };
    let st = base()
        .command("sh")
        .args(["-c", "test -r /proc/self/fd/9"])
        .fd(9, copy)
        .status()
        .expect("status");
    assert!(st.success());
    // SAFETY: F_GETFD has no side effects.
    assert!(unsafe { libc::fcntl(raw, libc::F_GETFD) } >= 0);
}

/// The helper side of `--control-fd` misused from a shell: one precise
/// line and exit 1, nothing run.
#[test]
fn control_fd_misuse_is_one_precise_line() {
    let cases: &[(&[&str], &str)] = &[
        // stdin is /dev/null here: not a socket.
        (
            &["--control-fd", "0", "--ro-bind", "/", "/", "true"],
            "sandwrap: --control-fd: recvmsg: Socket operation on non-socket\n",
        ),
        (
            &["--control-fd", "x", "true"],
            "sandwrap: --control-fd: Invalid fd: x\n",
        ),
        (
            &["--ro-bind", "/", "/", "--control-fd", "0", "true"],
            "sandwrap: --control-fd must be the first option (its fds are placed before the others are read)\n",
        ),
    ];
    for (args, want) in cases {
        let (code, out, err) = run(args);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (1, "", *want),
            "{args:?}"
        );
    }
}

/// What threaded and async callers rely on, checked at compile time.
#[test]
fn handles_can_cross_threads() {
    fn shared<T: Clone + Send + Sync + 'static>() {}
    fn sent<T: Send + 'static>() {}
    shared::<Sandbox>();
    sent::<sandwrap::Command>();
    sent::<sandwrap::Child>();
    sent::<Error>();
}

#[test]
fn the_sandbox_pid_is_reported_once_it_exists() {
    if !inner("the_sandbox_pid_is_reported_once_it_exists") {
        return;
    }
    for sb in both() {
        let mut child = sb.command("sleep").arg("100").spawn().expect("spawn");
        let start = Instant::now();
        let pid = loop {
            if let Some(pid) = child.sandbox_pid() {
                break pid;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "no pid reported");
            std::thread::sleep(Duration::from_millis(2));
        };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
        let ppid = status
            .lines()
            .find_map(|l| l.strip_prefix("PPid:"))
            .map(str::trim);
        assert_eq!(ppid, Some(child.id().to_string().as_str()), "{status}");
        child.kill().expect("kill");
        assert_eq!(child.wait().expect("wait").signal(), Some(9));
        assert_eq!(child.sandbox_pid(), Some(pid));
    }
    // A setup that fails before the sandbox exists reports none.
    let mut child = Sandbox::new()
        .ro_bind("/nonexistent-lib-src", "/x")
        .command("true")
        .spawn()
        .expect("spawn");
    assert!(matches!(child.wait(), Err(Error::Setup(_))));
}

#[test]
fn dropping_a_child_ends_its_sandbox_and_reaps_the_helper() {
    if !inner("dropping_a_child_ends_its_sandbox_and_reaps_the_helper") {
        return;
    }
    for (sb, tag) in both().into_iter().zip(["plain", "pidns"]) {
        let m = marker(&format!("drop-{tag}"));
        let child = marked_sleep(&sb, &m);
        let helper = child.id();
        assert!(wait_until("the sandbox", || pids_with_argv0(&m).len() == 1));
        drop(child);
        assert!(
            wait_until("the sandbox to end", || pids_with_argv0(&m).is_empty()),
            "{tag}: the sandbox outlived its dropped Child"
        );
        // Reaped: no zombie left (the pid is gone, not `Z`).
        let gone = wait_until("the helper to be reaped", || {
            !Path::new(&format!("/proc/{helper}")).exists()
        });
        assert!(gone, "{tag}: helper {helper} not reaped");
    }
}

/// A Command is reusable, as std's: its fds and streams go to every spawn.
#[test]
fn a_command_spawns_again_with_its_fds() {
    if !inner("a_command_spawns_again_with_its_fds") {
        return;
    }
    let (r, w) = nix::unistd::pipe().expect("pipe");
    let mut cmd = base().command("sh");
    cmd.args(["-c", "echo $N >&6"]).fd(6, w);
    for n in 0..3 {
        cmd.env("N", n.to_string());
        assert!(cmd.status().expect("status").success());
    }
    drop(cmd);
    let mut got = String::new();
    use std::io::Read;
    std::fs::File::from(r)
        .read_to_string(&mut got)
        .expect("read");
    assert_eq!(got, "0\n1\n2\n");
}
