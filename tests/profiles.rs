//! Built-in profiles run real programs as an unprivileged user; `--explain`
//! output matches golden files; bad profiles give one precise error each.
mod common;
use common::*;

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PY: &str = "/usr/bin/python3";
const REGENERATE: &str = "SANDWRAP_REGENERATE";

/// A fake home with a private key in it, owned by the test user.
fn fake_home() -> PathBuf {
    let home = scratch("home");
    let ssh = home.join(".ssh");
    std::fs::create_dir(&ssh).expect("mkdir .ssh");
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o700)).expect("chmod .ssh");
    std::fs::write(ssh.join("id_rsa"), "-----BEGIN FAKE PRIVATE KEY-----\n").expect("write key");
    give(&ssh);
    give(&ssh.join("id_rsa"));
    home
}

/// `sandwrap ARGS` as the test user, in `cwd`, with `home` as HOME.
fn in_project<S: AsRef<std::ffi::OsStr>>(home: &Path, cwd: &Path, args: &[S]) -> Command {
    let mut c = sandwrap(args);
    c.env("HOME", home).env("PWD", cwd).current_dir(cwd);
    c
}

/// Profiles need a working sandbox; say why when there is none.
fn sandboxes_work() -> bool {
    let (code, _, err) = run(&["--ro-bind", "/", "/", "--unshare-all", "--", "true"]);
    if code != 0 {
        skip!("skipping: sandwrap cannot create a sandbox here: {err}");
    }
    code == 0 && {
        let ok = Path::new(PY).exists();
        if !ok {
            skip!("skipping: {PY} is not installed");
        }
        ok
    }
}

/// The running kernel's landlock ABI (0: none).
fn landlock_abi() -> i64 {
    // SAFETY: landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
    // only returns a number.
    let v = unsafe { libc::syscall(444, std::ptr::null::<u8>(), 0usize, 1u32) };
    v.max(0)
}

/// Lines `key value` printed by a probe script.
fn field<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no `{key}` line in:\n{out}"))
}

/// Run `python3 -c script` under `sandwrap ARGS` in `proj`; its stdout,
/// after checking it succeeded.
fn python_in(args: &[&str], home: &Path, proj: &Path, script: &str) -> String {
    let mut words: Vec<&str> = args.to_vec();
    words.extend(["--", PY, "-c", script]);
    let o = output(in_project(home, proj, &words));
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{args:?}: stdout: {out}\nstderr: {err}"
    );
    out
}

#[test]
fn untrusted_reads_the_project_but_not_ssh_keys_the_network_or_usr() {
    if !sandboxes_work() {
        return;
    }
    let home = fake_home();
    let proj = scratch("proj");
    mkfile(&proj.join("data.txt"), "project data\n");
    // A listener on the host's loopback: the sandbox must not reach it.
    let host = TcpListener::bind("127.0.0.1:0").expect("listen");
    host.set_nonblocking(true).expect("nonblocking");
    let port = host.local_addr().expect("addr").port();
    let script = format!(
        r#"
import os, socket
print("data", open("data.txt").read().strip())
try:
    open(os.path.expanduser("~/.ssh/id_rsa")).read(); print("ssh readable")
except OSError as e: print("ssh", type(e).__name__)
s = socket.socket(); s.settimeout(3)
try:
    s.connect(("127.0.0.1", {port})); print("net connected")
except OSError as e: print("net refused", e.errno)
try:
    open("/usr/sandwrap-probe", "w"); print("usr writable")
except OSError as e: print("usr", e.errno)
open("written.txt", "w").write("from the sandbox")
print("home", os.listdir(os.path.expanduser("~")))
"#
    );
    let out = python_in(&["--profile", "untrusted"], &home, &proj, &script);
    assert_eq!(field(&out, "data"), "project data");
    assert_eq!(field(&out, "ssh"), "FileNotFoundError", "{out}");
    assert!(field(&out, "net").starts_with("refused"), "{out}");
    assert!(
        host.accept().is_err(),
        "the host listener got a connection from the sandbox"
    );
    let usr = field(&out, "usr");
    assert!(
        usr == "30" || usr == "13",
        "writing /usr: expected EROFS or EACCES, got {usr}"
    );
    assert!(!Path::new("/usr/sandwrap-probe").exists());
    assert_eq!(field(&out, "home"), "[]", "the home must be empty");
    assert_eq!(
        std::fs::read_to_string(proj.join("written.txt")).expect("written"),
        "from the sandbox"
    );
}

