//! Overlays: `--overlay-src` layers under `--overlay`, `--tmp-overlay` and
//! `--ro-overlay`, as an unprivileged user (overlayfs with `userxattr`).
mod common;

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;

fn mkdir(path: &Path) -> PathBuf {
    std::fs::create_dir_all(path).expect("mkdir");
    give(path);
    path.to_path_buf()
}

/// Whether the test user can mount overlayfs with `userxattr` in a user
/// namespace here, checked with util-linux `unshare` (not with sandwrap, so
/// a sandwrap bug cannot skip the tests). Prints why not.
fn overlay_available() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        let dir = scratch("overlay-probe");
        let (l, u, w, m) = (mkdir(&dir.join("l")), mkdir(&dir.join("u")), mkdir(&dir.join("w")), mkdir(&dir.join("m")));
        mkfile(&l.join("f"), "probe\n");
        let script = format!(
            "mount -t overlay overlay -o lowerdir={},upperdir={},workdir={},userxattr {} && cat {}/f",
            s(&l),
            s(&u),
            s(&w),
            s(&m),
            s(&m)
        );
        let mut cmd = user_command(Path::new("/usr/bin/unshare"));
        cmd.args(["-Urm", "sh", "-c", &script]);
        match cmd.output() {
            Ok(o) if o.status.success() && stdout(&o) == "probe\n" => true,
            Ok(o) => {
                skip!("skipping: unprivileged overlayfs with userxattr is unavailable here: {}", stderr(&o).trim());
                false
            }
            Err(e) => {
                skip!("skipping: cannot run unshare for the overlayfs probe: {e}");
                false
            }
        }
    })
}

/// A scratch dir for an overlay test, or None (after saying why) where
/// unprivileged overlayfs is unavailable.
fn overlay_dir(name: &str) -> Option<PathBuf> {
    overlay_available().then(|| scratch(name))
}

/// The output of a script that must succeed in a sandbox with `/`
/// read-only plus `extra`.
fn sh_ok(extra: &[String], script: &str) -> String {
    ok(&sh(&strs(extra), script))
}

/// Run a script in a sandbox with `/` read-only plus `extra`.
fn run_sh(extra: &[String], script: &str) -> (i32, String, String) {
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    run(&sh(&extra, script))
}

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn overlay_writes_land_in_rwsrc_and_persist() {
    let Some(dir) = overlay_dir("overlay-rw") else {
        return;
    };
    let (l1, l2, u, w) = (
        mkdir(&dir.join("l1")),
        mkdir(&dir.join("l2")),
        mkdir(&dir.join("upper")),
        mkdir(&dir.join("work")),
    );
    mkfile(&l1.join("a"), "l1\n");
    mkfile(&l1.join("b"), "l1b\n");
    mkfile(&l2.join("a"), "l2\n");
    let ov = args(&[
        "--overlay-src",
        &s(&l1),
        "--overlay-src",
        &s(&l2),
        "--overlay",
        &s(&u),
        &s(&w),
        "/mnt",
    ]);
    let out = sh_ok(
        &ov,
        "cat /mnt/a /mnt/b; echo new > /mnt/new; echo changed > /mnt/a; rm /mnt/b; ls /mnt",
    );
    assert_eq!(out, "l2\nl1b\na\nnew\n");
    // Writes went to RWSRC; the layers are untouched.
    assert_eq!(read_text(&u.join("new")), "new\n");
    assert_eq!(read_text(&u.join("a")), "changed\n");
    let whiteout = std::fs::symlink_metadata(u.join("b")).expect("whiteout for b");
    assert!(
        whiteout.file_type().is_char_device(),
        "b is deleted by a whiteout in the upper dir"
    );
    assert_eq!(read_text(&l1.join("a")), "l1\n");
    assert_eq!(read_text(&l1.join("b")), "l1b\n");
    assert_eq!(read_text(&l2.join("a")), "l2\n");
    assert!(!l1.join("new").exists() && !l2.join("new").exists());
    // A second sandbox sees the same state.
    let out = sh_ok(&ov, "cat /mnt/a /mnt/new; ls /mnt");
    assert_eq!(out, "changed\nnew\na\nnew\n");
}

