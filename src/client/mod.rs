//! The library's sandbox-spawning API: [`Sandbox`], [`Command`], [`Child`].
//!
//! Design (docs/library.md has the full reasoning): the engine that builds
//! sandboxes changes process-wide state, so it never runs in the caller's
//! process. Each spawn starts the `sandwrap` program as a helper through
//! `posix_spawn`, hands it the sandbox as the option words its command line
//! parses plus the caller's fds over a control socket, and gets typed
//! events back.

mod child;
mod command;
mod error;
mod helper;
mod sandbox;

pub use child::{Child, Output};
pub use command::{Command, Stdio};
pub use error::{Error, ExitStatus};
pub use sandbox::Sandbox;
