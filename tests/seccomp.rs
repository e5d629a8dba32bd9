//! sandwrap's own seccomp engine, run as an unprivileged user: presets
//! block what they claim, ordinary programs still run, denials are
//! reported, and sandwrap's filter stacks with a caller's `--seccomp` fd.
mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Each argument names one probe; the helper prints `probe=OK` or
/// `probe=ERRNO_NAME` (or `probe=SKIP:reason`).
const HELPER_C: &str = r#"
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static void out(const char *name, long r) {
    if (r < 0) printf("%s=%s\n", name, strerrorname_np(errno));
    else printf("%s=OK\n", name);
    fflush(stdout);
}

/* Run f in a child so that namespace changes do not stick; the child's
   errno comes back as its exit code. */
static void in_child(const char *name, long (*f)(void)) {
    pid_t p = fork();
    if (p == 0) _exit(f() < 0 ? errno : 0);
    int st = 0;
    waitpid(p, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) printf("%s=OK\n", name);
    else if (WIFEXITED(st)) printf("%s=%s\n", name, strerrorname_np(WEXITSTATUS(st)));
    else printf("%s=SIGNAL%d\n", name, WTERMSIG(st));
    fflush(stdout);
}

static long do_unshare(void) { return unshare(CLONE_NEWUSER); }
static long do_clone(void) {
    long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (r == 0) _exit(0);
    if (r > 0) waitpid(r, 0, 0);
    return r;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "ptrace")) {
            pid_t c = fork();
            if (c == 0) { pause(); _exit(0); }
            long r = ptrace(PTRACE_ATTACH, c, 0, 0);
            out(a, r);
            kill(c, SIGKILL);
            waitpid(c, 0, 0);
        } else if (!strcmp(a, "keyctl")) {
            out(a, syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 1));
        } else if (!strcmp(a, "unshare_user")) {
            in_child(a, do_unshare);
        } else if (!strcmp(a, "clone_user")) {
            in_child(a, do_clone);
        } else if (!strcmp(a, "mount")) {
            out(a, mount("none", "/tmp", "tmpfs", 0, 0));
        } else if (!strcmp(a, "bpf")) {
            out(a, syscall(SYS_bpf, 0, 0, 0));
        } else if (!strcmp(a, "tiocsti")) {
            /* A pty as our controlling terminal, then push a byte into it. */
            int m = posix_openpt(O_RDWR | O_NOCTTY);
            if (m < 0 || grantpt(m) || unlockpt(m)) { printf("%s=SKIP:no pty (%s)\n", a, strerror(errno)); continue; }
            pid_t c = fork();
            if (c == 0) {
                setsid();
                int s = open(ptsname(m), O_RDWR);
                if (s < 0) _exit(100);
                ioctl(s, TIOCSCTTY, 0);
                char ch = 'x';
                _exit(ioctl(s, TIOCSTI, &ch) < 0 ? errno : 0);
            }
            int st = 0;
            waitpid(c, &st, 0);
            if (WEXITSTATUS(st) == 100) printf("%s=SKIP:cannot open the pty slave\n", a);
            else if (WEXITSTATUS(st) == 0) printf("%s=OK\n", a);
            else printf("%s=%s\n", a, strerrorname_np(WEXITSTATUS(st)));
            fflush(stdout);
        } else if (!strcmp(a, "uname")) {
            struct utsname u;
            out(a, uname(&u));
        } else if (!strcmp(a, "getpgrp")) {
            out(a, syscall(SYS_getpgrp));
        } else if (!strcmp(a, "i386_getpid")) {
            long r;
            __asm__ volatile("int $0x80" : "=a"(r) : "a"(20) : "memory");
            printf("%s=%ld\n", a, r);
            fflush(stdout);
        } else if (!strcmp(a, "x32_getpid")) {
            out(a, syscall(0x40000000 | SYS_getpid));
        } else {
            printf("%s=UNKNOWN\n", a);
        }
    }
    return 0;
}
"#;

/// The helper, compiled once with gcc; None (with the reason printed) when
/// gcc is missing or fails.
fn helper() -> Option<PathBuf> {
    c_helper("probe", HELPER_C)
}

