//! `--map-subids`: ids 0 → the caller, 1..=N → the caller's subordinate
//! ids, written by newuidmap/newgidmap. The test user needs a range in
//! /etc/subuid and /etc/subgid (`.ci/run` grants one).
mod common;
use common::*;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The test user's first subordinate uid and gid ranges, or a skip.
fn ranges() -> Option<((u32, u32), (u32, u32))> {
    if !Path::new("/usr/bin/newuidmap").exists() {
        skip!("skipping: newuidmap is not installed (package uidmap)");
        return None;
    }
    let uid = caller_uid();
    // SAFETY: getpwuid returns a pointer into static storage or null.
    let pw = unsafe { libc::getpwuid(uid) };
    if pw.is_null() {
        skip!("skipping: uid {uid} has no passwd entry (newuidmap needs one)");
        return None;
    }
    // SAFETY: pw_name is a valid C string while pw is.
    let name = unsafe { std::ffi::CStr::from_ptr((*pw).pw_name) }
        .to_string_lossy()
        .into_owned();
    let first = |file: &str| -> Option<(u32, u32)> {
        let text = std::fs::read_to_string(file).ok()?;
        text.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() == 3 && (f[0] == name || f[0] == uid.to_string()) {
                Some((f[1].parse().ok()?, f[2].parse().ok()?))
            } else {
                None
            }
        })
    };
    match (first("/etc/subuid"), first("/etc/subgid")) {
        (Some(u), Some(g)) if u.1 >= 2000 && g.1 >= 2000 => Some((u, g)),
        _ => {
            skip!(
                "skipping: user {name} has no subordinate range of 2000 ids (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {name})"
            );
            None
        }
    }
}

