//! The path for kernels without mount_setattr (Linux < 5.12), forced with
//! SANDWRAP_MOUNT_API=legacy: binds are attached, then each of their mounts
//! is remounted with the flags it must have.
mod common;
use common::*;

fn legacy<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (i32, String, String) {
    let mut cmd = sandwrap(args);
    cmd.env("SANDWRAP_MOUNT_API", "legacy");
    let o = output(cmd);
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

/// `(mount point, per-mount options)` of every mount the sandbox can reach.
/// A mount covered by another one on the same place is left out: remounting
/// by path (all that Linux < 5.12 offers) only reaches the top one, as in
/// bwrap; the covered one cannot be reached without unmounting the top,
/// which needs capabilities the command does not have.
fn mounts(args: &[&str]) -> Vec<(String, String)> {
    let mut v = args.to_vec();
    v.extend(["--", "cat", "/proc/self/mountinfo"]);
    let (code, out, err) = legacy(&v);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<Vec<String>> = out
        .lines()
        .map(|l| l.split(' ').map(str::to_string).collect())
        .collect();
    let covered = |l: &Vec<String>| lines.iter().any(|o| o[1] == l[0] && o[4] == l[4]);
    lines
        .iter()
        .filter(|l| !covered(l))
        .map(|l| (l[4].clone(), l[5].clone()))
        .collect()
}

fn has(opts: &str, flag: &str) -> bool {
    opts.split(',').any(|o| o == flag)
}

#[test]
fn ro_bind_makes_every_submount_read_only_nosuid_nodev() {
    let seen = mounts(&["--ro-bind", "/", "/"]);
    assert!(seen.len() > 1, "expected the host's submounts: {seen:?}");
    for (mp, opts) in &seen {
        assert!(
            has(opts, "ro") && has(opts, "nosuid") && has(opts, "nodev"),
            "{mp}: {opts}"
        );
    }
}

#[test]
fn bind_is_writable_nosuid_nodev_and_dev_bind_keeps_devices() {
    let dir = scratch("legacy");
    let d = dir.to_str().expect("utf-8");
    let seen = mounts(&[
        "--ro-bind",
        "/",
        "/",
        "--bind",
        d,
        d,
        "--dev-bind",
        "/dev/null",
        "/dev/null",
    ]);
    let opts = |p: &str| {
        seen.iter()
            .rev()
            .find(|(mp, _)| mp == p)
            .map(|(_, o)| o.clone())
            .expect(p)
    };
    let scratch_opts = opts(d);
    assert!(
        has(&scratch_opts, "rw") && has(&scratch_opts, "nosuid") && has(&scratch_opts, "nodev"),
        "{scratch_opts}"
    );
    let null_opts = opts("/dev/null");
    assert!(
        has(&null_opts, "nosuid") && !has(&null_opts, "nodev"),
        "{null_opts}"
    );
    let (code, out, err) = legacy(&ro_root(
        &["--bind", d, d, "--dev", "/dev"],
        &format!("echo ok > {d}/f && cat {d}/f && cat /dev/null && echo null-ok"),
    ));
    assert_eq!((code, out.as_str()), (0, "ok\nnull-ok\n"), "{err}");
}

#[test]
fn a_bind_over_an_earlier_one_restricts_only_its_own_tree() {
    // The earlier read-only bind of / stays read-only under the new one, and
    // the writable bind on top is writable: each remount hits its own tree.
    let dir = scratch("legacy-stack");
    let d = dir.to_str().expect("utf-8");
    let (code, out, err) = legacy(&ro_root(
        &["--bind", d, "/mnt"],
        "echo w > /mnt/f && cat /mnt/f; touch /etc/sandwrap-legacy 2>/dev/null || echo etc-ro",
    ));
    assert_eq!((code, out.as_str()), (0, "w\netc-ro\n"), "{err}");
    assert_eq!(read_text(&dir.join("f")), "w\n");
}

#[test]
fn remount_ro_without_mount_setattr() {
    let dir = scratch("legacy-remount");
    let d = dir.to_str().expect("utf-8");
    let (code, out, err) = legacy(&ro_root(
        &["--bind", d, "/mnt", "--remount-ro", "/mnt"],
        "touch /mnt/f 2>/dev/null || echo ro",
    ));
    assert_eq!((code, out.as_str()), (0, "ro\n"), "{err}");
}
