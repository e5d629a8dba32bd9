//! Filesystem operations, checked from inside real sandboxes (and from the
//! host afterwards) as an unprivileged user.
mod common;
use common::*;

use std::collections::BTreeSet;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// `src` bound three ways on a tmpfs /tmp: `--bind` on /tmp/rw, `--ro-bind`
/// on /tmp/ro, `--dev-bind` on /tmp/dv; the output of SCRIPT.
fn bound_three_ways(src: &Path, script: &str) -> String {
    let src = s(src);
    ok(&ro_root(
        &[
            "--tmpfs",
            "/tmp",
            "--bind",
            &src,
            "/tmp/rw",
            "--ro-bind",
            &src,
            "/tmp/ro",
            "--dev-bind",
            &src,
            "/tmp/dv",
        ],
        script,
    ))
}

/// The per-mount options, fs type and super options of the topmost mount at `point` in a `/proc/self/mountinfo` dump.
fn mount_at(mountinfo: &str, point: &str) -> (String, String, String) {
    let line = mountinfo
        .lines()
        .rfind(|l| l.split(' ').nth(4) == Some(point))
        .unwrap_or_else(|| panic!("no mount at {point} in:\n{mountinfo}"));
    let f: Vec<&str> = line.split(' ').collect();
    let sep = f
        .iter()
        .position(|x| *x == "-")
        .expect("mountinfo separator");
    (
        f[5].to_string(),
        f[sep + 1].to_string(),
        f.get(sep + 3).unwrap_or(&"").to_string(),
    )
}

fn opts(list: &str) -> BTreeSet<&str> {
    list.split(',').collect()
}

/// A readable fd holding `data` (a file in `dir`).
fn data_fd(dir: &Path, name: &str, data: &str) -> OwnedFd {
    let p = dir.join(name);
    std::fs::write(&p, data).expect("write data file");
    std::fs::File::open(&p).expect("open data file").into()
}

#[test]
fn bind_ro_bind_dev_bind_write_access() {
    let src = scratch("bindsrc");
    let f = src.join("f");
    mkfile(&f, "host\n");
    let out = bound_three_ways(
        &src,
        "cat /tmp/ro/f; echo a > /tmp/rw/a && echo rw-ok; echo b > /tmp/dv/b && echo dv-ok; \
         (echo c > /tmp/ro/c) 2>&1; cat /tmp/ro/a",
    );
    assert!(out.starts_with("host\n"), "{out}");
    assert!(out.contains("rw-ok") && out.contains("dv-ok"), "{out}");
    assert!(
        out.contains("Read-only file system"),
        "writing a --ro-bind must fail with EROFS: {out}"
    );
    assert!(
        out.ends_with("a\n"),
        "ro view shows the write made through the rw bind: {out}"
    );
    assert_eq!(
        std::fs::read_to_string(src.join("a")).expect("host sees rw write"),
        "a\n"
    );
    assert!(src.join("b").exists());
    assert!(!src.join("c").exists());
}

#[test]
fn try_forms_skip_missing_sources() {
    let missing = "/nonexistent-sandwrap-src";
    let out = ok(&ro_root(
        &[
            "--tmpfs",
            "/tmp",
            "--bind-try",
            missing,
            "/tmp/a",
            "--ro-bind-try",
            missing,
            "/tmp/b",
            "--dev-bind-try",
            missing,
            "/tmp/c",
        ],
        "ls -A /tmp; echo end",
    ));
    assert_eq!(out, "end\n", "skipped -try binds must create nothing");
    // A -try bind of an existing source still binds.
    let out = ok(&ro_root(
        &["--tmpfs", "/tmp", "--ro-bind-try", "/etc", "/tmp/etc"],
        "test -d /tmp/etc/. && ls /tmp",
    ));
    assert_eq!(out, "etc\n");
}

#[test]
fn missing_sources_fail_with_bwrap_message() {
    for opt in ["--bind", "--ro-bind", "--dev-bind"] {
        let err = fails(&ro_root(
            &[opt, "/nonexistent-sandwrap-src/x", "/tmp/a"],
            "echo ran",
        ));
        assert_eq!(
            err,
            "sandwrap: Can't find source path /nonexistent-sandwrap-src/x: No such file or directory\n"
        );
    }
}

