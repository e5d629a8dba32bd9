//! The command attacks sandwrap's own processes (pid 1, the reaper, the
//! supervisor) and the caller: ptrace, /proc/PID/{mem,exe,fd,root,...},
//! the binary through /proc/PID/exe, signals and process groups; and, with
//! CAP_SYS_ADMIN kept, the setup's mounts. Run as the unprivileged test
//! user, with a copy of the binary owned by that user (as `cargo install`
//! leaves it), so that a takeover could replace the binary for the next
//! run outside any sandbox. The attacks are in tests/helpers/attack.c.
mod common;
mod fdpass;

use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

use common::*;
use fdpass::*;

const ATTACK_C: &str = include_str!("helpers/attack.c");

/// The attack helper, compiled once with gcc.
fn helper() -> Option<PathBuf> {
    static HELPER: OnceLock<Option<PathBuf>> = OnceLock::new();
    HELPER.get_or_init(|| compile_c("attack", ATTACK_C)).clone()
}

/// A copy of sandwrap in a directory owned by the test user, owned by that
/// user and writable by it: what `cargo install` leaves in ~/.cargo/bin.
fn user_owned_binary() -> PathBuf {
    let dir = scratch("owned-bin");
    let bin = dir.join("sandwrap");
    std::fs::copy(env!("CARGO_BIN_EXE_sandwrap"), &bin).expect("copy binary");
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    if is_root() {
        chown(&bin, Some(test_uid()), Some(test_uid())).expect("chown binary");
    }
    bin
}

/// The user-owned binary is exactly what was built: same bytes, same mode.
fn assert_unchanged(bin: &Path) {
    let meta = std::fs::metadata(bin).expect("stat binary");
    assert_eq!(
        meta.mode() & 0o7777,
        0o755,
        "the binary's mode was changed from inside"
    );
    let now = std::fs::read(bin).expect("read binary");
    let built = std::fs::read(env!("CARGO_BIN_EXE_sandwrap")).expect("read built binary");
    assert!(now == built, "the binary was modified from inside");
}

/// The kernel's landlock ABI (0 without landlock).
fn landlock_abi() -> i64 {
    // SAFETY: the version query takes no attribute pointer.
    unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            1u32,
        )
    }
}

/// Whether this kernel has what full protection needs (landlock ABI 6,
/// the signal scope); says why not, a failure under CI.
fn full_landlock() -> bool {
    let abi = landlock_abi();
    if abi < 6 {
        skip!("skipping: needs landlock ABI 6 (signal scope), this kernel has {abi}");
        return false;
    }
    true
}

/// One attack run.
struct Case<'a> {
    /// sandwrap's options (before `--`).
    args: &'a [&'a str],
    /// What the command attacks: pids, `ppid`, `env:SANDWRAP_SUPERVISOR_PID`
    /// (the supervisor), `env:ATTACK_CALLER_PID` (the caller).
    targets: &'a [&'a str],
    /// How many distinct targets the command must find.
    found: usize,
    /// Then SIGKILL every target, kill(-1) and kill(0).
    kill: bool,
    /// sandwrap's exit status (the command's).
    code: i32,
    /// SANDWRAP_LANDLOCK_ABI_MAX, to take an older kernel's path.
    abi_max: Option<u32>,
    /// Attacks known to stay open in this configuration, by name.
    open: &'a [&'a str],
}

