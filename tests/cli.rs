//! The built binary's command line: help, version, usage errors, message
//! framing, and what it runs.
mod common;
use common::*;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

/// bwrap 0.11's usage text (bwrap-strings.md §1) after its header line,
/// with its own name where it names itself.
const BWRAP_0_11_OPTIONS: &str = "
    --help                       Print this help
    --version                    Print version
    --args FD                    Parse NUL-separated args from FD
    --argv0 VALUE                Set argv[0] to the value VALUE before running the program
    --level-prefix               Prepend e.g. <3> to diagnostic messages
    --unshare-all                Unshare every namespace we support by default
    --share-net                  Retain the network namespace (can only combine with --unshare-all)
    --unshare-user               Create new user namespace (may be automatically implied if not setuid)
    --unshare-user-try           Create new user namespace if possible else continue by skipping it
    --unshare-ipc                Create new ipc namespace
    --unshare-pid                Create new pid namespace
    --unshare-net                Create new network namespace
    --unshare-uts                Create new uts namespace
    --unshare-cgroup             Create new cgroup namespace
    --unshare-cgroup-try         Create new cgroup namespace if possible else continue by skipping it
    --userns FD                  Use this user namespace (cannot combine with --unshare-user)
    --userns2 FD                 After setup switch to this user namespace, only useful with --userns
    --disable-userns             Disable further use of user namespaces inside sandbox
    --assert-userns-disabled     Fail unless further use of user namespace inside sandbox is disabled
    --pidns FD                   Use this pid namespace (as parent namespace if using --unshare-pid)
    --uid UID                    Custom uid in the sandbox (requires --unshare-user or --userns)
    --gid GID                    Custom gid in the sandbox (requires --unshare-user or --userns)
    --hostname NAME              Custom hostname in the sandbox (requires --unshare-uts)
    --chdir DIR                  Change directory to DIR
    --clearenv                   Unset all environment variables
    --setenv VAR VALUE           Set an environment variable
    --unsetenv VAR               Unset an environment variable
    --lock-file DEST             Take a lock on DEST while sandbox is running
    --sync-fd FD                 Keep this fd open while sandbox is running
    --bind SRC DEST              Bind mount the host path SRC on DEST
    --bind-try SRC DEST          Equal to --bind but ignores non-existent SRC
    --dev-bind SRC DEST          Bind mount the host path SRC on DEST, allowing device access
    --dev-bind-try SRC DEST      Equal to --dev-bind but ignores non-existent SRC
    --ro-bind SRC DEST           Bind mount the host path SRC readonly on DEST
    --ro-bind-try SRC DEST       Equal to --ro-bind but ignores non-existent SRC
    --bind-fd FD DEST            Bind open directory or path fd on DEST
    --ro-bind-fd FD DEST         Bind open directory or path fd read-only on DEST
    --remount-ro DEST            Remount DEST as readonly; does not recursively remount
    --overlay-src SRC            Read files from SRC in the following overlay
    --overlay RWSRC WORKDIR DEST Mount overlayfs on DEST, with RWSRC as the host path for writes and
                                 WORKDIR an empty directory on the same filesystem as RWSRC
    --tmp-overlay DEST           Mount overlayfs on DEST, with writes going to an invisible tmpfs
    --ro-overlay DEST            Mount overlayfs read-only on DEST
    --exec-label LABEL           Exec label for the sandbox
    --file-label LABEL           File label for temporary sandbox content
    --proc DEST                  Mount new procfs on DEST
    --dev DEST                   Mount new dev on DEST
    --tmpfs DEST                 Mount new tmpfs on DEST
    --mqueue DEST                Mount new mqueue on DEST
    --dir DEST                   Create dir at DEST
    --file FD DEST               Copy from FD to destination DEST
    --bind-data FD DEST          Copy from FD to file which is bind-mounted on DEST
    --ro-bind-data FD DEST       Copy from FD to file which is readonly bind-mounted on DEST
    --symlink SRC DEST           Create symlink at DEST with target SRC
    --seccomp FD                 Load and use seccomp rules from FD (not repeatable)
    --add-seccomp-fd FD          Load and use seccomp rules from FD (repeatable)
    --block-fd FD                Block on FD until some data to read is available
    --userns-block-fd FD         Block on FD until the user namespace is ready
    --info-fd FD                 Write information about the running container to FD
    --json-status-fd FD          Write container status to FD as multiple JSON documents
    --new-session                Create a new terminal session
    --die-with-parent            Kills with SIGKILL child process (COMMAND) when sandwrap or sandwrap's parent dies.
    --as-pid-1                   Do not install a reaper process with PID=1
    --cap-add CAP                Add cap CAP when running as privileged user
    --cap-drop CAP               Drop cap CAP when running as privileged user
    --perms OCTAL                Set permissions of next argument (--bind-data, --file, etc.)
    --size BYTES                 Set size of next argument (only for --tmpfs)
    --chmod OCTAL PATH           Change permissions of PATH (must already exist)
