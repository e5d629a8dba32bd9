//! sandwrap driven the way flatpak drives bwrap: an empty environment,
//! every option in one NUL-separated `--args` payload on an fd, generated
//! passwd/group, a caller-built seccomp filter, status/sync/lock fds; then a
//! second sandbox joins the first like `flatpak enter` / flatpak-spawn.
mod common;
mod fdpass;

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use fdpass::*;

/// flatpak's filter, reduced to what the test checks: TIOCSTI/TIOCLINUX
/// ioctls and new user namespaces (unshare, clone; clone3 hidden) refused.
const FLATPAK_RULES: &str = "\
CLONE_NEWUSER = 0x10000000
for req in (termios.TIOCSTI, 0x541C):
    f.add_rule(seccomp.ERRNO(errno.EPERM), 'ioctl', seccomp.Arg(1, seccomp.MASKED_EQ, 0xffffffff, req))
f.add_rule(seccomp.ERRNO(errno.EPERM), 'unshare', seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))
f.add_rule(seccomp.ERRNO(errno.EPERM), 'clone', seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))
f.add_rule(seccomp.ERRNO(errno.ENOSYS), 'clone3')";

/// The sandbox's last command, found by its arguments by the joined one.
/// It echoes its stdin: the "ready" line read back comes from it, so it
/// has exec'd (its /proc cmdline is this), which a shell's `echo ready`
/// next to `MARKER &` did not prove.
const MARKER: &str = "cat -u";

/// A command as the test user with an EMPTY environment (flatpak passes
/// its own through --setenv), every program named by absolute path.
fn bare_command(program: &Path) -> Command {
    let mut cmd = if is_root() {
        let uid = test_uid().to_string();
        let mut c = Command::new("/usr/bin/setpriv");
        c.args(["--reuid", &uid, "--regid", &uid, "--clear-groups", "--"])
            .arg(program);
        c
    } else {
        Command::new(program)
    };
    cmd.env_clear().current_dir("/");
    cmd
}

/// The host's top-level links or directories into /usr (merged or not).
fn usr_links(payload: &mut Vec<String>) {
    for name in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
        let host = PathBuf::from("/").join(name);
        match std::fs::read_link(&host) {
            Ok(target) => payload.extend([
                "--symlink".into(),
                target.display().to_string(),
                host.display().to_string(),
            ]),
            Err(_) if host.is_dir() => payload.extend([
                "--ro-bind".into(),
                host.display().to_string(),
                host.display().to_string(),
            ]),
            Err(_) => {}
        }
    }
}

fn nul_join(words: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for w in words {
        out.extend_from_slice(w.as_bytes());
        out.push(0);
    }
    out
}

