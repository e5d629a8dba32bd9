//! Status and control fds (`--info-fd`, `--json-status-fd`, `--block-fd`,
//! `--userns-block-fd`, `--sync-fd`, `--lock-file`), the fd-driven file
//! operations (`--bind-fd`, `--file`, `--bind-data`, `--perms`), and the
//! message options (`--level-prefix`, labels, `--not-a-security-boundary`),
//! all as an unprivileged user.
mod common;
mod fdpass;

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Stdio};
use std::time::Duration;

use common::*;
use fdpass::*;

const LIMIT: Duration = Duration::from_secs(30);

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Spawn `sandwrap ARGS` with `fds` passed, stdin from a pipe (returned, so
/// the test decides when a `read` in the command returns) and stdout/stderr
/// captured.
fn spawn(args: &[String], fds: &[(&OwnedFd, i32)]) -> (Child, std::fs::File) {
    let (in_r, in_w) = pipe();
    let mut cmd = sandwrap(args);
    let raw: Vec<(i32, i32)> = fds.iter().map(|(fd, t)| (fd.as_raw_fd(), *t)).collect();
    pass(&mut cmd, &raw);
    cmd.stdin(Stdio::from(in_r))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn sandwrap");
    (child, std::fs::File::from(in_w))
}

/// Read `fd` to EOF, failing the test if EOF does not come within LIMIT.
fn read_until_eof(fd: OwnedFd, what: &str) -> String {
    let mut out = Vec::new();
    loop {
        let ev = poll(&fd, libc::POLLIN, LIMIT);
        assert!(
            ev != 0,
            "{what}: no EOF within {LIMIT:?} (fd not closed?); got so far {:?}",
            String::from_utf8_lossy(&out)
        );
        let mut buf = [0u8; 4096];
        // SAFETY: valid buffer.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        assert!(n >= 0, "{what}: read: {}", std::io::Error::last_os_error());
        if n == 0 {
            return String::from_utf8_lossy(&out).into_owned();
        }
        out.extend_from_slice(&buf[..n as usize]);
    }
}

fn finish(child: Child) -> (i32, String, String) {
    let o = child.wait_with_output().expect("wait");
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

/// The namespace keys bwrap reports, in its order, for the given unshares.
const ALL_NS: [&str; 6] = ["cgroup", "ipc", "mnt", "net", "pid", "uts"];

/// Check an `--info-fd` document: exact layout, key order, inode numbers
/// of the live child. Returns the members.
fn check_info(text: &str, expected_ns: &[&str]) -> Vec<(String, i64)> {
    assert_eq!(text.matches('{').count(), 1, "exactly one object: {text:?}");
    assert!(
        text.starts_with("{\n    \"child-pid\": "),
        "layout: {text:?}"
    );
    assert!(
        text.ends_with("\n}\n") || text.ends_with("\n}"),
        "layout: {text:?}"
    );
    for line in text.lines().filter(|l| *l != "{" && *l != "}") {
        assert!(
            line.starts_with("    \"") && !line.starts_with("     "),
            "4-space indent: {line:?} in {text:?}"
        );
    }
    let members = parse_flat_json(text);
    let mut keys = vec!["child-pid".to_string()];
    keys.extend(expected_ns.iter().map(|n| format!("{n}-namespace")));
    let got: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(got, keys, "keys and order in {text:?}");
    let pid = members[0].1;
    assert!(
        alive(pid),
        "child-pid {pid} is not a live process while the sandbox runs"
    );
    for (key, ino) in &members[1..] {
        let name = key.trim_end_matches("-namespace");
        let actual =
            ns_inode(pid, name).unwrap_or_else(|| panic!("cannot stat /proc/{pid}/ns/{name}"));
        assert_eq!(*ino as u64, actual, "{key} of child {pid}");
        let ours = ns_inode(std::process::id() as i64, name).expect("own ns");
        assert_ne!(actual, ours, "{key}: the sandbox should have a new one");
    }
    members
}

#[test]
fn info_fd_reports_created_namespaces_and_is_closed() {
    let mut args = strings(&[
        "--unshare-cgroup",
        "--unshare-ipc",
        "--unshare-net",
        "--unshare-pid",
        "--unshare-uts",
        "--info-fd",
        "5",
    ]);
    args.extend(sh(&[], "echo started; read x; echo done"));
    let (info_r, info_w) = pipe();
    let (mut child, mut stdin) = spawn(&args, &[(&info_w, 5)]);
    drop(info_w);
    // EOF arrives while the command still waits on stdin: the fd was closed
    // by sandwrap and nothing in the sandbox holds it.
    let text = read_until_eof(info_r, "--info-fd");
    let members = check_info(&text, &ALL_NS);
    let pid = members[0].1;
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "sandbox ended too early"
    );
    assert!(alive(pid));
    stdin.write_all(b"go\n").expect("release");
    drop(stdin);
    let (code, out, err) = finish(child);
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out, "started\ndone\n");
}

#[test]
fn info_fd_without_extra_namespaces_has_only_mnt() {
    let (info_r, info_w) = pipe();
    let mut args = strings(&["--info-fd", "7"]);
    args.extend(sh(&[], "read x || true"));
    let (child, stdin) = spawn(&args, &[(&info_w, 7)]);
    drop(info_w);
    let text = read_until_eof(info_r, "--info-fd");
    check_info(&text, &["mnt"]);
    assert!(!text.contains("user"), "never a user-namespace key: {text}");
    drop(stdin);
    let (code, _, err) = finish(child);
    assert_eq!(code, 0, "stderr: {err}");
}

