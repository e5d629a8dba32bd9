//! Fds named by options never reach the command unless bwrap lets them
//! (attack class 1: an fd on a host directory is a way out through
//! `/proc/self/fd/N/..`), and an option naming a closed fd fails as in bwrap
//! instead of picking up one of sandwrap's own fds.
//!
//! Differential: for every fd-taking option, the command's fd listing under
//! sandwrap equals bwrap's for the same argv, and walking `..` from every
//! open fd finds nothing of the host.
mod common;
mod fdpass;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use common::*;
use fdpass::*;

const LIMIT: Duration = Duration::from_secs(20);

/// A sandbox with nothing of the host but /usr: the scratch dirs (under
/// the host's /tmp) are reachable only through an fd that leaked.
fn minimal() -> Vec<String> {
    let mut v = strings(USR_ONLY);
    v.extend(strings(&[
        "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
    ]));
    v
}

/// Files the cases pass on: a host directory holding a marker, data, an
/// allow-all cBPF program, an `--args` payload, a file to write to.
struct Files {
    dir: PathBuf,
    host: PathBuf,
}

impl Files {
    fn new() -> Files {
        let dir = scratch("fds");
        let host = dir.join("host");
        std::fs::create_dir(&host).expect("host dir");
        std::fs::write(host.join("marker"), "host file\n").expect("marker");
        std::fs::write(dir.join("data"), "data\n").expect("data");
        // BPF_RET|BPF_K SECCOMP_RET_ALLOW
        std::fs::write(dir.join("allow.bpf"), [6, 0, 0, 0, 0, 0, 0xff, 0x7f]).expect("bpf");
        std::fs::write(dir.join("args"), b"--dir\0/tmp/from-args\0").expect("args");
        std::fs::write(dir.join("out"), "").expect("out");
        for p in [&host, &host.join("marker"), &dir.join("out")] {
            give(p);
        }
        Files { dir, host }
    }

    /// `exec` redirections for the shell that starts the launcher.
    fn open(&self, fd: u8) -> String {
        let d = self.dir.display();
        match fd {
            4 => "4</etc/hostname".into(),
            5 => format!("5<'{}'", self.host.display()),
            6 => format!("6<'{d}/data'"),
            7 => format!("7<'{d}/allow.bpf'"),
            8 => format!("8<'{d}/args'"),
            9 => format!("9>>'{d}/out'"),
            _ => panic!("no file for fd {fd}"),
        }
    }

    /// The marker's path relative to the host's root.
    fn marker(&self) -> String {
        let p = self.host.join("marker");
        p.display().to_string().trim_start_matches('/').to_string()
    }
}

/// The command: list its fds (`N target`, numbered targets normalised),
/// then walk up to 12 `..` from each and say when the host's marker shows.
fn probe(marker: &str) -> String {
    format!(
        "for f in /proc/$$/fd/*; do t=$(readlink \"$f\") && [ -n \"$t\" ] && echo \"fd ${{f##*/}} $t\"; done; \
         for f in /proc/$$/fd/*; do p=$f; i=0; while [ $i -lt 12 ]; do \
         if [ -e \"$p/{marker}\" ]; then echo \"escape ${{f##*/}} $i\"; fi; p=$p/..; i=$((i+1)); done; done"
    )
}

fn normalise(out: &str) -> Vec<String> {
    let mut lines: Vec<String> = out
        .lines()
        .map(|l| {
            // pipe:[123] / user:[4026531837]: the number is per run.
            let mut s = String::new();
            let mut skipping = false;
            for c in l.chars() {
                match c {
                    '[' => {
                        skipping = true;
                        s.push(c);
                    }
                    ']' => {
                        skipping = false;
                        s.push(c);
                    }
                    _ if skipping => {}
                    _ => s.push(c),
                }
            }
            s
        })
        .collect();
    lines.sort();
    lines
}

/// Run `launcher ARGS` as the test user from `sh -c SCRIPT`, which opens
/// fds and then runs `"$@"`.
fn via_shell(script: &str, launcher: &Path, args: &[String]) -> (i32, String, String) {
    let mut cmd = user_command(Path::new("/bin/sh"));
    cmd.args(["-c", script, "sh"]).arg(launcher).args(args);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    finish(cmd.spawn().expect("spawn"))
}

