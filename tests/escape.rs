//! Nothing the sandbox does may reach outside it: setup never follows a
//! planted symlink out of the new root (GHSA-pxhw-h44j-8pfx), no mount
//! shows up on the host, and with --end-with-command no process outlives
//! sandwrap.
mod common;
use common::*;

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// A directory the test user can write on the host, outside /tmp (during
/// setup the host's /tmp is covered by the new root, so a victim there
/// would prove less). Removed on drop.
struct Victim(PathBuf);

impl Victim {
    fn new(tag: &str) -> Victim {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("sandwrap-victim-{}-{tag}-{n}", std::process::id());
        let base = ["/var/tmp", "/dev/shm"]
            .into_iter()
            .map(Path::new)
            .find(|b| {
                std::fs::metadata(b)
                    .is_ok_and(|m| m.is_dir() && m.permissions().mode() & 0o1777 == 0o1777)
            });
        let dir = match base {
            Some(b) => b.join(name),
            None => {
                eprintln!(
                    "neither /var/tmp nor /dev/shm is a sticky world-writable dir: victim under /tmp"
                );
                return Victim(scratch(&name));
            }
        };
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).expect("create victim");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .expect("chmod victim");
        give(&dir);
        let f = dir.join("file");
        std::fs::write(&f, "victim").expect("write victim file");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        give(&f);
        Victim(dir)
    }

    /// The victim is exactly as created: one file, modes unchanged.
    fn assert_untouched(&self, what: &str) {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read victim")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["file"],
            "{what}: something was created in the host victim dir"
        );
        let m = std::fs::metadata(&self.0).expect("stat victim");
        assert_eq!(
            m.permissions().mode() & 0o7777,
            0o755,
            "{what}: victim dir mode changed"
        );
        let f = self.0.join("file");
        let m = std::fs::metadata(&f).expect("stat victim file");
        assert_eq!(
            m.permissions().mode() & 0o7777,
            0o644,
            "{what}: victim file mode changed"
        );
        assert_eq!(
            std::fs::read_to_string(&f).expect("read"),
            "victim",
            "{what}"
        );
    }
}

impl Drop for Victim {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run `sandwrap ARGS` with fd 10 reading `data`; returns (code, stderr).
fn run_with_data(args: &[String], data_file: &Path) -> (i32, String) {
    let file: OwnedFd = std::fs::File::open(data_file).expect("open data").into();
    let raw = file.as_raw_fd();
    let mut cmd = sandwrap(args);
    // SAFETY: only dup2 between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(raw, 10) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = output(cmd);
    drop(file);
    (o.status.code().unwrap_or(-1), stderr(&o))
}

/// A small root without the host's /: the victim is not inside it.
fn minimal_root(planted: &Path) -> Vec<String> {
    let mut v: Vec<String> = ["--ro-bind", "/usr", "/usr"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for d in ["/bin", "/lib", "/lib64", "/etc"] {
        v.extend(["--ro-bind-try".to_string(), d.to_string(), d.to_string()]);
    }
    v.extend([
        "--bind".to_string(),
        planted.display().to_string(),
        "/s".to_string(),
    ]);
    v
}

#[test]
fn setup_never_follows_planted_symlinks_out_of_the_root() {
    let victim = Victim::new("links");
    let v = victim.0.display().to_string();
    let planted = scratch("planted");
    let data = scratch("planted-data").join("d");
    std::fs::write(&data, "payload").expect("write data");
    let up = "../".repeat(planted.components().count() + 2);
    let kinds = [
        ("abs", v.clone()),
        ("old", format!("/oldroot{v}")),
        ("rel", format!("{up}{}", v.trim_start_matches('/'))),
    ];
    for (name, target) in &kinds {
        symlink(target, planted.join(name)).expect("plant dir link");
        symlink(
            format!("{target}/file"),
            planted.join(format!("{name}file")),
        )
        .expect("plant file link");
        symlink(
            format!("{target}/created"),
            planted.join(format!("{name}new")),
        )
        .expect("plant dangling link");
    }
    // Make sure the links really reach the victim from the host's point of view.
    for (name, _) in &kinds[..1] {
        assert!(
            planted.join(name).join("file").exists(),
            "planted link {name} does not reach the victim"
        );
    }
    assert!(
        planted.join("rel").join("file").exists(),
        "relative link does not reach the victim"
    );

    for (name, _) in &kinds {
        let through = format!("/s/{name}");
        let ops: Vec<Vec<String>> = vec![
            vec!["--dir".into(), format!("{through}/newdir")],
            vec![
                "--perms".into(),
                "0700".into(),
                "--dir".into(),
                format!("{through}/a/b"),
            ],
            vec!["--file".into(), "10".into(), format!("{through}/newfile")],
            vec!["--symlink".into(), "x".into(), format!("{through}/newlink")],
            vec!["--tmpfs".into(), format!("{through}/newtmp")],
            vec!["--dev".into(), format!("{through}/newdev")],
            vec![
                "--ro-bind".into(),
                "/etc/hostname".into(),
                format!("{through}/newmp"),
            ],
            vec![
                "--ro-bind".into(),
                "/usr".into(),
                format!("{through}/newdmp"),
            ],
            vec![
                "--bind-data".into(),
                "10".into(),
                format!("{through}/newdata"),
            ],
            vec!["--chmod".into(), "0777".into(), through.clone()],
            vec!["--chmod".into(), "0600".into(), format!("{through}file")],
            vec!["--remount-ro".into(), through.clone()],
            // The destination itself is a dangling link into the victim.
            vec!["--file".into(), "10".into(), format!("{through}new")],
            vec!["--dir".into(), format!("{through}new")],
            vec!["--tmpfs".into(), format!("{through}new")],
            vec![
                "--ro-bind".into(),
                "/etc/hostname".into(),
                format!("{through}new"),
            ],
            vec![
                "--ro-bind-data".into(),
                "10".into(),
                format!("{through}new"),
            ],
            vec!["--symlink".into(), "x".into(), format!("{through}new/l")],
        ];
        for op in ops {
            let mut args = minimal_root(&planted);
            args.extend(op.iter().cloned());
            args.extend(["--", "/usr/bin/true"].iter().map(|s| s.to_string()));
            let (code, err) = run_with_data(&args, &data);
            victim.assert_untouched(&format!("{op:?} (exit {code}, {err:?})"));
        }
    }
}

#[test]
fn planted_links_resolve_inside_the_root() {
    // The same absolute link names a place inside the new root: setup
    // follows it there, as bwrap does for destinations.
    let victim = Victim::new("inroot");
    let v = victim.0.display().to_string();
    let planted = scratch("planted-in");
    symlink(&v, planted.join("abs")).expect("plant");
    let mut args = minimal_root(&planted);
    args.extend([
        "--tmpfs".to_string(),
        v.clone(),
        "--dir".to_string(),
        "/s/abs/made".to_string(),
    ]);
    args.extend(
        ["--", "/usr/bin/ls", "-A", &v]
            .iter()
            .map(|s| s.to_string()),
    );
    let o = output(sandwrap(&args));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "made\n");
    victim.assert_untouched("dir through a link into the root");
}

fn mountinfo_lines() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
        .expect("mountinfo")
        .lines()
        .map(String::from)
        .collect();
    v.sort();
    v
}

