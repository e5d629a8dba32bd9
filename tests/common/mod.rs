//! Test harness: run the built `sandwrap` (and `/usr/bin/bwrap`, where
//! installed) as an unprivileged user in real namespaces.
//!
//! When the tests run as root (CI), every sandbox is started through
//! `setpriv --reuid/--regid/--clear-groups` as an unprivileged uid, so what
//! is tested is the rootless path. The binary is copied into a
//! world-readable temporary directory first, because the checkout may lie
//! where that user cannot reach (e.g. under /root).
#![allow(dead_code)]

mod cc;
mod cgroup;
mod netns;
mod procs;
#[allow(unused_imports)] // not every test binary uses them
pub use cc::*;
#[allow(unused_imports)] // not every test binary uses them
pub use cgroup::*;
#[allow(unused_imports)] // not every test binary uses them
pub use netns::*;
#[allow(unused_imports)] // not every test binary uses them
pub use procs::*;

use std::ffi::OsStr;
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// Say why a test (or part of one) is skipped. Locally that is a visible
/// skip; under CI (`CI` set, as `.ci/run` runs) a skip is a failure, so a
/// missing package can never turn a test green without running it.
pub fn skip_test(why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{why} (a skip is a failure under CI: install what is missing in .ci/run)");
    }
    eprintln!("{why}");
}

/// `skip!("skipping: ...", args)`: `skip_test` with format arguments.
macro_rules! skip {
    ($($arg:tt)*) => {
        $crate::common::skip_test(&format!($($arg)*))
    };
}
#[allow(unused_imports)] // not every test binary skips
pub(crate) use skip;

/// The unprivileged uid/gid the tests run sandboxes as when started as root.
pub fn test_uid() -> u32 {
    std::env::var("SANDWRAP_TEST_UID")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4242)
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The uid the sandbox is started with (the caller's, as seen from outside).
pub fn caller_uid() -> u32 {
    if is_root() {
        test_uid()
    } else {
        unsafe { libc::getuid() }
    }
}

pub fn caller_gid() -> u32 {
    if is_root() {
        test_uid()
    } else {
        unsafe { libc::getgid() }
    }
}

/// A directory every test user can read, holding a copy of the binary.
fn shared_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        remove_stale_shared_dirs();
        let dir = std::env::temp_dir().join(format!("sandwrap-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create shared test dir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .expect("chmod shared dir");
        let bin = dir.join("sandwrap");
        // A hard link costs nothing; a copy (another file system) ~30 MB.
        if std::fs::hard_link(env!("CARGO_BIN_EXE_sandwrap"), &bin).is_err() {
            std::fs::copy(env!("CARGO_BIN_EXE_sandwrap"), &bin).expect("copy sandwrap binary");
        }
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755))
            .expect("chmod binary");
        dir
    })
}

/// The shared dirs of test processes that have ended: nothing removes them
/// at exit (a test binary runs no destructor for statics), so each run
/// clears what earlier runs left. A dir whose process still runs is kept.
fn remove_stale_shared_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("sandwrap-test-"))
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: signal 0 only checks whether the pid exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if !alive {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Path of the shared `sandwrap` binary (a hard link or a copy).
pub fn sandwrap_bin() -> PathBuf {
    shared_dir().join("sandwrap")
}

/// `/usr/bin/bwrap`, when installed (for differential tests).
pub fn bwrap_bin() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/bwrap");
    p.exists().then_some(p)
}

