//! Finding, waiting for and killing sandbox processes from outside, and
//! handing a sandbox extra file descriptors.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

/// Pids of the processes whose /proc/PID directory passes `keep`.
pub fn pids_where(keep: impl Fn(&std::path::Path) -> bool) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if keep(&e.path()) {
            out.push(pid);
        }
    }
    out
}

/// Pids of processes whose argv[0] is exactly `argv0`.
pub fn pids_with_argv0(argv0: &str) -> Vec<u32> {
    pids_where(|dir| {
        std::fs::read(dir.join("cmdline"))
            .is_ok_and(|c| c.split(|&b| b == 0).next() == Some(argv0.as_bytes()))
    })
}

/// Pids of processes whose real uid is `uid`.
pub fn pids_of_uid(uid: u32) -> Vec<u32> {
    let uid = uid.to_string();
    pids_where(|dir| {
        std::fs::read_to_string(dir.join("status")).is_ok_and(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().next())
                == Some(uid.as_str())
        })
    })
}

/// Poll `cond` for up to 10 s; say what was awaited when giving up.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    eprintln!("gave up waiting for {what}");
    false
}

pub fn kill_all(pids: &[u32]) {
    for p in pids {
        // SAFETY: plain kill of a leftover test process.
        unsafe { libc::kill(*p as i32, libc::SIGKILL) };
    }
}

/// A unique argv[0] for a `sleep` inside the sandbox (a symlink to sleep
/// made in the sandbox's /tmp), so the process can be found from outside.
pub fn marker(tag: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("/tmp/sandwrap-mark-{}-{tag}-{n}", std::process::id())
}

/// Have `cmd` inherit `fds` (target number, open file), whatever numbers
/// the files have now.
pub fn inherit_fds(cmd: &mut std::process::Command, fds: &[(i32, OwnedFd)]) {
    let pairs: Vec<(i32, i32)> = fds.iter().map(|(t, f)| (*t, f.as_raw_fd())).collect();
    // SAFETY: only fcntl/dup2 between fork and exec; no allocation.
    unsafe {
        cmd.pre_exec(move || {
            let mut moved = [0i32; 16];
            for (i, (_, src)) in pairs.iter().enumerate() {
                moved[i] = libc::fcntl(*src, libc::F_DUPFD_CLOEXEC, 100);
                if moved[i] < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            for (i, (target, _)) in pairs.iter().enumerate() {
                if libc::dup2(moved[i], *target) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// Run `sandwrap ARGS` with `fds` (target number, open file) inherited.
pub fn run_with_fds(args: &[String], fds: Vec<(i32, OwnedFd)>) -> (i32, String, String) {
    let mut cmd = super::sandwrap(args);
    inherit_fds(&mut cmd, &fds);
    let o = super::output(cmd);
    drop(fds);
    (
        o.status.code().unwrap_or(-1),
        super::stdout(&o),
        super::stderr(&o),
    )
}

/// Wait for `child` for at most `limit`: its status, or `None` when it
/// ran longer (it is then killed and reaped).
pub fn wait_within(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Run `cmd` (its output captured) for at most `limit`: (exit code, or
/// `None` when it had to be killed for hanging; stdout; stderr).
pub fn output_within(
    mut cmd: std::process::Command,
    limit: Duration,
) -> (Option<i32>, String, String) {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_string(&mut text);
            }
            text
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let code = wait_within(&mut child, limit).map(|s| s.code().unwrap_or(-1));
    (
        code,
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    )
}