/// Run the helper in a sandbox with `extra` options; (exit code, probe
/// results as `name=value` lines, stderr).
fn probe(extra: &[&str], probes: &[&str]) -> Option<(i32, String, String)> {
    let bin = helper()?;
    let mut args: Vec<String> = BASE.iter().map(|s| s.to_string()).collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push("--".into());
    args.push(bin.display().to_string());
    args.extend(probes.iter().map(|s| s.to_string()));
    Some(run(&args))
}

fn value<'a>(out: &'a str, name: &str) -> &'a str {
    probe_value(out, name)
}

#[test]
fn default_preset_blocks_what_it_claims() {
    let probes = [
        "ptrace",
        "keyctl",
        "unshare_user",
        "clone_user",
        "mount",
        "bpf",
        "tiocsti",
    ];
    let Some((code, out, err)) = probe(
        &["--seccomp-policy", "default", "--seccomp-report"],
        &probes,
    ) else {
        return;
    };
    assert_eq!(code, 0, "stderr: {err}");
    for p in [
        "ptrace",
        "keyctl",
        "unshare_user",
        "clone_user",
        "mount",
        "bpf",
    ] {
        assert_eq!(value(&out, p), "EPERM", "{p}: {out}");
    }
    // The report proves the filter (not a missing capability) said no.
    for (call, rule) in [
        (
            "ptrace(",
            "preset default: ptrace when arg0 != 0x0 -> errno EPERM",
        ),
        ("keyctl(", "preset default: keyctl -> errno EPERM"),
        (
            "unshare(",
            "preset default: unshare when arg0 has 0x10000000",
        ),
        ("clone(", "preset default: clone when arg0 has 0x10000000"),
        ("mount(", "preset default: mount -> errno EPERM"),
        ("bpf(", "preset default: bpf -> errno EPERM"),
    ] {
        assert!(
            err.lines()
                .any(|l| l.contains(call) && l.contains(rule) && l.contains("= -EPERM")),
            "no report for {call} in: {err}"
        );
    }
    match value(&out, "tiocsti") {
        v if v.starts_with("SKIP:") => skip!("skipping the TIOCSTI probe: {v}"),
        v => {
            assert_eq!(v, "EPERM", "{out}");
            assert!(
                err.contains("ioctl when arg1 == 0x5412 -> errno EPERM"),
                "{err}"
            );
        }
    }
}

/// Without a policy the same probes get past (or fail for other reasons):
/// the denials above come from the filter.
#[test]
fn without_options_no_filter_is_installed() {
    let Some((code, out, err)) = probe(&[], &["keyctl", "unshare_user", "ptrace", "x32_getpid"])
    else {
        return;
    };
    assert_eq!(code, 0, "stderr: {err}");
    assert_ne!(value(&out, "keyctl"), "EPERM", "{out}");
    assert_eq!(value(&out, "unshare_user"), "OK", "{out}");
    assert_eq!(value(&out, "ptrace"), "OK", "{out}");
    assert!(!err.contains("seccomp"), "{err}");
}

#[test]
fn strict_preset_denies_by_default_and_limits_socket_families() {
    let Some((code, out, err)) = probe(
        &["--seccomp-policy", "strict"],
        &["ptrace", "keyctl", "unshare_user", "mount", "uname"],
    ) else {
        return;
    };
    assert_eq!(code, 0, "stderr: {err}");
    for p in ["ptrace", "keyctl", "unshare_user", "mount"] {
        assert_eq!(value(&out, p), "EPERM", "{p}: {out}");
    }
    assert_eq!(value(&out, "uname"), "OK");
    let (code, out, err) = run(&sh(
        &["--seccomp-policy", "strict"],
        "/usr/bin/python3 -c 'import socket\ntry:\n socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)\nexcept OSError as e: print(e.errno)\nsocket.socket(socket.AF_INET6).close(); print(\"inet6\")'",
    ));
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out, format!("{}\ninet6\n", libc::EAFNOSUPPORT));
}