impl Case<'_> {
    /// Full protection: every attack blocked, then the lethal signals.
    fn lethal<'a>(args: &'a [&'a str], targets: &'a [&'a str], found: usize) -> Case<'a> {
        Case {
            args,
            targets,
            found,
            kill: true,
            code: 137,
            abi_max: None,
            open: &[],
        }
    }
}

const SUPERVISOR: &str = "env:SANDWRAP_SUPERVISOR_PID";
const CALLER: &str = "env:ATTACK_CALLER_PID";

/// Run a case: the helper as the caller (its own process group) starts the
/// user-owned sandwrap, whose command attacks. Every attack must fail, the
/// caller and the supervisor must survive, and the binary stay unchanged.
fn attack(case: &Case) {
    let Some(helper) = helper() else {
        return;
    };
    let bin = user_owned_binary();
    let mut cmd = user_command(&helper);
    cmd.arg("caller")
        .arg(&bin)
        .args(case.args)
        .arg("--")
        .arg(&helper);
    cmd.arg("inside");
    if case.kill {
        cmd.arg("--kill");
    }
    cmd.args(case.targets);
    if let Some(abi) = case.abi_max {
        cmd.env("SANDWRAP_LANDLOCK_ABI_MAX", abi.to_string());
    }
    let o = output(cmd);
    let (out, err) = (stdout(&o), stderr(&o));
    let what = format!("sandwrap {:?}\n{out}\n{err}", case.args);
    assert!(
        o.status.success(),
        "the caller did not survive ({:?}): {what}",
        o.status
    );
    assert!(
        out.contains(&format!("sandwrap exited {}\n", case.code)),
        "the supervisor must survive and report the command's status {}: {what}",
        case.code
    );
    assert!(out.contains("caller alive"), "{what}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("target ")).count(),
        case.found,
        "targets not found: {what}"
    );
    assert!(out.contains("blocked ptrace-attach"), "{what}");
    assert_all_blocked(&out, case.open);
    assert_unchanged(&bin);
}

/// `Case::lethal` for each of `extras` after `base`.
fn lethal_in_each(base: &[&str], extras: &[&[&str]], targets: &[&str], found: usize) {
    if !full_landlock() {
        return;
    }
    for extra in extras {
        let args: Vec<&str> = base.iter().chain(extra.iter()).copied().collect();
        attack(&Case::lethal(&args, targets, found));
    }
}

/// No line of the report says an attack worked (`open`: attacks that are
/// known to stay open in this configuration, by name).
fn assert_all_blocked(out: &str, open: &[&str]) {
    let escapes: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("ESCAPE "))
        .filter(|l| !open.iter().any(|o| l.starts_with(&format!("ESCAPE {o} "))))
        .collect();
    assert!(
        escapes.is_empty(),
        "attacks that worked: {escapes:#?}\n{out}"
    );
}

/// The host's /proc, writable, over the read-only host root: every process
/// of the host can be named.
const HOST_VIEW: &[&str] = &["--ro-bind", "/", "/", "--bind", "/proc", "/proc"];

#[test]
fn no_pid_namespace_supervisor_and_caller() {
    // The command's parent is the supervisor itself.
    let targets = ["ppid", SUPERVISOR, CALLER];
    lethal_in_each(HOST_VIEW, &[&[]], &targets, 2);
}

#[test]
fn no_pid_namespace_reaper() {
    // --lock-file: a reaper stays behind as the command's parent.
    let lock = scratch("lock").join("lock");
    std::fs::write(&lock, "").expect("lock file");
    let lock = lock.display().to_string();
    let extras: [&[&str]; 2] = [
        &["--lock-file", &lock],
        &["--lock-file", &lock, "--new-session"],
    ];
    lethal_in_each(HOST_VIEW, &extras, &["ppid", SUPERVISOR, CALLER], 3);
}

#[test]
fn pid_namespace_pid1() {
    let base = ["--ro-bind", "/", "/", "--unshare-pid", "--proc", "/proc"];
    let extras: [&[&str]; 8] = [
        &[],
        &["--dev", "/dev"],
        &["--new-session"],
        &["--unshare-all", "--seccomp-policy", "strict"],
        &["--seccomp-policy", "default", "--dev", "/dev"],
        &["--landlock"],
        &["--uid", "0", "--cap-add", "ALL"],
        &["--uid", "0", "--cap-add", "ALL", "--dev", "/dev"],
    ];
    lethal_in_each(&base, &extras, &["1", "ppid"], 1);
}