/// A fresh directory owned by the test user, for files a test creates.
pub fn scratch(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = shared_dir().join(format!("{name}-{n}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod scratch");
    if is_root() {
        chown(&dir, Some(test_uid()), Some(test_uid())).expect("chown scratch");
    }
    dir
}

/// Compile a C helper with gcc into a scratch dir; None (with the reason,
/// a failure under CI) when gcc is missing or fails.
pub fn compile_c(name: &str, source: &str) -> Option<PathBuf> {
    let dir = scratch(name);
    let src = dir.join(format!("{name}.c"));
    let bin = dir.join(name);
    std::fs::write(&src, source).expect("write helper source");
    match Command::new("gcc")
        .args(["-O1", "-Wall", "-o"])
        .arg(&bin)
        .arg(&src)
        .output()
    {
        Ok(o) if o.status.success() => Some(bin),
        Ok(o) => {
            skip!(
                "skipping: gcc failed on the {name} helper: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            None
        }
        Err(e) => {
            skip!("skipping: gcc is not available to build the {name} helper ({e})");
            None
        }
    }
}

/// Give a file or directory created by the test (as root) to the test user.
pub fn give(path: &Path) {
    if is_root() {
        chown(path, Some(test_uid()), Some(test_uid())).expect("chown");
    }
}

const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A command for `program` that runs as the unprivileged test user, with a
/// small predictable environment and the shared dir as working directory.
pub fn user_command(program: &Path) -> Command {
    let mut cmd = if is_root() {
        let uid = test_uid().to_string();
        let mut c = Command::new("setpriv");
        c.args(["--reuid", &uid, "--regid", &uid, "--clear-groups", "--"])
            .arg(program);
        c
    } else {
        Command::new(program)
    };
    cmd.env_clear()
        .env("PATH", PATH)
        .env("HOME", shared_dir())
        .env("LANG", "C")
        .current_dir(shared_dir())
        .stdin(Stdio::null());
    cmd
}

/// `sh -c SCRIPT` as the test user (`$0`, `$1`, ... follow as `.arg`s).
pub fn user_sh(script: &str) -> Command {
    let mut c = user_command(Path::new("/bin/sh"));
    c.args(["-c", script]);
    c
}

/// `sandwrap ARGS...` as the test user.
pub fn sandwrap<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut c = user_command(&sandwrap_bin());
    c.args(args);
    c
}

/// `bwrap ARGS...` as the test user, when bwrap is installed.
pub fn bwrap<I, S>(args: I) -> Option<Command>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let bin = bwrap_bin()?;
    let mut c = user_command(&bin);
    c.args(args);
    Some(c)
}

