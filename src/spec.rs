//! The sandbox specification: pure data, produced by `cli` (or a library
//! caller) and consumed by `engine`. Nothing here makes a system call, so
//! every rule about option order and defaults is unit-testable.

use std::ffi::{OsStr, OsString};
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// How a host path is bound into the sandbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindMode {
    /// `--bind`: writable, nosuid, nodev.
    ReadWrite,
    /// `--ro-bind`: read-only on every submount, nosuid, nodev.
    ReadOnly,
    /// `--dev-bind`: writable, nosuid, device nodes usable.
    Device,
}

/// Which kind of overlay a `--overlay*` option asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OverlayKind {
    /// `--overlay RWSRC WORKDIR DEST`: writes land in a host directory.
    Persistent { upper: PathBuf, work: PathBuf },
    /// `--tmp-overlay DEST`: writes land on an invisible tmpfs.
    Temporary,
    /// `--ro-overlay DEST`: no writes at all.
    ReadOnly,
}

/// One filesystem operation, run in command-line order inside the new root.
/// Later operations stack on top of earlier ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FsOp {
    Bind {
        src: PathBuf,
        dest: PathBuf,
        mode: BindMode,
        allow_missing: bool,
    },
    BindFd {
        fd: RawFd,
        dest: PathBuf,
        read_only: bool,
    },
    RemountRo {
        dest: PathBuf,
    },
    Tmpfs {
        dest: PathBuf,
        perms: Option<u32>,
        size: Option<u64>,
    },
    Proc {
        dest: PathBuf,
    },
    /// A new /dev: see `dev` for what it holds.
    Dev {
        dest: PathBuf,
    },
    Mqueue {
        dest: PathBuf,
    },
    Dir {
        dest: PathBuf,
        perms: Option<u32>,
    },
    File {
        fd: RawFd,
        dest: PathBuf,
        perms: Option<u32>,
    },
    BindData {
        fd: RawFd,
        dest: PathBuf,
        perms: Option<u32>,
        read_only: bool,
    },
    Symlink {
        target: PathBuf,
        dest: PathBuf,
    },
    Chmod {
        path: PathBuf,
        perms: u32,
    },
    Overlay {
        sources: Vec<PathBuf>,
        kind: OverlayKind,
        dest: PathBuf,
    },
}

impl FsOp {
    /// The path inside the sandbox this operation creates or changes.
    pub fn dest(&self) -> &std::path::Path {
        match self {
            FsOp::Bind { dest, .. }
            | FsOp::BindFd { dest, .. }
            | FsOp::RemountRo { dest }
            | FsOp::Tmpfs { dest, .. }
            | FsOp::Proc { dest }
            | FsOp::Dev { dest }
            | FsOp::Mqueue { dest }
            | FsOp::Dir { dest, .. }
            | FsOp::File { dest, .. }
            | FsOp::BindData { dest, .. }
            | FsOp::Symlink { dest, .. }
            | FsOp::Overlay { dest, .. } => dest,
            FsOp::Chmod { path, .. } => path,
        }
    }
}

/// A change to the command's environment, applied in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvOp {
    Set(OsString, OsString),
    Unset(OsString),
    Clear,
    /// `--keep-env NAME`: set every variable of the caller's environment
    /// that NAME matches (see `env_name_matches`) to the caller's value.
    Keep(OsString),
}

/// Whether `--keep-env` PATTERN names variable NAME: the same name, or, for
/// a pattern ending in `*`, a name that starts with what precedes it.
pub fn env_name_matches(pattern: &OsStr, name: &OsStr) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    match p.strip_suffix(b"*") {
        Some(prefix) => n.starts_with(prefix),
        None => p == n,
    }
}

/// A change to the requested capability set, applied in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapOp {
    Add(u8),
    Drop(u8),
    AddAll,
    DropAll,
}

/// Namespaces to create. `user_try`/`cgroup_try` are resolved at launch
/// (they depend on what the kernel offers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Namespaces {
    pub user: bool,
    pub user_try: bool,
    pub ipc: bool,
    pub pid: bool,
    pub net: bool,
    pub uts: bool,
    pub cgroup: bool,
    pub cgroup_try: bool,
    /// `--unshare-time` (also implied by `--time-offset`); not part of
    /// `--unshare-all`, as in bwrap.
    pub time: bool,
}

