//! `--perms`, `--size` and `--overlay-src` modify the next option only.

use std::path::PathBuf;

use super::{err, spec};
use crate::spec::{FsOp, OverlayKind};

const PERMS_NOT_CONSUMED: &str = "--perms must be followed by an option that creates a file";
const SIZE_NOT_CONSUMED: &str = "--size must be followed by --tmpfs";
const OVERLAY_SRC_DANGLING: &str = "--overlay-src must be followed by another --overlay-src or one of --overlay, --tmp-overlay, or --ro-overlay";

fn p(s: &str) -> PathBuf {
    PathBuf::from(s)
}

#[test]
fn perms_applies_to_the_next_op_only() {
    let s = spec(&["--perms", "0700", "--dir", "/a", "--dir", "/b", "true"]);
    assert_eq!(
        s.ops,
        vec![
            FsOp::Dir {
                dest: p("/a"),
                perms: Some(0o700)
            },
            FsOp::Dir {
                dest: p("/b"),
                perms: None
            }
        ]
    );
    for (opt, args) in [
        ("--tmpfs", &["/x"][..]),
        ("--dir", &["/x"][..]),
        ("--file", &["3", "/x"][..]),
        ("--bind-data", &["3", "/x"][..]),
        ("--ro-bind-data", &["3", "/x"][..]),
    ] {
        let mut words = vec!["--perms", "0640", opt];
        words.extend_from_slice(args);
        words.push("true");
        let s = spec(&words);
        let perms = match &s.ops[..] {
            [
                FsOp::Tmpfs { perms, .. }
                | FsOp::Dir { perms, .. }
                | FsOp::File { perms, .. }
                | FsOp::BindData { perms, .. },
            ] => *perms,
            other => panic!("{opt}: {other:?}"),
        };
        assert_eq!(perms, Some(0o640), "{opt}");
    }
}

#[test]
fn perms_before_an_option_that_creates_no_file_is_an_error() {
    for words in [
        &["--perms", "0700", "--bind", "/a", "/b", "true"][..],
        &["--perms", "0700", "--symlink", "a", "/b", "true"][..],
        &["--perms", "0700", "--unshare-pid", "true"][..],
        &["--perms", "0700", "--proc", "/proc", "true"][..],
        &["--perms", "0700", "--dev", "/dev", "true"][..],
        // --chmod has its own mode and does not consume --perms.
        &["--perms", "0700", "--chmod", "0755", "/x", "true"][..],
    ] {
        assert_eq!(err(words), PERMS_NOT_CONSUMED, "{words:?}");
    }
}

#[test]
fn perms_errors() {
    assert_eq!(
        err(&["--perms", "0700", "--perms", "0600", "--dir", "/x", "true"]),
        "--perms given twice for the same action"
    );
    // "given twice" is checked before the value.
    assert_eq!(
        err(&["--perms", "0700", "--perms", "x", "--dir", "/x", "true"]),
        "--perms given twice for the same action"
    );
    for bad in ["", "8", "0o7", "010000", "-1", "0x7", "7 ", "abc", "-"] {
        assert_eq!(
            err(&["--perms", bad, "--dir", "/x", "true"]),
            "--perms takes an octal argument <= 07777",
            "{bad:?}"
        );
        assert_eq!(
            err(&["--chmod", bad, "/x", "true"]),
            "--chmod takes an octal argument <= 07777",
            "{bad:?}"
        );
    }
}

#[test]
fn size_applies_to_tmpfs_only() {
    let s = spec(&["--size", "1000", "--tmpfs", "/a", "--tmpfs", "/b", "true"]);
    assert_eq!(
        s.ops,
        vec![
            FsOp::Tmpfs {
                dest: p("/a"),
                perms: None,
                size: Some(1000)
            },
            FsOp::Tmpfs {
                dest: p("/b"),
                perms: None,
                size: None
            }
        ]
    );
    assert_eq!(
        err(&["--size", "1000", "--dir", "/a", "true"]),
        SIZE_NOT_CONSUMED
    );
    assert_eq!(
        err(&["--size", "1000", "--bind", "/a", "/b", "true"]),
        SIZE_NOT_CONSUMED
    );
    assert_eq!(
        err(&["--size", "1", "--size", "2", "--tmpfs", "/a", "true"]),
        "--size given twice for the same action"
    );
}

