//! Parsing of sandwrap's own landlock and fallback options.

use std::ffi::OsString;

use super::Host;
use crate::cli::{CliError, Outcome, parse};
use crate::spec::{Fallback, LandlockAccess, LandlockRule, PortRange, Spec};

/// `sandwrap ARGS true`, parsed as the user would run it.
fn parsed(args: &[&str]) -> Result<Outcome, CliError> {
    let argv: Vec<OsString> = std::iter::once("sandwrap")
        .chain(args.iter().copied())
        .chain(["true"])
        .map(Into::into)
        .collect();
    parse(&argv, &mut Host::user().context())
}

fn spec(args: &[&str]) -> Spec {
    match parsed(args) {
        Ok(Outcome::Run(s)) => *s,
        other => panic!("{args:?}: {other:?}"),
    }
}

fn error(args: &[&str]) -> String {
    match parsed(args) {
        Err(CliError::Message { msg, .. }) => msg,
        other => panic!("{args:?}: expected an error, got {other:?}"),
    }
}

#[test]
fn landlock_options_fill_the_spec() {
    let s = spec(&[
        "--landlock",
        "--landlock-ro",
        "/",
        "--landlock-rw",
        "/tmp",
        "--landlock-ro-noexec",
        "/data",
        "--landlock-rw-noexec",
        "/out",
        "--landlock-tcp-connect",
        "80,8000-8001",
        "--landlock-tcp-connect",
        "443",
        "--landlock-tcp-bind",
        "none",
        "--landlock-scope",
        "signal",
        "--landlock-strict",
        "--fallback",
        "landlock",
        "--verbose",
    ]);
    let ll = &s.landlock;
    assert!(ll.derive && ll.strict && ll.net.scope_signal && !ll.net.scope_abstract_unix);
    assert_eq!(
        ll.rules[0],
        LandlockRule {
            path: "/".into(),
            access: LandlockAccess::ReadOnly
        }
    );
    assert_eq!(ll.rules[3].access, LandlockAccess::ReadWriteNoExec);
    assert_eq!(
        ll.net.tcp_connect,
        Some(vec![
            PortRange {
                first: 80,
                last: 80
            },
            PortRange {
                first: 8000,
                last: 8001
            },
            PortRange {
                first: 443,
                last: 443
            }
        ])
    );
    assert_eq!(ll.net.tcp_bind, Some(vec![]));
    assert_eq!(s.fallback, Some(Fallback::Landlock));
    assert!(s.verbose);
}

#[test]
fn nothing_by_default() {
    let s = spec(&["--ro-bind", "/", "/"]);
    assert!(!s.landlock.requested());
    assert_eq!(s.fallback, None);
    assert!(
        spec(&["--landlock-scope", "abstract-unix"])
            .landlock
            .requested()
    );
    assert!(
        !spec(&["--landlock-scope", "abstract-unix"])
            .landlock
            .restricts_fs()
    );
}

#[test]
fn bad_values_are_errors() {
    assert_eq!(
        error(&["--landlock-tcp-connect", "http"]),
        "--landlock-tcp-connect: invalid port or range \"http\" (expected e.g. 80,8000-8100 or none)"
    );
    assert!(
        error(&["--landlock-scope", "net"]).starts_with("--landlock-scope: unknown scope \"net\"")
    );
    assert_eq!(
        error(&["--fallback", "none"]),
        "--fallback: unknown mode \"none\" (expected landlock)"
    );
}

#[test]
fn landlock_paths_are_never_empty_and_relative_ones_take_the_working_directory() {
    for opt in [
        "--landlock-ro",
        "--landlock-rw",
        "--landlock-ro-noexec",
        "--landlock-rw-noexec",
    ] {
        // An unset `$VAR` must not grant everything beneath /.
        assert_eq!(
            error(&[opt, ""]),
            format!("{opt}: empty path (it would mean everything beneath /)")
        );
        let s = spec(&[opt, "build/out", opt, "./x", opt, "..", opt, "/abs"]);
        let paths: Vec<_> = s.landlock.rules.iter().map(|r| r.path.clone()).collect();
        assert_eq!(
            paths,
            [
                "/home/user/work/build/out",
                "/home/user/work/./x",
                "/home/user/work/..",
                "/abs"
            ]
            .map(std::path::PathBuf::from)
        );
    }
    // Without a known working directory a relative path is an error.
    let mut ctx = Host::user().context();
    ctx.cwd = Box::new(|| None);
    let argv: Vec<OsString> = ["sandwrap", "--landlock-rw", "out", "true"]
        .map(OsString::from)
        .to_vec();
    assert_eq!(
        parse(&argv, &mut ctx).unwrap_err(),
        CliError::Message {
            msg: "--landlock-rw out: relative path, and the working directory is unknown".into(),
            level_prefix: false
        }
    );
}

#[test]
fn values_that_are_not_utf8_are_shown_escaped() {
    use std::os::unix::ffi::OsStringExt;
    let bad = |opt: &str, value: &[u8]| {
        let argv = vec![
            OsString::from("sandwrap"),
            OsString::from(opt),
            OsString::from_vec(value.to_vec()),
            OsString::from("true"),
        ];
        match parse(&argv, &mut Host::user().context()) {
            Err(CliError::Message { msg, .. }) => msg,
            other => panic!("{opt}: expected an error, got {other:?}"),
        }
    };
    assert_eq!(
        bad("--landlock-tcp-connect", b"80\xff"),
        "--landlock-tcp-connect: invalid port or range \"80\\xff\" (expected e.g. 80,8000-8100 or none)"
    );
    assert_eq!(
        bad("--landlock-tcp-bind", b"80,\xc3\x28"),
        "--landlock-tcp-bind: invalid port or range \"\\xc3(\" (expected e.g. 80,8000-8100 or none)"
    );
    assert!(
        bad("--landlock-scope", b"sign\xe9l")
            .starts_with("--landlock-scope: unknown scope \"sign\\xe9l\""),
    );
    // Valid UTF-8 that is not a port stays as it is.
    assert!(bad("--landlock-tcp-connect", "8é".as_bytes()).contains("\"8é\""));
}
