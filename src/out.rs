//! Everything sandwrap itself prints goes through here: messages on stderr,
//! `--help`/`--explain` text on stdout, lines for the caller's report fds.
//!
//! Writes never panic: std's `print!`/`eprintln!` panic when the write
//! fails (a full disk, a closed reader, a seccomp filter denying `write`),
//! and the release build aborts on panic, so sandwrap would die of SIGABRT
//! with no message and without the command's status. Here a failed write
//! is ignored (stderr: there is nowhere left to say it) or returned.
//!
//! The name that starts each message is sandwrap's, or `bwrap` when sandwrap
//! is invoked under that name (a distribution's alternative for bwrap), so
//! that scripts matching bwrap's messages match byte for byte.

use std::ffi::OsStr;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether argv[0]'s basename is `bwrap`.
static AS_BWRAP: AtomicBool = AtomicBool::new(false);

/// Take the program name from `argv[0]` (called once, first thing in main).
pub fn set_program(argv0: &OsStr) {
    AS_BWRAP.store(named_bwrap(argv0), Ordering::Relaxed);
}

fn named_bwrap(argv0: &OsStr) -> bool {
    argv0.as_bytes().rsplit(|&b| b == b'/').next() == Some(b"bwrap")
}

/// The name messages start with: `sandwrap`, or `bwrap` under that name.
pub fn program() -> &'static str {
    if AS_BWRAP.load(Ordering::Relaxed) {
        "bwrap"
    } else {
        "sandwrap"
    }
}

/// The syslog severity `--level-prefix` puts before a line, as bwrap does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Error = 3,
    Warning = 4,
    Info = 6,
}

/// A message as lines, without the last newline: `[<N>]sandwrap: msg`.
/// Each line of a message that has several (a hint after bwrap's wording,
/// a path holding a newline) starts so too: every line sandwrap prints says
/// whose it is and, with `--level-prefix`, its severity.
pub fn line(level_prefix: bool, level: Level, msg: &str) -> String {
    let name = program();
    let head = if level_prefix {
        format!("<{}>{name}: ", level as u8)
    } else {
        format!("{name}: ")
    };
    let mut out = String::with_capacity(head.len() + msg.len());
    for (i, l) in msg.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&head);
        out.push_str(l);
    }
    out
}

/// Write all of `data` to `fd`, retrying interrupted writes; the errno of a
/// failure.
pub fn write_fd(fd: RawFd, data: &[u8]) -> Result<(), i32> {
    crate::hostio::write_all(fd, data)
}

/// Text to stdout (help, listings); a failure is the caller's to report.
pub fn stdout(text: &str) -> Result<(), i32> {
    write_fd(libc::STDOUT_FILENO, text.as_bytes())
}

/// Text to stderr, as is (usage text, lines already formatted).
pub fn stderr(text: &str) {
    // Nowhere left to report a failure to write to stderr.
    let _ = write_fd(libc::STDERR_FILENO, text.as_bytes());
}

/// One message on stderr: `[<N>]sandwrap: msg` and a newline; an error is
/// also sent on the control socket (`--control-fd`), if there is one.
pub fn message(level_prefix: bool, level: Level, msg: &str) {
    let mut l = line(level_prefix, level, msg);
    l.push('\n');
    stderr(&l);
    if level == Level::Error {
        crate::control::send(&crate::control::Event::Error(msg.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_carry_the_level_and_the_name() {
        assert_eq!(line(false, Level::Error, "x"), "sandwrap: x");
        assert_eq!(line(true, Level::Error, "x"), "<3>sandwrap: x");
        assert_eq!(line(true, Level::Warning, "x"), "<4>sandwrap: x");
        assert_eq!(line(true, Level::Info, "x"), "<6>sandwrap: x");
        assert_eq!(
            line(true, Level::Error, "x\nHint: y"),
            "<3>sandwrap: x\n<3>sandwrap: Hint: y"
        );
        assert_eq!(line(false, Level::Warning, ""), "sandwrap: ");
    }

    #[test]
    fn the_name_is_bwrap_only_under_that_basename() {
        for (argv0, bwrap) in [
            ("bwrap", true),
            ("/usr/bin/bwrap", true),
            ("./bwrap", true),
            ("sandwrap", false),
            ("/usr/bin/bwrap2", false),
            ("bwrap/x", false),
            ("", false),
        ] {
            assert_eq!(named_bwrap(OsStr::new(argv0)), bwrap, "{argv0}");
        }
    }

    #[test]
    fn failed_writes_are_errors_not_panics() {
        // A closed fd and a read-only one: both fail, neither panics.
        assert_eq!(write_fd(-1, b"x"), Err(libc::EBADF));
        let f = std::fs::File::open("/dev/null").expect("open /dev/null");
        let fd = std::os::fd::AsRawFd::as_raw_fd(&f);
        assert_eq!(write_fd(fd, b"x"), Err(libc::EBADF));
    }
}