#[test]
#[cfg(target_arch = "x86_64")]
fn other_abis_are_killed() {
    // x32 numbers: the kernel here may not even have x32, but the filter must
    // kill before the kernel looks.
    let Some((code, out, err)) = probe(&["--seccomp-policy", "default"], &["x32_getpid"]) else {
        return;
    };
    assert_eq!(code, 128 + libc::SIGSYS, "out: {out} stderr: {err}");
    assert!(err.contains("killed by SIGSYS"), "{err}");
    // i386 through int 0x80, where the kernel runs 32-bit calls at all.
    let (_, plain, _) = probe(&[], &["i386_getpid"]).expect("helper built above");
    let v = value(&plain, "i386_getpid");
    if v.parse::<i64>().map_or(true, |n| n <= 0) {
        skip!("skipping the int 0x80 probe: this kernel does not run i386 calls here ({v:?})");
        return;
    }
    let (code, out, err) = probe(
        &["--seccomp-policy", "default", "--seccomp-report"],
        &["i386_getpid"],
    )
    .expect("helper");
    assert_eq!(code, 128 + libc::SIGSYS, "out: {out} stderr: {err}");
    assert!(
        err.contains("i386 syscall 20(") && err.contains("killed the process (SIGSYS)"),
        "{err}"
    );
}

fn assert_runs(policy: &str, script: &str, want: &str) {
    let (code, out, err) = run(&sh(
        &["--tmpfs", "/tmp", "--seccomp-policy", policy],
        script,
    ));
    assert_eq!(code, 0, "{policy}: {script}\nstdout: {out}\nstderr: {err}");
    assert!(
        out.contains(want),
        "{policy}: {script}\nstdout: {out}\nstderr: {err}"
    );
}

#[test]
fn ordinary_programs_run_under_both_presets() {
    let coreutils = "cd /tmp && mkdir d && echo hello > d/f && cp d/f d/g && mv d/g d/h && cat d/h | wc -c \
                     && ls -la d | sort | head -1 >/dev/null && ln -s f d/l && readlink d/l && stat -c %s d/f \
                     && chmod 600 d/f && find d -type f | sort | tr '\\n' ' ' && date +%Y >/dev/null && id -u >/dev/null \
                     && tar cf t.tar d && rm -r d && sleep 0.01 && echo coreutils-ok";
    let python = "/usr/bin/python3 -c 'import json, subprocess, threading, tempfile, os\nt = threading.Thread(target=lambda: None); t.start(); t.join()\nprint(subprocess.run([\"echo\", \"sub\"], capture_output=True, text=True).stdout.strip(), json.dumps({\"a\": 1}), os.getpid() > 0)'";
    let gcc = "cd /tmp && printf '#include <stdio.h>\\nint main(void){puts(\"compiled-ok\");return 0;}\\n' > h.c && gcc -O2 -o h h.c && ./h";
    for policy in ["default", "strict"] {
        assert_runs(
            policy,
            "echo $((1+2)); for i in 1 2; do :; done; (exit 0) && echo sh-ok",
            "sh-ok",
        );
        assert_runs(policy, coreutils, "coreutils-ok");
        assert_runs(policy, python, "sub {\"a\": 1} True");
        if Path::new("/usr/bin/gcc").exists() {
            assert_runs(policy, gcc, "compiled-ok");
        } else {
            skip!("skipping the gcc run: /usr/bin/gcc is missing");
        }
        if Path::new("/usr/bin/make").exists() {
            assert_runs(
                policy,
                "cd /tmp && printf 'all:\\n\\techo make-ok\\n' > Makefile && make -s",
                "make-ok",
            );
        }
    }
}

#[test]
fn cargo_version_runs_under_both_presets() {
    let cargo = PathBuf::from(std::env::var("CARGO").unwrap_or_else(|_| "/usr/bin/cargo".into()));
    if !cargo.is_file() {
        skip!("skipping: no cargo binary at {}", cargo.display());
        return;
    }
    // cargo usually lives under the building user's home, which the test
    // user cannot reach: run a copy from the shared test directory then.
    let mut probe = user_command(Path::new("/bin/sh"));
    probe.args(["-c", "\"$0\" --version"]).arg(&cargo);
    let cargo = if output(probe).status.success() {
        cargo
    } else {
        let dir = scratch("seccomp-cargo");
        let copy = dir.join("cargo");
        std::fs::copy(&cargo, &copy).expect("copy cargo");
        eprintln!(
            "note: {} is not runnable by uid {}; running a copy at {}",
            cargo.display(),
            caller_uid(),
            copy.display()
        );
        copy
    };
    for policy in ["default", "strict"] {
        let (code, out, err) = run(&sh(
            &["--seccomp-policy", policy],
            &format!("'{}' --version", cargo.display()),
        ));
        assert_eq!(code, 0, "{policy}: {err}");
        assert!(out.starts_with("cargo "), "{policy}: {out}");
    }
}

