//! Time namespaces: `--unshare-time`, `--time-offset`. The command sees its
//! monotonic and boot clocks shifted; the offsets are fixed before it runs.
mod common;
use common::*;

use std::path::Path;

const CLOCKS_C: &str = r#"
#include <stdio.h>
#include <time.h>
int main(void) {
    struct timespec b, m;
    clock_gettime(CLOCK_BOOTTIME, &b);
    clock_gettime(CLOCK_MONOTONIC, &m);
    printf("boottime=%lld\nmonotonic=%lld\n", (long long)b.tv_sec, (long long)m.tv_sec);
    return 0;
}
"#;

fn host_clock(clock: libc::clockid_t) -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out-pointer.
    assert_eq!(unsafe { libc::clock_gettime(clock, &mut ts) }, 0);
    ts.tv_sec
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Run the clocks helper (and /proc/uptime) in a sandbox with `extra`;
/// check each clock is the host's plus its offset.
fn check_shift(extra: &[&str], boot_off: i64, mono_off: i64) {
    let Some(helper) = c_helper("clocks", CLOCKS_C) else {
        return;
    };
    let dir = helper.parent().expect("dir").display().to_string();
    let mut args = strings(BASE);
    args.extend(strings(&["--ro-bind", &dir, &dir]));
    args.extend(strings(extra));
    let script = format!("{} && cut -d' ' -f1 /proc/uptime", helper.display());
    args.extend(strings(&["--", "sh", "-c", &script]));
    let boot_before = host_clock(libc::CLOCK_BOOTTIME);
    let mono_before = host_clock(libc::CLOCK_MONOTONIC);
    let (code, out, err) = run(&args);
    let boot_after = host_clock(libc::CLOCK_BOOTTIME);
    let mono_after = host_clock(libc::CLOCK_MONOTONIC);
    assert_eq!(code, 0, "{extra:?}: {err}");
    let num = |name: &str| -> i64 {
        probe_value(&out, name)
            .parse()
            .unwrap_or_else(|_| panic!("{name} in {out:?}"))
    };
    let within = |got: i64, before: i64, after: i64, what: &str| {
        assert!(
            (before - 1..=after + 1).contains(&got),
            "{extra:?}: {what} {got} not within the host's {before}..={after} plus its offset"
        );
    };
    within(
        num("boottime") - boot_off,
        boot_before,
        boot_after,
        "CLOCK_BOOTTIME",
    );
    within(
        num("monotonic") - mono_off,
        mono_before,
        mono_after,
        "CLOCK_MONOTONIC",
    );
    let uptime: f64 = out
        .lines()
        .last()
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| panic!("uptime in {out:?}"));
    within(
        uptime as i64 - boot_off,
        boot_before,
        boot_after,
        "/proc/uptime",
    );
}

#[test]
fn offsets_shift_the_clocks_the_command_sees() {
    let offsets = [
        "--time-offset",
        "boottime=864000",
        "--time-offset",
        "monotonic=3600.5",
    ];
    // The command exec'd by the first process.
    check_shift(&offsets, 864000, 3600);
    // Forked by pid 1, in a new pid namespace.
    let mut with_pid = offsets.to_vec();
    with_pid.push("--unshare-pid");
    check_shift(&with_pid, 864000, 3600);
    // Through the nested user namespace --dev needs (BASE has --dev): the
    // plain run above already covers it; with --disable-userns as well.
    let mut nested = with_pid.clone();
    nested.extend(["--unshare-user", "--disable-userns"]);
    check_shift(&nested, 864000, 3600);
}

#[test]
fn a_later_offset_for_the_same_clock_replaces_the_earlier_one() {
    check_shift(
        &[
            "--time-offset",
            "boottime=5000",
            "--time-offset",
            "boottime=100000",
        ],
        100000,
        0,
    );
}

#[test]
fn negative_and_fractional_offsets_as_the_kernel_takes_them() {
    let out = sh(
        &["--time-offset", "monotonic=-1.25"],
        "cat /proc/self/timens_offsets",
    );
    let (code, out, err) = run(&out);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<String> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert!(
        lines.contains(&"monotonic -2 750000000".to_string()),
        "{lines:?}"
    );
}

fn own_time_ns() -> String {
    std::fs::read_link("/proc/self/ns/time")
        .expect("ns link")
        .display()
        .to_string()
}

#[test]
fn unshare_time_makes_a_new_namespace_and_unshare_all_does_not() {
    let (code, out, err) = run(&sh(&["--unshare-time"], "readlink /proc/self/ns/time"));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("time:["), "{out}");
    assert_ne!(out.trim(), own_time_ns());
    // bwrap's --unshare-all keeps its meaning.
    let (code, out, err) = run(&sh(&["--unshare-all"], "readlink /proc/self/ns/time"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), own_time_ns());
}

