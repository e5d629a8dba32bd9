//! Finding the `sandwrap` helper binary, and refusing one that a sandboxed
//! command (or another user) could replace: the next spawn would run it
//! outside any sandbox.

use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::Error;

/// The helper for spawns that name none: `SANDWRAP_BIN`, then `sandwrap`
/// next to the running program (or one directory up from cargo's `deps/`
/// and `examples/`), then the first `sandwrap` on `PATH`. Found and checked
/// once per process.
pub fn default_helper() -> Result<PathBuf, Error> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    FOUND
        .get_or_init(|| find().and_then(|p| checked(&p)))
        .clone()
        .map_err(Error::Helper)
}

fn find() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("SANDWRAP_BIN").filter(|b| !b.is_empty()) {
        return Ok(PathBuf::from(bin));
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        let mut dirs = vec![dir.clone()];
        if dir
            .file_name()
            .is_some_and(|n| n == "deps" || n == "examples")
        {
            dirs.extend(dir.parent().map(Path::to_path_buf));
        }
        if let Some(p) = dirs
            .iter()
            .map(|d| d.join("sandwrap"))
            .find(|p| p.is_file())
        {
            return Ok(p);
        }
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/bin:/bin"));
    std::env::split_paths(&path)
        .filter(|d| d.is_absolute())
        .map(|d| d.join("sandwrap"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            "no sandwrap binary: set SANDWRAP_BIN, or install it next to this program or on PATH"
                .to_string()
        })
}

/// The helper's real path, if it and every directory above it can only be
/// changed by root or by this process's user, and no group or other user
/// can write to them (a sticky directory, like /tmp, protects its entries
/// from other users). The error names the path and why.
pub fn checked(path: &Path) -> Result<PathBuf, String> {
    let shown = path.display();
    let real = std::fs::canonicalize(path).map_err(|e| format!("{shown}: {e}"))?;
    let meta = std::fs::metadata(&real).map_err(|e| format!("{shown}: {e}"))?;
    if !meta.is_file() || meta.mode() & 0o111 == 0 {
        return Err(format!("{}: not an executable file", real.display()));
    }
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    let owner_ok = |m: &std::fs::Metadata| m.uid() == 0 || m.uid() == me;
    if !owner_ok(&meta) || meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{}: writable by other users (owner {}, mode {:o}): refusing to run it",
            real.display(),
            meta.uid(),
            meta.mode() & 0o7777
        ));
    }
    for dir in real.ancestors().skip(1) {
        let m = std::fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let sticky = m.mode() & 0o1000 != 0;
        if !owner_ok(&m) || (m.mode() & 0o022 != 0 && !sticky) {
            return Err(format!(
                "{}: directory {} can be changed by other users (owner {}, mode {:o}): refusing to run it",
                real.display(),
                dir.display(),
                m.uid(),
                m.mode() & 0o7777
            ));
        }
    }
    Ok(real)
}

/// Refuse a helper under one of `writable` (the host paths the sandbox
/// can write to: its writable binds, from options and profiles alike) when
/// the caller can write to it: the command could replace the binary that
/// the next spawn runs outside any sandbox.
pub fn refuse_bound(helper: &Path, writable: &[PathBuf]) -> Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    let ours = std::fs::metadata(helper).is_ok_and(|m| me == 0 || m.uid() == me);
    if !ours {
        return Ok(());
    }
    for src in writable {
        let Ok(src) = std::fs::canonicalize(src) else {
            continue;
        };
        if helper.starts_with(&src) {
            return Err(format!(
                "{}: the sandbox binds {} writable, and the command could replace the helper: refusing to run it (install sandwrap where the sandbox cannot write, e.g. root-owned)",
                helper.display(),
                src.display()
            ));
        }
    }
    Ok(())
}
