//! Differential tests: the same argv under /usr/bin/bwrap and sandwrap, as
//! the unprivileged test user, must show the command the same world.
//!
//! The local bwrap may be older than 0.11 (Debian 12 has 0.8.0). Where its
//! output differs only because it is older, sandwrap is checked against the
//! 0.11 wording from bwrap-strings.md instead (see `newer_than_local_bwrap`).
mod common;
use common::*;

use std::path::Path;
use std::sync::OnceLock;

#[derive(Debug, PartialEq, Eq)]
struct Out {
    code: i32,
    stdout: String,
    /// With each tool's leading "bwrap: "/"sandwrap: " replaced by "PFX: ".
    stderr: String,
}

/// Replace the tool's name where it starts a message line.
fn normalize(stderr: &str, tool: &str) -> String {
    stderr
        .lines()
        .map(|line| {
            let (level, rest) = match line.strip_prefix('<') {
                Some(r) if r.len() > 2 && r.as_bytes()[1] == b'>' => (&line[..3], &line[3..]),
                _ => ("", line),
            };
            match rest.strip_prefix(tool).and_then(|r| r.strip_prefix(": ")) {
                Some(msg) => format!("{level}PFX: {msg}\n"),
                None => format!("{line}\n"),
            }
        })
        .collect()
}

fn out(o: std::process::Output, tool: &str) -> Out {
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: stdout(&o),
        stderr: normalize(&stderr(&o), tool),
    }
}

/// Whether bwrap is installed and can make a sandbox for the test user.
fn bwrap_usable() -> bool {
    static USABLE: OnceLock<bool> = OnceLock::new();
    *USABLE.get_or_init(|| {
        let Some(cmd) = bwrap(["--ro-bind", "/", "/", "true"]) else {
            skip!("skipping: /usr/bin/bwrap is not installed");
            return false;
        };
        let o = output(cmd);
        if !o.status.success() {
            skip!(
                "skipping: bwrap cannot create a sandbox here: {}",
                stderr(&o)
            );
        }
        o.status.success()
    })
}

/// Run `args` under both, each with `files` opened on the given fds.
fn both_with(args: &[&str], files: &[(i32, &Path)]) -> Option<(Out, Out)> {
    if !bwrap_usable() {
        return None;
    }
    let redirects: String = files
        .iter()
        .map(|(fd, p)| format!(" {fd}<'{}'", p.display()))
        .collect();
    let script = format!("exec \"$0\" \"$@\"{redirects}");
    let run_one = |bin: &Path, tool: &str| {
        let mut cmd = user_command(Path::new("/bin/sh"));
        cmd.arg("-c").arg(&script).arg(bin).args(args);
        out(output(cmd), tool)
    };
    let bwrap = run_one(&bwrap_bin()?, "bwrap");
    let sandwrap = run_one(&sandwrap_bin(), "sandwrap");
    Some((bwrap, sandwrap))
}

fn both(args: &[&str]) -> Option<(Out, Out)> {
    both_with(args, &[])
}

/// Assert both tools give the same result; returns sandwrap's (None when
/// bwrap is unusable, after saying why).
fn same(args: &[&str]) -> Option<Out> {
    let (b, s) = both(args)?;
    assert_eq!(
        s, b,
        "sandwrap (left) differs from bwrap (right) for {args:?}"
    );
    Some(s)
}

fn same_with(args: &[&str], files: &[(i32, &Path)]) -> Option<Out> {
    let (b, s) = both_with(args, files)?;
    assert_eq!(
        s, b,
        "sandwrap (left) differs from bwrap (right) for {args:?}"
    );
    Some(s)
}

/// `base` + `extra` + `--` + `cmd`.
fn argv<'a>(base: &[&'a str], extra: &[&'a str], cmd: &[&'a str]) -> Vec<&'a str> {
    let mut v = base.to_vec();
    v.extend_from_slice(extra);
    v.push("--");
    v.extend_from_slice(cmd);
    v
}

const ROOT: &[&str] = &["--ro-bind", "/", "/"];
const ROOT_PROC: &[&str] = &["--ro-bind", "/", "/", "--proc", "/proc"];

