//! Profiles: TOML files whose keys are command-line option names. A profile
//! turns into the same option words the parser already reads, and they are
//! parsed where `--profile` stands, so options after it refine it.
//!
//! `--profile NAME` looks in the built-ins, then
//! `$XDG_CONFIG_HOME/sandwrap/profiles/NAME.toml`, then
//! `/etc/sandwrap/profiles/NAME.toml`; a value containing `/` or ending in
//! `.toml` is a file.

mod convert;
mod expand;
pub mod man;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub use expand::{NAMES as VARIABLE_NAMES, Vars};

/// Profiles compiled into the binary: (name, TOML).
pub const BUILTINS: &[(&str, &str)] = &[
    ("base", include_str!("../../../profiles/base.toml")),
    (
        "untrusted",
        include_str!("../../../profiles/untrusted.toml"),
    ),
    ("build", include_str!("../../../profiles/build.toml")),
    ("ci", include_str!("../../../profiles/ci.toml")),
    ("desktop", include_str!("../../../profiles/desktop.toml")),
];

/// How deep `include`s may nest (the built-ins use 4). Unbounded, a chain
/// 10,000 deep overflowed the stack.
pub const MAX_DEPTH: usize = 16;
/// How many profiles one command line may load, includes and repeated
/// `--profile`s counted. Unbounded, 30 includes per level 4 levels deep made
/// 810,000 loads.
pub const MAX_LOADS: usize = 64;
/// The largest profile file read: a profile is a page of settings.
pub const MAX_BYTES: u64 = 1 << 20;

/// Where profiles are looked up, and the values they expand.
#[derive(Clone, Debug, Default)]
pub struct ProfileEnv {
    pub vars: Vars,
    /// `$XDG_CONFIG_HOME/sandwrap/profiles` (default `~/.config/...`).
    pub user_dir: Option<PathBuf>,
    /// `/etc/sandwrap/profiles`.
    pub system_dir: Option<PathBuf>,
    /// Profiles loaded so far with this environment (one per command line).
    loads: std::cell::Cell<usize>,
}

impl ProfileEnv {
    /// The directories searched after the built-ins, in order.
    fn dirs(&self) -> impl Iterator<Item = &PathBuf> {
        self.user_dir.iter().chain(self.system_dir.iter())
    }
}

impl ProfileEnv {
    /// The running process's environment; `app` is COMMAND's basename.
    pub fn from_host(app: Option<String>) -> ProfileEnv {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let home = var("HOME");
        let config = var("XDG_CONFIG_HOME")
            .filter(|v| v.starts_with('/'))
            .or_else(|| home.as_ref().map(|h| format!("{h}/.config")));
        ProfileEnv {
            vars: Vars {
                home,
                pwd: crate::hostio::current_dir()
                    .and_then(|p| p.into_os_string().into_string().ok()),
                xdg_runtime_dir: var("XDG_RUNTIME_DIR"),
                uid: nix::unistd::getuid().as_raw(),
                app,
                wayland_display: var("WAYLAND_DISPLAY"),
            },
            user_dir: config.map(|c| PathBuf::from(c).join("sandwrap/profiles")),
            system_dir: Some(PathBuf::from("/etc/sandwrap/profiles")),
            loads: Default::default(),
        }
    }
}

/// What a host path is, for `--ro-bind-as-host`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostPath {
    /// A symbolic link, with its target as written.
    Symlink(PathBuf),
    /// Anything else that exists.
    Other,
    Missing,
}

pub fn host_path(path: &Path) -> HostPath {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => match std::fs::read_link(path) {
            Ok(target) => HostPath::Symlink(target),
            Err(_) => HostPath::Other,
        },
        Ok(_) => HostPath::Other,
        Err(_) => HostPath::Missing,
    }
}

/// One profile, found.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Source {
    Builtin(&'static str, &'static str),
    File(PathBuf),
}

impl Source {
    /// How errors name the file.
    fn display(&self) -> String {
        match self {
            Source::Builtin(name, _) => format!("<built-in>/{name}.toml"),
            Source::File(p) => p.display().to_string(),
        }
    }

    /// Identity for loop detection: the same file reached by two paths is one.
    fn identity(&self) -> String {
        match self {
            Source::Builtin(name, _) => format!("builtin:{name}"),
            Source::File(p) => std::fs::canonicalize(p)
                .unwrap_or_else(|_| p.clone())
                .display()
                .to_string(),
        }
    }

    fn text(&self) -> Result<String, String> {
        match self {
            Source::Builtin(_, text) => Ok((*text).to_string()),
            Source::File(p) => read_file(p),
        }
    }

    /// Directory that relative includes are resolved against.
    fn dir(&self) -> Option<&Path> {
        match self {
            Source::Builtin(..) => None,
            Source::File(p) => p.parent(),
        }
    }
}

/// A profile file's text: a regular file (a FIFO would block forever), at
/// most MAX_BYTES.
fn read_file(path: &Path) -> Result<String, String> {
    crate::hostio::read_regular_file(path, MAX_BYTES)
        .map_err(|why| format!("cannot read profile {}: {why}", path.display()))
}

