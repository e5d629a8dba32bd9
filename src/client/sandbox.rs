//! [`Sandbox`]: a reusable description of a sandbox, kept as the option
//! words the `sandwrap` command parses, so that the command-line parser
//! stays the one definition of what a description means.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use super::{Command, Error};
use crate::cli::{self, table};

/// A sandbox description: namespaces, filesystem operations in order, ids,
/// environment, capabilities, seccomp, landlock, profiles, limits, network:
/// everything the `sandwrap` command line can say, as that command line.
///
/// Each method appends the option it names (see `sandwrap --help` and
/// sandwrap(1) for what they do); the order of filesystem operations is the
/// order of the calls. [`option`](Sandbox::option) reaches every option of
/// the table, including those without a method of their own. A mistake
/// (an unknown option, a wrong number of values) is kept and returned by
/// [`check`](Sandbox::check) and by every spawn. The first spawn from a
/// description also runs `check` (once: clones made after it share the
/// result), so a value sandwrap refuses is [`Error::Invalid`] at `spawn`.
///
/// `Sandbox` is `Clone + Send + Sync`: build it once, spawn from it in as
/// many threads as you like.
///
/// ```
/// use sandwrap::Sandbox;
/// let sb = Sandbox::new()
///     .ro_bind("/", "/")
///     .dev("/dev")
///     .tmpfs("/tmp")
///     .unshare_all()
///     .option("hostname", ["box"]);
/// sb.check().expect("a valid description");
/// assert_eq!(sb.words()[..3], ["--ro-bind", "/", "/"]);
/// assert!(Sandbox::new().option("no-such-option", [""; 0]).check().is_err());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Sandbox {
    words: Vec<OsString>,
    /// The first mistake made while building.
    mistake: Option<String>,
    helper: Option<PathBuf>,
    /// `check`'s verdict (with the writable host paths), once a spawn has
    /// asked for it.
    checked: OnceLock<Result<Vec<PathBuf>, String>>,
}

