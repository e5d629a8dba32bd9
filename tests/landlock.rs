//! Landlock, as the unprivileged test user: explicit and derived
//! filesystem rules, TCP ports, scopes, strictness, and the fallback that
//! runs without namespaces.
mod common;
use common::*;

use std::os::linux::net::SocketAddrExt;
use std::path::Path;

/// `python3 -c CODE` under `--ro-bind / /` plus `extra`.
fn python_in_root(extra: &[&str], code: &str) -> (i32, String, String) {
    run(&ro_root_cmd(extra, &[PYTHON, "-c", code]))
}

/// Whether this kernel can run a test needing `abi`; prints why not.
fn have_abi(abi: i64) -> bool {
    let have = landlock_abi();
    if have < abi {
        skip!("skipping: needs landlock ABI {abi}, this kernel has {have}");
        return false;
    }
    true
}

const PYTHON: &str = "/usr/bin/python3";

fn have_python() -> bool {
    if !Path::new(PYTHON).exists() {
        skip!("skipping: {PYTHON} is not installed");
        return false;
    }
    true
}

/// `--ro-bind / /` (or --bind) plus extra options, then `sh -c SCRIPT`.
fn with_root(root: &str, extra: &[&str], script: &str) -> Vec<String> {
    sh_cmdline(&[&[root, "/", "/"], extra], script)
}

#[test]
fn explicit_rules_limit_writes_beneath_a_writable_mount() {
    if !have_abi(1) {
        return;
    }
    let work = scratch("ll-rw");
    let other = scratch("ll-other");
    let script = format!(
        "echo a > {s}/x && echo wrote-scratch; echo b > {o}/y && echo wrote-other",
        s = work.display(),
        o = other.display()
    );
    // Without landlock the writable bind allows both writes: the test can fail.
    let (code, out, err) = run(&with_root("--bind", &[], &script));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("wrote-scratch") && out.contains("wrote-other"),
        "{out}"
    );
    std::fs::remove_file(other.join("y")).expect("rm");

    let rw = work.display().to_string();
    let (code, out, err) = run(&with_root(
        "--bind",
        &["--landlock-ro", "/", "--landlock-rw", &rw],
        &script,
    ));
    assert!(out.contains("wrote-scratch"), "out: {out} err: {err}");
    assert!(!out.contains("wrote-other"), "out: {out}");
    assert!(err.contains("Permission denied"), "err: {err}");
    assert_ne!(code, 0);
    assert!(!other.join("y").exists());
    assert_eq!(
        std::fs::read_to_string(work.join("x")).expect("x").trim(),
        "a"
    );
}

#[test]
fn writes_fail_with_eacces() {
    if !have_abi(1) || !have_python() {
        return;
    }
    let other = scratch("ll-errno");
    let code = format!(
        "import errno\ntry:\n    open('{}/f', 'w')\nexcept OSError as e:\n    print(errno.errorcode[e.errno])\nelse:\n    print('written')",
        other.display()
    );
    let (_, out, err) = run(&[
        "--bind",
        "/",
        "/",
        "--landlock-ro",
        "/",
        "--",
        PYTHON,
        "-c",
        &code,
    ]);
    assert_eq!(out.trim(), "EACCES", "err: {err}");
}

#[test]
fn reads_outside_every_rule_fail() {
    if !have_abi(1) {
        return;
    }
    let dir = scratch("ll-read");
    mkfile(&dir.join("secret"), "s3cret\n");
    let script = format!("cat {}/secret", dir.display());
    let (code, out, err) = run(&with_root("--ro-bind", &[], &script));
    assert_eq!((code, out.trim()), (0, "s3cret"), "{err}");
    // Only /usr (where sh and cat live) is allowed.
    let (code, out, err) = run(&with_root("--ro-bind", &["--landlock-ro", "/usr"], &script));
    assert_ne!(code, 0);
    assert!(!out.contains("s3cret"));
    assert!(err.contains("Permission denied"), "{err}");
}

