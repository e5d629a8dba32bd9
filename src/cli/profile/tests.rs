use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::*;

fn vars() -> Vars {
    Vars {
        home: Some("/home/u".into()),
        pwd: Some("/src/p".into()),
        xdg_runtime_dir: Some("/run/user/1000".into()),
        uid: 1000,
        app: Some("xeyes".into()),
        wayland_display: None,
    }
}

/// A fresh directory of profile files.
fn dir_with(files: &[(&str, &str)]) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("sandwrap-profile-unit-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write profile");
    }
    dir
}

fn env_in(dir: &Path) -> ProfileEnv {
    ProfileEnv {
        vars: vars(),
        user_dir: Some(dir.to_path_buf()),
        system_dir: None,
        ..Default::default()
    }
}

fn words(v: &[OsString]) -> Vec<String> {
    v.iter().map(|w| w.to_string_lossy().into_owned()).collect()
}

fn load_text(text: &str) -> Result<Vec<String>, String> {
    let dir = dir_with(&[("p.toml", text)]);
    load("p", &env_in(&dir)).map(|w| words(&w))
}

#[test]
fn every_value_shape_becomes_option_words() {
    let w = load_text(
        r#"
unshare-all = true
share-net = false
hostname = "box"
unsetenv = ["A", "B"]
setenv = [["X", "1"], ["Y", "$UID"]]
uid = 0
mounts = [["ro-bind", "/usr", "/usr"], ["perms", "0700"], ["tmpfs", "~"], ["bind", "$PWD", "$PWD"]]
chdir = "$PWD"
"#,
    )
    .expect("load");
    let want = "--unshare-all --hostname box --unsetenv A --unsetenv B --setenv X 1 --setenv Y 1000 --uid 0 \
                --ro-bind /usr /usr --perms 0700 --tmpfs /home/u --bind /src/p /src/p --chdir /src/p";
    assert_eq!(w.join(" "), want);
}

#[test]
fn two_value_option_once() {
    let w = load_text("setenv = [\"LANG\", \"C\"]\n").expect("load");
    assert_eq!(w, ["--setenv", "LANG", "C"]);
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let dir = dir_with(&[(
        "p.toml",
        "unshare-all = true\n\nunshare-everything = true\n",
    )]);
    let e = load("p", &env_in(&dir)).unwrap_err();
    assert!(
        e.starts_with(&format!(
            "{}:3: unknown key `unshare-everything`",
            dir.join("p.toml").display()
        )),
        "{e}"
    );
}

#[test]
fn wrong_type_says_what_was_expected() {
    let e = load_text("# c\nunshare-all = \"yes\"\n").unwrap_err();
    assert!(
        e.ends_with(":2: key `unshare-all`: expected true or false, found the string \"yes\""),
        "{e}"
    );
    let e = load_text("setenv = [\"A\"]\n").unwrap_err();
    assert!(
        e.contains("key `setenv`: expected an array of 2 strings [VAR, VALUE]"),
        "{e}"
    );
    let e = load_text("chdir = 3\n").unwrap_err();
    assert!(
        e.contains("key `chdir`: DIR must be a string, found the integer 3"),
        "{e}"
    );
    let e = load_text("mounts = [[\"tmpfs\"]]\n").unwrap_err();
    assert!(
        e.contains("`tmpfs` takes 1 value: [\"tmpfs\", DEST], found 0"),
        "{e}"
    );
    let e = load_text("mounts = [[\"setenv\", \"A\", \"B\"]]\n").unwrap_err();
    assert!(e.contains("`setenv` is not a filesystem option"), "{e}");
}

#[test]
fn filesystem_options_belong_in_mounts() {
    let e = load_text("ro-bind = [\"/usr\", \"/usr\"]\n").unwrap_err();
    assert!(
        e.contains("list it in mounts, as [\"ro-bind\", SRC, DEST]"),
        "{e}"
    );
}

#[test]
fn commands_and_fds_are_refused() {
    assert!(
        load_text("profile = \"x\"\n")
            .unwrap_err()
            .contains("use include")
    );
    assert!(
        load_text("explain = true\n")
            .unwrap_err()
            .contains("not a sandbox setting")
    );
    assert!(
        load_text("sync-fd = \"3\"\n")
            .unwrap_err()
            .contains("file descriptor")
    );
    assert!(
        load_text("mounts = [[\"bind-data\", \"3\", \"/x\"]]\n")
            .unwrap_err()
            .contains("file descriptor")
    );
}

#[test]
fn includes_apply_in_place_and_nest() {
    let dir = dir_with(&[
        (
            "a.toml",
            "hostname = \"a\"\ninclude = [\"b\"]\nchdir = \"/a\"\n",
        ),
        ("b.toml", "include = \"c.toml\"\nunshare-uts = true\n"),
        ("c.toml", "clearenv = true\n"),
    ]);
    let w = words(&load("a", &env_in(&dir)).expect("load"));
    assert_eq!(
        w.join(" "),
        "--hostname a --clearenv --unshare-uts --chdir /a"
    );
}