#[test]
fn info_fd_comparison_with_bwrap_layout() {
    // Same shape as bwrap's document, whatever the numbers.
    let Some(_) = bwrap_bin() else {
        skip!("skipping: /usr/bin/bwrap is not installed");
        return;
    };
    let shape = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| {
                l.trim_end_matches(|c: char| c.is_ascii_digit() || c == ',')
                    .to_string()
            })
            .collect()
    };
    let mut texts = Vec::new();
    for tool in ["sandwrap", "bwrap"] {
        let (info_r, info_w) = pipe();
        let args = sh(
            &["--unshare-net", "--unshare-pid", "--info-fd", "5"],
            "true",
        );
        let mut cmd = if tool == "sandwrap" {
            sandwrap(&args)
        } else {
            bwrap(&args).expect("bwrap")
        };
        pass(&mut cmd, &[(info_w.as_raw_fd(), 5)]);
        let child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(info_w);
        let text = read_until_eof(info_r, tool);
        let o = child.wait_with_output().expect("wait");
        if tool == "bwrap" && !o.status.success() {
            skip!("skipping the bwrap side: it failed here: {}", stderr(&o));
            return;
        }
        assert!(o.status.success(), "{tool}: {}", stderr(&o));
        texts.push(text);
    }
    assert_eq!(
        shape(&texts[0]),
        shape(&texts[1]),
        "sandwrap {:?} vs bwrap {:?}",
        texts[0],
        texts[1]
    );
}

#[test]
fn json_status_fd_reports_exit_code_after_exec() {
    let (st_r, st_w) = pipe();
    let (info_r, info_w) = pipe();
    let mut args = strings(&[
        "--unshare-pid",
        "--unshare-ipc",
        "--json-status-fd",
        "4",
        "--info-fd",
        "6",
    ]);
    args.extend(sh(&[], "exit 42"));
    let (child, stdin) = spawn(&args, &[(&st_w, 4), (&info_w, 6)]);
    drop((st_w, info_w, stdin));
    let info = read_until_eof(info_r, "--info-fd");
    let status = read_until_eof(st_r, "--json-status-fd");
    let (code, _, err) = finish(child);
    assert_eq!(code, 42, "stderr: {err}");
    let lines: Vec<&str> = status.lines().collect();
    assert_eq!(lines.len(), 2, "two JSON lines: {status:?}");
    assert!(status.ends_with('\n'));
    assert!(
        lines[0].starts_with("{ \"child-pid\": ") && lines[0].ends_with(" }"),
        "{status:?}"
    );
    assert_eq!(
        parse_flat_json(lines[0]),
        parse_flat_json(&info),
        "first line = the info object"
    );
    let keys: Vec<String> = parse_flat_json(lines[0])
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        keys,
        [
            "child-pid",
            "ipc-namespace",
            "mnt-namespace",
            "pid-namespace"
        ]
    );
    assert_eq!(lines[1], "{ \"exit-code\": 42 }");
}

#[test]
fn json_status_fd_exit_code_without_pid_namespace_and_for_signals() {
    for (script, expected, code_expected) in [
        ("exit 0", 0, 0),
        ("exit 7", 7, 7),
        ("kill -TERM $$", 143, 143),
    ] {
        let (st_r, st_w) = pipe();
        let mut args = strings(&["--json-status-fd", "9"]);
        args.extend(sh(&[], script));
        let (child, stdin) = spawn(&args, &[(&st_w, 9)]);
        drop((st_w, stdin));
        let status = read_until_eof(st_r, "--json-status-fd");
        let (code, _, err) = finish(child);
        assert_eq!(code, code_expected, "{script}: stderr: {err}");
        let lines: Vec<&str> = status.lines().collect();
        assert_eq!(lines.len(), 2, "{script}: {status:?}");
        assert_eq!(
            lines[1],
            format!("{{ \"exit-code\": {expected} }}"),
            "{script}"
        );
    }
}

#[test]
fn json_status_fd_has_no_exit_code_when_exec_fails() {
    for extra in [&[][..], &["--unshare-pid"][..]] {
        let (st_r, st_w) = pipe();
        let mut args = strings(&["--json-status-fd", "5"]);
        args.extend(strings(BASE));
        args.extend(strings(extra));
        args.extend(strings(&["--", "/nonexistent/command"]));
        let (child, stdin) = spawn(&args, &[(&st_w, 5)]);
        drop((st_w, stdin));
        let status = read_until_eof(st_r, "--json-status-fd");
        let (code, _, err) = finish(child);
        assert_eq!(code, 1, "{extra:?}");
        assert!(
            err.contains("sandwrap: execvp /nonexistent/command: No such file or directory"),
            "{extra:?}: {err}"
        );
        let lines: Vec<&str> = status.lines().collect();
        assert_eq!(lines.len(), 1, "{extra:?}: no exit-code line: {status:?}");
        assert!(
            lines[0].contains("\"child-pid\": ") && lines[0].contains("\"mnt-namespace\": "),
            "{status:?}"
        );
        assert!(!status.contains("exit-code"));
    }
}