#[test]
fn noexec_rule_allows_reading_not_running() {
    if !have_abi(1) {
        return;
    }
    let dir = scratch("ll-noexec");
    let script_path = dir.join("hello.sh");
    std::fs::write(&script_path, "#!/bin/sh\necho hello\n").expect("write");
    std::fs::set_permissions(
        &script_path,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let d = dir.display().to_string();
    let script = format!("grep -q hello {d}/hello.sh && echo read-ok; {d}/hello.sh");
    let (_, out, err) = run(&with_root("--ro-bind", &["--landlock-ro", "/"], &script));
    assert_eq!(out, "read-ok\nhello\n", "{err}");
    let (_, out, err) = run(&with_root(
        "--ro-bind",
        &["--landlock-ro", "/usr", "--landlock-ro-noexec", &d],
        &script,
    ));
    assert_eq!(out, "read-ok\n", "{err}");
    assert!(err.contains("Permission denied"), "{err}");
}

/// Beside `USR_ONLY` (no bind of `/`): a tmpfs /tmp, /proc, /dev, a pid namespace.
const USR_VIEW: &[&str] = &[
    "--tmpfs",
    "/tmp",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--unshare-pid",
];

fn usr_view(extra: &[&str], script: &str) -> Vec<String> {
    sh_cmdline(&[USR_ONLY, USR_VIEW, extra], script)
}

#[test]
fn derived_rules_let_the_command_work_in_its_view() {
    if !have_abi(1) {
        return;
    }
    let script = "ls /usr >/dev/null && echo hi > /tmp/x && cat /tmp/x && ls / >/dev/null && echo 5 > /proc/self/oom_score_adj && echo done";
    let (code, out, err) = run(&strs(&usr_view(&["--landlock"], script)));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "hi\ndone\n");
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn derived_rules_deny_what_only_setup_should_write() {
    if !have_abi(1) {
        return;
    }
    // The root tmpfs is writable by the sandbox's user; nothing mounted
    // there asked for it, so landlock keeps it read-only.
    let script = "mkdir /made && echo made";
    let (code, out, err) = run(&strs(&usr_view(&[], script)));
    assert_eq!((code, out.as_str()), (0, "made\n"), "{err}");
    let (code, out, err) = run(&strs(&usr_view(&["--landlock"], script)));
    assert_ne!(code, 0);
    assert!(out.is_empty());
    assert!(err.contains("Permission denied"), "{err}");
}

#[test]
fn derived_rules_confine_inherited_directory_fds() {
    if !have_abi(1) {
        return;
    }
    // A directory of the host passed as fd 3 is outside the view's rules.
    let dir = scratch("ll-fd");
    mkfile(&dir.join("f"), "outside\n");
    let script = "cat /proc/self/fd/3/f";
    let run_with_fd = |extra: &[&str]| {
        let mut cmd = sandwrap(strs(&usr_view(extra, script)));
        let d = std::fs::File::open(&dir).expect("open dir");
        let fd = std::os::fd::AsRawFd::as_raw_fd(&d);
        // SAFETY: dup2 in the child before exec, onto fd 3.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
                // dup2 onto itself would keep close-on-exec.
                if libc::dup2(fd, 3) < 0 || libc::fcntl(3, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let o = output(cmd);
        drop(d);
        (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
    };
    let (code, out, err) = run_with_fd(&[]);
    assert_eq!((code, out.as_str()), (0, "outside\n"), "{err}");
    let (code, out, err) = run_with_fd(&["--landlock"]);
    assert_ne!(code, 0);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("Permission denied"), "{err}");
}

#[test]
fn verbose_reports_abi_rules_and_rights() {
    if !have_abi(1) {
        return;
    }
    let (code, _, err) = run(&strs(&usr_view(&["--landlock", "--verbose"], "true")));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("sandwrap: landlock: ABI {}", landlock_abi())),
        "{err}"
    );
    assert!(
        err.contains("; filesystem rights handled: execute,"),
        "{err}"
    );
    assert!(err.contains("; 5 of 5 rules added\n"), "{err}");
    // In the words of --explain (landlock::show).
    for line in [
        "landlock: filesystem: only these rules (derived from the filesystem):",
        "landlock:   read, execute beneath /usr (--ro-bind /usr /usr)",
        "landlock:   all beneath /tmp (--tmpfs /tmp)",
        "landlock: TCP connect: not restricted",
    ] {
        assert!(
            err.contains(&format!("sandwrap: {line}\n")),
            "{line}: {err}"
        );
    }
}

