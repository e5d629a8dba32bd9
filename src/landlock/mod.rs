//! The landlock model: which rules, ports and scopes to enforce, and what
//! the running kernel's ABI can enforce of them. Pure data; the engine
//! opens the paths and talks to the kernel (`engine::landlock`).

pub mod fallback;
pub mod plan;
pub mod ports;
pub mod rights;
pub mod rules;
pub mod show;

pub use plan::{FsSource, Isolation, Mode, Plan, Policy};
pub use rights::Rights;
pub use rules::{Need, Rule};
