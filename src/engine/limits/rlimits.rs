//! `--rlimit`: checked against the caller's limits by the supervisor before
//! anything is created (so a refused value is one clear error, not a failed
//! sandbox), then set by the command just before exec.
//!
//! RLIMIT_NPROC counts the processes of the command's uid in its user
//! namespace (kernels since 5.14 count per user namespace), so a limit
//! here does not count, nor touch, the caller's processes outside.

use anyhow::{Result, bail};

use crate::cli::limits::{show_limit, show_rlimit};
use crate::spec::Spec;

/// One limit, resolved to the exact values to set.
#[derive(Clone, Copy, Debug)]
pub struct Resolved {
    pub name: &'static str,
    pub resource: u32,
    pub soft: u64,
    pub hard: u64,
}

fn get(resource: u32, name: &str) -> Result<libc::rlimit> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid out-pointer.
    if unsafe { libc::getrlimit(resource as _, &mut lim) } != 0 {
        let e = super::super::sys::errno();
        bail!(
            "getrlimit(RLIMIT_{}): {}",
            name.to_uppercase(),
            crate::errno_text(e)
        );
    }
    Ok(lim)
}

/// The values to set, from the caller's current limits: a hard limit may
/// only be lowered (raising it needs CAP_SYS_RESOURCE in the initial user
/// namespace, which no user namespace gives), a missing soft limit stays
/// the caller's (lowered to a new hard limit below it).
pub fn resolve(spec: &Spec) -> Result<Vec<Resolved>> {
    let mut out = Vec::new();
    for r in &spec.limits.rlimits {
        let cur = get(r.resource, r.name)?;
        let word = format!("--rlimit {}", show_rlimit(r));
        let hard = r.hard.unwrap_or(cur.rlim_max);
        if hard > cur.rlim_max {
            bail!(
                "{word}: the hard limit {} is above the caller's hard limit {}, which only a privileged process can raise",
                show_limit(hard),
                show_limit(cur.rlim_max)
            );
        }
        let soft = match r.soft {
            Some(s) if s > hard => bail!(
                "{word}: the soft limit {} is above the hard limit {} (the caller's)",
                show_limit(s),
                show_limit(hard)
            ),
            Some(s) => s,
            None => cur.rlim_cur.min(hard),
        };
        out.push(Resolved {
            name: r.name,
            resource: r.resource,
            soft,
            hard,
        });
    }
    Ok(out)
}

/// Set the limits on this process (the command, just before exec).
pub fn apply(limits: &[Resolved]) -> Result<()> {
    for r in limits {
        let lim = libc::rlimit {
            rlim_cur: r.soft,
            rlim_max: r.hard,
        };
        // SAFETY: valid pointer to an initialised rlimit.
        if unsafe { libc::setrlimit(r.resource as _, &lim) } != 0 {
            let e = super::super::sys::errno();
            bail!(
                "setrlimit(RLIMIT_{}, {{ soft: {}, hard: {} }}): {}",
                r.name.to_uppercase(),
                show_limit(r.soft),
                show_limit(r.hard),
                crate::errno_text(e)
            );
        }
    }
    Ok(())
}