/// The ranges, a scratch directory and the path of `file` in it.
type Ranges = ((u32, u32), (u32, u32));
fn setup(name: &str, file: &str) -> Option<(Ranges, std::path::PathBuf, String)> {
    let r = ranges()?;
    let dir = scratch(name);
    let f = dir.join(file).display().to_string();
    Some((r, dir, f))
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// `/` read-only, `dir` writable, then `extra` and `sh -c SCRIPT`.
fn with_dir(dir: &Path, extra: &[&str], script: &str) -> Vec<String> {
    let d = dir.display().to_string();
    let mut v = strings(&["--ro-bind", "/", "/", "--proc", "/proc", "--bind", &d, &d]);
    v.extend(strings(extra));
    v.extend(strings(&["--", "sh", "-c", script]));
    v
}

fn norm(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn maps_show_the_caller_and_the_whole_range() {
    let Some(((us, uc), (gs, gc))) = ranges() else {
        return;
    };
    let (uid, gid) = (caller_uid(), caller_gid());
    // No --dev: the first namespace's maps, as the helpers wrote them.
    let (code, out, err) = run(&[
        "--ro-bind",
        "/",
        "/",
        "--proc",
        "/proc",
        "--map-subids",
        "sh",
        "-c",
        "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups",
    ]);
    assert_eq!(code, 0, "{err}");
    let lines = norm(&out);
    assert_eq!(&lines[..2], ["0", "0"], "{out}");
    // The first range is always the second line (more ranges may follow).
    assert!(lines.contains(&format!("0 {uid} 1")), "{out}");
    assert!(lines.contains(&format!("1 {us} {uc}")), "{out}");
    assert!(lines.contains(&format!("0 {gid} 1")), "{out}");
    assert!(lines.contains(&format!("1 {gs} {gc}")), "{out}");
    // newgidmap allows setgroups with a subordinate range (as for podman);
    // sandwrap does not deny it behind the helper's back.
    assert_eq!(lines.last().map(String::as_str), Some("allow"), "{out}");
}

#[test]
fn chown_inside_lands_on_the_subordinate_id_outside() {
    let Some((((us, _), (gs, _)), dir, f)) = setup("subids-chown", "f") else {
        return;
    };
    let (code, out, err) = run(&with_dir(
        &dir,
        &["--map-subids", "--cap-add", "CAP_CHOWN"],
        &format!("touch {f} && chown 1000:1000 {f} && stat -c %u:%g {f}"),
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "1000:1000");
    let meta = std::fs::metadata(dir.join("f")).expect("stat");
    assert_eq!(
        (meta.uid(), meta.gid()),
        (us + 999, gs + 999),
        "the host sees the mapped subordinate ids"
    );
}

#[test]
fn uid_and_gid_name_any_mapped_id_with_pid_1_and_the_nested_namespace() {
    let Some((((us, _), (gs, _)), dir, f)) = setup("subids-uid", "made") else {
        return;
    };
    // --dev: a nested user namespace; --unshare-pid: pid 1 forks.
    for extra in [
        &["--unshare-pid"][..],
        &["--dev", "/dev", "--unshare-pid"][..],
        &["--dev", "/dev"][..],
    ] {
        let _ = std::fs::remove_file(&f);
        // The directory belongs to the caller (0 inside): let 1000 write.
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777))
            .expect("chmod");
        let mut args = strings(extra);
        args.extend(strings(&["--map-subids", "--uid", "1000", "--gid", "1001"]));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run(&with_dir(
            &dir,
            &args,
            &format!("id -u; id -g; touch {f}; grep -c . /proc/self/uid_map"),
        ));
        assert_eq!(code, 0, "{extra:?}: {err}");
        let lines = norm(&out);
        assert_eq!(&lines[..2], ["1000", "1001"], "{extra:?}: {out}");
        assert_ne!(lines[2], "1", "{extra:?}: the whole range is mapped: {out}");
        let meta = std::fs::metadata(&f).expect("file made inside");
        assert_eq!((meta.uid(), meta.gid()), (us + 999, gs + 1000), "{extra:?}");
    }
}

#[test]
fn the_range_is_what_the_helpers_granted_and_no_more() {
    let Some((((us, _), _), dir, f)) = setup("subids-count", "f") else {
        return;
    };
    // Ten ids: 1..=10 mapped, 11 is not, even with every capability.
    let (code, out, err) = run(&with_dir(
        &dir,
        &[
            "--dev",
            "/dev",
            "--map-subids-count",
            "10",
            "--cap-add",
            "ALL",
        ],
        &format!(
            "cat /proc/self/uid_map; touch {f}; chown 10 {f} && echo TEN; chown 11 {f} 2>/dev/null && echo ELEVEN; true"
        ),
    ));
    assert_eq!(code, 0, "{err}");
    let lines = norm(&out);
    // Mirrored by the nested namespace --dev makes.
    assert!(lines.contains(&"1 1 10".to_string()), "{out}");
    assert!(lines.contains(&"TEN".to_string()), "{out}");
    assert!(!out.contains("ELEVEN"), "an id beyond the range: {out}");
    let meta = std::fs::metadata(dir.join("f")).expect("stat");
    assert_eq!(
        meta.uid(),
        us + 9,
        "uid 10 inside is the tenth subordinate id"
    );
    let (code, _, err) = run(&sh(&["--map-subids-count", "10", "--uid", "11"], "true"));
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "sandwrap: --uid 11 is not mapped: --map-subids maps uids 0 to 10\n"
    );
}

#[test]
fn a_count_beyond_the_range_names_the_fix() {
    let Some(((_, uc), _)) = ranges() else {
        return;
    };
    let want = (uc + 1).to_string();
    let (code, out, err) = run(&sh(&["--map-subids-count", &want], "echo RAN"));
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(
        err.starts_with(&format!("sandwrap: --map-subids-count {want}: user "))
            && err.contains(&format!("has only {uc} subordinate uids in /etc/subuid"))
            && err.contains("usermod --add-subuids 100000-")
            && err.lines().count() == 1,
        "{err}"
    );
}

