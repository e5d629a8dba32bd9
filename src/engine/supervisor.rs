//! The supervisor: creates the sandbox's first process in new namespaces,
//! reports status, passes signals on, and turns the command's fate into
//! sandwrap's exit status. It stays outside every namespace it creates.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use anyhow::{Context, Result, anyhow};

use super::child;
use super::ctx::ChildCtx;
use super::{diagnose, fds, monitor, report, seccomp, signals, status, sys, userns};
use crate::landlock::Mode as LandlockMode;
use crate::spec::Spec;

/// Run the sandbox described by `spec`; returns sandwrap's exit status.
pub fn run(spec: &Spec) -> i32 {
    // First, before sandwrap opens an fd of its own.
    match fds::claim(spec).and_then(|()| launch(spec)) {
        Ok(code) => code,
        Err(e) => {
            report(spec, &e);
            1
        }
    }
}

/// `--bind-mkdir` sources: made by the caller, before any namespace, so
/// they belong to the caller; private (0700) as they hold an app's data.
fn create_host_dirs(spec: &Spec) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    for dir in &spec.host_dirs {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| {
                anyhow!(
                    "mkdir -p {} (mode 0700): {}",
                    dir.display(),
                    crate::io_error_text(&e)
                )
            })?;
    }
    Ok(())
}

fn clone_flags(spec: &Spec, fallback: bool) -> i32 {
    if fallback {
        return 0;
    }
    let ns = &spec.namespaces;
    let mut flags = libc::CLONE_NEWNS;
    for (on, flag) in [
        (ns.user, libc::CLONE_NEWUSER),
        // A joined pid namespace (--pidns) gets its new one nested by the
        // child (see child::relay_pid_ns): after setns(CLONE_NEWPID) the
        // kernel refuses CLONE_NEWPID.
        (
            spec.new_pid_ns() && spec.join.pidns.is_none(),
            libc::CLONE_NEWPID,
        ),
        (ns.net, libc::CLONE_NEWNET),
        (ns.ipc, libc::CLONE_NEWIPC),
        (ns.uts, libc::CLONE_NEWUTS),
        (ns.cgroup, libc::CLONE_NEWCGROUP),
        // NEWTIME is not a clone flag here: the child unshares it (timens).
    ] {
        if on {
            flags |= flag;
        }
    }
    flags
}

fn clone_error(spec: &Spec, e: sys::SysError) -> anyhow::Error {
    match e.errno {
        libc::EINVAL if spec.namespaces.user => anyhow!(
            "Creating new namespace failed, likely because the kernel does not support user namespaces."
        ),
        libc::EPERM if spec.namespaces.user => anyhow!(
            "No permissions to create a new namespace, likely because the kernel does not allow non-privileged user namespaces. On e.g. debian this can be enabled with 'sysctl kernel.unprivileged_userns_clone=1'.{}",
            diagnose::userns_hint(libc::EPERM)
        ),
        libc::ENOSPC => anyhow!(
            "Creating new namespace failed: nesting depth or /proc/sys/user/max_*_namespaces exceeded (ENOSPC){}",
            if spec.namespaces.user {
                diagnose::userns_hint(libc::ENOSPC)
            } else {
                String::new()
            }
        ),
        errno => anyhow!(
            "Creating new namespace failed: {}",
            crate::errno_text(errno)
        ),
    }
}

/// bwrap's "Write to info_fd" (for both options); a reader that has gone
/// (EPIPE: SIGPIPE is ignored in the supervisor) is named with its fd.
fn write_status(fd: RawFd, option: &str, text: &str) -> Result<()> {
    let written = fds::get(fd)
        .map_err(|e| e.errno)
        .and_then(|fd| sys::write_all(fd, text.as_bytes()));
    written.map_err(|e| match e {
        libc::EPIPE => anyhow!(
            "Write to info_fd: {option} {fd}: the reader has gone: {}",
            crate::errno_text(e)
        ),
        e => anyhow!("Write to info_fd: {}", crate::errno_text(e)),
    })
}

/// Whether `--fallback landlock` takes over after the clone failed with
/// `errno`: only when namespaces themselves were refused.
fn falls_back(spec: &Spec, errno: i32) -> bool {
    spec.fallback.is_some()
        && spec.join.userns.is_none()
        // Without namespaces there is no time namespace and no id range.
        && !spec.namespaces.time
        && spec.subids.is_none()
        && matches!(
            errno,
            libc::EPERM | libc::EINVAL | libc::ENOSPC | libc::EUSERS
        )
}

