//! The `sandwrap` command: parse, run, exit with the command's status.
//!
//! The engine (every system call that builds and runs a sandbox) is part of
//! this program only, never of the library: it changes process-wide state
//! (fds, signal mask, no_new_privs, subreaper, `waitpid(-1)`), so it must run
//! in a process of its own. The library's pure parts are re-exported at this
//! crate's root so the engine's `crate::spec`, `crate::cli`, ... paths name
//! them.

#![cfg_attr(not(test), no_main)]

// Under `cargo test` nothing calls `main`, so only the unit tests use it.
#[cfg_attr(test, allow(dead_code))]
mod engine;

use std::ffi::OsString;

use cli::{CliError, Outcome};
use out::Level;
use sandwrap::{cli, control, errno_text, hostio, io_error_text, landlock, out, seccomp, spec};

/// Entered straight from the C runtime: std's start-up (stack-guard probing
/// through /proc/self/maps, SIGSEGV handlers) is not on the launch path.
/// `std::env::args_os` still works (glibc hands argv to std at load time).
#[cfg_attr(not(test), unsafe(no_mangle))]
#[cfg_attr(test, allow(dead_code))]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    let argv: Vec<OsString> = std::env::args_os().collect();
    if let Some(argv0) = argv.first() {
        out::set_program(argv0);
    }
    // --control-fd: the caller's fds are placed before any option can name
    // them (the parser then only checks the option came first).
    if argv.get(1).is_some_and(|a| a == "--control-fd") {
        let word = argv.get(2).map(|w| w.to_string_lossy().into_owned());
        let fd = word
            .as_deref()
            .and_then(|w| w.parse::<std::ffi::c_int>().ok());
        let placed = match fd {
            Some(fd) if fd >= 0 => engine::control::accept(fd),
            _ => Err(format!("Invalid fd: {}", word.unwrap_or_default())),
        };
        if let Err(why) = placed {
            out::message(false, Level::Error, &format!("--control-fd: {why}"));
            return 1;
        }
    }
    let argv0 = argv
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| out::program().into());
    let printed_with = |level_prefix: bool, text: &str| match out::stdout(text) {
        Ok(()) => 0,
        Err(errno) => {
            let msg = format!("Can't write to stdout: {}", sandwrap::errno_text(errno));
            out::message(level_prefix, Level::Error, &msg);
            1
        }
    };
    let printed = |text: &str| printed_with(false, text);
    match cli::parse_args(&argv) {
        Ok(Outcome::Help) => printed(&cli::usage_text(&argv0)),
        Ok(Outcome::Version) => printed(&format!("{}\n", sandwrap::version_line())),
        Ok(Outcome::Run(spec)) => engine::run(&spec),
        Ok(Outcome::ListProfiles(text)) => printed(&text),
        Ok(Outcome::Explain { spec, argv }) => {
            // SAFETY: getuid/getgid have no preconditions.
            let caller = unsafe { (libc::getuid(), libc::getgid()) };
            printed_with(spec.level_prefix, &cli::explain(&spec, &argv, caller))
        }
        Err(CliError::Usage) => {
            out::stderr(&cli::usage_text(&argv0));
            1
        }
        Err(CliError::Message { msg, level_prefix }) => {
            out::message(level_prefix, Level::Error, &msg);
            1
        }
    }
}
