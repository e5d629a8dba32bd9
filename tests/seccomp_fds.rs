//! `--seccomp FD` and `--add-seccomp-fd FD`: raw cBPF programs from the
//! caller (built here with python3-seccomp), stacked in order, installed in
//! the command and in pid 1; bwrap's errors for bad input.
mod common;
mod fdpass;

use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Stdio;

use common::*;
use fdpass::*;

const DENY_MKDIR_EPERM: &str = "f.add_rule(seccomp.ERRNO(errno.EPERM), 'mkdir')\nf.add_rule(seccomp.ERRNO(errno.EPERM), 'mkdirat')";
const DENY_MKDIR_EACCES: &str = "f.add_rule(seccomp.ERRNO(errno.EACCES), 'mkdir')\nf.add_rule(seccomp.ERRNO(errno.EACCES), 'mkdirat')";

/// Run `sandwrap PRE... BASE EXTRA... -- sh -c SCRIPT` with `fds` passed.
fn run_fds(
    pre: &[&str],
    extra: &[&str],
    script: &str,
    fds: &[(&OwnedFd, i32)],
) -> (i32, String, String) {
    let mut args: Vec<String> = pre.iter().map(|s| s.to_string()).collect();
    args.extend(sh(extra, script));
    let mut cmd = sandwrap(&args);
    let raw: Vec<(i32, i32)> = fds.iter().map(|(fd, t)| (fd.as_raw_fd(), *t)).collect();
    pass(&mut cmd, &raw);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let o = cmd.output().expect("spawn");
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

const MKDIR: &str = "mkdir /tmp/d && echo made";

#[test]
fn without_a_filter_mkdir_works() {
    // Control for the tests below: the same script succeeds unfiltered.
    let (code, out, err) = run_fds(&[], &["--tmpfs", "/tmp"], MKDIR, &[]);
    assert_eq!((code, out.as_str()), (0, "made\n"), "{err}");
}

#[test]
fn seccomp_fd_denies_mkdir() {
    let Some(prog) = bpf(DENY_MKDIR_EPERM) else {
        return;
    };
    let fd = memfd(&prog);
    let (code, out, err) = run_fds(
        &["--seccomp", "5"],
        &["--tmpfs", "/tmp"],
        MKDIR,
        &[(&fd, 5)],
    );
    assert_eq!(code, 1, "{err}");
    assert_eq!(out, "");
    assert!(err.contains("Operation not permitted"), "{err}");
}

#[test]
fn seccomp_fd_from_a_pipe() {
    let Some(prog) = bpf(DENY_MKDIR_EPERM) else {
        return;
    };
    let (r, w) = pipe();
    std::fs::File::from(w).write_all_checked(&prog);
    let (code, _, err) = run_fds(&["--seccomp", "5"], &["--tmpfs", "/tmp"], MKDIR, &[(&r, 5)]);
    assert_eq!(code, 1);
    assert!(err.contains("Operation not permitted"), "{err}");
}

trait WriteAll {
    fn write_all_checked(self, data: &[u8]);
}

impl WriteAll for std::fs::File {
    fn write_all_checked(mut self, data: &[u8]) {
        use std::io::Write;
        self.write_all(data).expect("write");
    }
}

#[test]
fn add_seccomp_fd_stacks_in_order() {
    let (Some(eperm), Some(eacces)) = (bpf(DENY_MKDIR_EPERM), bpf(DENY_MKDIR_EACCES)) else {
        return;
    };
    // For two ERRNO results the most recently installed filter wins, so the
    // last --add-seccomp-fd decides the errno.
    for (first, second, expected) in [
        (&eperm, &eacces, "Permission denied"),
        (&eacces, &eperm, "Operation not permitted"),
    ] {
        let (a, b) = (memfd(first), memfd(second));
        let (code, _, err) = run_fds(
            &["--add-seccomp-fd", "5", "--add-seccomp-fd", "6"],
            &["--tmpfs", "/tmp"],
            MKDIR,
            &[(&a, 5), (&b, 6)],
        );
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(expected), "expected {expected}: {err}");
    }
}

