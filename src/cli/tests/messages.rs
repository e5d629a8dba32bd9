//! Per-option error and warning messages, worded as bwrap words them.

use super::{Host, err, spec};
use crate::cli::CliError;

/// bwrap's message for `--name` with too few values (bwrap-strings.md §2).
fn missing_value_message(name: &str) -> Option<&'static str> {
    Some(match name {
        "help"
        | "version"
        | "level-prefix"
        | "unshare-all"
        | "share-net"
        | "unshare-user"
        | "unshare-user-try"
        | "unshare-ipc"
        | "unshare-pid"
        | "unshare-net"
        | "unshare-uts"
        | "unshare-cgroup"
        | "unshare-cgroup-try"
        | "disable-userns"
        | "assert-userns-disabled"
        | "clearenv"
        | "new-session"
        | "die-with-parent"
        | "as-pid-1"
        | "not-a-security-boundary" => return None,
        "args" => "--args takes an argument",
        "argv0" => "--argv0 takes one argument",
        "chdir" => "--chdir takes one argument",
        "remount-ro" => "--remount-ro takes one argument",
        "bind" => "--bind takes two arguments",
        "bind-try" => "--bind-try takes two arguments",
        "ro-bind" => "--ro-bind takes two arguments",
        "ro-bind-try" => "--ro-bind-try takes two arguments",
        "dev-bind" => "--dev-bind takes two arguments",
        "dev-bind-try" => "--dev-bind-try takes two arguments",
        // bwrap names --bind-fd for both.
        "bind-fd" | "ro-bind-fd" => "--bind-fd takes two arguments",
        // bwrap has no check; sandwrap needs one.
        "overlay-src" => "--overlay-src takes an argument",
        "overlay" => "--overlay takes three arguments",
        "tmp-overlay" => "--tmp-overlay takes an argument",
        "ro-overlay" => "--ro-overlay takes an argument",
        "proc" => "--proc takes an argument",
        "exec-label" => "--exec-label takes an argument",
        "file-label" => "--file-label takes an argument",
        "dev" => "--dev takes an argument",
        "tmpfs" => "--tmpfs takes an argument",
        "mqueue" => "--mqueue takes an argument",
        "dir" => "--dir takes an argument",
        "file" => "--file takes two arguments",
        "bind-data" => "--bind-data takes two arguments",
        "ro-bind-data" => "--ro-bind-data takes two arguments",
        "symlink" => "--symlink takes two arguments",
        "lock-file" => "--lock-file takes an argument",
        "sync-fd" => "--sync-fd takes an argument",
        "block-fd" => "--block-fd takes an argument",
        "userns-block-fd" => "--userns-block-fd takes an argument",
        "info-fd" => "--info-fd takes an argument",
        "json-status-fd" => "--json-status-fd takes an argument",
        "seccomp" => "--seccomp takes an argument",
        "add-seccomp-fd" => "--add-seccomp-fd takes an argument",
        "userns" => "--userns takes an argument",
        "userns2" => "--userns2 takes an argument",
        "pidns" => "--pidns takes an argument",
        "setenv" => "--setenv takes two arguments",
        "unsetenv" => "--unsetenv takes an argument",
        "uid" => "--uid takes an argument",
        "gid" => "--gid takes an argument",
        "hostname" => "--hostname takes an argument",
        "cap-add" => "--cap-add takes an argument",
        "cap-drop" => "--cap-drop takes an argument",
        "perms" => "--perms takes an argument",
        "size" => "--size takes an argument",
        "chmod" => "--chmod takes two arguments",
        other => panic!("no expected message for --{other}: add one"),
    })
}

#[test]
fn missing_values_are_reported_as_bwrap_does() {
    // sandwrap's own options are covered by their own modules' tests.
    for o in crate::cli::table::bwrap_options() {
        let Some(expected) = missing_value_message(o.name) else {
            assert!(o.args.is_empty(), "--{} takes values", o.name);
            continue;
        };
        assert!(!o.args.is_empty(), "--{} takes no value", o.name);
        let opt = format!("--{}", o.name);
        // Every shorter count of values, down to none.
        for given in 0..o.args.len() {
            let mut words = vec![opt.as_str()];
            words.extend(std::iter::repeat_n("3", given));
            assert_eq!(err(&words), expected, "{words:?}");
        }
    }
}

