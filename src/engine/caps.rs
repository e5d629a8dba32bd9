//! Capabilities of the command: exactly the requested set (empty unless
//! `--cap-add`), in the bounding, permitted, effective, inheritable and
//! ambient sets.

use anyhow::{Result, bail};

use super::sys;

/// Highest capability number the running kernel knows: the last one
/// `PR_CAPBSET_READ` accepts (found in ~6 calls, cheaper than opening
/// /proc/sys/kernel/cap_last_cap at every launch, which is read only when
/// the probe is refused).
pub fn last_cap() -> u8 {
    // SAFETY: integer arguments; the call only reads.
    let valid = |cap: u32| unsafe { libc::prctl(libc::PR_CAPBSET_READ, cap as libc::c_ulong, 0, 0, 0) } >= 0;
    if !valid(0) {
        return std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(40);
    }
    // The largest valid number in lo..hi: lo is valid, hi is not.
    let (mut lo, mut hi) = (0u32, 64u32);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if valid(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo as u8
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAP_V3: u32 = 0x2008_0522;

fn capset(set: u64) -> Result<()> {
    let hdr = CapHeader {
        version: CAP_V3,
        pid: 0,
    };
    let lo = set as u32;
    let hi = (set >> 32) as u32;
    let data = [
        CapData {
            effective: lo,
            permitted: lo,
            inheritable: lo,
        },
        CapData {
            effective: hi,
            permitted: hi,
            inheritable: hi,
        },
    ];
    // SAFETY: valid header and two data structs, as capset v3 requires.
    if unsafe { libc::syscall(libc::SYS_capset, &hdr, data.as_ptr()) } != 0 {
        bail!("capset failed: {}", crate::errno_text(sys::errno()));
    }
    Ok(())
}

/// Cut the bounding set down to `keep`. Done once, in the first sandbox
/// process before it forks the command, for both of them: the command
/// keeps `keep` (its `apply` then needs no bounding-set calls), pid 1
/// drops the rest with `drop_all(keep)`.
pub fn limit_bounding(keep: u64, last: u8) -> Result<()> {
    drop_bounding(!keep, last)
}

/// Drop the capabilities in `caps` from the bounding set.
fn drop_bounding(caps: u64, last: u8) -> Result<()> {
    for cap in 0..=last {
        if caps & (1u64 << cap) != 0 {
            // SAFETY: integer arguments.
            let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
            let e = sys::errno();
            if r != 0 && e != libc::EINVAL && e != libc::EPERM {
                bail!(
                    "Dropping capability {cap} from bounds: {}",
                    crate::errno_text(e)
                );
            }
        }
    }
    Ok(())
}

/// Set the command's final capability sets (the bounding set is already
/// `keep`: `limit_bounding`). Call after any uid change.
pub fn apply(keep: u64, last: u8) -> Result<()> {
    capset(keep)?;
    for cap in 0..=last {
        if keep & (1u64 << cap) != 0 {
            // SAFETY: integer arguments.
            let r = unsafe {
                libc::prctl(
                    libc::PR_CAP_AMBIENT,
                    libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
                    cap as libc::c_ulong,
                    0,
                    0,
                )
            };
            let e = sys::errno();
            if r != 0 && e != libc::EINVAL && e != libc::EPERM {
                bail!("Adding ambient capability {cap}: {}", crate::errno_text(e));
            }
        }
    }
    Ok(())
}

/// Drop every capability (pid 1 keeps none). `bounded`: what the bounding
/// set still holds after `limit_bounding`.
pub fn drop_all(bounded: u64, last: u8) -> Result<()> {
    drop_bounding(bounded, last)?;
    capset(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn last_cap_probe_agrees_with_procfs() {
        let proc: u8 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .expect("cap_last_cap")
            .trim()
            .parse()
            .expect("a number");
        assert_eq!(super::last_cap(), proc);
    }
}
