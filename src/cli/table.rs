//! The one table of command-line options. The parser, `--help`, the man page
//! and the shell completions are all driven by it, so they cannot disagree.

use crate::spec::{BindMode, LandlockAccess};

/// What an option does when the parser meets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Help,
    Version,
    Args,
    Argv0,
    LevelPrefix,
    UnshareAll,
    ShareNet,
    UnshareUser,
    UnshareUserTry,
    UnshareIpc,
    UnsharePid,
    UnshareNet,
    UnshareUts,
    UnshareCgroup,
    UnshareCgroupTry,
    Userns,
    Userns2,
    DisableUserns,
    AssertUsernsDisabled,
    Pidns,
    Uid,
    Gid,
    Hostname,
    Chdir,
    Clearenv,
    Setenv,
    Unsetenv,
    KeepEnv,
    LockFile,
    SyncFd,
    Bind(BindMode, bool),
    BindFd(bool),
    RemountRo,
    OverlaySrc,
    Overlay,
    TmpOverlay,
    RoOverlay,
    ExecLabel,
    FileLabel,
    Proc,
    Dev,
    Tmpfs,
    Mqueue,
    Dir,
    File,
    BindData(bool),
    Symlink,
    Seccomp,
    AddSeccompFd,
    BlockFd,
    UsernsBlockFd,
    InfoFd,
    JsonStatusFd,
    ControlFd,
    NewSession,
    DieWithParent,
    AsPid1,
    CapAdd,
    CapDrop,
    Perms,
    Size,
    Chmod,
    NotASecurityBoundary,
    Landlock,
    LandlockRule(LandlockAccess),
    LandlockTcpConnect,
    LandlockTcpBind,
    LandlockScope,
    LandlockStrict,
    Fallback,
    Verbose,
    EndWithCommand,
    Profile,
    ListProfiles,
    Explain,
    RoBindAsHost,
    BindMkdir,
    Protect,
    SeccompPolicy,
    SeccompAllow,
    SeccompDeny,
    SeccompReport,
    SeccompReportFd,
    Rlimit,
    Timeout,
    KillAfter,
    CgroupMemory,
    CgroupMemorySwap,
    CgroupPidsMax,
    CgroupCpus,
    OwnCgroup,
    JsonUsage,
    Network,
    NetworkAllowHostLoopback,
    Publish,
    UnshareTime,
    TimeOffset,
    MapSubids,
    MapSubidsCount,
}

/// Which part of the help (and man page) an option belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    General,
    Namespaces,
    Environment,
    Monitoring,
    Filesystem,
    Lockdown,
    /// sandwrap's own: landlock rules, the no-namespace fallback.
    Landlock,
    /// sandwrap's own options (not in bwrap).
    Seccomp,
    /// sandwrap's own: profiles and `--explain`.
    Profiles,
    /// sandwrap's own: rlimits, the time limit, cgroup limits.
    Limits,
    /// sandwrap's own: `--network pasta` and its port forwards.
    Network,
}

/// One command-line option: `--name ARG...`.
#[derive(Clone, Copy, Debug)]
pub struct OptDef {
    /// Name without the leading `--`.
    pub name: &'static str,
    /// Names of the values that follow, each its own word.
    pub args: &'static [&'static str],
    /// One line per `\n`, broken where bwrap's `--help` breaks it.
    pub help: &'static str,
    pub action: Action,
    pub section: Section,
}

const fn opt(
    name: &'static str,
    args: &'static [&'static str],
    action: Action,
    section: Section,
    help: &'static str,
) -> OptDef {
    OptDef {
        name,
        args,
        help,
        action,
        section,
    }
}

use Action as A;
use BindMode::{Device, ReadOnly, ReadWrite};
use LandlockAccess as LA;
use Section::*;