/// The clocks a time namespace can shift (`--time-offset CLOCK=...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeClock {
    Monotonic,
    Boottime,
}

impl TimeClock {
    /// The name `/proc/PID/timens_offsets` and the option use.
    pub fn name(self) -> &'static str {
        match self {
            TimeClock::Monotonic => "monotonic",
            TimeClock::Boottime => "boottime",
        }
    }
}

/// One `--time-offset`: `secs + nanos / 1e9` seconds, `nanos` in
/// `0..1_000_000_000` (a negative offset has negative `secs`: -1.5 is
/// `secs -2, nanos 500000000`, as the kernel takes it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeOffset {
    pub clock: TimeClock,
    pub secs: i64,
    pub nanos: u32,
}

impl std::fmt::Display for TimeOffset {
    /// As the option takes it: `boottime=-1.25`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (sign, secs, nanos) = match (self.secs < 0, self.nanos) {
            (true, 0) => ("-", self.secs.unsigned_abs(), 0),
            (true, n) => ("-", self.secs.unsigned_abs() - 1, 1_000_000_000 - n),
            (false, n) => ("", self.secs.unsigned_abs(), n),
        };
        write!(f, "{}={sign}{secs}", self.clock.name())?;
        if nanos != 0 {
            let frac = format!("{nanos:09}");
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        Ok(())
    }
}

/// `--map-subids`: the sandbox's id 0 is the caller, 1..=N the caller's
/// subordinate ids (written by newuidmap/newgidmap).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SubIds {
    /// `--map-subids-count N`: map only N subordinate ids (all by default).
    pub count: Option<u32>,
}

/// Existing namespaces to join, given as open file descriptors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JoinNamespaces {
    pub userns: Option<RawFd>,
    pub userns2: Option<RawFd>,
    pub pidns: Option<RawFd>,
}

/// File descriptors used to report status to, or take orders from, the caller.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusFds {
    pub info: Option<RawFd>,
    pub json_status: Option<RawFd>,
    pub block: Option<RawFd>,
    pub userns_block: Option<RawFd>,
    pub sync: Option<RawFd>,
    /// `--control-fd`: the library's control socket (placed and moved by
    /// the program before parsing; see `crate::control`).
    pub control: Option<RawFd>,
}

/// Where `--seccomp-report` lines go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportTo {
    Stderr,
    Fd(RawFd),
}

/// Seccomp filters: the caller's cBPF programs and sandwrap's own policy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeccompSpec {
    /// `--seccomp FD`: read after setup, in the child.
    pub fd: Option<RawFd>,
    /// `--add-seccomp-fd FD`: read while parsing, installed in this order.
    pub programs: Vec<Vec<u8>>,
    /// sandwrap's own policy (`--seccomp-policy`, `--seccomp-allow`,
    /// `--seccomp-deny`), resolved; `None` installs no filter of ours.
    pub policy: Option<crate::seccomp::Policy>,
    /// `--seccomp-report[-fd]`: explain every denial of our policy.
    pub report: Option<ReportTo>,
}

/// How much of a path a `--landlock-*` rule grants. Read-only and
/// read-write follow mounts: executing is allowed unless `NoExec`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LandlockAccess {
    ReadOnly,
    ReadWrite,
    ReadOnlyNoExec,
    ReadWriteNoExec,
}

/// One explicit filesystem rule: a path inside the sandbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LandlockRule {
    pub path: PathBuf,
    pub access: LandlockAccess,
}

/// An inclusive range of TCP ports (`80` is `80..=80`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

/// Landlock's TCP port rules and scopes: asked for by the options, carried
/// as they are into `landlock::Policy` (which the fallback widens) and, as
/// far as the kernel enforces them, into `landlock::Plan`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LandlockNet {
    /// `--landlock-tcp-connect`: only these ports can be connected to.
    pub tcp_connect: Option<Vec<PortRange>>,
    /// `--landlock-tcp-bind`: only these ports can be bound.
    pub tcp_bind: Option<Vec<PortRange>>,
    /// `--landlock-scope abstract-unix`.
    pub scope_abstract_unix: bool,
    /// `--landlock-scope signal`.
    pub scope_signal: bool,
}

impl LandlockNet {
    /// Whether any port rule or scope is asked for.
    pub fn is_empty(&self) -> bool {
        !self.restricts_tcp() && !self.scope_abstract_unix && !self.scope_signal
    }

