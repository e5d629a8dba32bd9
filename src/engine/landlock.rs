//! Landlock, the kernel side: ask the kernel for its ABI, open each rule's
//! path, build the ruleset, and restrict the command just before it runs.
//! What to enforce is decided by the pure model in `crate::landlock`; the
//! `landlock` crate is used with hard requirements, so it can never drop a
//! restriction that the model said the kernel supports.

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use ::landlock::{
    AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, NetPort, PathBeneath, Ruleset,
    RulesetAttr, RulesetCreated, RulesetCreatedAttr, RulesetStatus, Scope,
};
use anyhow::{Result, anyhow, bail};

use super::sys;
use crate::landlock::{Isolation, Mode, Need, Plan, Policy, Rights, Rule};
use crate::spec::Spec;

/// What `prepare` decided: how sandwrap's own processes are kept from the
/// command (the plan's decision, made once, which pid 1 follows), and the
/// ruleset to enforce on the command, if any.
pub struct Decided {
    pub isolation: Isolation,
    pub enforcement: Option<Enforcement>,
}

/// A ruleset ready to be enforced, and what to report when it is.
pub struct Enforcement {
    ruleset: RulesetCreated,
    summary: Vec<String>,
}

/// Caps the ABI used, to exercise the older-kernel paths on a new kernel.
/// It can only lower what is enforced, and every shortfall is reported.
const ABI_MAX_VAR: &str = "SANDWRAP_LANDLOCK_ABI_MAX";

/// The ABI to plan for: the kernel's, lowered by `SANDWRAP_LANDLOCK_ABI_MAX`;
/// with the reason when it is 0.
fn usable_abi() -> (u32, String) {
    let (abi, why) = kernel_abi();
    let cap = std::env::var(ABI_MAX_VAR)
        .ok()
        .and_then(|v| v.parse::<u32>().ok());
    match cap {
        Some(cap) if cap < abi => (
            cap,
            format!("{ABI_MAX_VAR}={cap} limits landlock to ABI {cap} (the kernel has {abi})"),
        ),
        _ => (abi, why.to_string()),
    }
}

/// The kernel's landlock ABI (0: none), and why there is none.
pub fn kernel_abi() -> (u32, &'static str) {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_ulong = 1;
    // SAFETY: the version query takes no attribute pointer.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if v > 0 {
        return (v as u32, "");
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::EOPNOTSUPP) => (
            0,
            "landlock is built in but not enabled (add landlock to the lsm= boot parameter)",
        ),
        _ => (
            0,
            "this kernel has no landlock (Linux 5.13 or later with CONFIG_SECURITY_LANDLOCK needed)",
        ),
    }
}

const FS_TABLE: [(Rights, AccessFs); 16] = [
    (Rights::EXECUTE, AccessFs::Execute),
    (Rights::WRITE_FILE, AccessFs::WriteFile),
    (Rights::READ_FILE, AccessFs::ReadFile),
    (Rights::READ_DIR, AccessFs::ReadDir),
    (Rights::REMOVE_DIR, AccessFs::RemoveDir),
    (Rights::REMOVE_FILE, AccessFs::RemoveFile),
    (Rights::MAKE_CHAR, AccessFs::MakeChar),
    (Rights::MAKE_DIR, AccessFs::MakeDir),
    (Rights::MAKE_REG, AccessFs::MakeReg),
    (Rights::MAKE_SOCK, AccessFs::MakeSock),
    (Rights::MAKE_FIFO, AccessFs::MakeFifo),
    (Rights::MAKE_BLOCK, AccessFs::MakeBlock),
    (Rights::MAKE_SYM, AccessFs::MakeSym),
    (Rights::REFER, AccessFs::Refer),
    (Rights::TRUNCATE, AccessFs::Truncate),
    (Rights::IOCTL_DEV, AccessFs::IoctlDev),
];

fn access_fs(rights: Rights) -> BitFlags<AccessFs> {
    FS_TABLE
        .iter()
        .filter(|(r, _)| rights.contains(*r))
        .fold(BitFlags::EMPTY, |acc, (_, a)| acc | *a)
}

