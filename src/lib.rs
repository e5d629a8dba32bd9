//! sandwrap: a rootless, bubblewrap-compatible Linux sandbox.
//!
//! `cli` turns argv into a [`spec::Spec`]; the `sandwrap` program's engine
//! (not part of this library: it changes process-wide state, so it only runs
//! in a process of its own) builds and runs the sandbox it describes.

pub mod cli;
pub mod control;
pub mod hostio;
pub mod landlock;
pub mod out;
pub mod seccomp;
pub mod spec;

/// `strerror(code)`: the text bwrap appends to its messages.
pub fn errno_text(code: i32) -> String {
    let text = std::io::Error::from_raw_os_error(code).to_string();
    match text.find(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// The `strerror` text of an I/O error, without Rust's " (os error N)".
pub fn io_error_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => errno_text(code),
        None => e.to_string(),
    }
}

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The bubblewrap release whose interface sandwrap implements.
pub const BWRAP_VERSION: &str = "0.11.1";

/// The `--version` line. Launchers read it as bwrap's: some take the second
/// word (BuildStream compares it with 0.1.8 before passing
/// `--die-with-parent`), some the last word (Zuul), some the first version
/// number or `bubblewrap X.Y.Z`; each of them must find the bubblewrap
/// version implemented, and sandwrap's own version is named between.
pub fn version_line() -> String {
    format!(
        "bubblewrap {BWRAP_VERSION} (sandwrap {VERSION}), compatible with bubblewrap {BWRAP_VERSION}"
    )
}