#[test]
fn tmp_overlay_writes_vanish() {
    let Some(dir) = overlay_dir("overlay-tmp") else {
        return;
    };
    let l = mkdir(&dir.join("lower"));
    mkfile(&l.join("a"), "lower\n");
    let ov = args(&["--overlay-src", &s(&l), "--tmp-overlay", "/mnt"]);
    let out = sh_ok(
        &ov,
        "echo x > /mnt/x; echo changed > /mnt/a; cat /mnt/x /mnt/a; rm /mnt/a; ls /mnt",
    );
    assert_eq!(out, "x\nchanged\nx\n");
    assert_eq!(read_text(&l.join("a")), "lower\n");
    assert_eq!(
        std::fs::read_dir(&l).expect("ls").count(),
        1,
        "nothing new in the lower dir"
    );
    let out = sh_ok(&ov, "ls /mnt; cat /mnt/a");
    assert_eq!(out, "a\nlower\n");
    // Nothing of the scratch upper dir shows in the sandbox's root.
    let out = ok(&cmdline(
        &[
            USR_ONLY,
            &["--overlay-src", &s(&l), "--tmp-overlay", "/mnt"],
        ],
        &["ls", "-a", "/"],
    ));
    assert_eq!(out, ".\n..\nbin\nlib\nlib64\nmnt\nsbin\nusr\n");
}

#[test]
fn ro_overlay_is_read_only_and_needs_two_sources() {
    let Some(dir) = overlay_dir("overlay-ro") else {
        return;
    };
    let (l1, l2) = (mkdir(&dir.join("l1")), mkdir(&dir.join("l2")));
    mkfile(&l1.join("a"), "l1\n");
    mkfile(&l1.join("only1"), "1\n");
    mkfile(&l2.join("a"), "l2\n");
    let ov = args(&[
        "--overlay-src",
        &s(&l1),
        "--overlay-src",
        &s(&l2),
        "--ro-overlay",
        "/mnt",
    ]);
    let (code, out, err) = run_sh(
        &ov,
        "cat /mnt/a /mnt/only1; if touch /mnt/x; then echo writable; fi; echo end",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "l2\n1\nend\n");
    assert!(err.contains("Read-only file system"), "{err}");
    let (code, _, err) = run_sh(
        &args(&["--overlay-src", &s(&l1), "--ro-overlay", "/mnt"]),
        "true",
    );
    assert_eq!(
        (code, err.trim()),
        (
            1,
            "sandwrap: --ro-overlay requires at least two --overlay-src"
        )
    );
}

#[test]
fn topmost_layer_is_the_last_overlay_src() {
    let Some(dir) = overlay_dir("overlay-order") else {
        return;
    };
    let layers: Vec<PathBuf> = (1..=3).map(|i| mkdir(&dir.join(format!("l{i}")))).collect();
    for (i, l) in layers.iter().enumerate() {
        for j in 0..=i {
            mkfile(&l.join(format!("f{j}")), format!("from l{}\n", i + 1));
        }
    }
    // f0 is in all three layers, f1 in l2 and l3, f2 only in l3.
    // `--tmp-overlay /mnt` of the layers, lowest first.
    let tmp_overlay = |layers: Vec<&PathBuf>| {
        let mut ov: Vec<String> = layers
            .iter()
            .flat_map(|l| args(&["--overlay-src", &s(l)]))
            .collect();
        ov.extend(args(&["--tmp-overlay", "/mnt"]));
        ov
    };
    let out = sh_ok(
        &tmp_overlay(layers.iter().collect()),
        "cat /mnt/f0 /mnt/f1 /mnt/f2",
    );
    assert_eq!(out, "from l3\nfrom l3\nfrom l3\n");
    let out = sh_ok(
        &tmp_overlay(layers.iter().rev().collect()),
        "cat /mnt/f0 /mnt/f1 /mnt/f2",
    );
    assert_eq!(out, "from l1\nfrom l2\nfrom l3\n");
}

#[test]
fn source_names_with_overlayfs_separators() {
    let Some(dir) = overlay_dir("overlay-names") else {
        return;
    };
    // bwrap's test name, plus an upper and work dir with the same characters.
    let lower = mkdir(&dir.join("lower \":,\\"));
    let upper = mkdir(&dir.join("up,per:\\x"));
    let work = mkdir(&dir.join("wo:rk,"));
    let lower2 = mkdir(&dir.join("a:b"));
    mkfile(&lower.join("f"), "special\n");
    mkfile(&lower2.join("g"), "colon\n");
    let ov = args(&[
        "--overlay-src",
        &s(&lower),
        "--overlay-src",
        &s(&lower2),
        "--overlay",
        &s(&upper),
        &s(&work),
        "/mnt",
    ]);
    let out = sh_ok(&ov, "cat /mnt/f /mnt/g; echo w > /mnt/written");
    assert_eq!(out, "special\ncolon\n");
    assert_eq!(read_text(&upper.join("written")), "w\n");
}