#[test]
fn missing_value_is_checked_before_anything_else() {
    // Before "used multiple times", "given twice", "cannot be combined".
    assert_eq!(
        err(&["--argv0", "a", "--argv0"]),
        "--argv0 takes one argument"
    );
    assert_eq!(
        err(&["--perms", "0700", "--perms"]),
        "--perms takes an argument"
    );
    assert_eq!(err(&["--size", "1", "--size"]), "--size takes an argument");
    assert_eq!(
        Host::user()
            .fd(5, &[])
            .err(&["--add-seccomp-fd", "5", "--seccomp"]),
        "--seccomp takes an argument"
    );
    // The warning for a repeated option comes after the arity check.
    let (result, warnings) = Host::user().parse(&["--chdir", "/a", "--chdir"]);
    assert!(
        matches!(result, Err(CliError::Message { msg, .. }) if msg == "--chdir takes one argument")
    );
    assert!(warnings.is_empty());
}

#[test]
fn unknown_options() {
    for word in [
        "--foo",
        "-x",
        "-",
        "--bind=a",
        "--chdir=/",
        "--opt=value",
        "---bind",
        "--Bind",
        "-help",
        "--",
    ] {
        if word == "--" {
            continue;
        }
        assert_eq!(
            err(&[word, "true"]),
            format!("Unknown option {word}"),
            "{word}"
        );
    }
    // Found where it stands: earlier errors win, later ones are not reached.
    assert_eq!(err(&["--foo", "--bar"]), "Unknown option --foo");
    assert_eq!(err(&["--perms", "0700", "--foo"]), "Unknown option --foo");
    // After the command or `--`, anything goes.
    assert_eq!(spec(&["true", "--foo"]).command, vec!["true", "--foo"]);
    assert_eq!(spec(&["--", "-x"]).command, vec!["-x"]);
}

#[test]
fn repeated_options_warn_that_only_the_last_counts() {
    let repeated: &[(&str, &[&str])] = &[
        ("--chdir", &["/a"]),
        ("--exec-label", &["a_t"]),
        ("--file-label", &["a_t"]),
        ("--sync-fd", &["3"]),
        ("--block-fd", &["3"]),
        ("--info-fd", &["3"]),
        ("--json-status-fd", &["3"]),
        ("--seccomp", &["3"]),
        ("--userns", &["3"]),
        ("--userns2", &["3"]),
        ("--pidns", &["3"]),
        ("--uid", &["3"]),
        ("--gid", &["3"]),
        ("--hostname", &["h"]),
    ];
    let mut host = Host::user();
    host.selinux = true;
    for (opt, values) in repeated {
        let mut words = vec![*opt];
        words.extend_from_slice(values);
        words.push(opt);
        words.extend_from_slice(values);
        words.push("true");
        let (_, warnings) = host.parse(&words);
        assert_eq!(
            warnings,
            vec![format!(
                "sandwrap: Only the last {opt} option will take effect"
            )],
            "{words:?}"
        );
        // Once per repeat.
        let mut thrice = words.clone();
        thrice.splice(0..0, [*opt].into_iter().chain(values.iter().copied()));
        assert_eq!(host.parse(&thrice).1.len(), 2, "{thrice:?}");
    }
    // --userns-block-fd needs company to get past validation; the warning
    // is printed while parsing regardless.
    let (_, warnings) = host.parse(&["--userns-block-fd", "3", "--userns-block-fd", "4", "true"]);
    assert_eq!(
        warnings,
        vec!["sandwrap: Only the last --userns-block-fd option will take effect"]
    );
    // The last value wins.
    let s = spec(&[
        "--chdir",
        "/a",
        "--chdir",
        "/b",
        "--unshare-user",
        "--uid",
        "1",
        "--uid",
        "2",
        "true",
    ]);
    assert_eq!((s.chdir, s.uid), (Some("/b".into()), Some(2)));
}