#[test]
fn ro_bind_is_read_only_on_every_submount() {
    let dir = scratch("rosub");
    let d = s(&dir);
    // The scratch dir is writable for the test user on the host; /proc is a
    // separate mount under /, and /proc/self/comm is writable by its owner.
    let out = ok(&ro_root(
        &[],
        &format!("(touch {d}/x) 2>&1; (echo n > /proc/self/comm) 2>&1; echo done"),
    ));
    assert_eq!(out.matches("Read-only file system").count(), 2, "{out}");
    assert!(!dir.join("x").exists());
    // /dev/shm is a world-writable submount of /dev on most hosts.
    let host = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    if host
        .lines()
        .any(|l| l.split(' ').nth(4) == Some("/dev/shm"))
    {
        let name = format!("sandwrap-rosub-{}", std::process::id());
        let out = ok(&ro_root(
            &[],
            &format!("(touch /dev/shm/{name}) 2>&1; echo done"),
        ));
        assert!(out.contains("Read-only file system"), "{out}");
        assert!(!Path::new("/dev/shm").join(&name).exists());
    } else {
        skip!("no /dev/shm mount on this host: skipping its part");
    }
    // Every mount the sandbox sees under --ro-bind / / is read-only.
    let mi = ok(&ro_root(&[], "cat /proc/self/mountinfo"));
    for line in mi.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        assert!(
            opts(f[5]).contains("ro"),
            "writable mount under --ro-bind / /: {line}"
        );
        assert!(
            opts(f[5]).contains("nosuid") && opts(f[5]).contains("nodev"),
            "{line}"
        );
    }
}

#[test]
fn ro_bind_of_root_shows_host_tmp() {
    // The new root is built on a tmpfs attached over /tmp during setup; it
    // must not show up inside a bind of / (or of /tmp).
    let dir = scratch("hosttmp");
    std::fs::write(dir.join("marker"), "m").expect("write");
    let out = ok(&ro_root(&[], &format!("cat {}/marker", s(&dir))));
    assert_eq!(out, "m");
    let out = ok(&ro_root(
        &["--ro-bind", "/tmp", "/mnt"],
        &format!("cat /mnt/{}/marker", s(&dir).trim_start_matches("/tmp/")),
    ));
    assert_eq!(out, "m");
}

#[test]
fn bind_flags_in_mountinfo() {
    let src = scratch("flags");
    let mi = bound_three_ways(&src, "cat /proc/self/mountinfo");
    let (rw, ..) = mount_at(&mi, "/tmp/rw");
    let (ro, ..) = mount_at(&mi, "/tmp/ro");
    let (dv, ..) = mount_at(&mi, "/tmp/dv");
    let (rw, ro, dv) = (opts(&rw), opts(&ro), opts(&dv));
    assert!(
        rw.contains("rw") && rw.contains("nosuid") && rw.contains("nodev"),
        "{rw:?}"
    );
    assert!(
        ro.contains("ro") && ro.contains("nosuid") && ro.contains("nodev"),
        "{ro:?}"
    );
    assert!(
        dv.contains("rw") && dv.contains("nosuid") && !dv.contains("nodev"),
        "{dv:?}"
    );
    let (root, fstype, _) = mount_at(&mi, "/tmp");
    assert_eq!(fstype, "tmpfs");
    assert!(
        opts(&root).contains("nosuid") && opts(&root).contains("nodev"),
        "{root}"
    );
}

#[test]
fn dev_bind_keeps_devices_usable_and_bind_does_not() {
    let out = ok(&ro_root(
        &["--dev-bind", "/dev", "/dev"],
        "echo x > /dev/null && head -c 3 /dev/zero | wc -c",
    ));
    assert_eq!(out.trim(), "3");
    let out = ok(&ro_root(
        &["--bind", "/dev", "/dev"],
        "(echo x > /dev/null) 2>&1; (head -c 3 /dev/zero) 2>&1; echo end",
    ));
    assert_eq!(
        out.matches("Permission denied").count(),
        2,
        "devices under --bind must be unusable: {out}"
    );
    // --ro-bind / / alone: the host /dev is nodev too (bwrap issue #125).
    let out = ok(&ro_root(&[], "(cat /dev/null) 2>&1; echo end"));
    assert!(out.contains("Permission denied"), "{out}");
}

