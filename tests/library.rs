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
///
/// Blocked signals are per thread, and read for the thread taking the
/// snapshot (/proc/thread-self). /proc/self/status shows the process's
/// main thread, which in a test is libtest's, never the library's caller:
/// glibc's pthread_create blocks all signals in the creating thread until
/// the clone has returned, so a test thread that runs before its creator
/// is scheduled again saw SigBlk fffffffffffbfeff there (once under load).
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
        let status = std::fs::read_to_string("/proc/thread-self/status").expect("status");
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

    /// The signal state alone (the fds change while other threads spawn).
    fn masks(self) -> (Vec<String>, u64) {
        (self.status, self.thread_mask)
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
                // Each calling thread, itself, is left as it was.
                let before = CallerState::now().masks();
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
                assert_eq!(CallerState::now().masks(), before, "thread {t}");
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
/// CPU time (user + system) the calling thread has used: what a spawn
/// costs the caller itself, whatever the load on the machine.
fn thread_cpu() -> Duration {
    // SAFETY: getrusage fills the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) }, 0);
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Median CPU time of the calling thread for `spawn` alone (the wait
/// sleeps, and costs the caller nothing of its memory's size).
fn median_spawn_cpu(n: usize, mut spawn: impl FnMut() -> Box<dyn FnOnce()>) -> Duration {
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let t = thread_cpu();
            let wait = spawn();
            let used = thread_cpu().saturating_sub(t);
            wait();
            used
        })
        .collect();
    times.sort();
    times[n / 2]
}

/// The caller's own cost of a spawn does not grow with its memory: the
/// helper starts without a copy of the caller (posix_spawn). Measured as
/// the caller thread's CPU time, not wall time, so a loaded machine does
/// not change the outcome; a fork of the same caller (std's Command with a
/// pre_exec hook, which forks) is measured alongside to show the
/// measurement sees what a copy costs.
#[test]
fn a_big_caller_spawns_as_fast_as_a_small_one() {
    if !inner("a_big_caller_spawns_as_fast_as_a_small_one") {
        return;
    }
    let sb = base();
    let lib = |sb: &Sandbox| {
        let mut c = sb.command("true").spawn().expect("spawn");
        Box::new(move || assert!(c.wait().expect("wait").success())) as Box<dyn FnOnce()>
    };
    let forked = || {
        use std::os::unix::process::CommandExt;
        let mut cmd = std::process::Command::new("/bin/true");
        // SAFETY: the hook does nothing; its presence makes std fork.
        unsafe { cmd.pre_exec(|| Ok(())) };
        let mut c = cmd.spawn().expect("fork");
        Box::new(move || assert!(c.wait().expect("wait").success())) as Box<dyn FnOnce()>
    };
    median_spawn_cpu(3, || lib(&sb));
    let small = median_spawn_cpu(15, || lib(&sb));
    // 2 GiB, every page touched (a fork copies its page tables).
    let big: Vec<u8> = vec![1u8; 2 << 30];
    let large = median_spawn_cpu(15, || lib(&sb));
    let fork = median_spawn_cpu(5, forked);
    assert_eq!(big[big.len() - 1], 1);
    drop(big);
    eprintln!("spawn CPU: small caller {small:?}, 2 GiB caller {large:?}, fork of it {fork:?}");
    assert!(
        fork > Duration::from_millis(5),
        "a fork of a 2 GiB caller cost it only {fork:?}: the measurement sees nothing"
    );
    assert!(
        large < small + fork / 4,
        "small caller {small:?}, 2 GiB caller {large:?} (a fork of it: {fork:?})"
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
            "sandwrap: --control-fd: fd 0 is not a SOCK_SEQPACKET unix socket\n",
        ),
        (
            &["--control-fd", "9", "true"],
            "sandwrap: --control-fd: fd 9: Bad file descriptor\n",
        ),
        (
            &["--control-fd"],
            "sandwrap: --control-fd takes an argument\n",
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

/// The directory, owned by the test user, that holds a root-owned copy of
/// the helper (prepared by the outer, root side of the test).
fn root_owned_helper_dir() -> PathBuf {
    let bin = std::env::var_os("SANDWRAP_BIN").map_or_else(sandwrap_bin, PathBuf::from);
    bin.with_file_name("lib-root-owned-helper")
}

/// Attack: the helper is root's, but its directory is the caller's; the
/// sandbox binds that directory writable, and the command renames the
/// helper away and puts its own file in its place (a directory's owner can
/// do that to any entry), for the next spawn to run outside any sandbox.
#[test]
fn a_root_owned_helper_in_a_callers_directory_bound_writable_is_refused() {
    let dir = root_owned_helper_dir();
    if std::env::var_os("SANDWRAP_LIB_INNER").is_none() {
        if !is_root() {
            skip!("skipping: a root-owned helper needs the tests to run as root");
            return;
        }
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).expect("mkdir");
        give(&dir);
        std::fs::copy(sandwrap_bin(), dir.join("sandwrap")).expect("copy");
    }
    if !inner("a_root_owned_helper_in_a_callers_directory_bound_writable_is_refused") {
        let len = std::fs::metadata(dir.join("sandwrap")).map(|m| m.len());
        assert_eq!(
            len.ok(),
            std::fs::metadata(sandwrap_bin()).ok().map(|m| m.len()),
            "the helper was replaced"
        );
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let bin = dir.join("sandwrap");
    let replace = "mv sandwrap old && echo replaced > sandwrap && chmod 755 sandwrap";
    let spawned = base()
        .bind(&dir, &dir)
        .helper(&bin)
        .command("sh")
        .args(["-c", replace])
        .current_dir(&dir)
        .status();
    match spawned {
        Err(Error::Helper(m)) => assert!(m.contains("binds"), "{m}"),
        other => panic!("expected a refusal: {other:?}"),
    }
    // Not over-refused: a root-owned directory holding the root-owned
    // helper, bound writable, gives the command nothing to replace.
    let shared = bin
        .parent()
        .and_then(Path::parent)
        .expect("shared dir")
        .to_path_buf();
    let st = base()
        .bind(&shared, &shared)
        .helper(shared.join("sandwrap"))
        .command("true")
        .status();
    assert!(st.expect("a helper the command cannot replace").success());
}

/// Attack: the writable bind of the helper's directory comes where the
/// caller's check cannot see it (an `--args` payload, a `--bind-fd`
/// directory); the command replaces the helper for the next spawn. The
/// helper itself refuses to run such a sandbox.
#[test]
fn a_helper_bound_writable_through_args_or_bind_fd_is_refused() {
    if !inner("a_helper_bound_writable_through_args_or_bind_fd_is_refused") {
        return;
    }
    let bin = helper_copy("hidden", 0o755, 0o755);
    let dir = bin.parent().expect("dir").to_path_buf();
    let original = std::fs::metadata(&bin).expect("helper").len();
    let replace = "mv sandwrap old && echo replaced > sandwrap && chmod 755 sandwrap";
    let (r, w) = nix::unistd::pipe().expect("pipe");
    let d = dir.display();
    nix::unistd::write(&w, format!("--bind\0{d}\0{d}\0").as_bytes()).expect("payload");
    drop(w);
    let dir_fd: OwnedFd = std::fs::File::open(&dir).expect("open dir").into();
    let mut through_args = base().option("args", ["5"]).helper(&bin).command("sh");
    through_args
        .args(["-c", replace])
        .current_dir(&dir)
        .fd(5, r);
    let mut through_fd = base()
        .option("bind-fd", ["5", "/mnt"])
        .helper(&bin)
        .command("sh");
    through_fd
        .args(["-c", replace])
        .current_dir("/mnt")
        .fd(5, dir_fd);
    for (how, mut cmd) in [("--args", through_args), ("--bind-fd", through_fd)] {
        match cmd.stderr(Stdio::null()).status() {
            Err(Error::Setup(m)) => assert!(m.contains("binds"), "{how}: {m}"),
            other => panic!("{how}: expected a refusal: {other:?}"),
        }
        let len = std::fs::metadata(&bin).map(|m| m.len()).ok();
        assert_eq!(len, Some(original), "{how}: the helper was replaced");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A target number the helper cannot place (beyond its open-file limit):
/// a typed error that names the fd and why, not "ended without saying
/// why" with the reason only on a stderr the caller may not read.
#[test]
fn an_fd_number_the_helper_cannot_place_is_a_precise_error() {
    if !inner("an_fd_number_the_helper_cannot_place_is_a_precise_error") {
        return;
    }
    let f: OwnedFd = std::fs::File::open("/dev/null").expect("open").into();
    let got = base()
        .command("true")
        .fd(1_000_000, f)
        .stderr(Stdio::null())
        .status();
    match got {
        Err(Error::Setup(m)) => assert!(
            m.contains("fd 1000000") && m.contains("limit on open files"),
            "{m}"
        ),
        other => panic!("expected a setup error: {other:?}"),
    }
}

/// `--control-fd` by hand on a socket that is not the library's kind (a
/// stream, whose records would run together; a datagram one): one precise
/// line, not a helper waiting for a record that never comes.
#[test]
fn a_control_fd_that_is_not_a_seqpacket_socket_is_refused() {
    use std::os::unix::net::{UnixDatagram, UnixStream};
    let (stream, _stream_peer) = UnixStream::pair().expect("pair");
    let (dgram, _dgram_peer) = UnixDatagram::pair().expect("pair");
    for (kind, end) in [
        ("stream", OwnedFd::from(stream)),
        ("datagram", dgram.into()),
    ] {
        let mut cmd = sandwrap(["--control-fd", "0", "--ro-bind", "/", "/", "true"]);
        cmd.stdin(std::process::Stdio::from(end));
        let (code, out, err) = output_within(cmd, Duration::from_secs(10));
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (
                Some(1),
                "",
                "sandwrap: --control-fd: fd 0 is not a SOCK_SEQPACKET unix socket\n"
            ),
            "{kind}"
        );
    }
}

/// A caller that ignores SIGCHLD (the kernel then reaps its children, and
/// `waitpid` says ECHILD): the command's status and sandwrap's errors
/// still come back, from the records.
#[test]
fn a_caller_ignoring_sigchld_still_gets_the_status() {
    if !inner("a_caller_ignoring_sigchld_still_gets_the_status") {
        return;
    }
    // SAFETY: a plain disposition change; this process runs this test only.
    unsafe { libc::signal(libc::SIGCHLD, libc::SIG_IGN) };
    let st = base().command("sh").args(["-c", "exit 3"]).status();
    assert_eq!(st.expect("status").code(), Some(3));
    let mut child = base().command("sleep").arg("0.3").spawn().expect("spawn");
    while child.try_wait().expect("try_wait").is_none() {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(child.wait().expect("wait").success());
    let bad = base()
        .ro_bind("/nonexistent-lib-source", "/x")
        .command("true")
        .stderr(Stdio::null())
        .status();
    match bad {
        Err(Error::Setup(m)) => assert!(m.contains("/nonexistent-lib-source"), "{m}"),
        other => panic!("expected a setup error: {other:?}"),
    }
}

/// Attack: the command leaves a process behind in its pid namespace and
/// exits. `wait` returns; the leftover must not live on with no handle
/// left to end it (and past the caller's death): the sandbox's pid 1 ends
/// with the helper.
#[test]
fn what_the_command_leaves_running_ends_with_it() {
    if !inner("what_the_command_leaves_running_ends_with_it") {
        return;
    }
    let m = marker("leftover");
    let script = format!(
        "ln -s \"$(command -v sleep)\" {m} || exit 9
         {m} 1000 </dev/null >/dev/null 2>&1 &
         until [ \"$(head -c 1000 /proc/$!/cmdline | tr '\\0' ' ')\" = '{m} 1000 ' ]; do :; done"
    );
    let st = base().command("sh").args(["-c", &script]).status();
    assert!(st.as_ref().is_ok_and(ExitStatus::success), "{st:?}");
    let gone = wait_until("the leftover to end", || pids_with_argv0(&m).is_empty());
    let left = pids_with_argv0(&m);
    kill_all(&left);
    assert!(gone, "left running after the command's end: {left:?}");
}

/// Attack: the helper (the caller's own file) has a second hard link in a
/// directory the sandbox binds writable. The command leaves a process
/// behind (no pid namespace) that rewrites the file through that link once
/// the helper has exited (not while it runs: ETXTBSY): the helper the next
/// spawn runs.
#[test]
fn a_callers_helper_hard_linked_into_a_writable_bind_is_refused() {
    if !inner("a_callers_helper_hard_linked_into_a_writable_bind_is_refused") {
        return;
    }
    let bin = helper_copy("linked", 0o755, 0o755);
    let other = bin.with_file_name("").with_extension("other");
    let _ = std::fs::remove_dir_all(&other);
    std::fs::create_dir(&other).expect("mkdir");
    std::fs::hard_link(&bin, other.join("link")).expect("hard link");
    let original = std::fs::metadata(&bin).expect("helper").len();
    let rewrite = "(for i in $(seq 100); do echo replaced > link 2>/dev/null && break; sleep 0.05; done) >/dev/null 2>&1 &";
    let got = Sandbox::new()
        .ro_bind("/", "/")
        .dev("/dev")
        .bind(&other, &other)
        .helper(&bin)
        .command("sh")
        .args(["-c", rewrite])
        .current_dir(&other)
        .status();
    // What the attack did when it was let run.
    let rewritten = got.is_ok()
        && wait_until("the helper to be rewritten", || {
            std::fs::metadata(&bin).map(|m| m.len()).ok() != Some(original)
        });
    let _ = std::fs::remove_dir_all(&other);
    let _ = std::fs::remove_dir_all(bin.parent().expect("dir"));
    match got {
        Err(Error::Helper(m)) => assert!(m.contains("hard link"), "{m}"),
        other => panic!("expected a refusal: {other:?} (rewritten: {rewritten})"),
    }
}

/// A signal number that is none, an fd number below 0: a precise error,
/// not a record the helper drops (the caller thinking its signal went).
#[test]
fn bad_signal_and_fd_numbers_are_precise_errors() {
    if !inner("bad_signal_and_fd_numbers_are_precise_errors") {
        return;
    }
    let mut child = base().command("sleep").arg("1000").spawn().expect("spawn");
    for sig in [0, -1, 65, 1000] {
        match child.signal(sig) {
            Err(Error::Invalid(m)) => assert!(m.contains(&format!("signal {sig}")), "{m}"),
            other => panic!("signal {sig}: expected a refusal: {other:?}"),
        }
    }
    child.kill().expect("kill");
    assert_eq!(child.wait().expect("wait").signal(), Some(libc::SIGKILL));
    let null = || -> OwnedFd { std::fs::File::open("/dev/null").expect("open").into() };
    match base().command("true").fd(-3, null()).status() {
        Err(Error::Invalid(m)) => assert!(m.contains("fd -3: not an fd number"), "{m}"),
        other => panic!("expected a refusal: {other:?}"),
    }
    match base().command("true").fd(1, null()).status() {
        Err(Error::Invalid(m)) => assert_eq!(m, "fd 1: use stdin/stdout/stderr for fds 0 to 2"),
        other => panic!("expected a refusal: {other:?}"),
    }
    let mut many = base().command("true");
    for t in 3..300 {
        many.fd(t, null());
    }
    match many.status() {
        Err(Error::Invalid(m)) => assert_eq!(m, "more than 247 fds"),
        other => panic!("expected a refusal: {other:?}"),
    }
}

/// `--control-fd` by hand, with first records that are not the library's:
/// one precise line each, nothing run.
#[test]
fn control_fd_first_records_that_are_wrong_are_refused() {
    use nix::sys::socket::{
        AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, sendmsg, socketpair,
    };
    let null = || std::fs::File::open("/dev/null").expect("open");
    let (a, b) = (null(), null());
    let two = [a.as_raw_fd(), b.as_raw_fd()];
    let long = format!("F{}", " 7".repeat(3000));
    let cases: &[(&[u8], &[i32], &str)] = &[
        (b"F 5 5", &two, "the same fd number is asked for twice"),
        (
            b"F 5",
            &[],
            "malformed first record (expected the caller's fds)",
        ),
        (
            b"K 9",
            &[],
            "malformed first record (expected the caller's fds)",
        ),
        (
            long.as_bytes(),
            &[],
            "malformed first record (expected the caller's fds)",
        ),
    ];
    for (rec, fds, why) in cases {
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .expect("socketpair");
        let rights = [ControlMessage::ScmRights(fds)];
        let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &rights };
        sendmsg::<()>(
            ours.as_raw_fd(),
            &[std::io::IoSlice::new(rec)],
            cmsgs,
            MsgFlags::empty(),
            None,
        )
        .expect("send");
        let mut cmd = sandwrap(["--control-fd", "0", "--ro-bind", "/", "/", "true"]);
        cmd.stdin(std::process::Stdio::from(theirs));
        let (code, out, err) = output_within(cmd, Duration::from_secs(10));
        let want = format!("sandwrap: --control-fd: {why}\n");
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (Some(1), "", want.as_str())
        );
    }
}

/// Attack: the command leaves a process holding its stdout and exits;
/// `output` reads to EOF, so it must not wait on the leftover (it did for
/// ever, with a pid namespace, until pid 1 died with the helper).
#[test]
fn output_returns_when_the_command_ends_though_a_leftover_holds_stdout() {
    if !inner("output_returns_when_the_command_ends_though_a_leftover_holds_stdout") {
        return;
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let out = base()
            .command("sh")
            .args(["-c", "sleep 1000 & echo done"])
            .output();
        let _ = tx.send(out);
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(out) => assert_eq!(out.expect("output").stdout, b"done\n"),
        Err(_) => panic!("output() still waiting 10 s after the command ended"),
    }
}

/// A helper that passes the checks but cannot be executed: Error::Helper
/// with the path and strerror's words, and nothing of the spawn (pipes,
/// sockets, copies of passed fds) left open in the caller.
#[test]
fn a_helper_that_cannot_be_executed_fails_the_spawn_and_leaks_nothing() {
    if !inner("a_helper_that_cannot_be_executed_fails_the_spawn_and_leaks_nothing") {
        return;
    }
    let bin = helper_copy("noexec", 0o755, 0o755);
    std::fs::write(&bin, b"\x00\x01 not a program").expect("write");
    let before = CallerState::now().fds;
    let f: OwnedFd = std::fs::File::open("/dev/null").expect("open").into();
    let mut cmd = base().helper(&bin).command("true");
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .fd(7, f);
    match cmd.spawn() {
        Err(Error::Helper(m)) => assert_eq!(m, format!("{}: Exec format error", bin.display())),
        other => panic!("expected a helper error: {other:?}"),
    }
    drop(cmd);
    assert_eq!(CallerState::now().fds, before);
    let _ = std::fs::remove_dir_all(bin.parent().expect("dir"));
}

/// The command's stderr is a pipe nobody reads any more: sandwrap's own
/// message there must not kill the helper by SIGPIPE (the library then
/// read that signal as the command's status, a command that never ran).
#[test]
fn a_stderr_nobody_reads_does_not_turn_an_error_into_a_signal() {
    if !inner("a_stderr_nobody_reads_does_not_turn_an_error_into_a_signal") {
        return;
    }
    let (r, w) = nix::unistd::pipe().expect("pipe");
    drop(r);
    // An option only the helper reads (an --args payload) that it refuses.
    let (pr, pw) = nix::unistd::pipe().expect("pipe");
    nix::unistd::write(&pw, b"--no-such-option\0").expect("payload");
    drop(pw);
    let got = base()
        .option("args", ["5"])
        .command("true")
        .fd(5, pr)
        .stderr(Stdio::from(w))
        .status();
    match got {
        Err(Error::Setup(m)) => assert_eq!(m, "Unknown option --no-such-option"),
        other => panic!("expected sandwrap's error: {other:?}"),
    }
}

/// The record with the caller's fds cannot be sent (here: the user has
/// more fds in flight than its open-file limit, ETOOMANYREFS): the spawn
/// fails with that error. It used to go on, its helper waiting for the
/// record for ever and `wait` with it.
#[test]
fn a_spawn_whose_fds_cannot_be_sent_fails_instead_of_hanging() {
    if !inner("a_spawn_whose_fds_cannot_be_sent_fails_instead_of_hanging") {
        return;
    }
    use nix::sys::socket::{
        AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, sendmsg, socketpair,
    };
    let (a, _b) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .expect("socketpair");
    let files: Vec<std::fs::File> = (0..10)
        .map(|_| std::fs::File::open("/dev/null").expect("open"))
        .collect();
    let raw: Vec<i32> = files.iter().map(AsRawFd::as_raw_fd).collect();
    let lim = libc::rlimit {
        rlim_cur: 64,
        rlim_max: 64,
    };
    // SAFETY: a valid rlimit; this process runs this test only.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    let rights = [ControlMessage::ScmRights(&raw)];
    let one = |_| {
        sendmsg::<()>(
            a.as_raw_fd(),
            &[std::io::IoSlice::new(b"x")],
            &rights,
            MsgFlags::empty(),
            None,
        )
    };
    if (0..20).map(one).all(|sent| sent.is_ok()) {
        skip!("skipping: this kernel let 200 fds be in flight past a limit of 64");
        return;
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(base().command("true").spawn().map(|mut c| c.wait()));
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(Err(Error::Io(e))) => assert_eq!(e.raw_os_error(), Some(libc::ETOOMANYREFS)),
        Ok(other) => panic!("expected the send's error: {other:?}"),
        Err(_) => panic!("the spawn still hangs after 10 s"),
    }
}

/// A message longer than the caller's first buffer (here a 80 KB path
/// sandwrap names): it comes back whole, not cut (or lost, when the cut
/// fell inside a character).
#[test]
fn a_long_error_comes_back_whole() {
    if !inner("a_long_error_comes_back_whole") {
        return;
    }
    let path = format!("/x{}", "é".repeat(40_000));
    let got = base()
        .ro_bind(&path, "/x")
        .command("true")
        .stderr(Stdio::null())
        .status();
    match got {
        Err(Error::Setup(m)) => assert_eq!(
            m,
            format!("Can't find source path {path}: File name too long")
        ),
        other => panic!(
            "expected sandwrap's error: {:?}",
            other.map_err(|e| e.message().len())
        ),
    }
}
