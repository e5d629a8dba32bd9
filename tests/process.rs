//! The command's process: working directory, environment, exec, ids and
//! capabilities, session, exit status, inherited fds and signals.
mod common;
use common::*;

use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

fn run_cmd(mut cmd: Command) -> (i32, String, String) {
    let o = output({
        cmd.stdin(Stdio::null());
        cmd
    });
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

#[test]
fn chdir_and_default_working_directory() {
    let out = ok(&ro_root(&["--chdir", "/usr"], "pwd; echo $PWD"));
    assert_eq!(out, "/usr\n/usr\n");
    // The harness starts sandwrap in its shared dir, which exists inside.
    let here = sandwrap_bin().parent().expect("dir").display().to_string();
    let out = ok(&ro_root(&[], "pwd; echo $PWD"));
    assert_eq!(out, format!("{here}\n{here}\n"));
    // The old cwd is hidden by a tmpfs: $HOME, else /.
    let mut cmd = sandwrap(ro_root(&["--tmpfs", "/tmp"], "pwd; echo $PWD"));
    cmd.env("HOME", "/usr/share");
    let (code, out, err) = run_cmd(cmd);
    assert_eq!(
        (code, out.as_str()),
        (0, "/usr/share\n/usr/share\n"),
        "{err}"
    );
    let mut cmd = sandwrap(ro_root(&["--tmpfs", "/tmp"], "pwd; echo $PWD"));
    cmd.env("HOME", "/nonexistent-home");
    let (code, out, err) = run_cmd(cmd);
    assert_eq!((code, out.as_str()), (0, "/\n/\n"), "{err}");
    let (code, _, err) = run(&ro_root(&["--chdir", "/nonexistent-dir"], "true"));
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "sandwrap: Can't chdir to /nonexistent-dir: No such file or directory\n"
        )
    );
}

fn env_lines(out: &str) -> Vec<&str> {
    let mut v: Vec<&str> = out.lines().collect();
    v.sort();
    v
}

#[test]
fn environment_operations_apply_in_order() {
    let mut cmd = sandwrap(ro_root_cmd(
        &[
            "--chdir",
            "/",
            "--setenv",
            "A",
            "1",
            "--setenv",
            "B",
            "2",
            "--unsetenv",
            "A",
            "--setenv",
            "C",
            "3",
            "--setenv",
            "B",
            "4",
            "--unsetenv",
            "OUTSIDE",
        ],
        &["/usr/bin/env"],
    ));
    cmd.env("OUTSIDE", "x").env("KEPT", "y");
    let (code, out, err) = run_cmd(cmd);
    assert_eq!(code, 0, "{err}");
    let l = env_lines(&out);
    assert!(
        l.contains(&"B=4") && l.contains(&"C=3") && l.contains(&"KEPT=y") && l.contains(&"PWD=/"),
        "{out}"
    );
    assert!(
        !l.iter()
            .any(|x| x.starts_with("A=") || x.starts_with("OUTSIDE=")),
        "{out}"
    );
    let out = ok(&ro_root_cmd(
        &["--chdir", "/usr", "--clearenv"],
        &["/usr/bin/env"],
    ));
    assert_eq!(out, "PWD=/usr\n", "--clearenv leaves only PWD");
    let out = ok(&ro_root_cmd(
        &[
            "--chdir",
            "/",
            "--setenv",
            "X",
            "1",
            "--clearenv",
            "--setenv",
            "Y",
            "2",
        ],
        &["/usr/bin/env"],
    ));
    assert_eq!(env_lines(&out), ["PWD=/", "Y=2"]);
}