#[test]
fn remount_ro() {
    let out = ok(&ro_root(
        &["--tmpfs", "/tmp", "--dir", "/tmp/d", "--remount-ro", "/tmp"],
        "(touch /tmp/x) 2>&1; (touch /tmp/d/x) 2>&1; grep ' /tmp ' /proc/self/mountinfo",
    ));
    assert_eq!(out.matches("Read-only file system").count(), 2, "{out}");
    let (o, ..) = mount_at(&out, "/tmp");
    assert!(opts(&o).contains("ro"), "{o}");
    // DEST must be a mount point, as in bwrap.
    let err = fails(&ro_root(
        &[
            "--tmpfs",
            "/tmp",
            "--dir",
            "/tmp/d",
            "--remount-ro",
            "/tmp/d",
        ],
        "true",
    ));
    // bwrap names the paths as its own mount namespace sees them.
    assert_eq!(
        err,
        "sandwrap: Can't remount readonly on /newroot/tmp/d: Unable to find \"/newroot/tmp/d\" in mount table\n"
    );
    // Not recursive: a mount below stays writable.
    let out = ok(&ro_root(
        &[
            "--tmpfs",
            "/tmp",
            "--tmpfs",
            "/tmp/sub",
            "--remount-ro",
            "/tmp",
        ],
        "touch /tmp/sub/x && echo sub-rw",
    ));
    assert_eq!(out, "sub-rw\n");
    // A missing destination is an error.
    let err = fails(&ro_root(
        &["--tmpfs", "/tmp", "--remount-ro", "/tmp/nope"],
        "true",
    ));
    assert_eq!(
        err,
        "sandwrap: Can't remount readonly on /newroot/tmp/nope: realpath(destination): No such file or directory\n"
    );
}

#[test]
fn tmpfs_perms_and_size() {
    let out = ok(&ro_root(
        &[
            "--tmpfs", "/tmp", "--perms", "0700", "--size", "1048576", "--tmpfs", "/tmp/t",
            "--tmpfs", "/tmp/u",
        ],
        "stat -c %a /tmp/t /tmp/u; df -B1 --output=size /tmp/t | tail -n1; cat /proc/self/mountinfo",
    ));
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("700"));
    assert_eq!(lines.next(), Some("755"), "default tmpfs mode");
    assert_eq!(lines.next().map(str::trim), Some("1048576"));
    let (_, fstype, sup) = mount_at(&out, "/tmp/t");
    assert_eq!(fstype, "tmpfs");
    let sup = opts(&sup);
    assert!(
        sup.contains("size=1024k") && sup.contains("mode=700"),
        "{sup:?}"
    );
    // --size takes 0x/0 prefixes like strtoull.
    let out = ok(&ro_root(
        &["--size", "0x200000", "--tmpfs", "/tmp"],
        "df -B1 --output=size /tmp | tail -n1",
    ));
    assert_eq!(out.trim(), "2097152");
}

#[test]
fn later_mounts_stack_on_earlier_ones() {
    let src = scratch("stack");
    std::fs::write(src.join("f"), "x").expect("write");
    let s_ = s(&src);
    let out = ok(&ro_root(
        &[
            "--tmpfs", "/tmp", "--bind", &s_, "/tmp/a", "--tmpfs", "/tmp/a",
        ],
        "ls -A /tmp/a; echo end",
    ));
    assert_eq!(out, "end\n");
    let out = ok(&ro_root(
        &[
            "--tmpfs", "/tmp", "--tmpfs", "/tmp/a", "--bind", &s_, "/tmp/a",
        ],
        "ls -A /tmp/a",
    ));
    assert_eq!(out, "f\n");
}

