//! Starting sandwrap inside a delegated cgroup v2, as systemd starts a
//! user's session or `systemd-run --user --scope -p Delegate=yes`: a cgroup
//! the test user owns (its directory and its cgroup.procs,
//! cgroup.subtree_control and cgroup.threads), with sandwrap's process
//! moved in before it starts. Only the cgroup tests use this.

use std::os::unix::fs::chown;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where cgroup2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a
/// hybrid host).
pub fn cgroup2_mount() -> Option<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        let point = left.split(' ').nth(4)?;
        (right.split(' ').next() == Some("cgroup2")).then(|| PathBuf::from(point))
    })
}

/// The files systemd hands to the owner of a delegated cgroup.
const DELEGATED_FILES: &[&str] = &["cgroup.procs", "cgroup.subtree_control", "cgroup.threads"];

/// Delegate `dir` to the test user, as systemd does: chown the directory
/// and the files above, enable every controller the cgroup has for its
/// children (Delegate=yes).
fn delegate(dir: &Path) {
    let uid = super::test_uid();
    chown(dir, Some(uid), Some(uid)).expect("chown the delegated cgroup");
    for f in DELEGATED_FILES {
        chown(dir.join(f), Some(uid), Some(uid)).expect("chown a delegated cgroup file");
    }
}

fn enable_all(dir: &Path) {
    let have = std::fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
    for c in have.split_whitespace() {
        // A controller that cannot be enabled here stays off.
        let _ = std::fs::write(dir.join("cgroup.subtree_control"), format!("+{c}"));
    }
}

/// The delegated cgroup .ci/run makes for the test user:
/// `<cgroup2 mount>/sandwrap-test-UID` (made here the same way if missing).
fn delegated_root() -> Option<PathBuf> {
    let mount = cgroup2_mount()?;
    let dir = mount.join(format!("sandwrap-test-{}", super::test_uid()));
    // Tests run in parallel: another may make it at the same moment.
    match std::fs::create_dir(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(_) => return None,
    }
    // Each time: idempotent, and done before this test goes on.
    delegate(&dir);
    enable_all(&dir);
    Some(dir)
}

/// A delegated cgroup of the test's own (`NAME` below the delegated root):
/// removed when dropped.
pub struct Delegated {
    pub dir: PathBuf,
}

impl Drop for Delegated {
    fn drop(&mut self) {
        // Leftovers of the test itself (a sandwrap it killed): the
        // sandboxes' cgroups first.
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                if e.path().is_dir() {
                    let _ = std::fs::write(e.path().join("cgroup.kill"), "1");
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    let _ = std::fs::remove_dir(e.path());
                }
            }
        }
        // And whatever is still in the test's own cgroup (a process of a
        // failed test, a sandwrap still exiting): rmdir waits for none.
        let _ = std::fs::write(self.dir.join("cgroup.kill"), "1");
        let events = self.dir.join("cgroup.events");
        for _ in 0..100 {
            match std::fs::read_to_string(&events) {
                Ok(e) if e.contains("populated 1") => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                _ => break,
            }
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}

impl Delegated {
    /// `cmd` (a `sandwrap(...)` command) started inside this cgroup: as
    /// root, a shell writes its own pid to cgroup.procs and then execs
    /// the command (which drops to the test uid).
    pub fn command(&self, cmd: Command) -> Command {
        self.command_after("", cmd)
    }

    /// `command`, with shell code `first` run before (`$0` is the cgroup's
    /// directory, `$$` the pid sandwrap gets).
    pub fn command_after(&self, first: &str, cmd: Command) -> Command {
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(format!(
                r#"{first}echo $$ > "$0/cgroup.procs" && exec "$@""#
            ))
            .arg(&self.dir)
            .arg(cmd.get_program())
            .args(cmd.get_args());
        c.env_clear();
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                c.env(k, v);
            }
        }
        if let Some(d) = cmd.get_current_dir() {
            c.current_dir(d);
        }
        c.stdin(std::process::Stdio::null());
        c
    }

    /// The cgroups sandwrap made here (`sandwrap-*`).
    pub fn sandwrap_cgroups(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.file_name().to_str().map(str::to_string))
                    .filter(|n| n.starts_with("sandwrap-"))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

/// The cgroup this (non-root) test process runs in, when it is delegated
/// to us (a desktop session's, or under `systemd-run --user --scope -p
/// Delegate=yes cargo test`).
fn own_delegated_cgroup() -> Option<PathBuf> {
    let mount = cgroup2_mount()?;
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = text.lines().find_map(|l| l.strip_prefix("0::"))?;
    let dir = mount.join(path.trim_start_matches('/'));
    let writable = |p: &Path| {
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap_or_default();
        // SAFETY: valid C string.
        unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
    };
    (writable(&dir) && writable(&dir.join("cgroup.procs"))).then_some(dir)
}

/// A delegated cgroup v2 for one test, or None (with the reason; a failure
/// under CI) where the tests cannot make one: as root, below the one
/// .ci/run makes; otherwise below the test's own cgroup if it is
/// delegated.
pub fn delegated_cgroup(name: &str) -> Option<Delegated> {
    let base = if super::is_root() {
        delegated_root()
    } else {
        own_delegated_cgroup()
    };
    let Some(base) = base else {
        super::skip_test(&format!(
            "skipping {name}: no delegated cgroup v2 to start sandwrap in (as root the tests make one below the cgroup2 mount; otherwise run them in a delegated cgroup: systemd-run --user --scope -p Delegate=yes cargo test)"
        ));
        return None;
    };
    let dir = base.join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir(&dir);
    if let Err(e) = std::fs::create_dir(&dir) {
        super::skip_test(&format!("skipping {name}: mkdir {}: {e}", dir.display()));
        return None;
    }
    // No controller enabled for its children: the test's process goes in
    // (a cgroup that enables one holds no process); sandwrap enables what
    // its limits need itself.
    if super::is_root() {
        delegate(&dir);
    }
    Some(Delegated { dir })
}