    /// Whether TCP connect or bind is limited to listed ports.
    pub fn restricts_tcp(&self) -> bool {
        self.tcp_connect.is_some() || self.tcp_bind.is_some()
    }
}

/// What landlock should restrict. Each part is independent: filesystem
/// rules (derived with `--landlock`, or explicit), TCP ports, scopes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LandlockSpec {
    /// `--landlock`: derive filesystem rules from the filesystem options.
    pub derive: bool,
    /// `--landlock-ro`/`-rw`/...: when any is given, the filesystem policy.
    pub rules: Vec<LandlockRule>,
    /// Ports and scopes.
    pub net: LandlockNet,
    /// `--landlock-strict`: anything the kernel cannot enforce is an error.
    pub strict: bool,
}

impl LandlockSpec {
    /// Whether anything at all was asked of landlock.
    pub fn requested(&self) -> bool {
        self.restricts_fs() || !self.net.is_empty()
    }

    pub fn restricts_fs(&self) -> bool {
        self.derive || !self.rules.is_empty()
    }
}

/// What to do when namespaces cannot be created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// Run without namespaces, confined by landlock and no_new_privs.
    Landlock,
}

/// One `--rlimit NAME=SOFT[:HARD]`: `None` keeps the caller's value, `RLIM_INFINITY`
/// (`u64::MAX`) is `unlimited`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rlimit {
    /// The name as prlimit(1) spells it (`nofile`).
    pub name: &'static str,
    /// The `RLIMIT_*` resource number.
    pub resource: u32,
    pub soft: Option<u64>,
    pub hard: Option<u64>,
}

/// cgroup v2 limits (`--memory`, `--memory-swap`, `--pids-max`, `--cpus`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CgroupLimits {
    pub memory: Option<u64>,
    pub memory_swap: Option<u64>,
    pub pids_max: Option<u64>,
    /// `--cpus`, in thousandths of a CPU (cpu.max's quota over a 100 ms period).
    pub cpus_milli: Option<u64>,
    /// `--own-cgroup`: a cgroup of its own even without a limit (every
    /// limit implies one).
    pub own: bool,
}

impl CgroupLimits {
    /// The options given, by name (for messages and --explain).
    pub fn given(&self) -> Vec<&'static str> {
        [
            ("--memory", self.memory.is_some()),
            ("--memory-swap", self.memory_swap.is_some()),
            ("--pids-max", self.pids_max.is_some()),
            ("--cpus", self.cpus_milli.is_some()),
        ]
        .into_iter()
        .filter_map(|(n, on)| on.then_some(n))
        .collect()
    }

    /// Whether the sandbox gets a cgroup of its own.
    pub fn wanted(&self) -> bool {
        self.own || !self.given().is_empty()
    }
}

/// What the sandbox may use, and for how long.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// `--rlimit`: one entry per resource (a later option replaces an
    /// earlier one for the same resource), set on the command before exec.
    pub rlimits: Vec<Rlimit>,
    /// `--timeout`: SIGTERM to the whole sandbox when it expires.
    pub timeout: Option<std::time::Duration>,
    /// `--kill-after`: SIGKILL that long after the timeout's SIGTERM.
    pub kill_after: Option<std::time::Duration>,
    pub cgroup: CgroupLimits,
    /// `--json-usage`: sandwrap's usage object on `--json-status-fd` (also
    /// written with `--timeout`; a plain bwrap command line never gets it).
    pub json_usage: bool,
}

/// The grace period between a timeout's SIGTERM and SIGKILL when
/// `--kill-after` is not given.
pub const DEFAULT_KILL_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