#[test]
fn build_compiles_c_and_python_in_the_project_with_download_caches_read_write() {
    if !sandboxes_work() {
        return;
    }
    if !Path::new("/usr/bin/gcc").exists() {
        skip!("skipping: /usr/bin/gcc is not installed");
        return;
    }
    let home = fake_home();
    let cache = home.join(".cargo/registry");
    std::fs::create_dir_all(&cache).expect("mkdir .cargo/registry");
    give(&home.join(".cargo"));
    give(&cache);
    let host_cache = home.join(".cache");
    std::fs::create_dir(&host_cache).expect("mkdir .cache");
    give(&host_cache);
    let proj = scratch("proj");
    mkfile(
        &proj.join("hello.c"),
        "#include <stdio.h>\nint main(void) { puts(\"hello from C\"); return 0; }\n",
    );
    let pkg = proj.join("pkg");
    std::fs::create_dir(&pkg).expect("mkdir pkg");
    give(&pkg);
    mkfile(&pkg.join("__init__.py"), "");
    mkfile(
        &pkg.join("greet.py"),
        "def greet():\n    return 'hello from Python'\n",
    );
    mkfile(
        &proj.join("main.py"),
        "from pkg.greet import greet\nprint(greet())\n",
    );
    let script = "gcc -O1 -Wall -o hello hello.c && ./hello \
                  && python3 -m compileall -q pkg && python3 main.py \
                  && echo cached > ~/.cargo/registry/sandwrap-build-test \
                  && mkdir -p ~/.cache && echo private > ~/.cache/sandwrap-build-test";
    let o = output(in_project(
        &home,
        &proj,
        &["--profile", "build", "--", "sh", "-c", script],
    ));
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(0), "stdout: {out}\nstderr: {err}");
    assert_eq!(out, "hello from C\nhello from Python\n");
    assert!(
        proj.join("hello").exists(),
        "the binary lands in the project"
    );
    assert!(
        pkg.join("__pycache__").is_dir(),
        "bytecode lands in the project"
    );
    assert_eq!(
        std::fs::read_to_string(cache.join("sandwrap-build-test")).expect("cache file"),
        "cached\n"
    );
    assert!(
        !home.join(".npm").exists(),
        "a missing cache is not created"
    );
    assert!(
        !host_cache.join("sandwrap-build-test").exists(),
        "~/.cache is not the host's (build caches there are trusted without checksums)"
    );
}

#[test]
fn ci_reaches_the_allowed_port_only() {
    if !sandboxes_work() || !is_root() {
        if !is_root() {
            skip!("skipping: the test makes its own network namespace, which needs root");
        }
        return;
    }
    // ci's network is pasta's: servers on the loopback of a network
    // namespace the test makes (ports 80 and 8080, so the profile's own
    // rule is tested) are out of reach through the gateway address, unless
    // --network-allow-host-loopback; then landlock lets port 80 only through.
    let home = fake_home();
    let proj = scratch("proj");
    let helper = proj.join("nethelper.py");
    std::fs::write(&helper, NETHELPER).expect("write helper");
    give(&helper);
    let servers = format!(
        "H=\"python3 {h}\"; $H serve 127.0.0.1 80 & $H serve 127.0.0.1 8080 & $H wait 127.0.0.1 80 >/dev/null; $H wait 127.0.0.1 8080 >/dev/null",
        h = helper.display()
    );
    let script = format!(
        r#"
import socket
for port in (80, 8080):
    s = socket.socket(); s.settimeout(3)
    try:
        s.connect(("{GATEWAY}", port)); print(port, s.recv(100).decode())
    except OSError as e: print(port, type(e).__name__, e.errno)
"#
    );
    let run_ci = |extra: &[&str]| {
        let mut words = vec!["--profile", "ci"];
        words.extend(extra);
        words.extend(["--", PY, "-c", &script]);
        let o = output(in_test_netns(&in_project(&home, &proj, &words), &servers));
        let (out, err) = (stdout(&o), stderr(&o));
        assert_eq!(o.status.code(), Some(0), "stdout: {out}\nstderr: {err}");
        out
    };
    let out = run_ci(&[]);
    assert_eq!(field(&out, "80"), "TimeoutError None", "{out}");
    let out = run_ci(&["--network-allow-host-loopback"]);
    assert_eq!(field(&out, "80"), "hello-80", "{out}");
    if landlock_abi() < 4 {
        eprintln!(
            "not checking the refused port: landlock ABI {} cannot restrict TCP (needs 4)",
            landlock_abi()
        );
        return;
    }
    assert_eq!(
        field(&out, "8080"),
        "PermissionError 13",
        "landlock must refuse port 8080: {out}"
    );
}

