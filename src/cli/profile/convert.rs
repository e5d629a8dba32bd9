//! One profile's TOML → option words, checked against the option table.
//!
//! Shape (documented in the man page's PROFILES section):
//! - a flag option is `name = true` (`false` leaves it out);
//! - a one-value option is `name = "value"` or `name = ["v1", "v2"]` (the
//!   option given once per value);
//! - an option with N values is `name = ["a", "b"]` or an array of such
//!   arrays;
//! - filesystem options go, in order, in `mounts = [["ro-bind", "/usr", "/usr"], ...]`;
//! - `include = ["name", ...]` applies other profiles at that point;
//!   `description = "..."` is shown by `--list-profiles`.
//!
//! Keys are applied in the order they appear in the file.

use std::ffi::OsString;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::expand::{Vars, expand};
use crate::cli::table::{self, OptDef, Section};

/// Options that make no sense inside a profile, and why.
fn refused(def: &OptDef) -> Option<String> {
    let why = match def.name {
        "profile" => "use include = [\"NAME\"] to apply another profile".to_string(),
        "help" | "version" | "list-profiles" | "explain" => {
            "it is a command, not a sandbox setting".to_string()
        }
        _ if def.args.contains(&"FD") => {
            "it takes a file descriptor, which a profile cannot pass".to_string()
        }
        _ => return None,
    };
    Some(format!("`{}` cannot be used in a profile: {why}", def.name))
}

/// Where the words of one profile come from, for error messages.
pub struct Origin<'a> {
    /// File name as shown in errors (`<built-in>/untrusted.toml` for built-ins).
    pub file: &'a str,
    pub text: &'a str,
}

impl Origin<'_> {
    pub fn line_of(&self, offset: usize) -> usize {
        self.text
            .get(..offset)
            .map_or(1, |s| s.matches('\n').count() + 1)
    }

    pub fn error(&self, offset: usize, msg: impl std::fmt::Display) -> String {
        format!("{}:{}: {msg}", self.file, self.line_of(offset))
    }
}

/// Called for each name in `include`, with the offset of the name.
pub type IncludeFn<'f> = dyn FnMut(&str, usize) -> Result<Vec<OsString>, String> + 'f;

