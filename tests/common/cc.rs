//! Small C helpers for attack tests, compiled once per test binary with gcc.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// `source` compiled as `name` into a directory the test user can reach;
/// `None` (after saying why, a failure under CI) when gcc is missing or fails.
pub fn c_helper(name: &str, source: &str) -> Option<PathBuf> {
    static BUILT: OnceLock<Mutex<HashMap<String, Option<PathBuf>>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(done) = built.get(name) {
        return done.clone();
    }
    let dir = super::scratch(&format!("cc-{name}"));
    let src = dir.join(format!("{name}.c"));
    let bin = dir.join(name);
    std::fs::write(&src, source).expect("write helper source");
    let result = match Command::new("gcc")
        .args(["-O1", "-Wall", "-o"])
        .arg(&bin)
        .arg(&src)
        .output()
    {
        Ok(o) if o.status.success() => Some(bin),
        Ok(o) => {
            super::skip_test(&format!(
                "skipping: gcc failed on the {name} helper: {}",
                String::from_utf8_lossy(&o.stderr)
            ));
            None
        }
        Err(e) => {
            super::skip_test(&format!(
                "skipping: gcc is not available to build the {name} helper ({e})"
            ));
            None
        }
    };
    built.insert(name.to_string(), result.clone());
    result
}

/// `name=value` of a helper's output (`<missing>` when absent).
pub fn probe_value<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or("<missing>")
}