/// The shell line that opens `fds` (plus fd 4, a bystander no option
/// names, which both launchers keep) and runs the launcher.
fn opening(files: &Files, fds: &[u8]) -> String {
    let mut script = String::from("exec");
    for fd in std::iter::once(&4).chain(fds) {
        script.push(' ');
        script.push_str(&files.open(*fd));
    }
    script.push_str("; exec \"$@\"");
    script
}

/// Run `launcher` as the test user with `fds` opened.
fn launch(launcher: &Path, files: &Files, fds: &[u8], args: &[String]) -> (i32, String, String) {
    via_shell(&opening(files, fds), launcher, args)
}

fn finish(child: Child) -> (i32, String, String) {
    finish_within(child, LIMIT)
}

/// Whether bwrap is there to compare with (a skip, which CI fails).
fn have_bwrap() -> bool {
    let there = bwrap_bin().is_some();
    if !there {
        skip!("skipping: /usr/bin/bwrap is not installed");
    }
    there
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The minimal sandbox with `opts`, running the probe.
fn probing(files: &Files, opts: &[String]) -> Vec<String> {
    let mut args = minimal();
    args.extend(opts.iter().cloned());
    args.extend(strings(&["--", "sh", "-c", &probe(&files.marker())]));
    args
}

/// Run `args` under bwrap and sandwrap from `sh -c SCRIPT`: both succeed,
/// nothing of the host is reachable, the command's fds are the same.
/// Returns sandwrap's (normalised) listing.
fn differential(name: &str, script: &str, args: &[String]) -> Option<Vec<String>> {
    let bwrap = bwrap_bin()?;
    let (bc, bout, berr) = via_shell(script, &bwrap, args);
    let (sc, sout, serr) = via_shell(script, &sandwrap_bin(), args);
    assert_eq!(bc, 0, "{name}: bwrap failed: {berr}");
    assert_eq!(sc, 0, "{name}: sandwrap failed: {serr}");
    let (b, s) = (normalise(&bout), normalise(&sout));
    assert!(
        !s.iter().any(|l| l.starts_with("escape")),
        "{name}: the host is reachable through an fd in the command: {s:?}"
    );
    assert!(
        b.iter().any(|l| l.starts_with("fd 4 ")),
        "{name}: the probe did not list the bystander fd: {b:?}"
    );
    assert_eq!(s, b, "{name}: the command's fds differ from bwrap's");
    Some(s)
}

/// Compare sandwrap with bwrap for one case of `fds` opened.
fn compare(files: &Files, name: &str, fds: &[u8], opts: &[String]) -> Option<Vec<String>> {
    differential(name, &opening(files, fds), &probing(files, opts))
}

/// Every fd-taking option of bwrap's, alone, with and without a pid 1.
#[test]
fn fds_named_by_options_reach_the_command_as_with_bwrap() {
    if !have_bwrap() {
        return;
    }
    let files = Files::new();
    let cases: &[(&str, &[u8], &[&str])] = &[
        ("bind-fd", &[5], &["--bind-fd", "5", "/mnt"]),
        ("ro-bind-fd", &[5], &["--ro-bind-fd", "5", "/mnt"]),
        ("file", &[6], &["--file", "6", "/tmp/f"]),
        ("bind-data", &[6], &["--bind-data", "6", "/tmp/f"]),
        ("ro-bind-data", &[6], &["--ro-bind-data", "6", "/tmp/f"]),
        ("seccomp", &[7], &["--seccomp", "7"]),
        ("add-seccomp-fd", &[7], &["--add-seccomp-fd", "7"]),
        ("args", &[8], &["--args", "8"]),
        ("info-fd", &[9], &["--info-fd", "9"]),
        ("json-status-fd", &[9], &["--json-status-fd", "9"]),
        ("block-fd", &[6], &["--block-fd", "6"]),
        ("sync-fd", &[9], &["--sync-fd", "9"]),
        ("lock-file", &[], &["--lock-file", "/usr/bin/env"]),
        (
            "all at once",
            &[5, 6, 7, 8, 9],
            &[
                "--ro-bind-fd",
                "5",
                "/mnt",
                "--file",
                "6",
                "/tmp/f",
                "--seccomp",
                "7",
                "--args",
                "8",
                "--json-status-fd",
                "9",
            ],
        ),
    ];
    for (name, fds, opts) in cases {
        for pid1 in [false, true] {
            let mut o = strings(opts);
            if pid1 {
                o.insert(0, "--unshare-pid".into());
            }
            compare(&files, &format!("{name} (pid ns: {pid1})"), fds, &o);
        }
    }
    // bwrap leaves the sync fd to the command when there is no pid 1.
    let s = compare(
        &files,
        "sync-fd --as-pid-1",
        &[9],
        &strings(&["--unshare-pid", "--as-pid-1", "--sync-fd", "9"]),
    );
    assert!(s.is_some_and(|s| s.iter().any(|l| l.starts_with("fd 9 "))));
}

/// The host directory really is reachable through a leaked fd: the probe
/// can see an escape (a fd bwrap passes on because no option names it).
#[test]
fn the_probe_finds_a_leaked_host_directory() {
    let files = Files::new();
    let mut args = minimal();
    args.extend(strings(&["--", "sh", "-c", &probe(&files.marker())]));
    let (code, out, err) = launch(&sandwrap_bin(), &files, &[5], &args);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("escape 5 "), "{out}");
}

