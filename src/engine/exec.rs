//! The last steps before the command runs: working directory, environment,
//! ids, capabilities, seccomp, and `execvp` searching the sandbox's PATH.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use seccompiler::sock_filter;

use super::ctx::ChildCtx;
use super::execvp::ExecPlan;
use super::{caps, fds, filters, landlock, report, seccomp, signals, sys};
use crate::landlock::Mode;
use crate::spec::{Spec, build_env, set_var};

/// Work done once in the first sandbox process, before pid 1 forks.
pub struct Prepared {
    /// The caller's programs (`--add-seccomp-fd`, `--seccomp`), in order.
    pub seccomp: Vec<Vec<sock_filter>>,
    /// How pid 1 is kept from the command, as landlock's plan decided.
    pub isolation: crate::landlock::Isolation,
    /// Built in the new root, enforced by the command's process only.
    landlock: Option<landlock::Enforcement>,
    /// Made before the fork: the command only reads it (no copy-on-write
    /// faults for its argv, environment and candidates).
    plan: ExecPlan,
}

pub fn prepare(spec: &Spec, ctx: &ChildCtx, old_umask: libc::mode_t) -> Result<Prepared> {
    let mut env = build_env(std::env::vars_os().collect(), &spec.env);

    // A read error (a closed fd) ends the wait too, as in bwrap.
    if let Some(Ok(fd)) = spec.status.block.map(fds::get) {
        let mut b = [0u8; 1];
        let _ = sys::read_some(fd, &mut b);
        fds::consume(fd);
    }
    let mut seccomp: Vec<Vec<sock_filter>> = spec
        .seccomp
        .programs
        .iter()
        .map(|p| seccomp::caller_program(p))
        .collect();
    if let Some(fd) = spec.seccomp.fd {
        let data = fds::read_all(fd)
            .map_err(|e| anyhow!("Can't read seccomp data: {}", crate::errno_text(e.errno)))?;
        if data.len() % 8 != 0 {
            bail!("Invalid seccomp data, must be multiple of 8");
        }
        seccomp.push(seccomp::caller_program(&data));
    }
    // SAFETY: umask has no failure mode.
    unsafe { libc::umask(old_umask) };

    // --chdir, else the old directory if it exists inside, else $HOME, else /.
    let cwd: PathBuf = if let Some(dir) = &spec.chdir {
        sys::chdir(dir).map_err(|e| {
            anyhow::Error::new(e).context(format!("Can't chdir to {}", dir.display()))
        })?;
        dir.clone()
    } else if let Some(old) = ctx.old_cwd.as_ref().filter(|d| sys::chdir(d).is_ok()) {
        old.clone()
    } else if let Some(home) = env
        .iter()
        .find(|(k, _)| k == "HOME")
        .map(|(_, v)| PathBuf::from(v))
        .filter(|h| sys::chdir(h).is_ok())
    {
        home
    } else {
        PathBuf::from("/")
    };
    set_var(&mut env, "PWD", cwd.into_os_string());

    if spec.new_session {
        // SAFETY: setsid has no memory-safety preconditions.
        if unsafe { libc::setsid() } < 0 {
            bail!("setsid: {}", crate::errno_text(sys::errno()));
        }
    }
    if let Some(label) = &spec.exec_label {
        sys::write_file(Path::new("/proc/thread-self/attr/exec"), label.as_bytes())
            .with_context(|| format!("label_exec {}", spec.command[0].to_string_lossy()))?;
    }
    let mode = if ctx.fallback {
        Mode::Fallback
    } else {
        Mode::Namespaced
    };
    let caller_cwd = ctx.old_cwd.as_deref().unwrap_or(Path::new("/"));
    let decided = landlock::prepare(spec, mode, ctx.caller, caller_cwd)?;
    let path_var = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone());
    let env = env
        .into_iter()
        .map(|(k, v)| {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            CString::new(kv).unwrap_or_default()
        })
        .collect();
    let plan = ExecPlan::new(
        &spec.command,
        spec.argv0.as_deref(),
        env,
        path_var.as_deref(),
    );
    Ok(Prepared {
        seccomp,
        isolation: decided.isolation,
        landlock: decided.enforcement,
        plan,
    })
}

impl Prepared {
    /// pid 1 is not landlocked: it does not keep the ruleset open either.
    pub fn without_landlock(mut self) -> Prepared {
        self.landlock = None;
        self
    }
}

/// Install the caller's programs in this process, in order (pid 1, which
/// only they bind, as in bwrap).
pub fn install_caller_programs(programs: &[Vec<sock_filter>]) -> Result<()> {
    for prog in programs {
        seccomp::set_filter(prog, false).map_err(|e| e.to_error())?;
    }
    Ok(())
}

/// The ids to switch to before exec, as bwrap decides: none when an outside
/// helper wrote the maps (--userns-block-fd); with --userns only an explicit
/// --uid/--gid other than the caller's; otherwise the sandbox ids.
fn target_ids(spec: &Spec, caller: (u32, u32)) -> (Option<u32>, Option<u32>) {
    if spec.status.userns_block.is_some() {
        (None, None)
    } else if spec.subids.is_some() {
        // The caller is 0 inside; any mapped id may be asked for.
        (Some(spec.uid.unwrap_or(0)), Some(spec.gid.unwrap_or(0)))
    } else if spec.join.userns.is_some() {
        (
            spec.uid.filter(|&u| u != caller.0),
            spec.gid.filter(|&g| g != caller.1),
        )
    } else {
        (
            Some(spec.uid.unwrap_or(caller.0)),
            Some(spec.gid.unwrap_or(caller.1)),
        )
    }
}