/// `--explain`'s Landlock block, without the block's label and indent.
fn explained_landlock(args: &[&str]) -> Vec<String> {
    let mut all = args.to_vec();
    all.push("--explain");
    let (code, out, err) = run(&all);
    assert_eq!(code, 0, "{err}");
    out.lines()
        .skip_while(|l| !l.starts_with("Landlock:"))
        .take_while(|l| !l.is_empty())
        .map(|l| l.get(14..).unwrap_or_default().to_string())
        .collect()
}

#[test]
fn explain_and_verbose_say_the_same_rules_in_the_same_words() {
    if !have_abi(4) {
        return;
    }
    let mut opts = USR_ONLY.to_vec();
    opts.extend([
        "--tmpfs",
        "/tmp",
        "--landlock",
        "--landlock-tcp-bind",
        "8080",
    ]);
    let explained = explained_landlock(&opts);
    let mut run_args = opts.to_vec();
    run_args.extend(["--verbose", "--", "/usr/bin/true"]);
    let (code, _, err) = run(&run_args);
    assert_eq!(code, 0, "{err}");
    let verbose: Vec<&str> = err
        .lines()
        .filter_map(|l| l.strip_prefix("sandwrap: landlock: "))
        .skip(1) // the kernel's ABI and rights handled
        .collect();
    // Up to the scopes, which the running kernel widens (the signal scope
    // of the command's own domain).
    let n = explained.iter().position(|l| l.starts_with("scoped:"));
    let n = n.expect("a scoped line");
    assert!(
        explained[..n]
            .iter()
            .any(|l| l == "TCP bind: only ports 8080 (1 allowed)"),
        "{explained:?}"
    );
    assert_eq!(&explained[..n], &verbose[..n], "{err}");
    assert!(
        explained
            .last()
            .is_some_and(|l| l
                .starts_with("processes: the command always gets a landlock domain of its own")),
        "{explained:?}"
    );
}

#[test]
fn explain_shows_the_fallbacks_rules() {
    let explained = explained_landlock(&[
        "--ro-bind",
        "/usr",
        "/usr",
        "--tmpfs",
        "/tmp",
        "--unshare-net",
        "--fallback",
        "landlock",
    ]);
    let from = explained
        .iter()
        .position(|l| l == "with --fallback landlock, where namespaces cannot be made:");
    let fallback = &explained[from.expect("a fallback section")..];
    for line in [
        "  filesystem: only these rules (the filesystem options on the host's own paths):",
        "    read, execute beneath /usr (--ro-bind /usr /usr)",
        "  TCP connect: no port",
        "  TCP bind: no port",
        "  scoped: abstract unix sockets",
        "  not honoured: --tmpfs /tmp: cannot mount without a mount namespace; /tmp is not allowed",
    ] {
        assert!(fallback.iter().any(|l| l == line), "{line}: {fallback:?}");
    }
    // Nothing about the fallback unless it is asked for.
    let plain = explained_landlock(&["--ro-bind", "/usr", "/usr"]);
    assert!(!plain.iter().any(|l| l.contains("--fallback")), "{plain:?}");
}

