//! `--args FD`: NUL-separated options read from an fd, parsed in place.

use std::io::Read;

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

/// A reader that counts what was taken from it.
struct Counted<R> {
    inner: R,
    taken: std::rc::Rc<std::cell::Cell<usize>>,
}

impl<R: std::io::Read> std::io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.taken.set(self.taken.get() + n);
        Ok(n)
    }
}

/// Parse with fd 5 reading from `source`; returns the error and how many
/// bytes were read.
fn parse_streaming(source: impl std::io::Read + 'static, args: &[&str]) -> (String, usize) {
    let taken = std::rc::Rc::new(std::cell::Cell::new(0));
    let mut ctx = Host::user().context();
    let mut source = Some(Counted {
        inner: source,
        taken: taken.clone(),
    });
    ctx.open_fd = Box::new(move |fd| match (fd, source.take()) {
        (5, Some(s)) => Ok(Box::new(s) as Box<dyn std::io::Read>),
        _ => Err(std::io::Error::from_raw_os_error(libc::EBADF)),
    });
    let result = crate::cli::parse(&super::argv(args), &mut ctx);
    match result {
        Err(CliError::Message { msg, .. }) => (msg, taken.get()),
        other => panic!("{args:?} should fail, got {other:?}"),
    }
}

#[test]
fn the_limit_holds_while_the_payload_is_read() {
    // 50 MB of NULs (50 million empty words): refused at the limit, after
    // reading little more than the limit's worth of it.
    let (msg, taken) = parse_streaming(
        std::io::Cursor::new(vec![0u8; 50_000_000]),
        &["--args", "5", "true"],
    );
    assert_eq!(msg, LIMIT);
    assert!(taken <= 128 * 1024, "read {taken} bytes");
    // An endless stream of NULs ends too (reading it whole never would).
    let (msg, _) = parse_streaming(std::io::repeat(0), &["--args", "5", "true"]);
    assert_eq!(msg, LIMIT);
    // An endless word (no NUL at all) is refused at the kernel's limit on
    // one argument, after the words before it.
    let (msg, taken) = parse_streaming(
        std::io::Cursor::new(b"--unshare-pid\0".to_vec()).chain(std::io::repeat(b'a')),
        &["--args", "5", "true"],
    );
    assert_eq!(
        msg,
        "Can't read --args data: word 2 is longer than 131072 bytes"
    );
    assert!(taken < 200 * 1024, "read {taken} bytes");
    // 64 MiB in all, over every payload, at most: 8500 words of 8 KiB
    // are under both other limits.
    let mut word = vec![b'w'; 8191];
    word.push(0);
    let payload = || std::io::Cursor::new(word.repeat(4250));
    let taken = std::rc::Rc::new(std::cell::Cell::new(0));
    let mut ctx = Host::user().context();
    let mut sources = vec![payload(), payload()];
    let counter = taken.clone();
    ctx.open_fd = Box::new(move |_| {
        let s = sources
            .pop()
            .ok_or(std::io::Error::from_raw_os_error(libc::EBADF))?;
        counter.set(counter.get() + 1);
        Ok(Box::new(s) as Box<dyn std::io::Read>)
    });
    let argv = super::argv(&["--args", "5", "--args", "6", "true"]);
    assert_eq!(
        crate::cli::parse(&argv, &mut ctx).unwrap_err(),
        CliError::Message {
            msg: "Can't read --args data: more than 64 MiB in all".into(),
            level_prefix: false
        }
    );
    assert_eq!(taken.get(), 2);
    // A word of exactly that length is fine.
    let mut long = b"--setenv\0A\0".to_vec();
    long.extend(std::iter::repeat_n(b'v', 131072));
    let host = Host::user().fd(5, &long);
    assert_eq!(host.spec(&["--args", "5", "true"]).env.len(), 1);
    // The words already on argv count first.
    let mut words = vec!["--unshare-ipc"; 8990];
    words.extend(["--args", "5", "true"]);
    let (msg, taken) = parse_streaming(std::io::repeat(0), &words);
    assert_eq!((msg.as_str(), taken), (LIMIT, 64 * 1024));
}

#[test]
fn read_errors_while_streaming_are_reported() {
    struct Failing(bool);
    impl std::io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if std::mem::replace(&mut self.0, true) {
                return Err(std::io::Error::from_raw_os_error(libc::EIO));
            }
            buf[..7].copy_from_slice(b"--dir\0/");
            Ok(7)
        }
    }
    let (msg, _) = parse_streaming(Failing(false), &["--args", "5", "true"]);
    assert_eq!(msg, "Can't read --args data: Input/output error");
}