/// Everything needed to build and run one sandbox.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Spec {
    pub namespaces: Namespaces,
    pub join: JoinNamespaces,
    pub disable_userns: bool,
    pub assert_userns_disabled: bool,
    /// Ids the command runs with inside; `None` keeps the caller's.
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub hostname: Option<OsString>,
    pub ops: Vec<FsOp>,
    pub env: Vec<EnvOp>,
    pub chdir: Option<PathBuf>,
    pub argv0: Option<OsString>,
    pub command: Vec<OsString>,
    pub caps: Vec<CapOp>,
    pub new_session: bool,
    pub die_with_parent: bool,
    /// `--end-with-command`: when the command exits, everything it started
    /// is ended before sandwrap returns, and the sandbox dies with sandwrap.
    pub end_with_command: bool,
    pub as_pid_1: bool,
    pub lock_files: Vec<PathBuf>,
    pub status: StatusFds,
    pub seccomp: SeccompSpec,
    pub exec_label: Option<OsString>,
    pub file_label: Option<OsString>,
    pub level_prefix: bool,
    pub not_a_security_boundary: bool,
    pub landlock: LandlockSpec,
    pub fallback: Option<Fallback>,
    /// `--verbose`: report what was enforced on stderr.
    pub verbose: bool,
    /// `--bind-mkdir`: host directories created (mode 0700, with parents)
    /// before anything else, so they can be bound.
    pub host_dirs: Vec<PathBuf>,
    /// `--protect`: bind sources whose last component is never followed (a
    /// symbolic link there counts as missing).
    pub no_follow: Vec<PathBuf>,
    /// `--rlimit`, `--timeout`, `--kill-after`, cgroup limits.
    pub limits: Limits,
    /// `--network pasta`: the network namespace's link to the outside.
    pub network: Network,
    /// `--time-offset`: at most one per clock (a later one replaces it).
    pub time_offsets: Vec<TimeOffset>,
    /// `--map-subids`, `--map-subids-count`.
    pub subids: Option<SubIds>,
}

/// `--network pasta` and its options (docs: README "Networking"). With
/// `pasta` false the network namespace (if any) has only `lo`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Network {
    pub pasta: bool,
    /// `--network-allow-host-loopback`: the gateway address reaches the
    /// host's loopback (pasta's default, off in sandwrap).
    pub allow_host_loopback: bool,
    pub publish: Vec<Publish>,
}

/// `--publish [HOST_IP:]HOST_PORT:SANDBOX_PORT[/tcp|/udp]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish {
    /// Where the host side listens; `None`: the host's loopback.
    pub host_ip: Option<std::net::IpAddr>,
    pub host_port: u16,
    pub sandbox_port: u16,
    pub udp: bool,
}

impl Spec {
    /// Host paths the sandbox can write to: writable binds (`--bind-fd`'s
    /// directory as `fd_dir` names it, when it can), a persistent overlay's
    /// upper and work directories.
    pub fn writable_sources(&self, fd_dir: impl Fn(RawFd) -> Option<PathBuf>) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for op in &self.ops {
            match op {
                FsOp::Bind { src, mode, .. } if *mode != BindMode::ReadOnly => {
                    out.push(src.clone())
                }
                FsOp::BindFd {
                    fd,
                    read_only: false,
                    ..
                } => out.extend(fd_dir(*fd)),
                FsOp::Overlay {
                    kind: OverlayKind::Persistent { upper, work },
                    ..
                } => out.extend([upper.clone(), work.clone()]),
                _ => {}
            }
        }
        out
    }

    /// Whether a process must stay behind as pid 1 (reaper) while the
    /// command runs, as bwrap decides it.
    pub fn needs_reaper(&self) -> bool {
        let wants = self.new_pid_ns() || !self.lock_files.is_empty() || self.status.sync.is_some();
        wants && !self.as_pid_1
    }

    /// Whether everything the command started ends when it exits:
    /// `--end-with-command`, or `--timeout`, whose limit must hold for all
    /// of it (a leftover would otherwise run on unwatched once sandwrap has
    /// returned).
    pub fn ends_with_command(&self) -> bool {
        self.end_with_command || self.limits.timeout.is_some()
    }

    /// Whether the sandbox gets a pid namespace of its own: asked for, or
    /// implied by `--end-with-command` and `--timeout`, which must end
    /// everything with a guarantee of the kernel's (nothing escapes a pid
    /// namespace, and all of it dies with its pid 1). Without one, the
    /// command could name the supervisor and blind its walk of /proc
    /// (prlimit RLIMIT_NOFILE to 0 needs no signal).
    pub fn new_pid_ns(&self) -> bool {
        self.namespaces.pid || self.ends_with_command()
    }

    /// Setup needs uid 0 inside the first user namespace (devpts refuses to
    /// mount otherwise, and only root there can restrict user namespaces);
    /// the command's ids then come from a second, nested user namespace.
    pub fn needs_nested_userns(&self) -> bool {
        self.namespaces.user
            && (self.disable_userns || self.ops.iter().any(|op| matches!(op, FsOp::Dev { .. })))
    }

    /// The command keeps CAP_SYS_ADMIN (the capability that changes mounts)
    /// in the sandbox's user namespace: it runs in a mount namespace owned
    /// by a user namespace nested below, where every mount made during
    /// setup is locked (MNT_LOCKED), so a read-only bind stays read-only
    /// and what a mount covers stays covered. (The nested user namespace of
    /// `needs_nested_userns` locks them already.)
    pub fn needs_mount_lock(&self) -> bool {
        (self.namespaces.user || self.join.userns.is_some())
            && self.keeps_sys_admin()
            && !self.needs_nested_userns()
    }

    /// Whether the command keeps CAP_SYS_ADMIN (`--cap-add`).
    pub fn keeps_sys_admin(&self) -> bool {
        const CAP_SYS_ADMIN: u8 = 21;
        self.resolve_caps(0, CAP_SYS_ADMIN) & (1 << CAP_SYS_ADMIN) != 0
    }

    /// Resolve the requested capability operations against a starting set.
    pub fn resolve_caps(&self, start: u64, last_cap: u8) -> u64 {
        let all = if last_cap >= 63 {
            u64::MAX
        } else {
            (1u64 << (last_cap + 1)) - 1
        };
        self.caps.iter().fold(start, |set, op| match *op {
            CapOp::Add(c) => set | (1u64 << c),
            CapOp::Drop(c) => set & !(1u64 << c),
            CapOp::AddAll => all,
            CapOp::DropAll => 0,
        })
    }
}

