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