/// Every option, in the order `--help` lists them (bwrap's order).
pub const OPTIONS: &[OptDef] = &[
    opt("help", &[], A::Help, General, "Print this help"),
    opt("version", &[], A::Version, General, "Print version"),
    opt(
        "args",
        &["FD"],
        A::Args,
        General,
        "Parse NUL-separated args from FD",
    ),
    opt(
        "argv0",
        &["VALUE"],
        A::Argv0,
        General,
        "Set argv[0] to the value VALUE before running the program",
    ),
    opt(
        "level-prefix",
        &[],
        A::LevelPrefix,
        General,
        "Prepend e.g. <3> to diagnostic messages",
    ),
    opt(
        "unshare-all",
        &[],
        A::UnshareAll,
        Namespaces,
        "Unshare every namespace we support by default",
    ),
    opt(
        "share-net",
        &[],
        A::ShareNet,
        Namespaces,
        "Retain the network namespace (can only combine with --unshare-all)",
    ),
    opt(
        "unshare-user",
        &[],
        A::UnshareUser,
        Namespaces,
        "Create new user namespace (may be automatically implied if not setuid)",
    ),
    opt(
        "unshare-user-try",
        &[],
        A::UnshareUserTry,
        Namespaces,
        "Create new user namespace if possible else continue by skipping it",
    ),
    opt(
        "unshare-ipc",
        &[],
        A::UnshareIpc,
        Namespaces,
        "Create new ipc namespace",
    ),
    opt(
        "unshare-pid",
        &[],
        A::UnsharePid,
        Namespaces,
        "Create new pid namespace",
    ),
    opt(
        "unshare-net",
        &[],
        A::UnshareNet,
        Namespaces,
        "Create new network namespace",
    ),
    opt(
        "unshare-uts",
        &[],
        A::UnshareUts,
        Namespaces,
        "Create new uts namespace",
    ),
    opt(
        "unshare-cgroup",
        &[],
        A::UnshareCgroup,
        Namespaces,
        "Create new cgroup namespace",
    ),
    opt(
        "unshare-cgroup-try",
        &[],
        A::UnshareCgroupTry,
        Namespaces,
        "Create new cgroup namespace if possible else continue by skipping it",
    ),
    opt(
        "userns",
        &["FD"],
        A::Userns,
        Namespaces,
        "Use this user namespace (cannot combine with --unshare-user)",
    ),
    opt(
        "userns2",
        &["FD"],
        A::Userns2,
        Namespaces,
        "After setup switch to this user namespace, only useful with --userns",
    ),
    opt(
        "disable-userns",
        &[],
        A::DisableUserns,
        Namespaces,
        "Disable further use of user namespaces inside sandbox",
    ),
    opt(
        "assert-userns-disabled",
        &[],
        A::AssertUsernsDisabled,
        Namespaces,
        "Fail unless further use of user namespace inside sandbox is disabled",
    ),
    opt(
        "pidns",
        &["FD"],
        A::Pidns,
        Namespaces,
        "Use this pid namespace (as parent namespace if using --unshare-pid)",
    ),
    opt(
        "uid",
        &["UID"],
        A::Uid,
        Namespaces,
        "Custom uid in the sandbox (requires --unshare-user or --userns)",
    ),
    opt(
        "gid",
        &["GID"],
        A::Gid,
        Namespaces,
        "Custom gid in the sandbox (requires --unshare-user or --userns)",
    ),
    opt(
        "hostname",
        &["NAME"],
        A::Hostname,
        Namespaces,
        "Custom hostname in the sandbox (requires --unshare-uts)",
    ),
    opt(
        "chdir",
        &["DIR"],
        A::Chdir,
        Environment,
        "Change directory to DIR",
    ),
    opt(
        "clearenv",
        &[],
        A::Clearenv,
        Environment,
        "Unset all environment variables",
    ),
    opt(
        "setenv",
        &["VAR", "VALUE"],
        A::Setenv,
        Environment,
        "Set an environment variable",
    ),
    opt(
        "unsetenv",
        &["VAR"],
        A::Unsetenv,
        Environment,
        "Unset an environment variable",
    ),
    opt(
        "lock-file",
        &["DEST"],
        A::LockFile,
        Monitoring,
        "Take a lock on DEST while sandbox is running",
    ),
    opt(
        "sync-fd",
        &["FD"],
        A::SyncFd,
        Monitoring,
        "Keep this fd open while sandbox is running",
    ),
    opt(
        "bind",
        &["SRC", "DEST"],
        A::Bind(ReadWrite, false),
        Filesystem,
        "Bind mount the host path SRC on DEST",
    ),
    opt(
        "bind-try",
        &["SRC", "DEST"],
        A::Bind(ReadWrite, true),
        Filesystem,
        "Equal to --bind but ignores non-existent SRC",
    ),
    opt(
        "dev-bind",
        &["SRC", "DEST"],
        A::Bind(Device, false),
        Filesystem,
        "Bind mount the host path SRC on DEST, allowing device access",
    ),
    opt(
        "dev-bind-try",
        &["SRC", "DEST"],
        A::Bind(Device, true),
        Filesystem,
        "Equal to --dev-bind but ignores non-existent SRC",
    ),
    opt(
        "ro-bind",
        &["SRC", "DEST"],
        A::Bind(ReadOnly, false),
        Filesystem,
        "Bind mount the host path SRC readonly on DEST",
    ),
    opt(
        "ro-bind-try",
        &["SRC", "DEST"],
        A::Bind(ReadOnly, true),
        Filesystem,
        "Equal to --ro-bind but ignores non-existent SRC",
    ),
    opt(
        "bind-fd",
        &["FD", "DEST"],
        A::BindFd(false),
        Filesystem,
        "Bind open directory or path fd on DEST",
    ),
    opt(
        "ro-bind-fd",
        &["FD", "DEST"],
        A::BindFd(true),
        Filesystem,
        "Bind open directory or path fd read-only on DEST",
    ),
    opt(
        "remount-ro",
        &["DEST"],
        A::RemountRo,
        Filesystem,
        "Remount DEST as readonly; does not recursively remount",
    ),
    opt(
        "overlay-src",
        &["SRC"],
        A::OverlaySrc,
        Filesystem,
        "Read files from SRC in the following overlay",
    ),
    opt(
        "overlay",
        &["RWSRC", "WORKDIR", "DEST"],
        A::Overlay,
        Filesystem,
        "Mount overlayfs on DEST, with RWSRC as the host path for writes and\nWORKDIR an empty directory on the same filesystem as RWSRC",
    ),
    opt(
        "tmp-overlay",
        &["DEST"],
        A::TmpOverlay,
        Filesystem,
        "Mount overlayfs on DEST, with writes going to an invisible tmpfs",
    ),
    opt(
        "ro-overlay",
        &["DEST"],
        A::RoOverlay,
        Filesystem,
        "Mount overlayfs read-only on DEST",
    ),
    opt(
        "exec-label",
        &["LABEL"],
        A::ExecLabel,
        Lockdown,
        "Exec label for the sandbox",
    ),
    opt(
        "file-label",
        &["LABEL"],
        A::FileLabel,
        Lockdown,
        "File label for temporary sandbox content",
    ),
    opt(
        "proc",
        &["DEST"],
        A::Proc,
        Filesystem,
        "Mount new procfs on DEST",
    ),
    opt(
        "dev",
        &["DEST"],
        A::Dev,
        Filesystem,
        "Mount new dev on DEST",
    ),
    opt(
        "tmpfs",
        &["DEST"],
        A::Tmpfs,
        Filesystem,
        "Mount new tmpfs on DEST",
    ),
    opt(
        "mqueue",
        &["DEST"],
        A::Mqueue,
        Filesystem,
        "Mount new mqueue on DEST",
    ),
    opt("dir", &["DEST"], A::Dir, Filesystem, "Create dir at DEST"),
    opt(
        "file",
        &["FD", "DEST"],
        A::File,
        Filesystem,
        "Copy from FD to destination DEST",
    ),
    opt(
        "bind-data",
        &["FD", "DEST"],
        A::BindData(false),
        Filesystem,
        "Copy from FD to file which is bind-mounted on DEST",
    ),
    opt(
        "ro-bind-data",
        &["FD", "DEST"],
        A::BindData(true),
        Filesystem,
        "Copy from FD to file which is readonly bind-mounted on DEST",
    ),
    opt(
        "symlink",
        &["SRC", "DEST"],
        A::Symlink,
        Filesystem,
        "Create symlink at DEST with target SRC",
    ),
    opt(
        "seccomp",
        &["FD"],
        A::Seccomp,
        Lockdown,
        "Load and use seccomp rules from FD (not repeatable)",
    ),
    opt(
        "add-seccomp-fd",
        &["FD"],
        A::AddSeccompFd,
        Lockdown,
        "Load and use seccomp rules from FD (repeatable)",
    ),
    opt(
        "block-fd",
        &["FD"],
        A::BlockFd,
        Monitoring,
        "Block on FD until some data to read is available",
    ),
    opt(
        "userns-block-fd",
        &["FD"],
        A::UsernsBlockFd,
        Monitoring,
        "Block on FD until the user namespace is ready",
    ),
    opt(
        "info-fd",
        &["FD"],
        A::InfoFd,
        Monitoring,
        "Write information about the running container to FD",
    ),
    opt(
        "json-status-fd",
        &["FD"],
        A::JsonStatusFd,
        Monitoring,
        "Write container status to FD as multiple JSON documents",
    ),
    opt(
        "new-session",
        &[],
        A::NewSession,
        Lockdown,
        "Create a new terminal session",
    ),
    opt(
        "die-with-parent",
        &[],
        A::DieWithParent,
        Lockdown,
        "Kills with SIGKILL child process (COMMAND) when sandwrap or sandwrap's parent dies.",
    ),
    opt(
        "as-pid-1",
        &[],
        A::AsPid1,
        Namespaces,
        "Do not install a reaper process with PID=1",
    ),
    opt(
        "cap-add",
        &["CAP"],
        A::CapAdd,
        Lockdown,
        "Add cap CAP when running as privileged user",
    ),
    opt(
        "cap-drop",
        &["CAP"],
        A::CapDrop,
        Lockdown,
        "Drop cap CAP when running as privileged user",
    ),
    opt(
        "perms",
        &["OCTAL"],
        A::Perms,
        Filesystem,
        "Set permissions of next argument (--bind-data, --file, etc.)",
    ),
    opt(
        "size",
        &["BYTES"],
        A::Size,
        Filesystem,
        "Set size of next argument (only for --tmpfs)",
    ),
    opt(
        "chmod",
        &["OCTAL", "PATH"],
        A::Chmod,
        Filesystem,
        "Change permissions of PATH (must already exist)",
    ),
    opt(
        "not-a-security-boundary",
        &[],
        A::NotASecurityBoundary,
        Lockdown,
        "Treat some setup failures (e.g. remounting submounts) as warnings instead of errors",
    ),
    // sandwrap's own options; bwrap has no landlock support.
    opt(
        "landlock",
        &[],
        A::Landlock,
        Landlock,
        "Confine the command with landlock rules derived from the filesystem options",
    ),
    opt(
        "landlock-ro",
        &["PATH"],
        A::LandlockRule(LA::ReadOnly),
        Landlock,
        "Landlock: allow reading and executing beneath PATH (explicit rules replace the derived ones; a relative PATH is from the working directory)",
    ),
    opt(
        "landlock-rw",
        &["PATH"],
        A::LandlockRule(LA::ReadWrite),
        Landlock,
        "Landlock: allow reading, writing and executing beneath PATH",
    ),
    opt(
        "landlock-ro-noexec",
        &["PATH"],
        A::LandlockRule(LA::ReadOnlyNoExec),
        Landlock,
        "Landlock: allow only reading beneath PATH",
    ),
    opt(
        "landlock-rw-noexec",
        &["PATH"],
        A::LandlockRule(LA::ReadWriteNoExec),
        Landlock,
        "Landlock: allow reading and writing, not executing, beneath PATH",
    ),
    opt(
        "landlock-tcp-connect",
        &["PORTS"],
        A::LandlockTcpConnect,
        Landlock,
        "Landlock: allow TCP connect only to PORTS (e.g. 80,8000-8100, or none)",
    ),
    opt(
        "landlock-tcp-bind",
        &["PORTS"],
        A::LandlockTcpBind,
        Landlock,
        "Landlock: allow TCP bind only to PORTS (e.g. 8080, or none)",
    ),
    opt(
        "landlock-scope",
        &["SCOPES"],
        A::LandlockScope,
        Landlock,
        "Landlock: cut off abstract-unix sockets and/or signal delivery outside the sandbox",
    ),
    opt(
        "landlock-strict",
        &[],
        A::LandlockStrict,
        Landlock,
        "Fail instead of warning when landlock cannot enforce something",
    ),
    opt(
        "fallback",
        &["MODE"],
        A::Fallback,
        Landlock,
        "Without user namespaces, run confined by MODE (landlock) instead of failing",
    ),
    opt(
        "verbose",
        &[],
        A::Verbose,
        Landlock,
        "On stderr: what landlock enforces, and the system call behind an error",
    ),
    opt(
        "end-with-command",
        &[],
        A::EndWithCommand,
        Lockdown,
        "End everything COMMAND started when it exits, and the sandbox when sandwrap dies",
    ),
    // sandwrap's own seccomp engine (docs/seccomp.md).
    opt(
        "seccomp-policy",
        &["NAME|FILE"],
        A::SeccompPolicy,
        Seccomp,
        "Filter system calls with a preset (default, strict) or a TOML policy file",
    ),
    opt(
        "seccomp-allow",
        &["SYSCALL"],
        A::SeccompAllow,
        Seccomp,
        "Allow SYSCALL (name or number) on top of the seccomp policy",
    ),
    opt(
        "seccomp-deny",
        &["SYSCALL[:ERRNO]"],
        A::SeccompDeny,
        Seccomp,
        "Deny SYSCALL with ERRNO (default EPERM) or :kill on top of the policy",
    ),
    opt(
        "seccomp-report",
        &[],
        A::SeccompReport,
        Seccomp,
        "Print a line on stderr for every system call the policy denies",
    ),
    opt(
        "seccomp-report-fd",
        &["FD"],
        A::SeccompReportFd,
        Seccomp,
        "Write a line to FD for every system call the policy denies",
    ),
    opt(
        "profile",
        &["NAME"],
        A::Profile,
        Profiles,
        "Apply profile NAME (or a .toml FILE) here; later options refine it",
    ),
    opt(
        "list-profiles",
        &[],
        A::ListProfiles,
        Profiles,
        "List the profiles --profile can find, then exit",
    ),
    opt(
        "explain",
        &[],
        A::Explain,
        Profiles,
        "Print the resolved sandbox and an equivalent command line; run nothing",
    ),
    opt(
        "ro-bind-as-host",
        &["PATH"],
        A::RoBindAsHost,
        Filesystem,
        "Reproduce host PATH: a symlink stays a symlink, else bind it read-only; skip if missing",
    ),
    opt(
        "bind-mkdir",
        &["SRC", "DEST"],
        A::BindMkdir,
        Filesystem,
        "Equal to --bind, creating host directory SRC (mode 0700) if missing",
    ),
    opt(
        "protect",
        &["PATH"],
        A::Protect,
        Filesystem,
        "Bind host PATH read-only onto PATH if it exists and is not a symlink (e.g. .git in a --bind; a .git also protects its submodules' .git)",
    ),
    opt(
        "keep-env",
        &["NAME"],
        A::KeepEnv,
        Environment,
        "Set NAME (or each NAME* variable) to the caller's value, e.g. after --clearenv",
    ),
    // sandwrap's own resource limits (README "Limits").
    opt(
        "rlimit",
        &["NAME=SOFT[:HARD]"],
        A::Rlimit,
        Limits,
        "Set resource limit NAME (as prlimit names it: nofile, nproc, core, as, ...) for the command",
    ),
    opt(
        "timeout",
        &["DURATION"],
        A::Timeout,
        Limits,
        "After DURATION (90s, 5m, 1h) send SIGTERM to the whole sandbox (implies --unshare-pid); exit status 124",
    ),
    opt(
        "kill-after",
        &["DURATION"],
        A::KillAfter,
        Limits,
        "With --timeout: SIGKILL everything left DURATION after the SIGTERM (default 5s)",
    ),
    opt(
        "memory",
        &["BYTES"],
        A::CgroupMemory,
        Limits,
        "cgroup v2 memory.max for the whole sandbox (needs a delegated cgroup v2)",
    ),
    opt(
        "memory-swap",
        &["BYTES"],
        A::CgroupMemorySwap,
        Limits,
        "cgroup v2 memory.swap.max for the whole sandbox (needs a delegated cgroup v2)",
    ),
    opt(
        "pids-max",
        &["N"],
        A::CgroupPidsMax,
        Limits,
        "cgroup v2 pids.max for the whole sandbox (needs a delegated cgroup v2)",
    ),
    opt(
        "cpus",
        &["FLOAT"],
        A::CgroupCpus,
        Limits,
        "cgroup v2 cpu.max: at most FLOAT CPUs' worth of time (needs a delegated cgroup v2)",
    ),
    opt(
        "own-cgroup",
        &[],
        A::OwnCgroup,
        Limits,
        "Run the sandbox in a cgroup v2 of its own (needs a delegated cgroup v2): its usage is accounted as a whole, and everything in it is killed at the end",
    ),
    opt(
        "json-usage",
        &[],
        A::JsonUsage,
        Limits,
        "After the exit code, write wall time, CPU time and peak memory to --json-status-fd",
    ),
    // sandwrap's own: the library's link to the helper it started.
    opt(
        "control-fd",
        &["FD"],
        A::ControlFd,
        Monitoring,
        "First option only: a SOCK_SEQPACKET socket from a program using sandwrap as a library; caller fds arrive on it, errors and the command's status go back, and its EOF ends the sandbox (docs/library.md)",
    ),
    // sandwrap's own: the network namespace's link to the outside (pasta).
    opt(
        "network",
        &["MODE"],
        A::Network,
        Network,
        "Network: none (= --unshare-net), host (= --share-net) or pasta (own namespace with internet access through pasta, host loopback unreachable)",
    ),
    opt(
        "network-allow-host-loopback",
        &[],
        A::NetworkAllowHostLoopback,
        Network,
        "With --network pasta: let the gateway address reach the host's loopback services",
    ),
    opt(
        "publish",
        &["[HOST_IP:]HOST_PORT:SANDBOX_PORT[/tcp|/udp]"],
        A::Publish,
        Network,
        "With --network pasta: forward HOST_PORT on the host (default address: loopback) to SANDBOX_PORT (UDP: the same port)",
    ),
    // sandwrap's own namespace options.
    opt(
        "unshare-time",
        &[],
        A::UnshareTime,
        Namespaces,
        "Create new time namespace (not part of --unshare-all)",
    ),
    opt(
        "time-offset",
        &["CLOCK=SECONDS[.NANOS]"],
        A::TimeOffset,
        Namespaces,
        "Shift the sandbox's CLOCK (monotonic, boottime) by SECONDS; implies --unshare-time",
    ),
    opt(
        "map-subids",
        &[],
        A::MapSubids,
        Namespaces,
        "Map uid/gid 0 to the caller and 1..N to the caller's /etc/subuid, /etc/subgid ranges (newuidmap)",
    ),
    opt(
        "map-subids-count",
        &["N"],
        A::MapSubidsCount,
        Namespaces,
        "Map only N subordinate ids; implies --map-subids",
    ),
];