/// Parse and convert one profile. `include` applies an included profile and
/// returns its words.
pub fn convert(
    origin: &Origin<'_>,
    vars: &Vars,
    include: &mut IncludeFn<'_>,
) -> Result<Vec<OsString>, String> {
    let doc = DeTable::parse(origin.text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        origin.error(at, format!("invalid TOML: {}", e.message().trim_end()))
    })?;
    for (key, value) in doc.get_ref().iter() {
        refuse_nul(origin, key.get_ref(), key.span().start, value)?;
    }
    let mut words = Vec::new();
    for (key, value) in doc.get_ref().iter() {
        let name: &str = key.get_ref();
        let at = key.span().start;
        match name {
            "description" => {
                if !value.get_ref().is_str() {
                    return Err(
                        origin.error(value.span().start, "key `description`: expected a string")
                    );
                }
            }
            "include" => {
                for (item, item_at) in strings(
                    origin,
                    "include",
                    value,
                    "a profile name or an array of names",
                )? {
                    words.extend(include(item, item_at)?);
                }
            }
            "mounts" => mounts(origin, vars, value, &mut words)?,
            _ => {
                let def = table::lookup(&format!("--{name}")).ok_or_else(|| {
                    origin.error(at, format!("unknown key `{name}`: not a sandwrap option (see sandwrap --help), nor include, mounts or description"))
                })?;
                if let Some(why) = refused(def) {
                    return Err(origin.error(at, why));
                }
                if def.section == Section::Filesystem {
                    let shape = std::iter::once(format!("\"{name}\""))
                        .chain(def.args.iter().map(|a| a.to_string()));
                    return Err(origin.error(
                        at,
                        format!(
                            "`{name}` is a filesystem option, whose order matters: list it in mounts, as [{}]",
                            shape.collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
                option(origin, vars, def, value, &mut words)?;
            }
        }
    }
    Ok(words)
}

/// No key or string may hold a NUL (TOML's `\u0000`): an option value is a
/// C string, where NUL would silently end it (a hostname, argv0 or
/// environment value cut to nothing).
fn refuse_nul(
    origin: &Origin<'_>,
    key: &str,
    at: usize,
    value: &Spanned<DeValue<'_>>,
) -> Result<(), String> {
    let shown = key.replace('\0', "\\u0000");
    if key.contains('\0') {
        return Err(origin.error(
            at,
            format!("key `{shown}`: a key cannot contain NUL (\\u0000)"),
        ));
    }
    let nul = |at: usize| {
        Err(origin.error(
            at,
            format!(
                "key `{shown}`: a value contains NUL (\\u0000), which no option value can hold"
            ),
        ))
    };
    match value.get_ref() {
        DeValue::String(s) if s.contains('\0') => nul(value.span().start),
        DeValue::Array(items) => items
            .iter()
            .try_for_each(|item| refuse_nul(origin, key, item.span().start, item)),
        DeValue::Table(t) => t
            .iter()
            .try_for_each(|(k, v)| refuse_nul(origin, k.get_ref(), k.span().start, v)),
        _ => Ok(()),
    }
}

/// A string, or an array of strings, with their offsets.
fn strings<'v>(
    origin: &Origin<'_>,
    key: &str,
    value: &'v Spanned<DeValue<'_>>,
    expected: &str,
) -> Result<Vec<(&'v str, usize)>, String> {
    let wrong = |at: usize, found: &DeValue<'_>| {
        origin.error(
            at,
            format!(
                "key `{key}`: expected {expected}, found {}",
                describe(found)
            ),
        )
    };
    match value.get_ref() {
        DeValue::String(s) => Ok(vec![(s.as_ref(), value.span().start)]),
        DeValue::Array(items) => items
            .iter()
            .map(|v| match v.get_ref() {
                DeValue::String(s) => Ok((s.as_ref(), v.span().start)),
                other => Err(wrong(v.span().start, other)),
            })
            .collect(),
        other => Err(wrong(value.span().start, other)),
    }
}

fn describe(v: &DeValue<'_>) -> String {
    match v {
        DeValue::String(s) => format!("the string {:?}", s.as_ref()),
        DeValue::Integer(i) => format!("the integer {}", i.as_str()),
        DeValue::Float(_) => "a float".into(),
        DeValue::Boolean(b) => format!("{b}"),
        DeValue::Datetime(_) => "a date".into(),
        DeValue::Array(a) => format!(
            "an array of {} item{}",
            a.len(),
            if a.len() == 1 { "" } else { "s" }
        ),
        DeValue::Table(_) => "a table".into(),
    }
}

/// What a value of `def` must look like, for error messages.
fn expected(def: &OptDef) -> String {
    match def.args {
        [] => "true or false".into(),
        [one] => format!("a string ({one}) or an array of strings, one per use"),
        many => format!(
            "an array of {} strings [{}], or an array of such arrays, one per use",
            many.len(),
            many.join(", ")
        ),
    }
}

/// Metavariables whose values may be written as TOML integers.
fn integer_ok(metavar: &str) -> bool {
    matches!(metavar, "UID" | "GID" | "BYTES" | "PORTS")
}

/// One value word: a string (expanded) or, where numbers make sense, an integer.
fn word(
    origin: &Origin<'_>,
    vars: &Vars,
    def: &OptDef,
    metavar: &str,
    v: &Spanned<DeValue<'_>>,
) -> Result<OsString, String> {
    let at = v.span().start;
    match v.get_ref() {
        DeValue::String(s) => expand(s, vars)
            .map(OsString::from)
            .map_err(|e| origin.error(at, format!("key `{}`: {e}", def.name))),
        DeValue::Integer(i) if integer_ok(metavar) && i.radix() == 10 => {
            Ok(OsString::from(i.as_str().replace('_', "")))
        }
        other => Err(origin.error(
            at,
            format!(
                "key `{}`: {metavar} must be a string, found {}",
                def.name,
                describe(other)
            ),
        )),
    }
}

fn push_use(words: &mut Vec<OsString>, def: &OptDef, values: Vec<OsString>) {
    words.push(OsString::from(format!("--{}", def.name)));
    words.extend(values);
}

/// A top-level option key.
fn option(
    origin: &Origin<'_>,
    vars: &Vars,
    def: &OptDef,
    value: &Spanned<DeValue<'_>>,
    words: &mut Vec<OsString>,
) -> Result<(), String> {
    let wrong = |at: usize, found: &DeValue<'_>| {
        origin.error(
            at,
            format!(
                "key `{}`: expected {}, found {}",
                def.name,
                expected(def),
                describe(found)
            ),
        )
    };
    let at = value.span().start;
    match (def.args.len(), value.get_ref()) {
        (0, DeValue::Boolean(true)) => push_use(words, def, Vec::new()),
        (0, DeValue::Boolean(false)) => {}
        (0, other) => return Err(wrong(at, other)),
        (1, DeValue::Array(items)) => {
            for item in items.iter() {
                if matches!(
                    item.get_ref(),
                    DeValue::Array(_) | DeValue::Table(_) | DeValue::Boolean(_)
                ) {
                    return Err(wrong(item.span().start, item.get_ref()));
                }
                let w = word(origin, vars, def, def.args[0], item)?;
                push_use(words, def, vec![w]);
            }
        }
        (1, DeValue::Table(_) | DeValue::Boolean(_)) => return Err(wrong(at, value.get_ref())),
        (1, _) => {
            let w = word(origin, vars, def, def.args[0], value)?;
            push_use(words, def, vec![w]);
        }
        (_, DeValue::Array(items)) => {
            let nested = items.first().is_some_and(|i| i.get_ref().is_array());
            let uses: Vec<&Spanned<DeValue<'_>>> = if nested {
                items.iter().collect()
            } else {
                vec![value]
            };
            for u in uses {
                let vals = match u.get_ref() {
                    DeValue::Array(vals) if vals.len() == def.args.len() => vals,
                    other => return Err(wrong(u.span().start, other)),
                };
                push_use(words, def, values(origin, vars, def, vals)?);
            }
        }
        (_, other) => return Err(wrong(at, other)),
    }
    Ok(())
}