/// `--seccomp-report-fd` (sandwrap's own): closed in the command, like
/// bwrap's status fds.
#[test]
fn seccomp_report_fd_does_not_reach_the_command() {
    if !have_bwrap() {
        return;
    }
    let files = Files::new();
    let mut args = minimal();
    args.extend(strings(&["--", "sh", "-c", &probe(&files.marker())]));
    let (bc, bout, berr) = launch(&bwrap_bin().expect("bwrap"), &files, &[], &args);
    assert_eq!(bc, 0, "{berr}");
    let mut own = strings(&["--seccomp-deny", "mkdir", "--seccomp-report-fd", "9"]);
    own.extend(args);
    let (sc, sout, serr) = launch(&sandwrap_bin(), &files, &[9], &own);
    assert_eq!(sc, 0, "{serr}");
    assert_eq!(normalise(&sout), normalise(&bout));
}

/// A process in a new user and pid namespace (with a user namespace nested
/// below), whose namespaces a launcher can join like flatpak-spawn.
struct NsHolder {
    child: Child,
    pid1: u32,
    nested: u32,
}

impl NsHolder {
    fn start() -> Option<NsHolder> {
        let mut cmd = user_command(Path::new("/usr/bin/unshare"));
        cmd.args([
            "--user",
            "--map-root-user",
            "--pid",
            "--fork",
            "sh",
            "-c",
            "unshare --user sleep 60; :",
        ]);
        // Its shell says "Killed" when the test ends it.
        cmd.stderr(Stdio::null());
        let mut child = cmd.spawn().ok()?;
        let children = |pid: u32| -> Vec<u32> {
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        };
        let mut found = None;
        wait_for(LIMIT, || {
            let sh = children(child.id()).first().copied();
            let sleep = sh.and_then(|sh| children(sh).first().copied());
            let nested = sleep.filter(|p| {
                std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c == "sleep\n")
            });
            found = sh.zip(nested);
            found.is_some()
        });
        let Some((pid1, nested)) = found else {
            let _ = child.kill();
            let _ = child.wait();
            skip!("skipping: unshare(1) could not make nested namespaces");
            return None;
        };
        Some(NsHolder {
            child,
            pid1,
            nested,
        })
    }
}