#[test]
fn a_named_path_that_cannot_be_opened_is_an_error() {
    if !have_abi(1) {
        return;
    }
    let (code, out, err) = run(&with_root(
        "--ro-bind",
        &["--landlock-ro", "/no/such/dir"],
        "echo ran",
    ));
    assert_eq!(code, 1);
    assert!(out.is_empty(), "{out}");
    assert_eq!(
        err.trim(),
        "sandwrap: --landlock-ro /no/such/dir: can't open /no/such/dir for a landlock rule: No such file or directory"
    );
}

#[test]
fn bind_try_of_a_missing_source_needs_no_rule() {
    if !have_abi(1) {
        return;
    }
    let (code, out, err) = run(&strs(&usr_view(
        &["--bind-try", "/no/such/dir", "/opt", "--landlock"],
        "echo ran",
    )));
    assert_eq!((code, out.as_str()), (0, "ran\n"), "{err}");
    assert!(err.is_empty(), "{err}");
}

/// A TCP client inside the sandbox; prints `PORT ok` or `PORT ERRNAME`.
fn tcp_client_script(ports: &[u16]) -> String {
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    format!(
        "import socket, errno\nfor p in [{}]:\n    s = socket.socket()\n    try:\n        s.connect(('127.0.0.1', p)); print(p, 'ok')\n    except OSError as e:\n        print(p, errno.errorcode[e.errno])",
        ports.join(",")
    )
}

#[test]
fn tcp_connect_only_to_listed_ports() {
    if !have_abi(4) || !have_python() {
        return;
    }
    let allowed = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let denied = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let (pa, pd) = (
        allowed.local_addr().expect("addr").port(),
        denied.local_addr().expect("addr").port(),
    );
    let code = tcp_client_script(&[pa, pd]);
    let (_, out, err) = python_in_root(&["--share-net"], &code);
    assert_eq!(out, format!("{pa} ok\n{pd} ok\n"), "{err}");
    let port = pa.to_string();
    let (_, out, err) = python_in_root(&["--landlock-tcp-connect", &port], &code);
    assert_eq!(out, format!("{pa} ok\n{pd} EACCES\n"), "{err}");
}

#[test]
fn tcp_bind_only_to_listed_ports() {
    if !have_abi(4) || !have_python() {
        return;
    }
    // Two free ports, released again so the sandbox can bind them.
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .expect("listen")
            .local_addr()
            .expect("addr")
            .port()
    };
    let (pa, pd) = (free(), free());
    let code = format!(
        "import socket, errno\nfor p in [{pa}, {pd}]:\n    s = socket.socket()\n    try:\n        s.bind(('127.0.0.1', p)); print(p, 'ok')\n    except OSError as e:\n        print(p, errno.errorcode[e.errno])"
    );
    let port = pa.to_string();
    let (_, out, err) = python_in_root(&["--landlock-tcp-bind", &port], &code);
    assert_eq!(out, format!("{pa} ok\n{pd} EACCES\n"), "{err}");
}

#[test]
fn abstract_unix_scope_cuts_off_outside_sockets() {
    if !have_abi(6) || !have_python() {
        return;
    }
    let name = format!("sandwrap-landlock-test-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).expect("addr");
    let _listener = std::os::unix::net::UnixListener::bind_addr(&addr).expect("bind abstract");
    let code = format!(
        "import socket, errno\ns = socket.socket(socket.AF_UNIX)\ntry:\n    s.connect('\\0{name}'); print('ok')\nexcept OSError as e:\n    print(errno.errorcode[e.errno])"
    );
    let (_, out, err) = python_in_root(&[], &code);
    assert_eq!(out.trim(), "ok", "{err}");
    let (_, out, err) = python_in_root(&["--landlock-scope", "abstract-unix"], &code);
    assert_eq!(out.trim(), "EPERM", "{err}");
}

#[test]
fn signal_scope_protects_outside_processes() {
    if !have_abi(6) {
        return;
    }
    let mut sleeper = user_command(Path::new("/bin/sleep"))
        .arg("60")
        .spawn()
        .expect("spawn sleep");
    let script = format!("kill -0 {} && echo reached", sleeper.id());
    // On ABI 5 (no signal scope) the outside process is reachable, which
    // shows that the script can reach it.
    let mut cmd = sandwrap(with_root("--ro-bind", &[], &script));
    cmd.env("SANDWRAP_LANDLOCK_ABI_MAX", "5");
    let o = output(cmd);
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "reached\n"),
        "{}",
        stderr(&o)
    );
    // The command's own landlock domain always has the signal scope (it
    // keeps sandwrap's processes and the caller's out of reach); asking
    // for it changes nothing.
    for extra in [&[][..], &["--landlock-scope", "signal"]] {
        let (code, out, err) = run(&with_root("--ro-bind", extra, &script));
        assert_ne!(code, 0);
        assert!(out.is_empty());
        assert!(err.contains("Operation not permitted"), "{err}");
    }
    let _ = sleeper.kill();
    let _ = sleeper.wait();
}

