//! sandwrap's own seccomp engine: named presets, a readable policy file,
//! command-line additions, compilation to classic BPF (with seccompiler),
//! and the explanation of denials. Everything here is pure; the engine
//! installs the programs and answers notifications.

pub mod bpf;
pub mod compile;
pub mod consts;
pub mod policy;
pub mod presets;
pub mod syscalls;

pub use compile::{Mode, compile, to_bytes};
pub use policy::{Action, By, Cond, Op, Policy, Rule};
pub use syscalls::Arch;