/// What `--dev` makes in its new /dev, as bwrap does. The mount code, the
/// fallback's landlock rules and `--explain` all take the list from here.
pub mod dev {
    /// The host's device nodes, bound one by one.
    pub const NODES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];
    /// A link to the new devpts instance's own ptmx.
    pub const PTMX: &str = "ptmx";
    /// devpts's mount point.
    pub const PTS: &str = "pts";
    /// An empty directory for POSIX shared memory.
    pub const SHM: &str = "shm";
    pub const DIRS: [&str; 2] = [PTS, SHM];
    /// Links into the command's own /proc.
    pub const LINKS: [(&str, &str); 5] = [
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("fd", "/proc/self/fd"),
        ("core", "/proc/kcore"),
    ];
}

/// Apply `--setenv`/`--unsetenv`/`--clearenv`/`--keep-env` in order to
/// `base`, the caller's environment.
pub fn build_env(base: Vec<(OsString, OsString)>, ops: &[EnvOp]) -> Vec<(OsString, OsString)> {
    let mut env = base.clone();
    for op in ops {
        match op {
            EnvOp::Clear => env.clear(),
            EnvOp::Unset(k) => env.retain(|(key, _)| key != k),
            EnvOp::Set(k, v) => set_var(&mut env, k, v.clone()),
            EnvOp::Keep(pattern) => {
                for (k, v) in base.iter().filter(|(k, _)| env_name_matches(pattern, k)) {
                    set_var(&mut env, k, v.clone());
                }
            }
        }
    }
    env
}