";

/// The binary run directly, as the current user, with `argv[0]` set.
fn direct(argv0: &str, args: &[&str]) -> (i32, String, String) {
    let o = Command::new(sandwrap_bin())
        .arg0(argv0)
        .args(args)
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .expect("spawn sandwrap");
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

fn usage_header(argv0: &str) -> String {
    format!("usage: {argv0} [OPTIONS...] [--] COMMAND [ARGS...]\n")
}

/// Check a usage text: bwrap 0.11's, then --not-a-security-boundary, then
/// only sandwrap's own options.
fn assert_usage(text: &str, argv0: &str) {
    let rest = text
        .strip_prefix(&usage_header(argv0))
        .unwrap_or_else(|| panic!("bad header in:\n{text}"));
    let rest = rest
        .strip_prefix(BWRAP_0_11_OPTIONS)
        .unwrap_or_else(|| panic!("bwrap 0.11's options differ:\n{rest}"));
    let mut lines = rest.lines();
    let boundary = lines.next().expect("--not-a-security-boundary line");
    assert!(
        boundary.starts_with("    --not-a-security-boundary    "),
        "{boundary}"
    );
    for line in lines {
        assert!(
            line.starts_with("    --") && line.len() > 33,
            "unexpected line {line:?}"
        );
    }
    assert!(text.ends_with('\n') && !text.ends_with("\n\n"));
}

#[test]
fn help_goes_to_stdout_with_every_bwrap_option() {
    let (code, out, err) = run(&["--help"]);
    assert_eq!(code, 0);
    assert_eq!(err, "");
    assert_usage(&out, &sandwrap_bin().display().to_string());
    // Every option counted: bwrap 0.11's 67, plus --not-a-security-boundary.
    let bwrap_lines = BWRAP_0_11_OPTIONS
        .lines()
        .filter(|l| l.starts_with("    --"))
        .count();
    assert_eq!(bwrap_lines, 67);
}

#[test]
fn usage_names_argv0_as_given() {
    let (code, out, _) = direct("my-wrapper", &["--help"]);
    assert_eq!(code, 0);
    assert!(out.starts_with(&usage_header("my-wrapper")), "{out}");
    // --help wins wherever it stands in the options, and ends them.
    let (code, out, _) = direct("w", &["--unshare-pid", "--help", "--no-such-option"]);
    assert_eq!(code, 0);
    assert_usage(&out, "w");
}

#[test]
fn no_arguments_or_no_command_prints_usage_to_stderr() {
    for args in [
        &[][..],
        &["--unshare-pid"][..],
        &["--"][..],
        &["--bind", "/a", "/b"][..],
    ] {
        let (code, out, err) = direct("sw", args);
        assert_eq!(code, 1, "{args:?}");
        assert_eq!(out, "", "{args:?}");
        assert_usage(&err, "sw");
    }
}

#[test]
fn version_exits_zero() {
    for args in [
        &["--version"][..],
        &["--unshare-pid", "--version", "--no-such-option"][..],
    ] {
        let (code, out, err) = run(args);
        assert_eq!(code, 0, "{args:?}");
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(
            out.contains(&format!("(sandwrap {})", env!("CARGO_PKG_VERSION"))),
            "{out}"
        );
        assert_eq!(err, "");
    }
}

/// The major, minor and patch of a version word, as launchers read them
/// (they tolerate a suffix after the patch number).
fn version_of(word: &str) -> Option<(u32, u32, u32)> {
    let mut parts = word.splitn(3, '.');
    let num = |s: &str| {
        let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor, num(parts.next()?)?))
}