#[test]
fn report_lines_go_to_stderr_or_an_fd() {
    let Some((code, out, err)) = probe(
        &["--seccomp-deny", "uname:ENOTBLK", "--seccomp-report"],
        &["uname", "keyctl"],
    ) else {
        return;
    };
    assert_eq!(code, 0, "{err}");
    assert_eq!(value(&out, "uname"), "ENOTBLK");
    assert_ne!(value(&out, "keyctl"), "ENOTBLK");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("sandwrap: seccomp: "))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains(" probe: uname(")
            && lines[0].contains("= -ENOTBLK (denied) by --seccomp-deny uname:ENOTBLK: uname"),
        "{}",
        lines[0]
    );

    // The same to a file descriptor: the line is there, stderr stays clean.
    let bin = helper().expect("helper built above");
    let dir = scratch("seccomp-report");
    let path = dir.join("report.txt");
    let file = std::fs::File::create(&path).expect("report file");
    give(&path);
    let mut cmd = sandwrap([
        "--ro-bind",
        "/",
        "/",
        "--seccomp-deny",
        "uname",
        "--seccomp-report-fd",
        "0",
        "--",
    ]);
    cmd.arg(&bin).arg("uname").stdin(Stdio::from(file));
    let o = output(cmd);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("seccomp"), "{}", stderr(&o));
    let report = std::fs::read_to_string(&path).expect("read report");
    assert!(
        report.contains("uname(") && report.contains("= -EPERM (denied)"),
        "{report}"
    );
}

#[test]
fn kill_rules_name_the_call() {
    let Some((code, _, err)) = probe(
        &["--seccomp-deny", "uname:kill", "--seccomp-report"],
        &["uname"],
    ) else {
        return;
    };
    assert_eq!(code, 128 + libc::SIGSYS, "{err}");
    assert!(
        err.contains("uname(")
            && err.contains("killed the process (SIGSYS) by --seccomp-deny uname:kill"),
        "{err}"
    );
    let (code, _, err) = probe(&["--seccomp-deny", "uname:kill"], &["uname"]).expect("helper");
    assert_eq!(code, 128 + libc::SIGSYS, "{err}");
    assert!(
        err.contains("killed by SIGSYS") && err.contains("kill rules of policy custom: uname"),
        "{err}"
    );
}

/// A kill rule hit by a thread other than the main one ends the whole
/// process under `--seccomp-report` too (the notifier used to open a pidfd
/// for the thread's id, which the kernel refuses, and let the process go on
/// with ENOSYS), whether the process leaves SIGSYS alone or catches it.
#[test]
fn kill_rules_end_the_process_when_another_thread_calls() {
    let script = "import ctypes, signal, sys, threading\n\
if sys.argv[1] == 'catch':\n    signal.signal(signal.SIGSYS, lambda *a: None)\n\
libc = ctypes.CDLL(None, use_errno=True)\n\
def call():\n    print('acct', libc.syscall(163, None), ctypes.get_errno(), flush=True)\n\
t = threading.Thread(target=call)\nt.start()\nt.join()\nprint('survived', flush=True)\n";
    for (how, signal) in [("leave", libc::SIGSYS), ("catch", libc::SIGKILL)] {
        let (code, out, err) = run_limited(&ro_root_cmd(
            &["--seccomp-deny", "acct:kill", "--seccomp-report"],
            &["/usr/bin/python3", "-c", script, how],
        ));
        assert_eq!(code, Some(128 + signal), "{how}: {out} {err}");
        assert!(!out.contains("survived"), "{how}: {out}");
        assert!(
            err.contains("acct(") && err.contains("killed the process"),
            "{how}: {err}"
        );
    }
}

#[test]
fn policy_file_errors_name_file_line_and_token() {
    let path = scratch_file(
        "seccomp-file",
        "p.toml",
        "include = [\"default\"]\n\n[[rule]]\nsyscall = \"unmae\"\naction = \"allow\"\n",
    );
    let (code, _, err) = run(&ro_root_cmd(
        &["--seccomp-policy", path.to_str().expect("utf8")],
        &["true"],
    ));
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!(
            "sandwrap: {}:4: \"unmae\": unknown system call \"unmae\"\n",
            path.display()
        )
    );
    std::fs::write(
        &path,
        "include = [\"default\"]\n[[rule]]\nsyscall = \"uname\"\naction = \"errno ENOTBLK\"\n",
    )
    .expect("write");
    let Some((code, out, err)) = probe(
        &["--seccomp-policy", path.to_str().expect("utf8")],
        &["uname", "keyctl"],
    ) else {
        return;
    };
    assert_eq!(code, 0, "{err}");
    assert_eq!(value(&out, "uname"), "ENOTBLK");
    assert_eq!(value(&out, "keyctl"), "EPERM");
}