/// One use of `def`: its values as option words, each named by its metavar.
fn values(
    origin: &Origin<'_>,
    vars: &Vars,
    def: &OptDef,
    vals: &[Spanned<DeValue<'_>>],
) -> Result<Vec<OsString>, String> {
    vals.iter()
        .zip(def.args)
        .map(|(v, m)| word(origin, vars, def, m, v))
        .collect()
}

/// `mounts = [["ro-bind", "/usr", "/usr"], ["tmpfs", "/tmp"], ...]`.
fn mounts(
    origin: &Origin<'_>,
    vars: &Vars,
    value: &Spanned<DeValue<'_>>,
    words: &mut Vec<OsString>,
) -> Result<(), String> {
    const SHAPE: &str = "an array of [\"OPTION\", VALUE...] arrays, e.g. [[\"ro-bind\", \"/usr\", \"/usr\"], [\"tmpfs\", \"/tmp\"]]";
    let DeValue::Array(entries) = value.get_ref() else {
        return Err(origin.error(
            value.span().start,
            format!(
                "key `mounts`: expected {SHAPE}, found {}",
                describe(value.get_ref())
            ),
        ));
    };
    for entry in entries.iter() {
        let at = entry.span().start;
        let items = match entry.get_ref() {
            DeValue::Array(items) if !items.is_empty() => items,
            other => {
                return Err(origin.error(
                    at,
                    format!("key `mounts`: expected {SHAPE}, found {}", describe(other)),
                ));
            }
        };
        let name = items[0].get_ref().as_str().ok_or_else(|| {
            origin.error(
                at,
                format!(
                    "key `mounts`: each entry starts with an option name, found {}",
                    describe(items[0].get_ref())
                ),
            )
        })?;
        let def = table::lookup(&format!("--{name}"))
            .filter(|d| d.section == Section::Filesystem)
            .ok_or_else(|| {
                origin.error(
                    at,
                    format!("key `mounts`: `{name}` is not a filesystem option"),
                )
            })?;
        if let Some(why) = refused(def) {
            return Err(origin.error(at, why));
        }
        let vals = &items[1..];
        if vals.len() != def.args.len() {
            let shape = std::iter::once(format!("\"{name}\""))
                .chain(def.args.iter().map(|a| a.to_string()));
            return Err(origin.error(
                at,
                format!(
                    "key `mounts`: `{name}` takes {} value{}: [{}], found {}",
                    def.args.len(),
                    if def.args.len() == 1 { "" } else { "s" },
                    shape.collect::<Vec<_>>().join(", "),
                    vals.len()
                ),
            ));
        }
        push_use(words, def, values(origin, vars, def, vals)?);
    }
    Ok(())
}

/// The `description` of a profile, for `--list-profiles` (empty when it has
/// none or does not parse).
pub fn description(text: &str) -> String {
    DeTable::parse(text)
        .ok()
        .and_then(|doc| {
            doc.get_ref()
                .get("description")
                .and_then(|v| v.get_ref().as_str().map(str::to_owned))
        })
        .unwrap_or_default()
}
