//! sandwrap's own seccomp engine: named presets, a readable policy file,
//! command-line additions, compilation to classic BPF (with seccompiler),
//! and the explanation of denials. Everything here is pure; the engine
//! installs the programs and answers notifications.

#[cfg(test)]
pub mod bpf;
pub mod compile;
pub mod consts;
pub mod file;
pub mod guard;
pub mod policy;
pub mod presets;
pub mod report;
pub mod syscalls;

pub use compile::{Mode, compile};
pub use policy::{Action, By, Cond, Op, Policy, Rule};
pub use syscalls::Arch;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A policy file larger than this is refused before it is read (with
/// `policy::MAX_RULES` rules of a few lines each, real files stay far below).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// `--seccomp-policy WORD`: a preset name, or a policy file when the word
/// contains `/` or ends in `.toml`.
pub fn load_policy(word: impl AsRef<OsStr>, arch: Arch) -> Result<Policy, String> {
    let word = word.as_ref();
    if let Some(preset) = word.to_str().and_then(presets::find) {
        return preset.policy(arch);
    }
    let bytes = word.as_bytes();
    if bytes.contains(&b'/') || bytes.ends_with(b".toml") {
        let path = Path::new(word);
        let shown = path.display().to_string();
        // A regular file only (a FIFO or a device would block or never
        // end), of at most MAX_FILE_BYTES, in UTF-8.
        let text = crate::hostio::read_regular_file(path, MAX_FILE_BYTES)
            .map_err(|e| format!("Can't read seccomp policy {shown}: {e}"))?;
        return file::parse(&shown, &text, arch);
    }
    let names: Vec<&str> = presets::PRESETS.iter().map(|p| p.name).collect();
    Err(format!(
        "Unknown seccomp policy {:?}: presets are {}; a policy file needs a path containing / or ending in .toml",
        word.to_string_lossy(),
        names.join(", ")
    ))
}
