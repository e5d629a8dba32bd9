//! The `sandwrap` command: parse, run, exit with the command's status.

#![no_main]

use std::ffi::OsString;

use sandwrap::cli::{self, CliError, Outcome};

/// Entered straight from the C runtime: std's start-up (stack-guard probing
/// through /proc/self/maps, SIGSEGV handlers) is not on the launch path.
/// `std::env::args_os` still works (glibc hands argv to std at load time).
#[unsafe(no_mangle)]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let argv0 = argv
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sandwrap".into());
    let code = match cli::parse_args(&argv) {
        Ok(Outcome::Help) => {
            print!("{}", cli::usage_text(&argv0));
            0
        }
        Ok(Outcome::Version) => {
            println!("sandwrap {}", sandwrap::VERSION);
            0
        }
        Ok(Outcome::Run(spec)) => sandwrap::run(&spec),
        Ok(Outcome::ListProfiles(text)) => {
            print!("{text}");
            0
        }
        Ok(Outcome::Explain { spec, argv }) => {
            // SAFETY: getuid/getgid have no preconditions.
            let caller = unsafe { (libc::getuid(), libc::getgid()) };
            print!("{}", cli::explain(&spec, &argv, caller));
            0
        }
        Err(CliError::Usage) => {
            eprint!("{}", cli::usage_text(&argv0));
            1
        }
        Err(CliError::Message { msg, level_prefix }) => {
            eprintln!("{}sandwrap: {msg}", if level_prefix { "<3>" } else { "" });
            1
        }
    };
    // Without std's runtime nothing flushes stdout at exit for us.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    code
}