#[test]
fn missing_include_is_named() {
    let dir = dir_with(&[("a.toml", "\ninclude = [\"nope\"]\n")]);
    let e = load("a", &env_in(&dir)).unwrap_err();
    assert!(
        e.contains("a.toml:2: include: no profile named `nope`"),
        "{e}"
    );
    let e = load("nope", &env_in(&dir)).unwrap_err();
    assert!(
        e.starts_with("no profile named `nope` (looked in the built-ins, "),
        "{e}"
    );
}

#[test]
fn include_loop_shows_the_chain() {
    let dir = dir_with(&[
        ("a.toml", "include = [\"b\"]\n"),
        ("b.toml", "include = [\"a\"]\n"),
    ]);
    let e = load("a", &env_in(&dir)).unwrap_err();
    assert!(e.ends_with("b.toml:1: include loop: a -> b -> a"), "{e}");
    let dir = dir_with(&[("self.toml", "include = [\"./self.toml\"]\n")]);
    let e = load("self", &env_in(&dir)).unwrap_err();
    assert!(e.ends_with("include loop: self -> ./self.toml"), "{e}");
}

#[test]
fn builtins_come_first_and_files_by_path() {
    let dir = dir_with(&[
        ("untrusted.toml", "hostname = \"mine\"\n"),
        ("x.toml", "hostname = \"x\"\n"),
    ]);
    let env = env_in(&dir);
    assert!(
        words(&load("untrusted", &env).expect("builtin")).contains(&"--unshare-all".to_string())
    );
    let path = dir.join("untrusted.toml");
    assert_eq!(
        words(&load(path.to_str().expect("utf8"), &env).expect("file")),
        ["--hostname", "mine"]
    );
    let listing = list(&env);
    assert!(
        listing.contains("(shadowed by an earlier untrusted)"),
        "{listing}"
    );
    assert!(listing.lines().any(|l| l.starts_with("x ")), "{listing}");
}

#[test]
fn every_builtin_loads() {
    let env = ProfileEnv {
        vars: vars(),
        user_dir: None,
        system_dir: None,
        ..Default::default()
    };
    for (name, _) in BUILTINS {
        let w = load(name, &env).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!w.is_empty(), "{name}");
    }
    let desktop = words(&load("desktop", &env).expect("desktop")).join(" ");
    assert!(
        desktop.contains("--bind-mkdir /home/u/.local/share/sandwrap/xeyes /home/u"),
        "{desktop}"
    );
}

#[test]
fn invalid_toml_names_the_line() {
    let e = load_text("a = 1\nb = [\n").unwrap_err();
    assert!(
        e.contains(":2: invalid TOML") || e.contains(":3: invalid TOML"),
        "{e}"
    );
}

#[test]
fn every_builtin_is_documented_for_the_man_page() {
    let documented: Vec<&str> = man::BUILTIN_DOCS.iter().map(|(n, _)| *n).collect();
    let builtins: Vec<&str> = BUILTINS.iter().map(|(n, _)| *n).collect();
    assert_eq!(documented, builtins);
}

#[test]
fn include_depth_is_bounded_and_the_error_names_file_and_limit() {
    // p0 includes p1 includes ... p40: a chain far past the limit.
    let files: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                format!("p{i}.toml"),
                format!("include = [\"p{}\"]\n", i + 1),
            )
        })
        .chain(std::iter::once((
            "p40.toml".into(),
            "hostname = \"end\"\n".into(),
        )))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let dir = dir_with(&refs);
    let e = load("p0", &env_in(&dir)).unwrap_err();
    let last = MAX_DEPTH - 1;
    assert!(
        e.ends_with(&format!(
            "p{last}.toml:1: include: `p{MAX_DEPTH}` would nest profiles {} deep (the limit is {MAX_DEPTH})",
            MAX_DEPTH + 1
        )),
        "{e}"
    );
    // Exactly MAX_DEPTH deep is fine.
    let start = 40 - (MAX_DEPTH - 1);
    let w = words(&load(&format!("p{start}"), &env_in(&dir)).expect("at the limit"));
    assert_eq!(w, ["--hostname", "end"]);
}