macro_rules! flags {
    ($($(#[$doc:meta])* $name:ident => $opt:literal;)*) => {$(
        $(#[$doc])*
        pub fn $name(self) -> Self {
            self.option($opt, [""; 0])
        }
    )*};
}

macro_rules! one {
    ($($(#[$doc:meta])* $name:ident($a:ident) => $opt:literal;)*) => {$(
        $(#[$doc])*
        pub fn $name(self, $a: impl AsRef<OsStr>) -> Self {
            self.option($opt, [$a.as_ref()])
        }
    )*};
}

macro_rules! two {
    ($($(#[$doc:meta])* $name:ident($a:ident, $b:ident) => $opt:literal;)*) => {$(
        $(#[$doc])*
        pub fn $name(self, $a: impl AsRef<OsStr>, $b: impl AsRef<OsStr>) -> Self {
            self.option($opt, [$a.as_ref(), $b.as_ref()])
        }
    )*};
}

impl Sandbox {
    /// An empty description: like `sandwrap COMMAND` with no options (no
    /// new namespaces but a mount namespace, an empty root).
    pub fn new() -> Self {
        Self::default()
    }

    /// Append option `--NAME` with its values, checked against sandwrap's
    /// option table (the name exists, the number of values is right).
    ///
    /// ```
    /// let sb = sandwrap::Sandbox::new().option("ro-bind", ["/usr", "/usr"]);
    /// assert!(sb.check().is_ok());
    /// let bad = sandwrap::Sandbox::new().option("ro-bind", ["/usr"]);
    /// assert!(bad.check().unwrap_err().message().contains("--ro-bind"));
    /// ```
    pub fn option<I, S>(mut self, name: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let values: Vec<OsString> = values.into_iter().map(|v| v.as_ref().into()).collect();
        let word = format!("--{}", name.trim_start_matches("--"));
        let mistake = match table::lookup(&word) {
            None => Some(format!("Unknown option {word}")),
            Some(def) if def.args.len() != values.len() => Some(format!(
                "{word} takes {} value(s) ({}), not {}",
                def.args.len(),
                def.args.join(" "),
                values.len()
            )),
            Some(def) if def.action == table::Action::ControlFd => {
                Some(format!("{word} is the library's own"))
            }
            Some(_) => None,
        };
        if let (None, Some(m)) = (&self.mistake, mistake) {
            self.mistake = Some(m);
        }
        self.checked = OnceLock::new();
        self.words.push(word.into());
        self.words.extend(values);
        self
    }

    /// The option words so far, as `sandwrap` would get them.
    pub fn words(&self) -> &[OsString] {
        &self.words
    }

    /// Use this `sandwrap` binary as the helper instead of the default
    /// (`SANDWRAP_BIN`, next to the program, `PATH`). Either way it is
    /// refused ([`Error::Helper`]) when another user could change it or a
    /// directory above it, or when this sandbox (its options or profiles)
    /// binds it writable and the caller can write it.
    pub fn helper(mut self, path: impl Into<PathBuf>) -> Self {
        self.helper = Some(path.into());
        self
    }

    pub(crate) fn helper_path(&self) -> Option<&Path> {
        self.helper.as_deref()
    }

    /// Check the description as sandwrap's parser would, without running
    /// anything: the error carries sandwrap's message. Options that read
    /// an fd while parsing (`--args`, `--add-seccomp-fd`) are left to the
    /// helper, where the fd exists.
    pub fn check(&self) -> Result<(), Error> {
        self.parse().map(drop)
    }

    /// `check`, and the host paths the sandbox can write to (writable binds,
    /// a persistent overlay's upper and work directories), profiles
    /// expanded.
    fn parse(&self) -> Result<Vec<PathBuf>, Error> {
        if let Some(m) = &self.mistake {
            return Err(Error::Invalid(m.clone()));
        }
        let mut argv: Vec<OsString> = vec!["sandwrap".into()];
        let mut words = self.words.iter();
        while let Some(w) = words.next() {
            if w == "--args" || w == "--add-seccomp-fd" {
                words.next();
                continue;
            }
            argv.push(w.clone());
        }
        argv.extend(["--".into(), "true".into()]);
        let mut ctx = cli::ParseContext::from_host();
        ctx.open_fd = Box::new(|_| Err(std::io::Error::from_raw_os_error(libc::EBADF)));
        match cli::parse(&argv, &mut ctx) {
            Ok(cli::Outcome::Run(spec)) => Ok(writable_sources(&spec)),
            Ok(_) => Err(Error::Invalid(
                "--help, --version, --list-profiles and --explain describe no sandbox".into(),
            )),
            Err(cli::CliError::Usage) => Err(Error::Invalid("usage error".into())),
            Err(cli::CliError::Message { msg, .. }) => Err(Error::Invalid(msg)),
        }
    }

    /// A command to run in this sandbox, as [`std::process::Command::new`].
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        Command::new(self.clone(), program)
    }

    /// `check`, run once per description (for spawns): the host paths
    /// the sandbox can write to.
    pub(crate) fn checked(&self) -> Result<&[PathBuf], Error> {
        let verdict = self
            .checked
            .get_or_init(|| self.parse().map_err(|e| e.message()));
        match verdict {
            Ok(paths) => Ok(paths),
            Err(m) => Err(Error::Invalid(m.clone())),
        }
    }

    flags! {
        /// `--unshare-all`: new user (if possible), ipc, pid, net, uts and
        /// cgroup (if possible) namespaces.
        unshare_all => "unshare-all";
        /// `--share-net`: keep the network namespace after `unshare_all`.
        share_net => "share-net";
        /// `--unshare-user`: a new user namespace.
        unshare_user => "unshare-user";
        /// `--unshare-user-try`: a new user namespace if possible.
        unshare_user_try => "unshare-user-try";
        /// `--unshare-pid`: a new pid namespace; everything in the sandbox
        /// ends with it.
        unshare_pid => "unshare-pid";
        /// `--unshare-net`: a new network namespace (loopback only).
        unshare_net => "unshare-net";
        /// `--unshare-ipc`: a new IPC namespace.
        unshare_ipc => "unshare-ipc";
        /// `--unshare-uts`: a new UTS namespace (own hostname).
        unshare_uts => "unshare-uts";
        /// `--unshare-cgroup`: a new cgroup namespace.
        unshare_cgroup => "unshare-cgroup";
        /// `--unshare-time`: a new time namespace.
        unshare_time => "unshare-time";
        /// `--clearenv`: start the command's environment empty.
        clearenv => "clearenv";
        /// `--new-session`: a new terminal session (no TIOCSTI on the
        /// caller's terminal).
        new_session => "new-session";
        /// `--as-pid-1`: the command is pid 1 itself.
        as_pid_1 => "as-pid-1";
        /// `--end-with-command`: everything the command started ends with it.
        end_with_command => "end-with-command";
        /// `--landlock`: confine the command with landlock as well.
        landlock => "landlock";
    }

    one! {
        /// `--remount-ro DEST`.
        remount_ro(dest) => "remount-ro";
        /// `--proc DEST`: a new procfs.
        proc(dest) => "proc";
        /// `--dev DEST`: a minimal new devtmpfs-like /dev.
        dev(dest) => "dev";
        /// `--tmpfs DEST`.
        tmpfs(dest) => "tmpfs";
        /// `--mqueue DEST`.
        mqueue(dest) => "mqueue";
        /// `--dir DEST`: create a directory.
        dir(dest) => "dir";
        /// `--tmp-overlay DEST`: writes to DEST go to a throw-away layer.
        tmp_overlay(dest) => "tmp-overlay";
        /// `--ro-overlay DEST`.
        ro_overlay(dest) => "ro-overlay";
        /// `--perms OCTAL` for the next operation that creates something.
        perms(octal) => "perms";
        /// `--uid UID` in the sandbox.
        uid(uid) => "uid";
        /// `--gid GID` in the sandbox.
        gid(gid) => "gid";
        /// `--hostname NAME` (needs a UTS namespace).
        hostname(name) => "hostname";
        /// `--unsetenv VAR`.
        unsetenv(var) => "unsetenv";
        /// `--keep-env NAME`: keep the caller's value (patterns with `*`).
        keep_env(name) => "keep-env";
        /// `--cap-add CAP`.
        cap_add(cap) => "cap-add";
        /// `--cap-drop CAP`.
        cap_drop(cap) => "cap-drop";
        /// `--seccomp-policy NAME|FILE`.
        seccomp_policy(policy) => "seccomp-policy";
        /// `--seccomp-allow SYSCALL`.
        seccomp_allow(syscall) => "seccomp-allow";
        /// `--seccomp-deny SYSCALL[:ERRNO]`.
        seccomp_deny(syscall) => "seccomp-deny";
        /// `--landlock-ro PATH`.
        landlock_ro(path) => "landlock-ro";
        /// `--landlock-rw PATH`.
        landlock_rw(path) => "landlock-rw";
        /// `--profile NAME`: a built-in or file profile.
        profile(name) => "profile";
        /// `--network MODE`: none, host or pasta.
        network(mode) => "network";
        /// `--memory BYTES` (cgroup limit).
        memory(bytes) => "memory";
        /// `--pids-max N` (cgroup limit).
        pids_max(n) => "pids-max";
        /// `--rlimit NAME=SOFT[:HARD]`.
        rlimit(limit) => "rlimit";
        /// `--protect PATH`: keep a repository's metadata read-only.
        protect(path) => "protect";
    }

    two! {
        /// `--bind SRC DEST`: read-write.
        bind(src, dest) => "bind";
        /// `--bind-try SRC DEST`: skipped if SRC is missing.
        bind_try(src, dest) => "bind-try";
        /// `--ro-bind SRC DEST`.
        ro_bind(src, dest) => "ro-bind";
        /// `--ro-bind-try SRC DEST`.
        ro_bind_try(src, dest) => "ro-bind-try";
        /// `--dev-bind SRC DEST`: with device access.
        dev_bind(src, dest) => "dev-bind";
        /// `--symlink TARGET DEST`.
        symlink(target, dest) => "symlink";
        /// `--chmod OCTAL PATH`.
        chmod(octal, path) => "chmod";
        /// `--setenv VAR VALUE`.
        setenv(var, value) => "setenv";
        /// `--bind-mkdir SRC DEST`: SRC is created (0700) if missing.
        bind_mkdir(src, dest) => "bind-mkdir";
    }

    /// `--timeout DURATION`: the sandbox is killed after this long (to the
    /// millisecond).
    pub fn timeout(self, d: Duration) -> Self {
        self.option("timeout", [format!("{}ms", d.as_millis().max(1))])
    }
}

/// Host paths a sandbox described by `spec` can write to.
fn writable_sources(spec: &crate::spec::Spec) -> Vec<PathBuf> {
    use crate::spec::{BindMode, FsOp, OverlayKind};
    let mut out = Vec::new();
    for op in &spec.ops {
        match op {
            FsOp::Bind { src, mode, .. } if *mode != BindMode::ReadOnly => out.push(src.clone()),
            FsOp::Overlay {
                kind: OverlayKind::Persistent { upper, work },
                ..
            } => out.extend([upper.clone(), work.clone()]),
            _ => {}
        }
    }
    out
}