#[test]
fn without_user_namespaces_the_cause_is_diagnosed() {
    let dir = scratch("ll-diag");
    let (code, out, err) = without_userns(&["--ro-bind", "/", "/", "--", "echo", "ran"], &dir);
    assert_eq!(code, 1, "{out} {err}");
    assert!(out.is_empty());
    assert!(
        err.contains("Creating new namespace failed")
            || err.contains("No permissions to create a new namespace"),
        "{err}"
    );
    assert!(
        err.contains("--disable-userns"),
        "the hint names the enclosing sandbox: {err}"
    );
}

#[test]
fn fallback_landlock_confines_without_namespaces() {
    if !have_abi(1) {
        return;
    }
    let top = scratch("ll-fallback");
    let work = top.join("work");
    let other = top.join("other");
    for d in [&work, &other] {
        std::fs::create_dir(d).expect("mkdir");
        give(d);
    }
    let (w, o) = (work.display().to_string(), other.display().to_string());
    let script =
        format!("echo a > {w}/x && echo wrote-work; echo b > {o}/y && echo wrote-other; id -u");
    let (code, out, err) = without_userns(
        &[
            "--ro-bind",
            "/",
            "/",
            "--bind",
            &w,
            &w,
            "--dev",
            "/dev",
            "--fallback",
            "landlock",
            "--",
            "sh",
            "-c",
            &script,
        ],
        &top,
    );
    assert!(out.contains("wrote-work"), "out: {out} err: {err}");
    assert!(!out.contains("wrote-other"), "out: {out}");
    assert!(out.contains(&caller_uid().to_string()), "{out}");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("cannot create namespaces"), "{err}");
    assert!(err.contains("--fallback landlock"), "{err}");
    assert!(err.contains("Permission denied"), "{err}");
    assert!(!other.join("y").exists());
}

#[test]
fn fallback_names_what_it_cannot_honour_and_strict_refuses() {
    if !have_abi(6) {
        return;
    }
    let top = scratch("ll-fallback-lost");
    let inner = [
        "--ro-bind",
        "/",
        "/",
        "--tmpfs",
        "/tmp",
        "--unshare-net",
        "--unshare-pid",
        "--fallback",
        "landlock",
        "--",
        "echo",
        "ran",
    ];
    let (code, out, err) = without_userns(&inner, &top);
    assert_eq!((code, out.as_str()), (0, "ran\n"), "{err}");
    assert!(
        err.contains("--tmpfs /tmp: cannot mount without a mount namespace"),
        "{err}"
    );
    assert!(err.contains("--unshare-net: no network namespace"), "{err}");
    assert!(err.contains("--unshare-pid: no pid namespace"), "{err}");

    let mut strict = vec!["--landlock-strict"];
    strict.extend_from_slice(&inner);
    let (code, out, err) = without_userns(&strict, &top);
    assert_eq!(code, 1);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("sandwrap: --landlock-strict: --fallback landlock: --tmpfs /tmp"),
        "{err}"
    );
}