/// The ids the command switches to; without a user namespace (fallback)
/// it keeps the caller's.
fn command_ids(spec: &Spec, ctx: &ChildCtx) -> (Option<u32>, Option<u32>) {
    if ctx.fallback {
        (None, None)
    } else {
        target_ids(spec, ctx.caller)
    }
}

/// The capabilities the command keeps (none without a user namespace).
pub fn command_caps(spec: &Spec, ctx: &ChildCtx) -> u64 {
    if ctx.fallback {
        0
    } else {
        spec.resolve_caps(0, ctx.last_cap)
    }
}

/// Whether the command's last steps need capabilities of this process:
/// to keep some, or to switch ids. When not, pid 1 gives up its own
/// before it forks the command, which then need not wait for it.
pub fn needs_caps(spec: &Spec, ctx: &ChildCtx) -> bool {
    let (uid, gid) = command_ids(spec, ctx);
    // SAFETY: getuid/getgid have no preconditions.
    let (now_uid, now_gid) = unsafe { (libc::getuid(), libc::getgid()) };
    command_caps(spec, ctx) != 0
        || uid.is_some_and(|u| u != now_uid)
        || gid.is_some_and(|g| g != now_gid)
}

fn set_ids(uid: Option<u32>, gid: Option<u32>) -> Result<()> {
    // SAFETY: plain id syscalls.
    unsafe {
        if let Some(gid) = gid.filter(|&g| libc::getgid() != g) {
            if libc::setresgid(gid, gid, gid) != 0 {
                bail!(
                    "unable to switch to gid {gid}: {}",
                    crate::errno_text(sys::errno())
                );
            }
        }
        if let Some(uid) = uid.filter(|&u| libc::getuid() != u) {
            libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0);
            if libc::setresuid(uid, uid, uid) != 0 {
                bail!(
                    "unable to switch to uid {uid}: {}",
                    crate::errno_text(sys::errno())
                );
            }
        }
    }
    Ok(())
}

/// Become the command; never returns.
/// `pid1_ready`: reaches EOF once pid 1 has dropped its capabilities.
pub fn run_command(
    spec: &Spec,
    ctx: &ChildCtx,
    prepared: Prepared,
    pid1_ready: Option<OwnedFd>,
) -> ! {
    if let Some(fd) = pid1_ready {
        let mut b = [0u8; 1];
        let _ = sys::read_some(fd.as_raw_fd(), &mut b);
    }
    let err = match finish_and_exec(spec, ctx, prepared) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    report(spec, &err);
    super::exit_now(1)
}

fn finish_and_exec(
    spec: &Spec,
    ctx: &ChildCtx,
    prepared: Prepared,
) -> Result<std::convert::Infallible> {
    signals::reset_for_exec(&ctx.caller_signals);
    // bwrap's lifecycle: the command dies with its parent (pid 1, or the
    // supervisor) only with --die-with-parent. The setup's tie to the
    // supervisor ends here.
    let deathsig = if spec.die_with_parent || spec.ends_with_command() {
        libc::SIGKILL
    } else {
        0
    };
    sys::prctl(
        libc::PR_SET_PDEATHSIG,
        deathsig as libc::c_ulong,
        "PR_SET_PDEATHSIG",
    )
    .context("prctl")?;
    if let Some(fd) = ctx.status_report {
        // SAFETY: pid 1's channel; the command must not hold it.
        unsafe { libc::close(fd) };
    }
    // Every fd an option consumed, the sync fd (held by pid 1 only, unless
    // --as-pid-1) and the status fds: closed, and checked closed.
    fds::seal_for_exec(spec)?;
    let (uid, gid) = command_ids(spec, ctx);
    set_ids(uid, gid)?;
    caps::apply(command_caps(spec, ctx), ctx.last_cap)?;
    sys::prctl(libc::PR_SET_DUMPABLE, 1, "PR_SET_DUMPABLE").context("can't set dumpable")?;
    if let Some(soft) = super::saved_nofile_limit(None) {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: valid pointers.
        unsafe {
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
            lim.rlim_cur = soft;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
    // After the fd limit is restored, so that --rlimit nofile wins; before
    // any seccomp filter (which may deny setrlimit).
    super::limits::rlimits::apply(&ctx.rlimits)?;
    // Landlock after ids and capabilities, before the seccomp filters
    // (which may forbid the landlock calls).
    if let Some(ll) = prepared.landlock {
        landlock::enforce(ll, spec.level_prefix)?;
    }
    // Everything exec needs was made before the fork (`prepare`): once a
    // filter is in force, sandwrap's code makes no call but the installs
    // and execve.
    if let Some(fd) = ctx.exec_report {
        let _ = sys::write_all(fd, b"R");
    }
    Err(filters::seal_and_exec(
        spec,
        ctx,
        &prepared.seccomp,
        prepared.plan,
    ))
}
