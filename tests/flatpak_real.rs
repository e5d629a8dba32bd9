//! A real `flatpak run` (flatpak 1.14) with `FLATPAK_BWRAP` pointing at the
//! built sandwrap, as the unprivileged test user; every scenario runs twice,
//! first with /usr/bin/bwrap as the reference (the expectations must hold
//! there, or the test itself is wrong), then with sandwrap, whose report must
//! hold the same expectations and equal bwrap's line for line.
//!
//! The app and its runtimes are built here, once per test process: a runtime
//! whose /usr is busybox-static, an "SDK" that differs by one marker file
//! (what `--devel` selects), and an app holding a small static C probe
//! (tests/flatpak_probe.c); exported with `flatpak build-export` into a
//! local repo and installed `--user` from it (`--no-gpg-verify`). There is
//! no system bus: `FLATPAK_SYSTEM_HELPER_ON_SESSION=1` keeps `flatpak
//! install`'s parental controls check off it. The session bus is absent
//! too, except in the scenario that starts one of its own for the D-Bus
//! proxy. Each scenario has its own HOME and XDG_RUNTIME_DIR, so instances
//! never meet across scenarios.
mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;

const APP: &str = "org.test.App";

/// Builds the runtime, SDK and app into a local repo and installs them.
/// Runs as the test user: $1 = work dir, $2 = the probe binary.
const BUILD: &str = r#"
set -eu
top=$1 probe=$2
cd "$top"
arch=$(flatpak --default-arch)
runtime() { # ID DIR [MARKER]
    mkdir -p "$2/usr/bin" "$2/usr/etc" "$2/usr/share" "$2/files" "$2/var"
    cp "$(command -v busybox)" "$2/usr/bin/busybox"
    for a in $("$2/usr/bin/busybox" --list); do
        [ -e "$2/usr/bin/$a" ] || ln -s busybox "$2/usr/bin/$a"
    done
    if [ $# -gt 2 ]; then echo "$3" > "$2/usr/share/$3"; fi
    printf '[Runtime]\nname=%s\nruntime=%s/%s/1\nsdk=org.test.Sdk/%s/1\n' \
        "$1" "$1" "$arch" "$arch" > "$2/metadata"
    flatpak build-export --runtime repo "$2" 1 >/dev/null
}
runtime org.test.Platform platform
runtime org.test.Sdk sdk test-sdk
mkdir -p app/files/bin app/var
cp "$probe" app/files/bin/probe
printf '[Application]\nname=org.test.App\nruntime=org.test.Platform/%s/1\nsdk=org.test.Sdk/%s/1\n' \
    "$arch" "$arch" > app/metadata
flatpak build-finish --command=probe app >/dev/null
flatpak build-export repo app 1 >/dev/null
flatpak --user remote-add --no-gpg-verify test "$top/repo"
flatpak --user install -y --noninteractive test \
    org.test.Platform//1 org.test.Sdk//1 org.test.App//1 >/dev/null
"#;

/// The app's own binary (see the file), built statically with gcc.
const PROBE_C: &str = include_str!("flatpak_probe.c");

/// The installed runtime/app, shared by every scenario of this process.
struct Fixture {
    installation: PathBuf,
    repo: PathBuf,
}

fn fixture() -> Option<&'static Fixture> {
    static F: OnceLock<Option<Fixture>> = OnceLock::new();
    F.get_or_init(build_fixture).as_ref()
}