#[test]
fn json_status_fd_has_no_exit_code_when_setup_fails() {
    let (st_r, st_w) = pipe();
    let mut args = strings(&["--json-status-fd", "5"]);
    args.extend(sh(&["--bind", "/nonexistent-source", "/x"], "true"));
    let (child, stdin) = spawn(&args, &[(&st_w, 5)]);
    drop((st_w, stdin));
    let status = read_until_eof(st_r, "--json-status-fd");
    let (code, _, err) = finish(child);
    assert_eq!(code, 1);
    assert!(
        err.contains(
            "sandwrap: Can't find source path /nonexistent-source: No such file or directory"
        ),
        "{err}"
    );
    let lines: Vec<&str> = status.lines().collect();
    assert_eq!(lines.len(), 1, "{status:?}");
    // The namespaces are reported even though the child failed at once.
    let keys: Vec<String> = parse_flat_json(lines[0])
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, ["child-pid", "mnt-namespace"], "{status:?}");
}

#[test]
fn block_fd_waits_for_a_byte() {
    let (blk_r, blk_w) = pipe();
    let (info_r, info_w) = pipe();
    let mut args = strings(&["--block-fd", "5", "--info-fd", "6"]);
    args.extend(sh(&[], "echo ran"));
    let (mut child, stdin) = spawn(&args, &[(&blk_r, 5), (&info_w, 6)]);
    drop((blk_r, info_w, stdin));
    // The sandbox is up (it reported itself) but must not run the command.
    read_until_eof(info_r, "--info-fd");
    let out = child.stdout.take().expect("stdout");
    let out_fd = OwnedFd::from(out);
    assert_eq!(
        poll(&out_fd, libc::POLLIN, Duration::from_millis(500)),
        0,
        "command ran before the block fd was written"
    );
    assert!(child.try_wait().expect("try_wait").is_none());
    std::fs::File::from(blk_w).write_all(b"x").expect("unblock");
    let text = read_until_eof(out_fd, "stdout");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
    assert_eq!(text, "ran\n");
}

#[test]
fn block_fd_is_released_by_eof() {
    let (blk_r, blk_w) = pipe();
    let mut args = strings(&["--block-fd", "5"]);
    args.extend(sh(&[], "echo ran"));
    let (child, stdin) = spawn(&args, &[(&blk_r, 5)]);
    drop((blk_r, stdin, blk_w));
    let (code, out, err) = finish(child);
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out, "ran\n");
}

/// The helper bwrap's demo describes: read the child pid from --info-fd,
/// check that the sandbox waits with empty maps, write the maps (as the
/// same unprivileged user: setgroups deny first, one id each), release it.
const USERNS_HELPER: &str = r#"
import json, os, sys
sandwrap, inside = sys.argv[1], sys.argv[2]
info_r, info_w = os.pipe()
blk_r, blk_w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(info_r); os.close(blk_w)
    os.set_inheritable(info_w, True); os.set_inheritable(blk_r, True)
    os.execv(sandwrap, ["sandwrap", "--unshare-user", "--userns-block-fd", str(blk_r),
                        "--info-fd", str(info_w), "--ro-bind", "/", "/", "--proc", "/proc",
                        "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g"])
os.close(info_w); os.close(blk_r)
data = json.load(os.fdopen(info_r))
child = data["child-pid"]
before = open(f"/proc/{child}/uid_map").read()
print("before:" + repr(before), file=sys.stderr)
with open(f"/proc/{child}/setgroups", "w") as f: f.write("deny")
with open(f"/proc/{child}/uid_map", "w") as f: f.write(f"{inside} {os.getuid()} 1\n")
with open(f"/proc/{child}/gid_map", "w") as f: f.write(f"{inside} {os.getgid()} 1\n")
os.write(blk_w, b"1")
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
"#;

#[test]
fn userns_block_fd_lets_an_outside_helper_write_the_maps() {
    let uid = caller_uid();
    let gid = caller_gid();
    for inside in [0, uid] {
        let mut cmd = user_command(std::path::Path::new("/usr/bin/python3"));
        cmd.args(["-c", USERNS_HELPER])
            .arg(sandwrap_bin())
            .arg(inside.to_string());
        let o = output(cmd);
        let (out, err) = (stdout(&o), stderr(&o));
        assert!(
            o.status.success(),
            "inside={inside}: stdout {out} stderr {err}"
        );
        assert!(
            err.contains("before:''"),
            "the sandbox must wait with no map written: {err}"
        );
        let words: Vec<&str> = out.split_whitespace().collect();
        let gid_inside = inside;
        assert_eq!(
            words,
            [
                inside.to_string(),
                uid.to_string(),
                "1".into(),
                gid_inside.to_string(),
                gid.to_string(),
                "1".into(),
                inside.to_string(),
                gid_inside.to_string()
            ],
            "inside={inside}: {out}"
        );
    }
}

#[test]
fn userns_block_fd_requires_unshare_user_and_info_fd() {
    let (code, _, err) = run(&sh(&["--userns-block-fd", "0", "--info-fd", "1"], "true"));
    assert_eq!(code, 1);
    assert_eq!(
        err.trim(),
        "sandwrap: --userns-block-fd requires --unshare-user"
    );
    let (code, _, err) = run(&sh(&["--unshare-user", "--userns-block-fd", "0"], "true"));
    assert_eq!(code, 1);
    assert_eq!(err.trim(), "sandwrap: --userns-block-fd requires --info-fd");
}