#[test]
fn perms_and_size_combine_in_either_order() {
    let want = vec![FsOp::Tmpfs {
        dest: p("/x"),
        perms: Some(0o700),
        size: Some(10),
    }];
    assert_eq!(
        spec(&["--perms", "0700", "--size", "10", "--tmpfs", "/x", "true"]).ops,
        want
    );
    assert_eq!(
        spec(&["--size", "10", "--perms", "0700", "--tmpfs", "/x", "true"]).ops,
        want
    );
    // Size, then perms, then a --dir: the dir takes perms and leaves size.
    assert_eq!(
        err(&["--size", "10", "--perms", "0700", "--dir", "/x", "true"]),
        SIZE_NOT_CONSUMED
    );
    // Perms is checked first.
    assert_eq!(
        err(&[
            "--size", "10", "--perms", "0700", "--bind", "/a", "/b", "true"
        ]),
        PERMS_NOT_CONSUMED
    );
}

#[test]
fn size_errors() {
    for bad in [
        "0",
        "00",
        "0x0",
        "",
        " 5",
        "+5",
        "-5",
        "5k",
        "0x",
        "0x+5",
        "0+5",
        "08",
        "1.5",
        "18446744073709551616",
    ] {
        assert_eq!(
            err(&["--size", bad, "--tmpfs", "/x", "true"]),
            "--size takes a non-zero number of bytes",
            "{bad:?}"
        );
    }
    for big in [
        "9223372036854775808",
        "18446744073709551615",
        "0xffffffffffffffff",
    ] {
        assert_eq!(
            err(&["--size", big, "--tmpfs", "/x", "true"]),
            "--size (for tmpfs) is limited to 9223372036854775807",
            "{big}"
        );
    }
}

#[test]
fn pending_modifiers_before_the_command_are_ignored() {
    // bwrap leaves its loop before the "next op" checks.
    for words in [
        &["--perms", "0700", "--", "true"][..],
        &["--perms", "0700", "true"][..],
        &["--size", "1", "true"][..],
        &["--size", "1", "--", "true"][..],
        &["--perms", "0700", "--size", "1", "true"][..],
    ] {
        let s = spec(words);
        assert!(s.ops.is_empty(), "{words:?}");
        assert_eq!(s.command, vec!["true"], "{words:?}");
    }
}

#[test]
fn overlay_sources_stack_in_order() {
    let s = spec(&[
        "--overlay-src",
        "/a",
        "--overlay-src",
        "/b",
        "--overlay-src",
        "/c",
        "--ro-overlay",
        "/d",
        "true",
    ]);
    assert_eq!(
        s.ops,
        vec![FsOp::Overlay {
            sources: vec![p("/a"), p("/b"), p("/c")],
            kind: OverlayKind::ReadOnly,
            dest: p("/d")
        }]
    );
    // Sources are consumed: the next overlay needs its own.
    assert_eq!(
        err(&[
            "--overlay-src",
            "/a",
            "--tmp-overlay",
            "/d",
            "--tmp-overlay",
            "/e",
            "true"
        ]),
        "--tmp-overlay requires at least one --overlay-src"
    );
}

#[test]
fn overlay_src_errors() {
    assert_eq!(
        err(&["--tmp-overlay", "/d", "true"]),
        "--tmp-overlay requires at least one --overlay-src"
    );
    assert_eq!(
        err(&["--overlay", "/u", "/w", "/d", "true"]),
        "--overlay requires at least one --overlay-src"
    );
    assert_eq!(
        err(&["--overlay-src", "/a", "--ro-overlay", "/d", "true"]),
        "--ro-overlay requires at least two --overlay-src"
    );
    assert_eq!(
        err(&["--ro-overlay", "/d", "true"]),
        "--ro-overlay requires at least two --overlay-src"
    );
    // The arity is checked before the sources.
    assert_eq!(
        err(&["--overlay", "/u", "/w"]),
        "--overlay takes three arguments"
    );
    assert_eq!(err(&["--tmp-overlay"]), "--tmp-overlay takes an argument");
    // A source followed by anything else.
    assert_eq!(
        err(&["--overlay-src", "/a", "--bind", "/a", "/b", "true"]),
        OVERLAY_SRC_DANGLING
    );
    assert_eq!(
        err(&[
            "--overlay-src",
            "/a",
            "--perms",
            "0700",
            "--tmpfs",
            "/b",
            "true"
        ]),
        OVERLAY_SRC_DANGLING
    );
    // ... or by the command (bwrap checks again after its loop).
    assert_eq!(err(&["--overlay-src", "/a", "true"]), OVERLAY_SRC_DANGLING);
    assert_eq!(
        err(&["--overlay-src", "/a", "--", "true"]),
        OVERLAY_SRC_DANGLING
    );
    assert_eq!(err(&["--overlay-src", "/a"]), OVERLAY_SRC_DANGLING);
    // bwrap has no arity check here (it reads past argv); we need one.
    assert_eq!(err(&["--overlay-src"]), "--overlay-src takes an argument");
}