/// `sandwrap --map-subids` as `uid`:`gid` (root only).
fn map_as(uid: &str, gid: &str) -> std::process::Output {
    let mut c = std::process::Command::new("setpriv");
    c.args(["--reuid", uid, "--regid", gid, "--clear-groups", "--"])
        .arg(sandwrap_bin())
        .args(["--ro-bind", "/", "/", "--map-subids", "echo", "RAN"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .current_dir("/");
    output(c)
}

#[test]
fn without_a_range_one_line_with_the_fix() {
    if !is_root() {
        skip_test("skipping: needs root to run as a user without a range (nobody)");
        return;
    }
    let has_range = std::fs::read_to_string("/etc/subuid")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("nobody:") || l.starts_with("65534:"));
    if has_range || !Path::new("/usr/bin/newuidmap").exists() {
        skip_test("skipping: nobody has a range here, or uidmap is missing");
        return;
    }
    let o = map_as("65534", "65534");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "");
    assert_eq!(
        stderr(&o),
        "sandwrap: --map-subids: no subordinate uids for user nobody in /etc/subuid: an administrator grants them with: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 nobody\n"
    );
}

/// The id helpers are looked up in absolute PATH entries only: a
/// `newuidmap` in a relative one (here `bin` under the directory sandwrap
/// is started in) is never run, and the error says the entry was refused.
#[test]
fn helpers_in_relative_path_entries_are_not_run() {
    if ranges().is_none() {
        return;
    }
    let dir = scratch("subids-relative-path");
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir bin");
    give(&bin);
    let ran = dir.join("ran");
    for helper in ["newuidmap", "newgidmap"] {
        let fake = bin.join(helper);
        mkfile(
            &fake,
            format!("#!/bin/sh\n/usr/bin/touch {}\n", ran.display()),
        );
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
    }
    give(&dir);
    let mut c = user_command(Path::new("/usr/bin/env"));
    c.current_dir(&dir)
        .arg("PATH=bin:/nonexistent")
        .arg(sandwrap_bin())
        .args(["--ro-bind", "/", "/", "--map-subids", "true"]);
    let o = output(c);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "sandwrap: --map-subids: newuidmap not found in PATH (relative entries are not searched: \"bin\"): install the uidmap package (e.g. apt-get install uidmap)\n"
    );
    assert!(!ran.exists(), "the helper in a relative PATH entry ran");
}

#[test]
fn helpers_missing_or_refusing_are_one_line() {
    if ranges().is_none() {
        return;
    }
    let mut c = user_command(Path::new("/usr/bin/env"));
    c.arg("PATH=/nonexistent").arg(sandwrap_bin()).args([
        "--ro-bind",
        "/",
        "/",
        "--map-subids",
        "echo",
        "RAN",
    ]);
    let o = output(c);
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(1), ""));
    assert_eq!(
        stderr(&o),
        "sandwrap: --map-subids: newuidmap not found in PATH: install the uidmap package (e.g. apt-get install uidmap)\n"
    );
    if !is_root() {
        return;
    }
    // A gid that is not the user's own: the helper refuses (the process is
    // not the user's); its words are passed on, on one line, and nothing
    // runs.
    let uid = test_uid().to_string();
    let other = (test_uid() + 1).to_string();
    let o = map_as(&uid, &other);
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(1), ""));
    let err = stderr(&o);
    assert!(
        err.starts_with("sandwrap: --map-subids: /usr/bin/newuidmap ")
            && err.contains("failed")
            && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn a_profile_key_and_explain() {
    if ranges().is_none() {
        return;
    }
    let home = scratch("subids-home");
    let dir = home.join(".config/sandwrap/profiles");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("ids.toml"),
        "map-subids = true\ntime-offset = \"boottime=100000\"\n",
    )
    .expect("write profile");
    for p in [
        home.join(".config"),
        home.join(".config/sandwrap"),
        dir.clone(),
        dir.join("ids.toml"),
    ] {
        give(&p);
    }
    let mut c = sandwrap([
        "--profile",
        "ids",
        "--ro-bind",
        "/",
        "/",
        "--proc",
        "/proc",
        "sh",
        "-c",
        "id -u; grep -c . /proc/self/uid_map; cut -d. -f1 /proc/uptime",
    ]);
    c.env("HOME", &home);
    let o = output(c);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines = norm(&stdout(&o));
    assert_eq!(lines[0], "0");
    assert_ne!(lines[1], "1");
    let up: i64 = lines[2].parse().expect("uptime");
    assert!(up >= 100000, "boot clock shifted: {up}");
    let mut c = sandwrap(["--profile", "ids", "--explain"]);
    c.env("HOME", &home);
    let o = output(c);
    let text = stdout(&o);
    assert!(
        text.contains("new: user, mount, time")
            && text.contains("1 and up all of the caller's subordinate ids")
            && text.contains("shifted by seconds: boottime 100000"),
        "{text}"
    );
}