#[test]
fn proc_is_new_with_pid_namespace_and_host_bind_without() {
    let me = std::process::id();
    let script = format!(
        "test -d /proc/{me} && echo sees-host; ls -d /proc/[0-9]* | wc -l; grep ' /proc ' /proc/self/mountinfo"
    );
    let out = ok(&ro_root(&["--unshare-pid", "--proc", "/proc"], &script));
    assert!(!out.contains("sees-host"), "{out}");
    let count: usize = out
        .lines()
        .next()
        .expect("count")
        .trim()
        .parse()
        .expect("number");
    assert!(count <= 5, "a new pid namespace has few pids, got {count}");
    let (o, fstype, _) = mount_at(&out, "/proc");
    assert_eq!(fstype, "proc");
    assert!(
        opts(&o).is_superset(&["nosuid", "nodev", "noexec"].into_iter().collect()),
        "{o}"
    );

    let out = ok(&ro_root(&["--proc", "/proc"], &script));
    assert!(
        out.starts_with("sees-host\n"),
        "without a pid namespace /proc is the host's: {out}"
    );
    let (_, fstype, _) = mount_at(&out, "/proc");
    assert_eq!(fstype, "proc");
}

#[test]
fn dev_contents() {
    let out = ok(&ro_root(
        &["--dev", "/dev"],
        "cd /dev; for n in null zero full random urandom tty; do test -c $n && echo c:$n; done; \
         for l in stdin stdout stderr fd core ptmx; do echo $l=$(readlink $l); done; \
         test -d shm && ! test -L shm && echo shm-dir; stat -f -c %T pts; \
         echo x > null && head -c 4 urandom | wc -c; ls -A | sort | tr '\\n' ' '",
    ));
    for n in ["null", "zero", "full", "random", "urandom", "tty"] {
        assert!(out.contains(&format!("c:{n}\n")), "{n} missing: {out}");
    }
    for (l, t) in [
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("fd", "/proc/self/fd"),
        ("core", "/proc/kcore"),
        ("ptmx", "pts/ptmx"),
    ] {
        assert!(out.contains(&format!("{l}={t}\n")), "{l}: {out}");
    }
    assert!(
        out.contains("shm-dir\n") && out.contains("devpts\n") && out.contains("\n4\n"),
        "{out}"
    );
    // stdout is a pipe here, so there is no console.
    assert!(
        out.ends_with(
            "core fd full null ptmx pts random shm stderr stdin stdout tty urandom zero "
        ),
        "{out}"
    );
    let mi = ok(&ro_root(&["--dev", "/dev"], "cat /proc/self/mountinfo"));
    let (o, fstype, sup) = mount_at(&mi, "/dev/pts");
    assert_eq!(fstype, "devpts");
    assert!(
        opts(&o).contains("noexec") && opts(&o).contains("nosuid"),
        "{o}"
    );
    assert!(
        opts(&sup).contains("ptmxmode=666") && opts(&sup).contains("mode=620"),
        "{sup}"
    );
    let (o, ..) = mount_at(&mi, "/dev/null");
    assert!(
        !opts(&o).contains("nodev"),
        "device nodes must stay usable: {o}"
    );
}

#[test]
fn mqueue_with_ipc_namespace() {
    let out = ok(&ro_root(
        &["--unshare-ipc", "--dev", "/dev", "--mqueue", "/dev/mqueue"],
        "stat -f -c %T /dev/mqueue; ls -A /dev/mqueue; grep -c mqueue /proc/self/mountinfo",
    ));
    assert_eq!(out, "mqueue\n1\n");
}

#[test]
fn dir_perms_and_parent_modes() {
    let out = ok(&ro_root(
        &[
            "--tmpfs",
            "/tmp",
            "--perms",
            "0700",
            "--dir",
            "/tmp/a/b/c",
            "--perms",
            "0750",
            "--dir",
            "/tmp/g/h",
            "--perms",
            "0705",
            "--dir",
            "/tmp/o/p",
            "--dir",
            "/tmp/d/e",
            "--perms",
            "01777",
            "--dir",
            "/tmp/s",
        ],
        "stat -c '%n %a' /tmp/a /tmp/a/b /tmp/a/b/c /tmp/g /tmp/g/h /tmp/o /tmp/o/p /tmp/d /tmp/d/e /tmp/s",
    ));
    assert_eq!(
        out,
        "/tmp/a 700\n/tmp/a/b 700\n/tmp/a/b/c 700\n/tmp/g 750\n/tmp/g/h 750\n/tmp/o 705\n/tmp/o/p 705\n/tmp/d 755\n/tmp/d/e 755\n/tmp/s 1777\n"
    );
    // An existing directory keeps its mode.
    let out = ok(&ro_root(
        &[
            "--tmpfs", "/tmp", "--perms", "0700", "--dir", "/tmp/x", "--perms", "0755", "--dir",
            "/tmp/x", "--dir", "/usr",
        ],
        "stat -c %a /tmp/x",
    ));
    assert_eq!(out, "700\n");
    let err = fails(&ro_root(
        &[
            "--tmpfs",
            "/tmp",
            "--symlink",
            "x",
            "/tmp/l",
            "--file",
            "0",
            "/tmp/f",
            "--dir",
            "/tmp/f",
        ],
        "true",
    ));
    assert_eq!(err, "sandwrap: Can't mkdir /tmp/f: Not a directory\n");
}