fn launch(spec: &Spec) -> Result<i32> {
    let caller_signals = signals::Caller::save();
    let uid = nix::unistd::getuid().as_raw();
    let gid = nix::unistd::getgid().as_raw();
    // Every check that can refuse the input comes first, before anything
    // is made or forked: a refused input leaves nothing behind.
    let subids = super::subids::plan(spec, (uid, gid))?;
    let rlimits = super::limits::rlimits::resolve(spec)?;
    let pasta_prep = super::pasta::prepare(spec)?;
    // Compiled here, before the clone; the sandbox only installs it.
    let own_seccomp = seccomp::build(spec, LandlockMode::Namespaced)?;
    // The sandbox's own cgroup (its refusal is the last check), before
    // any helper is forked: they stay where sandwrap is, out of it.
    // Dropped, it ends and removes itself.
    let cgroup = super::limits::cgroup::prepare(&spec.limits.cgroup)?;
    create_host_dirs(spec)?;
    // --map-subids: the helpers are setuid, so their runner is forked
    // before no_new_privs (`arm`).
    let mapper = match &subids {
        Some(p) => Some(super::subids::start(p, (uid, gid))?),
        None => None,
    };
    let sigset = arm(spec)?;

    let sandbox_ids = (spec.uid.unwrap_or(uid), spec.gid.unwrap_or(gid));
    let ids = match &subids {
        Some(_) => userns::plan_subids((uid, gid), spec.needs_nested_userns()),
        None => userns::plan((uid, gid), sandbox_ids, spec.needs_nested_userns()),
    };

    // lifeline: the child sees HUP if we are gone before it armed PDEATHSIG.
    let (life_r, life_w) = sys::pipe()?;
    // Whether the command was executed: for --json-status-fd's exit-code
    // line and the usage report (also --verbose's).
    let exec_pipe =
        if spec.status.json_status.is_some() || spec.verbose || crate::control::fd().is_some() {
            Some(sys::pipe()?)
        } else {
            None
        };
    let status_pipe = if spec.needs_reaper() {
        Some(sys::pipe()?)
    } else {
        None
    };
    // The child waits for "go" until its namespaces have been reported (so
    // the report is complete even when setup fails at once) and, with
    // --userns-block-fd or --map-subids, until an outside helper has written
    // its id maps. And, with --network pasta, until pasta has configured
    // its network.
    let reports = spec.status.info.is_some() || spec.status.json_status.is_some();
    let go_pipe = if reports
        || spec.status.userns_block.is_some()
        || mapper.is_some()
        || pasta_prep.is_some()
    {
        Some(sys::pipe()?)
    } else {
        None
    };
    // With a cgroup of its own, the child waits until it has been moved
    // in; its cgroup namespace is made after that (the clone would root
    // it at sandwrap's cgroup), so that the command sees its own as `/`.
    let placed_pipe = match &cgroup {
        Some(_) => Some(sys::pipe()?),
        None => None,
    };
    let late_cgroupns = cgroup.is_some() && spec.namespaces.cgroup;
    // With a time namespace (or a late cgroup namespace) to report: the
    // child says when it exists.
    let time_pipe = if reports && (spec.namespaces.time || late_cgroupns) {
        Some(sys::pipe()?)
    } else {
        None
    };
    // With a nested mount namespace, the child says when the command's
    // namespaces are in place, and waits for a second go-ahead (the
    // report must name them before the command runs). Not with
    // --userns-block-fd, whose helper needs the report before setup.
    let new_mnt_ns = spec.needs_nested_userns() || spec.needs_mount_lock();
    let final_pipe = if reports && new_mnt_ns && spec.status.userns_block.is_none() {
        Some(sys::pipe()?)
    } else {
        None
    };
    let listener_channel = match spec.seccomp.report {
        Some(_) => Some(seccomp::channel()?),
        None => None,
    };

    // The joins were done by the first attempt when falling back.
    let early_timer = join_namespaces(spec)?;
    let mut relay_pipe = if spec.join.pidns.is_some() && spec.new_pid_ns() {
        Some(sys::pipe()?)
    } else {
        None
    };

    let mut ctx = ChildCtx {
        ids,
        caller: (uid, gid),
        old_cwd: sys::current_dir(),
        own_pid_ns: spec.new_pid_ns() || spec.join.pidns.is_some(),
        lifeline: life_r.as_raw_fd(),
        exec_report: exec_pipe.as_ref().map(|(_, w)| w.as_raw_fd()),
        status_report: status_pipe.as_ref().map(|(_, w)| w.as_raw_fd()),
        go: go_pipe.as_ref().map(|(r, _)| r.as_raw_fd()),
        time_ready: time_pipe.as_ref().map(|(_, w)| w.as_raw_fd()),
        supervisor_ends: [
            Some(life_w.as_raw_fd()),
            go_pipe.as_ref().map(|(_, w)| w.as_raw_fd()),
            placed_pipe.as_ref().map(|(_, w)| w.as_raw_fd()),
        ],
        cgroup_placed: placed_pipe.as_ref().map(|(r, _)| r.as_raw_fd()),
        sigset,
        caller_signals,
        last_cap: super::caps::last_cap(),
        fallback: false,
        own_seccomp,
        seccomp_sock: listener_channel.as_ref().map(|(_, s)| s.as_raw_fd()),
        relay: relay_pipe.as_ref().map(|(_, w)| w.as_raw_fd()),
        namespaces_final: final_pipe.as_ref().map(|(_, w)| w.as_raw_fd()),
        rlimits,
        dns_forward: pasta_prep.as_ref().is_some_and(|p| p.resolver.is_some()),
    };
    let pid = loop {
        let late = if late_cgroupns {
            libc::CLONE_NEWCGROUP
        } else {
            0
        };
        match sys::clone_fork(clone_flags(spec, ctx.fallback) & !late) {
            Ok(pid) => break pid,
            Err(e) if !ctx.fallback && falls_back(spec, e.errno) => {
                let dg = diagnose::diagnose(&diagnose::facts(e.errno));
                super::warn(
                    spec.level_prefix,
                    &format!(
                        "warning: cannot create namespaces ({}): {}. To fix: {}. Running the command without namespaces, confined by landlock (--fallback landlock)",
                        e, dg.cause, dg.fix
                    ),
                );
                // Everything prepared so far serves the fallback as well,
                // but for the seccomp guards the fallback needs.
                super::warn(
                    spec.level_prefix,
                    &crate::landlock::fallback::unix_socket_warning(spec),
                );
                ctx.own_seccomp = seccomp::build(spec, LandlockMode::Fallback)?;
                ctx.fallback = true;
                ctx.own_pid_ns = false;
                ctx.relay = None;
                // No relay then: nothing will say which child is pid 1.
                relay_pipe = None;
                ctx.namespaces_final = None;
            }
            Err(e) => return Err(clone_error(spec, e)),
        }
    };
    let fallback = ctx.fallback;
    if pid == 0 {
        child::main(spec, &ctx);
    }
    if let (Some(cg), Some((r, w))) = (&cgroup, placed_pipe) {
        drop(r);
        if let Err(e) = cg.place(pid) {
            // Still waiting to be placed.
            abandon(pid);
            return Err(e);
        }
        let _ = sys::write_all(w.as_raw_fd(), b"c");
    }
    // With --pidns and a new pid namespace the clone child stays as a
    // relay between us and the sandbox's first process (its child), which
    // is the one reported, as bwrap reports it.
    let first = match relay_pipe {
        Some((r, w)) => {
            drop(w);
            match relayed_child(pid, &r) {
                Some(first) => first,
                // The clone child said why it failed.
                None => return Ok(wait_exit_code(pid)),
            }
        }
        None => pid,
    };
    crate::control::send(&crate::control::Event::Started(first));
    // A status or report fd whose reader has gone must give EPIPE, not kill
    // us silently (no Rust runtime set SIGPIPE aside). Dispositions are
    // copied at clone, so the sandbox's processes keep the caller's.
    // SAFETY: plain disposition change in this (single-threaded) process.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    drop(life_r);
    // Non-dumpable, whatever the kernel: nothing outside needs to trace or
    // open the supervisor's /proc (a launcher joins the child-pid), and the
    // command, even with landlock, should find no way in (defence in depth;
    // without landlock it is the protection). Set after the clone, so the
    // child does not inherit it: it must write its own id maps.
    if let Err(e) = sys::prctl(libc::PR_SET_DUMPABLE, 0, "PR_SET_DUMPABLE") {
        // It must not run next to a supervisor that the command could
        // take over.
        abandon(pid);
        return Err(e.into());
    }
    let own_policy = ctx.own_seccomp.as_ref().map(|o| &o.policy);
    let notifier = match (listener_channel, own_policy, spec.seccomp.report) {
        (Some((ours, _theirs)), Some(policy), Some(to)) => {
            match super::notifier::Notifier::new(policy, spec, to, ours, &sigset) {
                Ok(n) => Some(n),
                Err(e) => {
                    // The sandbox is already running: end it before failing.
                    abandon(pid);
                    return Err(e);
                }
            }
        }
        _ => None,
    };
    let exec_r: Option<OwnedFd> = exec_pipe.map(|(r, _w)| r);
    let status_r: Option<OwnedFd> = status_pipe.map(|(r, _w)| r);
    let go_w: Option<OwnedFd> = go_pipe.map(|(_r, w)| w);

    if let Some(mapper) = mapper {
        if let Err(e) = mapper.map(pid) {
            // Still waiting for its maps.
            abandon(pid);
            return Err(e);
        }
    }
    // A byte once the time namespace exists; EOF: creating it failed (the
    // child has said why): reported as bwrap reports a failing setup, just
    // without the namespace.
    let time_made = time_pipe.is_none_or(|(r, w)| {
        drop(w);
        let mut b = [0u8; 1];
        sys::read_some(r.as_raw_fd(), &mut b) == Ok(1)
    });
    // pasta configures the network before the child is let go (the
    // namespaces are still the clone's: the nested user namespace comes
    // later).
    let mut pasta = match &pasta_prep {
        Some(prep) => Some(super::pasta::start(spec, prep, pid).inspect_err(|_| {
            // The child ends at EOF on `go`; no need to leave it to that.
            abandon(pid);
        })?),
        None => None,
    };
    let go = || {
        if let Some(go) = &go_w {
            let _ = sys::write_all(go.as_raw_fd(), b"g");
        }
    };
    let created = created_namespaces(spec, fallback, time_made);
    match final_pipe.filter(|_| !fallback) {
        // The command runs in a mount namespace made at the end of setup
        // (userns::enter_nested, userns::lock_mounts): report that one, as bwrap reports
        // those the command runs in. If setup fails first, the report
        // names the setup's.
        Some((r, w)) => {
            drop(w);
            let setup_ns = status::collect(first, &created);
            go();
            let mut b = [0u8; 1];
            let info = match sys::read_some(r.as_raw_fd(), &mut b) {
                Ok(1) => status::collect(first, &created),
                _ => setup_ns,
            };
            write_reports(spec, &info)?;
            go();
        }
        None => {
            if reports {
                write_reports(spec, &status::collect(first, &created))?;
            }
            // Any end of waiting (a byte, EOF, or a closed fd) lets the
            // child go on, as in bwrap.
            if let Some(Ok(fd)) = spec.status.userns_block.map(fds::get) {
                let mut b = [0u8; 1];
                let _ = sys::read_some(fd, &mut b);
            }
            go();
        }
    }
    drop(go_w);

    // Keep only what we still need; every fd the caller passed on belongs
    // to the sandbox now (a --sync-fd peer must see HUP when it ends).
    let mut keep = vec![life_w.as_raw_fd()];
    keep.extend(exec_r.as_ref().map(|f| f.as_raw_fd()));
    keep.extend(status_r.as_ref().map(|f| f.as_raw_fd()));
    keep.extend(spec.status.json_status);
    keep.extend(crate::control::fd());
    keep.extend(notifier.as_ref().map(|n| n.fds()).unwrap_or_default());
    keep.extend(pasta.as_ref().map(|p| p.fds()).unwrap_or_default());
    fds::close_all_except(&keep);
    if let Some(Err(e)) = pasta.as_mut().map(|p| p.serve_dns()) {
        // Its network is incomplete.
        abandon(pid);
        return Err(e);
    }

    let watch = monitor::Watch {
        pid,
        sigset,
        status_report: status_r,
        exec_report: exec_r,
        notifier,
        own_policy,
        fallback,
        early_timer,
        pasta,
        cgroup: cgroup.as_ref(),
    };
    let code = monitor::run(spec, watch);
    drop(life_w);
    Ok(code)
}

