//! [`Command`]: one program to run in a [`Sandbox`], spawned through the
//! `sandwrap` helper.
//!
//! How a spawn works, and why it is safe in any caller:
//! - The helper is started with `std::process::Command` and nothing that
//!   makes std fork (no `pre_exec`, no uid/gid change, an absolute program
//!   path): std then uses `posix_spawn`, which glibc runs as
//!   `clone(CLONE_VM|CLONE_VFORK)` straight into exec. No copy of the
//!   caller runs any code, so locks held by other threads (malloc's, the
//!   environment's) cannot hang it, and the caller's memory size does not
//!   matter.
//! - Its stdin is the helper's end of a close-on-exec `SOCK_SEQPACKET`
//!   pair (std moves it to fd 0 in the new process only: no other spawn in
//!   the caller can inherit it). The first record sends the command's
//!   stdin/stdout/stderr and the fds given to [`Command::fd`] with
//!   SCM_RIGHTS; the helper places them at their numbers (`--control-fd`).
//! - Errors and the command's raw wait status come back as records; the
//!   helper's exit is awaited with `waitpid` on its own pid only.
//! - The caller's end is close-on-exec and held by this process only: when
//!   the process dies (or drops the [`Child`]), the helper sees EOF and
//!   kills the sandbox. The tie is to the process, not to the spawning
//!   thread (unlike `PR_SET_PDEATHSIG`).

use std::ffi::{OsStr, OsString};
use std::io::IoSlice;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use nix::sys::socket::{
    AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, sendmsg, socketpair,
};

use super::child::{Child, Output};
use super::{Error, Sandbox, helper};
use crate::control::{MAX_FDS, Request};

/// Where one of the command's standard streams goes, as
/// [`std::process::Stdio`] (whose choice a library cannot read back).
#[derive(Debug)]
pub struct Stdio(Kind);

#[derive(Debug)]
enum Kind {
    Inherit,
    Null,
    Piped,
    Fd(OwnedFd),
}

impl Stdio {
    /// The caller's own stream.
    pub fn inherit() -> Self {
        Stdio(Kind::Inherit)
    }
    /// `/dev/null`.
    pub fn null() -> Self {
        Stdio(Kind::Null)
    }
    /// A new pipe, its other end in [`Child`]'s `stdin`/`stdout`/`stderr`.
    pub fn piped() -> Self {
        Stdio(Kind::Piped)
    }
}

impl From<OwnedFd> for Stdio {
    fn from(fd: OwnedFd) -> Self {
        Stdio(Kind::Fd(fd))
    }
}

impl From<std::fs::File> for Stdio {
    fn from(f: std::fs::File) -> Self {
        Stdio(Kind::Fd(f.into()))
    }
}

/// A program to run in a sandbox, built like [`std::process::Command`].
///
/// Environment changes and the working directory apply inside the sandbox
/// (as `--setenv`/`--unsetenv`/`--clearenv` and `--chdir` after the
/// sandbox's own options); the command inherits the caller's environment
/// otherwise, as with the `sandwrap` command.
///
/// ```no_run
/// use sandwrap::{Sandbox, Stdio};
/// let sb = Sandbox::new().ro_bind("/", "/").unshare_all();
/// let out = sb.command("sh").arg("-c").arg("echo $X").env("X", "hi").output()?;
/// assert_eq!(out.stdout, b"hi\n");
/// # Ok::<(), sandwrap::Error>(())
/// ```
#[derive(Debug)]
pub struct Command {
    sandbox: Sandbox,
    program: OsString,
    args: Vec<OsString>,
    env: Vec<OsString>,
    cwd: Option<PathBuf>,
    stdin: Option<Stdio>,
    stdout: Option<Stdio>,
    stderr: Option<Stdio>,
    fds: Vec<(RawFd, OwnedFd)>,
}

impl Command {
    /// `program` (found on the sandbox's `PATH` if it has no `/`) in
    /// `sandbox`.
    pub fn new(sandbox: Sandbox, program: impl AsRef<OsStr>) -> Self {
        Command {
            sandbox,
            program: program.as_ref().into(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            stdin: None,
            stdout: None,
            stderr: None,
            fds: Vec::new(),
        }
    }

    /// Add an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Self {
        self.args.push(arg.as_ref().into());
        self
    }