fn build_fixture() -> Option<Fixture> {
    for tool in ["/usr/bin/flatpak", "/usr/bin/gcc", "/usr/bin/ldd"] {
        if !Path::new(tool).exists() {
            skip!("skipping the flatpak test: {tool} is not installed");
            return None;
        }
    }
    if bwrap_bin().is_none() {
        skip!("skipping the flatpak test: /usr/bin/bwrap (the reference) is not installed");
        return None;
    }
    let busybox = ["/usr/bin/busybox", "/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(busybox) = busybox else {
        skip!("skipping the flatpak test: busybox-static is not installed");
        return None;
    };
    let ldd = Command::new("/usr/bin/ldd")
        .arg(busybox)
        .output()
        .expect("ldd");
    if ldd.status.success() {
        skip!(
            "skipping the flatpak test: {busybox} is dynamically linked (install busybox-static)"
        );
        return None;
    }
    let top = scratch("flatpak");
    let src = top.join("probe.c");
    let probe = top.join("probe");
    fs::write(&src, PROBE_C).expect("write probe source");
    let gcc = Command::new("/usr/bin/gcc")
        .args(["-static", "-O1", "-o"])
        .arg(&probe)
        .arg(&src)
        .output()
        .expect("spawn gcc");
    assert!(gcc.status.success(), "gcc -static: {}", stderr(&gcc));
    fs::set_permissions(&probe, fs::Permissions::from_mode(0o755)).expect("chmod probe");
    // Installed with the reference; `install_runs_triggers` installs with
    // each backend.
    let env = Env::in_dir(top.clone(), Backend::Bwrap);
    let mut build = user_sh(BUILD);
    build.arg("sh").arg(&top).arg(&probe);
    env.apply(&mut build);
    let o = output(build);
    assert!(
        o.status.success(),
        "building and installing the test app failed:\n{}{}",
        stdout(&o),
        stderr(&o)
    );
    Some(Fixture {
        installation: env.installation,
        repo: top.join("repo"),
    })
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Backend {
    Bwrap,
    Sandwrap,
}

impl Backend {
    fn bin(self) -> PathBuf {
        match self {
            Backend::Bwrap => bwrap_bin().expect("checked by the fixture"),
            Backend::Sandwrap => sandwrap_bin(),
        }
    }
}

/// One scenario's world: its own HOME and XDG_RUNTIME_DIR (owned by the test
/// user), the shared installation, and the backend flatpak runs.
struct Env {
    backend: Backend,
    home: PathBuf,
    runtime_dir: PathBuf,
    installation: PathBuf,
}

impl Env {
    fn in_dir(top: PathBuf, backend: Backend) -> Env {
        let home = top.join("home");
        let runtime_dir = top.join("run");
        for d in [&home, &runtime_dir] {
            fs::create_dir_all(d).expect("create scenario dir");
            give(d);
        }
        fs::set_permissions(&runtime_dir, fs::Permissions::from_mode(0o700))
            .expect("chmod runtime dir");
        Env {
            backend,
            home,
            runtime_dir,
            installation: top.join("installation"),
        }
    }

    fn new(fx: &Fixture, backend: Backend) -> Env {
        let mut env = Env::in_dir(scratch(&format!("flatpak-{backend:?}")), backend);
        env.installation = fx.installation.clone();
        env
    }

    fn apply(&self, cmd: &mut Command) {
        cmd.env("HOME", &self.home)
            .env("XDG_RUNTIME_DIR", &self.runtime_dir)
            .env("FLATPAK_USER_DIR", &self.installation)
            .env("FLATPAK_SYSTEM_HELPER_ON_SESSION", "1")
            .env("FLATPAK_BWRAP", self.backend.bin());
    }

    /// `flatpak ARGS` as the test user.
    fn flatpak(&self, args: &[&str]) -> Command {
        let mut cmd = user_command(Path::new("/usr/bin/flatpak"));
        cmd.args(args);
        self.apply(&mut cmd);
        cmd
    }

    /// Run `flatpak ARGS` to the end, and report it.
    fn run(&self, args: &[&str]) -> String {
        self.report(&output(self.flatpak(args)))
    }

    /// `rc=N`, stdout, then stderr's lines marked `stderr: `, normalized.
    fn report(&self, o: &std::process::Output) -> String {
        let err: String = self
            .normalize(&stderr(o))
            .lines()
            .map(|l| format!("stderr: {l}\n"))
            .collect();
        let rc = o.status.code().map_or("signal".into(), |c| c.to_string());
        format!("rc={rc}\n{}{err}", self.normalize(&stdout(o)))
    }

    /// Scenario paths as `~`, the backend's message prefix as bwrap's,
    /// without GLib's log lines: the warning that the test uid has no
    /// passwd entry, and xdg-dbus-proxy's about a client that left first,
    /// which comes or not depending on timing.
    fn normalize(&self, text: &str) -> String {
        text.lines()
            .filter(|l| !l.trim().is_empty() && !l.contains(" **: "))
            .map(|l| format!("{l}\n"))
            .collect::<String>()
            .replace(&self.home.display().to_string(), "~")
            .replace("sandwrap: ", "bwrap: ")
    }

    /// The app's private data (~/.var/app/ID) as the host sees it.
    fn app_data(&self) -> PathBuf {
        self.home.join(".var/app").join(APP)
    }

    /// Start `flatpak ARGS` in the background, output to files (a pipe
    /// would be held open by whatever the app leaves running).
    fn spawn(&self, args: &[&str], tag: &str) -> Child {
        let out = fs::File::create(self.home.join(format!("{tag}.out"))).expect("create out");
        let err = out.try_clone().expect("dup out");
        let mut cmd = self.flatpak(args);
        cmd.stdout(Stdio::from(out)).stderr(Stdio::from(err));
        cmd.spawn().expect("spawn flatpak")
    }

    /// `flatpak run EXTRA --command=sleep APP N` (N unique), and the host
    /// pid of that sleep; or why it did not start (flatpak's exit status
    /// and output), as a report line that starts with `what`.
    fn start_sleeper(&self, what: &str, extra: &[&str]) -> Result<Sleeper, String> {
        let seconds = unique_seconds();
        let mut args = vec!["run"];
        args.extend_from_slice(extra);
        args.extend(["--command=sleep", APP, &seconds]);
        let mut child = self.spawn(&args, &seconds);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Some(pid) = pid_of(&["sleep", &seconds]) {
                return Ok(Sleeper {
                    pid,
                    child,
                    seconds,
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                let out = fs::read_to_string(self.home.join(format!("{seconds}.out")));
                let out = self.normalize(&out.unwrap_or_default());
                return Err(format!(
                    "{what}: did not start ({status}): {}\n",
                    out.trim_end()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(format!("{what}: did not start within 10 s\n"))
    }
}

/// An app instance whose command is a `sleep SECONDS`, ended on drop.
struct Sleeper {
    pid: u32,
    child: Child,
    seconds: String,
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        kill_all(&[self.pid]);
        let _ = self.child.wait();
    }
}

/// A unique `sleep` duration per call, so a process can be found by argv.
fn unique_seconds() -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    (1_000_000 + (std::process::id() % 100_000) * 100 + n).to_string()
}

/// The pid of a process whose argv is exactly `argv` (a unique one).
fn pid_of(argv: &[&str]) -> Option<u32> {
    let want: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    pids_where(|dir| fs::read(dir.join("cmdline")).is_ok_and(|c| c == want))
        .first()
        .copied()
}

/// `/proc/PID/ns/NAME`'s inode, as a string ("pid:[4026...]" -> digits).
fn ns_of(pid: u32, name: &str) -> String {
    let link = fs::read_link(format!("/proc/{pid}/ns/{name}")).unwrap_or_default();
    link.display()
        .to_string()
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .trim_end_matches(']')
        .to_string()
}

/// `pid` in each pid namespace it is in, the host's first (its NSpid).
fn ns_pids(pid: &str) -> Vec<String> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .map_or(Vec::new(), |v| {
            v.split_whitespace().map(str::to_string).collect()
        })
}

/// How many pid namespaces deep `pid` is.
fn pid_depth(pid: u32) -> usize {
    ns_pids(&pid.to_string()).len()
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// Run `scenario` with bwrap, check `expected` lines are in its report
/// (else the test is wrong), then with sandwrap: same lines, same report.
fn differential(name: &str, expected: &[&str], scenario: impl Fn(&Env) -> String) {
    let Some(fx) = fixture() else { return };
    let missing = |report: &str| -> Vec<String> {
        expected
            .iter()
            .filter(|e| !report.lines().any(|l| l == **e))
            .map(|e| e.to_string())
            .collect()
    };
    let reference = scenario(&Env::new(fx, Backend::Bwrap));
    let lacking = missing(&reference);
    assert!(
        lacking.is_empty(),
        "{name}: with /usr/bin/bwrap the report lacks {lacking:?}:\n{reference}"
    );
    let ours = scenario(&Env::new(fx, Backend::Sandwrap));
    eprintln!("{name}\n--- bwrap\n{reference}--- sandwrap\n{ours}");
    let lacking = missing(&ours);
    assert!(
        lacking.is_empty() && ours == reference,
        "{name}: flatpak with sandwrap differs from flatpak with bwrap (lacks {lacking:?})\n\
         --- bwrap\n{reference}--- sandwrap\n{ours}"
    );
}

/// The app's view: /app and /usr from the deploys (read-only), its own
/// ~/.var/app/ID writable and seen by the host, the rest of HOME hidden.
#[test]
fn app_sees_its_view() {
    let script = r#"
        test -x /app/bin/probe && echo app=yes
        test -x /usr/bin/busybox && echo usr=yes
        grep -qx name=org.test.App /.flatpak-info && echo flatpak-info=yes
        echo home=$HOME
        echo home-entries=$(ls -A "$HOME")
        echo data=$XDG_DATA_HOME
        echo written > "$XDG_DATA_HOME/w" && echo data-writable=yes
        touch /usr/x 2>/dev/null || echo usr-writable=no
        touch /app/x 2>/dev/null || echo app-writable=no
        test -e "$HOME/host-secret" || echo host-secret=hidden
        echo uid=$(id -u)
        /app/bin/probe
    "#;
    let uid = format!("uid={}", caller_uid());
    let expected = [
        "rc=0",
        "app=yes",
        "usr=yes",
        "flatpak-info=yes",
        "home=~",
        "home-entries=.var",
        "data=~/.var/app/org.test.App/data",
        "data-writable=yes",
        "usr-writable=no",
        "app-writable=no",
        "host-secret=hidden",
        uid.as_str(),
        "probe ran",
        "host-sees-write=yes",
    ];
    differential("view", &expected, |env| {
        let secret = env.home.join("host-secret");
        fs::write(&secret, "secret").expect("write host-secret");
        give(&secret);
        let mut r = env.run(&["run", "--command=sh", APP, "-c", script]);
        let w = fs::read_to_string(env.app_data().join("data/w")).unwrap_or_default();
        r += &format!("host-sees-write={}\n", yes_no(w == "written\n"));
        // The app's default command (metadata `command=probe`).
        r += &env.run(&["run", APP]);
        r
    });
}

/// `flatpak run`'s exit status is the app's, a signal death is 128+N, a
/// command that cannot run is one error line and 1.
#[test]
fn exit_statuses() {
    let expected = [
        "exit 0: rc=0",
        "exit 7: rc=7",
        "exit 255: rc=255",
        "kill -TERM: rc=143",
        "missing command: rc=1",
        "stderr: bwrap: execvp /nonexistent: No such file or directory",
    ];
    differential("exit statuses", &expected, |env| {
        let mut r = String::new();
        for (label, script) in [
            ("exit 0", "exit 0"),
            ("exit 7", "exit 7"),
            ("exit 255", "exit 255"),
            ("kill -TERM", "kill -TERM $$"),
        ] {
            r += &format!(
                "{label}: {}",
                env.run(&["run", "--command=sh", APP, "-c", script])
            );
        }
        r += &format!(
            "missing command: {}",
            env.run(&["run", "--command=/nonexistent", APP])
        );
        r
    });
}

/// `--persist=DIR`: ~/DIR is ~/.var/app/ID/DIR on the host, kept across
/// runs; without the option there is no ~/DIR.
#[test]
fn persist() {
    let expected = [
        "first: rc=0",
        "home-entries=.var keep",
        "host-persisted=yes",
        "host-home-keep=absent",
        "second: rc=0",
        "kept",
        "without: rc=0",
        "keep-absent",
    ];
    differential("--persist", &expected, |env| {
        let mut r = "first: ".to_string();
        r += &env.run(&[
            "run",
            "--persist=keep",
            "--command=sh",
            APP,
            "-c",
            "echo kept > ~/keep/f && echo home-entries=$(ls -A ~)",
        ]);
        let kept = fs::read_to_string(env.app_data().join("keep/f")).unwrap_or_default();
        r += &format!("host-persisted={}\n", yes_no(kept == "kept\n"));
        let in_home = env.home.join("keep").exists();
        r += &format!(
            "host-home-keep={}\n",
            if in_home { "present" } else { "absent" }
        );
        r += "second: ";
        r += &env.run(&[
            "run",
            "--persist=keep",
            "--command=sh",
            APP,
            "-c",
            "cat ~/keep/f",
        ]);
        // The scenario's HOME lies under /tmp, and flatpak keeps one /tmp
        // per app across runs: the empty mount point ~/keep stays visible
        // there, its content must not.
        r += "without: ";
        r += &env.run(&[
            "run",
            "--command=sh",
            APP,
            "-c",
            "test -e ~/keep/f || echo keep-absent",
        ]);
        r
    });
}

/// `--filesystem=DIR` shows a host directory read-write, `DIR:ro`
/// read-only, and without it the directory is not there.
#[test]
fn filesystem() {
    let expected = [
        "none: rc=0",
        "none: unreadable unwritable",
        "none: host-file=no",
        "rw: rc=0",
        "rw: from-host writable",
        "rw: host-file=yes",
        "ro: rc=0",
        "ro: from-host unwritable",
        "ro: host-file=no",
    ];
    differential("--filesystem", &expected, |env| {
        let shared = env.home.parent().expect("scenario dir").join("shared");
        fs::create_dir_all(&shared).expect("create shared dir");
        give(&shared);
        let input = shared.join("in");
        fs::write(&input, "from-host\n").expect("write shared file");
        give(&input);
        let dir = shared.display().to_string();
        let mut r = String::new();
        for (label, opt) in [
            ("none", None),
            ("rw", Some(format!("--filesystem={dir}"))),
            ("ro", Some(format!("--filesystem={dir}:ro"))),
        ] {
            let script = format!(
                "if c=$(cat \"$1/in\" 2>/dev/null); then r=$c; else r=unreadable; fi; \
                 if {{ echo x > \"$1/out-{label}\"; }} 2>/dev/null; \
                 then w=writable; else w=unwritable; fi; echo \"{label}: $r $w\""
            );
            let mut args = vec!["run"];
            if let Some(o) = &opt {
                args.push(o);
            }
            args.extend(["--command=sh", APP, "-c", &script, "sh", &dir]);
            r += &format!("{label}: {}", env.run(&args));
            let written = shared.join(format!("out-{label}")).exists();
            r += &format!("{label}: host-file={}\n", yes_no(written));
        }
        r.replace(&dir, "$DIR")
    });
}

/// `--share=network` runs in the host's network namespace,
/// `--unshare=network` in one of its own with only `lo`.
#[test]
fn network() {
    let host_net = ns_of(std::process::id(), "net");
    let expected = [
        "--share=network: rc=0",
        "netns=host",
        "--unshare=network: rc=0",
        "netns=own ifaces=lo",
    ];
    differential("network", &expected, |env| {
        let script = "readlink /proc/self/ns/net; \
                      echo ifaces=$(sed 1,2d /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort)";
        let mut r = String::new();
        for opt in ["--share=network", "--unshare=network"] {
            let out = env.run(&["run", opt, "--command=sh", APP, "-c", script]);
            // Only whether the namespace is the host's is comparable; the
            // host's interfaces are whatever the machine has.
            let ifaces = out
                .lines()
                .find_map(|l| l.strip_prefix("ifaces="))
                .unwrap_or("");
            r += &format!("{opt}: ");
            for l in out.lines().filter(|l| !l.starts_with("ifaces=")) {
                r += &match l {
                    _ if l == format!("net:[{host_net}]") => "netns=host\n".into(),
                    _ if l.starts_with("net:[") => format!("netns=own ifaces={ifaces}\n"),
                    _ => format!("{l}\n"),
                };
            }
        }
        r
    });
}

/// `--devel`: the SDK's /usr instead of the runtime's, and ptrace allowed
/// by flatpak's seccomp filter (refused without it).
#[test]
fn devel() {
    let expected = [
        "plain: rc=0",
        "ptrace=EPERM usr=platform",
        "--devel: rc=0",
        "ptrace=ESRCH usr=sdk",
    ];
    differential("--devel", &expected, |env| {
        let script = "echo \"$(/app/bin/probe ptrace) \
                      usr=$(test -e /usr/share/test-sdk && echo sdk || echo platform)\"";
        let mut r = "plain: ".to_string();
        r += &env.run(&["run", "--command=sh", APP, "-c", script]);
        r += "--devel: ";
        r += &env.run(&["run", "--devel", "--command=sh", APP, "-c", script]);
        r
    });
}

/// flatpak hands bwrap its options (--args), /usr and /app (--ro-bind-fd),
/// --persist dirs (--bind-fd), the seccomp filter, .flatpak-info, passwd
/// and more as fds: none of them may reach the app. The attack: climb `..`
/// from any directory fd (physically, past the sandbox's root) and read a
/// file of the host's home.
#[test]
fn no_extra_fds_in_the_app() {
    let expected = [
        "rc=0",
        "fd 0",
        "fd 1",
        "fd 2",
        "directory fds: 0",
        "host files read: 0",
    ];
    differential("fds", &expected, |env| {
        let secret = env.home.join("host-secret");
        fs::write(&secret, "host-secret-content\n").expect("write host-secret");
        give(&secret);
        let script = r#"for f in /proc/self/fd/*; do
                n=${f##*/}
                if [ -d "$f" ]; then echo "fd $n dir"; else echo "fd $n"; fi
            done
            for f in /proc/self/fd/*; do
                cd -P "$f" 2>/dev/null || continue
                i=0; while [ $i -lt 40 ]; do cd -P .. 2>/dev/null; i=$((i+1)); done
                cat "./${HOME#/}/host-secret" 2>/dev/null
                cd /
            done"#;
        let r = env.run(&["run", "--persist=keep", "--command=sh", APP, "-c", script]);
        let dirs = r.lines().filter(|l| l.ends_with(" dir")).count();
        let read = r.lines().filter(|l| *l == "host-secret-content").count();
        format!("{r}directory fds: {dirs}\nhost files read: {read}\n")
    });
}

/// `--parent-pid` with `--parent-expose-pids`: a new pid namespace nested
/// in the parent instance's (the parent sees the child's processes, the
/// child sees only its own); with `--parent-share-pids`: the parent's.
#[test]
fn parent_pid() {
    let expected = [
        "expose: rc=0",
        "expose: sees-parent=no",
        "expose: same-pidns=no depth=parent+1 same-userns=yes",
        "share: rc=0",
        "share: sees-parent=yes",
        "share: same-pidns=yes depth=parent+0 same-userns=yes",
    ];
    differential("--parent-pid", &expected, |env| {
        let parent = match env.start_sleeper("parent", &[]) {
            Ok(p) => p,
            Err(e) => return e,
        };
        let parent_secs = &parent.seconds;
        let ppid = parent.pid.to_string();
        let mut r = String::new();
        for (label, opt) in [
            ("expose", "--parent-expose-pids"),
            ("share", "--parent-share-pids"),
        ] {
            let pp = format!("--parent-pid={ppid}");
            let script = format!(
                "echo -n '{label}: '; ps -o args | grep -qx 'sleep {parent_secs}' \
                 && echo sees-parent=yes || echo sees-parent=no"
            );
            let out = env.run(&["run", &pp, opt, "--command=sh", APP, "-c", &script]);
            r += &format!("{label}: {out}");
            let child = match env.start_sleeper(&format!("{label}: child"), &[&pp, opt]) {
                Ok(c) => c,
                Err(e) => {
                    r += &e;
                    continue;
                }
            };
            let depth = pid_depth(child.pid) as isize - pid_depth(parent.pid) as isize;
            r += &format!(
                "{label}: same-pidns={} depth=parent+{depth} same-userns={}\n",
                yes_no(ns_of(child.pid, "pid") == ns_of(parent.pid, "pid")),
                yes_no(ns_of(child.pid, "user") == ns_of(parent.pid, "user")),
            );
        }
        r.replace(parent_secs, "PARENT")
    });
}

/// `flatpak enter` runs a command inside a running instance (found through
/// the child pid the backend reported on --info-fd), whose namespaces the
/// report names: they must be those the app runs in.
#[test]
fn enter() {
    let expected = [
        "rc=0",
        "sees-app=yes",
        "name=org.test.App",
        "app=yes",
        "info mnt-namespace=app's",
        "info net-namespace=app's",
        "info pid-namespace=app's",
    ];
    differential("flatpak enter", &expected, |env| {
        let app = match env.start_sleeper("app", &[]) {
            Ok(a) => a,
            Err(e) => return e,
        };
        let secs = &app.seconds;
        let script = format!(
            "ps -o args | grep -qx 'sleep {secs}' && echo sees-app=yes; \
             grep ^name= /.flatpak-info; test -x /app/bin/probe && echo app=yes; \
             echo fds=$(ls /proc/self/fd)"
        );
        let mut r = env.run(&["enter", APP, "sh", "-c", &script]);
        let info = fs::read_dir(env.runtime_dir.join(".flatpak"))
            .expect("instances dir")
            .flatten()
            .find_map(|e| fs::read_to_string(e.path().join("bwrapinfo.json")).ok())
            .unwrap_or_default();
        for ns in ["mnt", "net", "pid"] {
            let key = format!("\"{ns}-namespace\": ");
            let named = info
                .lines()
                .find_map(|l| l.trim().strip_prefix(&key))
                .map(|v| v.trim_end_matches(',').to_string());
            let verdict = match named {
                Some(v) if v == ns_of(app.pid, ns) => "app's".to_string(),
                Some(v) => format!("{v}, not the app's {}", ns_of(app.pid, ns)),
                None => "absent".into(),
            };
            r += &format!("info {ns}-namespace={verdict}\n");
        }
        r
    });
}

/// flatpak's default lifecycle: `flatpak run` returns with the app's main
/// process, and a helper it started in the background keeps running in
/// the sandbox until it ends by itself; then the sandbox is gone.
#[test]
fn background_helper_outlives_the_app() {
    let expected = [
        "rc=3",
        "main-exits",
        "instance-while-helper-runs=org.test.App",
        "helper-finished=yes",
        "sandbox-gone=yes",
    ];
    differential("background helper", &expected, |env| {
        // The helper waits (5 s at most) for the host's go-ahead, given
        // only after `flatpak run` returned, and leaves a file if it got
        // it: a `flatpak run` that waited for the helper never sees it.
        let script = "( i=0; while [ ! -e \"$XDG_DATA_HOME/go\" ] && [ $i -lt 50 ]; do \
                 sleep 0.1; i=$((i+1)); done; \
               [ -e \"$XDG_DATA_HOME/go\" ] && echo done > \"$XDG_DATA_HOME/helper-done\" \
             ) </dev/null >/dev/null 2>&1 & echo main-exits; exit 3";
        let mut child = env.spawn(&["run", "--command=sh", APP, "-c", script], "helper");
        let status = wait_within(&mut child, Duration::from_secs(10));
        let mut r = match status.and_then(|s| s.code()) {
            Some(c) => format!("rc={c}\n"),
            None => "rc=none (flatpak run did not return)\n".into(),
        };
        r += &env.normalize(&fs::read_to_string(env.home.join("helper.out")).unwrap_or_default());
        let ps = output(env.flatpak(&["ps", "--columns=application"]));
        r += &format!("instance-while-helper-runs={}\n", stdout(&ps).trim());
        let go = env.app_data().join("data/go");
        fs::write(&go, "").expect("write go");
        give(&go);
        let done = env.app_data().join("data/helper-done");
        let finished = wait_until("the helper's file", || done.exists());
        r += &format!("helper-finished={}\n", yes_no(finished));
        let gone = wait_until("the sandbox to end", || {
            let ps = output(env.flatpak(&["ps", "--columns=instance"]));
            stdout(&ps).trim().is_empty()
        });
        r += &format!("sandbox-gone={}\n", yes_no(gone));
        r
    });
}

/// flatpak starts bwrap with SIGPIPE ignored; the app inherits that (so
/// `yes | head -1` ends `yes` with EPIPE, not a silent signal death).
#[test]
fn ignored_signals_reach_the_app() {
    let expected = ["rc=0", "sigpipe=ignored"];
    differential("signal dispositions", &expected, |env| {
        let script = "cat /proc/self/status | grep -E '^Sig(Ign|Blk)'";
        let r = env.run(&["run", "--command=sh", APP, "-c", script]);
        let cat_ign = r
            .lines()
            .find_map(|l| l.strip_prefix("SigIgn:"))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            .unwrap_or(0);
        let piped = cat_ign & (1 << (libc::SIGPIPE - 1)) != 0;
        format!("{r}sigpipe={}\n", if piped { "ignored" } else { "default" })
    });
}

/// `flatpak ps` lists the instance with the pid flatpak ran as and the
/// sandbox's pid 1 (the child pid the backend reported on --info-fd);
/// `flatpak kill` ends the whole sandbox, and `flatpak run` reports the kill.
#[test]
fn ps_and_kill() {
    let expected = [
        "ps: rc=0",
        "org.test.App pid=flatpak-run child-pid=sandbox-pid-1",
        "kill: rc=0",
        "app-gone=yes",
        "run-status=137",
    ];
    differential("flatpak ps/kill", &expected, |env| {
        let mut app = match env.start_sleeper("app", &[]) {
            Ok(a) => a,
            Err(e) => return e,
        };
        let secs = app.seconds.clone();
        let run_pid = app.child.id().to_string();
        let ps = env.run(&["ps", "--columns=application,pid,child-pid"]);
        let mut r = String::new();
        for l in ps.lines() {
            let f: Vec<&str> = l.split_whitespace().collect();
            if let [id, pid, child] = f[..] {
                let child_ns_pid = ns_pids(child).pop();
                r += &format!(
                    "{id} pid={} child-pid={}\n",
                    if pid == run_pid { "flatpak-run" } else { pid },
                    if child_ns_pid.as_deref() == Some("1") {
                        "sandbox-pid-1"
                    } else {
                        child
                    },
                );
            } else {
                r += &format!("ps: {l}\n");
            }
        }
        r += &format!("kill: {}", env.run(&["kill", APP]));
        let gone = wait_until("the killed app to go", || {
            pid_of(&["sleep", &secs]).is_none()
        });
        r += &format!("app-gone={}\n", yes_no(gone));
        let status = app.child.wait().expect("wait flatpak run");
        r += &format!(
            "run-status={}\n",
            status.code().map_or("signal".into(), |c| c.to_string())
        );
        r
    });
}

/// A session bus of the test user's own (dbus-daemon), ended on drop. It
/// takes ANONYMOUS clients: the test uid has no passwd entry, which
/// dbus-daemon needs for an authenticated user.
struct Bus {
    socket: PathBuf,
    daemon: Child,
}

const BUS_CONF: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=SOCKET</listen>
  <auth>ANONYMOUS</auth>
  <allow_anonymous/>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;

impl Bus {
    fn start(env: &Env) -> Option<Bus> {
        let daemon = Path::new("/usr/bin/dbus-daemon");
        if !daemon.exists() {
            skip!("skipping the D-Bus proxy check: dbus-daemon is not installed");
            return None;
        }
        let dir = env.home.parent().expect("scenario dir");
        let socket = dir.join("bus");
        let conf = dir.join("bus.conf");
        fs::write(
            &conf,
            BUS_CONF.replace("SOCKET", &socket.display().to_string()),
        )
        .expect("write bus config");
        let mut cmd = user_command(daemon);
        cmd.arg("--config-file")
            .arg(&conf)
            .args(["--nofork", "--print-address"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("spawn dbus-daemon");
        // The address is printed once the bus listens.
        let mut line = String::new();
        let out = child.stdout.take().expect("dbus-daemon stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line)
            .expect("read dbus-daemon address");
        assert!(
            line.starts_with("unix:"),
            "dbus-daemon did not start: {line:?}"
        );
        Some(Bus {
            socket,
            daemon: child,
        })
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// Processes whose command line mentions `needle` and `also`.
fn processes_with(needle: &str, also: &str) -> usize {
    pids_where(|dir| {
        fs::read(dir.join("cmdline")).is_ok_and(|c| {
            let c = String::from_utf8_lossy(&c);
            c.contains(needle) && c.contains(also)
        })
    })
    .len()
}

/// With a session bus, flatpak starts xdg-dbus-proxy in a sandbox of its
/// own (through the same FLATPAK_BWRAP, synchronised on fds) and gives the
/// app only the proxy's socket; the app talks to the bus through it, and
/// the proxy ends with the app.
#[test]
fn session_bus_through_the_proxy() {
    let expected = [
        "rc=0",
        "address=unix:path=/run/flatpak/bus",
        "host-bus=hidden",
        "dbus=hello-answered",
        "proxy-gone=yes",
    ];
    differential("D-Bus proxy", &expected, |env| {
        let Some(bus) = Bus::start(env) else {
            return "no bus\n".into();
        };
        let host_bus = bus.socket.display().to_string();
        let script = format!(
            "echo address=$DBUS_SESSION_BUS_ADDRESS; \
             test -e {host_bus} && echo host-bus=visible || echo host-bus=hidden; \
             /app/bin/probe dbus"
        );
        let mut cmd = env.flatpak(&["run", "--command=sh", APP, "-c", &script]);
        cmd.env("DBUS_SESSION_BUS_ADDRESS", format!("unix:path={host_bus}"));
        let mut r = env.report(&output(cmd));
        let runtime_dir = env.runtime_dir.display().to_string();
        let gone = wait_until("the D-Bus proxy to end", || {
            processes_with("xdg-dbus-proxy", &runtime_dir) == 0
        });
        r += &format!("proxy-gone={}\n", yes_no(gone));
        r
    });
}

/// A trigger of the test's own (FLATPAK_TRIGGERSDIR): flatpak runs each
/// trigger after an install or uninstall through FLATPAK_BWRAP, with / read-only,
/// the installation ($1) writable, and new ipc, network and pid namespaces.
const TRIGGER: &str = r#"#!/bin/sh
{
    echo trigger ran
    touch "$1/trigger-wrote" && echo installation=writable
    touch "$1/../trigger-wrote" 2>/dev/null && echo outside=writable || echo outside=read-only
    echo netns=$(readlink /proc/self/ns/net)
    echo host-pid-known=${HOST_PID:+yes}
    ls /proc | grep -qx "$HOST_PID" && echo host-pids=visible || echo host-pids=hidden
} > "$1/trigger-report" 2>&1
"#;

/// `flatpak --user install` (and uninstall) with the backend: the
/// installation's triggers run in it, and the installed app runs.
#[test]
fn install_runs_triggers() {
    let expected = [
        "install: rc=0",
        "trigger ran",
        "installation=writable",
        "outside=read-only",
        "netns=own",
        "host-pid-known=yes",
        "host-pids=hidden",
        "run: rc=0",
        "probe ran",
        "uninstall: rc=0",
        "trigger ran again",
    ];
    let host_net = ns_of(std::process::id(), "net");
    differential("install and triggers", &expected, |env| {
        let Some(fx) = fixture() else {
            return String::new();
        };
        let dir = env.home.parent().expect("scenario dir").to_path_buf();
        let triggers = dir.join("triggers");
        fs::create_dir_all(&triggers).expect("create triggers dir");
        let trigger = triggers.join("probe.trigger");
        fs::write(&trigger, TRIGGER).expect("write trigger");
        fs::set_permissions(&trigger, fs::Permissions::from_mode(0o755)).expect("chmod trigger");
        let mut own = Env::in_dir(dir.clone(), env.backend);
        own.installation = dir.join("installation");
        let flatpak = |args: &[&str]| {
            let mut cmd = own.flatpak(args);
            cmd.env("FLATPAK_TRIGGERSDIR", &triggers)
                .env("HOST_PID", std::process::id().to_string());
            own.report(&output(cmd))
        };
        let repo = fx.repo.display().to_string();
        let mut r = flatpak(&["--user", "remote-add", "--no-gpg-verify", "test", &repo]);
        r += "install: ";
        r += &flatpak(&[
            "--user",
            "install",
            "-y",
            "--noninteractive",
            "test",
            "org.test.Platform//1",
            "org.test.App//1",
        ]);
        let report = own.installation.join("trigger-report");
        r += &fs::read_to_string(&report)
            .unwrap_or_default()
            .replace(&format!("netns=net:[{host_net}]"), "netns=host")
            .lines()
            .map(|l| match l.starts_with("netns=net:") {
                true => "netns=own\n".to_string(),
                false => format!("{l}\n"),
            })
            .collect::<String>();
        let _ = fs::remove_file(&report);
        r += "run: ";
        r += &flatpak(&["run", APP]);
        r += "uninstall: ";
        r += &flatpak(&["--user", "uninstall", "-y", "--noninteractive", APP]);
        if report.exists() {
            r += "trigger ran again\n";
        }
        r.replace(&repo, "$REPO")
    });
}

/// `flatpak run --die-with-parent`: the sandbox ends with the process that
/// started flatpak (flatpak itself becomes the backend, so its parent is
/// the shell here), killed without a chance to clean up.
#[test]
fn die_with_parent() {
    let expected = ["app-started=yes", "app-gone-with-parent=yes"];
    differential("--die-with-parent", &expected, |env| {
        let secs = unique_seconds();
        let mut cmd = user_sh(
            "/usr/bin/flatpak run --die-with-parent --command=sleep org.test.App \"$1\" & wait",
        );
        cmd.args(["sh", &secs])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        env.apply(&mut cmd);
        let mut shell = cmd.spawn().expect("spawn sh");
        let started = wait_until("the app's sleep", || pid_of(&["sleep", &secs]).is_some());
        let _ = shell.kill();
        let _ = shell.wait();
        let gone = wait_until("the app to end with its parent", || {
            pid_of(&["sleep", &secs]).is_none()
        });
        if let Some(left) = pid_of(&["sleep", &secs]) {
            kill_all(&[left]);
        }
        format!(
            "app-started={}\napp-gone-with-parent={}\n",
            yes_no(started),
            yes_no(gone)
        )
    });
}