#[test]
fn sync_fd_peer_sees_hup_only_when_the_sandbox_ends() {
    for extra in [&[][..], &["--unshare-pid"][..]] {
        let (sync_r, sync_w) = pipe();
        let mut args = strings(&["--sync-fd", "5"]);
        args.extend(strings(BASE));
        args.extend(strings(extra));
        args.extend(strings(&[
            "--",
            "sh",
            "-c",
            "if [ -e /proc/self/fd/5 ]; then echo leaked; fi; echo ready; read x || true",
        ]));
        let (mut child, stdin) = spawn(&args, &[(&sync_w, 5)]);
        drop(sync_w);
        let mut out = child.stdout.take().expect("stdout");
        let mut first = [0u8; 6];
        out.read_exact(&mut first).expect("ready line");
        assert_eq!(
            &first, b"ready\n",
            "{extra:?}: the command must not get the sync fd"
        );
        // Running: pid 1 holds the write end, so no HUP and no data.
        assert_eq!(
            poll(&sync_r, libc::POLLIN, Duration::from_millis(300)),
            0,
            "{extra:?}: HUP before the end"
        );
        drop(stdin);
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(0), "{extra:?}");
        let ev = poll(&sync_r, libc::POLLIN, LIMIT);
        assert!(
            ev & libc::POLLHUP != 0,
            "{extra:?}: expected HUP after the end, got {ev:#x}"
        );
        assert_eq!(read_until_eof(sync_r, "--sync-fd"), "");
    }
}

/// Who holds a conflicting lock (F_GETLK): (type, pid).
fn lock_holder(path: &std::path::Path) -> (i32, i32) {
    let fd = open(path, libc::O_RDWR);
    let mut lock = libc::flock {
        l_type: libc::F_WRLCK as i16,
        l_whence: libc::SEEK_SET as i16,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    // SAFETY: valid fd and flock.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETLK, &mut lock) };
    assert_eq!(r, 0, "F_GETLK: {}", std::io::Error::last_os_error());
    (lock.l_type as i32, lock.l_pid)
}

#[test]
fn lock_file_is_held_by_pid_1_while_the_sandbox_runs() {
    let dir = scratch("lock");
    let file = dir.join("app.ref");
    std::fs::write(&file, "").expect("create lock file");
    give(&file);
    assert_eq!(
        write_lock_errno(&file),
        0,
        "the file must be unlocked before"
    );
    let (info_r, info_w) = pipe();
    let d = dir.display().to_string();
    let mut args = strings(&["--info-fd", "5"]);
    args.extend(sh(
        &[
            "--tmpfs",
            "/mnt",
            "--bind",
            &d,
            "/mnt/app",
            "--lock-file",
            "/mnt/app/app.ref",
        ],
        "echo ready; read x || true",
    ));
    let (mut child, stdin) = spawn(&args, &[(&info_w, 5)]);
    drop(info_w);
    let info = parse_flat_json(&read_until_eof(info_r, "--info-fd"));
    let mut out = child.stdout.take().expect("stdout");
    let mut first = [0u8; 6];
    out.read_exact(&mut first).expect("ready line");
    let err = write_lock_errno(&file);
    assert!(
        err == libc::EAGAIN || err == libc::EACCES,
        "F_WRLCK probe while running: errno {err}"
    );
    let (ty, holder) = lock_holder(&file);
    assert_eq!(ty, libc::F_RDLCK, "a read lock");
    assert_eq!(
        holder as i64, info[0].1,
        "held by the sandbox's pid 1 (child-pid)"
    );
    drop(stdin);
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        write_lock_errno(&file),
        0,
        "the lock must be gone after exit"
    );
}

#[test]
fn lock_file_errors() {
    let (code, _, err) = run(&sh(&["--lock-file", "/nonexistent-lock"], "echo ran"));
    assert_eq!(code, 1);
    assert!(
        err.contains(
            "sandwrap: Unable to open lock file /nonexistent-lock: No such file or directory"
        ),
        "{err}"
    );
    assert!(!err.contains("ran"));
}

// ---- files from fds ------------------------------------------------------

#[test]
fn bind_fd_and_ro_bind_fd_mount_an_open_directory() {
    let dir = scratch("bindfd");
    std::fs::write(dir.join("hello"), "from host\n").expect("write");
    give(&dir.join("hello"));
    for (flags, what) in [
        (libc::O_PATH | libc::O_DIRECTORY, "O_PATH"),
        (libc::O_RDONLY | libc::O_DIRECTORY, "O_RDONLY"),
    ] {
        let _ = std::fs::remove_file(dir.join("new"));
        let _ = std::fs::remove_file(dir.join("ro-new"));
        let rw = open(&dir, flags);
        let ro = open(&dir, flags);
        let args = sh(
            &[
                "--tmpfs",
                "/mnt",
                "--bind-fd",
                "5",
                "/mnt/rw",
                "--ro-bind-fd",
                "6",
                "/mnt/ro",
            ],
            "cat /mnt/rw/hello /mnt/ro/hello; echo x > /mnt/rw/new && echo wrote; \
             if echo y > /mnt/ro/ro-new; then echo ro-writable; fi; grep -c ' /mnt/ro .*ro,' /proc/self/mountinfo",
        );
        let (child, stdin) = spawn(&args, &[(&rw, 5), (&ro, 6)]);
        drop((rw, ro, stdin));
        let (code, out, err) = finish(child);
        assert_eq!(code, 0, "{what}: stderr: {err}");
        assert_eq!(
            out, "from host\nfrom host\nwrote\n1\n",
            "{what}: stderr: {err}"
        );
        assert!(err.contains("Read-only file system"), "{what}: {err}");
        assert_eq!(
            std::fs::read_to_string(dir.join("new")).expect("new on host"),
            "x\n"
        );
        assert!(!dir.join("ro-new").exists());
    }
}