#[test]
fn ids_and_id_maps() {
    let script = "id; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups";
    for extra in [
        &[][..],
        &["--unshare-user", "--uid", "0", "--gid", "0"][..],
        &["--uid", "5", "--gid", "6"][..],
        // --dev makes bwrap map through a second user namespace.
        &["--dev", "/dev"][..],
        &["--dev", "/dev", "--uid", "5", "--gid", "6"][..],
        &["--unshare-all"][..],
        &["--unshare-user-try"][..],
    ] {
        let Some(s) = same(&argv(ROOT_PROC, extra, &["sh", "-c", script])) else {
            return;
        };
        assert_eq!(s.code, 0, "{extra:?}: {}", s.stderr);
    }
}

#[test]
fn pid_of_the_command() {
    // Host pids differ run to run; only 1, 2 or "a host pid" can be compared.
    let classify = |o: &Out| match o.stdout.trim() {
        p @ ("1" | "2") => p.to_string(),
        p if p.parse::<u32>().is_ok_and(|n| n > 2) => "host".to_string(),
        other => panic!("not a pid: {other:?} ({})", o.stderr),
    };
    for (extra, expected) in [
        (&[][..], "host"),
        (&["--unshare-pid"][..], "2"),
        (&["--unshare-pid", "--as-pid-1"][..], "1"),
        (&["--unshare-all"][..], "2"),
    ] {
        let Some((b, s)) = both(&argv(ROOT_PROC, extra, &["sh", "-c", "echo $$"])) else {
            return;
        };
        assert_eq!(
            (classify(&s), classify(&b)),
            (expected.to_string(), expected.to_string()),
            "{extra:?}"
        );
    }
}

#[test]
fn hostname() {
    let Some(s) = same(&argv(
        ROOT,
        &["--unshare-uts", "--hostname", "sandbox-host"],
        &["hostname"],
    )) else {
        return;
    };
    assert_eq!(s.stdout, "sandbox-host\n");
    same(&argv(ROOT, &["--unshare-uts"], &["hostname"]));
    same(&argv(
        ROOT,
        &["--unshare-uts", "--hostname", "a", "--hostname", "b"],
        &["hostname"],
    ));
}

#[test]
fn network_interfaces() {
    let Some(s) = same(&argv(
        ROOT_PROC,
        &["--unshare-net"],
        &["cat", "/proc/net/dev"],
    )) else {
        return;
    };
    assert_eq!(s.stdout.lines().count(), 3, "only lo: {}", s.stdout);
    if Path::new("/usr/sbin/ip").exists() || Path::new("/sbin/ip").exists() {
        same(&argv(ROOT_PROC, &["--unshare-net"], &["ip", "-o", "link"]));
        same(&argv(ROOT_PROC, &["--unshare-net"], &["ip", "-o", "addr"]));
    } else {
        eprintln!("ip(8) is not installed: comparing /proc/net/dev only");
    }
}

#[test]
fn dev_listing() {
    let script = r#"cd /dev && for f in * .* pts/* shm/*; do [ -e "$f" ] || [ -L "$f" ] || continue; stat -c "%n %F %a %U:%G %t:%T" "$f"; [ -L "$f" ] && readlink "$f"; done; ls -la /dev | awk 'NR > 1 { print $1, $3, $4, $NF }'"#;
    let Some(s) = same(&argv(ROOT, &["--dev", "/dev"], &["sh", "-c", script])) else {
        return;
    };
    for node in [
        "null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm", "fd", "core",
        "stdin",
    ] {
        assert!(
            s.stdout.lines().any(|l| l.starts_with(&format!("{node} "))),
            "{node} missing:\n{}",
            s.stdout
        );
    }
    // At another place, and inside a tmpfs.
    same(&argv(
        ROOT,
        &["--tmpfs", "/tmp", "--dev", "/tmp/dev"],
        &["ls", "-1", "/tmp/dev"],
    ));
}