#[test]
fn repeat_warning_fires_before_the_value_is_checked() {
    let (result, warnings) = Host::user().parse(&["--uid", "1", "--uid", "x", "true"]);
    assert_eq!(
        warnings,
        vec!["sandwrap: Only the last --uid option will take effect"]
    );
    assert!(matches!(result, Err(CliError::Message { msg, .. }) if msg == "Invalid uid: x"));
    let mut selinux = Host::user();
    selinux.selinux = true;
    let (result, warnings) =
        selinux.parse(&["--exec-label", "a_t", "--exec-label", "bad_t", "true"]);
    assert_eq!(
        warnings,
        vec!["sandwrap: Only the last --exec-label option will take effect"]
    );
    assert!(
        matches!(result, Err(CliError::Message { msg, .. }) if msg == "invalid label bad_t: Invalid argument")
    );
    let (result, warnings) = Host::user().parse(&["--sync-fd", "3", "--sync-fd", "-1", "true"]);
    assert_eq!(warnings.len(), 1);
    assert!(matches!(result, Err(CliError::Message { msg, .. }) if msg == "Invalid fd: -1"));
}

#[test]
fn warnings_and_errors_carry_the_level_prefix_once_it_is_given() {
    let (result, warnings) =
        Host::user().parse(&["--level-prefix", "--chdir", "/a", "--chdir", "/b", "--foo"]);
    assert_eq!(
        warnings,
        vec!["<4>sandwrap: Only the last --chdir option will take effect"]
    );
    assert_eq!(
        result.unwrap_err(),
        CliError::Message {
            msg: "Unknown option --foo".into(),
            level_prefix: true
        }
    );
    // Not before it is parsed.
    let (result, warnings) =
        Host::user().parse(&["--chdir", "/a", "--chdir", "/b", "--foo", "--level-prefix"]);
    assert_eq!(
        warnings,
        vec!["sandwrap: Only the last --chdir option will take effect"]
    );
    assert_eq!(
        result.unwrap_err(),
        CliError::Message {
            msg: "Unknown option --foo".into(),
            level_prefix: false
        }
    );
    // Validation after parsing knows it too.
    let (result, _) = Host::user().parse(&["--level-prefix", "--hostname", "h", "true"]);
    assert_eq!(
        result.unwrap_err(),
        CliError::Message {
            msg: "Specifying --hostname requires --unshare-uts".into(),
            level_prefix: true
        }
    );
}

#[test]
fn argv0_only_once() {
    assert_eq!(spec(&["--argv0", "x", "true"]).argv0, Some("x".into()));
    assert_eq!(
        err(&["--argv0", "x", "--argv0", "y", "true"]),
        "--argv0 used multiple times"
    );
    assert_eq!(
        err(&["--argv0", "x", "--argv0", "x", "true"]),
        "--argv0 used multiple times"
    );
}

#[test]
fn invalid_numbers_are_echoed_verbatim() {
    for bad in [
        "",
        "-1",
        "x",
        "3x",
        "0x3",
        "3 ",
        "2147483648",
        "99999999999999999999",
        "-",
        "+",
        " ",
    ] {
        for opt in [
            "--sync-fd",
            "--block-fd",
            "--userns-block-fd",
            "--info-fd",
            "--json-status-fd",
            "--seccomp",
            "--add-seccomp-fd",
            "--userns",
            "--userns2",
            "--pidns",
            "--args",
        ] {
            assert_eq!(
                err(&[opt, bad, "true"]),
                format!("Invalid fd: {bad}"),
                "{opt} {bad:?}"
            );
        }
        for opt in [
            "--file",
            "--bind-data",
            "--ro-bind-data",
            "--bind-fd",
            "--ro-bind-fd",
        ] {
            assert_eq!(
                err(&[opt, bad, "/dest", "true"]),
                format!("Invalid fd: {bad}"),
                "{opt} {bad:?}"
            );
        }
        assert_eq!(err(&["--uid", bad, "true"]), format!("Invalid uid: {bad}"));
        assert_eq!(err(&["--gid", bad, "true"]), format!("Invalid gid: {bad}"));
    }
}