#[test]
fn capable_command_without_pid_namespace() {
    // CAP_SYS_PTRACE and CAP_KILL in the sandbox's user namespace.
    let extras: [&[&str]; 3] = [
        &["--uid", "0", "--cap-add", "ALL"],
        &[
            "--uid",
            "0",
            "--cap-add",
            "ALL",
            "--seccomp-policy",
            "default",
        ],
        &["--landlock", "--new-session"],
    ];
    lethal_in_each(HOST_VIEW, &extras, &["ppid", SUPERVISOR, CALLER], 2);
}

#[test]
fn as_pid_1_through_the_host_proc() {
    if !full_landlock() {
        return;
    }
    // The command is pid 1; the supervisor and the caller can only be
    // named through the host's /proc, bound in.
    let args = [
        "--ro-bind",
        "/",
        "/",
        "--unshare-pid",
        "--as-pid-1",
        "--proc",
        "/proc",
        "--tmpfs",
        "/mnt",
        "--bind",
        "/proc",
        "/mnt/proc",
        "--setenv",
        "ATTACK_PROC",
        "/mnt/proc",
    ];
    attack(&Case {
        // pid 1 of its namespace ignores its own kill(0).
        code: 3,
        ..Case::lethal(&args, &["ppid", SUPERVISOR, CALLER], 2)
    });
}

/// Older kernels: landlock ABI 5 (no signal scope) and no landlock at all
/// (sandwrap's processes non-dumpable), taken through
/// SANDWRAP_LANDLOCK_ABI_MAX. Everything but signals stays closed; with
/// --unshare-pid and --new-session the signals reach nothing outside.
#[test]
fn older_kernels_keep_ptrace_and_proc_closed() {
    if landlock_abi() < 1 {
        skip!("skipping: needs landlock to lower its ABI (this kernel has none)");
        return;
    }
    let lock = scratch("lock").join("lock");
    std::fs::write(&lock, "").expect("lock file");
    let lock = lock.display().to_string();
    for abi in [5, 0] {
        let pidns = [
            "--ro-bind",
            "/",
            "/",
            "--unshare-pid",
            "--proc",
            "/proc",
            "--new-session",
        ];
        for extra in [
            &[][..],
            &["--uid", "0", "--cap-add", "ALL", "--dev", "/dev"],
        ] {
            let args: Vec<&str> = pidns.iter().chain(extra).copied().collect();
            attack(&Case {
                abi_max: Some(abi),
                open: &["signal"],
                ..Case::lethal(&args, &["1"], 1)
            });
        }
        // Without a pid namespace, the reaper and the supervisor: no
        // signals sent (they are not confined on these kernels); without
        // landlock the caller is not protected either.
        let mut args = HOST_VIEW.to_vec();
        args.extend(["--lock-file", &lock]);
        let targets: &[&str] = if abi == 0 {
            &["ppid", SUPERVISOR]
        } else {
            &["ppid", SUPERVISOR, CALLER]
        };
        attack(&Case {
            kill: false,
            // The helper counts the open signal probes as escapes.
            code: 1,
            abi_max: Some(abi),
            open: &["signal"],
            ..Case::lethal(&args, targets, targets.len())
        });
    }
}