/// Mount point, fs type and the per-mount flags that matter, sorted: the
/// order of /proc/self/mountinfo differs (bwrap's follows creation, which
/// is an implementation detail), and device numbers, ids, atime flags and
/// superblock options (tmpfs size, inode counts, uid=) legitimately differ.
fn mount_shape(mountinfo: &str) -> Vec<String> {
    let mut shape: Vec<String> = mountinfo
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let sep = fields
                .iter()
                .position(|f| *f == "-")
                .expect("mountinfo separator");
            let flags: Vec<&str> = fields[5]
                .split(',')
                .filter(|f| matches!(*f, "ro" | "rw" | "nosuid" | "nodev" | "noexec"))
                .collect();
            format!("{} {} {}", fields[4], fields[sep + 1], flags.join(","))
        })
        .collect();
    shape.sort();
    shape
}

#[test]
fn mount_table_shape() {
    let dir = scratch("diffmounts");
    let dir = dir.display().to_string();
    let mut extra: Vec<&str> = vec![
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
        "--dir",
        "/var",
        "--bind",
        &dir,
        "/scr",
        "--ro-bind",
        "/etc",
        "/etc",
        "--unshare-ipc",
        "--mqueue",
        "/dev/mqueue",
        "--remount-ro",
        "/scr",
        "--tmpfs",
        "/tmp/sub",
        "--ro-bind",
        "/usr/bin",
        "/tmp/sub/bin",
        "--dev-bind",
        "/dev/null",
        "/tmp/null",
        "--perms",
        "0700",
        "--size",
        "65536",
        "--tmpfs",
        "/run",
    ];
    for pid in [false, true] {
        if pid {
            extra.push("--unshare-pid");
        }
        let Some((b, s)) = both(&argv(USR_ONLY, &extra, &["cat", "/proc/self/mountinfo"])) else {
            return;
        };
        assert_eq!((s.code, b.code), (0, 0), "{}{}", s.stderr, b.stderr);
        assert_eq!(
            mount_shape(&s.stdout),
            mount_shape(&b.stdout),
            "--unshare-pid: {pid}"
        );
    }
}

#[test]
fn modes_of_created_files_and_dirs() {
    let dir = scratch("diffmodes");
    let data = dir.join("data");
    mkfile(&data, "hello\n");
    let files: Vec<(i32, &Path)> = (3..=6).map(|fd| (fd, data.as_path())).collect();
    let extra = [
        "--dir",
        "/a",
        "--perms",
        "0700",
        "--dir",
        "/b",
        "--dir",
        "/c/d/e",
        "--perms",
        "0700",
        "--dir",
        "/p/q",
        "--perms",
        "0750",
        "--dir",
        "/r/s",
        "--tmpfs",
        "/t",
        "--perms",
        "01777",
        "--tmpfs",
        "/t2",
        "--perms",
        "0",
        "--tmpfs",
        "/t3",
        "--file",
        "3",
        "/f",
        "--perms",
        "0640",
        "--file",
        "4",
        "/g",
        "--bind-data",
        "5",
        "/h",
        "--perms",
        "0444",
        "--ro-bind-data",
        "6",
        "/i",
        "--dir",
        "/j",
        "--chmod",
        "0711",
        "/j",
        // Parents made for these ops: bwrap records no mode for them (0),
        // so they are 0700.
        "--bind",
        "/usr",
        "/m/n",
        "--ro-bind",
        "/etc/passwd",
        "/o/p",
        "--symlink",
        "x",
        "/s/l",
        "--dev",
        "/dd/dev",
    ];
    let paths = "/ /a /b /c /c/d /c/d/e /p /p/q /r /r/s /t /t2 /t3 /f /g /h /i /j /m /o /s /dd";
    let script = format!("for p in {paths}; do stat -c '%n %a %F %s' $p; done");
    let Some(s) = same_with(&argv(USR_ONLY, &extra, &["sh", "-c", &script]), &files) else {
        return;
    };
    assert!(s.stdout.contains("/m 700 directory"), "{}", s.stdout);
    assert!(s.stdout.contains("/f 666 regular file 6"), "{}", s.stdout);
}