/// A running Xvfb on a free display, killed on drop.
struct Xvfb {
    child: Child,
    display: String,
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_xvfb() -> Option<Xvfb> {
    for tool in [
        "/usr/bin/Xvfb",
        "/usr/bin/xlogo",
        "/usr/bin/xwininfo",
        "/usr/bin/xwd",
    ] {
        if !Path::new(tool).exists() {
            skip!("skipping: {tool} is missing (Debian packages xvfb, x11-apps, x11-utils)");
            return None;
        }
    }
    // -displayfd: the server takes the first free display itself (two
    // tests, or two runs, choosing the same free-looking number raced: the
    // loser's checks then reached the winner's server) and writes it back
    // once it accepts connections.
    let mut child = Command::new("/usr/bin/Xvfb")
        .args([
            "-displayfd",
            "1",
            "-nolisten",
            "tcp",
            "-br",
            "-screen",
            "0",
            "320x240x24",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let out = child.stdout.take()?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut out = std::io::BufReader::new(out);
        let mut line = String::new();
        let _ = out.read_line(&mut line);
        let _ = tx.send(line);
        // Held open until the server ends: a later write must not SIGPIPE it.
        let _ = std::io::copy(&mut out, &mut std::io::sink());
    });
    let mut x = Xvfb {
        child,
        display: String::new(),
    };
    // A bound for a server that never gets ready, not a guess at when.
    let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
    let Ok(n) = line.trim().parse::<u32>() else {
        skip!("skipping: Xvfb -displayfd gave no display: {line:?}");
        return None;
    };
    x.display = format!(":{n}");
    Some(x)
}

fn xwininfo_tree(display: &str) -> Option<String> {
    let o = Command::new("/usr/bin/xwininfo")
        .args(["-root", "-tree", "-display", display])
        .output()
        .ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
}

/// Pixels of an `xwd -root` dump that differ from the pixel at the
/// bottom-right corner (the black root, far from any window).
fn non_background_pixels(xwd: &[u8]) -> usize {
    let be =
        |i: usize| u32::from_be_bytes(xwd[i * 4..i * 4 + 4].try_into().expect("4 bytes")) as usize;
    let (header_size, width, height) = (be(0), be(4), be(5));
    let (bits_per_pixel, bytes_per_line, ncolors) = (be(11), be(12), be(19));
    assert_eq!(
        bits_per_pixel, 32,
        "expected a 24-bit screen stored as 32 bits per pixel"
    );
    let data = &xwd[header_size + ncolors * 12..];
    let pixel =
        |x: usize, y: usize| &data[y * bytes_per_line + x * 4..y * bytes_per_line + x * 4 + 4];
    let background = pixel(width - 1, height - 1).to_vec();
    (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .filter(|&(x, y)| pixel(x, y) != background.as_slice())
        .count()
}

#[test]
fn desktop_runs_an_x11_client_that_draws_a_window() {
    if !sandboxes_work() {
        return;
    }
    let Some(x) = start_xvfb() else { return };
    let home = fake_home();
    let proj = scratch("proj");
    let mut client = in_project(
        &home,
        &proj,
        &[
            "--profile",
            "desktop",
            "--",
            "xlogo",
            "-display",
            &x.display,
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn sandwrap");
    // The window is listed once created, and drawn only once mapped: wait
    // for the drawing itself (the screenshot the test checks), not for a
    // guessed delay after the listing (500 ms, too short once under load).
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut tree = String::new();
    let mut shot = None;
    while Instant::now() < deadline {
        tree = xwininfo_tree(&x.display).unwrap_or_default();
        if tree.contains("\"xlogo\"") {
            let s = Command::new("/usr/bin/xwd")
                .args(["-root", "-silent", "-display", &x.display])
                .output()
                .expect("xwd");
            let drawn = s.status.success() && non_background_pixels(&s.stdout) >= 1000;
            shot = Some(s);
            if drawn {
                break;
            }
        }
        if client.try_wait().ok().flatten().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // SAFETY: signalling our own child; sandwrap forwards SIGTERM to the command.
    unsafe { libc::kill(client.id() as i32, libc::SIGTERM) };
    let o = client.wait_with_output().expect("wait sandwrap");
    assert!(
        tree.contains("\"xlogo\""),
        "no xlogo window; stderr: {}\ntree:\n{tree}",
        stderr(&o)
    );
    let shot = shot.expect("a screenshot once the window was listed");
    assert!(shot.status.success(), "xwd failed");
    let drawn = non_background_pixels(&shot.stdout);
    eprintln!("xlogo in the desktop profile drew {drawn} pixels");
    // xlogo's window is 100x100 on a white background.
    assert!(
        drawn >= 1000,
        "the screenshot shows only {drawn} non-background pixels"
    );
    let app_home = home.join(".local/share/sandwrap/xlogo");
    let meta = std::fs::metadata(&app_home).expect("the app's home was created");
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);
    use std::os::unix::fs::MetadataExt;
    assert_eq!(meta.uid(), caller_uid());
}

/// `--explain` output with the run's paths and ids replaced by names, the
/// column padding collapsed, and host-dependent lines (what
/// `--ro-bind-as-host` finds) left out, so it is the same on every machine
/// of one architecture.
fn normalize(text: &str, home: &Path, proj: &Path) -> String {
    let uid = caller_uid().to_string();
    let gid = caller_gid().to_string();
    let host_as = ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
    let mut out = String::new();
    for line in text
        .replace(proj.to_str().expect("utf8"), "$PWD")
        .replace(home.to_str().expect("utf8"), "$HOME")
        .lines()
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        // Filesystem lines: `N  DEST  what`; landlock lines: `... beneath DEST  (origin)`.
        let numbered = words.first().is_some_and(|w| w.parse::<u32>().is_ok());
        if numbered && words.get(1).is_some_and(|d| host_as.contains(d)) {
            continue;
        }
        if words
            .windows(2)
            .any(|w| w[0] == "beneath" && host_as.contains(&w[1]))
        {
            continue;
        }
        let words: Vec<String> = words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i == 0 && numbered {
                    "#".to_string()
                } else {
                    let mut w = w.to_string();
                    let after_gid = i > 0 && words[i - 1] == "gid";
                    if after_gid && w.trim_matches(|c: char| !c.is_ascii_digit()) == gid {
                        return w.replace(&gid, "$GID");
                    }
                    if w.trim_matches(|c: char| !c.is_ascii_digit()) == uid {
                        w = w.replace(&uid, "$UID");
                    }
                    w.replace(&format!("/{uid}"), "/$UID")
                }
            })
            .collect();
        let indent = if line.starts_with(' ') { "  " } else { "" };
        out.push_str(indent);
        out.push_str(&words.join(" "));
        out.push('\n');
    }
    out
}

fn explain(profile: &str, command: &str, home: &Path, proj: &Path) -> String {
    let o = output(in_project(
        home,
        proj,
        &["--profile", profile, "--explain", "--", command],
    ));
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(o.stderr.is_empty(), "stderr: {}", stderr(&o));
    stdout(&o)
}

#[test]
fn explain_matches_the_golden_file_for_each_builtin() {
    if std::env::consts::ARCH != "x86_64" {
        skip!("skipping: the golden files list the x86_64 seccomp policy");
        return;
    }
    let home = fake_home();
    let proj = scratch("proj");
    let golden_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut stale = Vec::new();
    for (profile, command) in [
        ("base", "make"),
        ("untrusted", "make"),
        ("build", "make"),
        ("ci", "make"),
        ("desktop", "xlogo"),
    ] {
        let got = normalize(&explain(profile, command, &home, &proj), &home, &proj);
        let path = golden_dir.join(format!("explain-{profile}.txt"));
        if std::env::var_os(REGENERATE).is_some() {
            std::fs::create_dir_all(&golden_dir).expect("mkdir golden");
            std::fs::write(&path, &got).expect("write golden");
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if got != want {
            stale.push(format!(
                "{}:\n--- want\n{want}\n--- got\n{got}",
                path.display()
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "stale golden files (regenerate with {REGENERATE}=1):\n{}",
        stale.join("\n")
    );
}

/// Split a command line as printed by `--explain` (backslash-newlines,
/// single quotes) into words.
fn shell_words(text: &str) -> Vec<String> {
    let text = text.replace("\\\n", " ");
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = cur.get_or_insert_with(String::new);
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    w.push(q);
                }
            }
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.get_or_insert_with(String::new).push(n);
                }
            }
            c if c.is_whitespace() => words.extend(cur.take()),
            c => cur.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(cur);
    words
}

#[test]
fn explained_command_line_rebuilds_the_same_sandbox_and_later_options_refine() {
    let home = fake_home();
    let proj = scratch("proj");
    let o = output(in_project(
        &home,
        &proj,
        &[
            "--profile",
            "build",
            "--share-net",
            "--setenv",
            "A",
            "it's",
            "--explain",
            "--",
            "make",
            "all",
        ],
    ));
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let first = stdout(&o);
    assert!(
        first.contains("shared with the host: net"),
        "--share-net after the profile: {first}"
    );
    assert!(first.contains("set A=it's"), "{first}");
    let (_, cmdline) = first
        .split_once("Equivalent command line:\n")
        .expect("command line");
    let words = shell_words(cmdline);
    assert_eq!(words[0], "sandwrap");
    assert!(!words.iter().any(|w| w == "--profile" || w == "--explain"));
    assert_eq!(&words[words.len() - 3..], ["--", "make", "all"]);
    let mut again: Vec<String> = words[1..words.len() - 3].to_vec();
    again.extend(["--explain", "--", "make", "all"].map(String::from));
    let o = output(in_project(&home, &proj, &again));
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert_eq!(
        stdout(&o),
        first,
        "the printed command line must explain to the same sandbox"
    );
}

#[test]
fn list_profiles_shows_builtins_and_user_profiles() {
    let home = fake_home();
    let dir = home.join(".config/sandwrap/profiles");
    std::fs::create_dir_all(&dir).expect("mkdir profiles");
    mkfile(
        &dir.join("mine.toml"),
        "description = \"my own\"\ninclude = [\"untrusted\"]\n",
    );
    let o = output(in_project(&home, &home, &["--list-profiles"]));
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let out = stdout(&o);
    for name in ["base", "untrusted", "build", "ci", "desktop"] {
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("{name} ")) && l.contains("built-in")),
            "{name}: {out}"
        );
    }
    let mine = out
        .lines()
        .find(|l| l.starts_with("mine "))
        .expect("user profile listed");
    assert!(
        mine.contains(dir.join("mine.toml").to_str().expect("utf8")) && mine.ends_with("my own"),
        "{mine}"
    );
    // And it is found by name.
    let o = output(in_project(
        &home,
        &home,
        &["--profile", "mine", "--explain"],
    ));
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
}