#[test]
fn verbose_says_which_protection_is_in_force() {
    let abi = landlock_abi();
    let (code, _, err) = run(&["--ro-bind", "/", "/", "--verbose", "true"]);
    assert_eq!(code, 0, "{err}");
    if abi >= 6 {
        assert!(
            err.contains(&format!(
                "sandwrap: processes: the command has a landlock domain of its own (ABI {abi}): it cannot ptrace, open /proc/PID/{{mem,exe,fd,root,...}} of, or signal"
            )),
            "{err}"
        );
    }
    for (max, says) in [
        ("5", "(ABI 5): it cannot ptrace or open"),
        ("5", "signals are not confined"),
        (
            "0",
            "sandwrap: processes: no landlock: sandwrap's own processes are non-dumpable",
        ),
    ] {
        if abi < 1 {
            break;
        }
        let mut cmd = sandwrap(["--ro-bind", "/", "/", "--verbose", "true"]);
        cmd.env("SANDWRAP_LANDLOCK_ABI_MAX", max);
        let o = output(cmd);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stderr(&o).contains(says), "ABI {max}: {}", stderr(&o));
        assert_eq!(
            stderr(&o)
                .lines()
                .filter(|l| l.contains("processes:"))
                .count(),
            1,
            "one line: {}",
            stderr(&o)
        );
    }
    if abi < 1 {
        skip!("skipping the older-ABI lines: this kernel has no landlock");
    }
}

/// Start a sandbox with a pid namespace that waits on stdin; its info-fd
/// child-pid (pid 1).
fn start_waiting(
    extra: &[&str],
    env: Option<(&str, &str)>,
) -> (std::process::Child, std::fs::File, i64) {
    let (info_r, info_w) = pipe();
    let (in_r, in_w) = pipe();
    let base = ["--unshare-pid", "--info-fd", "5", "--ro-bind", "/", "/"];
    let tail = [
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
        "--",
        "sh",
        "-c",
        "echo inside > /tmp/mark; echo ready; read x || true",
    ];
    let mut cmd = sandwrap(base.iter().chain(extra).chain(&tail));
    if let Some((k, v)) = env {
        cmd.env(k, v);
    }
    pass(&mut cmd, &[(info_w.as_raw_fd(), 5)]);
    cmd.stdin(Stdio::from(in_r))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn sandbox");
    drop(info_w);
    let info = parse_flat_json(&read_to_end(info_r));
    let pid = info.first().map(|x| x.1).expect("child-pid in the info");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().expect("stdout")),
        &mut line,
    )
    .expect("ready");
    assert_eq!(line, "ready\n");
    (child, std::fs::File::from(in_w), pid)
}

/// What a launcher outside does (flatpak): open the sandbox's root and
/// namespaces through /proc/<child-pid>, and enter them.
fn join_from_outside(pid: i64) -> (i32, String, String) {
    let script = format!(
        "cat /proc/{pid}/root/tmp/mark && for n in user mnt pid ipc uts; do exec 3</proc/{pid}/ns/$n || exit 1; done && \
         nsenter -t {pid} -U -m --preserve-credentials cat /tmp/mark && echo joined"
    );
    let mut cmd = user_command(Path::new("/bin/sh"));
    cmd.args(["-c", &script]);
    let o = output(cmd);
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

#[test]
fn a_launcher_outside_can_still_join() {
    if landlock_abi() < 1 {
        skip!("skipping: without landlock, pid 1 is non-dumpable and cannot be joined");
        return;
    }
    // Also into the locked mounts of a command that keeps CAP_SYS_ADMIN,
    // and into the nested user namespace that --dev makes.
    for extra in [
        &[][..],
        &["--uid", "0", "--cap-add", "ALL"],
        &["--dev", "/dev"],
    ] {
        let (mut child, stdin, pid) = start_waiting(extra, None);
        let (code, out, err) = join_from_outside(pid);
        drop(stdin);
        let st = child.wait().expect("wait");
        assert_eq!(
            (code, out.as_str()),
            (0, "inside\ninside\njoined\n"),
            "{extra:?}: {err}"
        );
        assert!(st.success());
    }
    // Without landlock, pid 1 protects itself by being non-dumpable, which
    // also shuts a launcher out (documented in the README).
    let (mut child, stdin, pid) = start_waiting(&[], Some(("SANDWRAP_LANDLOCK_ABI_MAX", "0")));
    let (code, _, _) = join_from_outside(pid);
    drop(stdin);
    let _ = child.wait();
    assert_ne!(code, 0, "pid 1 is non-dumpable without landlock");
}

/// The supervisor's CPU time (user + system, clock ticks).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = &stat[stat.rfind(')').map(|i| i + 2).unwrap_or(0)..];
    let f: Vec<&str> = after.split(' ').collect();
    f.get(11).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0)
}