/// Set `key` in `env`, in place if present, else at the end.
pub fn set_var(env: &mut Vec<(OsString, OsString)>, key: impl AsRef<OsStr>, value: OsString) {
    let key = key.as_ref();
    match env.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = value,
        None => env.push((key.to_os_string(), value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reaper_follows_bwrap_rules() {
        let mut s = Spec::default();
        assert!(!s.needs_reaper());
        s.namespaces.pid = true;
        assert!(s.needs_reaper());
        s.as_pid_1 = true;
        assert!(!s.needs_reaper());
        let mut s = Spec::default();
        s.status.sync = Some(5);
        assert!(s.needs_reaper());
        let mut s = Spec::default();
        s.lock_files.push("/x".into());
        assert!(s.needs_reaper());
        let s = Spec {
            end_with_command: true,
            ..Default::default()
        };
        assert!(s.needs_reaper() && s.new_pid_ns());
    }

    #[test]
    fn nested_userns_for_dev_or_disable() {
        let mut s = Spec::default();
        s.namespaces.user = true;
        assert!(!s.needs_nested_userns());
        s.ops.push(FsOp::Dev {
            dest: "/dev".into(),
        });
        assert!(s.needs_nested_userns());
        s.namespaces.user = false;
        assert!(!s.needs_nested_userns());
    }

    #[test]
    fn mounts_locked_when_the_command_keeps_sys_admin() {
        let mut s = Spec::default();
        s.namespaces.user = true;
        s.caps = vec![CapOp::Add(12)];
        assert!(!s.needs_mount_lock(), "CAP_NET_ADMIN changes no mount");
        s.caps = vec![CapOp::AddAll];
        assert!(s.needs_mount_lock() && !s.needs_nested_userns());
        s.caps = vec![CapOp::AddAll, CapOp::Drop(21)];
        assert!(!s.needs_mount_lock());
        s.caps = vec![CapOp::Add(21)];
        assert!(s.needs_mount_lock());
        // Also in a joined user namespace (--userns).
        s.namespaces.user = false;
        s.join.userns = Some(3);
        assert!(s.needs_mount_lock());
        // The nested user namespace locks them already.
        s.namespaces.user = true;
        s.join.userns = None;
        s.disable_userns = true;
        assert!(!s.needs_mount_lock() && s.needs_nested_userns());
    }

    #[test]
    fn keep_env_patterns() {
        let m = |p: &str, n: &str| env_name_matches(OsStr::new(p), OsStr::new(n));
        assert!(m("PATH", "PATH"));
        assert!(!m("PATH", "PATHX") && !m("PATH", "PAT"));
        assert!(m("LC_*", "LC_ALL") && m("LC_*", "LC_"));
        assert!(!m("LC_*", "LANG") && !m("LC_*", "XLC_ALL"));
        assert!(m("*", "ANYTHING"));
    }

    #[test]
    fn caps_apply_in_order() {
        let mut s = Spec {
            caps: vec![CapOp::AddAll, CapOp::Drop(21), CapOp::Drop(0)],
            ..Default::default()
        };
        let set = s.resolve_caps(0, 40);
        assert_eq!(set & (1 << 21), 0);
        assert_eq!(set & 1, 0);
        assert_ne!(set & (1 << 40), 0);
        assert_eq!(set >> 41, 0);
        s.caps = vec![CapOp::Add(3), CapOp::DropAll, CapOp::Add(12)];
        assert_eq!(s.resolve_caps(0xff, 40), 1 << 12);
    }
}

#[cfg(test)]
mod env_tests {
    use super::*;

    fn kv(k: &str, v: &str) -> (OsString, OsString) {
        (k.into(), v.into())
    }

    #[test]
    fn env_ops_apply_in_order() {
        let base = vec![kv("A", "1"), kv("B", "2")];
        let ops = vec![
            EnvOp::Set("C".into(), "3".into()),
            EnvOp::Unset("A".into()),
            EnvOp::Set("B".into(), "x".into()),
        ];
        assert_eq!(
            build_env(base.clone(), &ops),
            vec![kv("B", "x"), kv("C", "3")]
        );
        let ops = vec![
            EnvOp::Set("C".into(), "3".into()),
            EnvOp::Clear,
            EnvOp::Set("D".into(), "4".into()),
        ];
        assert_eq!(build_env(base, &ops), vec![kv("D", "4")]);
    }

    #[test]
    fn keep_env_restores_the_callers_values_in_order() {
        let base = vec![
            kv("PATH", "/bin"),
            kv("LC_ALL", "C"),
            kv("LC_TIME", "fr"),
            kv("GITHUB_TOKEN", "secret"),
        ];
        let ops = vec![
            EnvOp::Set("PATH".into(), "/mine".into()),
            EnvOp::Clear,
            EnvOp::Keep("PATH".into()),
            EnvOp::Keep("LC_*".into()),
            // Not in the caller's environment: nothing to keep.
            EnvOp::Keep("TZ".into()),
            EnvOp::Set("LC_TIME".into(), "de".into()),
        ];
        assert_eq!(
            build_env(base.clone(), &ops),
            vec![kv("PATH", "/bin"), kv("LC_ALL", "C"), kv("LC_TIME", "de")]
        );
        // Before a later --clearenv it keeps nothing; after a --setenv it
        // puts the caller's value back.
        let ops = vec![
            EnvOp::Set("PATH".into(), "/mine".into()),
            EnvOp::Keep("PATH".into()),
        ];
        assert_eq!(build_env(base.clone(), &ops)[0], kv("PATH", "/bin"));
        let ops = vec![EnvOp::Keep("*".into()), EnvOp::Clear];
        assert_eq!(build_env(base, &ops), vec![]);
    }
}