/// Run a bad profile: it must fail before running anything, with exactly
/// one line on stderr.
fn bad_profile(files: &[(&str, &str)]) -> String {
    let dir = scratch("bad");
    for (name, text) in files {
        mkfile(&dir.join(name), text);
    }
    let marker = dir.join("ran");
    let profile = dir.join(files[0].0);
    let o = output(in_project(
        &dir,
        &dir,
        &[
            "--profile",
            profile.to_str().expect("utf8"),
            "--",
            "touch",
            marker.to_str().expect("utf8"),
        ],
    ));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(!marker.exists(), "a bad profile must not run the command");
    assert_eq!(err.lines().count(), 1, "one error line: {err}");
    err.trim_end().replace(dir.to_str().expect("utf8"), "DIR")
}

#[test]
fn bad_profiles_give_one_precise_error_each() {
    assert_eq!(
        bad_profile(&[("p.toml", "unshare-all = true\nunshare-everything = true\n")]),
        "sandwrap: DIR/p.toml:2: unknown key `unshare-everything`: not a sandwrap option (see sandwrap --help), nor include, mounts or description"
    );
    assert_eq!(
        bad_profile(&[("p.toml", "# wrong type\ndie-with-parent = \"yes\"\n")]),
        "sandwrap: DIR/p.toml:2: key `die-with-parent`: expected true or false, found the string \"yes\""
    );
    assert_eq!(
        bad_profile(&[("p.toml", "mounts = [\n  [\"ro-bind\", \"/usr\"],\n]\n")]),
        "sandwrap: DIR/p.toml:2: key `mounts`: `ro-bind` takes 2 values: [\"ro-bind\", SRC, DEST], found 1"
    );
    let missing = bad_profile(&[("p.toml", "include = [\"untrusted\", \"no-such-profile\"]\n")]);
    assert!(
        missing.starts_with("sandwrap: DIR/p.toml:1: include: no profile named `no-such-profile` (looked in the built-ins, "),
        "{missing}"
    );
    assert_eq!(
        bad_profile(&[
            ("a.toml", "include = [\"b.toml\"]\n"),
            ("b.toml", "hostname = \"b\"\ninclude = [\"a.toml\"]\n")
        ]),
        "sandwrap: DIR/b.toml:2: include loop: DIR/a.toml -> b.toml -> a.toml"
    );
}