#[test]
fn command_is_searched_in_the_sandbox_path() {
    let bin = scratch("mybin");
    let script = bin.join("myscript");
    std::fs::write(&script, "#!/bin/sh\necho hello from myscript \"$@\"\n").expect("write script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    give(&script);
    let b = bin.display().to_string();
    let out = ok(&ro_root_cmd(
        &[
            "--tmpfs",
            "/tmp",
            "--ro-bind",
            &b,
            "/tmp/mybin",
            "--setenv",
            "PATH",
            "/nowhere:/tmp/mybin",
        ],
        &["myscript", "arg"],
    ));
    assert_eq!(out, "hello from myscript arg\n");
    // The host PATH does not have it.
    let (code, _, err) = run(&ro_root_cmd(
        &["--tmpfs", "/tmp", "--ro-bind", &b, "/tmp/mybin"],
        &["myscript"],
    ));
    assert_eq!(
        (code, err.as_str()),
        (1, "sandwrap: execvp myscript: No such file or directory\n")
    );
}

#[test]
fn exec_failures_and_argv0() {
    let (code, out, err) = run(&ro_root_cmd(&[], &["/nonexistent/cmd", "x"]));
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            1,
            "",
            "sandwrap: execvp /nonexistent/cmd: No such file or directory\n"
        )
    );
    let (code, _, err) = run(&ro_root_cmd(&[], &["no-such-command-sandwrap"]));
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "sandwrap: execvp no-such-command-sandwrap: No such file or directory\n"
        )
    );
    let plain = scratch("noexec").join("plain");
    std::fs::write(&plain, "echo should not run\n").expect("write");
    let plain = plain.display().to_string();
    let (code, _, err) = run(&ro_root_cmd(&[], &[&plain]));
    assert_eq!(
        (code, err),
        (1, format!("sandwrap: execvp {plain}: Permission denied\n"))
    );
    let out = ok(&ro_root_cmd(
        &["--argv0", "fancy-name"],
        &["cat", "/proc/self/cmdline"],
    ));
    assert_eq!(out, "fancy-name\0/proc/self/cmdline\0");
}

/// `(CapInh, CapPrm, CapEff, CapBnd, CapAmb, NoNewPrivs)` from a status dump.
fn caps(status: &str) -> Vec<(String, String)> {
    status
        .lines()
        .filter(|l| l.starts_with("Cap") || l.starts_with("NoNewPrivs"))
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        })
        .collect()
}

fn cap_value(status: &str, key: &str) -> u64 {
    let v = caps(status)
        .into_iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("{key} in {status}"))
        .1;
    u64::from_str_radix(&v, 16).expect("hex")
}

fn all_caps() -> u64 {
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .expect("cap_last_cap")
        .trim()
        .parse()
        .expect("n");
    if last >= 63 {
        u64::MAX
    } else {
        (1u64 << (last + 1)) - 1
    }
}

#[test]
fn capabilities() {
    let status = ok(&ro_root_cmd(&[], &["cat", "/proc/self/status"]));
    for key in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(cap_value(&status, key), 0, "{key} by default");
    }
    assert_eq!(
        caps(&status)
            .iter()
            .find(|(k, _)| k == "NoNewPrivs")
            .map(|x| x.1.as_str()),
        Some("1")
    );

    const NET_ADMIN: u64 = 1 << 12;
    let status = ok(&ro_root_cmd(
        &["--cap-add", "CAP_NET_ADMIN"],
        &["cat", "/proc/self/status"],
    ));
    for key in ["CapPrm", "CapEff", "CapBnd", "CapAmb", "CapInh"] {
        assert_eq!(
            cap_value(&status, key),
            NET_ADMIN,
            "{key} with --cap-add CAP_NET_ADMIN"
        );
    }
    // The capability works: lo can be brought down in a new net namespace.
    if ["/usr/sbin/ip", "/usr/bin/ip", "/sbin/ip", "/bin/ip"]
        .iter()
        .any(|p| Path::new(p).exists())
    {
        let out = ok(&ro_root(
            &["--unshare-net", "--cap-add", "CAP_NET_ADMIN"],
            "ip link set lo down && echo down",
        ));
        assert_eq!(out, "down\n");
        let (code, ..) = run(&ro_root(&["--unshare-net"], "ip link set lo down"));
        assert_ne!(code, 0, "without the capability this must fail");
    } else {
        eprintln!("`ip` not installed: not checking that CAP_NET_ADMIN works");
    }

    const SYS_ADMIN: u64 = 1 << 21;
    let status = ok(&ro_root_cmd(
        &["--cap-add", "ALL", "--cap-drop", "CAP_SYS_ADMIN"],
        &["cat", "/proc/self/status"],
    ));
    for key in ["CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(
            cap_value(&status, key),
            all_caps() & !SYS_ADMIN,
            "{key} with ALL minus SYS_ADMIN"
        );
    }
    // pid 1 keeps none.
    let out = ok(&ro_root(
        &["--unshare-pid", "--proc", "/proc", "--cap-add", "ALL"],
        "grep CapEff /proc/1/status",
    ));
    assert_eq!(
        out.split_whitespace().nth(1),
        Some("0000000000000000"),
        "{out}"
    );
}