/// Launchers parse `bwrap --version` as bwrap prints it (`bubblewrap
/// 0.8.0`); each way must find the bubblewrap version sandwrap implements
/// (0.11), never sandwrap's own.
#[test]
fn version_reads_as_the_bubblewrap_version_implemented() {
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, 0);
    let words: Vec<&str> = out.split_whitespace().collect();
    // bwrap's own line has the same shape at its start.
    if let Some((_, b, _)) = run_bwrap(&["--version"]) {
        let bw: Vec<&str> = b.split_whitespace().collect();
        assert_eq!((bw.len(), bw[0]), (2, "bubblewrap"), "{b}");
        assert!(version_of(bw[1]).is_some(), "{b}");
    }
    // `startswith("bubblewrap ")`, and the first line as a whole.
    assert!(out.starts_with("bubblewrap "), "{out}");
    let implemented = |v: Option<(u32, u32, u32)>, how: &str| {
        let v = v.unwrap_or_else(|| panic!("{how}: no version in {out:?}"));
        assert!(
            ((0, 11, 0)..(0, 12, 0)).contains(&v),
            "{how} reads {v:?} from {out:?}"
        );
    };
    // The second word (BuildStream, compared with (0, 1, 8)).
    implemented(version_of(words[1]), "the second word");
    // The last word, with a tolerant `^\d+\.\d+\.\d+` (Zuul).
    implemented(version_of(words[words.len() - 1]), "the last word");
    // The first word that is a version number (agent sandboxes).
    implemented(
        words.iter().find_map(|w| version_of(w)),
        "the first version number",
    );
    // `bubblewrap X.Y.Z` anywhere (cve-bin-tool's pattern).
    let after = out.split("bubblewrap ").nth(1).unwrap_or("");
    implemented(
        version_of(after.split_whitespace().next().unwrap_or("")),
        "bubblewrap X.Y.Z",
    );
}

#[test]
fn unknown_options_are_fatal() {
    for word in ["--foo", "--bind=a", "--chdir=/", "-x", "-", "---bind"] {
        let (code, out, err) = run(&[word, "true"]);
        assert_eq!(code, 1, "{word}");
        assert_eq!(out, "");
        assert_eq!(err, format!("sandwrap: Unknown option {word}\n"));
    }
    // Found in order: --help after it is not reached.
    let (code, _, err) = run(&["--foo", "--help"]);
    assert_eq!(
        (code, err.as_str()),
        (1, "sandwrap: Unknown option --foo\n")
    );
}

#[test]
fn option_errors_use_bwrap_wording() {
    for (args, msg) in [
        (&["--bind", "/a"][..], "--bind takes two arguments"),
        (&["--ro-bind-fd", "3"][..], "--bind-fd takes two arguments"),
        (&["--chdir"][..], "--chdir takes one argument"),
        (&["--uid", "x", "true"][..], "Invalid uid: x"),
        (
            &["--perms", "0700", "--bind", "/a", "/b", "true"][..],
            "--perms must be followed by an option that creates a file",
        ),
        (
            &["--argv0", "a", "--argv0", "b", "true"][..],
            "--argv0 used multiple times",
        ),
        (
            &["--cap-add", "sys_admin", "true"][..],
            "unknown cap: sys_admin",
        ),
        (
            &["--hostname", "h", "true"][..],
            "Specifying --hostname requires --unshare-uts",
        ),
    ] {
        let (code, out, err) = run(args);
        assert_eq!((code, out.as_str()), (1, ""), "{args:?}");
        assert_eq!(err, format!("sandwrap: {msg}\n"), "{args:?}");
    }
}