#[test]
fn overriding_a_profile_value_does_not_warn_but_repeating_an_option_does() {
    let home = fake_home();
    let proj = scratch("proj");
    let o = output(in_project(
        &home,
        &proj,
        &[
            "--profile",
            "untrusted",
            "--chdir",
            "/",
            "--seccomp-policy",
            "strict",
            "--explain",
            "--",
            "true",
        ],
    ));
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "",
        "overriding the profile's --chdir and --seccomp-policy is not a repeat"
    );
    let out = stdout(&o);
    assert!(
        out.contains("Directory:    /\n") && out.contains("policy strict"),
        "{out}"
    );
    let o = output(in_project(
        &home,
        &proj,
        &[
            "--profile",
            "untrusted",
            "--chdir",
            "/",
            "--chdir",
            "/tmp",
            "--explain",
            "--",
            "true",
        ],
    ));
    assert_eq!(
        stderr(&o),
        "sandwrap: Only the last --chdir option will take effect\n"
    );
}

/// `cmd`'s output, or None (and the process killed) if it runs past `secs`.
fn output_or_hang(mut cmd: Command, secs: u64) -> Option<std::process::Output> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sandwrap");
    wait_within(&mut child, Duration::from_secs(secs))?;
    Some(child.wait_with_output().expect("output"))
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().expect("utf8")).expect("path");
    // SAFETY: a valid C string; mkfifo only creates a node.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
    give(path);
}

#[test]
fn a_fifo_profile_fails_at_once_and_list_profiles_reports_it() {
    let home = fake_home();
    let dir = home.join(".config/sandwrap/profiles");
    std::fs::create_dir_all(&dir).expect("mkdir profiles");
    for d in [home.join(".config"), dir.clone()] {
        give(&d);
    }
    let fifo = dir.join("pipe.toml");
    mkfifo(&fifo);
    let fifo_arg = fifo.to_str().expect("utf8");
    for args in [
        vec!["--profile", fifo_arg, "--", "true"],
        vec!["--profile", "pipe", "--", "true"],
    ] {
        let o = output_or_hang(in_project(&home, &home, &args), 10)
            .unwrap_or_else(|| panic!("sandwrap {args:?} hangs on a FIFO"));
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr(&o),
            format!("sandwrap: cannot read profile {fifo_arg}: not a regular file (a FIFO)\n")
        );
    }
    let o = output_or_hang(in_project(&home, &home, &["--list-profiles"]), 10)
        .expect("--list-profiles hangs on a FIFO");
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let out = stdout(&o);
    let row = out
        .lines()
        .find(|l| l.starts_with("pipe "))
        .unwrap_or_else(|| panic!("the FIFO is not reported: {out}"));
    assert!(
        row.ends_with("(unusable: not a regular file (a FIFO))"),
        "{row}"
    );
}