/// Reports shortfalls: warnings, or errors under `--landlock-strict`.
struct Reporter {
    strict: bool,
    level_prefix: bool,
}

impl Reporter {
    fn shortfall(&self, msg: &str) -> Result<()> {
        if self.strict {
            bail!("--landlock-strict: {msg}");
        }
        super::warn(self.level_prefix, &format!("warning: {msg}"));
        Ok(())
    }
}

/// Open a rule's path (inside the new root, or on the host in fallback
/// mode); `None` when the rule is to be skipped, after saying so.
fn open_rule(rule: &Rule, rep: &Reporter) -> Result<Option<(OwnedFd, Rights)>> {
    let fd = match sys::openat(libc::AT_FDCWD, &rule.path, libc::O_PATH, 0) {
        Ok(fd) => fd,
        Err(e) => {
            let msg = format!(
                "landlock: no rule for {} ({}): {}",
                rule.path.display(),
                rule.origin,
                crate::errno_text(e.errno)
            );
            return match rule.need {
                Need::Required => Err(anyhow!(
                    "{}: can't open {} for a landlock rule: {}",
                    rule.origin,
                    rule.path.display(),
                    crate::errno_text(e.errno)
                )),
                Need::IfExists if e.errno == libc::ENOENT => Ok(None),
                _ => rep.shortfall(&msg).map(|()| None),
            };
        }
    };
    let st = sys::fstat(fd.as_fd())
        .map_err(|e| anyhow!("landlock rule {}: {e}", rule.path.display()))?;
    let is_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
    let rights = if is_dir {
        rule.rights
    } else {
        rule.rights & Rights::FILE
    };
    Ok((!rights.is_empty()).then_some((fd, rights)))
}

fn ruleset_error(what: &str) -> impl FnOnce(::landlock::RulesetError) -> anyhow::Error + '_ {
    move |e| anyhow!("landlock: {what}: {e}")
}