/// Inode of each pipe among a process's fds: (fd, inode).
fn pipes(pid: u32) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let Ok(link) = std::fs::read_link(e.path()) else {
            continue;
        };
        let link = link.display().to_string();
        if let (Some(fd), true) = (
            e.file_name().to_str().and_then(|s| s.parse().ok()),
            link.starts_with("pipe:"),
        ) {
            out.push((fd, link));
        }
    }
    out
}

#[test]
fn supervisor_does_not_spin_when_the_status_pipe_closes() {
    if !Path::new("/usr/bin/gdb").exists() {
        skip!("skipping: gdb is needed to close pid 1's status pipe from outside");
        return;
    }
    let mut child = sandwrap([
        "--unshare-pid",
        "--ro-bind",
        "/",
        "/",
        "--proc",
        "/proc",
        "--",
        "sh",
        "-c",
        "read x; exit 7",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("spawn");
    let sup = child.id();
    // The setpriv wrapper execs sandwrap: same pid. pid 1 is its child.
    let mut pid1 = None;
    assert!(wait_until("pid 1", || {
        pid1 = std::fs::read_to_string(format!("/proc/{sup}/task/{sup}/children"))
            .ok()
            .and_then(|s| {
                s.split_whitespace()
                    .next()
                    .and_then(|p| p.parse::<u32>().ok())
            });
        // pid 1 has forked the command (then it closes all but its pipe).
        pid1.is_some_and(|p| {
            std::fs::read_to_string(format!("/proc/{p}/task/{p}/children"))
                .is_ok_and(|s| !s.trim().is_empty())
        })
    }));
    let pid1 = pid1.expect("pid 1");
    // Until pid 1 has closed all but its status pipe, it shares others with
    // the supervisor (a fixed 300 ms was a guess): closing one of those
    // would end nothing, and the test would pass without testing.
    let mut status_fd = None;
    assert!(
        wait_until("pid 1 to keep only the status pipe", || {
            let theirs: Vec<String> = pipes(sup).into_iter().map(|p| p.1).collect();
            let shared: Vec<u32> = pipes(pid1)
                .into_iter()
                .filter(|(fd, ino)| *fd > 2 && theirs.contains(ino))
                .map(|(fd, _)| fd)
                .collect();
            status_fd = (shared.len() == 1).then(|| shared[0]);
            status_fd.is_some()
        }),
        "pid 1 holds the status pipe"
    );
    let status_fd = status_fd.expect("status fd");
    // Close pid 1's end: the supervisor reads EOF while pid 1 lives on.
    let mut gdb = user_command(Path::new("/usr/bin/gdb"));
    // The host's files as the sysroot: gdb cannot enter pid 1's mount
    // namespace (the same files, through --ro-bind / /).
    gdb.args(["-q", "-nx", "-batch", "-iex", "set sysroot /"])
        .arg(sandwrap_bin())
        .args(["-p", &pid1.to_string(), "-ex"])
        .arg(format!("call (int)close({status_fd})"));
    let g = output(gdb);
    assert!(
        g.status.success() && stdout(&g).contains("$1 = 0"),
        "gdb: {}{}",
        stdout(&g),
        stderr(&g)
    );
    let before = cpu_ticks(sup);
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let used = cpu_ticks(sup) - before;
    drop(child.stdin.take());
    let st = child.wait().expect("wait");
    assert!(
        used < 20,
        "the supervisor used {used} ticks in 1 s after the status pipe's EOF"
    );
    assert_eq!(st.code(), Some(7), "the command's status, from SIGCHLD");
}

#[test]
fn read_only_binds_stay_locked_for_a_capable_command() {
    let Some(helper) = helper() else {
        return;
    };
    let dir = scratch("locked");
    let data = dir.join("data");
    std::fs::create_dir_all(data.join("covered")).expect("mkdir");
    std::fs::write(data.join("f"), "host\n").expect("write");
    std::fs::write(data.join("covered/secret"), "secret\n").expect("write");
    for p in [
        &data,
        &data.join("covered"),
        &data.join("f"),
        &data.join("covered/secret"),
    ] {
        give(p);
    }
    let data_s = data.display().to_string();
    let helper_s = helper.display().to_string();
    let attempt = |caps: &[&str], fds: Vec<(i32, std::os::fd::OwnedFd)>| {
        let mut args: Vec<String> = ["--ro-bind", "/", "/", "--ro-bind", &data_s, "/mnt"]
            .iter()
            .chain(&["--tmpfs", "/mnt/covered"])
            .chain(caps)
            .chain(&["--", "sh", "-c"])
            .map(|s| s.to_string())
            .collect();
        args.push("grep CapEff /proc/self/status; exec \"$0\" mounts /mnt /mnt/covered".into());
        args.push(helper_s.clone());
        let (code, out, err) = run_with_fds(&args, fds);
        let cap_eff = out
            .lines()
            .find_map(|l| l.strip_prefix("CapEff:"))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            .unwrap_or(0);
        let what = format!("{caps:?}: {out}{err}");
        assert_ne!(cap_eff & (1 << 21), 0, "keeps CAP_SYS_ADMIN: {what}");
        assert!(out.contains("blocked bind-uncovered"), "{what}");
        assert_all_blocked(&out, &[]);
        assert_eq!(code, 0, "{what}");
        let host = std::fs::read_to_string(data.join("f")).expect("read");
        assert_eq!(host, "host\n", "{what}");
    };
    let with_pid_ns = [
        "--uid",
        "0",
        "--cap-add",
        "ALL",
        "--unshare-pid",
        "--proc",
        "/proc",
    ];
    for caps in [
        &["--uid", "0", "--cap-add", "ALL"][..],
        &["--cap-add", "CAP_SYS_ADMIN"],
        &with_pid_ns,
    ] {
        attempt(caps, Vec::new());
    }
    // In a user namespace joined with --userns (flatpak-spawn's way).
    let (mut first, stdin, pid) = start_waiting(&[], None);
    let userns = open(
        Path::new(&format!("/proc/{pid}/ns/user")),
        libc::O_RDONLY | libc::O_CLOEXEC,
    );
    attempt(&["--userns", "3", "--cap-add", "ALL"], vec![(3, userns)]);
    drop(stdin);
    let _ = first.wait();
}

#[test]
fn a_capable_command_keeps_its_namespaces_as_with_bwrap() {
    // The mounts are locked without moving the command out of the
    // sandbox's user namespace: CAP_NET_ADMIN and CAP_SYS_ADMIN still
    // apply to its network and UTS namespaces, as with bwrap.
    if !["/usr/sbin/ip", "/usr/bin/ip", "/sbin/ip", "/bin/ip"]
        .iter()
        .any(|p| Path::new(p).exists())
    {
        skip!("skipping: `ip` (iproute2) is not installed");
        return;
    }
    let args = [
        "--ro-bind",
        "/",
        "/",
        "--unshare-net",
        "--unshare-uts",
        "--uid",
        "0",
        "--cap-add",
        "ALL",
        "--",
        "sh",
        "-c",
        "ip link set lo down && hostname inside && hostname",
    ];
    let (code, out, err) = run(&args);
    assert_eq!((code, out.as_str()), (0, "inside\n"), "{err}");
    if let Some((code, out, err)) = run_bwrap(&args) {
        assert_eq!((code, out.as_str()), (0, "inside\n"), "bwrap: {err}");
    }
}