/// What the supervisor itself must be before the clone: no new privileges,
/// tied to its parent with --die-with-parent, signals taken synchronously,
/// and, with --end-with-command, a subreaper, so that orphans of a sandbox
/// without a pid namespace (--fallback landlock) come to it and cannot
/// leave its tree (the limits need the same).
fn arm(spec: &Spec) -> Result<libc::sigset_t> {
    sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, "PR_SET_NO_NEW_PRIVS")
        .context("prctl(PR_SET_NO_NEW_PRIVS) failed")?;
    if spec.die_with_parent {
        let parent = nix::unistd::getppid();
        sys::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            "PR_SET_PDEATHSIG",
        )
        .context("prctl")?;
        if nix::unistd::getppid() != parent {
            // Our parent died before the death signal was armed.
            super::exit_now(1);
        }
    }
    let sigset = signals::handled_set();
    signals::default_sigchld();
    signals::block(&sigset);
    // The limits reach and account every process of the sandbox as a
    // descendant of ours (--timeout, --json-usage).
    let limits = &spec.limits;
    if spec.end_with_command || limits.timeout.is_some() || limits.json_usage {
        sys::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, "PR_SET_CHILD_SUBREAPER")?;
    }
    Ok(sigset)
}

/// `--pidns FD` with a new pid namespace: once the clone child has made
/// the namespace (nested in the joined one) and forked its pid 1, it says
/// so on `r`; its child is the sandbox's first process. None: it failed
/// before the fork (EOF), and said why.
fn relayed_child(relay: libc::pid_t, r: &OwnedFd) -> Option<libc::pid_t> {
    let mut b = [0u8; 1];
    match sys::read_some(r.as_raw_fd(), &mut b) {
        Ok(1) => super::children::of(relay).first().copied(),
        _ => None,
    }
}

