#![warn(missing_docs)]
//! sandwrap: a rootless, bubblewrap-compatible Linux sandbox, as a library.
//!
//! Run commands in sandboxes from any Rust program, threaded or async:
//! describe the sandbox once with [`Sandbox`], then spawn commands in it
//! as with [`std::process::Command`].
//!
//! ```no_run
//! use sandwrap::Sandbox;
//! let sb = Sandbox::new().ro_bind("/", "/").dev("/dev").tmpfs("/tmp").unshare_all();
//! let out = sb.command("uname").arg("-n").output()?;
//! assert!(out.status.success());
//! # Ok::<(), sandwrap::Error>(())
//! ```
//!
//! Each spawn starts the `sandwrap` program (the helper) with
//! `posix_spawn`; the sandbox is built in that process, never in yours:
//! your fds, signal mask, `no_new_privs`, subreaper flag and children are
//! left alone, and nothing runs in a forked copy of your process. The
//! helper is found through `SANDWRAP_BIN`, next to your program, or on
//! `PATH`, and refused if it could be replaced by another user or by the
//! sandbox ([`Sandbox::helper`]). When your process dies, every sandbox it
//! started is killed.
//!
//! The other modules are the `sandwrap` program's own parts (its
//! command-line parser and pure models), public for it and its tests only.

mod client;
pub use client::{Child, Command, Error, ExitStatus, Output, Sandbox, Stdio};

#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod control;
#[doc(hidden)]
pub mod hostio;
#[doc(hidden)]
pub mod landlock;
#[doc(hidden)]
pub mod out;
#[doc(hidden)]
pub mod seccomp;
#[doc(hidden)]
pub mod spec;

#[doc(hidden)]
/// `strerror(code)`: the text bwrap appends to its messages.
pub fn errno_text(code: i32) -> String {
    let text = std::io::Error::from_raw_os_error(code).to_string();
    match text.find(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[doc(hidden)]
/// The `strerror` text of an I/O error, without Rust's " (os error N)".
pub fn io_error_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => errno_text(code),
        None => e.to_string(),
    }
}

#[doc(hidden)]
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The bubblewrap release whose interface sandwrap implements.
#[doc(hidden)]
pub const BWRAP_VERSION: &str = "0.11.1";

/// The `--version` line. Launchers read it as bwrap's: some take the second
/// word (BuildStream compares it with 0.1.8 before passing
/// `--die-with-parent`), some the last word (Zuul), some the first version
/// number or `bubblewrap X.Y.Z`; each of them must find the bubblewrap
/// version implemented, and sandwrap's own version is named between.
#[doc(hidden)]
pub fn version_line() -> String {
    format!(
        "bubblewrap {BWRAP_VERSION} (sandwrap {VERSION}), compatible with bubblewrap {BWRAP_VERSION}"
    )
}