/// bwrap's own options (0.11's 67 and 0.12's --not-a-security-boundary)
/// come first in the table; sandwrap's additions follow.
pub const BWRAP_OPTION_COUNT: usize = 68;

pub fn bwrap_options() -> &'static [OptDef] {
    &OPTIONS[..BWRAP_OPTION_COUNT]
}

/// Look an option up by its full name, including the leading `--`.
pub fn lookup(word: &str) -> Option<&'static OptDef> {
    let name = word.strip_prefix("--")?;
    OPTIONS.iter().find(|o| o.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        for (i, a) in OPTIONS.iter().enumerate() {
            for b in &OPTIONS[i + 1..] {
                assert_ne!(a.name, b.name);
            }
        }
    }

    #[test]
    fn has_all_bwrap_options() {
        // bwrap 0.11 has 67 options; 0.12 adds --not-a-security-boundary.
        // sandwrap's own come after all of bwrap's.
        let own = |o: &&OptDef| {
            matches!(
                o.section,
                Section::Landlock
                    | Section::Seccomp
                    | Section::Profiles
                    | Section::Limits
                    | Section::Network
            ) || o.name.ends_with("-as-host")
                || o.name == "bind-mkdir"
                || o.name == "keep-env"
                || o.name == "protect"
                || o.name == "end-with-command"
                || o.name == "control-fd"
                || matches!(
                    o.name,
                    "unshare-time" | "time-offset" | "map-subids" | "map-subids-count"
                )
        };
        assert_eq!(OPTIONS.iter().filter(|o| !own(o)).count(), 68);
        assert!(OPTIONS[..68].iter().all(|o| !own(&o)));
        assert!(lookup("--not-a-security-boundary").is_some());
        assert!(lookup("--bind-fd").is_some());
        assert!(lookup("bind").is_none());
    }
}