#[test]
fn environment() {
    for extra in [
        &[][..],
        &["--clearenv"][..],
        &[
            "--setenv",
            "A",
            "1",
            "--unsetenv",
            "HOME",
            "--setenv",
            "PWD",
            "x",
        ][..],
        &[
            "--unsetenv",
            "PWD",
            "--setenv",
            "B",
            "2",
            "--clearenv",
            "--setenv",
            "C",
            "3",
        ][..],
        &["--setenv", "LANG", "x", "--setenv", "LANG", "y"][..],
    ] {
        let Some(s) = same(&argv(ROOT, extra, &["/usr/bin/env"])) else {
            return;
        };
        assert_eq!(s.code, 0, "{extra:?}: {}", s.stderr);
    }
    // No PATH: both fall back to execvp's default search path, or fail alike.
    same(&argv(ROOT, &["--clearenv"], &["env"]));
    same(&argv(
        ROOT,
        &["--clearenv", "--setenv", "PATH", "/nonexistent"],
        &["env"],
    ));
}

#[test]
fn working_directory() {
    let show = ["sh", "-c", "echo \"$PWD\"; pwd -P"];
    for (base, extra) in [
        // The caller's directory exists inside.
        (ROOT, &[][..]),
        // It does not, nor does HOME: "/".
        (USR_ONLY, &[][..]),
        // HOME is the fallback.
        (USR_ONLY, &["--setenv", "HOME", "/usr"][..]),
        (USR_ONLY, &["--setenv", "HOME", "/nonexistent"][..]),
        (USR_ONLY, &["--clearenv"][..]),
        (ROOT, &["--chdir", "/usr"][..]),
        // Relative to the new root's /, kept verbatim in PWD.
        (ROOT, &["--chdir", "bin"][..]),
        (ROOT, &["--chdir", "/usr", "--chdir", "/etc"][..]),
    ] {
        let Some(s) = same(&argv(base, extra, &show)) else {
            return;
        };
        assert_eq!(s.code, 0, "{extra:?}: {}", s.stderr);
    }
    let Some(s) = same(&argv(ROOT, &["--chdir", "bin"], &["/usr/bin/env"])) else {
        return;
    };
    assert!(s.stdout.contains("PWD=bin\n"), "{}", s.stdout);
    same(&argv(ROOT, &["--chdir", "/nonexistent"], &["true"]));
    same(&argv(ROOT, &["--chdir", "/etc/passwd"], &["true"]));
}

#[test]
fn exit_codes() {
    for (extra, script, code) in [
        (&[][..], "exit 3", 3),
        (&[][..], "kill -9 $$", 137),
        (&[][..], "kill -TERM $$", 143),
        (&["--unshare-pid"][..], "exit 7", 7),
        (&["--unshare-pid"][..], "kill -9 $$", 137),
        (&["--unshare-pid", "--as-pid-1"][..], "exit 7", 7),
        // pid 1 ignores signals it has no handler for.
        (
            &["--unshare-pid", "--as-pid-1"][..],
            "kill -9 $$; exit 5",
            5,
        ),
    ] {
        let Some(s) = same(&argv(ROOT_PROC, extra, &["sh", "-c", script])) else {
            return;
        };
        assert_eq!(s.code, code, "{extra:?} {script}");
    }
    for cmd in ["nonexistent-command", "/nonexistent", "/etc/passwd", "/tmp"] {
        let Some(s) = same(&argv(ROOT, &[], &[cmd])) else {
            return;
        };
        assert_eq!(s.code, 1);
        assert!(
            s.stderr.starts_with(&format!("PFX: execvp {cmd}: ")),
            "{}",
            s.stderr
        );
    }
}

