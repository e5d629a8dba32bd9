//! The man page and shell completions are generated from the clap description
//! of the interface (itself built from the one option table) and committed.
//! This test fails when a committed file is stale; with SANDWRAP_REGENERATE=1
//! it rewrites them instead.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap_complete::Shell;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

use sandwrap::cli::table::OPTIONS;

const REGENERATE: &str = "SANDWRAP_REGENERATE";

/// One paragraph under a `.TP` tag: `tag` in bold, then the body.
fn item(roff: &mut Roff, tag: &str, body: &str) {
    roff.control("TP", []);
    roff.text([bold(tag)]);
    roff.text([roman(body)]);
}

/// Sections clap knows nothing about, in roff.
fn extra_sections() -> Roff {
    let mut r = Roff::new();

    r.control("SH", ["EXIT STATUS"]);
    item(
        &mut r,
        "N",
        "COMMAND exited with status N; sandwrap exits with the same status.",
    );
    item(&mut r, "128+N", "COMMAND was killed by signal N.");
    item(
        &mut r,
        "1",
        "sandwrap itself failed: a usage error, an unknown or invalid option, a setup \
         failure, or COMMAND could not be executed. A message starting with \"sandwrap: \" \
         is printed to standard error.",
    );
    item(&mut r, "0", "--help or --version.");
    item(
        &mut r,
        "124",
        "--timeout: the time limit was reached and the sandbox was ended.",
    );

    r.control("SH", ["ENVIRONMENT"]);
    r.text([roman(
        "COMMAND gets sandwrap's environment, changed by --setenv, --unsetenv, \
         --clearenv and --keep-env in the order they appear (--keep-env NAME sets NAME, or \
         with a trailing * every variable starting with what precedes it, to sandwrap's own \
         value: after --clearenv it lets chosen variables through). PWD is always set to COMMAND's working \
         directory: --chdir, else the current directory if it exists in the sandbox, \
         else HOME, else /. COMMAND is searched for in the PATH of that environment, \
         inside the new root.",
    )]);
    item(
        &mut r,
        "SANDWRAP_MOUNT_API=legacy",
        "Do not use mount_setattr(2): remount each mount of a bind from the mount table, \
         as on Linux before 5.12 (where sandwrap does this by itself). For testing.",
    );
    item(
        &mut r,
        "SANDWRAP_LANDLOCK_ABI_MAX=N",
        "Use at most landlock ABI N, as on an older kernel. For testing.",
    );
    item(
        &mut r,
        "SANDWRAP_PROC_CHILDREN=scan",
        "Do not read /proc/PID/task/TID/children: find the processes of the sandbox by the \
         parent pid of every process in /proc, as on a kernel built without \
         CONFIG_PROC_CHILDREN (where sandwrap does this by itself). For testing.",
    );

    r.control("SH", ["RESOURCE LIMITS"]);
    for (tag, body) in sandwrap::cli::limits::MAN {
        item(&mut r, tag, body);
    }

    r.control("SH", ["TIME NAMESPACES AND SUBORDINATE IDS"]);
    for (tag, body) in sandwrap::cli::nsopts::MAN {
        item(&mut r, tag, body);
    }

    r.control("SH", ["PROFILES"]);
    for (tag, body) in sandwrap::cli::profile::man::RULES {
        if tag.is_empty() {
            r.text([roman(*body)]);
        } else {
            item(&mut r, tag, body);
        }
    }
    r.control("SS", ["Built-in profiles"]);
    for (tag, body) in sandwrap::cli::profile::man::BUILTIN_DOCS {
        item(&mut r, tag, body);
    }

    r.control("SH", ["NOTES"]);
    r.text([roman(
        "--help lists the options in bwrap's order, not grouped as in this page, so \
         that the two can be compared line by line.",
    )]);
    r.control("PP", [] as [&str; 0]);
    r.text([roman(
        "Messages start with \"sandwrap: \". Invoked under the name bwrap (argv[0]'s \
         basename, e.g. a symlink named bwrap, as a distribution may offer sandwrap as an \
         alternative for bwrap), they start with \"bwrap: \" instead, so that scripts \
         matching bwrap's messages match byte for byte.",
    )]);
    r.control("PP", [] as [&str; 0]);
    r.text([roman(
        "--args payloads are checked while they are read: 9000 arguments in all, argv \
         included (bwrap's limit), a word at most 128 KiB (the kernel's limit on one \
         argument), 64 MiB of payload in all. --add-seccomp-fd reads at most the kernel's \
         4096 instructions.",
    )]);
    r.control("PP", [] as [&str; 0]);
    r.text([roman(format!(
        "--version prints the bubblewrap version whose interface sandwrap implements, as \
         bwrap prints its own, and sandwrap's version: \"{}\". Launchers that read the \
         second word, the last word or the first version number all find {}.",
        sandwrap::version_line(),
        sandwrap::BWRAP_VERSION
    ))]);

    r.control("SH", ["DIFFERENCES FROM BWRAP"]);
    let differences: [(&str, &str); 11] = [
        (
            "Never setuid",
            "sandwrap is never installed setuid and never gains privileges. An unprivileged \
             caller always gets a user namespace.",
        ),
        (
            "No capabilities by default",
            "COMMAND runs with no capabilities, even when sandwrap is run as root, unless \
             they are granted with --cap-add.",
        ),
        (
            "The sandbox ends with COMMAND",
            "With a pid namespace, pid 1 kills and reaps every process left in the sandbox \
             when COMMAND exits, then exits itself. bwrap keeps them running.",
        ),
        (
            "Leftover processes are killed",
            "The supervisor is a child subreaper: when COMMAND exits, processes it left \
             behind are reparented to the supervisor and killed.",
        ),
        (
            "Destinations resolve inside the new root",
            "Every destination is resolved with openat2(RESOLVE_IN_ROOT) relative to the \
             new root, so a symlink inside the sandbox (absolute, or using ..) can never \
             make setup create, change or mount anything outside it.",
        ),
        (
            "Signals reach the sandbox",
            "SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGUSR1 and SIGUSR2 sent to sandwrap are passed \
             on to COMMAND (those from the terminal only with --new-session, since COMMAND \
             gets them itself otherwise); during setup they end the sandbox with 128+N.",
        ),
        (
            "Errors name the failed call",
            "Messages keep bwrap's wording on one line; with --verbose a second line names the \
             system call that failed and its arguments.",
        ),
        (
            "Landlock network rules hold",
            "While a landlock TCP rule is in force (--landlock-tcp-connect, --landlock-tcp-bind, \
             the ci profile, --unshare-net with --fallback landlock), MPTCP and SCTP sockets fail \
             with EPROTONOSUPPORT and io_uring is denied, by seccomp rules of sandwrap's own: \
             landlock restricts plain TCP only.",
        ),
        (
            "The landlock fallback and unix sockets",
            "Landlock does not restrict connecting to pathname unix sockets: with --fallback \
             landlock the host's daemons (session bus, ssh-agent, X11, docker.sock) stay \
             reachable by their path, and a warning says so. With --unshare-net the fallback \
             refuses creating unix sockets instead (socket(AF_UNIX) and datagram socket pairs \
             fail with EACCES; connected pairs keep working).",
        ),
        (
            "Locked read-only mounts",
            "With --dev or --disable-userns, COMMAND runs in a nested user and mount \
             namespace; when it keeps CAP_SYS_ADMIN (--cap-add), in a mount namespace owned \
             by a nested user namespace (its capabilities still apply to the sandbox's \
             network, UTS and IPC namespaces). Either way the mounts made during setup are \
             locked: a read-only mount cannot be remounted writable from inside, and what a \
             mount covers cannot be uncovered. bwrap leaves them unlocked.",
        ),
        (
            "sandwrap's processes are out of reach",
            "COMMAND always runs in a landlock domain of its own, which pid 1, the reaper \
             and the supervisor stay outside: it cannot ptrace them or open their \
             /proc/PID/{mem,exe,fd,root,environ,...}, nor, from landlock ABI 6, signal any \
             process outside the sandbox (kill(0) to the caller's process group and kill(-1) \
             included). A launcher outside can still open /proc/PID/root and /proc/PID/ns/* \
             of the --info-fd child-pid. Without landlock, sandwrap's own processes are \
             non-dumpable instead (which also shuts such a launcher out of pid 1) and signals \
             are not confined. --verbose says which protection is in force. Install sandwrap \
             where only root can write it: a binary the user can write turns any way into one \
             of these processes into a way out of every later sandbox.",
        ),
    ];
    for (tag, body) in differences {
        item(&mut r, tag, body);
    }

    r.control("SH", ["SEE ALSO"]);
    r.text([
        bold("bwrap"),
        roman("(1), "),
        bold("user_namespaces"),
        roman("(7), "),
        bold("mount_namespaces"),
        roman("(7)"),
    ]);
    r
}

