//! What the sandbox used, measured by the supervisor once every process of
//! the sandbox it could wait for has been waited for: `getrusage(
//! RUSAGE_CHILDREN)`, which the kernel accumulates up the tree as each
//! process is waited for by its parent (pid 1 waits for every process of a
//! pid namespace; the supervisor, a subreaper, for every orphan).
//!
//! What the figures are, exactly (no cgroup, so no sum of memory):
//! - CPU: user and system time of every process of the sandbox that was
//!   waited for. Not counted: processes whose parent ignored SIGCHLD (the
//!   kernel reaps them without accounting), and those the kernel killed
//!   with the pid namespace when pid 1 itself had to be SIGKILLed
//!   (--timeout's last resort, when pid 1 has not ended a second after the
//!   rest of the sandbox was killed).
//! - memory: `ru_maxrss`, the peak resident set of the single largest
//!   process among them, not the sandbox's total at any moment; hence the
//!   name `largest-process-peak-rss-bytes`.

use std::time::{Duration, Instant};

/// The figures for one sandbox.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Usage {
    pub wall: Duration,
    pub user: Duration,
    pub system: Duration,
    /// Peak RSS of the largest single process, in bytes.
    pub largest_peak_rss: u64,
}

fn timeval(tv: libc::timeval) -> Duration {
    Duration::from_secs(tv.tv_sec.max(0) as u64) + Duration::from_micros(tv.tv_usec.max(0) as u64)
}

/// The figures since `started`, from the processes waited for so far.
pub fn measure(started: Instant) -> Usage {
    // SAFETY: zeroed rusage is a valid out-buffer.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointer; RUSAGE_CHILDREN cannot fail.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    Usage {
        wall: started.elapsed(),
        user: timeval(ru.ru_utime),
        system: timeval(ru.ru_stime),
        // Linux reports ru_maxrss in KiB.
        largest_peak_rss: (ru.ru_maxrss.max(0) as u64) * 1024,
    }
}

/// The extra `--json-status-fd` object, one line like bwrap's own.
pub fn json_line(u: &Usage, timed_out: bool) -> String {
    format!(
        "{{ \"timed-out\": {timed_out}, \"wall-time-seconds\": {:.3}, \"user-cpu-seconds\": {:.3}, \"system-cpu-seconds\": {:.3}, \"largest-process-peak-rss-bytes\": {} }}\n",
        u.wall.as_secs_f64(),
        u.user.as_secs_f64(),
        u.system.as_secs_f64(),
        u.largest_peak_rss
    )
}

/// The `--verbose` summary (without the `sandwrap: ` prefix).
pub fn summary(u: &Usage) -> String {
    format!(
        "used {:.3}s wall, {:.3}s user + {:.3}s system CPU, largest process peak RSS {:.1} MiB",
        u.wall.as_secs_f64(),
        u.user.as_secs_f64(),
        u.system.as_secs_f64(),
        u.largest_peak_rss as f64 / (1u64 << 20) as f64
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
        };
        assert_eq!(
            json_line(&u, true),
            "{ \"timed-out\": true, \"wall-time-seconds\": 1.500, \"user-cpu-seconds\": 1.250, \"system-cpu-seconds\": 0.005, \"largest-process-peak-rss-bytes\": 104857600 }\n"
        );
        assert_eq!(
            summary(&u),
            "used 1.500s wall, 1.250s user + 0.005s system CPU, largest process peak RSS 100.0 MiB"
        );
    }
}
