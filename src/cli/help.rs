//! `--help` text and the clap description of the interface (used to generate
//! the man page and shell completions), both built from `table::OPTIONS`.

use clap::{Arg, ArgAction, Command, ValueHint};

use super::capnames::CAP_NAMES;
use super::table::{OPTIONS, OptDef, Section};

/// Width of the option column in `--help`, as bwrap lays it out.
const COLUMN: usize = 33;

/// The usage text bwrap prints for `--help` (stdout) or a missing command
/// (stderr).
pub fn usage_text(argv0: &str) -> String {
    let mut out = format!("usage: {argv0} [OPTIONS...] [--] COMMAND [ARGS...]\n\n");
    for o in OPTIONS {
        let mut left = format!("    --{}", o.name);
        for a in o.args {
            left.push(' ');
            left.push_str(a);
        }
        let pad = COLUMN.saturating_sub(left.len()).max(1);
        out.push_str(&left);
        out.push_str(&" ".repeat(pad));
        // Continuation lines start in the help column, as in bwrap.
        out.push_str(&o.help.replace('\n', &format!("\n{}", " ".repeat(COLUMN))));
        out.push('\n');
    }
    out
}

fn value_hint(o: &OptDef, metavar: &str) -> ValueHint {
    match metavar {
        "SRC" | "DEST" | "RWSRC" | "WORKDIR" | "PATH" => ValueHint::AnyPath,
        "DIR" => ValueHint::DirPath,
        _ if o.name == "lock-file" || o.name == "seccomp-policy" => ValueHint::FilePath,
        _ => ValueHint::Other,
    }
}

/// The man page's headings, named like bwrap's own man page groups options.
fn heading(section: Section) -> &'static str {
    match section {
        Section::General => "General options",
        Section::Namespaces => "Namespace options",
        Section::Environment => "Environment options",
        Section::Monitoring => "Monitoring options",
        Section::Filesystem => "Filesystem options",
        Section::Lockdown => "Lockdown options",
        Section::Landlock => "Landlock options",
        Section::Seccomp => "Seccomp policy options",
        Section::Profiles => "Profile options",
        Section::Limits => "Resource limit options",
        Section::Network => "Network options",
    }
}

/// The interface as a clap `Command`. sandwrap does not parse with clap
/// (bwrap's grammar is stricter: no `--opt=value`, order matters); clap
/// renders the man page and the completions from this.
pub fn clap_command() -> Command {
    let mut cmd = Command::new("sandwrap")
        .version(env!("CARGO_PKG_VERSION"))
        .about("A rootless, bubblewrap-compatible Linux sandbox")
        .long_about(
            "sandwrap runs COMMAND in new Linux namespaces, with a root filesystem built \
             from an empty tmpfs by the filesystem options, in command-line order. It \
             accepts bubblewrap's (bwrap's) command line and reproduces its behaviour and \
             messages, so it can stand in for bwrap under tools such as Flatpak.\n\
             \n\
             Options are read left to right and each takes its values as separate words \
             (there is no --opt=value form). Option parsing stops at the first word that \
             does not start with a dash, or after --. Options can also be read, \
             NUL-separated, from a file descriptor with --args.\n\
             \n\
             sandwrap is never setuid: when run by an unprivileged user it always creates \
             a user namespace, mapping the caller's uid and gid (or --uid and --gid).\n\
             \n\
             Lifecycle. By default, as with bwrap, sandwrap exits with the command's exit \
             status (128+N if a signal N killed it) as soon as the command exits; what the \
             command left running keeps running in the sandbox (pid 1 stays until the last \
             process has gone), and the sandbox does not die with sandwrap unless \
             --die-with-parent ties it to sandwrap's parent. With --end-with-command, \
             everything the command started is ended before sandwrap returns, and the whole \
             sandbox dies with sandwrap, even when sandwrap is killed with SIGKILL; the \
             sandbox then gets a pid namespace of its own (as with --unshare-pid), in which \
             the kernel guarantees both.",
        )
        .override_usage("sandwrap [OPTIONS...] [--] COMMAND [ARGS...]")
        .disable_help_flag(true)
        .disable_version_flag(true);
    for o in OPTIONS {
        let mut arg = Arg::new(o.name)
            .long(o.name)
            .help(o.help.replace('\n', " "))
            .help_heading(heading(o.section));
        if o.args.is_empty() {
            arg = arg.action(ArgAction::SetTrue);
        } else {
            arg = arg
                .num_args(o.args.len())
                .value_names(o.args.iter().copied())
                .action(ArgAction::Append)
                .value_hint(value_hint(o, o.args[o.args.len() - 1]));
            if o.args == ["CAP"] {
                // Leaked once per generation run (man page, completions only).
                let mut names: Vec<&'static str> = CAP_NAMES
                    .iter()
                    .map(|n| &*Box::leak(n.to_ascii_uppercase().into_boxed_str()))
                    .collect();
                names.push("ALL");
                arg = arg
                    .value_parser(clap::builder::PossibleValuesParser::new(names))
                    .hide_possible_values(true);
            }
            if o.name == "profile" {
                // Completions offer the built-ins; a FILE is typed as a path.
                let names: Vec<&'static str> =
                    super::profile::BUILTINS.iter().map(|(n, _)| *n).collect();
                arg = arg.value_parser(clap::builder::PossibleValuesParser::new(names));
            }
        }
        cmd = cmd.arg(arg);
    }
    cmd.arg(
        Arg::new("COMMAND")
            .help("The command to run in the sandbox, and its arguments")
            .help_heading("Arguments")
            .required(true)
            .num_args(1..)
            .trailing_var_arg(true)
            .value_hint(ValueHint::CommandWithArguments),
    )
}