/// Bad command lines that both reject with the same message and status.
#[rustfmt::skip]
const BAD_ARGVS: &[&[&str]] = &[
    &["--foo", "true"],
    &["-x", "true"],
    &["-", "true"],
    &["--bind=a", "true"],
    &["--bind"],
    &["--bind", "a"],
    &["--bind-try", "a"],
    &["--ro-bind-fd", "3"],
    &["--bind-fd", "x", "/a", "true"],
    &["--chdir"],
    &["--remount-ro"],
    &["--tmpfs"],
    &["--file", "3"],
    &["--file", "x", "/a", "true"],
    &["--setenv", "A"],
    &["--unsetenv"],
    &["--setenv", "A=B", "x", "true"],
    &["--unsetenv", "", "true"],
    &["--uid", "x", "true"],
    &["--uid", "-1", "true"],
    &["--uid", "2147483648", "true"],
    &["--gid", "", "true"],
    &["--sync-fd", "3", "--sync-fd", "x", "true"],
    &["--perms", "0700", "--bind", "/", "/", "true"],
    &["--perms", "0700", "--perms", "0700", "--dir", "/x", "true"],
    &["--perms", "8", "--dir", "/x", "true"],
    &["--perms", "-1", "--dir", "/x", "true"],
    &["--perms", "0700", "--chmod", "0700", "/x", "true"],
    &["--size", "0", "--tmpfs", "/x", "true"],
    &["--size", "0x+5", "--tmpfs", "/x", "true"],
    &["--size", "1", "--dir", "/x", "true"],
    &["--size", "1", "--size", "2", "--tmpfs", "/x", "true"],
    &["--size", "99999999999999999999", "--tmpfs", "/x", "true"],
    &["--size", "9223372036854775808", "--tmpfs", "/x", "true"],
    &["--chmod", "9", "/x", "true"],
    &["--cap-add", "foo", "true"],
    &["--cap-add", "sys_admin", "true"],
    &["--cap-drop", "64", "true"],
    &["--seccomp", "3", "--add-seccomp-fd", "4", "true"],
    &["--add-seccomp-fd", "99", "true"],
    &["--args", "99", "true"],
    &["--exec-label", "x", "true"],
    &["--userns-block-fd", "3", "true"],
    &["--unshare-user", "--userns-block-fd", "3", "true"],
    &["--userns", "3", "--unshare-user", "true"],
    &["--userns", "3", "--unshare-all", "true"],
    &["--disable-userns", "true"],
    &["--unshare-user", "--disable-userns", "--info-fd", "3", "--userns-block-fd", "4", "true"],
    &["--hostname", "foo", "true"],
    &["--as-pid-1", "true"],
    &["--unshare-pid", "--as-pid-1", "--lock-file", "/x", "true"],
    // Failures during setup.
    &["--bind", "/nonexistent", "/x", "true"],
    &["--ro-bind", "/", "/", "--bind-fd", "99", "/tmp", "true"],
    &["--ro-bind", "/", "/", "--remount-ro", "/nonexistent", "true"],
    &["--ro-bind", "/", "/", "--remount-ro", "/etc", "true"],
    &["--ro-bind", "/", "/", "--remount-ro", "/bin", "true"],
    &["--ro-bind", "/", "/", "--dir", "/etc/passwd", "true"],
    &["--ro-bind", "/", "/", "--chmod", "0755", "/nonexistent", "true"],
    &["--ro-bind", "/", "/", "--file", "99", "/tmp/x", "true"],
    &["--ro-bind", "/", "/", "--tmpfs", "/tmp", "--file", "99", "/tmp/x", "true"],
    &["--ro-bind", "/", "/", "--tmpfs", "/tmp", "--bind-data", "99", "/tmp/x", "true"],
    &["--ro-bind", "/", "/", "--bind", "/tmp", "/etc/passwd", "true"],
    &["--ro-bind", "/", "/", "--ro-bind", "/etc/passwd", "/tmp", "true"],
    &["--ro-bind", "/", "/", "--mqueue", "/dev/mqueue", "true"],
    &["--ro-bind", "/usr", "/usr", "--mqueue", "/dev/mqueue", "true"],
    &["--ro-bind", "/", "/", "--seccomp", "99", "true"],
    &["--ro-bind", "/", "/", "--userns", "99", "true"],
    &["--ro-bind", "/", "/", "--lock-file", "/nonexistent", "true"],
    &["--ro-bind", "/", "/", "--unshare-pid", "--lock-file", "/nonexistent", "true"],
];