/// Wait for a child that failed; its exit status for sandwrap.
fn wait_exit_code(pid: libc::pid_t) -> i32 {
    sys::waitpid(pid, 0).map_or(1, |(_, status)| super::exit_code(status).max(1))
}

/// `--userns FD` and `--pidns FD`: enter them before the clone. With
/// `--pidns`, the `--timeout` thread is started in between (not before the
/// user namespace, which a threaded process cannot join; not after the pid
/// namespace, which leaves no new threads).
fn join_namespaces(spec: &Spec) -> Result<Option<super::limits::timeout::Early>> {
    if let Some(fd) = spec.join.userns {
        let joined = fds::get(fd).and_then(|fd| sys::setns(fd, libc::CLONE_NEWUSER, "userns"));
        joined.map_err(|e| match e.errno {
            libc::EINVAL => anyhow!("Joining the specified user namespace failed, it might not be a descendant of the current user namespace."),
            errno => anyhow!("Joining specified user namespace failed: {}", crate::errno_text(errno)),
        })?;
    }
    let mut early_timer = None;
    if let Some(fd) = spec.join.pidns {
        early_timer = super::limits::timeout::spawn_early(spec)?;
        fds::get(fd)
            .and_then(|fd| sys::setns(fd, libc::CLONE_NEWPID, "pidns"))
            .map_err(|e| anyhow::Error::new(e).context("Setting pidns failed"))?;
    }
    Ok(early_timer)
}

/// The namespaces the reports name: `mnt` always, the others when created
/// (the time namespace only if it could be made).
fn created_namespaces(spec: &Spec, fallback: bool, time_made: bool) -> crate::spec::Namespaces {
    if fallback {
        crate::spec::Namespaces::default()
    } else {
        crate::spec::Namespaces {
            pid: spec.new_pid_ns(),
            time: spec.namespaces.time && time_made,
            ..spec.namespaces
        }
    }
}

/// A launch that fails after the clone: end our child (the sandbox's first
/// process) and reap it, so that nothing of it is left, not even a zombie.
fn abandon(pid: libc::pid_t) {
    // SAFETY: killing our own child, not reaped yet.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let _ = sys::waitpid(pid, 0);
}

/// `--info-fd` (written once, then closed) and the first
/// `--json-status-fd` line.
fn write_reports(spec: &Spec, info: &status::NsInfo) -> Result<()> {
    if let Some(fd) = spec.status.info {
        write_status(fd, "--info-fd", &status::info_json(info))?;
        fds::consume(fd);
    }
    if let Some(fd) = spec.status.json_status {
        write_status(fd, "--json-status-fd", &status::status_line(info))?;
    }
    Ok(())
}
