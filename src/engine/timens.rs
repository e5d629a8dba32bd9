//! `--unshare-time`, `--time-offset`: a time namespace for the sandbox.
//!
//! unshare(CLONE_NEWTIME) puts only the caller's future children in the new
//! namespace, and the kernel takes offsets only until a process has entered
//! it. So the sandbox's first process unshares and writes the offsets at
//! once, before it forks or execs anything; pid 1's command (or the command
//! it execs into) is the first to enter. clone3(CLONE_NEWTIME) would put the
//! new process inside at once, too late to set any offset.

use std::path::Path;

use anyhow::Result;

use super::sys;
use crate::spec::Spec;

/// Create the time namespace for our children and set its offsets.
pub fn create(spec: &Spec) -> Result<()> {
    sys::unshare(libc::CLONE_NEWTIME).map_err(|e| {
        let why = match e.errno {
            libc::EINVAL => ": this kernel has no time namespaces (they need Linux 5.6 or later built with CONFIG_TIME_NS)",
            _ => "",
        };
        anyhow::Error::new(e).context(format!(
            "--unshare-time: can't create a time namespace{why}"
        ))
    })?;
    if spec.time_offsets.is_empty() {
        return Ok(());
    }
    let text: String = spec
        .time_offsets
        .iter()
        .map(|o| format!("{} {} {}\n", o.clock.name(), o.secs, o.nanos))
        .collect();
    sys::write_file(Path::new("/proc/self/timens_offsets"), text.as_bytes()).map_err(|e| {
        let shown: Vec<String> = spec.time_offsets.iter().map(ToString::to_string).collect();
        let why = match e.errno {
            libc::ERANGE | libc::EINVAL => ": a clock would go below zero or beyond its range",
            _ => "",
        };
        anyhow::Error::new(e).context(format!(
            "--time-offset {}: the kernel refused the offsets{why}",
            shown.join(" ")
        ))
    })
}