#[test]
fn level_prefix_marks_later_errors_and_warnings() {
    let (code, _, err) = run(&["--level-prefix", "--foo"]);
    assert_eq!(
        (code, err.as_str()),
        (1, "<3>sandwrap: Unknown option --foo\n")
    );
    // Only once it has been parsed.
    let (code, _, err) = run(&["--foo", "--level-prefix"]);
    assert_eq!(
        (code, err.as_str()),
        (1, "sandwrap: Unknown option --foo\n")
    );
    let (code, _, err) = run(&["--level-prefix", "--chdir", "/", "--chdir", "/", "--bogus"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "<4>sandwrap: Only the last --chdir option will take effect\n<3>sandwrap: Unknown option --bogus\n"
    );
    // Validation after parsing knows it too.
    let (_, _, err) = run(&["--level-prefix", "--as-pid-1", "true"]);
    assert_eq!(
        err,
        "<3>sandwrap: Specifying --as-pid-1 requires --unshare-pid\n"
    );
}

/// Whether sandboxes can be created here at all.
fn sandboxes_work() -> bool {
    let (code, _, err) = run(&["--ro-bind", "/", "/", "true"]);
    if code != 0 {
        skip!("skipping: sandwrap cannot create a sandbox here: {err}");
    }
    code == 0
}

#[test]
fn warnings_do_not_stop_the_command() {
    if !sandboxes_work() {
        return;
    }
    let (code, out, err) = run(&[
        "--ro-bind",
        "/",
        "/",
        "--chdir",
        "/usr",
        "--chdir",
        "/",
        "pwd",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "/\n");
    assert_eq!(
        err,
        "sandwrap: Only the last --chdir option will take effect\n"
    );
}

#[test]
fn a_command_named_like_an_option_runs_after_double_dash() {
    if !sandboxes_work() {
        return;
    }
    let dir = scratch("optcmd");
    for name in ["--version", "--bind", "-x"] {
        let script = dir.join(name);
        std::fs::write(&script, format!("#!/bin/sh\necho ran {name} \"$@\"\n"))
            .expect("write script");
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        give(&script);
        let path = dir.display().to_string();
        let (code, out, err) = run(&ro_root_cmd(
            &["--setenv", "PATH", &path],
            &[name, "--help"],
        ));
        assert_eq!(code, 0, "{name}: {err}");
        assert_eq!(out, format!("ran {name} --help\n"));
    }
}

#[test]
fn args_are_read_from_a_real_fd() {
    if !sandboxes_work() {
        return;
    }
    let dir = scratch("argsfd");
    let payload = dir.join("args");
    mkfile(&payload, b"--ro-bind\0/\0/\0--setenv\0FROM_FD\0yes\0");
    let mut cmd = user_command(std::path::Path::new("/bin/sh"));
    cmd.arg("-c")
        .arg("exec \"$0\" \"$@\" 3<\"$ARGS_FILE\"")
        .arg(sandwrap_bin())
        .args([
            "--args",
            "3",
            "sh",
            "-c",
            "echo $FROM_FD; ls /proc/self/fd/3 2>/dev/null || echo closed",
        ])
        .env("ARGS_FILE", &payload);
    let o = output(cmd);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The payload was parsed, and the fd was closed after reading it.
    assert_eq!(stdout(&o), "yes\nclosed\n");
}

/// sandwrap's own messages never crash it: with stderr on /dev/full every
/// write fails (ENOSPC), and a panicking print would abort (134) with no
/// status; each bad input still exits 1. stdout output that cannot be
/// written is an error named on stderr.
#[test]
fn failed_writes_of_messages_are_not_fatal() {
    let full = || std::fs::OpenOptions::new().write(true).open("/dev/full");
    let cases: &[&[&str]] = &[
        &["--foo"],
        &["--chdir", "/", "--chdir", "/", "--bogus"],
        &["--level-prefix", "--uid", "x", "true"],
        &[],
        &[
            "--ro-bind",
            "/",
            "/",
            "--bind",
            "/nonexistent",
            "/x",
            "true",
        ],
        &[
            "--ro-bind",
            "/",
            "/",
            "--verbose",
            "--chdir",
            "/nonexistent",
            "true",
        ],
        &[
            "--ro-bind",
            "/",
            "/",
            "--seccomp-deny",
            "write",
            "--",
            "/nonexistent",
        ],
    ];
    for args in cases {
        let mut cmd = sandwrap(*args);
        cmd.stderr(full().expect("open /dev/full"));
        let o = output(cmd);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {:?}", o.status);
    }
    for args in [&["--help"][..], &["--version"][..]] {
        let mut cmd = sandwrap(args);
        cmd.stdout(full().expect("open /dev/full"));
        let o = output(cmd);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr(&o),
            "sandwrap: Can't write to stdout: No space left on device\n"
        );
    }
}

/// `--args` on 50 MB of NULs (50 million empty words) is refused at bwrap's
/// limit while reading: under a 256 MiB address-space limit, where holding
/// the words would abort sandwrap ("memory allocation ... failed").
#[test]
fn a_huge_args_payload_is_refused_while_reading() {
    let dir = scratch("hugeargs");
    let payload = dir.join("nuls");
    mkfile(&payload, vec![0u8; 50_000_000]);
    let run_one = |bin: &std::path::Path| {
        let mut cmd = user_command(std::path::Path::new("/bin/sh"));
        cmd.arg("-c")
            .arg("ulimit -v 262144 && exec \"$0\" --args 3 true 3<\"$ARGS_FILE\"")
            .arg(bin)
            .env("ARGS_FILE", &payload);
        let o = output(cmd);
        (o.status.code(), stderr(&o))
    };
    assert_eq!(
        run_one(&sandwrap_bin()),
        (
            Some(1),
            "sandwrap: Exceeded maximum number of arguments 9000\n".to_string()
        )
    );
    // bwrap says the same.
    if let Some(bwrap) = bwrap_bin() {
        assert_eq!(
            run_one(&bwrap).1,
            "bwrap: Exceeded maximum number of arguments 9000\n"
        );
    }
    let _ = std::fs::remove_file(&payload);
}

/// With --level-prefix every line sandwrap prints carries a severity:
/// errors and the --verbose call line <3>, warnings <4>, landlock's
/// --verbose summary <6>.
#[test]
fn level_prefix_marks_every_line() {
    if !sandboxes_work() {
        return;
    }
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &[
                "--level-prefix",
                "--verbose",
                "--ro-bind",
                "/",
                "/",
                "--chdir",
                "/nonexistent",
                "true",
            ],
            1,
            "<3>",
        ),
        (
            &[
                "--level-prefix",
                "--verbose",
                "--ro-bind",
                "/",
                "/",
                "--landlock",
                "true",
            ],
            0,
            "<6>",
        ),
        (
            &[
                "--level-prefix",
                "--chdir",
                "/",
                "--chdir",
                "/",
                "--ro-bind",
                "/",
                "/",
                "true",
            ],
            0,
            "<4>",
        ),
    ];
    for (args, status, level) in cases {
        let (code, _, err) = run(args);
        assert_eq!(code, *status, "{args:?}: {err}");
        assert!(!err.is_empty(), "{args:?}");
        for line in err.lines() {
            assert!(
                line.starts_with(&format!("{level}sandwrap: ")),
                "{args:?}: {line:?} in\n{err}"
            );
        }
    }
}

/// Endless data fds (/dev/zero) end in an error, never in a hang or an
/// allocation failure (`timeout` ends a hang: status 124/137).
#[test]
fn endless_data_fds_are_refused() {
    for (args, msg) in [
        (
            &["--args", "3", "true"][..],
            "sandwrap: Exceeded maximum number of arguments 9000\n",
        ),
        (
            &["--add-seccomp-fd", "3", "true"][..],
            "sandwrap: Invalid seccomp data, more than 4096 instructions (the kernel's limit)\n",
        ),
    ] {
        let mut cmd = user_command(std::path::Path::new("/bin/sh"));
        cmd.arg("-c")
            .arg("ulimit -v 262144 && exec timeout -k 5 60 \"$0\" \"$@\" 3</dev/zero")
            .arg(sandwrap_bin())
            .args(args);
        let o = output(cmd);
        assert_eq!(
            (o.status.code(), stderr(&o).as_str()),
            (Some(1), msg),
            "{args:?}"
        );
    }
}