/// `Seccomp_filters:` of a status file's text.
fn filters(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Seccomp_filters:"))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn filters_are_installed_in_pid_1_too() {
    let Ok(own) = std::fs::read_to_string("/proc/self/status") else {
        return;
    };
    let Some(base) = filters(&own) else {
        skip!("skipping: this kernel has no Seccomp_filters in /proc/PID/status");
        return;
    };
    let (Some(a), Some(b)) = (
        bpf(DENY_MKDIR_EPERM),
        bpf("f.add_rule(seccomp.ERRNO(errno.EPERM), 'acct')"),
    ) else {
        return;
    };
    let script = "grep -h Seccomp_filters /proc/1/status /proc/self/status";
    // Two stacked programs, with a pid namespace (pid 1 is sandwrap's reaper).
    let (fa, fb) = (memfd(&a), memfd(&b));
    let (code, out, err) = run_fds(
        &[
            "--unshare-pid",
            "--add-seccomp-fd",
            "5",
            "--add-seccomp-fd",
            "6",
        ],
        &[],
        script,
        &[(&fa, 5), (&fb, 6)],
    );
    assert_eq!(code, 0, "{err}");
    let counts: Vec<Option<u32>> = out.lines().map(filters).collect();
    // setpriv (when the tests run as root) adds none; the sandbox adds two.
    assert_eq!(counts, [Some(base + 2), Some(base + 2)], "{out}");
    // One program through --seccomp.
    let fa = memfd(&a);
    let (code, out, err) = run_fds(
        &["--unshare-pid", "--seccomp", "5"],
        &[],
        script,
        &[(&fa, 5)],
    );
    assert_eq!(code, 0, "{err}");
    let counts: Vec<Option<u32>> = out.lines().map(filters).collect();
    assert_eq!(counts, [Some(base + 1), Some(base + 1)], "{out}");
    // And none without.
    let (code, out, err) = run_fds(&["--unshare-pid"], &[], script, &[]);
    assert_eq!(code, 0, "{err}");
    let counts: Vec<Option<u32>> = out.lines().map(filters).collect();
    assert_eq!(counts, [Some(base), Some(base)], "{out}");
}

#[test]
fn setup_is_not_filtered() {
    // The filter denies mkdir, but setup (which creates /tmp/a/b) runs first.
    let Some(prog) = bpf(DENY_MKDIR_EPERM) else {
        return;
    };
    let fd = memfd(&prog);
    let (code, out, err) = run_fds(
        &["--seccomp", "5"],
        &["--tmpfs", "/tmp", "--dir", "/tmp/a/b"],
        "test -d /tmp/a/b && echo ok",
        &[(&fd, 5)],
    );
    assert_eq!((code, out.as_str()), (0, "ok\n"), "{err}");
}

#[test]
fn bad_fd_errors() {
    let (code, out, err) = run_fds(&["--seccomp", "77"], &[], "echo ran", &[]);
    assert_eq!(
        (code, out.as_str(), err.trim()),
        (
            1,
            "",
            "sandwrap: Can't read seccomp data: Bad file descriptor"
        )
    );
    let (code, out, err) = run_fds(&["--add-seccomp-fd", "77"], &[], "echo ran", &[]);
    assert_eq!(
        (code, out.as_str(), err.trim()),
        (
            1,
            "",
            "sandwrap: Can't read seccomp data: Bad file descriptor"
        )
    );
    let (code, _, err) = run_fds(&["--seccomp", "x"], &[], "true", &[]);
    assert_eq!((code, err.trim()), (1, "sandwrap: Invalid fd: x"));
}

#[test]
fn length_must_be_a_multiple_of_8() {
    for opt in ["--seccomp", "--add-seccomp-fd"] {
        let fd = memfd(&[0u8; 12]);
        let (code, out, err) = run_fds(&[opt, "5"], &[], "echo ran", &[(&fd, 5)]);
        assert_eq!(
            (code, out.as_str(), err.trim()),
            (
                1,
                "",
                "sandwrap: Invalid seccomp data, must be multiple of 8"
            ),
            "{opt}"
        );
    }
}