/// (pid, sid) of the process reading /proc/self/stat.
fn pid_sid(stat: &str) -> (u32, u32) {
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    let pid = stat.split(' ').next().expect("pid").parse().expect("pid");
    (pid, f[3].parse().expect("sid"))
}

#[test]
fn new_session() {
    let (pid, sid) = pid_sid(&ok(&ro_root_cmd(
        &["--new-session"],
        &["cat", "/proc/self/stat"],
    )));
    assert_eq!(pid, sid, "--new-session makes the command a session leader");
    let (pid, sid) = pid_sid(&ok(&ro_root_cmd(&[], &["cat", "/proc/self/stat"])));
    assert_ne!(
        pid, sid,
        "without --new-session the caller's session is kept"
    );
    // SAFETY: getsid(0) has no preconditions.
    let ours = unsafe { libc::getsid(0) } as u32;
    assert_eq!(sid, ours);
}

#[test]
fn exit_status_passes_through() {
    for extra in [
        &[][..],
        &["--unshare-pid"][..],
        &["--unshare-pid", "--as-pid-1"][..],
    ] {
        let (code, _, err) = run(&ro_root(extra, "exit 42"));
        assert_eq!(code, 42, "{extra:?}: {err}");
        let (code, _, _) = run(&ro_root(extra, "exit 0"));
        assert_eq!(code, 0, "{extra:?}");
        if extra.contains(&"--as-pid-1") {
            continue; // pid 1 cannot be killed by its own default-action signals
        }
        let (code, ..) = run(&ro_root(extra, "kill -TERM $$"));
        assert_eq!(code, 143, "{extra:?}");
        let (code, ..) = run(&ro_root(extra, "kill -9 $$"));
        assert_eq!(code, 137, "{extra:?}");
    }
}

