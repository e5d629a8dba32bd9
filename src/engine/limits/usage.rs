//! What the sandbox used, measured by the supervisor once every process of
//! the sandbox it could wait for has been waited for: `getrusage(
//! RUSAGE_CHILDREN)`, which the kernel accumulates up the tree as each
//! process is waited for by its parent (pid 1 waits for every process of a
//! pid namespace; the supervisor, a subreaper, for every orphan).
//!
//! What the figures are, exactly, without a cgroup of its own:
//! - CPU: user and system time of every process of the sandbox that was
//!   waited for. Not counted: processes whose parent ignored SIGCHLD (the
//!   kernel reaps them without accounting), and those the kernel killed
//!   with the pid namespace when pid 1 itself had to be SIGKILLed
//!   (--timeout's last resort, when pid 1 has not ended a second after the
//!   rest of the sandbox was killed).
//! - memory: `ru_maxrss`, the peak resident set of the single largest
//!   process among them, not the sandbox's total at any moment; hence the
//!   name `largest-process-peak-rss-bytes`.
//!
//! With a cgroup of its own (`--own-cgroup`, or a cgroup limit), the CPU
//! times are the cgroup's cpu.stat: every process that was ever in the
//! sandbox, waited for or not; and, where the memory controller is enabled,
//! memory.peak is the sandbox's peak as a whole (`sandbox-peak-memory-bytes`).
//! `cpu-source` says which source the CPU times come from.

use std::time::{Duration, Instant};

/// The figures for one sandbox.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Usage {
    pub wall: Duration,
    pub user: Duration,
    pub system: Duration,
    /// Peak RSS of the largest single process, in bytes.
    pub largest_peak_rss: u64,
    /// Whether user and system come from the sandbox's cgroup (cpu.stat).
    pub from_cgroup: bool,
    /// The sandbox's cgroup's memory.peak, in bytes.
    pub sandbox_peak: Option<u64>,
}

fn timeval(tv: libc::timeval) -> Duration {
    Duration::from_secs(tv.tv_sec.max(0) as u64) + Duration::from_micros(tv.tv_usec.max(0) as u64)
}

/// The figures since `started`, from the processes waited for so far, or
/// from the sandbox's cgroup.
pub fn measure(started: Instant, cgroup: Option<super::cgroup_own::CgroupUsage>) -> Usage {
    // SAFETY: zeroed rusage is a valid out-buffer.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointer; RUSAGE_CHILDREN cannot fail.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    let waited = Usage {
        wall: started.elapsed(),
        user: timeval(ru.ru_utime),
        system: timeval(ru.ru_stime),
        // Linux reports ru_maxrss in KiB.
        largest_peak_rss: (ru.ru_maxrss.max(0) as u64) * 1024,
        from_cgroup: false,
        sandbox_peak: None,
    };
    match cgroup {
        Some(cg) => Usage {
            user: cg.user,
            system: cg.system,
            from_cgroup: true,
            sandbox_peak: cg.memory_peak,
            ..waited
        },
        None => waited,
    }
}

fn cpu_source(u: &Usage) -> &'static str {
    if u.from_cgroup {
        "cgroup cpu.stat"
    } else {
        "getrusage"
    }
}

/// The extra `--json-status-fd` object, one line like bwrap's own.
pub fn json_line(u: &Usage, timed_out: bool) -> String {
    let peak = u
        .sandbox_peak
        .map(|p| format!(", \"sandbox-peak-memory-bytes\": {p}"))
        .unwrap_or_default();
    format!(
        "{{ \"timed-out\": {timed_out}, \"wall-time-seconds\": {:.3}, \"user-cpu-seconds\": {:.3}, \"system-cpu-seconds\": {:.3}, \"largest-process-peak-rss-bytes\": {}, \"cpu-source\": \"{}\"{peak} }}\n",
        u.wall.as_secs_f64(),
        u.user.as_secs_f64(),
        u.system.as_secs_f64(),
        u.largest_peak_rss,
        cpu_source(u)
    )
}

/// The `--verbose` summary (without the `sandwrap: ` prefix).
pub fn summary(u: &Usage) -> String {
    let mib = |b: u64| b as f64 / (1u64 << 20) as f64;
    let peak = u
        .sandbox_peak
        .map(|p| {
            format!(
                ", sandbox peak memory {:.1} MiB (cgroup memory.peak)",
                mib(p)
            )
        })
        .unwrap_or_default();
    format!(
        "used {:.3}s wall, {:.3}s user + {:.3}s system CPU, largest process peak RSS {:.1} MiB{peak} (CPU from {})",
        u.wall.as_secs_f64(),
        u.user.as_secs_f64(),
        u.system.as_secs_f64(),
        mib(u.largest_peak_rss),
        cpu_source(u)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let u = Usage {
            wall: Duration::from_millis(1500),
            user: Duration::from_millis(1250),
            system: Duration::from_millis(5),
            largest_peak_rss: 100 << 20,
            from_cgroup: false,
            sandbox_peak: None,
        };
        assert_eq!(
            json_line(&u, true),
            "{ \"timed-out\": true, \"wall-time-seconds\": 1.500, \"user-cpu-seconds\": 1.250, \"system-cpu-seconds\": 0.005, \"largest-process-peak-rss-bytes\": 104857600, \"cpu-source\": \"getrusage\" }\n"
        );
        assert_eq!(
            summary(&u),
            "used 1.500s wall, 1.250s user + 0.005s system CPU, largest process peak RSS 100.0 MiB (CPU from getrusage)"
        );
        let cg = Usage {
            from_cgroup: true,
            sandbox_peak: Some(200 << 20),
            ..u
        };
        assert!(json_line(&cg, false).ends_with(
            "\"cpu-source\": \"cgroup cpu.stat\", \"sandbox-peak-memory-bytes\": 209715200 }\n"
        ));
        assert!(summary(&cg).ends_with(
            "sandbox peak memory 200.0 MiB (cgroup memory.peak) (CPU from cgroup cpu.stat)"
        ));
    }
}