#[test]
fn bind_fd_errors() {
    let (code, _, err) = run(&sh(&["--bind-fd", "77", "/mnt"], "true"));
    assert_eq!(code, 1);
    assert!(err.starts_with("sandwrap: ") && err.contains("77"), "{err}");
    let (code, _, err) = run(&sh(&["--bind-fd", "x", "/mnt"], "true"));
    assert_eq!((code, err.trim()), (1, "sandwrap: Invalid fd: x"));
    let (code, _, err) = run(&["--ro-bind-fd", "3"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("sandwrap: --bind-fd takes two arguments"),
        "{err}"
    );
}

/// Mode and content of DEST as seen inside after `--perms P OP FD DEST`.
fn perms_of(op: &str, perms: Option<&str>, dest: &str) -> (String, String) {
    let data = memfd(b"payload\n");
    let mut extra: Vec<&str> = vec!["--tmpfs", "/work"];
    if let Some(p) = perms {
        extra.extend(["--perms", p]);
    }
    extra.extend([op, "5", dest]);
    let script = format!("stat -c %a {dest}; cat {dest}");
    let (child, stdin) = spawn(&sh(&extra, &script), &[(&data, 5)]);
    drop((data, stdin));
    let (code, out, err) = finish(child);
    assert_eq!(code, 0, "{op} {perms:?}: {err}");
    let mut lines = out.lines();
    (
        lines.next().unwrap_or_default().to_string(),
        lines.collect::<Vec<_>>().join("\n"),
    )
}

#[test]
fn perms_applies_to_every_op_that_creates_a_file() {
    // bwrap's defaults: --file 0666, --bind-data/--ro-bind-data 0600.
    assert_eq!(
        perms_of("--file", None, "/work/f"),
        ("666".into(), "payload".into())
    );
    assert_eq!(
        perms_of("--bind-data", None, "/work/f"),
        ("600".into(), "payload".into())
    );
    assert_eq!(
        perms_of("--ro-bind-data", None, "/work/f"),
        ("600".into(), "payload".into())
    );
    for op in ["--file", "--bind-data", "--ro-bind-data"] {
        assert_eq!(
            perms_of(op, Some("0640"), "/work/f"),
            ("640".into(), "payload".into()),
            "{op}"
        );
        assert_eq!(
            perms_of(op, Some("0400"), "/work/f"),
            ("400".into(), "payload".into()),
            "{op}"
        );
    }
    // --dir and --tmpfs.
    let (code, out, err) = run(&sh(
        &[
            "--tmpfs",
            "/work",
            "--perms",
            "0700",
            "--dir",
            "/work/d",
            "--perms",
            "01777",
            "--tmpfs",
            "/work/t",
            "--dir",
            "/work/plain",
        ],
        "stat -c %a /work/d /work/t /work/plain",
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "700\n1777\n755\n");
    // Parents created for a --perms op lose the group/other bits the mode lacks.
    let data = memfd(b"x");
    let (child, stdin) = spawn(
        &sh(
            &[
                "--tmpfs",
                "/work",
                "--perms",
                "0600",
                "--file",
                "5",
                "/work/a/b/f",
            ],
            "stat -c %a /work/a /work/a/b /work/a/b/f",
        ),
        &[(&data, 5)],
    );
    drop((data, stdin));
    let (code, out, err) = finish(child);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "700\n700\n600\n");
}

#[test]
fn perms_must_be_followed_by_a_creating_op() {
    let (code, _, err) = run(&sh(&["--perms", "0644", "--chmod", "0644", "/etc"], "true"));
    assert_eq!(
        (code, err.trim()),
        (
            1,
            "sandwrap: --perms must be followed by an option that creates a file"
        )
    );
    let (code, _, err) = run(&sh(&["--perms", "0644", "--bind", "/etc", "/etc"], "true"));
    assert_eq!(
        (code, err.trim()),
        (
            1,
            "sandwrap: --perms must be followed by an option that creates a file"
        )
    );
    let (code, _, err) = run(&sh(&["--perms", "9"], "true"));
    assert_eq!(
        (code, err.trim()),
        (1, "sandwrap: --perms takes an octal argument <= 07777")
    );
    let (code, _, err) = run(&sh(
        &["--perms", "0644", "--perms", "0644", "--dir", "/x"],
        "true",
    ));
    assert_eq!(
        (code, err.trim()),
        (1, "sandwrap: --perms given twice for the same action")
    );
}

#[test]
fn file_and_bind_data_read_the_fd_to_eof_and_bind_data_is_private() {
    let big: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let f = memfd(&big);
    let bd = memfd(b"bind-data\n");
    let rbd = memfd(b"ro-bind-data\n");
    let (child, stdin) = spawn(
        &sh(
            &[
                "--tmpfs",
                "/work",
                "--file",
                "5",
                "/work/big",
                "--bind-data",
                "6",
                "/work/bd",
                "--ro-bind-data",
                "7",
                "/work/rbd",
            ],
            "wc -c < /work/big; cat /work/bd /work/rbd; echo more >> /work/bd && echo bd-writable; \
             if echo more >> /work/rbd; then echo rbd-writable; fi; ls -a / | grep -c sandwrap",
        ),
        &[(&f, 5), (&bd, 6), (&rbd, 7)],
    );
    drop((f, bd, rbd, stdin));
    let (code, out, err) = finish(child);
    // grep -c prints 0 and exits 1: no hidden setup file is left in the root.
    assert_eq!(code, 1, "stderr: {err}");
    assert_eq!(
        out, "200000\nbind-data\nro-bind-data\nbd-writable\n0\n",
        "stderr: {err}"
    );
    assert!(err.contains("Read-only file system"), "{err}");
}

// ---- messages ------------------------------------------------------------

#[test]
fn level_prefix_marks_errors_and_later_warnings() {
    // Warning before --level-prefix: no prefix; after it: <4>.
    let (code, _, err) = run(&sh(
        &[
            "--chdir",
            "/",
            "--chdir",
            "/",
            "--level-prefix",
            "--chdir",
            "/",
        ],
        "true",
    ));
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [
            "sandwrap: Only the last --chdir option will take effect",
            "<4>sandwrap: Only the last --chdir option will take effect"
        ]
    );
    // Parse-time error.
    let (code, _, err) = run(&["--level-prefix", "--bogus"]);
    assert_eq!(
        (code, err.trim()),
        (1, "<3>sandwrap: Unknown option --bogus")
    );
    // Setup error in the child.
    let (code, _, err) = run(&sh(
        &["--level-prefix", "--bind", "/nonexistent-source", "/x"],
        "true",
    ));
    assert_eq!(code, 1);
    assert_eq!(
        err.trim(),
        "<3>sandwrap: Can't find source path /nonexistent-source: No such file or directory"
    );
    // exec failure.
    let mut args = strings(&["--level-prefix"]);
    args.extend(strings(BASE));
    args.extend(strings(&["--", "/nonexistent/cmd"]));
    let (code, _, err) = run(&args);
    assert_eq!(code, 1);
    assert_eq!(
        err.trim(),
        "<3>sandwrap: execvp /nonexistent/cmd: No such file or directory"
    );
    // Without it: no prefix.
    let (_, _, err) = run(&["--bogus"]);
    assert_eq!(err.trim(), "sandwrap: Unknown option --bogus");
}

