//! Parsing of sandwrap's own seccomp options.

use std::ffi::OsString;

use super::Host;
use crate::cli::{CliError, Outcome, parse};
use crate::seccomp::{Action, Policy};
use crate::spec::{ReportTo, Spec};
fn parse_words(words: &[&str]) -> Result<Spec, CliError> {
    let mut argv: Vec<OsString> = vec!["sandwrap".into()];
    argv.extend(words.iter().map(OsString::from));
    argv.push("true".into());
    match parse(&argv, &mut Host::user().context())? {
        Outcome::Run(spec) => Ok(*spec),
        other => panic!("unexpected {other:?}"),
    }
}

fn message(r: Result<Spec, CliError>) -> String {
    match r {
        Err(CliError::Message { msg, .. }) => msg,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn no_option_no_filter() {
    let s = parse_words(&["--ro-bind", "/", "/"]).expect("parses");
    assert_eq!(s.seccomp.policy, None);
    assert_eq!(s.seccomp.report, None);
}

#[test]
fn allow_and_deny_apply_in_order_on_top_of_the_policy() {
    let s = parse_words(&[
        "--seccomp-deny",
        "ptrace",
        "--seccomp-policy",
        "strict",
        "--seccomp-allow",
        "ptrace",
        "--seccomp-deny",
        "getpid:ENOSYS",
    ])
    .expect("parses");
    let p: Policy = s.seccomp.policy.expect("policy");
    assert_eq!(p.name, "strict");
    let n = p.rules.len();
    assert_eq!(p.rules[n - 3].action, Action::Errno(libc::EPERM));
    assert_eq!(p.rules[n - 2].action, Action::Allow);
    assert_eq!(p.rules[n - 1].action, Action::Errno(libc::ENOSYS));
    assert_eq!(p.rules[n - 1].origin, "--seccomp-deny getpid:ENOSYS");
    let nr = p.arch.nr("ptrace").expect("ptrace");
    assert_eq!(
        p.decide(p.arch.audit(), nr, &[16, 1, 0, 0, 0, 0]).0,
        Action::Allow
    );
}

#[test]
fn deny_alone_builds_on_allow_all() {
    let s = parse_words(&["--seccomp-deny", "mount:kill", "--seccomp-report"]).expect("parses");
    let p = s.seccomp.policy.expect("policy");
    assert_eq!(p.default, Action::Allow);
    assert_eq!(p.rules.len(), 1);
    assert_eq!(p.rules[0].action, Action::Kill);
    assert_eq!(s.seccomp.report, Some(ReportTo::Stderr));
    let s = parse_words(&["--seccomp-allow", "165", "--seccomp-report-fd", "7"]).expect("numbers");
    assert_eq!(s.seccomp.report, Some(ReportTo::Fd(7)));
}

#[test]
fn errors_name_the_option_and_token() {
    assert_eq!(
        message(parse_words(&["--seccomp-deny", "ptrcae"])),
        "--seccomp-deny: unknown system call \"ptrcae\""
    );
    assert_eq!(
        message(parse_words(&["--seccomp-allow", "nope"])),
        "--seccomp-allow: unknown system call \"nope\""
    );
    assert_eq!(
        message(parse_words(&["--seccomp-deny", "ptrace:EPREM"])),
        "--seccomp-deny: unknown errno name \"EPREM\""
    );
    assert!(
        message(parse_words(&["--seccomp-policy", "lax"]))
            .starts_with("Unknown seccomp policy \"lax\"")
    );
    assert_eq!(
        message(parse_words(&["--seccomp-report"])),
        "--seccomp-report requires --seccomp-policy, --seccomp-allow or --seccomp-deny"
    );
    assert_eq!(
        message(parse_words(&[
            "--seccomp-report-fd",
            "x",
            "--seccomp-deny",
            "bpf"
        ])),
        "Invalid fd: x"
    );
}

#[test]
fn repeated_policy_warns_and_keeps_the_last() {
    let mut c = Host::user().context();
    let argv: Vec<OsString> = [
        "sandwrap",
        "--seccomp-policy",
        "strict",
        "--seccomp-policy",
        "default",
        "true",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    let Ok(Outcome::Run(spec)) = parse(&argv, &mut c) else {
        panic!("parses")
    };
    assert_eq!(spec.seccomp.policy.expect("policy").name, "default");
    assert_eq!(
        c.warnings,
        vec!["sandwrap: Only the last --seccomp-policy option will take effect".to_string()]
    );
}
