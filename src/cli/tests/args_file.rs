//! `--args FD`: NUL-separated options read from an fd, parsed in place.

use super::Host;
use crate::cli::{CliError, Outcome};
use crate::spec::FsOp;

#[test]
fn payload_is_parsed_in_place() {
    let host = Host::user().fd(5, b"--bind\0/a\0/b\0--dir\0/c\0");
    let s = host.spec(&[
        "--tmpfs",
        "/t",
        "--args",
        "5",
        "--symlink",
        "x",
        "/y",
        "true",
    ]);
    let dests: Vec<_> = s
        .ops
        .iter()
        .map(|o| o.dest().to_string_lossy().into_owned())
        .collect();
    assert_eq!(dests, ["/t", "/b", "/c", "/y"]);
    // The last word needs no NUL.
    let host = Host::user().fd(5, b"--chdir\0/x");
    assert_eq!(host.spec(&["--args", "5", "true"]).chdir, Some("/x".into()));
    // Words may hold anything but NUL, spaces and newlines included.
    let host = Host::user().fd(5, b"--setenv\0A\0two words\nx\0");
    assert_eq!(
        host.spec(&["--args", "5", "true"]).env,
        vec![crate::spec::EnvOp::Set("A".into(), "two words\nx".into())]
    );
}

#[test]
fn a_non_option_word_ends_the_payload_only() {
    // The rest of the payload is dropped; parsing goes on in argv.
    let host = Host::user().fd(5, b"--unshare-ipc\0cmd\0--unshare-pid\0");
    let s = host.spec(&["--args", "5", "--unshare-uts", "true"]);
    assert!(s.namespaces.ipc && s.namespaces.uts && !s.namespaces.pid);
    assert_eq!(s.command, vec!["true"]);
    // So the command cannot come from the payload.
    assert_eq!(host.parse(&["--args", "5"]).0.unwrap_err(), CliError::Usage);
    // Nor can `--` in the payload end argv's options.
    let host = Host::user().fd(5, b"--\0--bogus\0");
    assert_eq!(
        host.spec(&["--args", "5", "--unshare-ipc", "true"]).command,
        vec!["true"]
    );
    // An empty word (a lone NUL) ends it too.
    let host = Host::user().fd(5, b"\0--bogus\0");
    assert!(host.spec(&["--args", "5", "true"]).ops.is_empty());
    // An empty payload is no words.
    let host = Host::user().fd(5, b"");
    assert_eq!(host.spec(&["--args", "5", "true"]).command, vec!["true"]);
}

#[test]
fn payload_errors() {
    let host = Host::user()
        .fd(5, b"--args\x006\0")
        .fd(6, b"")
        .fd(7, b"--args\0")
        .fd(8, b"--bind\0/a\0");
    assert_eq!(
        host.err(&["--args", "5", "true"]),
        "--args not supported in arguments file"
    );
    // That check comes before the arity check.
    assert_eq!(
        host.err(&["--args", "7", "true"]),
        "--args not supported in arguments file"
    );
    // Values do not continue into argv.
    assert_eq!(
        host.err(&["--args", "8", "/b", "true"]),
        "--bind takes two arguments"
    );
    assert_eq!(
        host.err(&["--args", "9", "true"]),
        "Can't read --args data: Bad file descriptor"
    );
    assert_eq!(host.err(&["--args"]), "--args takes an argument");
    assert_eq!(host.err(&["--args", "x"]), "Invalid fd: x");
    let host = Host::user().fd(5, b"--foo\0");
    assert_eq!(host.err(&["--args", "5", "true"]), "Unknown option --foo");
}

#[test]
fn payload_modifiers_must_be_consumed_in_the_payload() {
    // bwrap checks pending --perms at the end of the --args step itself.
    let host = Host::user().fd(5, b"--perms\x00700\0");
    assert_eq!(
        host.err(&["--args", "5", "--dir", "/x", "true"]),
        "--perms must be followed by an option that creates a file"
    );
    let host = Host::user().fd(5, b"--perms\x00700\0--dir\0/x\0");
    assert_eq!(
        host.spec(&["--args", "5", "true"]).ops,
        vec![FsOp::Dir {
            dest: "/x".into(),
            perms: Some(0o700)
        }]
    );
    let host = Host::user().fd(5, b"--overlay-src\0/a\0");
    assert!(
        host.err(&["--args", "5", "--tmp-overlay", "/x", "true"])
            .starts_with("--overlay-src must be followed")
    );
}

#[test]
fn help_and_level_prefix_work_from_the_payload() {
    let host = Host::user().fd(5, b"--help\0").fd(6, b"--level-prefix\0");
    assert!(matches!(
        host.parse(&["--args", "5", "--foo"]).0,
        Ok(Outcome::Help)
    ));
    assert_eq!(
        host.parse(&["--args", "6", "--foo"]).0.unwrap_err(),
        CliError::Message {
            msg: "Unknown option --foo".into(),
            level_prefix: true
        }
    );
}

const LIMIT: &str = "Exceeded maximum number of arguments 9000";

#[test]
fn at_most_9000_arguments_in_all() {
    let host = Host::user();
    let mut words = vec!["--unshare-ipc"; 8999];
    words.push("true");
    assert_eq!(host.spec(&words).command, vec!["true"]);
    words.insert(0, "--unshare-pid");
    assert_eq!(host.err(&words), LIMIT);
    // Checked before anything is parsed, even --help.
    words[0] = "--help";
    assert_eq!(host.err(&words), LIMIT);
    // Payload words count too: 8997 + "--args" "5" + "true" = 9000 on argv.
    let mut words = vec!["--unshare-ipc"; 8997];
    words.extend(["--args", "5", "true"]);
    assert_eq!(host.clone().fd(5, b"").spec(&words).command, vec!["true"]);
    assert_eq!(host.clone().fd(5, b"--unshare-pid").err(&words), LIMIT);
    // A lone NUL is one (empty) word; a trailing NUL adds none.
    assert_eq!(host.clone().fd(5, b"\0").err(&words), LIMIT);
    let mut words = vec!["--unshare-ipc"; 8996];
    words.extend(["--args", "5", "true"]);
    assert!(matches!(
        host.clone().fd(5, b"--unshare-pid\0").parse(&words).0,
        Ok(Outcome::Run(_))
    ));
    assert_eq!(host.clone().fd(5, b"--unshare-pid\0\0").err(&words), LIMIT);
}