fn selinux_enabled() -> bool {
    std::fs::read_to_string("/sys/fs/selinux/enforce").is_ok()
}

#[test]
fn labels_without_selinux_are_refused_at_parse_time() {
    if selinux_enabled() {
        skip!("skipping: SELinux is enabled here, labels are meaningful");
        return;
    }
    for opt in ["--exec-label", "--file-label"] {
        // The command would print "ran": the error must come before anything runs.
        let (code, out, err) = run(&sh(&[opt, "system_u:system_r:container_t:s0"], "echo ran"));
        assert_eq!(code, 1, "{opt}: {err}");
        assert_eq!(out, "", "{opt}");
        assert_eq!(
            err.trim(),
            "sandwrap: labeling not supported on this system",
            "{opt}"
        );
        let (_, _, err) = run(&sh(&["--level-prefix", opt, "x"], "true"));
        assert_eq!(
            err.trim(),
            "<3>sandwrap: labeling not supported on this system",
            "{opt}"
        );
    }
}

#[test]
fn not_a_security_boundary_is_accepted() {
    let (code, out, err) = run(&sh(&["--not-a-security-boundary"], "echo ok"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "ok\n");
}

#[test]
fn status_fd_errors_name_the_option() {
    for opt in [
        "--info-fd",
        "--json-status-fd",
        "--block-fd",
        "--sync-fd",
        "--userns-block-fd",
    ] {
        let (code, _, err) = run(&sh(&[opt, "-1"], "true"));
        assert_eq!((code, err.trim()), (1, "sandwrap: Invalid fd: -1"), "{opt}");
        let (code, _, err) = run(&[opt]);
        assert_eq!(
            (code, err.trim().to_string()),
            (1, format!("sandwrap: {opt} takes an argument")),
            "{opt}"
        );
    }
    // Repeats: last wins, with bwrap's warning.
    let (st_r, st_w) = pipe();
    let (child, stdin) = spawn(
        &sh(
            &["--json-status-fd", "8", "--json-status-fd", "5"],
            "exit 3",
        ),
        &[(&st_w, 5)],
    );
    drop((st_w, stdin));
    let status = read_until_eof(st_r, "--json-status-fd");
    let (code, _, err) = finish(child);
    assert_eq!(code, 3);
    assert!(
        err.contains("sandwrap: Only the last --json-status-fd option will take effect"),
        "{err}"
    );
    assert!(status.ends_with("{ \"exit-code\": 3 }\n"), "{status:?}");
}

#[test]
fn scratch_dirs_are_usable_by_the_test_user() {
    // Guard for the harness assumptions the tests above rely on.
    let dir = scratch("perm-check");
    let mode = std::fs::metadata(&dir).expect("stat").permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
}

#[test]
fn sync_fd_goes_to_the_command_with_as_pid_1() {
    // bwrap: with --as-pid-1 there is no reaper to hold it, so the command does.
    let (sync_r, sync_w) = pipe();
    let mut args = strings(&["--unshare-pid", "--as-pid-1", "--sync-fd", "5"]);
    args.extend(sh(&[], "if [ -e /proc/self/fd/5 ]; then echo has-fd; fi"));
    let (child, stdin) = spawn(&args, &[(&sync_w, 5)]);
    drop((sync_w, stdin));
    let (code, out, err) = finish(child);
    assert_eq!((code, out.as_str()), (0, "has-fd\n"), "{err}");
    assert_eq!(read_until_eof(sync_r, "--sync-fd"), "");
}

#[test]
fn unwritable_status_fds_are_errors() {
    // The supervisor fails right after the clone; the child must notice and
    // end (not wait forever for a go-ahead). Output goes to files and the
    // wait is bounded, so a child left behind fails the test, not hangs it.
    let dir = scratch("unwritable");
    for opt in ["--info-fd", "--json-status-fd"] {
        let (out_path, err_path) = (
            dir.join(format!("{opt}.out")),
            dir.join(format!("{opt}.err")),
        );
        let mut cmd = sandwrap(sh(&[opt, "77"], "echo ran"));
        cmd.stdout(std::fs::File::create(&out_path).expect("out file"));
        cmd.stderr(std::fs::File::create(&err_path).expect("err file"));
        let mut child = cmd.spawn().expect("spawn");
        drop(cmd); // it holds the parent's copies of the output files
        let status = wait_within(&mut child, LIMIT);
        assert!(status.is_some(), "{opt}: sandwrap hangs");
        let out = std::fs::read_to_string(&out_path).expect("out");
        let err = std::fs::read_to_string(&err_path).expect("err");
        assert_eq!(
            (status.and_then(|s| s.code()), out.as_str(), err.trim()),
            (
                Some(1),
                "",
                "sandwrap: Write to info_fd: Bad file descriptor"
            ),
            "{opt}"
        );
        // Nothing of the sandbox is left holding the output file open.
        let path = out_path.display().to_string();
        let holders = || {
            std::fs::read_dir("/proc")
                .into_iter()
                .flatten()
                .flatten()
                .any(|p| {
                    std::fs::read_dir(p.path().join("fd"))
                        .into_iter()
                        .flatten()
                        .flatten()
                        .any(|fd| {
                            std::fs::read_link(fd.path())
                                .map(|l| l.display().to_string() == path)
                                .unwrap_or(false)
                        })
                })
        };
        assert!(
            wait_for(LIMIT, || !holders()),
            "{opt}: a sandbox process outlived sandwrap"
        );
    }
}

/// A closed fd named on the command line fails as in bwrap (EBADF where it
/// is used; a --block-fd read error is ignored), and never hangs: sandwrap's
/// own pipes must not take its number.
#[test]
fn closed_caller_fds_fail_at_once() {
    let dir = scratch("closedfd");
    let cases: [(&[&str], &str); 3] = [
        (
            &["--file", "63", "/tmp/x"],
            "sandwrap: Can't write data to file /tmp/x: Bad file descriptor",
        ),
        (
            &["--ro-bind-data", "63", "/tmp/x"],
            "sandwrap: Can't write data to file /tmp/x: Bad file descriptor",
        ),
        (&["--block-fd", "63"], ""),
    ];
    for (extra, expected) in cases {
        let mut args: Vec<&str> = vec!["--ro-bind", "/", "/", "--tmpfs", "/tmp"];
        args.extend_from_slice(extra);
        args.push("true");
        let err_path = dir.join("err");
        let mut cmd = sandwrap(&args);
        cmd.stdout(std::process::Stdio::null());
        cmd.stderr(std::fs::File::create(&err_path).expect("err file"));
        let mut child = cmd.spawn().expect("spawn");
        drop(cmd);
        let status = wait_within(&mut child, LIMIT);
        assert!(status.is_some(), "{extra:?}: sandwrap hangs");
        let err = std::fs::read_to_string(&err_path).expect("err");
        let code = if expected.is_empty() { 0 } else { 1 };
        assert_eq!(
            (status.and_then(|s| s.code()), err.trim()),
            (Some(code), expected),
            "{extra:?}"
        );
    }
}

/// Whether a process below `top` is blocked reading the pipe whose /proc
/// fd link is `pipe`, by its /proc/PID/syscall (number, then fd in hex).
fn blocked_reading(top: u32, pipe: &str) -> bool {
    let mut procs = vec![top];
    while let Some(p) = procs.pop() {
        if let Ok(kids) = std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")) {
            procs.extend(
                kids.split_whitespace()
                    .filter_map(|k| k.parse::<u32>().ok()),
            );
        }
        let Ok(call) = std::fs::read_to_string(format!("/proc/{p}/syscall")) else {
            continue;
        };
        let mut words = call.split_whitespace();
        let read = words.next() == Some(libc::SYS_read.to_string().as_str());
        let fd = words
            .next()
            .and_then(|w| u64::from_str_radix(w.trim_start_matches("0x"), 16).ok());
        if read
            && fd.is_some_and(|fd| {
                std::fs::read_link(format!("/proc/{p}/fd/{fd}"))
                    .is_ok_and(|l| l.to_str() == Some(pipe))
            })
        {
            return true;
        }
    }
    false
}