#[test]
fn include_fan_out_is_bounded_in_total_loads() {
    // Each level includes the next one 30 times: 30^4 loads unbounded.
    let level = |next: &str| {
        format!(
            "include = [{}]\n",
            vec![format!("\"{next}\""); 30].join(", ")
        )
    };
    let (a, b, c) = (level("b"), level("c"), level("d"));
    let dir = dir_with(&[
        ("a.toml", &a),
        ("b.toml", &b),
        ("c.toml", &c),
        ("d.toml", "unshare-uts = true\n"),
    ]);
    let started = std::time::Instant::now();
    let e = load("a", &env_in(&dir)).unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(
        e.contains(".toml:1: include: `") && e.ends_with(&format!(
            "more than {MAX_LOADS} profiles loaded for one command line (the limit on includes and --profile)"
        )),
        "{e}"
    );
    // The count is per command line: repeated --profile share it.
    let dir = dir_with(&[("one.toml", "unshare-uts = true\n")]);
    let env = env_in(&dir);
    for _ in 0..MAX_LOADS {
        load("one", &env).expect("within the limit");
    }
    let e = load("one", &env).unwrap_err();
    assert!(
        e.starts_with("profile ") && e.contains("one.toml: more than"),
        "{e}"
    );
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: a valid C string; mkfifo only creates a node.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

#[test]
fn a_fifo_profile_is_refused_without_blocking() {
    let dir = dir_with(&[("ok.toml", "description = \"fine\"\n")]);
    mkfifo(&dir.join("pipe.toml"));
    let env = env_in(&dir);
    let fifo = dir.join("pipe.toml");
    let e = load(fifo.to_str().expect("utf8"), &env).unwrap_err();
    assert_eq!(
        e,
        format!(
            "cannot read profile {}: not a regular file (a FIFO)",
            fifo.display()
        )
    );
    // By name, and as an include, the same.
    assert!(
        load("pipe", &env)
            .unwrap_err()
            .ends_with("not a regular file (a FIFO)")
    );
    let dir2 = dir_with(&[("inc.toml", "include = [\"pipe\"]\n")]);
    std::fs::rename(&fifo, dir2.join("pipe.toml")).expect("move fifo");
    let e = load("inc", &env_in(&dir2)).unwrap_err();
    assert!(e.ends_with("not a regular file (a FIFO)"), "{e}");
    // --list-profiles reports it without opening it for reading.
    let listing = list(&env_in(&dir2));
    let row = listing
        .lines()
        .find(|l| l.starts_with("pipe "))
        .expect("the fifo is listed");
    assert!(
        row.ends_with("(unusable: not a regular file (a FIFO))"),
        "{row}"
    );
    // Neither opens it: a writer waiting for a reader stays blocked.
    let fifo = dir2.join("pipe.toml");
    let (tx, rx) = std::sync::mpsc::channel();
    let writer_path = fifo.clone();
    std::thread::spawn(move || {
        let opened = std::fs::OpenOptions::new().write(true).open(&writer_path);
        let _ = tx.send(opened.is_ok());
    });
    std::thread::sleep(std::time::Duration::from_millis(50));
    let _ = list(&env_in(&dir2));
    let _ = load("inc", &env_in(&dir2));
    assert!(
        rx.recv_timeout(std::time::Duration::from_millis(200))
            .is_err(),
        "the FIFO was opened for reading"
    );
    {
        use std::os::unix::fs::OpenOptionsExt;
        let _release = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo);
        assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(5)), Ok(true));
    }
    // Directories and oversized files are refused too.
    std::fs::create_dir(dir.join("d.toml")).expect("mkdir");
    assert!(
        load("d", &env)
            .unwrap_err()
            .ends_with("not a regular file (a directory)")
    );
    let big = "#".repeat(MAX_BYTES as usize + 1);
    std::fs::write(dir.join("big.toml"), big).expect("write");
    assert!(
        load("big", &env)
            .unwrap_err()
            .ends_with(&format!("larger than the limit of {MAX_BYTES} bytes"))
    );
}

#[test]
fn a_nul_in_any_value_is_refused_with_line_and_key() {
    for (text, key) in [
        ("\nhostname = \"a\\u0000b\"\n", "hostname"),
        ("\nargv0 = \"\\u0000\"\n", "argv0"),
        (
            "\nsetenv = [[\"A\", \"1\"], [\"B\", \"x\\u0000\"]]\n",
            "setenv",
        ),
        ("\nmounts = [[\"tmpfs\", \"/t\\u0000\"]]\n", "mounts"),
        ("\ninclude = [\"base\\u0000\"]\n", "include"),
        ("\ndescription = \"\\u0000\"\n", "description"),
    ] {
        let e = load_text(text).unwrap_err();
        assert!(
            e.ends_with(&format!(
                ":2: key `{key}`: a value contains NUL (\\u0000), which no option value can hold"
            )),
            "{text}: {e}"
        );
    }
    let e = load_text("\"a\\u0000\" = true\n").unwrap_err();
    assert!(
        e.ends_with(":1: key `a\\u0000`: a key cannot contain NUL (\\u0000)"),
        "{e}"
    );
}