/// A caller's cBPF program (built with libseccomp's Python binding) and
/// sandwrap's policy both apply.
#[test]
fn stacks_with_a_caller_seccomp_fd() {
    let dir = scratch("seccomp-stack");
    let bpf = dir.join("caller.bpf");
    let script = format!(
        "import errno, seccomp\nf = seccomp.SyscallFilter(defaction=seccomp.ALLOW)\nf.add_rule(seccomp.ERRNO(errno.EACCES), 'getpgrp')\nf.export_bpf(open('{}', 'wb'))\n",
        bpf.display()
    );
    match Command::new("/usr/bin/python3")
        .args(["-c", &script])
        .output()
    {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            skip!(
                "skipping: python3's seccomp module cannot build a filter: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            return;
        }
        Err(e) => {
            skip!("skipping: /usr/bin/python3 is not available ({e})");
            return;
        }
    }
    let Some(bin) = helper() else { return };
    let file = std::fs::File::open(&bpf).expect("open bpf");
    let mut cmd = sandwrap([
        "--ro-bind",
        "/",
        "/",
        "--seccomp",
        "0",
        "--seccomp-policy",
        "default",
        "--seccomp-deny",
        "uname:ENOTBLK",
        "--",
    ]);
    cmd.arg(&bin)
        .args(["getpgrp", "keyctl", "uname"])
        .stdin(Stdio::from(file));
    let o = output(cmd);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(value(&out, "getpgrp"), "EACCES", "caller's filter: {out}");
    assert_eq!(value(&out, "keyctl"), "EPERM", "sandwrap's preset: {out}");
    assert_eq!(
        value(&out, "uname"),
        "ENOTBLK",
        "sandwrap's --seccomp-deny: {out}"
    );
}

/// `sandwrap ARGS` as the test user, killed after 20 s: (exit code or
/// `None` when it hung, stdout, stderr).
fn run_limited<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (Option<i32>, String, String) {
    output_within(sandwrap(args), std::time::Duration::from_secs(20))
}

/// sandwrap's own messages after the filter is installed must neither be
/// attempted under it (a denied or killing `write`) nor be lost: a failed
/// exec is still reported, once, with bwrap's wording.
#[test]
fn exec_failure_is_reported_under_a_policy_that_denies_write() {
    for deny in ["write", "write:kill", "write:ENOSPC"] {
        let (code, out, err) =
            run_limited(&ro_root_cmd(&["--seccomp-deny", deny], &["/nonexistent"]));
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (
                Some(1),
                "",
                "sandwrap: execvp /nonexistent: No such file or directory\n"
            ),
            "--seccomp-deny {deny}"
        );
    }
}

#[test]
fn exec_refused_by_the_policy_names_the_rule() {
    let (code, _, err) = run_limited(&ro_root_cmd(
        &["--seccomp-deny", "execve:EACCES"],
        &["true"],
    ));
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        err,
        "sandwrap: execvp true: Permission denied (refused by seccomp policy custom: --seccomp-deny execve:EACCES: execve -> errno EACCES)\n"
    );
}