#[test]
fn host_never_sees_sandbox_mounts() {
    let dir = scratch("nomounts");
    let d = dir.display().to_string();
    let data = scratch("nomounts-data").join("d");
    std::fs::write(&data, "payload").expect("write");
    let before = mountinfo_lines();
    let mut args: Vec<String> = [
        "--ro-bind",
        "/",
        "/",
        "--bind",
        &d,
        &d,
        "--tmpfs",
        &format!("{d}/t"),
        "--dev",
        &format!("{d}/dev"),
        "--unshare-pid",
        "--unshare-ipc",
        "--proc",
        &format!("{d}/proc"),
        "--mqueue",
        &format!("{d}/mq"),
        "--ro-bind-data",
        "10",
        &format!("{d}/data"),
        "--remount-ro",
        &format!("{d}/t"),
        "--dev",
        "/dev",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(
        [
            "--",
            "sh",
            "-c",
            &format!("grep -c . /proc/self/mountinfo && test -c {d}/dev/null"),
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let (code, err) = run_with_data(&args, &data);
    assert_eq!(code, 0, "{err}");
    assert_eq!(mountinfo_lines(), before, "the host's mount table changed");
    // The mount points themselves are plain empty directories/files on the host.
    for sub in ["t", "dev", "proc", "mq"] {
        let p = dir.join(sub);
        assert!(
            p.is_dir() && std::fs::read_dir(&p).expect("read").next().is_none(),
            "{sub} on the host"
        );
    }
    assert_eq!(std::fs::metadata(dir.join("data")).expect("data").size(), 0);
}

/// `--end-with-command` (the default is bwrap's lifecycle, tested in
/// tests/lifecycle.rs, as are fork chains and the landlock fallback).
#[test]
fn no_background_process_outlives_sandwrap_with_end_with_command() {
    for pidns in [false, true] {
        let m = marker(if pidns { "bgpid" } else { "bg" });
        // Leave a background sleep behind, but only once it really runs.
        let script = format!(
            "ln -s \"$(command -v sleep)\" {m} || exit 9; {m} 100 & \
             while ! grep -q '^{m}' /proc/$!/cmdline 2>/dev/null; do :; done; echo started"
        );
        let mut extra = vec!["--tmpfs", "/tmp", "--end-with-command"];
        if pidns {
            extra.push("--unshare-pid");
        }
        let (code, out, err) = run(&sh(&extra, &script));
        let left = pids_with_argv0(&m);
        kill_all(&left);
        assert_eq!(
            (code, out.as_str()),
            (0, "started\n"),
            "pidns={pidns}: {err}"
        );
        assert!(
            left.is_empty(),
            "pidns={pidns}: background sleep {left:?} survived sandwrap"
        );
    }
}

#[test]
fn sigkill_of_sandwrap_kills_the_sandbox_with_end_with_command() {
    for pidns in [false, true] {
        let m = marker(if pidns { "killpid" } else { "kill" });
        let script = format!("ln -s \"$(command -v sleep)\" {m} && exec {m} 100");
        let mut extra = vec!["--tmpfs", "/tmp", "--end-with-command"];
        if pidns {
            extra.push("--unshare-pid");
        }
        let mut cmd = sandwrap(sh(&extra, &script));
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        // setpriv execs sandwrap, so the child's pid is sandwrap's.
        let mut child = cmd.spawn().expect("spawn");
        let started = wait_until("the sandboxed sleep", || !pids_with_argv0(&m).is_empty());
        // SAFETY: killing our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let _ = child.wait();
        assert!(started, "pidns={pidns}: the command never started");
        let gone = wait_until("the sandbox to die", || pids_with_argv0(&m).is_empty());
        let left = pids_with_argv0(&m);
        kill_all(&left);
        assert!(gone, "pidns={pidns}: {left:?} survived SIGKILL of sandwrap");
    }
}