#[test]
fn symlinks() {
    let out = ok(&ro_root(
        &[
            "--tmpfs",
            "/tmp",
            "--symlink",
            "../etc/hostname",
            "/tmp/a/l",
            "--symlink",
            "../etc/hostname",
            "/tmp/a/l",
        ],
        "readlink /tmp/a/l; stat -c %a /tmp/a",
    ));
    // Parents of ops without a mode get 0700, as bwrap makes them.
    assert_eq!(out, "../etc/hostname\n700\n");
    let err = fails(&ro_root(
        &[
            "--tmpfs",
            "/tmp",
            "--symlink",
            "one",
            "/tmp/l",
            "--symlink",
            "two",
            "/tmp/l",
        ],
        "true",
    ));
    assert_eq!(
        err,
        "sandwrap: Can't make symlink at /tmp/l: existing destination is one\n"
    );
    let err = fails(&ro_root(
        &[
            "--tmpfs",
            "/tmp",
            "--dir",
            "/tmp/d",
            "--symlink",
            "two",
            "/tmp/d",
        ],
        "true",
    ));
    assert_eq!(
        err,
        "sandwrap: Can't make symlink at /tmp/d: destination exists and is not a symlink\n"
    );
}

#[test]
fn chmod() {
    let out = ok(&ro_root(
        &[
            "--tmpfs",
            "/tmp",
            "--dir",
            "/tmp/d",
            "--chmod",
            "0711",
            "/tmp/d",
            "--symlink",
            "d",
            "/tmp/l",
            "--chmod",
            "0700",
            "/tmp/l",
        ],
        "stat -c %a /tmp/d; stat -c %A /tmp/l",
    ));
    // chmod follows the symlink (inside the root).
    assert_eq!(out, "700\nlrwxrwxrwx\n");
    let err = fails(&ro_root(
        &["--tmpfs", "/tmp", "--chmod", "0755", "/tmp/nope"],
        "true",
    ));
    assert_eq!(
        err,
        "sandwrap: Can't chmod 0755 /tmp/nope: No such file or directory\n"
    );
}