#[test]
fn runaway_includes_and_nul_values_give_one_precise_error() {
    // A chain 10,000 deep overflowed the stack (signal death).
    let dir = scratch("chain");
    for i in 0..10_000 {
        std::fs::write(
            dir.join(format!("p{i}.toml")),
            format!("include = [\"p{}.toml\"]\n", i + 1),
        )
        .expect("write");
    }
    std::fs::write(dir.join("p10000.toml"), "").expect("write");
    let first = dir.join("p0.toml");
    let o = output_or_hang(
        in_project(
            &dir,
            &dir,
            &["--profile", first.to_str().expect("utf8"), "--", "true"],
        ),
        10,
    )
    .expect("a deep include chain hangs");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(
        err,
        format!(
            "sandwrap: {}:1: include: `p16.toml` would nest profiles 17 deep (the limit is 16)\n",
            dir.join("p15.toml").display()
        )
    );
    assert_eq!(
        bad_profile(&[(
            "p.toml",
            "unshare-uts = true\n\nhostname = \"box\\u0000evil\"\n"
        )]),
        "sandwrap: DIR/p.toml:3: key `hostname`: a value contains NUL (\\u0000), which no option value can hold"
    );
    assert_eq!(
        bad_profile(&[("p.toml", "setenv = [\"A\", \"\\u0000\"]\n")]),
        "sandwrap: DIR/p.toml:1: key `setenv`: a value contains NUL (\\u0000), which no option value can hold"
    );
}