#[test]
fn error_messages() {
    for args in BAD_ARGVS {
        let Some(s) = same(args) else { return };
        assert_eq!(s.code, 1, "{args:?}");
        assert!(s.stderr.starts_with("PFX: "), "{args:?}: {}", s.stderr);
    }
    // No command: both print their usage (the option lists differ) and fail.
    for args in [&[][..], &["--unshare-pid"][..], &["--"][..]] {
        let Some((b, s)) = both(args) else { return };
        assert_eq!((s.code, b.code), (1, 1));
        assert!(s.stderr.starts_with("usage: ") && b.stderr.starts_with("usage: "));
    }
    // Warnings, then the command runs.
    same(&argv(ROOT, &["--chdir", "/", "--chdir", "/"], &["true"]));
}

/// Invoked through a symlink named `bwrap`, sandwrap's messages are bwrap's
/// byte for byte: the same stderr, unnormalized, for every bad command line
/// whose wording bwrap 0.8 shares.
#[test]
fn named_bwrap_it_speaks_as_bwrap() {
    if !bwrap_usable() {
        return;
    }
    let link = scratch("named-bwrap").join("bwrap");
    std::os::unix::fs::symlink(sandwrap_bin(), &link).expect("symlink bwrap");
    let raw = |bin: &Path, args: &[&str]| {
        let o = output({
            let mut c = user_command(bin);
            c.args(args);
            c
        });
        (o.status.code(), stderr(&o))
    };
    let mut cases: Vec<Vec<&str>> = BAD_ARGVS.iter().map(|a| a.to_vec()).collect();
    // Warnings, then an error.
    cases.push(vec!["--chdir", "/", "--chdir", "/", "--bogus"]);
    for args in &cases {
        let theirs = raw(Path::new("/usr/bin/bwrap"), args);
        let ours = raw(&link, args);
        assert_eq!(
            ours, theirs,
            "sandwrap as bwrap (left) and bwrap (right) for {args:?}"
        );
        assert!(ours.1.starts_with("bwrap: "), "{args:?}: {}", ours.1);
    }
    // Under its own name, the same messages name sandwrap.
    let (_, own) = raw(&sandwrap_bin(), &["--foo", "true"]);
    assert_eq!(own, "sandwrap: Unknown option --foo\n");
}