    /// Add arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().into()));
        self
    }

    /// Set a variable in the command's environment.
    pub fn env(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) -> &mut Self {
        self.env
            .extend(["--setenv".into(), key.as_ref().into(), val.as_ref().into()]);
        self
    }

    /// Set several variables.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        for (k, v) in vars {
            self.env(k, v);
        }
        self
    }

    /// Remove a variable from the command's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Self {
        self.env.extend(["--unsetenv".into(), key.as_ref().into()]);
        self
    }

    /// Start from an empty environment (later `env` calls still apply).
    pub fn env_clear(&mut self) -> &mut Self {
        self.env.push("--clearenv".into());
        self
    }

    /// The command's working directory, a path inside the sandbox.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.cwd = Some(dir.as_ref().into());
        self
    }

    /// The command's stdin (default: inherited; [`output`](Self::output):
    /// `/dev/null`).
    pub fn stdin(&mut self, s: impl Into<Stdio>) -> &mut Self {
        self.stdin = Some(s.into());
        self
    }

    /// The command's stdout (default: inherited; `output`: piped).
    pub fn stdout(&mut self, s: impl Into<Stdio>) -> &mut Self {
        self.stdout = Some(s.into());
        self
    }

    /// The command's stderr (default: inherited; `output`: piped).
    /// sandwrap's own messages go there too.
    pub fn stderr(&mut self, s: impl Into<Stdio>) -> &mut Self {
        self.stderr = Some(s.into());
        self
    }

    /// Pass `fd` into the sandbox as fd number `target` (≥ 3; a later call
    /// for the same number replaces it). It can be named by options that
    /// take an fd (`--bind-fd`, `--file`, `--sync-fd`, ...) and the command
    /// inherits it, as with the `sandwrap` command.
    pub fn fd(&mut self, target: RawFd, fd: impl Into<OwnedFd>) -> &mut Self {
        self.fds.retain(|(t, _)| *t != target);
        self.fds.push((target, fd.into()));
        self
    }

    /// The `sandwrap` command line a spawn runs (after the helper's path and
    /// `--control-fd 0`): the sandbox's options, the command's environment
    /// and directory, then the command.
    ///
    /// ```
    /// let sb = sandwrap::Sandbox::new().ro_bind("/", "/");
    /// let mut cmd = sb.command("make");
    /// cmd.arg("-j2").env("CC", "gcc").current_dir("/src");
    /// let words: Vec<_> = cmd.get_words().into_iter().map(|w| w.into_string().unwrap()).collect();
    /// assert_eq!(
    ///     words,
    ///     ["--ro-bind", "/", "/", "--setenv", "CC", "gcc", "--chdir", "/src", "--", "make", "-j2"]
    /// );
    /// ```
    pub fn get_words(&self) -> Vec<OsString> {
        let mut w = self.sandbox.words().to_vec();
        w.extend(self.env.iter().cloned());
        if let Some(dir) = &self.cwd {
            w.extend(["--chdir".into(), dir.as_os_str().into()]);
        }
        w.push("--".into());
        w.push(self.program.clone());
        w.extend(self.args.iter().cloned());
        w
    }

    /// Start the command in its sandbox. A description sandwrap refuses is
    /// [`Error::Invalid`] here; problems of the sandbox itself (setup,
    /// exec) come from [`Child::wait`], as typed errors.
    pub fn spawn(&mut self) -> Result<Child, Error> {
        self.spawn_with(false)
    }

    /// Run the command to its end, collecting stdout and stderr (stdin is
    /// `/dev/null` unless set).
    pub fn output(&mut self) -> Result<Output, Error> {
        let mut child = self.spawn_with(true)?;
        child.wait_with_output_piped()
    }

    /// Run the command to its end; its exit status.
    pub fn status(&mut self) -> Result<super::ExitStatus, Error> {
        self.spawn()?.wait()
    }

    /// `for_output`: the defaults of `output` (stdin null, the others
    /// piped) instead of inherited streams.
    fn spawn_with(&mut self, for_output: bool) -> Result<Child, Error> {
        let writable = self.sandbox.checked()?;
        if let Some((t, _)) = self.fds.iter().find(|(t, _)| *t < 3) {
            return Err(Error::Invalid(format!(
                "fd {t}: use stdin/stdout/stderr for fds 0 to 2"
            )));
        }
        if self.fds.len() + 3 > MAX_FDS {
            return Err(Error::Invalid(format!("more than {} fds", MAX_FDS - 3)));
        }
        let helper = match self.sandbox.helper_path() {
            Some(p) => helper::checked(p).map_err(Error::Helper)?,
            None => helper::default_helper()?,
        };
        helper::refuse_bound(&helper, writable).map_err(Error::Helper)?;
        let default = |n: usize| match (for_output, n) {
            (false, _) => Kind::Inherit,
            (true, 0) => Kind::Null,
            (true, _) => Kind::Piped,
        };
        let chosen = [&self.stdin, &self.stdout, &self.stderr];
        let mut streams = Vec::with_capacity(3);
        for (n, s) in chosen.into_iter().enumerate() {
            streams.push(match s {
                Some(s) => dup_stdio(s)?,
                None => default(n),
            });
        }
        let mut ends = Ends::default();
        let mut send: Vec<(RawFd, Keep)> = Vec::new();
        for (n, s) in streams.into_iter().enumerate() {
            let n = n as RawFd;
            match s {
                // The helper inherits stdout and stderr from std; stdin is
                // the control socket there, so the caller's goes along.
                Kind::Inherit if n == 0 => {
                    if crate::hostio::fd_is_open(0) {
                        send.push((0, Keep::Borrowed(0)));
                    }
                }
                Kind::Inherit => {}
                Kind::Null => send.push((n, Keep::Owned(dev_null(n == 0)?))),
                Kind::Piped => {
                    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
                        .map_err(|e| Error::Io(e.into()))?;
                    let (theirs, ours) = if n == 0 { (r, w) } else { (w, r) };
                    ends.set(n, ours);
                    send.push((n, Keep::Owned(theirs)));
                }
                Kind::Fd(fd) => send.push((n, Keep::Owned(fd))),
            }
        }
        for (t, fd) in &self.fds {
            send.push((*t, Keep::Borrowed(fd.as_raw_fd())));
        }

        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .map_err(|e| Error::Io(e.into()))?;
        let mut cmd = std::process::Command::new(&helper);
        cmd.arg("--control-fd").arg("0").args(self.get_words());
        cmd.stdin(std::process::Stdio::from(theirs));
        let helper_child = cmd
            .spawn()
            .map_err(|e| Error::Helper(format!("{}: {e}", helper.display())))?;
        // Until the record is sent the helper waits; if sending fails the
        // helper has gone, and `wait` says why.
        let targets: Vec<RawFd> = send.iter().map(|(t, _)| *t).collect();
        let raw: Vec<RawFd> = send.iter().map(|(_, k)| k.raw()).collect();
        let rec = Request::Fds(targets).encode();
        let cmsg = [ControlMessage::ScmRights(&raw)];
        let cmsgs: &[ControlMessage] = if raw.is_empty() { &[] } else { &cmsg };
        let _ = sendmsg::<()>(
            ours.as_raw_fd(),
            &[IoSlice::new(&rec)],
            cmsgs,
            MsgFlags::MSG_NOSIGNAL,
            None,
        );
        drop(send);
        Ok(Child::new(helper_child, ours, ends))
    }
}