#[test]
fn unknown_caps() {
    for bad in [
        "sys_admin",
        "CAP_NOPE",
        "64",
        " 21",
        "",
        "cap_",
        "ALLx",
        "99999999999999999999",
    ] {
        assert_eq!(
            err(&["--cap-add", bad, "true"]),
            format!("unknown cap: {bad}"),
            "{bad:?}"
        );
        assert_eq!(
            err(&["--cap-drop", bad, "true"]),
            format!("unknown cap: {bad}"),
            "{bad:?}"
        );
    }
}

#[test]
fn seccomp_forms_do_not_mix() {
    let host = Host::user().fd(5, &[0; 16]).fd(7, &[0; 7]).fd(8, &[]);
    assert_eq!(
        host.err(&["--add-seccomp-fd", "5", "--seccomp", "6", "true"]),
        "--seccomp cannot be combined with --add-seccomp-fd"
    );
    assert_eq!(
        host.err(&["--seccomp", "6", "--add-seccomp-fd", "5", "true"]),
        "--add-seccomp-fd cannot be combined with --seccomp"
    );
    // The mix is checked before the fd.
    assert_eq!(
        host.err(&["--seccomp", "6", "--add-seccomp-fd", "x", "true"]),
        "--add-seccomp-fd cannot be combined with --seccomp"
    );
    // --add-seccomp-fd is read at once and must hold whole instructions.
    assert_eq!(
        host.err(&["--add-seccomp-fd", "7", "true"]),
        "Invalid seccomp data, must be multiple of 8"
    );
    assert_eq!(
        host.err(&["--add-seccomp-fd", "9", "true"]),
        "Can't read seccomp data: Bad file descriptor"
    );
    // At most the kernel's 4096 instructions: more is refused after reading
    // one byte past them (an endless fd would otherwise never end).
    let big = Host::user().fd(5, &[0; 4096 * 8]).fd(6, &[0; 4096 * 8 + 8]);
    assert_eq!(
        big.spec(&["--add-seccomp-fd", "5", "true"])
            .seccomp
            .programs[0]
            .len(),
        32768
    );
    assert_eq!(
        big.err(&["--add-seccomp-fd", "6", "true"]),
        "Invalid seccomp data, more than 4096 instructions (the kernel's limit)"
    );
    let s = host.spec(&["--add-seccomp-fd", "5", "--add-seccomp-fd", "8", "true"]);
    assert_eq!(s.seccomp.programs, vec![vec![0; 16], vec![]]);
    // --seccomp is only read later, by the engine.
    assert_eq!(host.spec(&["--seccomp", "9", "true"]).seccomp.fd, Some(9));
}

#[test]
fn environment_names_glibc_refuses() {
    assert_eq!(err(&["--setenv", "A=B", "x", "true"]), "setenv failed");
    assert_eq!(err(&["--setenv", "", "x", "true"]), "setenv failed");
    assert_eq!(err(&["--unsetenv", "A=B", "true"]), "unsetenv failed");
    assert_eq!(err(&["--unsetenv", "", "true"]), "unsetenv failed");
    // Values may hold anything; names anything but '='.
    assert_eq!(spec(&["--setenv", "A B", "=x=", "true"]).env.len(), 1);
    // Checked where it stands, before later errors.
    assert_eq!(err(&["--setenv", "", "x", "--foo"]), "setenv failed");
}

#[test]
fn labels_need_selinux() {
    assert_eq!(
        err(&["--exec-label", "x_t", "true"]),
        "labeling not supported on this system"
    );
    assert_eq!(
        err(&["--file-label", "x_t", "true"]),
        "labeling not supported on this system"
    );
}

#[test]
fn control_fd_is_first_or_refused() {
    assert_eq!(spec(&["--control-fd", "0", "true"]).status.control, Some(0));
    let later =
        "--control-fd must be the first option (its fds are placed before the others are read)";
    assert_eq!(err(&["--unshare-pid", "--control-fd", "0", "true"]), later);
    assert_eq!(
        err(&["--control-fd", "0", "--control-fd", "0", "true"]),
        later
    );
    assert_eq!(err(&["--control-fd", "x", "true"]), "Invalid fd: x");
}