/// The environment `env` prints inside, as sorted `NAME=value` lines.
fn env_inside(cmd: Command) -> Vec<String> {
    let o = output(cmd);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let mut lines: Vec<String> = stdout(&o).lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

/// A caller whose environment holds secrets next to harmless settings.
fn with_secrets(mut c: Command) -> Command {
    c.env("GITHUB_TOKEN", "ghp_secret")
        .env("AWS_SECRET_ACCESS_KEY", "aws_secret")
        .env("SSH_AUTH_SOCK", "/tmp/ssh-agent.sock")
        .env("LC_ALL", "C.UTF-8")
        .env("LC_TIME", "C")
        .env("TERM", "xterm");
    c
}

#[test]
fn keep_env_lets_chosen_variables_through_clearenv_in_order() {
    let args = "--ro-bind / / --setenv A 1 --clearenv --keep-env PATH --keep-env LC_* \
                --keep-env NOT_SET_AT_ALL --setenv LC_TIME POSIX -- env";
    let o = env_inside(with_secrets(sandwrap(args.split_whitespace())));
    let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    let cwd = sandwrap_bin().parent().expect("dir").display().to_string();
    assert_eq!(
        o,
        [
            "LC_ALL=C.UTF-8".to_string(),
            "LC_TIME=POSIX".into(),
            format!("PATH={path}"),
            format!("PWD={cwd}"),
        ]
    );
}

/// Files of a user's home that the host later runs, sources or trusts,
/// and secrets: (path under HOME, content). Directories end in `/`.
const HOME_FILES: &[(&str, &str)] = &[
    (".cargo/bin/sandwrap", "#!/bin/sh\necho genuine\n"),
    (".cargo/bin/cargo", "#!/bin/sh\necho cargo\n"),
    (".cargo/config.toml", "[build]\njobs = 2\n"),
    (".cargo/env", "export PATH=\"$HOME/.cargo/bin:$PATH\"\n"),
    (
        ".cargo/credentials.toml",
        "[registry]\ntoken = \"SECRET-cargo\"\n",
    ),
    (".cargo/registry/", ""),
    (".cargo/git/db/dep-1234/hooks/", ""),
    (".cargo/git/db/dep-1234/config", "[core]\n\tbare = true\n"),
    ("go/pkg/mod/cache/vcs/abcd/hooks/", ""),
    (".rustup/toolchains/stable/bin/rustc", "#!/bin/sh\n"),
    ("go/bin/tool", "#!/bin/sh\n"),
    ("go/pkg/mod/", ""),
    (".npm/_cacache/", ""),
    (".npmrc", "//registry.npmjs.org/:_authToken=SECRET-npm\n"),
    (".cache/go-build/trim.txt", "1\n"),
    (".bashrc", "# rc\n"),
    (".profile", "# profile\n"),
    (".zshrc", "# zsh\n"),
    (".gitconfig", "[user]\nname = u\n"),
    (".config/autostart/a.desktop", "[Desktop Entry]\n"),
    (".config/systemd/user/a.service", "[Service]\n"),
    (".local/bin/tool", "#!/bin/sh\n"),
    (".ssh/authorized_keys", "ssh-ed25519 AAAA genuine\n"),
    (".ssh/id_ed25519", "SECRET-ssh\n"),
    (".gnupg/private-keys-v1.d/k.key", "SECRET-gpg\n"),
    (".netrc", "machine h login u password SECRET-netrc\n"),
    (".aws/credentials", "aws_secret_access_key = SECRET-aws\n"),
    // The project: run from ~/proj.
    ("proj/src/main.c", "int main(void) { return 0; }\n"),
    ("proj/.git/config", "[core]\n\tbare = false\n"),
    ("proj/.git/hooks/", ""),
    ("proj/.envrc", "export A=1\n"),
    ("proj/.vscode/tasks.json", "{}\n"),
    ("proj/.idea/workspace.xml", "<project/>\n"),
    ("proj/.direnv/bin/", ""),
];

/// What the attack tries to write (under HOME): files it replaces or
/// appends to, and directories it plants a file in.
const PERSIST: &[&str] = &[
    ".cargo/bin/sandwrap",
    ".cargo/config.toml",
    ".cargo/env",
    ".cargo/bin/",
    "go/bin/",
    ".cache/go-build/",
    ".bashrc",
    ".profile",
    ".zshrc",
    ".gitconfig",
    ".config/autostart/",
    ".config/systemd/user/",
    ".local/bin/",
    ".ssh/authorized_keys",
    ".rustup/toolchains/stable/bin/",
    "proj/.git/config",
    "proj/.git/hooks/",
    "proj/.envrc",
    "proj/.vscode/tasks.json",
    "proj/.idea/",
    "proj/.direnv/bin/",
];

/// Bare git clones the host's git later fetches into (hooks, config): only
/// a profile without network keeps them read-only.
const PERSIST_OFFLINE: &[&str] = &[
    ".cargo/git/db/dep-1234/hooks/",
    ".cargo/git/db/dep-1234/config",
    "go/pkg/mod/cache/vcs/abcd/hooks/",
];

/// Every file and directory under `root` with its content: the state the
/// host sees.
fn snapshot(root: &Path) -> Vec<(PathBuf, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p.clone());
                out.push((p, None));
            } else {
                let data = std::fs::read(&p).unwrap_or_default();
                out.push((p, Some(data)));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn profiles_give_no_persistence_on_the_host_and_no_secrets() {
    if !sandboxes_work() {
        return;
    }
    let home = scratch("home");
    for (path, text) in HOME_FILES {
        let p = home.join(path.trim_end_matches('/'));
        let parent = if path.ends_with('/') {
            p.as_path()
        } else {
            p.parent().expect("parent")
        };
        std::fs::create_dir_all(parent).expect("mkdir");
        if !path.ends_with('/') {
            std::fs::write(&p, text).expect("write");
        }
    }
    std::process::Command::new("chown")
        .args(["-R", &format!("{0}:{0}", caller_uid())])
        .arg(&home)
        .status()
        .expect("chown");
    let proj = home.join("proj");
    let secrets: Vec<String> = HOME_FILES
        .iter()
        .filter(|(_, text)| text.contains("SECRET"))
        .map(|(p, _)| home.join(p).display().to_string())
        .collect();
    // Every way in: append, replace by rename, plant a file in a directory;
    // read every secret; print what leaked and the environment's names.
    let script = |targets: &[&str]| {
        let targets: Vec<String> = targets
            .iter()
            .map(|p| home.join(p).display().to_string())
            .collect();
        format!(
            r##"
import os, sys
for t in {targets:?}:
    try:
        if t.endswith("/"):
            open(t + "planted", "w").write("#!/bin/sh\nevil\n")
        else:
            open(t, "a").write("\nevil\n")
            open(t + ".new", "w").write("evil\n"); os.replace(t + ".new", t)
        print("wrote", t)
    except OSError as e:
        print("refused", t, e.errno)
for s in {secrets:?}:
    try:
        data = open(s).read(); print("read", s, "SECRET" in data)
    except OSError as e:
        print("unreadable", s, e.errno)
print("env", " ".join(sorted(os.environ)))
"##
        )
    };
    let before = snapshot(&home);
    for profile in ["untrusted", "build", "ci"] {
        // ci fetches, so it writes the bare clones that build keeps read-only.
        let mut targets = PERSIST.to_vec();
        if profile != "ci" {
            targets.extend(PERSIST_OFFLINE);
        }
        let o = output(with_secrets(in_project(
            &home,
            &proj,
            &["--profile", profile, "--", PY, "-c", &script(&targets)],
        )));
        let (out, err) = (stdout(&o), stderr(&o));
        assert_eq!(o.status.code(), Some(0), "{profile}: {out}\nstderr: {err}");
        eprintln!("--profile {profile}:\n{out}");
        assert!(!out.contains(" True"), "{profile} read a secret:\n{out}");
        let env = field(&out, "env");
        for secret in ["GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "SSH_AUTH_SOCK"] {
            assert!(
                !env.split(' ').any(|v| v == secret),
                "{profile} passed {secret}: {env}"
            );
        }
        // What the sandbox could see of those targets, it could not write.
        for line in out.lines().filter(|l| l.starts_with("refused")) {
            let errno = line.rsplit(' ').next().unwrap_or("");
            assert!(
                ["30", "13", "2"].contains(&errno),
                "{profile}: unexpected error: {line}"
            );
        }
        let after = snapshot(&home);
        let changed: Vec<String> = after
            .iter()
            .filter(|e| !before.contains(e))
            .chain(before.iter().filter(|e| !after.contains(e)))
            .map(|(p, _)| p.display().to_string())
            .collect();
        assert!(
            changed.is_empty(),
            "{profile} changed the host: {changed:?}\n{out}"
        );
    }
}

#[test]
fn ci_cannot_reach_the_hosts_abstract_unix_sockets() {
    use std::os::linux::net::SocketAddrExt;
    if !sandboxes_work() {
        return;
    }
    if landlock_abi() < 6 {
        skip!(
            "skipping: landlock ABI {} cannot scope abstract unix sockets (needs 6)",
            landlock_abi()
        );
        return;
    }
    // A stand-in for X11's @/tmp/.X11-unix/X0 in the host's network namespace.
    let name = format!("sandwrap-test-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).expect("addr");
    let listener = std::os::unix::net::UnixListener::bind_addr(&addr).expect("bind abstract");
    listener.set_nonblocking(true).expect("nonblocking");
    let home = fake_home();
    let proj = scratch("proj");
    let script = format!(
        r#"
import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect("\0{name}"); print("abstract connected")
except OSError as e: print("abstract refused", e.errno)
"#
    );
    // ci's own network namespace holds no host socket (ECONNREFUSED);
    // with the host's network (--network host), the scope refuses (EPERM).
    if Path::new("/dev/net/tun").exists() && is_root() {
        let out = python_in(&["--profile", "ci"], &home, &proj, &script);
        assert_eq!(field(&out, "abstract"), "refused 111", "{out}");
    }
    let out = python_in(
        &["--profile", "ci", "--network", "host"],
        &home,
        &proj,
        &script,
    );
    assert_eq!(field(&out, "abstract"), "refused 1", "{out}");
    assert!(
        listener.accept().is_err(),
        "the host socket got a connection"
    );
    // The same under `build` plus the network, without the scope: reachable
    // (so the refusal above is the scope's doing).
    let out = python_in(
        &["--profile", "build", "--share-net"],
        &home,
        &proj,
        &script,
    );
    assert_eq!(field(&out, "abstract"), "connected", "{out}");
}

#[test]
fn profile_tmpfs_mounts_are_sized() {
    if !sandboxes_work() {
        return;
    }
    let home = fake_home();
    let proj = scratch("proj");
    let script = r#"
import os
for p in ("/tmp", "/var/tmp", os.path.expanduser("~")):
    v = os.statvfs(p); print(p, v.f_blocks * v.f_frsize)
"#;
    for profile in ["untrusted", "desktop"] {
        let out = python_in(&["--profile", profile], &home, &proj, script);
        assert_eq!(field(&out, "/tmp"), "1073741824", "{profile}: {out}");
        assert_eq!(field(&out, "/var/tmp"), "268435456", "{profile}: {out}");
        if profile == "untrusted" {
            let home_line = format!("{} 1073741824", home.display());
            assert!(out.lines().any(|l| l == home_line), "{out}");
        }
    }
}

#[test]
fn a_symlink_planted_in_the_project_does_not_expose_its_target() {
    if !sandboxes_work() {
        return;
    }
    // An earlier run left links where `untrusted` keeps things read-only:
    // to the host's /tmp (agent sockets, and here the user's key, since the
    // fake home lies in /tmp), to a key, to the key's directory.
    let home = fake_home();
    let key = home.join(".ssh/id_rsa");
    let proj = home.join("proj");
    std::fs::create_dir(&proj).expect("mkdir proj");
    give(&proj);
    let script = format!(
        r#"
for p in (".envrc", ".vscode/id_rsa", ".idea{key}", "{key}"):
    try:
        print("read", p, "PRIVATE KEY" in open(p).read())
    except OSError as e:
        print("unreadable", p, e.errno)
"#,
        key = key.display()
    );
    let mut links = vec![(".idea", "/tmp"), (".git", "/nonexistent")];
    for round in [2, 4] {
        if round == 4 {
            links.extend([(".envrc", "../.ssh/id_rsa"), (".vscode", "../.ssh")]);
        }
        for (name, target) in &links[round - 2..] {
            std::os::unix::fs::symlink(target, proj.join(name)).expect("symlink");
            std::process::Command::new("chown")
                .args(["-h", &format!("{0}:{0}", caller_uid())])
                .arg(proj.join(name))
                .status()
                .expect("chown");
        }
        let out = python_in(&["--profile", "untrusted"], &home, &proj, &script);
        assert!(
            !out.contains(" True"),
            "a planted symlink exposed a key:\n{out}"
        );
    }
    for (name, target) in links {
        assert_eq!(
            std::fs::read_link(proj.join(name)).expect("still a link"),
            PathBuf::from(target)
        );
    }
}