#[test]
fn file_from_fd() {
    let dir = scratch("filefd");
    let args = ro_root(
        &[
            "--tmpfs", "/tmp", "--file", "10", "/tmp/a/f", "--perms", "0640", "--file", "11",
            "/tmp/g",
        ],
        "cat /tmp/a/f /tmp/g; stat -c %a /tmp/a/f /tmp/g; echo more >> /tmp/a/f && echo writable",
    );
    let (code, out, err) = run_with_fds(
        &args,
        vec![
            (10, data_fd(&dir, "d1", "one\n")),
            (11, data_fd(&dir, "d2", "two\n")),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "one\ntwo\n666\n640\nwritable\n");
}

#[test]
fn bind_data() {
    let dir = scratch("binddata");
    let args = ro_root(
        &[
            "--tmpfs",
            "/tmp",
            "--bind-data",
            "10",
            "/tmp/rw",
            "--perms",
            "0644",
            "--ro-bind-data",
            "11",
            "/tmp/ro",
        ],
        "cat /tmp/rw /tmp/ro; stat -c %a /tmp/rw /tmp/ro; echo x >> /tmp/rw && echo rw-ok; (echo x >> /tmp/ro) 2>&1; \
         grep -E ' /tmp/r[wo] ' /proc/self/mountinfo | cut -d' ' -f5,6; ls -A /tmp",
    );
    let (code, out, err) = run_with_fds(
        &args,
        vec![
            (10, data_fd(&dir, "d1", "data-rw\n")),
            (11, data_fd(&dir, "d2", "data-ro\n")),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let mut l = out.lines();
    assert_eq!(l.next(), Some("data-rw"));
    assert_eq!(l.next(), Some("data-ro"));
    assert_eq!(l.next(), Some("600"), "default --bind-data mode");
    assert_eq!(l.next(), Some("644"));
    assert_eq!(l.next(), Some("rw-ok"));
    assert!(
        l.next()
            .is_some_and(|x| x.contains("Read-only file system")),
        "{out}"
    );
    let rest: Vec<&str> = l.collect();
    assert!(rest.iter().any(|x| x.starts_with("/tmp/rw rw,")), "{out}");
    assert!(rest.iter().any(|x| x.starts_with("/tmp/ro ro,")), "{out}");
    assert_eq!(
        &rest[rest.len() - 2..],
        ["ro", "rw"],
        "no hidden temp files left: {out}"
    );
}

#[test]
fn bind_onto_symlink_follows_it_inside_the_root() {
    let src = scratch("symdest");
    std::fs::write(src.join("f"), "via-link").expect("write");
    let s_ = s(&src);
    let out = ok(&ro_root(
        &[
            "--tmpfs",
            "/tmp",
            "--dir",
            "/tmp/real",
            "--symlink",
            "real",
            "/tmp/rel",
            "--bind",
            &s_,
            "/tmp/rel",
            "--dir",
            "/tmp/real2",
            "--symlink",
            "/tmp/real2",
            "/tmp/abs",
            "--ro-bind",
            &s_,
            "/tmp/abs",
        ],
        "cat /tmp/real/f; echo; cat /tmp/real2/f; echo; readlink /tmp/rel /tmp/abs",
    ));
    assert_eq!(out, "via-link\nvia-link\nreal\n/tmp/real2\n");
}

#[test]
fn parents_of_mount_points_get_bwrap_modes() {
    let src = scratch("parents");
    let s_ = s(&src);
    let out = ok(&ro_root(
        &[
            "--tmpfs",
            "/tmp",
            "--bind",
            &s_,
            "/tmp/p1/p2/d",
            "--ro-bind",
            "/etc/hostname",
            "/tmp/q1/f",
            "--tmpfs",
            "/tmp/r1/t",
        ],
        "stat -c '%n %a' /tmp/p1 /tmp/p1/p2 /tmp/q1 /tmp/r1",
    ));
    // bwrap derives parent modes from the op's mode, which is 0 for binds
    // (so 0700) and 0755 for a --tmpfs without --perms.
    assert_eq!(
        out,
        "/tmp/p1 700\n/tmp/p1/p2 700\n/tmp/q1 700\n/tmp/r1 755\n"
    );
}

#[test]
fn shadow_stays_unreadable() {
    let shadow = Path::new("/etc/shadow");
    let Ok(meta) = std::fs::metadata(shadow) else {
        skip!("no /etc/shadow here: skipping");
        return;
    };
    if meta.permissions().mode() & 0o004 != 0 || (!is_root() && std::fs::File::open(shadow).is_ok())
    {
        skip!("/etc/shadow is readable by the test user: skipping");
        return;
    }
    let out = ok(&ro_root(
        &["--tmpfs", "/tmp", "--ro-bind", "/etc/shadow", "/tmp/shadow"],
        "(cat /tmp/shadow) 2>&1; echo end",
    ));
    assert!(
        out.contains("Permission denied") && out.ends_with("end\n"),
        "{out}"
    );
}

#[test]
fn mount_points_on_host_paths_stay_with_bwrap_modes_and_nothing_else() {
    let dir = scratch("hostmp");
    let d = s(&dir);
    let data = scratch("hostmp-data");
    let args = ro_root(
        &[
            "--bind",
            &d,
            &d,
            "--ro-bind",
            "/etc/hostname",
            &format!("{d}/file"),
            "--ro-bind",
            "/usr",
            &format!("{d}/dir"),
            "--tmpfs",
            &format!("{d}/tmp"),
            "--ro-bind-data",
            "10",
            &format!("{d}/data"),
            "--perms",
            "0700",
            "--tmpfs",
            &format!("{d}/deep/er/t"),
        ],
        &format!("test -f {d}/dir/bin/sh && test -s {d}/file && echo inside-ok"),
    );
    let (code, out, err) = run_with_fds(&args, vec![(10, data_fd(&data, "x", "payload"))]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "inside-ok\n");
    let mut seen = Vec::new();
    for entry in walk(&dir) {
        let m = std::fs::symlink_metadata(&entry).expect("stat");
        let rel = entry
            .strip_prefix(&dir)
            .expect("prefix")
            .display()
            .to_string();
        seen.push(format!(
            "{rel} {:o} {}",
            m.mode() & 0o7777,
            if m.is_dir() {
                "d".into()
            } else {
                format!("f{}", m.size())
            }
        ));
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "data 444 f0",
            "deep 700 d",
            "deep/er 700 d",
            "deep/er/t 755 d",
            "dir 755 d",
            "file 444 f0",
            "tmp 755 d"
        ],
        "host view after the sandbox"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let p = e.expect("entry").path();
        if std::fs::symlink_metadata(&p).expect("stat").is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

#[test]
fn sources_given_as_fds() {
    // A source path through /dev/fd/N or /proc/self/fd/N, and --bind-fd /
    // --ro-bind-fd: the fds come from the caller's mount namespace.
    let dir = scratch("fdsrc");
    std::fs::write(dir.join("inner"), "in-dir").expect("write");
    let dirfd: OwnedFd = std::fs::File::open(&dir).expect("open dir").into();
    let dirfd2: OwnedFd = std::fs::File::open(&dir).expect("open dir").into();
    let args = ro_root(
        &[
            "--tmpfs",
            "/tmp",
            "--ro-bind",
            "/dev/fd/10",
            "/tmp/a",
            "--ro-bind",
            "/proc/self/fd/10",
            "/tmp/b",
            "--bind-fd",
            "11",
            "/tmp/c",
            "--ro-bind-fd",
            "12",
            "/tmp/d",
        ],
        "cat /tmp/a; echo; cat /tmp/b; echo; cat /tmp/c/inner; echo; echo w > /tmp/c/w && echo c-rw; (echo w > /tmp/d/x) 2>&1; true",
    );
    let (code, out, err) = run_with_fds(
        &args,
        vec![
            (10, data_fd(&dir, "data", "via-fd")),
            (11, dirfd),
            (12, dirfd2),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(&l[..4], ["via-fd", "via-fd", "in-dir", "c-rw"], "{out}");
    assert!(l[4].contains("Read-only file system"), "{out}");
    assert!(dir.join("w").exists());
    // A pipe has no path to bind, as with bwrap's realpath.
    let (r, w) = std::io::pipe().expect("pipe");
    drop(w);
    let (code, _, err) = run_with_fds(
        &ro_root(&["--ro-bind", "/dev/fd/10", "/tmp/a"], "true"),
        vec![(10, r.into())],
    );
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "sandwrap: Can't find source path /dev/fd/10: No such file or directory\n"
        )
    );
    let (code, _, err) = run(&ro_root(&["--bind-fd", "57", "/tmp/a"], "true"));
    // bwrap's realpath("/proc/self/fd/57") fails first.
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "sandwrap: Can't find source path /proc/self/fd/57: No such file or directory\n"
        )
    );
}

#[test]
fn errors_use_bwrap_wording_and_verbose_names_the_failed_call() {
    let args = |verbose: bool| {
        let mut v: Vec<&str> = if verbose { vec!["--verbose"] } else { vec![] };
        v.extend([
            "--ro-bind",
            "/",
            "/",
            "--dir",
            "/usr/sandwrap-no-such-dir",
            "true",
        ]);
        v
    };
    let (code, _, err) = run(&args(false));
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "sandwrap: Can't mkdir /usr/sandwrap-no-such-dir: Read-only file system\n"
        )
    );
    let (code, _, err) = run(&args(true));
    assert_eq!(code, 1);
    assert_eq!(
        err.lines().collect::<Vec<_>>(),
        [
            "sandwrap: Can't mkdir /usr/sandwrap-no-such-dir: Read-only file system",
            "sandwrap: failed call: mkdir \"sandwrap-no-such-dir\": Read-only file system",
        ]
    );
}