impl Drop for NsHolder {
    fn drop(&mut self) {
        // SAFETY: signalling the processes this test started.
        unsafe {
            libc::kill(self.nested as i32, libc::SIGKILL);
            libc::kill(self.child.id() as i32, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

/// `--userns`, `--userns2`, `--pidns`: bwrap leaves them open in the
/// command; so does sandwrap, and nothing else.
#[test]
fn namespace_fds_reach_the_command_as_with_bwrap() {
    if !have_bwrap() {
        return;
    }
    let Some(ns) = NsHolder::start() else {
        return;
    };
    let files = Files::new();
    let cases: &[(&str, &[&str])] = &[
        ("userns", &["--userns", "6"]),
        ("userns2", &["--userns", "6", "--userns2", "7"]),
        ("pidns", &["--userns", "6", "--pidns", "8"]),
        ("userns, new pid ns", &["--userns", "6", "--unshare-pid"]),
    ];
    for (name, opts) in cases {
        let script = format!(
            "exec 4</etc/hostname 6</proc/{p}/ns/user 7</proc/{n}/ns/user 8</proc/{p}/ns/pid; exec \"$@\"",
            p = ns.pid1,
            n = ns.nested
        );
        differential(name, &script, &probing(&files, &strings(opts)));
    }
}

/// `--userns-block-fd` with an outside helper writing the maps: bwrap
/// leaves the block fd open in the command, and closes the info fd.
#[test]
fn userns_block_fd_reaches_the_command_as_with_bwrap() {
    if !have_bwrap() {
        return;
    }
    let files = Files::new();
    let d = files.dir.display();
    // The shell is the helper: it reads the child's pid from the info fd,
    // writes the maps, then lets the sandbox go on.
    let script = format!(
        "d='{d}'; rm -f \"$d/info\" \"$d/blk\"; mkfifo \"$d/info\" \"$d/blk\" || exit 99; \
         exec 4</etc/hostname 5<>\"$d/blk\"; \
         \"$@\" 6>\"$d/info\" & \
         info=$(cat \"$d/info\"); pid=$(echo \"$info\" | sed -n 's/.*\"child-pid\": \\([0-9]*\\).*/\\1/p'); \
         u=$(id -u); g=$(id -g); echo deny > /proc/$pid/setgroups; \
         echo \"$u $u 1\" > /proc/$pid/uid_map; echo \"$g $g 1\" > /proc/$pid/gid_map; \
         echo go >&5; wait $!"
    );
    // The id maps are written from outside: no nested user namespace, so
    // the host's /dev rather than --dev.
    let mut args = strings(USR_ONLY);
    args.extend(strings(&["--proc", "/proc", "--tmpfs", "/tmp"]));
    args.extend(strings(&["--dev-bind", "/dev", "/dev", "--unshare-user"]));
    args.extend(strings(&["--info-fd", "6", "--userns-block-fd", "5"]));
    args.extend(strings(&["--", "sh", "-c", &probe(&files.marker())]));
    let s = differential("userns-block-fd", &script, &args).expect("bwrap checked above");
    assert!(s.iter().any(|l| l.starts_with("fd 5 ")), "{s:?}");
}

/// Run sandwrap with only stdin/stdout/stderr open, so that its own fds
/// take the lowest numbers (3, 4, ...): an option naming one of them must
/// fail as the closed fd it is to the caller.
fn run_closed(extra: &[&str]) -> (i32, String, String) {
    let mut args = strings(&["--ro-bind", "/", "/", "--tmpfs", "/tmp", "--proc", "/proc"]);
    args.extend(strings(extra));
    args.extend(strings(&["--", "sh", "-c", "echo ran"]));
    let mut cmd = sandwrap(&args);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    finish(cmd.spawn().expect("spawn"))
}

/// Every fd option naming a closed fd: bwrap's message (or bwrap's silence
/// for the ones whose read errors it ignores), for each of the low numbers
/// sandwrap's own fds take.
#[test]
fn options_naming_a_closed_fd_fail_as_in_bwrap() {
    for n in 3..=9 {
        let n_s = n.to_string();
        let n = n_s.as_str();
        let source = format!("Can't find source path /proc/self/fd/{n}: No such file or directory");
        let data = "Can't write data to file /tmp/x: Bad file descriptor";
        let seccomp = "Can't read seccomp data: Bad file descriptor";
        let info = "Write to info_fd: Bad file descriptor";
        let report = format!("--seccomp-report-fd {n}: Bad file descriptor");
        let failing: [(&[&str], &str); 14] = [
            (&["--bind-fd", n, "/mnt"], &source),
            (&["--ro-bind-fd", n, "/mnt"], &source),
            (&["--file", n, "/tmp/x"], data),
            (&["--bind-data", n, "/tmp/x"], data),
            (&["--ro-bind-data", n, "/tmp/x"], data),
            (&["--seccomp", n], seccomp),
            (&["--add-seccomp-fd", n], seccomp),
            (
                &["--args", n],
                "Can't read --args data: Bad file descriptor",
            ),
            (
                &["--userns", n],
                "Joining specified user namespace failed: Bad file descriptor",
            ),
            (
                &["--userns2", n],
                "Setting userns2 failed: Bad file descriptor",
            ),
            (&["--pidns", n], "Setting pidns failed: Bad file descriptor"),
            (&["--info-fd", n], info),
            (&["--json-status-fd", n], info),
            (
                &["--seccomp-deny", "mkdir", "--seccomp-report-fd", n],
                &report,
            ),
        ];
        for (extra, msg) in failing {
            let (code, out, err) = run_closed(extra);
            assert_eq!(
                (code, out.as_str(), err.trim()),
                (1, "", format!("sandwrap: {msg}").as_str()),
                "{extra:?}"
            );
        }
        // bwrap ignores a failed read of these, and closing a closed fd.
        for extra in [
            vec!["--block-fd", n],
            vec!["--sync-fd", n],
            vec!["--sync-fd", n, "--unshare-pid"],
            vec!["--block-fd", n, "--unshare-pid"],
        ] {
            let (code, out, err) = run_closed(&extra);
            assert_eq!(
                (code, out.as_str(), err.as_str()),
                (0, "ran\n", ""),
                "{extra:?}"
            );
        }
    }
}

/// `--userns-block-fd` naming a closed fd: bwrap goes on without the id
/// maps its helper would write and fails later; sandwrap says why at once.
#[test]
fn a_closed_userns_block_fd_is_refused() {
    let (code, out, err) =
        run_closed(&["--unshare-user", "--info-fd", "1", "--userns-block-fd", "3"]);
    assert_eq!(
        (code, out.as_str(), err.trim()),
        (1, "", "sandwrap: --userns-block-fd 3: Bad file descriptor")
    );
}

/// The same number consumed twice: the second use finds it closed, even
/// though one of sandwrap's own fds may have its number by then.
#[test]
fn a_consumed_fd_is_closed_for_later_options() {
    let files = Files::new();
    let mut args = strings(&["--ro-bind", "/", "/", "--tmpfs", "/tmp"]);
    args.extend(strings(&[
        "--ro-bind-fd",
        "5",
        "/mnt",
        "--bind-fd",
        "5",
        "/opt",
    ]));
    args.extend(strings(&["true"]));
    let (code, _, err) = launch(&sandwrap_bin(), &files, &[5], &args);
    assert_eq!(
        (code, err.trim()),
        (1, "sandwrap: Can't stat fd 5: Bad file descriptor")
    );
    if let Some(bwrap) = bwrap_bin() {
        let (bcode, _, berr) = launch(&bwrap, &files, &[5], &args);
        assert_eq!((bcode, berr.replace("bwrap:", "sandwrap:")), (code, err));
    }
    let mut args = strings(&["--ro-bind", "/", "/", "--tmpfs", "/tmp"]);
    args.extend(strings(&[
        "--file",
        "6",
        "/tmp/a",
        "--seccomp",
        "6",
        "true",
    ]));
    let (code, _, err) = launch(&sandwrap_bin(), &files, &[6], &args);
    assert_eq!(
        (code, err.trim()),
        (1, "sandwrap: Can't read seccomp data: Bad file descriptor")
    );
}

/// `--seccomp-report-fd` must name an fd reports can be written to:
/// checked before anything runs, with the reason.
#[test]
fn seccomp_report_fd_must_be_writable() {
    let files = Files::new();
    let cases: [(u8, &str); 3] = [
        (5, "is a directory"),
        (6, "not open for writing (opened read-only)"),
        (7, "not open for writing (opened read-only)"),
    ];
    for (fd, why) in cases {
        let mut args = strings(&["--ro-bind", "/", "/", "--seccomp-deny", "mkdir"]);
        args.extend(strings(&["--seccomp-report-fd", &fd.to_string(), "--"]));
        args.extend(strings(&["sh", "-c", "echo ran"]));
        let (code, out, err) = launch(&sandwrap_bin(), &files, &[fd], &args);
        assert_eq!((code, out.as_str()), (1, ""), "fd {fd}: {err}");
        assert!(
            err.starts_with(&format!("sandwrap: --seccomp-report-fd {fd}: {why}"))
                && err.lines().count() == 1,
            "fd {fd}: {err}"
        );
    }
    // O_PATH, opened by the launcher.
    let mut cmd = sandwrap([
        "--ro-bind",
        "/",
        "/",
        "--seccomp-deny",
        "mkdir",
        "--seccomp-report-fd",
        "5",
        "true",
    ]);
    let opath = open(&files.dir, libc::O_PATH);
    pass(&mut cmd, &[(std::os::fd::AsRawFd::as_raw_fd(&opath), 5)]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let (code, _, err) = finish(cmd.spawn().expect("spawn"));
    drop(opath);
    assert_eq!(
        (code, err.trim()),
        (
            1,
            "sandwrap: --seccomp-report-fd 5: an O_PATH fd cannot be written to"
        )
    );
    // A writable file works, and gets the report.
    let args = reporting("9", "mkdir /tmp/x 2>/dev/null; echo ran");
    let (code, out, err) = launch(&sandwrap_bin(), &files, &[9], &args);
    assert_eq!((code, out.as_str()), (0, "ran\n"), "{err}");
    let report = std::fs::read_to_string(files.dir.join("out")).expect("report");
    assert!(report.contains("mkdir"), "{report:?}");
}

/// sandwrap with the host's root, /dev and a /tmp, denying mkdir with a
/// report to `fd`, running `script`.
fn reporting(fd: &str, script: &str) -> Vec<String> {
    let mut args = strings(&["--ro-bind", "/", "/", "--dev", "/dev", "--tmpfs", "/tmp"]);
    args.extend(strings(&[
        "--seccomp-deny",
        "mkdir",
        "--seccomp-deny",
        "mkdirat",
    ]));
    args.extend(strings(&[
        "--seccomp-report-fd",
        fd,
        "--",
        "sh",
        "-c",
        script,
    ]));
    args
}

/// `sandwrap ARGS` with `fd` as its fd 5, output captured.
fn with_fd5(args: &[String], fd: &std::os::fd::OwnedFd) -> std::process::Command {
    let mut cmd = sandwrap(args);
    pass(&mut cmd, &[(std::os::fd::AsRawFd::as_raw_fd(fd), 5)]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

/// A status or report fd whose reader has gone: one `sandwrap:` line that
/// names the fd, never a silent death by SIGPIPE; the command's status is
/// kept where it is known.
#[test]
fn a_status_reader_that_has_gone_is_reported() {
    // --info-fd: the report fails before the command runs (bwrap dies too).
    for opt in ["--info-fd", "--json-status-fd"] {
        let (r, w) = pipe();
        drop(r);
        let mut args = strings(&["--ro-bind", "/", "/", opt, "5"]);
        args.extend(strings(&["--", "sh", "-c", "echo ran"]));
        let (code, out, err) = finish(with_fd5(&args, &w).spawn().expect("spawn"));
        drop(w);
        assert_eq!(
            (code, out.as_str(), err.trim()),
            (
                1,
                "",
                format!("sandwrap: Write to info_fd: {opt} 5: the reader has gone: Broken pipe")
                    .as_str()
            ),
            "{opt}"
        );
    }
    // --json-status-fd: the reader goes while the command runs; the exit
    // line is lost, the command's status is not.
    let (r, w) = pipe();
    let (in_r, in_w) = pipe();
    let mut args = strings(&["--ro-bind", "/", "/", "--json-status-fd", "5"]);
    args.extend(strings(&["--", "sh", "-c", "read x; exit 7"]));
    let mut cmd = with_fd5(&args, &w);
    let child = cmd.stdin(Stdio::from(in_r)).spawn().expect("spawn");
    drop(cmd);
    drop(w);
    let first = read_line(&r).expect("child-pid line");
    assert!(first.contains("child-pid"), "{first}");
    drop(r);
    std::fs::File::from(in_w).write_all(b"\n").expect("go");
    let (code, _, err) = finish(child);
    assert_eq!(
        (code, err.trim()),
        (
            7,
            "sandwrap: --json-status-fd 5: can't write the exit code: Broken pipe"
        )
    );
    // --seccomp-report-fd: reports stop, the sandbox and its status do not.
    let (r, w) = pipe();
    drop(r);
    let args = reporting(
        "5",
        "mkdir /tmp/a 2>/dev/null; mkdir /tmp/b 2>/dev/null; exit 3",
    );
    let (code, _, err) = finish(with_fd5(&args, &w).spawn().expect("spawn"));
    drop(w);
    assert_eq!(code, 3, "{err}");
    assert_eq!(
        err.trim(),
        "sandwrap: --seccomp-report-fd 5: can't write reports, later ones are lost: Broken pipe"
    );
}

/// `--info-fd` on a directory: the supervisor's write fails; the child,
/// waiting for its go-ahead, must end without a word of its own, every
/// time (the go-ahead pipe's EOF is the end).
#[test]
fn a_failed_report_stops_the_child_every_time() {
    let files = Files::new();
    for round in 0..30 {
        let mut args = strings(&["--ro-bind", "/", "/", "--info-fd", "5", "--unshare-net"]);
        args.extend(strings(&["--", "sh", "-c", "echo ran"]));
        let (code, out, err) = launch(&sandwrap_bin(), &files, &[5], &args);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (1, "", "sandwrap: Write to info_fd: Bad file descriptor\n"),
            "round {round}"
        );
    }
}

/// The supervisor ignores SIGPIPE once the sandbox exists; the command
/// keeps the caller's disposition (default here), with and without a pid 1.
#[test]
fn the_command_keeps_the_callers_sigpipe() {
    for pid1 in [false, true] {
        let (r, w) = pipe();
        let mut args = strings(&["--ro-bind", "/", "/", "--json-status-fd", "5"]);
        if pid1 {
            args.push("--unshare-pid".into());
        }
        args.extend(strings(&[
            "--",
            "sh",
            "-c",
            "grep SigIgn /proc/self/status",
        ]));
        let mut cmd = with_fd5(&args, &w);
        let child = cmd.spawn().expect("spawn");
        drop(cmd);
        drop(w);
        let (code, out, err) = finish(child);
        drop(r);
        assert_eq!(code, 0, "{err}");
        let mask = out
            .trim()
            .strip_prefix("SigIgn:")
            .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
            .unwrap_or_else(|| panic!("no SigIgn in {out:?}"));
        assert_eq!(mask & (1 << (libc::SIGPIPE - 1)), 0, "pid 1: {pid1}");
    }
}

/// `--bind-fd 2` whose bind fails: the error still reaches stderr (bwrap
/// closes the fd only once bound). Found by tests/robustness.rs.
#[test]
fn a_failed_bind_fd_of_stderr_still_reports_the_error() {
    let dir = scratch("bindfd-stderr");
    let err_file = dir.join("stderr");
    let args = strings(&[
        "--ro-bind",
        "/",
        "/",
        "--bind-fd",
        "2",
        "/nonexistent-dest",
        "true",
    ]);
    let run_to_file = |cmd: Option<std::process::Command>| -> Option<(i32, String)> {
        let mut cmd = cmd?;
        let f = std::fs::File::create(&err_file).expect("stderr file");
        give(&err_file);
        let o = cmd.stderr(f).output().expect("spawn");
        let text = std::fs::read_to_string(&err_file).expect("read stderr file");
        Some((o.status.code().unwrap_or(-1), text))
    };
    let (code, err) = run_to_file(Some(sandwrap(&args))).expect("sandwrap");
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "sandwrap: Can't create file at /nonexistent-dest: Read-only file system\n"
        )
    );
    if let Some((code, err)) = run_to_file(bwrap(&args)) {
        assert_eq!(
            (code, err.as_str()),
            (
                1,
                "bwrap: Can't create file at /nonexistent-dest: Read-only file system\n"
            )
        );
    }
}