fn is_file_name(name: &str) -> bool {
    name.contains('/') || name.ends_with(".toml")
}

fn builtin(name: &str) -> Option<Source> {
    BUILTINS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, t)| Source::Builtin(n, t))
}

/// Find NAME or FILE. `relative_to`: the including profile's directory.
fn resolve(name: &str, relative_to: Option<&Path>, env: &ProfileEnv) -> Result<Source, String> {
    if name.is_empty() {
        return Err("empty profile name".into());
    }
    if is_file_name(name) {
        let path = match relative_to {
            Some(dir) if !name.starts_with('/') => dir.join(name),
            _ => PathBuf::from(name),
        };
        if !path.exists() {
            return Err(format!("profile file {} does not exist", path.display()));
        }
        return Ok(Source::File(path));
    }
    if let Some(found) = builtin(name) {
        return Ok(found);
    }
    for dir in env.dirs() {
        let path = dir.join(format!("{name}.toml"));
        if path.exists() {
            return Ok(Source::File(path));
        }
    }
    let looked: Vec<String> = std::iter::once("the built-ins".to_string())
        .chain(env.dirs().map(|d| d.display().to_string()))
        .collect();
    Err(format!(
        "no profile named `{name}` (looked in {}; see --list-profiles)",
        looked.join(", ")
    ))
}

/// The option words of profile NAME or FILE, includes applied.
pub fn load(name: &str, env: &ProfileEnv) -> Result<Vec<OsString>, String> {
    let source = resolve(name, None, env)?;
    count_load(env).map_err(|e| format!("profile {}: {e}", source.display()))?;
    let mut stack = Vec::new();
    load_source(name, &source, env, &mut stack)
}

/// One more profile load, within MAX_LOADS.
fn count_load(env: &ProfileEnv) -> Result<(), String> {
    let n = env.loads.get() + 1;
    env.loads.set(n);
    if n > MAX_LOADS {
        return Err(format!(
            "more than {MAX_LOADS} profiles loaded for one command line (the limit on includes and --profile)"
        ));
    }
    Ok(())
}

/// `stack`: (identity, name as written) of the profiles being loaded.
fn load_source(
    name: &str,
    source: &Source,
    env: &ProfileEnv,
    stack: &mut Vec<(String, String)>,
) -> Result<Vec<OsString>, String> {
    stack.push((source.identity(), name.to_string()));
    let text = source.text()?;
    let file = source.display();
    let origin = convert::Origin {
        file: &file,
        text: &text,
    };
    let mut include = |inc: &str, at: usize| -> Result<Vec<OsString>, String> {
        let found = resolve(inc, source.dir(), env)
            .map_err(|e| origin.error(at, format!("include: {e}")))?;
        if stack.len() >= MAX_DEPTH {
            return Err(origin.error(
                at,
                format!(
                    "include: `{inc}` would nest profiles {} deep (the limit is {MAX_DEPTH})",
                    stack.len() + 1
                ),
            ));
        }
        count_load(env).map_err(|e| origin.error(at, format!("include: `{inc}`: {e}")))?;
        let id = found.identity();
        if let Some(pos) = stack.iter().position(|(i, _)| *i == id) {
            let chain: Vec<&str> = stack[pos..]
                .iter()
                .map(|(_, n)| n.as_str())
                .chain(std::iter::once(inc))
                .collect();
            return Err(origin.error(at, format!("include loop: {}", chain.join(" -> "))));
        }
        load_source(inc, &found, env, stack)
    };
    let words = convert::convert(&origin, &env.vars, &mut include)?;
    stack.pop();
    Ok(words)
}

/// `--list-profiles`: every profile NAME can reach, in lookup order; a name
/// found twice is shown once more as shadowed.
pub fn list(env: &ProfileEnv) -> String {
    let mut rows: Vec<(String, String, String)> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (name, text) in BUILTINS {
        rows.push((
            name.to_string(),
            "built-in".into(),
            convert::description(text),
        ));
        seen.push(name.to_string());
    }
    for dir in env.dirs() {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for path in files {
            let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
                continue;
            };
            // Never opened blocking: a FIFO named *.toml is reported, not read.
            let mut desc = match crate::hostio::read_regular_file(&path, MAX_BYTES) {
                Ok(text) => convert::description(&text),
                Err(why) => format!("(unusable: {why})"),
            };
            if seen.contains(&name) {
                desc = format!("(shadowed by an earlier {name}) {desc}");
            }
            rows.push((name.clone(), path.display().to_string(), desc));
            seen.push(name);
        }
    }
    let name_w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let src_w = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(n, s, d)| {
            format!("{n:name_w$}  {s:src_w$}  {d}")
                .trim_end()
                .to_string()
                + "\n"
        })
        .collect()
}

#[cfg(test)]
mod audit;
#[cfg(test)]
mod tests;