/// Decide, report and build what landlock will enforce (no enforcement
/// when nothing is to be enforced). Runs after the new root is in place, so
/// rule paths resolve inside it.
pub fn prepare(spec: &Spec, mode: Mode, caller: (u32, u32), cwd: &Path) -> Result<Decided> {
    let policy = Policy::from_spec(spec, mode, caller, cwd);
    let rep = Reporter {
        strict: policy.strict,
        level_prefix: spec.level_prefix,
    };
    for lost in &policy.lost {
        rep.shortfall(&format!("--fallback landlock: {lost}"))?;
    }
    let (abi, why) = usable_abi();
    if abi > 0 && !why.is_empty() && !policy.is_empty() {
        super::warn(spec.level_prefix, &format!("warning: landlock: {why}"));
    }
    if abi == 0 && mode == Mode::Fallback {
        bail!("--fallback landlock: {why}; refusing to run the command unconfined");
    }
    let plan = Plan::new(&policy, abi);
    for s in &plan.shortfalls {
        let s = if abi == 0 {
            format!("landlock is not available ({why}): nothing is restricted by it")
        } else {
            s.clone()
        };
        rep.shortfall(&format!("landlock: {s}"))?;
    }
    for n in &plan.notes {
        super::warn(spec.level_prefix, &format!("warning: landlock: {n}"));
    }
    if !plan.enforces_anything() {
        // No landlock at all: sandwrap's processes protect themselves
        // (`protect_own_process`); say so here, once.
        if spec.verbose {
            let line = crate::landlock::show::isolation_line(&plan);
            crate::out::message(spec.level_prefix, crate::out::Level::Info, &line);
        }
        return Ok(Decided {
            isolation: plan.isolation,
            enforcement: None,
        });
    }

    let mut ruleset = Ruleset::default().set_compatibility(CompatLevel::HardRequirement);
    if !plan.fs_handled.is_empty() {
        ruleset = ruleset
            .handle_access(access_fs(plan.fs_handled))
            .map_err(ruleset_error("filesystem rights"))?;
    }
    let mut net = BitFlags::<AccessNet>::EMPTY;
    if plan.net.tcp_connect.is_some() {
        net |= AccessNet::ConnectTcp;
    }
    if plan.net.tcp_bind.is_some() {
        net |= AccessNet::BindTcp;
    }
    if !net.is_empty() {
        ruleset = ruleset
            .handle_access(net)
            .map_err(ruleset_error("network rights"))?;
    }
    let mut scopes = BitFlags::<Scope>::EMPTY;
    if plan.net.scope_abstract_unix {
        scopes |= Scope::AbstractUnixSocket;
    }
    if plan.net.scope_signal {
        scopes |= Scope::Signal;
    }
    if !scopes.is_empty() {
        ruleset = ruleset.scope(scopes).map_err(ruleset_error("scopes"))?;
    }
    let mut created = ruleset
        .create()
        .map_err(ruleset_error("landlock_create_ruleset"))?;

    let mut added = 0;
    for rule in &plan.rules {
        if let Some((fd, rights)) = open_rule(rule, &rep)? {
            let what = format!("rule for {}", rule.path.display());
            created = created
                .add_rule(PathBeneath::new(fd, access_fs(rights)))
                .map_err(|e| anyhow!("landlock: {what}: {e}"))?;
            added += 1;
        }
    }
    for (ports, access) in [
        (&plan.net.tcp_connect, AccessNet::ConnectTcp),
        (&plan.net.tcp_bind, AccessNet::BindTcp),
    ] {
        for range in ports.iter().flatten() {
            for port in range.first..=range.last {
                created = created
                    .add_rule(NetPort::new(port, access))
                    .map_err(|e| anyhow!("landlock: rule for TCP port {port}: {e}"))?;
            }
        }
    }
    let summary = if spec.verbose {
        crate::landlock::show::summary(&plan, added)
    } else {
        Vec::new()
    };
    Ok(Decided {
        isolation: plan.isolation,
        enforcement: Some(Enforcement {
            ruleset: created,
            summary,
        }),
    })
}

/// For pid 1 or the reaper (the supervisor always is non-dumpable): when
/// the command gets no landlock domain of its own (`isolation`, see
/// `crate::landlock::Isolation`), make it non-dumpable, so that the command
/// (same uid, maybe CAP_SYS_PTRACE in its user namespace) can neither
/// ptrace it nor open its `/proc/PID/{mem,exe,fd,root,...}`: a
/// non-dumpable process needs CAP_SYS_PTRACE in the namespace it was
/// executed in, the host's. With a domain it stays dumpable (the domain
/// keeps the command out): an outside launcher needs that to join.
pub fn protect_own_process(isolation: Isolation) -> Result<()> {
    if isolation != Isolation::NonDumpable {
        return Ok(());
    }
    sys::prctl(libc::PR_SET_DUMPABLE, 0, "PR_SET_DUMPABLE").map_err(anyhow::Error::new)
}

/// Restrict this process (and everything it will run) for good.
pub fn enforce(e: Enforcement, level_prefix: bool) -> Result<()> {
    let status = e
        .ruleset
        .restrict_self()
        .map_err(ruleset_error("landlock_restrict_self"))?;
    if status.ruleset != RulesetStatus::FullyEnforced {
        bail!(
            "landlock: the kernel did not fully enforce the ruleset ({:?})",
            status.ruleset
        );
    }
    for line in &e.summary {
        crate::out::message(level_prefix, crate::out::Level::Info, line);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::landlock::{ABI, Access};

    #[test]
    fn table_covers_every_right() {
        let all = FS_TABLE.iter().fold(Rights::EMPTY, |acc, (r, _)| acc | *r);
        assert_eq!(all, Rights::ALL);
        assert_eq!(access_fs(Rights::ALL), AccessFs::from_all(ABI::V8));
        assert_eq!(access_fs(Rights::READ_EXEC), AccessFs::from_read(ABI::V1));
    }
}
