//! The `sandwrap` command: parse, run, exit with the command's status.

use std::ffi::OsString;

use sandwrap::cli::{self, CliError, Outcome};

fn main() {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let argv0 = argv.first().map(|a| a.to_string_lossy().into_owned()).unwrap_or_else(|| "sandwrap".into());
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
    std::process::exit(code);
}