#[test]
fn caller_fds_are_inherited_but_consumed_ones_are_not() {
    let dir = scratch("fds");
    let open = |name: &str| -> OwnedFd {
        let p = dir.join(name);
        std::fs::write(&p, name).expect("write");
        std::fs::File::open(&p).expect("open").into()
    };
    let info_path = dir.join("info.json");
    let info: OwnedFd = std::fs::File::create(&info_path).expect("create").into();
    let args = ro_root(
        &[
            "--tmpfs",
            "/tmp",
            "--file",
            "6",
            "/tmp/f",
            "--bind-data",
            "7",
            "/tmp/g",
            "--info-fd",
            "8",
            "--ro-bind-data",
            "9",
            "/tmp/h",
        ],
        "ls /proc/self/fd | sort -n | tr '\\n' ' '; echo; cat /tmp/f /tmp/g /tmp/h; cat <&5",
    );
    let (code, out, err) = run_with_fds(
        &args,
        vec![
            (5, open("plain")),
            (6, open("file")),
            (7, open("bind")),
            (8, info),
            (9, open("robind")),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (fds, rest) = out
        .split_once('\n')
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .unwrap_or((out.clone(), String::new()));
    let fds: Vec<&str> = fds.split_whitespace().collect();
    assert!(
        fds.contains(&"5"),
        "the caller's fd 5 is inherited: {fds:?}"
    );
    for consumed in ["6", "7", "8", "9"] {
        assert!(
            !fds.contains(&consumed),
            "fd {consumed} was consumed by sandwrap but reached the command: {fds:?}"
        );
    }
    assert_eq!(rest, "filebindrobindplain");
    let info = std::fs::read_to_string(&info_path).expect("info");
    assert!(info.contains("\"child-pid\": "), "{info}");
}

#[test]
fn timeout_term_reaches_the_sandbox() {
    if !Path::new("/usr/bin/timeout").exists() {
        skip!("/usr/bin/timeout not installed: skipping");
        return;
    }
    // With --new-session the sleep is outside timeout's process group, so
    // only sandwrap passing SIGTERM on can end it.
    for extra in [
        &[][..],
        &["--new-session"][..],
        &["--unshare-pid", "--new-session"][..],
    ] {
        let m = marker("timeout");
        let mut args: Vec<String> = vec![
            "-s".into(),
            "TERM".into(),
            "0.5".into(),
            sandwrap_bin().display().to_string(),
        ];
        let mut sand = vec!["--tmpfs", "/tmp"];
        sand.extend_from_slice(extra);
        args.extend(sh(
            &sand,
            &format!("ln -s \"$(command -v sleep)\" {m} && exec {m} 100"),
        ));
        let mut cmd = user_command(Path::new("/usr/bin/timeout"));
        cmd.args(&args);
        let (code, _, err) = run_cmd(cmd);
        let left = pids_with_argv0(&m);
        kill_all(&left);
        assert_eq!(code, 124, "{extra:?}: {err}");
        assert!(left.is_empty(), "{extra:?}: the sleep survived: {left:?}");
    }
}

#[test]
fn die_with_parent() {
    for pidns in [false, true] {
        let m = marker("parent");
        let mut sand = vec!["--die-with-parent", "--tmpfs", "/tmp"];
        if pidns {
            sand.push("--unshare-pid");
        }
        let inner = sh(
            &sand,
            &format!("ln -s \"$(command -v sleep)\" {m} && exec {m} 100"),
        );
        // A shell parent that starts sandwrap and waits; the test kills it.
        let mut cmd = user_command(Path::new("/bin/sh"));
        cmd.arg("-c")
            .arg("\"$@\" & wait")
            .arg("parent")
            .arg(sandwrap_bin())
            .args(&inner);
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let mut parent = cmd.spawn().expect("spawn parent");
        let started = wait_until("the sandbox", || !pids_with_argv0(&m).is_empty());
        // SAFETY: killing our own child (setpriv execs the shell).
        unsafe { libc::kill(parent.id() as i32, libc::SIGKILL) };
        let _ = parent.wait();
        let gone = started && wait_until("the sandbox", || pids_with_argv0(&m).is_empty());
        let left = pids_with_argv0(&m);
        kill_all(&left);
        assert!(started, "pidns={pidns}: the command never started");
        assert!(gone, "pidns={pidns}: {left:?} outlived sandwrap's parent");
    }
}

#[test]
fn real_root_without_setpriv() {
    if !is_root() {
        skip!("not running as root: skipping the real-root test");
        return;
    }
    let run_root = |args: &[&str]| {
        let mut cmd = Command::new(sandwrap_bin());
        cmd.args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        run_cmd(cmd)
    };
    let (code, out, err) = run_root(&["--ro-bind", "/", "/", "--", "id", "-u"]);
    assert_eq!((code, out.as_str()), (0, "0\n"), "{err}");
    let (code, out, err) = run_root(&["--ro-bind", "/", "/", "--", "cat", "/proc/self/status"]);
    assert_eq!(code, 0, "{err}");
    for key in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(
            cap_value(&out, key),
            0,
            "root gets no {key} without --cap-add"
        );
    }
    let (code, out, err) = run_root(&[
        "--ro-bind",
        "/",
        "/",
        "--cap-add",
        "CAP_NET_ADMIN",
        "--",
        "cat",
        "/proc/self/status",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(cap_value(&out, "CapEff"), 1 << 12);
    // No user namespace: the maps are the host's identity map.
    let (code, out, err) = run_root(&["--ro-bind", "/", "/", "--", "cat", "/proc/self/uid_map"]);
    assert_eq!(code, 0, "{err}");
    let host = std::fs::read_to_string("/proc/self/uid_map").expect("uid_map");
    assert_eq!(out, host);
}