#[test]
fn invalid_program_is_refused_by_the_kernel() {
    // A multiple of 8 that is no valid program (a jump far out of range).
    let garbage: Vec<u8> = [0x15u16.to_ne_bytes().to_vec(), vec![200, 200], vec![0; 4]].concat();
    let fd = memfd(&garbage);
    let (st_r, st_w) = pipe();
    let (code, out, err) = run_fds(
        &["--seccomp", "5", "--json-status-fd", "6"],
        &[],
        "echo ran",
        &[(&fd, 5), (&st_w, 6)],
    );
    drop(st_w);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(
        err.contains("sandwrap: Unable to set up system call filtering as requested: prctl(PR_SET_SECCOMP) reported EINVAL."),
        "{err}"
    );
    // The command never ran: no exit-code line.
    assert!(!read_to_end(st_r).contains("exit-code"));
}

#[test]
fn the_two_options_do_not_mix() {
    let Some(prog) = bpf(DENY_MKDIR_EPERM) else {
        return;
    };
    let (a, b) = (memfd(&prog), memfd(&prog));
    let (code, _, err) = run_fds(
        &["--seccomp", "5", "--add-seccomp-fd", "6"],
        &[],
        "true",
        &[(&a, 5), (&b, 6)],
    );
    assert_eq!(
        (code, err.trim()),
        (
            1,
            "sandwrap: --add-seccomp-fd cannot be combined with --seccomp"
        )
    );
    let (a, b) = (memfd(&prog), memfd(&prog));
    let (code, _, err) = run_fds(
        &["--add-seccomp-fd", "5", "--seccomp", "6"],
        &[],
        "true",
        &[(&a, 5), (&b, 6)],
    );
    assert_eq!(
        (code, err.trim()),
        (
            1,
            "sandwrap: --seccomp cannot be combined with --add-seccomp-fd"
        )
    );
}

#[test]
fn repeated_seccomp_keeps_the_last() {
    let (Some(eperm), Some(eacces)) = (bpf(DENY_MKDIR_EPERM), bpf(DENY_MKDIR_EACCES)) else {
        return;
    };
    let (a, b) = (memfd(&eperm), memfd(&eacces));
    let (code, _, err) = run_fds(
        &["--seccomp", "5", "--seccomp", "6"],
        &["--tmpfs", "/tmp"],
        MKDIR,
        &[(&a, 5), (&b, 6)],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("sandwrap: Only the last --seccomp option will take effect"),
        "{err}"
    );
    assert!(
        err.contains("Permission denied") && !err.contains("Operation not permitted"),
        "{err}"
    );
}

#[test]
fn same_errors_as_bwrap() {
    if bwrap_bin().is_none() {
        skip!("skipping: /usr/bin/bwrap is not installed");
        return;
    }
    let cases: [&[&str]; 3] = [
        &["--seccomp", "77"],
        &["--add-seccomp-fd", "77"],
        &["--seccomp", "5"],
    ];
    for pre in cases {
        let mut results = Vec::new();
        for tool in ["sandwrap", "bwrap"] {
            let fd = memfd(&[0u8; 7]);
            let mut args: Vec<String> = pre.iter().map(|s| s.to_string()).collect();
            args.extend(sh(&[], "true"));
            let mut cmd = if tool == "sandwrap" {
                sandwrap(&args)
            } else {
                bwrap(&args).expect("bwrap")
            };
            pass(&mut cmd, &[(fd.as_raw_fd(), 5)]);
            let o = cmd.output().expect("spawn");
            results.push((
                o.status.code(),
                stderr(&o).replacen("bwrap: ", "sandwrap: ", 1),
            ));
        }
        assert_eq!(results[0], results[1], "{pre:?}");
    }
}

/// `sandwrap|bwrap --seccomp 5 PRE... -- CMD...` with `prog` as fd 5:
/// (exit code, stderr with `bwrap: ` read as `sandwrap: `).
fn with_program(tool: &str, prog: &[u8], pre: &[&str], cmd: &[&str]) -> Option<(i32, String)> {
    let mut args: Vec<&str> = vec!["--ro-bind", "/", "/", "--seccomp", "5"];
    args.extend_from_slice(pre);
    args.push("--");
    args.extend_from_slice(cmd);
    let mut c = match tool {
        "bwrap" => bwrap(&args)?,
        _ => sandwrap(&args),
    };
    let fd = memfd(prog);
    pass(&mut c, &[(fd.as_raw_fd(), 5)]);
    let (code, _, err) = output_within(c, std::time::Duration::from_secs(20));
    let code = code.unwrap_or_else(|| panic!("{tool} {args:?} hung: {err}"));
    Some((code, err.replace("bwrap: ", "sandwrap: ")))
}

