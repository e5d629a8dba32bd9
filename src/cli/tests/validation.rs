//! The checks bwrap's main() makes after parsing, in its order.

use super::{Host, err, spec};
use crate::cli::CliError;

#[test]
fn no_command_prints_usage() {
    let host = Host::user();
    for words in [
        &[][..],
        &["--unshare-pid"][..],
        &["--"][..],
        &["--bind", "/a", "/b"][..],
        &["--perms", "0700"][..],
    ] {
        assert_eq!(
            host.parse(words).0.unwrap_err(),
            CliError::Usage,
            "{words:?}"
        );
    }
    // Not even argv[0].
    let mut ctx = host.context();
    assert_eq!(
        crate::cli::parse(&[], &mut ctx).unwrap_err(),
        CliError::Usage
    );
}

#[test]
fn userns_checks_in_bwrap_order() {
    let host = Host::user();
    // Each line also breaks every rule below it, so the order shows.
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "--userns-block-fd",
                "3",
                "--userns",
                "4",
                "--unshare-user-try",
            ],
            "--userns-block-fd requires --unshare-user",
        ),
        (
            &["--unshare-user", "--userns-block-fd", "3", "--userns", "4"],
            "--userns-block-fd requires --info-fd",
        ),
        (
            &["--unshare-user", "--userns", "4", "--disable-userns"],
            "--userns not compatible --unshare-user",
        ),
        (
            &["--unshare-all", "--userns", "4", "--disable-userns"],
            "--userns not compatible --unshare-user-try",
        ),
        (
            &["--unshare-user-try", "--userns", "4"],
            "--userns not compatible --unshare-user-try",
        ),
        // The implied user namespace does not count: only an explicit one.
        (
            &["--disable-userns", "--uid", "5", "--hostname", "h"],
            "--disable-userns requires --unshare-user",
        ),
        (
            &["--unshare-all", "--disable-userns"],
            "--disable-userns requires --unshare-user",
        ),
        (
            &[
                "--unshare-user",
                "--disable-userns",
                "--info-fd",
                "3",
                "--userns-block-fd",
                "4",
            ],
            // Two spaces, as in bwrap.
            "--disable-userns is not compatible with  --userns-block-fd",
        ),
    ];
    for (words, msg) in cases {
        let mut words = words.to_vec();
        words.push("true");
        assert_eq!(host.err(&words), *msg, "{words:?}");
        // These come before the command is looked for.
        words.pop();
        assert_eq!(host.err(&words), *msg, "{words:?} without a command");
    }
}

#[test]
fn id_hostname_and_pid1_checks_in_bwrap_order() {
    let root = Host::root();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--uid", "5", "--gid", "5", "--hostname", "h", "--as-pid-1"],
            "Specifying --uid requires --unshare-user or --userns",
        ),
        (
            &["--gid", "5", "--hostname", "h", "--as-pid-1"],
            "Specifying --gid requires --unshare-user or --userns",
        ),
        (
            &["--hostname", "h", "--as-pid-1", "--lock-file", "/l"],
            "Specifying --hostname requires --unshare-uts",
        ),
        (
            &["--as-pid-1", "--lock-file", "/l"],
            "Specifying --as-pid-1 requires --unshare-pid",
        ),
        (
            &["--unshare-pid", "--as-pid-1", "--lock-file", "/l"],
            "Specifying --as-pid-1 and --lock-file is not permitted",
        ),
    ];
    for (words, msg) in cases {
        let mut words = words.to_vec();
        words.push("true");
        assert_eq!(root.err(&words), *msg, "{words:?}");
        // These come after the command is looked for.
        words.pop();
        assert_eq!(
            root.parse(&words).0.unwrap_err(),
            CliError::Usage,
            "{words:?}"
        );
    }
    // The caller's own ids need no user namespace.
    assert_eq!(
        root.spec(&["--uid", "0", "--gid", "0", "true"]).uid,
        Some(0)
    );
    // A joined user namespace is enough.
    assert_eq!(
        root.spec(&["--userns", "3", "--uid", "5", "true"]).uid,
        Some(5)
    );
    // As is the implied one of an unprivileged caller, or a working -try.
    assert_eq!(spec(&["--uid", "5", "--gid", "6", "true"]).gid, Some(6));
    assert_eq!(
        root.spec(&["--unshare-user-try", "--uid", "5", "true"]).uid,
        Some(5)
    );
    let mut no_userns = Host::root();
    no_userns.userns = false;
    assert_eq!(
        no_userns.err(&["--unshare-user-try", "--uid", "5", "true"]),
        "Specifying --uid requires --unshare-user or --userns"
    );
    // --unshare-all includes uts and pid.
    let s = root.spec(&["--unshare-all", "--hostname", "h", "--as-pid-1", "true"]);
    assert!(s.as_pid_1 && s.hostname.is_some());
}

#[test]
fn user_namespace_is_implied_only_after_the_explicit_checks() {
    // bwrap: even an unprivileged caller, who gets a user namespace anyway,
    // must say --unshare-user for these.
    assert_eq!(
        err(&["--userns-block-fd", "3", "--info-fd", "4", "true"]),
        "--userns-block-fd requires --unshare-user"
    );
    assert_eq!(
        err(&["--disable-userns", "true"]),
        "--disable-userns requires --unshare-user"
    );
    let s = spec(&[
        "--unshare-user",
        "--userns-block-fd",
        "3",
        "--info-fd",
        "4",
        "true",
    ]);
    assert!(s.namespaces.user);
    assert!(spec(&["--unshare-ipc", "true"]).namespaces.user);
}