#[test]
fn refused_combinations() {
    for (args, msg) in [
        (
            &["--userns", "0", "--map-subids", "true"][..],
            "sandwrap: --map-subids requires a new user namespace (--unshare-user; not --userns)\n",
        ),
        (
            &[
                "--unshare-user",
                "--info-fd",
                "1",
                "--userns-block-fd",
                "0",
                "--map-subids",
                "true",
            ][..],
            "sandwrap: --map-subids is not compatible with --userns-block-fd (both write the id maps)\n",
        ),
        (
            &["--map-subids-count", "0", "true"][..],
            "sandwrap: --map-subids-count 0: \"0\" is not a number of subordinate ids (1 to 4294967295)\n",
        ),
    ] {
        let (code, out, err) = run(args);
        assert_eq!((code, out.as_str(), err.as_str()), (1, "", msg), "{args:?}");
    }
}

/// Run `sandwrap ARGS` as the test user under a child subreaper, which
/// reaps whatever sandwrap leaves behind: (exit code, stderr, how many
/// processes of sandwrap's were left to the subreaper).
fn under_subreaper(args: &[String]) -> (i32, String, usize) {
    let script = "import ctypes, os, subprocess, sys\n\
        assert ctypes.CDLL(None).prctl(36, 1, 0, 0, 0) == 0\n\
        p = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n\
        sys.stderr.buffer.write(p.stderr)\n\
        left = 0\n\
        while True:\n    try:\n        os.wait()\n    except ChildProcessError:\n        break\n    left += 1\n\
        print(p.returncode, left)\n";
    let mut cmd = user_command(Path::new("/usr/bin/python3"));
    cmd.args(["-c", script]).arg(sandwrap_bin()).args(args);
    let o = output(cmd);
    let out = stdout(&o);
    let mut words = out
        .split_whitespace()
        .map(|w| w.parse().unwrap_or(usize::MAX));
    let code = words.next().map_or(-1, |c| c as i32);
    (code, stderr(&o), words.next().unwrap_or(usize::MAX))
}

/// A refused input costs nothing and leaves nothing: the checks that can
/// refuse it (here a hard limit above the caller's) come before the id
/// mapper is forked and before a `--bind-mkdir` directory is made. Before
/// the fix the mapper was forked first, and left to end on its own.
#[test]
fn a_refused_input_forks_no_id_mapper_and_makes_no_directory() {
    if ranges().is_none() {
        return;
    }
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid out-pointer.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    let huge = lim.rlim_max + 1;
    let rlimit = format!("nofile={huge}:{huge}");
    let dir = scratch("subids-refused");
    let made = dir.join("made").display().to_string();
    for ids in [&["--map-subids"][..], &["--unshare-user"]] {
        let mut args = strings(ids);
        args.extend(strings(&["--ro-bind", "/", "/", "--rlimit", &rlimit]));
        args.extend(strings(&["--bind-mkdir", &made, "/mnt", "true"]));
        let (code, err, left) = under_subreaper(&args);
        assert_eq!(
            (code, left),
            (1, 0),
            "{ids:?}: a process was left behind: {err}"
        );
        assert_eq!(
            err,
            format!(
                "sandwrap: --rlimit nofile={huge}: the hard limit {huge} is above the caller's hard limit {}, which only a privileged process can raise\n",
                lim.rlim_max
            ),
            "{ids:?}"
        );
        assert!(!Path::new(&made).exists(), "{ids:?}: {made} was made");
    }
}
