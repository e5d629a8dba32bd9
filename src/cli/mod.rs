//! Command line: argv (and `--args` payloads) → a validated `Spec`.
//!
//! The option table (`table::OPTIONS`) is the single description of the
//! interface; `--help`, the man page and the completions are derived from it.

mod capnames;
mod cnum;
mod explain;
mod gitindex;
mod help;
pub mod limits;
pub mod network;
pub mod nsopts;
mod parse;
pub mod profile;
pub mod table;
#[cfg(test)]
mod tests;

use std::ffi::{OsStr, OsString};
use std::os::fd::RawFd;

pub use capnames::{CAP_NAMES, parse_cap};
pub use explain::explain;
pub use help::{clap_command, usage_text};
pub use parse::parse;

use crate::spec::Spec;

/// What the command line asks for.
#[derive(Debug)]
pub enum Outcome {
    Help,
    Version,
    Run(Box<Spec>),
    /// `--list-profiles`: the listing to print.
    ListProfiles(String),
    /// `--explain`: the resolved sandbox, and the option words that build it
    /// (profiles and `--args` expanded; no `--profile`, no `--explain`).
    Explain {
        spec: Box<Spec>,
        argv: Vec<OsString>,
    },
}

/// A command-line error. `Usage` prints the usage text to stderr.
#[derive(Debug, PartialEq, Eq)]
pub enum CliError {
    Usage,
    Message { msg: String, level_prefix: bool },
}

/// Facts about the host the parser needs, supplied by the caller so that
/// parsing stays testable.
pub struct ParseContext<'a> {
    pub real_uid: u32,
    pub real_gid: u32,
    /// Warnings printed so far (`Only the last --X option will take effect`),
    /// already formatted; bwrap prints them even when parsing fails later.
    pub warnings: Vec<String>,
    /// Takes an fd to read from (`--args`, `--add-seccomp-fd`); dropping the
    /// reader closes it. Payloads are read as a stream, so that limits hold
    /// while reading.
    pub open_fd: Box<dyn FnMut(RawFd) -> std::io::Result<Box<dyn std::io::Read>> + 'a>,
    /// Whether `--unshare-user-try` can create a user namespace.
    pub userns_available: Box<dyn Fn() -> bool + 'a>,
    /// Whether `--unshare-cgroup-try` can create a cgroup namespace.
    pub cgroupns_available: Box<dyn Fn() -> bool + 'a>,
    /// bwrap's `die_unless_label_valid` for `--exec-label`/`--file-label`.
    pub check_label: Box<LabelCheck<'a>>,
    /// The working directory relative landlock paths are taken from.
    pub cwd: Box<dyn Fn() -> Option<std::path::PathBuf> + 'a>,
}

/// Checks one `--exec-label`/`--file-label` value.
pub type LabelCheck<'a> = dyn Fn(&OsStr) -> Result<(), LabelError> + 'a;

/// Why a security label was refused.
#[derive(Debug)]
pub enum LabelError {
    /// No SELinux: `labeling not supported on this system`.
    Unsupported,
    /// The kernel refused it: `invalid label X: <strerror>`.
    Invalid(std::io::Error),
}

impl<'a> ParseContext<'a> {
    /// The context of the running process.
    pub fn from_host() -> ParseContext<'static> {
        ParseContext {
            real_uid: nix::unistd::getuid().as_raw(),
            real_gid: nix::unistd::getgid().as_raw(),
            warnings: Vec::new(),
            open_fd: Box::new(|fd| {
                crate::hostio::take_fd(fd).map(|f| Box::new(f) as Box<dyn std::io::Read>)
            }),
            userns_available: Box::new(userns_available),
            cgroupns_available: Box::new(|| std::path::Path::new("/proc/self/ns/cgroup").exists()),
            check_label: Box::new(check_selinux_label),
            cwd: Box::new(crate::hostio::current_dir),
        }
    }
}

/// libselinux's `is_selinux_enabled` then `security_check_context`: the
/// label, NUL-terminated, is written to selinuxfs, which refuses invalid ones.
fn check_selinux_label(label: &OsStr) -> Result<(), LabelError> {
    use std::io::Write;
    use std::os::unix::ffi::OsStrExt;
    let selinuxfs = std::path::Path::new("/sys/fs/selinux");
    if !selinuxfs.join("enforce").exists() {
        return Err(LabelError::Unsupported);
    }
    let mut data = label.as_bytes().to_vec();
    data.push(0);
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(selinuxfs.join("context"))
        .and_then(|mut f| f.write_all(&data))
        .map_err(LabelError::Invalid)
}

/// bwrap's probe for `--unshare-user-try`.
fn userns_available() -> bool {
    let read = crate::hostio::read_trimmed;
    if !std::path::Path::new("/proc/self/ns/user").exists() {
        return false;
    }
    if read("/sys/module/user_namespace/parameters/enable").is_some_and(|v| v.starts_with('N')) {
        return false;
    }
    if read("/proc/sys/user/max_user_namespaces").is_some_and(|v| v == "0") {
        return false;
    }
    true
}

/// Parse the process's own argv; warnings go to stderr as they would from bwrap.
pub fn parse_args(argv: &[OsString]) -> Result<Outcome, CliError> {
    let mut ctx = ParseContext::from_host();
    let result = parse(argv, &mut ctx);
    for w in &ctx.warnings {
        crate::out::stderr(&format!("{w}\n"));
    }
    result
}