#[test]
fn fallback_denies_tcp_when_the_network_was_to_be_unshared() {
    if !have_abi(4) || !have_python() {
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let top = scratch("ll-fallback-net");
    let code = tcp_client_script(&[port]);
    let inner = cmdline(&[FALLBACK_NO_NET], &[PYTHON, "-c", &code]);
    let (_, out, err) = without_userns(&strs(&inner), &top);
    assert_eq!(out, format!("{port} EACCES\n"), "{err}");
}

/// Run sandwrap with landlock limited to `abi`, as on an older kernel.
fn run_at_abi(abi: u32, args: &[&str]) -> (i32, String, String) {
    let mut cmd = sandwrap(args);
    cmd.env("SANDWRAP_LANDLOCK_ABI_MAX", abi.to_string());
    let o = output(cmd);
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

#[test]
fn older_abi_enforces_what_it_can_and_says_what_it_cannot() {
    if !have_abi(6) {
        return;
    }
    let script = "mkdir /made 2>/dev/null || echo denied";
    let args = usr_view(
        &[
            "--landlock",
            "--landlock-tcp-connect",
            "80",
            "--landlock-scope",
            "signal",
        ],
        script,
    );
    let (code, out, err) = run_at_abi(3, &strs(&args));
    assert_eq!((code, out.as_str()), (0, "denied\n"), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [
            "sandwrap: warning: landlock: SANDWRAP_LANDLOCK_ABI_MAX=3 limits landlock to ABI 3 (the kernel has 7)",
            "sandwrap: warning: landlock: ioctl on device files is not restricted (needs landlock ABI 5, have ABI 3)",
            "sandwrap: warning: landlock: TCP connect ports are not restricted (needs landlock ABI 4, have ABI 3)",
            "sandwrap: warning: landlock: processes outside the sandbox can still be signalled (needs landlock ABI 6, have ABI 3)",
        ]
        .map(|l| l.replace("has 7", &format!("has {}", landlock_abi()))),
        "{err}"
    );
    // The full kernel has nothing to say.
    let (code, out, err) = run(&strs(&args));
    assert_eq!((code, out.as_str(), err.as_str()), (0, "denied\n", ""));
}

#[test]
fn strict_turns_a_shortfall_into_an_error() {
    if !have_abi(6) {
        return;
    }
    let args = [
        "--ro-bind",
        "/",
        "/",
        "--landlock-scope",
        "signal",
        "--landlock-strict",
        "--",
        "echo",
        "ran",
    ];
    let (code, out, err) = run_at_abi(5, &args);
    assert_eq!(code, 1);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.ends_with("sandwrap: --landlock-strict: landlock: processes outside the sandbox can still be signalled (needs landlock ABI 6, have ABI 5)\n"),
        "{err}"
    );
    let (code, out, err) = run(&args);
    assert_eq!((code, out.as_str()), (0, "ran\n"), "{err}");
}

#[test]
fn without_landlock_nothing_is_restricted_and_the_fallback_refuses() {
    if !have_abi(1) {
        return;
    }
    let (code, out, err) = run_at_abi(
        0,
        &["--ro-bind", "/", "/", "--landlock", "--", "echo", "ran"],
    );
    assert_eq!((code, out.as_str()), (0, "ran\n"), "{err}");
    assert!(
        err.contains("warning: landlock: landlock is not available"),
        "{err}"
    );
    assert!(err.contains("nothing is restricted by it"), "{err}");

    let top = scratch("ll-fallback-nolandlock");
    let (code, out, err) = without_userns_with(
        &["--setenv", "SANDWRAP_LANDLOCK_ABI_MAX", "0"],
        &[
            "--ro-bind",
            "/",
            "/",
            "--fallback",
            "landlock",
            "--",
            "echo",
            "ran",
        ],
        &top,
    );
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("refusing to run the command unconfined"),
        "{err}"
    );
}
