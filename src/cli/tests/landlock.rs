//! Parsing of sandwrap's own landlock and fallback options.

use std::ffi::OsString;

use super::Host;
use crate::cli::{CliError, Outcome, parse};
use crate::spec::{Fallback, LandlockAccess, LandlockRule, PortRange, Spec};

fn spec(args: &[&str]) -> Spec {
    let argv: Vec<OsString> = std::iter::once("sandwrap")
        .chain(args.iter().copied())
        .chain(["true"])
        .map(Into::into)
        .collect();
    match parse(&argv, &mut Host::user().context()) {
        Ok(Outcome::Run(s)) => *s,
        other => panic!("{args:?}: {other:?}"),
    }
}

fn error(args: &[&str]) -> String {
    let argv: Vec<OsString> = std::iter::once("sandwrap")
        .chain(args.iter().copied())
        .chain(["true"])
        .map(Into::into)
        .collect();
    match parse(&argv, &mut Host::user().context()) {
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
    assert!(ll.derive && ll.strict && ll.scope_signal && !ll.scope_abstract_unix);
    assert_eq!(
        ll.rules[0],
        LandlockRule {
            path: "/".into(),
            access: LandlockAccess::ReadOnly
        }
    );
    assert_eq!(ll.rules[3].access, LandlockAccess::ReadWriteNoExec);
    assert_eq!(
        ll.tcp_connect,
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
    assert_eq!(ll.tcp_bind, Some(vec![]));
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
