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
        let text = read_policy_file(path)
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

/// The text of a policy file: a regular file (a FIFO or a device would
/// block or never end), of at most `MAX_FILE_BYTES`, in UTF-8.
fn read_policy_file(path: &Path) -> Result<String, String> {
    use std::io::Read;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let io = |e: std::io::Error| crate::io_error_text(&e);
    let regular = |meta: &std::fs::Metadata| {
        let ft = meta.file_type();
        let kind = if ft.is_file() {
            return Ok(());
        } else if ft.is_dir() {
            "a directory"
        } else if ft.is_fifo() {
            "a FIFO"
        } else if ft.is_socket() {
            "a socket"
        } else if ft.is_char_device() || ft.is_block_device() {
            "a device"
        } else {
            "not a file"
        };
        Err(format!("not a regular file ({kind})"))
    };
    // Checked before opening (opening a device can have effects), and again
    // on what was opened; O_NONBLOCK: a FIFO swapped in meanwhile must not
    // make the open wait for a writer.
    regular(&std::fs::metadata(path).map_err(io)?)?;
    let file = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    regular(&meta)?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{} bytes, more than the limit of {MAX_FILE_BYTES}",
            meta.len()
        ));
    }
    let mut bytes = Vec::new();
    // The length may have grown since: never read past the limit.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("more than the limit of {MAX_FILE_BYTES} bytes"));
    }
    String::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 text (at byte {})", e.utf8_error().valid_up_to()))
}