/// Where the local bwrap predates 0.11, sandwrap is held to 0.11's wording
/// (bwrap-strings.md) instead of to the older binary.
#[test]
fn newer_than_local_bwrap() {
    let cases: &[(&[&str], &str)] = &[
        // --argv0, --level-prefix and the overlays are newer than 0.8.0,
        // which calls them unknown options.
        (&["--argv0"], "PFX: --argv0 takes one argument\n"),
        (
            &["--argv0", "a", "--argv0", "b", "true"],
            "PFX: --argv0 used multiple times\n",
        ),
        (
            &["--level-prefix", "--foo"],
            "<3>PFX: Unknown option --foo\n",
        ),
        (
            &["--tmp-overlay", "/x", "true"],
            "PFX: --tmp-overlay requires at least one --overlay-src\n",
        ),
        (
            &["--overlay-src", "/a", "--ro-overlay", "/x", "true"],
            "PFX: --ro-overlay requires at least two --overlay-src\n",
        ),
        (
            &["--overlay-src", "/a", "true"],
            "PFX: --overlay-src must be followed by another --overlay-src or one of --overlay, --tmp-overlay, or --ro-overlay\n",
        ),
        // 0.8.0 says "File exists" for both; 0.11 explains, and accepts a
        // symlink that is already there with the same target.
        (
            &["--ro-bind", "/", "/", "--symlink", "a", "/etc", "true"],
            "PFX: Can't make symlink at /etc: destination exists and is not a symlink\n",
        ),
        (
            &[
                "--tmpfs",
                "/t",
                "--symlink",
                "a",
                "/t/l",
                "--symlink",
                "b",
                "/t/l",
                "true",
            ],
            "PFX: Can't make symlink at /t/l: existing destination is a\n",
        ),
    ];
    let probe = output(sandwrap(["--ro-bind", "/", "/", "true"]));
    if !probe.status.success() {
        skip!(
            "skipping: sandwrap cannot create a sandbox here: {}",
            stderr(&probe)
        );
        return;
    }
    for (args, expected) in cases {
        let o = output(sandwrap(*args));
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(normalize(&stderr(&o), "sandwrap"), *expected, "{args:?}");
    }
    let o = output(sandwrap(argv(
        USR_ONLY,
        &["--symlink", "usr/bin", "/bin"],
        &["/bin/true"],
    )));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// `sandwrap ARGS` as the test user, killed if it hangs (a hang is the bug
/// these guard against; the limit is generous and never a speed check).
fn sandwrap_guarded(args: &[&str], files: &[(i32, &Path)]) -> Out {
    let redirects: String = files
        .iter()
        .map(|(fd, p)| format!(" {fd}<'{}'", p.display()))
        .collect();
    let mut cmd = user_command(Path::new("/bin/sh"));
    cmd.arg("-c")
        .arg(format!("exec timeout -k 5 60 \"$0\" \"$@\"{redirects}"))
        .arg(sandwrap_bin())
        .args(args);
    out(output(cmd), "sandwrap")
}

/// Data fds the caller never opened, or that `--args` already consumed,
/// read as closed: sandwrap's own pipes must not take their numbers.
#[test]
fn closed_data_fds_fail_like_bwrap() {
    let bad_fd = "PFX: Can't write data to file /tmp/x: Bad file descriptor\n";
    let dir = scratch("diffclosed");
    let payload = dir.join("args");
    mkfile(&payload, b"--tmpfs\0/tmp\0");
    // (argv, fds passed as (number, file to open), expected stderr)
    type Case<'a> = (&'a [&'a str], &'a [(i32, &'a Path)], &'a str);
    #[rustfmt::skip]
    let cases: &[Case] = &[
        (
            &["--ro-bind", "/", "/", "--tmpfs", "/tmp", "--file", "3", "/tmp/x", "true"],
            &[],
            bad_fd,
        ),
        (
            &["--ro-bind", "/", "/", "--seccomp", "3", "true"],
            &[],
            "PFX: Can't read seccomp data: Bad file descriptor\n",
        ),
        (
            &["--ro-bind", "/", "/", "--args", "3", "--file", "3", "/tmp/x", "true"],
            &[(3, payload.as_path())],
            bad_fd,
        ),
    ];
    for (args, files, expected) in cases {
        let s = sandwrap_guarded(args, files);
        assert_eq!((s.code, s.stderr.as_str()), (1, *expected), "{args:?}");
        if bwrap_usable() {
            let (b, _) = both_with(args, files).expect("bwrap usable");
            assert_eq!(
                (b.code, b.stderr.as_str()),
                (1, *expected),
                "bwrap, {args:?}"
            );
        }
    }
    // bwrap 0.8.0 reads one of its own fds for these (an empty file, or a
    // hang for the status fds); sandwrap reports the closed fd.
    #[rustfmt::skip]
    let closed: [(&[&str], &str); 4] = [
        (
            &["--ro-bind", "/", "/", "--tmpfs", "/tmp", "--bind-data", "4", "/tmp/x", "true"],
            bad_fd,
        ),
        (
            &["--ro-bind", "/", "/", "--tmpfs", "/tmp", "--file", "3", "/tmp/x", "--file", "3", "/tmp/y", "true"],
            bad_fd,
        ),
        (
            &["--ro-bind", "/", "/", "--info-fd", "3", "true"],
            "PFX: Write to info_fd: Bad file descriptor\n",
        ),
        (
            &["--ro-bind", "/", "/", "--json-status-fd", "3", "true"],
            "PFX: Write to info_fd: Bad file descriptor\n",
        ),
    ];
    for (args, expected) in closed {
        let s = sandwrap_guarded(args, &[]);
        assert_eq!((s.code, s.stderr.as_str()), (1, expected), "{args:?}");
    }
    // A block fd that cannot be read does not block.
    let s = sandwrap_guarded(&["--ro-bind", "/", "/", "--block-fd", "3", "true"], &[]);
    assert_eq!((s.code, s.stderr.as_str()), (0, ""));
}
