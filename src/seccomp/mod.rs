//! sandwrap's own seccomp engine: named presets, a readable policy file,
//! command-line additions, compilation to classic BPF (with seccompiler),
//! and the explanation of denials. Everything here is pure; the engine
//! installs the programs and answers notifications.

#[cfg(test)]
pub mod bpf;
pub mod compile;
pub mod consts;
pub mod file;
pub mod policy;
pub mod presets;
pub mod report;
pub mod syscalls;

pub use compile::{Mode, compile};
pub use policy::{Action, By, Cond, Op, Policy, Rule};
pub use syscalls::Arch;

/// `--seccomp-policy WORD`: a preset name, or a policy file when the word
/// contains `/` or ends in `.toml`.
pub fn load_policy(word: &str, arch: Arch) -> Result<Policy, String> {
    if let Some(preset) = presets::find(word) {
        return preset.policy(arch);
    }
    if word.contains('/') || word.ends_with(".toml") {
        let text = std::fs::read_to_string(word).map_err(|e| {
            format!(
                "Can't read seccomp policy {word}: {}",
                crate::io_error_text(&e)
            )
        })?;
        return file::parse(word, &text, arch);
    }
    let names: Vec<&str> = presets::PRESETS.iter().map(|p| p.name).collect();
    Err(format!(
        "Unknown seccomp policy {word:?}: presets are {}; a policy file needs a path containing / or ending in .toml",
        names.join(", ")
    ))
}