/// `Roff` writers each start with the same preamble; keep only the first.
fn strip_preamble(piece: Vec<u8>) -> Vec<u8> {
    let preamble = Roff::new().render().into_bytes();
    match piece.strip_prefix(preamble.as_slice()) {
        Some(rest) => rest.to_vec(),
        None => piece,
    }
}

fn man_page() -> Vec<u8> {
    let man = Man::new(sandwrap::cli::clap_command());
    type Render<'a> = &'a dyn Fn(&mut Vec<u8>) -> std::io::Result<()>;
    let pieces: [Render; 7] = [
        // clap_mangen leaves an empty date out of `.TH`, shifting the fields;
        // the date stays empty so that the file is reproducible.
        &|w| {
            writeln!(
                w,
                ".TH SANDWRAP 1 \"\" \"sandwrap {}\" \"User Commands\"",
                env!("CARGO_PKG_VERSION")
            )
        },
        &|w| man.render_name_section(w),
        &|w| man.render_synopsis_section(w),
        &|w| man.render_description_section(w),
        &|w| man.render_options_section(w),
        &|w| extra_sections().to_writer(w),
        &|w| man.render_version_section(w),
    ];
    let mut out = Roff::new().render().into_bytes();
    for render in pieces {
        let mut piece = Vec::new();
        render(&mut piece).expect("render");
        out.extend(strip_preamble(piece));
    }
    out
}