/// SIGTERM to sandwrap while setup waits (here on --block-fd) ends the
/// sandbox with 128+15, with and without a pid namespace.
#[test]
fn sigterm_during_setup_ends_the_sandbox() {
    for pidns in [false, true] {
        let (block_r, block_w) = pipe();
        let mut args: Vec<String> = ["--ro-bind", "/", "/", "--block-fd", "5"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        if pidns {
            args.push("--unshare-pid".into());
        }
        args.extend(["echo", "ran"].iter().map(|s| s.to_string()));
        let mut cmd = sandwrap(&args);
        cmd.stdout(std::process::Stdio::piped());
        pass(&mut cmd, &[(block_r.as_raw_fd(), 5)]);
        let pipe = std::fs::read_link(format!("/proc/self/fd/{}", block_r.as_raw_fd()))
            .expect("the block pipe")
            .display()
            .to_string();
        let mut child = cmd.spawn().expect("spawn");
        drop(block_r);
        // Once it waits on the block fd (a fixed 200 ms could end before:
        // SIGTERM then came at another stage of setup).
        assert!(
            wait_until("setup to wait on --block-fd", || blocked_reading(
                child.id(),
                &pipe
            )),
            "pidns={pidns}: setup never waited on the block fd"
        );
        // SAFETY: signalling the sandwrap we started.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let mut status = None;
        let done = wait_for(LIMIT, || {
            status = child.try_wait().expect("try_wait");
            status.is_some()
        });
        drop(block_w);
        if !done {
            let _ = child.kill();
        }
        assert!(done, "pidns={pidns}: SIGTERM did not end sandwrap");
        assert_eq!(status.and_then(|s| s.code()), Some(143), "pidns={pidns}");
    }
}

/// Run `launcher` with --info-fd 5 and --json-status-fd 6 over `args`:
/// (exit code, the info document, the status lines, stdout).
fn reports(launcher: &std::path::Path, args: &[String]) -> (i32, String, String, String) {
    let (info_r, info_w) = pipe();
    let (json_r, json_w) = pipe();
    let mut cmd = user_command(launcher);
    cmd.args(["--info-fd", "5", "--json-status-fd", "6"])
        .args(args);
    pass(
        &mut cmd,
        &[(info_w.as_raw_fd(), 5), (json_w.as_raw_fd(), 6)],
    );
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn");
    drop((info_w, json_w));
    let info = read_until_eof(info_r, "--info-fd");
    let json = read_until_eof(json_r, "--json-status-fd");
    let (code, out, _) = finish(child);
    (code, info, json, out)
}

/// The `mnt-namespace` member of a report.
fn mnt_of(doc: &str) -> Option<i64> {
    parse_flat_json(
        doc.lines()
            .next()
            .filter(|l| l.starts_with("{ "))
            .unwrap_or(doc),
    )
    .into_iter()
    .find(|(k, _)| k == "mnt-namespace")
    .map(|(_, v)| v)
}

#[test]
fn status_fds_name_the_mount_namespace_the_command_runs_in_with_dev() {
    // --dev makes a nested user (and, in sandwrap, mount) namespace at the
    // end of setup: the reports name the namespaces the command runs in,
    // as bwrap's do, also with a pid namespace.
    let mut launchers = vec![("sandwrap", sandwrap_bin())];
    match bwrap_bin() {
        Some(b) => launchers.push(("bwrap", b)),
        None => skip!("skipping the bwrap side: /usr/bin/bwrap is not installed"),
    }
    for (name, bin) in &launchers {
        for extra in [&[][..], &["--unshare-pid"][..]] {
            // The host's /proc (from the bind of /): `self` is the command.
            let stat = ["stat", "-L", "-c", "%i", "/proc/self/ns/mnt"];
            let base: &[&str] = &["--ro-bind", "/", "/", "--dev", "/dev"];
            let args = strings(&[base, extra, &["--"], &stat].concat());
            let (code, info, json, out) = reports(bin, &args);
            assert_eq!(code, 0, "{name} {extra:?}");
            let command_mnt: i64 = out.trim().parse().expect("inode");
            assert_eq!(mnt_of(&info), Some(command_mnt), "{name} {extra:?}: {info}");
            assert_eq!(mnt_of(&json), Some(command_mnt), "{name} {extra:?}: {json}");
        }
        // Setup fails: the report is still there, with no exit code.
        let args = strings(&[
            "--dev",
            "/dev",
            "--ro-bind",
            "/nonexistent",
            "/x",
            "--",
            "true",
        ]);
        let (code, info, json, _) = reports(bin, &args);
        assert_eq!(code, 1, "{name}");
        assert!(info.contains("\"child-pid\": "), "{name}: {info:?}");
        assert!(
            json.contains("\"child-pid\": ") && !json.contains("exit-code"),
            "{name}: {json:?}"
        );
    }
}