/// The listener must reach the supervisor whatever the policy denies:
/// `sendmsg` denied (errno, kill, log, or by a default-deny file) used to
/// block the command on its own notification.
#[test]
fn report_works_when_the_policy_denies_sendmsg() {
    let file = scratch_file(
        "seccomp-sendmsg",
        "nosend.toml",
        "include = [\"strict\"]\n[[rule]]\nsyscall = [\"sendmsg\", \"sendto\"]\naction = \"errno EPERM\"\n",
    );
    let file = file.display().to_string();
    let script = "import socket\na, b = socket.socketpair()\ntry:\n    a.sendmsg([b'x'])\nexcept OSError as e:\n    print(e.errno)\nelse:\n    print('sent')";
    for policy in [
        vec!["--seccomp-deny", "sendmsg"],
        vec!["--seccomp-deny", "sendmsg:log"],
        vec!["--seccomp-deny", "sendmsg:ENOTSUP"],
        vec!["--seccomp-policy", &file],
    ] {
        let mut args = vec!["--ro-bind", "/", "/"];
        args.extend(&policy);
        args.extend(["--seccomp-report", "--", "/usr/bin/python3", "-c", script]);
        let (code, out, err) = run_limited(&args);
        assert_eq!(code, Some(0), "{policy:?} hung or failed: {out} {err}");
        assert!(
            err.contains("sendmsg(") && err.contains("by "),
            "{policy:?}: the denial is reported: {err}"
        );
        let want = match policy[1] {
            "sendmsg:log" => "sent",
            "sendmsg:ENOTSUP" => "95",
            _ => "1",
        };
        assert_eq!(out.trim(), want, "{policy:?}: {err}");
    }
    // A kill rule: the command dies of it, the supervisor reports it.
    let (code, _, err) = run_limited(&ro_root_cmd(
        &["--seccomp-deny", "sendmsg:kill", "--seccomp-report"],
        &["/usr/bin/python3", "-c", script],
    ));
    assert_eq!(code, Some(128 + libc::SIGSYS), "{err}");
    assert!(
        err.contains("sendmsg(") && err.contains("killed the process"),
        "{err}"
    );
}

/// sandwrap's pid 1 is not bound by the command's policy: denying what it
/// waits with neither stalls nor spins it.
#[test]
fn pid_1_is_not_bound_by_the_commands_policy() {
    for call in [
        "wait4",
        "rt_sigtimedwait",
        "wait4:kill",
        "rt_sigtimedwait:kill",
    ] {
        let (code, out, err) = run_limited(&ro_root_cmd(
            &["--unshare-pid", "--seccomp-deny", call],
            &["sh", "-c", "echo ran; exit 3"],
        ));
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (Some(3), "ran\n", ""),
            "--seccomp-deny {call}"
        );
    }
    // Filter counts: the command has one more than pid 1.
    let (code, out, err) = run_limited(&ro_root_cmd(
        &[
            "--proc",
            "/proc",
            "--unshare-pid",
            "--seccomp-policy",
            "default",
        ],
        &[
            "sh",
            "-c",
            "grep Seccomp_filters /proc/1/status /proc/self/status",
        ],
    ));
    assert_eq!(code, Some(0), "{err}");
    let counts: Vec<u32> = out
        .lines()
        .filter_map(|l| l.rsplit(['\t', ' ']).next()?.parse().ok())
        .collect();
    if counts.len() != 2 {
        skip!("skipping the filter count: no Seccomp_filters in /proc/PID/status ({out})");
        return;
    }
    assert_eq!(counts[1], counts[0] + 1, "pid 1, then the command: {out}");
}

#[test]
fn a_fifo_policy_is_refused_at_once() {
    let dir = scratch("seccomp-fifo");
    let fifo = dir.join("policy.toml");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o666) }, 0, "mkfifo");
    give(&fifo);
    let path = fifo.display().to_string();
    let (code, out, err) = run_limited(&ro_root_cmd(&["--seccomp-policy", &path], &["true"]));
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            Some(1),
            "",
            format!("sandwrap: Can't read seccomp policy {path}: not a regular file (a FIFO)\n")
                .as_str()
        )
    );
    let (code, _, err) = run_limited(&ro_root_cmd(&["--seccomp-policy", "/dev/"], &["true"]));
    assert_eq!(code, Some(1));
    assert!(err.contains("not a regular file (a directory)"), "{err}");
}

#[test]
fn a_policy_file_with_a_non_utf8_name_is_read() {
    use std::os::unix::ffi::OsStrExt;
    let dir = scratch("seccomp-nonutf8");
    let path = dir.join(std::ffi::OsStr::from_bytes(b"pol\xff.toml"));
    mkfile(
        &path,
        "default = \"allow\"\n[[rule]]\nsyscall = \"uname\"\naction = \"errno ENOTBLK\"\n",
    );
    let Some(bin) = helper() else { return };
    let mut cmd = sandwrap(["--ro-bind", "/", "/", "--seccomp-policy"]);
    cmd.arg(&path).arg("--").arg(&bin).arg("uname");
    let o = output(cmd);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(value(&stdout(&o), "uname"), "ENOTBLK");
    // And its errors name it.
    std::fs::write(&path, "default = \"alow\"\n").expect("write");
    let mut cmd = sandwrap(["--ro-bind", "/", "/", "--seccomp-policy"]);
    cmd.arg(&path).args(["--", "true"]);
    let o = output(cmd);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("pol\u{fffd}.toml:1: \"alow\": unknown action"),
        "{}",
        stderr(&o)
    );
}