#[test]
fn the_command_cannot_change_the_offsets_even_with_every_capability() {
    // The kernel freezes the offsets once a process has entered; the
    // command is always such a process.
    let (code, out, err) = run(&sh(
        &["--time-offset", "boottime=1000", "--cap-add", "ALL"],
        "echo 'boottime 99999 0' > /proc/self/timens_offsets && echo CHANGED; \
         cut -d' ' -f1 /proc/uptime",
    ));
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("CHANGED"), "offsets were changed: {out}");
    let up: f64 = out.trim().parse().expect("uptime");
    let host = host_clock(libc::CLOCK_BOOTTIME) as f64;
    assert!((up - 1000.0 - host).abs() < 5.0, "uptime {up}, host {host}");
}

/// `sandwrap ARGS` with fd 3 open on `file` (written by sandwrap), run
/// through `wrapper` if given.
fn run_with_fd3(wrapper: Option<&Path>, args: &[String], file: &Path) -> (i32, String, String) {
    let mut cmd = user_command(Path::new("/bin/sh"));
    cmd.arg("-c")
        .arg("f=\"$1\"; shift; exec \"$@\" 3>\"$f\"")
        .arg("sh")
        .arg(file)
        .args(wrapper)
        .arg(sandwrap_bin())
        .args(args);
    let o = output(cmd);
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

#[test]
fn info_and_json_status_report_the_time_namespace_only_when_created() {
    let dir = scratch("timens-info");
    for (option, extra, wanted) in [
        ("--info-fd", vec!["--unshare-time"], true),
        (
            "--json-status-fd",
            vec!["--time-offset", "boottime=7"],
            true,
        ),
        ("--info-fd", vec![], false),
        ("--json-status-fd", vec!["--unshare-pid"], false),
    ] {
        let file = dir.join("status");
        let mut extra = extra.clone();
        extra.extend([option, "3"]);
        let args = sh(&extra, "stat -L -c %i /proc/self/ns/time");
        let (code, out, err) = run_with_fd3(None, &args, &file);
        assert_eq!(code, 0, "{extra:?}: {err}");
        let text = std::fs::read_to_string(&file).expect("status file");
        let key = format!("\"time-namespace\": {}", out.trim());
        if wanted {
            assert!(text.contains(&key), "{extra:?}: {key} not in {text}");
        } else {
            assert!(!text.contains("time-namespace"), "{extra:?}: {text}");
        }
    }
}

const NO_TIMENS_C: &str = r#"
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>
#include <errno.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/sched.h>
/* A kernel without CONFIG_TIME_NS: unshare(CLONE_NEWTIME) fails with EINVAL. */
int main(int argc, char **argv) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_unshare, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NEWTIME, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { sizeof f / sizeof f[0], f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
        perror("seccomp");
        return 99;
    }
    execv(argv[1], argv + 1);
    perror("execv");
    return 98;
}
"#;

#[test]
fn a_kernel_without_time_namespaces_gets_one_clear_line() {
    let Some(helper) = c_helper("no_timens", NO_TIMENS_C) else {
        return;
    };
    let file = scratch("no-timens").join("status");
    let args = sh(
        &["--unshare-time", "--unshare-pid", "--json-status-fd", "3"],
        "echo RAN",
    );
    let (code, out, err) = run_with_fd3(Some(&helper), &args, &file);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert_eq!(
        err,
        "sandwrap: --unshare-time: can't create a time namespace: this kernel has no time namespaces (they need Linux 5.6 or later built with CONFIG_TIME_NS): Invalid argument\n"
    );
    // The status lines of a failed setup, as bwrap writes them, without a
    // time namespace that was never made.
    let status = std::fs::read_to_string(&file).expect("status file");
    assert!(
        status.starts_with("{ \"child-pid\": ")
            && status.contains("\"pid-namespace\"")
            && !status.contains("time-namespace"),
        "{status}"
    );
}

#[test]
fn bad_offsets_are_one_line_each() {
    for (value, why) in [
        (
            "realtime=5",
            "unknown clock \"realtime\" (a time namespace shifts monotonic and boottime)",
        ),
        (
            "boottime",
            "expected CLOCK=SECONDS[.NANOS] (e.g. boottime=86400)",
        ),
        (
            "boottime=1.2.3",
            "\"1.2.3\" is not a number of seconds (SECONDS[.NANOS], at most 9 decimals)",
        ),
    ] {
        let (code, out, err) = run(&["--time-offset", value, "true"]);
        assert_eq!((code, out.as_str()), (1, ""), "{value}");
        assert_eq!(err, format!("sandwrap: --time-offset {value}: {why}\n"));
    }
    // The kernel's range: a clock would go below zero.
    let (code, _, err) = run(&sh(
        &["--time-offset", "monotonic=-999999999999"],
        "echo RAN",
    ));
    assert_eq!(code, 1);
    assert!(
        err.starts_with("sandwrap: --time-offset monotonic")
            && err.contains("a clock would go below zero")
            && err.lines().count() == 1,
        "{err}"
    );
}