#[test]
fn overlapping_layers_are_refused() {
    let Some(dir) = overlay_dir("overlay-overlap") else {
        return;
    };
    let outer = mkdir(&dir.join("outer"));
    let inner = mkdir(&outer.join("inner"));
    let (code, out, err) = run_sh(
        &args(&[
            "--overlay-src",
            &s(&outer),
            "--overlay-src",
            &s(&inner),
            "--tmp-overlay",
            "/mnt",
        ]),
        "echo ran",
    );
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(
        err.starts_with("sandwrap: Can't make overlay mount on /mnt with options "),
        "{err}"
    );
    assert!(
        err.trim_end()
            .ends_with(": Overlay directories may not overlap"),
        "{err}"
    );
    // A lower layer inside the upper dir.
    let (u, w) = (mkdir(&dir.join("u")), mkdir(&dir.join("w")));
    let in_upper = mkdir(&u.join("l"));
    let (code, _, err) = run_sh(
        &args(&[
            "--overlay-src",
            &s(&in_upper),
            "--overlay",
            &s(&u),
            &s(&w),
            "/mnt",
        ]),
        "true",
    );
    assert_eq!(code, 1);
    assert!(
        err.trim_end()
            .ends_with(": Overlay directories may not overlap"),
        "{err}"
    );
}

#[test]
fn missing_sources_are_reported() {
    let (code, _, err) = run_sh(
        &args(&[
            "--overlay-src",
            "/nonexistent-layer",
            "--tmp-overlay",
            "/mnt",
        ]),
        "true",
    );
    assert_eq!(
        (code, err.trim()),
        (
            1,
            "sandwrap: Can't find source path /nonexistent-layer: No such file or directory"
        )
    );
    let dir = scratch("overlay-missing");
    let l = mkdir(&dir.join("l"));
    let (code, _, err) = run_sh(
        &args(&[
            "--overlay-src",
            &s(&l),
            "--overlay",
            "/nonexistent-upper",
            "/tmp",
            "/mnt",
        ]),
        "true",
    );
    assert_eq!(
        (code, err.trim()),
        (
            1,
            "sandwrap: Can't find source path /nonexistent-upper: No such file or directory"
        )
    );
}

#[test]
fn parse_errors() {
    let dangling = "sandwrap: --overlay-src must be followed by another --overlay-src or one of --overlay, --tmp-overlay, or --ro-overlay";
    let cases: [(&[&str], &str); 7] = [
        (
            &["--tmp-overlay", "/mnt", "true"],
            "sandwrap: --tmp-overlay requires at least one --overlay-src",
        ),
        (
            &["--overlay", "/u", "/w", "/mnt", "true"],
            "sandwrap: --overlay requires at least one --overlay-src",
        ),
        (
            &["--ro-overlay", "/mnt", "true"],
            "sandwrap: --ro-overlay requires at least two --overlay-src",
        ),
        (
            &["--overlay-src", "/usr", "--tmpfs", "/mnt", "true"],
            dangling,
        ),
        (&["--overlay-src", "/usr", "true"], dangling),
        (&["--overlay-src", "/usr", "--", "true"], dangling),
        (
            &["--overlay-src", "/usr", "--overlay", "/u", "/w"],
            "sandwrap: --overlay takes three arguments",
        ),
    ];
    for (argv, expected) in cases {
        let (code, out, err) = run(argv);
        assert_eq!(
            (code, out.as_str(), err.trim()),
            (1, "", expected),
            "{argv:?}"
        );
    }
    // Sources are consumed by one overlay: the next needs its own.
    let (code, _, err) = run(&[
        "--overlay-src",
        "/usr",
        "--tmp-overlay",
        "/a",
        "--tmp-overlay",
        "/b",
        "true",
    ]);
    assert_eq!(
        (code, err.trim()),
        (
            1,
            "sandwrap: --tmp-overlay requires at least one --overlay-src"
        )
    );
}