#[test]
fn flatpak_style_launch_and_join() {
    let Some(filter) = bpf(FLATPAK_RULES) else {
        return;
    };
    let uid = caller_uid();
    let gid = caller_gid();
    let dir = scratch("flatpak");
    let app_ref = dir.join(".ref");
    std::fs::write(&app_ref, "").expect("ref file");
    give(&app_ref);

    let passwd = format!(
        "flatpakuser:x:{uid}:{gid}:Flatpak User:/home/flatpakuser:/bin/sh\nnfsnobody:x:65534:65534::/:/sbin/nologin\n"
    );
    let group = format!("flatpakuser:x:{gid}:\nnfsnobody:x:65534:\n");
    let info =
        "[Application]\nname=org.example.Test\nruntime=runtime/org.example.Platform/x86_64/1\n";

    // fds as the launcher numbers them in the child.
    const ARGS: i32 = 3;
    const PASSWD: i32 = 4;
    const GROUP: i32 = 5;
    const INFO_FILE: i32 = 6;
    const SECCOMP: i32 = 7;
    const INFO_FD: i32 = 8;
    const SYNC: i32 = 9;

    let mut payload: Vec<String> = Vec::new();
    let mut add = |words: &[&str]| payload.extend(words.iter().map(|s| s.to_string()));
    add(&[
        "--unshare-user",
        "--disable-userns",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-net",
    ]);
    add(&["--die-with-parent", "--ro-bind", "/usr", "/usr"]);
    let mut links = Vec::new();
    usr_links(&mut links);
    payload.extend(links);
    let mut add = |words: &[&str]| payload.extend(words.iter().map(|s| s.to_string()));
    add(&[
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--dir",
        "/tmp",
        "--dir",
        "/run/user/1000",
    ]);
    add(&["--ro-bind-try", "/proc/self/ns/user", "/run/.userns"]);
    add(&[
        "--ro-bind-data",
        &PASSWD.to_string(),
        "/etc/passwd",
        "--ro-bind-data",
        &GROUP.to_string(),
        "/etc/group",
    ]);
    add(&[
        "--perms",
        "0600",
        "--file",
        &INFO_FILE.to_string(),
        "/.flatpak-info",
    ]);
    let ref_path = app_ref.display().to_string();
    add(&[
        "--ro-bind",
        &ref_path,
        "/app/.ref",
        "--lock-file",
        "/app/.ref",
    ]);
    add(&[
        "--seccomp",
        &SECCOMP.to_string(),
        "--info-fd",
        &INFO_FD.to_string(),
        "--sync-fd",
        &SYNC.to_string(),
    ]);
    add(&["--setenv", "PATH", "/usr/bin:/bin"]);

    let script = format!(
        "cat /etc/passwd /etc/group; stat -c '%a %s' /.flatpak-info; cat /.flatpak-info; echo '<env>'; env | sort; echo '</env>'; \
         python3 -c 'import fcntl, termios\ntry:\n    fcntl.ioctl(0, termios.TIOCSTI, b\"x\")\n    print(\"tiocsti allowed\")\nexcept OSError as e:\n    print(\"tiocsti errno\", e.errno)'; \
         if unshare -U true; then echo userns allowed; else echo userns refused; fi; \
         exec {MARKER}"
    );

    let args_fd = memfd(&nul_join(&payload));
    let (passwd_fd, group_fd, info_file_fd) = (
        memfd(passwd.as_bytes()),
        memfd(group.as_bytes()),
        memfd(info.as_bytes()),
    );
    let seccomp_fd = memfd(&filter);
    let (info_r, info_w) = pipe();
    let (sync_r, sync_w) = pipe();
    let (in_r, in_w) = pipe();

    let mut cmd = bare_command(&sandwrap_bin());
    cmd.args(["--args", &ARGS.to_string(), "--", "sh", "-c", &script]);
    let fds: [(&OwnedFd, i32); 7] = [
        (&args_fd, ARGS),
        (&passwd_fd, PASSWD),
        (&group_fd, GROUP),
        (&info_file_fd, INFO_FILE),
        (&seccomp_fd, SECCOMP),
        (&info_w, INFO_FD),
        (&sync_w, SYNC),
    ];
    pass(
        &mut cmd,
        &fds.iter()
            .map(|(f, t)| (f.as_raw_fd(), *t))
            .collect::<Vec<_>>(),
    );
    cmd.stdin(Stdio::from(in_r))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn sandwrap");
    // Only MARKER reads stdin: it answers this once it runs.
    let mut stdin = std::fs::File::from(in_w);
    stdin.write_all(b"ready\n").expect("write to MARKER");
    drop((
        args_fd,
        passwd_fd,
        group_fd,
        info_file_fd,
        seccomp_fd,
        info_w,
        sync_w,
    ));

    let info_json = read_to_end(info_r);
    let members = parse_flat_json(&info_json);
    let keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "child-pid",
            "ipc-namespace",
            "mnt-namespace",
            "net-namespace",
            "pid-namespace"
        ],
        "{info_json}"
    );
    let pid = members[0].1;

    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).expect("read stdout") == 0 {
            let o = child.wait_with_output().expect("wait");
            panic!("sandbox ended before ready: {seen}\nstderr: {}", stderr(&o));
        }
        if line == "ready\n" {
            break;
        }
        seen.push_str(&line);
    }

    // What the command saw.
    assert!(
        seen.starts_with(&format!("{passwd}{group}600 {}\n{info}", info.len())),
        "{seen}"
    );
    let env: Vec<&str> = seen
        .lines()
        .skip_while(|l| *l != "<env>")
        .skip(1)
        .take_while(|l| *l != "</env>")
        .collect();
    assert_eq!(
        env,
        ["PATH=/usr/bin:/bin", "PWD=/"],
        "only what the launcher set (and PWD): {seen}"
    );
    assert!(
        seen.contains("tiocsti errno 1\n"),
        "TIOCSTI must fail with EPERM from the filter (ENOTTY without it): {seen}"
    );
    assert!(seen.contains("userns refused\n"), "{seen}");

    // While it runs: pid 1 holds the lock and the sync fd.
    assert!(alive(pid));
    let e = write_lock_errno(&app_ref);
    assert!(
        e == libc::EAGAIN || e == libc::EACCES,
        "lock probe errno {e}"
    );
    assert_eq!(
        poll(&sync_r, libc::POLLIN, Duration::from_millis(200)),
        0,
        "sync fd HUP while running"
    );

    // Join it like flatpak-spawn: outer userns from /run/.userns, the
    // nested one and the pid namespace from /proc/PID/ns.
    let list = "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done; if unshare -U true 2>/dev/null; then echo userns allowed; fi";
    let mut join = bare_command(Path::new("/bin/sh"));
    join.args([
        "-c",
        &format!(
            "exec \"$@\" 3</proc/{pid}/root/run/.userns 4</proc/{pid}/ns/user 5</proc/{pid}/ns/pid"
        ),
        "sh",
    ]);
    join.arg(sandwrap_bin());
    join.args([
        "--userns",
        "3",
        "--userns2",
        "4",
        "--pidns",
        "5",
        "--assert-userns-disabled",
        "--ro-bind",
        "/usr",
        "/usr",
    ]);
    let mut links = Vec::new();
    usr_links(&mut links);
    join.args(&links);
    join.args([
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--setenv",
        "PATH",
        "/usr/bin:/bin",
        "--",
        "sh",
        "-c",
        list,
    ]);
    let o = join.output().expect("spawn join");
    let (jout, jerr) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(0), "join: {jerr}");
    assert!(
        jout.lines().any(|l| l.trim_end() == MARKER),
        "the joined sandbox sees the first one's processes: {jout}"
    );
    assert!(!jout.lines().any(|l| l == "userns allowed"), "{jout}");

    // End it: HUP on the sync fd, lock released, exit 0.
    stdin.write_all(b"\n").expect("release");
    drop(stdin);
    let status = child.wait().expect("wait");
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(
        err.contains("Operation not permitted"),
        "unshare refused by the filter (EPERM), not only by the limit: {err}"
    );
    let ev = poll(&sync_r, libc::POLLIN, Duration::from_secs(30));
    assert!(ev & libc::POLLHUP != 0, "HUP after the end, got {ev:#x}");
    assert_eq!(write_lock_errno(&app_ref), 0, "lock released after exit");
}