/// Run `sandwrap ARGS` (for at most 20 s): its exit code, stderr, and the
/// CPU time it used (user + system, from its own wait4): what its work
/// cost, which other load on the machine does not stretch as it does the
/// wall time.
#[allow(clippy::zombie_processes)] // reaped by the wait4 here, which has its rusage
fn run_cpu_timed(args: &[String]) -> (Option<i32>, String, std::time::Duration) {
    use std::io::Read;
    use std::time::{Duration, Instant};
    let mut child = sandwrap(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sandwrap");
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let (mut st, mut ru) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
    // SAFETY: waiting for our own child, with valid out-pointers.
    while unsafe { libc::wait4(pid, &mut st, libc::WNOHANG, &mut ru) } == 0 {
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sandwrap {args:?} did not end within 20 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    let code = libc::WIFEXITED(st).then(|| libc::WEXITSTATUS(st));
    (code, err, tv(ru.ru_utime) + tv(ru.ru_stime))
}

/// A runaway policy file is refused at once: by its size, or by its
/// number of rules (linear time either way). Measured in CPU time, not in
/// wall time (a bound on the machine's speed, which load stretches).
#[test]
fn huge_policy_files_are_refused_quickly() {
    let dir = scratch("seccomp-huge");
    let rule = "[[rule]]\nsyscall = \"uname\"\naction = \"allow\"\n";
    for (name, rules) in [("big.toml", 30_000), ("many.toml", 5_000)] {
        let path = dir.join(name);
        mkfile(
            &path,
            format!("default = \"allow\"\n{}", rule.repeat(rules)),
        );
        let p = path.display().to_string();
        let (code, err, cpu) = run_cpu_timed(&ro_root_cmd(&["--seccomp-policy", &p], &["true"]));
        assert_eq!(code, Some(1), "{err}");
        assert!(
            cpu < std::time::Duration::from_secs(3),
            "{name} took {cpu:?} of CPU"
        );
        let want = if rules == 30_000 {
            "larger than the limit of 1048576 bytes"
        } else {
            "5000 [[rule]] entries: too many rules: a seccomp policy holds at most 4096"
        };
        assert!(
            err.starts_with("sandwrap: ") && err.contains(want),
            "{name}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

/// With --level-prefix, the notifier's lines and the SIGSYS note carry
/// their syslog level like every other message.
#[test]
fn level_prefix_marks_reports_and_the_sigsys_note() {
    let Some((code, _, err)) = probe(
        &[
            "--level-prefix",
            "--seccomp-deny",
            "uname",
            "--seccomp-report",
        ],
        &["uname"],
    ) else {
        return;
    };
    assert_eq!(code, 0, "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("<4>sandwrap: seccomp: ") && l.contains("uname(")),
        "{err}"
    );
    let (code, _, err) = probe(
        &["--level-prefix", "--seccomp-deny", "uname:kill"],
        &["uname"],
    )
    .expect("helper");
    assert_eq!(code, 128 + libc::SIGSYS, "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("<4>sandwrap: ") && l.contains("probe was killed by SIGSYS")),
        "{err}"
    );
    assert!(
        err.lines().all(|l| l.starts_with('<')),
        "every line has a level: {err}"
    );
}

/// A policy whose decision tree is too large for conditional jumps alone:
/// every call number answers its own errno (three values in turn, so the
/// tree's ranges are single numbers; every fourth call with an argument
/// rule too), only `write` and `exit_group` allowed. The real kernel
/// accepts the program with its `ja` trampolines, and in a child that
/// installed it every number 0..=1023 (and x32 ones) fails with exactly the
/// errno the policy evaluator gives: the filter, not the call, answers.
#[test]
fn the_kernel_runs_a_tree_with_trampolines_as_the_policy_says() {
    use sandwrap::seccomp::{Action, Arch, Cond, Mode, Op, Policy, Rule, compile};
    let Some(arch) = Arch::native() else {
        skip!("skipping: sandwrap has no seccomp tables for this architecture");
        return;
    };
    let mut policy = Policy::allow_all(arch);
    policy.default = Action::Errno(200);
    policy.other_abi = Action::Errno(201);
    let mut by_nr = arch.table().to_vec();
    by_nr.sort_unstable_by_key(|(_, nr)| *nr);
    let live = ["write", "exit_group"];
    for (i, (name, nr)) in by_nr.iter().enumerate() {
        let action = if live.contains(name) {
            Action::Allow
        } else {
            Action::Errno(210 + (i % 3) as i32)
        };
        let rule = |conds, action| Rule {
            name: (*name).into(),
            nr: *nr,
            conds,
            action,
            origin: "test".into(),
        };
        policy.rules.push(rule(vec![], action));
        if i % 4 == 1 && !live.contains(name) {
            let cond = Cond {
                arg: 0,
                narrow: false,
                op: Op::Eq,
                value: 7,
            };
            policy.rules.push(rule(vec![cond], Action::Errno(220)));
        }
    }
    let prog = compile(&policy, Mode::Plain).expect("compiles");

    // The kernel runs uretprobe (335) and uprobe (336) on x86_64 without
    // consulting seccomp at all (kernel/seccomp.c: they only work from its
    // own trampolines, and raise SIGILL from anywhere else).
    let unfiltered = |nr: u32| arch == Arch::X86_64 && (nr == 335 || nr == 336);
    let skip_nr = |nr: u32| live.iter().any(|n| arch.nr(n) == Some(nr)) || unfiltered(nr);
    let mut calls: Vec<(u32, u64)> = Vec::new();
    for nr in 0..=1023u32 {
        if !skip_nr(nr) {
            calls.push((nr, 0));
            calls.push((nr, 7));
        }
    }
    if arch.has_x32() {
        for nr in [0u32, 39, 102, 512] {
            calls.push((0x4000_0000 | nr, 0));
        }
    }
    let mut got = vec![0i64; calls.len()];
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    let mut fds = [0i32; 2];
    // SAFETY: the child makes only raw system calls into memory prepared
    // before the fork, then exits.
    unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        let pid = libc::fork();
        assert!(pid >= 0, "fork");
        if pid == 0 {
            libc::close(fds[0]);
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            if libc::syscall(libc::SYS_seccomp, 1, 0, &fprog as *const libc::sock_fprog) != 0 {
                libc::_exit(3);
            }
            for (slot, &(nr, arg0)) in got.iter_mut().zip(&calls) {
                let r = libc::syscall(nr as libc::c_long, arg0, 1, 2, 3, 4, 5);
                *slot = if r == -1 {
                    -(*libc::__errno_location() as i64)
                } else {
                    r
                };
            }
            let bytes = got.len() * 8;
            let w = libc::write(fds[1], got.as_ptr().cast(), bytes);
            libc::_exit(if w == bytes as isize { 0 } else { 4 });
        }
        libc::close(fds[1]);
        let mut buf = vec![0u8; got.len() * 8];
        let mut off = 0;
        while off < buf.len() {
            let n = libc::read(fds[0], buf[off..].as_mut_ptr().cast(), buf.len() - off);
            if n <= 0 {
                break;
            }
            off += n as usize;
        }
        libc::close(fds[0]);
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "the child failed: status {status:#x}"
        );
        assert_eq!(off, buf.len(), "short read from the child");
        for (slot, chunk) in got.iter_mut().zip(buf.chunks_exact(8)) {
            *slot = i64::from_ne_bytes(chunk.try_into().expect("8 bytes"));
        }
    }
    for (&(nr, arg0), &r) in calls.iter().zip(&got) {
        let args = [arg0, 1, 2, 3, 4, 5];
        let want = match policy.decide(arch.audit(), nr, &args).0 {
            Action::Errno(e) => -(e as i64),
            other => panic!("nr {nr:#x}: the policy says {other:?}"),
        };
        assert_eq!(r, want, "nr {nr:#x} arg0 {arg0}");
    }
    let trampoline = prog
        .windows(2)
        .any(|w| (w[0].code, w[0].jt, w[0].jf, w[1].code) == (0x35, 0, 1, 0x05) && w[1].k > 255);
    assert!(
        trampoline,
        "the tree needs no trampoline: the test lost its point"
    );
}