/// pid 1 runs under the caller's programs, as in bwrap: when one refuses
/// how it waits, it fails as bwrap's does (never hangs or spins), and a
/// pid 1 killed by one is named as such, not as the command.
#[test]
fn pid_1_under_a_caller_program_fails_cleanly() {
    let (Some(nowait), Some(killwait), Some(nosigwait)) = (
        bpf("f.add_rule(seccomp.ERRNO(errno.EPERM), 'wait4')"),
        bpf("f.add_rule(seccomp.KILL_PROCESS, 'wait4')"),
        bpf("f.add_rule(seccomp.ERRNO(errno.EPERM), 'rt_sigtimedwait')"),
    ) else {
        return;
    };
    let pid = ["--unshare-pid"];
    let cmd = ["sh", "-c", "exit 3"];
    let cases: [(&[u8], i32, &str); 3] = [
        (
            &nowait,
            1,
            "sandwrap: init wait(): Operation not permitted\n",
        ),
        (&killwait, 128 + libc::SIGSYS, ""),
        (&nosigwait, 3, ""),
    ];
    for (prog, want_code, want_err) in cases {
        let (code, err) = with_program("sandwrap", prog, &pid, &cmd).expect("sandwrap");
        assert_eq!(code, want_code, "{err}");
        if want_code == 128 + libc::SIGSYS {
            assert_eq!(
                err,
                "sandwrap: sandwrap's pid 1 was killed by SIGSYS (Bad system call): the --seccomp/--add-seccomp-fd program refused one of its system calls; the command's status is lost\n"
            );
        } else {
            assert_eq!(err, want_err);
        }
        if let Some((bcode, berr)) = with_program("bwrap", prog, &pid, &cmd) {
            assert_eq!(bcode, code, "bwrap: {berr}");
            if want_code != 128 + libc::SIGSYS {
                assert_eq!(berr, err, "the same message as bwrap");
            }
        }
    }
}

/// A caller's program that denies `write`: the exec failure is still
/// reported (bwrap, under the same filter, cannot say anything).
#[test]
fn exec_failure_is_reported_under_a_caller_program_that_denies_write() {
    let Some(nowrite) = bpf("f.add_rule(seccomp.ERRNO(errno.EPERM), 'write')") else {
        return;
    };
    let (code, err) = with_program("sandwrap", &nowrite, &[], &["/nonexistent"]).expect("sandwrap");
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "sandwrap: execvp /nonexistent: No such file or directory\n"
        )
    );
}

/// sandwrap's policy is installed first: one that would refuse installing
/// the caller's program after it is refused before anything runs.
#[test]
fn a_policy_refusing_the_callers_program_is_refused_up_front() {
    let Some(prog) = bpf(DENY_MKDIR_EPERM) else {
        return;
    };
    let (code, err) = with_program(
        "sandwrap",
        &prog,
        &["--seccomp-deny", "prctl"],
        &["sh", "-c", "echo ran"],
    )
    .expect("sandwrap");
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "sandwrap: seccomp policy custom refuses prctl(PR_SET_SECCOMP), which installs the --seccomp/--add-seccomp-fd programs after it (--seccomp-deny prctl: prctl -> errno EPERM): allow it with --seccomp-allow prctl\n"
    );
    // Allowed again by a later rule: both filters apply.
    let (code, err) = with_program(
        "sandwrap",
        &prog,
        &[
            "--seccomp-deny",
            "prctl",
            "--seccomp-allow",
            "prctl",
            "--tmpfs",
            "/tmp",
        ],
        &["sh", "-c", "mkdir /tmp/d || echo refused"],
    )
    .expect("sandwrap");
    assert_eq!(
        (code, err.as_str()),
        (
            0,
            "mkdir: cannot create directory '/tmp/d': Operation not permitted\n"
        )
    );
}