/// Run and capture.
pub fn output(mut cmd: Command) -> Output {
    cmd.output().expect("spawn")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Run `sandwrap ARGS` and return (exit code, stdout, stderr).
pub fn run<S: AsRef<OsStr>>(args: &[S]) -> (i32, String, String) {
    let o = output(sandwrap(args));
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

/// Run `bwrap ARGS`, or None (with a printed reason) when it is missing.
pub fn run_bwrap<S: AsRef<OsStr>>(args: &[S]) -> Option<(i32, String, String)> {
    let Some(cmd) = bwrap(args) else {
        skip!("skipping the bwrap side: /usr/bin/bwrap is not installed");
        return None;
    };
    let o = output(cmd);
    Some((o.status.code().unwrap_or(-1), stdout(&o), stderr(&o)))
}

/// The usual host view: `/` read-only plus a real /dev and /proc.
pub const BASE: &[&str] = &["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"];

/// A root with the host's /usr only (and the usual links to it): the host's
/// /tmp, where test files live, is not in it.
pub const USR_ONLY: &[&str] = &[
    "--ro-bind",
    "/usr",
    "/usr",
    "--symlink",
    "usr/bin",
    "/bin",
    "--symlink",
    "usr/lib",
    "/lib",
    "--symlink",
    "usr/lib64",
    "/lib64",
    "--symlink",
    "usr/sbin",
    "/sbin",
];

/// The host's root, read-only, and nothing else.
pub const RO_ROOT: &[&str] = &["--ro-bind", "/", "/"];

/// The host's root under `--fallback landlock` with `--unshare-net`: what
/// the fallback does in place of a network namespace.
pub const FALLBACK_NO_NET: &[&str] = &[
    "--ro-bind",
    "/",
    "/",
    "--unshare-net",
    "--fallback",
    "landlock",
];

/// A new procfs on /proc.
pub const PROC: &[&str] = &["--proc", "/proc"];

/// Write a file the test user can then use.
pub fn mkfile(path: &Path, content: impl AsRef<[u8]>) {
    std::fs::write(path, content).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    give(path);
}

/// A file in a fresh scratch dir `dir`, written with `mkfile`.
pub fn scratch_file(dir: &str, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = scratch(dir).join(name);
    mkfile(&path, content);
    path
}

/// A file's text, read from the host side.
pub fn read_text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

/// A path as an argument word.
pub fn s(p: &Path) -> String {
    p.display().to_string()
}

/// The option lists in order, then `--` and the command's words: one
/// sandwrap argument list.
pub fn cmdline(opts: &[&[&str]], command: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = opts.concat().iter().map(|s| s.to_string()).collect();
    v.push("--".into());
    v.extend(command.iter().map(|s| s.to_string()));
    v
}

/// The option lists in order, then `--` and `sh -c SCRIPT`.
pub fn sh_cmdline(opts: &[&[&str]], script: &str) -> Vec<String> {
    cmdline(opts, &["sh", "-c", script])
}

/// `--ro-bind / /` plus `extra`, then `sh -c SCRIPT` (no /dev, no /proc).
pub fn ro_root(extra: &[&str], script: &str) -> Vec<String> {
    sh_cmdline(&[RO_ROOT, extra], script)
}

/// `--ro-bind / /` plus `extra`, then `--` and the command's words.
pub fn ro_root_cmd(extra: &[&str], command: &[&str]) -> Vec<String> {
    cmdline(&[RO_ROOT, extra], command)
}

/// Run `sandwrap ARGS`, require success, return stdout.
pub fn ok<S: AsRef<OsStr> + std::fmt::Debug>(args: &[S]) -> String {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "sandwrap {args:?} failed: {err}");
    out
}

/// Run `sandwrap ARGS`, require exit status 1, return stderr.
pub fn fails<S: AsRef<OsStr> + std::fmt::Debug>(args: &[S]) -> String {
    let (code, out, err) = run(args);
    assert_eq!(
        code, 1,
        "sandwrap {args:?} should fail; stdout {out:?} stderr {err:?}"
    );
    err
}

/// `BASE` followed by `extra`, then `--` and a `sh -c SCRIPT`.
pub fn sh(extra: &[&str], script: &str) -> Vec<String> {
    sh_cmdline(&[BASE, extra], script)
}

/// Borrowed words of an argument list, for `run` and `sandwrap`.
pub fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Run the sandwrap binary inside an outer sandbox in which creating user
/// namespaces fails (`--disable-userns`), so `--fallback landlock` takes
/// over; `shared` (the test's scratch dir) is writable in both.
pub fn without_userns(inner: &[&str], shared: &Path) -> (i32, String, String) {
    without_userns_with(&[], inner, shared)
}

/// `without_userns`, with `outer` options added to the outer sandbox (a
/// `--setenv` for the inner sandwrap).
pub fn without_userns_with(outer: &[&str], inner: &[&str], shared: &Path) -> (i32, String, String) {
    let bin = sandwrap_bin().display().to_string();
    let shared = shared.display().to_string();
    let args = cmdline(
        &[
            &["--unshare-user", "--disable-userns"],
            RO_ROOT,
            &["--bind", &shared, &shared, "--dev", "/dev"],
            PROC,
            &["--unshare-pid"],
            outer,
        ],
        &[&[bin.as_str()], inner].concat(),
    );
    run(&args)
}

/// The kernel's landlock ABI (0 without landlock).
pub fn landlock_abi() -> i64 {
    // SAFETY: the version query takes no attribute pointer.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            1usize,
        )
    };
    v.max(0)
}

/// A pipe (close-on-exec): the read end as a File for the test, the write
/// end to pass to the sandbox (e.g. for --json-status-fd).
pub fn read_pipe() -> (std::fs::File, std::os::fd::OwnedFd) {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: valid array of two ints.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: two fresh fds, each owned once.
    unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        )
    }
}

/// The number after `"key": ` in a flat JSON line (the usage object).
pub fn json_number(line: &str, key: &str) -> f64 {
    let at = line
        .find(&format!("\"{key}\": "))
        .unwrap_or_else(|| panic!("no {key} in {line}"));
    let rest = &line[at + key.len() + 4..];
    let end = rest.find([',', ' ', '}']).unwrap_or(rest.len());
    rest[..end]
        .parse()
        .unwrap_or_else(|_| panic!("{key} in {line}"))
}
