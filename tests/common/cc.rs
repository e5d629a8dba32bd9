//! Small C helpers for attack tests, compiled once per test binary
//! (`compile_c`), however many tests ask.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// `source` compiled as `name` once; `None` as `compile_c` says.
pub fn c_helper(name: &str, source: &str) -> Option<PathBuf> {
    static BUILT: OnceLock<Mutex<HashMap<String, Option<PathBuf>>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(done) = built.get(name) {
        return done.clone();
    }
    let result = super::compile_c(name, source);
    built.insert(name.to_string(), result.clone());
    result
}

/// `name=value` of a helper's output (`<missing>` when absent).
pub fn probe_value<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or("<missing>")
}