/// The caller's ends of the pipes a spawn made.
#[derive(Default)]
pub(crate) struct Ends {
    pub stdin: Option<OwnedFd>,
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
}

impl Ends {
    fn set(&mut self, n: RawFd, fd: OwnedFd) {
        match n {
            0 => self.stdin = Some(fd),
            1 => self.stdout = Some(fd),
            _ => self.stderr = Some(fd),
        }
    }
}

/// An fd to send: one made for this spawn, or one the caller keeps.
enum Keep {
    Owned(OwnedFd),
    Borrowed(RawFd),
}

impl Keep {
    fn raw(&self) -> RawFd {
        match self {
            Keep::Owned(f) => f.as_raw_fd(),
            Keep::Borrowed(fd) => *fd,
        }
    }
}

/// A stream's choice for one spawn (a Command can be spawned again).
fn dup_stdio(s: &Stdio) -> Result<Kind, Error> {
    Ok(match &s.0 {
        Kind::Inherit => Kind::Inherit,
        Kind::Null => Kind::Null,
        Kind::Piped => Kind::Piped,
        Kind::Fd(fd) => Kind::Fd(fd.try_clone()?),
    })
}

fn dev_null(read: bool) -> Result<OwnedFd, Error> {
    let f = std::fs::OpenOptions::new()
        .read(read)
        .write(!read)
        .open("/dev/null")?;
    Ok(f.into())
}