fn completion(shell: Shell) -> Vec<u8> {
    let mut cmd = sandwrap::cli::clap_command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "sandwrap", &mut out);
    out
}

fn generated() -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    vec![
        (root.join("man/sandwrap.1"), man_page()),
        (
            root.join("completions/sandwrap.bash"),
            completion(Shell::Bash),
        ),
        (root.join("completions/_sandwrap"), completion(Shell::Zsh)),
        (
            root.join("completions/sandwrap.fish"),
            completion(Shell::Fish),
        ),
    ]
}

#[test]
fn committed_files_are_current() {
    let regenerate = std::env::var_os(REGENERATE).is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (path, content) in generated() {
        if std::fs::read(&path).ok().as_deref() == Some(content.as_slice()) {
            continue;
        }
        if regenerate {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("create dir");
            std::fs::write(&path, &content).expect("write generated file");
            eprintln!("regenerated {}", path.display());
        } else {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files (the option table or src/cli/help.rs changed):\n  {}\n\
         regenerate them with:\n  {REGENERATE}=1 cargo test --test generated\nand commit the result",
        stale.join("\n  ")
    );
}

/// The generated text really describes the interface: every option, and the
/// hand-written sections.
#[test]
fn generated_files_cover_every_option() {
    let files = generated();
    for (path, content) in &files {
        let text = String::from_utf8_lossy(content);
        for o in OPTIONS {
            // roff escapes '-' as '\-'.
            let needle = if path.extension().is_some_and(|e| e == "1") {
                format!("\\-\\-{}", o.name.replace('-', "\\-"))
            } else if path.extension().is_some_and(|e| e == "fish") {
                format!("-l {}", o.name)
            } else {
                format!("--{}", o.name)
            };
            assert!(text.contains(&needle), "{} lacks {needle}", path.display());
        }
    }
    let man = String::from_utf8_lossy(&files[0].1);
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "NAMESPACE OPTIONS",
        "FILESYSTEM OPTIONS",
        "EXIT STATUS",
        "ENVIRONMENT",
        "PROFILES",
        "DIFFERENCES FROM BWRAP",
        "SEE ALSO",
    ] {
        assert!(
            man.contains(&format!(".SH \"{section}\""))
                || man.contains(&format!(".SH {section}\n")),
            "man page lacks section {section}"
        );
    }
    assert!(man.contains("RESOLVE_IN_ROOT"));
}
