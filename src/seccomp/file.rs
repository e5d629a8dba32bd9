//! Policy files: TOML a person can review.
//!
//! ```toml
//! include = ["default"]          # start from a preset (optional)
//! default = "allow"              # required without include
//! other_abi = "kill"             # i386/x32 calls: kill (default) or "errno NAME"
//!
//! [[rule]]
//! syscall = "ioctl"              # or a list: ["mount", "umount2"]
//! when = "request == TIOCSTI"    # optional; a list of conditions is ANDed
//! action = "errno EPERM"         # allow | log | trap | kill | errno NAME
//! ```
//!
//! Conditions: `ARG OP VALUE` with OP one of `== != < <= > >=`,
//! `ARG has VALUE` (every bit set), `ARG & MASK == VALUE`,
//! `ARG in [V, ...]`, `ARG not in [V, ...]`. ARG is `arg0`..`arg5` or a
//! named argument (`request`, `flags`, `domain`...). VALUE is a number
//! (decimal, 0x hex, 0o octal), a named constant, or constants joined by `|`.
//! Errors name the file, the line and the token.

use std::borrow::Cow;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::consts;
use super::policy::{Action, Cond, MAX_RULES, Op, Policy, Rule, too_many_rules};
use super::presets;
use super::syscalls::Arch;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    include: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    default: Option<Spanned<String>>,
    #[serde(default)]
    other_abi: Option<Spanned<String>>,
    #[serde(default)]
    rule: Vec<FileRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRule {
    syscall: Spanned<toml::Value>,
    #[serde(default)]
    when: Option<Spanned<toml::Value>>,
    action: Spanned<String>,
}

struct Ctx<'a> {
    path: &'a str,
    /// Byte offset where each line starts, for line numbers in O(log n).
    line_starts: Vec<usize>,
}

impl<'a> Ctx<'a> {
    fn new(path: &'a str, text: &str) -> Ctx<'a> {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Ctx { path, line_starts }
    }

    fn line(&self, span: &Range<usize>) -> usize {
        self.line_starts
            .partition_point(|&start| start <= span.start)
    }

    fn err(&self, span: &Range<usize>, token: &str, msg: &str) -> String {
        format!("{}:{}: {token:?}: {msg}", self.path, self.line(span))
    }
}

/// Parse a policy file. `path` is used in messages and rule origins.
pub fn parse(path: &str, text: &str, arch: Arch) -> Result<Policy, String> {
    let cx = Ctx::new(path, text);
    let doc: FileDoc = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let token = text
            .get(span.clone())
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("");
        format!(
            "{}:{}: {token:?}: {}",
            path,
            cx.line(&span),
            e.message().trim()
        )
    })?;

    let mut policy = Policy {
        name: path.to_string(),
        ..Policy::allow_all(arch)
    };
    let mut have_default = false;
    if let Some(inc) = &doc.include {
        for name in inc.get_ref() {
            let preset = presets::find(name).ok_or_else(|| {
                let names: Vec<&str> = presets::PRESETS.iter().map(|p| p.name).collect();
                cx.err(
                    &inc.span(),
                    name,
                    &format!("unknown preset (presets: {})", names.join(", ")),
                )
            })?;
            let base = preset.policy(arch)?;
            policy.default = base.default;
            policy.default_origin = format!("{path} includes preset {}", preset.name).into();
            policy.rules.extend(base.rules);
            have_default = true;
        }
    }
    if let Some(d) = &doc.default {
        policy.default =
            Action::parse(d.get_ref()).map_err(|e| cx.err(&d.span(), d.get_ref(), &e))?;
        policy.default_origin = format!("{path}:{}", cx.line(&d.span())).into();
        have_default = true;
    }
    if !have_default {
        return Err(format!(
            "{path}: no default action: add e.g. default = \"errno EPERM\", or include = [\"default\"]"
        ));
    }
    if let Some(o) = &doc.other_abi {
        let a = Action::parse(o.get_ref()).map_err(|e| cx.err(&o.span(), o.get_ref(), &e))?;
        if !a.is_denial() {
            return Err(cx.err(&o.span(), o.get_ref(), "other ABIs cannot be allowed: a rule written for a 64-bit number would not see their calls"));
        }
        policy.other_abi = a;
    }
    if doc.rule.len() > MAX_RULES {
        return Err(format!(
            "{path}: {} [[rule]] entries: {}",
            doc.rule.len(),
            too_many_rules()
        ));
    }
    for r in &doc.rule {
        parse_rule(&cx, r, &mut policy)?;
    }
    Ok(policy)
}

fn string_list(cx: &Ctx<'_>, v: &Spanned<toml::Value>, what: &str) -> Result<Vec<String>, String> {
    let bad = |t: &str| {
        cx.err(
            &v.span(),
            t,
            &format!("{what} must be a string or a list of strings"),
        )
    };
    match v.get_ref() {
        toml::Value::String(s) => Ok(vec![s.clone()]),
        toml::Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| bad(i.type_str()))
            })
            .collect(),
        other => Err(bad(other.type_str())),
    }
}

fn parse_rule(cx: &Ctx<'_>, r: &FileRule, policy: &mut Policy) -> Result<(), String> {
    let line = cx.line(&r.syscall.span());
    let origin: Cow<'static, str> = format!("{}:{line}", cx.path).into();
    let action = Action::parse(r.action.get_ref())
        .map_err(|e| cx.err(&r.action.span(), r.action.get_ref(), &e))?;
    let calls = string_list(cx, &r.syscall, "syscall")?;
    if calls.is_empty() {
        return Err(cx.err(&r.syscall.span(), "[]", "empty list of system calls"));
    }
    let conds_text = match &r.when {
        None => Vec::new(),
        Some(w) => {
            let mut v = Vec::new();
            for c in string_list(cx, w, "when")? {
                v.extend(c.split("&&").map(|s| s.trim().to_string()));
            }
            v
        }
    };
    let when_span = r.when.as_ref().map_or(r.syscall.span(), |w| w.span());
    for call in &calls {
        let Some(base) = Rule::resolve(policy.arch, call, Vec::new(), action, origin.clone())
            .map_err(|e| cx.err(&r.syscall.span(), call, &e))?
        else {
            continue; // a real call this ABI lacks: nothing to filter
        };
        let alternatives =
            parse_conds(&conds_text, call).map_err(|(tok, e)| cx.err(&when_span, &tok, &e))?;
        if policy.rules.len() + alternatives.len() > MAX_RULES {
            return Err(cx.err(&r.syscall.span(), call, &too_many_rules()));
        }
        for conds in alternatives {
            policy.rules.push(Rule {
                conds,
                ..base.clone()
            });
        }
    }
    Ok(())
}

type CondError = (String, String);

/// The conditions of one rule: a list of alternatives (from `in [...]`),
/// each a list of ANDed conditions.
fn parse_conds(texts: &[String], call: &str) -> Result<Vec<Vec<Cond>>, CondError> {
    let mut all = Vec::new();
    let mut alternatives: Option<Vec<Cond>> = None;
    for text in texts {
        let (conds, is_in) = parse_cond(text, call)?;
        if is_in {
            if alternatives.is_some() {
                return Err((
                    text.clone(),
                    "only one `in [...]` per rule; write several rules".into(),
                ));
            }
            alternatives = Some(conds);
        } else {
            all.extend(conds);
        }
    }
    check_possible(&all).map_err(|e| (texts.join(" && "), e))?;
    Ok(match alternatives {
        None => vec![all],
        Some(alts) => alts
            .into_iter()
            .map(|a| {
                let mut v = all.clone();
                v.push(a);
                v
            })
            .filter(|v| check_possible(v).is_ok())
            .collect(),
    })
}

/// One condition; `true` when it is an `in` list (alternatives).
fn parse_cond(text: &str, call: &str) -> Result<(Vec<Cond>, bool), CondError> {
    let err = |tok: &str, msg: String| (tok.to_string(), msg);
    let words: Vec<&str> = text.split_whitespace().collect();
    let Some(&argword) = words.first() else {
        return Err(err(text, "empty condition".into()));
    };
    let (arg, narrow) = consts::arg(call, argword).ok_or_else(|| {
        let names = consts::arg_names(call);
        let hint = if names.is_empty() {
            String::new()
        } else {
            format!(", {}", names.join(", "))
        };
        err(
            argword,
            format!("unknown argument of {call} (use arg0..arg5{hint})"),
        )
    })?;
    let value = |tok: &str| parse_value(tok, narrow).map_err(|m| err(tok, m));
    let rest = words[1..].join(" ");
    let list = |body: &str| -> Result<Vec<u64>, CondError> {
        let inner = body
            .trim()
            .strip_prefix('[')
            .and_then(|b| b.strip_suffix(']'))
            .ok_or_else(|| err(body, "expected a list: [A, B, ...]".into()))?;
        let items: Vec<u64> = inner
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(&value)
            .collect::<Result<_, _>>()?;
        if items.is_empty() {
            return Err(err(body, "an empty list never matches".into()));
        }
        Ok(items)
    };
    let c = |op, value| Cond {
        arg,
        narrow,
        op,
        value,
    };
    if let Some(body) = rest.strip_prefix("not in") {
        return Ok((
            list(body)?.into_iter().map(|v| c(Op::Ne, v)).collect(),
            false,
        ));
    }
    if let Some(body) = rest.strip_prefix("in") {
        return Ok((
            list(body)?.into_iter().map(|v| c(Op::Eq, v)).collect(),
            true,
        ));
    }
    if let Some(v) = rest.strip_prefix("has ") {
        let v = value(v.trim())?;
        if v == 0 {
            return Err(err(text, "`has 0` is always true".into()));
        }
        return Ok((vec![c(Op::MaskedEq(v), v)], false));
    }
    if let Some(masked) = rest.strip_prefix('&') {
        let (m, v) = masked
            .split_once("==")
            .ok_or_else(|| err(text, "expected ARG & MASK == VALUE".into()))?;
        let (m, v) = (value(m.trim())?, value(v.trim())?);
        if v & !m != 0 {
            return Err(err(
                text,
                format!("impossible: {v:#x} has bits outside the mask {m:#x}"),
            ));
        }
        return Ok((vec![c(Op::MaskedEq(m), v)], false));
    }
    let (op, v) = ["==", "!=", "<=", ">=", "<", ">"]
        .iter()
        .find_map(|op| rest.strip_prefix(op).map(|v| (*op, v.trim())))
        .ok_or_else(|| {
            err(
                words.get(1).copied().unwrap_or(text),
                "expected ==, !=, <, <=, >, >=, has, &, in or not in".into(),
            )
        })?;
    let v = value(v)?;
    let op = match op {
        "==" => Op::Eq,
        "!=" => Op::Ne,
        "<" => Op::Lt,
        "<=" => Op::Le,
        ">" => Op::Gt,
        _ => Op::Ge,
    };
    let max = if narrow { 0xffff_ffff } else { u64::MAX };
    if (op == Op::Lt && v == 0) || (op == Op::Gt && v == max) {
        return Err(err(text, "impossible: no value satisfies this".into()));
    }
    Ok((vec![c(op, v)], false))
}

/// A number, a named constant, or several joined by `|`.
fn parse_value(text: &str, narrow: bool) -> Result<u64, String> {
    let mut out = 0u64;
    for part in text.split('|').map(str::trim) {
        let v = if let Some(h) = part.strip_prefix("0x") {
            u64::from_str_radix(h, 16).ok()
        } else if let Some(o) = part.strip_prefix("0o") {
            u64::from_str_radix(o, 8).ok()
        } else if part.starts_with(|c: char| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            consts::constant(part)
        };
        out |= v.ok_or_else(|| {
            if part.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                format!("not a valid number: {part}")
            } else {
                format!("unknown constant {part}")
            }
        })?;
    }
    if narrow && out > 0xffff_ffff {
        return Err(format!("{out:#x} does not fit this 32-bit argument"));
    }
    Ok(out)
}

/// Reject a conjunction no argument value can satisfy (e.g. `arg0 == 1 &&
/// arg0 == 2`). Without masks, a satisfying value (if any) is 0, the
/// maximum, or next to one of the compared values.
fn check_possible(conds: &[Cond]) -> Result<(), String> {
    for arg in 0..6u8 {
        let on: Vec<&Cond> = conds.iter().filter(|c| c.arg == arg).collect();
        if on.len() < 2 {
            continue;
        }
        let masks: Vec<(u64, u64)> = on
            .iter()
            .filter_map(|c| {
                if let Op::MaskedEq(m) = c.op {
                    Some((m, c.value & m))
                } else {
                    None
                }
            })
            .collect();
        for (i, (m1, v1)) in masks.iter().enumerate() {
            for (m2, v2) in &masks[i + 1..] {
                if (v1 ^ v2) & m1 & m2 != 0 {
                    return Err(format!(
                        "impossible: the conditions on arg{arg} contradict each other"
                    ));
                }
            }
        }
        if !masks.is_empty() {
            continue; // masks mixed with comparisons: not decided here
        }
        let max = if on.iter().any(|c| c.narrow) {
            0xffff_ffff
        } else {
            u64::MAX
        };
        let mut candidates = vec![0, max];
        for c in &on {
            candidates.extend([c.value, c.value.wrapping_sub(1), c.value.wrapping_add(1)]);
        }
        let mut args = [0u64; 6];
        let possible = candidates.into_iter().filter(|&v| v <= max).any(|v| {
            args[usize::from(arg)] = v;
            on.iter().all(|c| c.holds(&args))
        });
        if !possible {
            return Err(format!(
                "impossible: the conditions on arg{arg} contradict each other"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: Arch = Arch::X86_64;

    fn p(text: &str) -> Result<Policy, String> {
        parse("test.toml", text, X)
    }

    fn decide(p: &Policy, call: &str, args: [u64; 6]) -> Action {
        p.decide(X.audit(), X.nr(call).expect(call), &args).0
    }

    #[test]
    fn the_issue_examples() {
        let pol = p(r#"
default = "allow"

[[rule]]
syscall = "ioctl"
when = "arg1 == TIOCSTI"
action = "errno EPERM"

[[rule]]
syscall = "clone"
when = "flags has CLONE_NEWUSER"
action = "errno EPERM"

[[rule]]
syscall = "socket"
when = "domain not in [AF_UNIX, AF_INET, AF_INET6]"
action = "errno EAFNOSUPPORT"

[[rule]]
syscall = ["mount", "umount2", "open"]
action = "kill"
"#)
        .expect("parses");
        assert_eq!(
            decide(&pol, "ioctl", [0, 0x5412, 0, 0, 0, 0]),
            Action::Errno(libc::EPERM)
        );
        assert_eq!(
            decide(&pol, "ioctl", [0, 0x5413, 0, 0, 0, 0]),
            Action::Allow
        );
        assert_eq!(
            decide(&pol, "clone", [0x1000_0011, 0, 0, 0, 0, 0]),
            Action::Errno(libc::EPERM)
        );
        assert_eq!(
            decide(&pol, "socket", [libc::AF_NETLINK as u64, 0, 0, 0, 0, 0]),
            Action::Errno(libc::EAFNOSUPPORT)
        );
        assert_eq!(
            decide(&pol, "socket", [libc::AF_INET6 as u64, 0, 0, 0, 0, 0]),
            Action::Allow
        );
        assert_eq!(decide(&pol, "umount2", [0; 6]), Action::Kill);
        assert_eq!(pol.rules[0].origin, "test.toml:5");
        assert_eq!(pol.rules.last().expect("rule").origin, "test.toml:20");
    }

    #[test]
    fn include_a_preset_then_override() {
        let pol = p(r#"
include = ["default"]
other_abi = "errno ENOSYS"
[[rule]]
syscall = "ptrace"
action = "allow"
[[rule]]
syscall = "kill"
when = ["sig in [SIGKILL_IS_NOT_A_CONSTANT]"]
action = "allow"
"#);
        assert_eq!(
            pol.unwrap_err(),
            "test.toml:9: \"SIGKILL_IS_NOT_A_CONSTANT\": unknown constant SIGKILL_IS_NOT_A_CONSTANT"
        );
        let pol = p("include = [\"default\"]\nother_abi = \"errno ENOSYS\"\n[[rule]]\nsyscall = \"ptrace\"\naction = \"allow\"\n[[rule]]\nsyscall = \"kill\"\nwhen = \"sig in [9, 15]\"\naction = \"allow\"\n").expect("parses");
        assert_eq!(pol.default, Action::Allow);
        assert_eq!(pol.other_abi, Action::Errno(libc::ENOSYS));
        assert_eq!(decide(&pol, "ptrace", [16, 1, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(decide(&pol, "keyctl", [0; 6]), Action::Errno(libc::EPERM));
        assert_eq!(pol.rules.iter().filter(|r| r.name == "kill").count(), 2);
    }

    #[test]
    fn conditions_with_masks_ranges_and_ors() {
        let pol = p(r#"
default = "errno EPERM"
[[rule]]
syscall = "mprotect"
when = "prot & PROT_WRITE|PROT_EXEC == PROT_WRITE && arg0 >= 0x1000"
action = "allow"
[[rule]]
syscall = "personality"
when = "persona <= 8"
action = "allow"
"#)
        .expect("parses");
        let w = libc::PROT_WRITE as u64;
        let x = libc::PROT_EXEC as u64;
        assert_eq!(
            decide(&pol, "mprotect", [0x2000, 0, w, 0, 0, 0]),
            Action::Allow
        );
        assert_eq!(
            decide(&pol, "mprotect", [0x2000, 0, w | x, 0, 0, 0]),
            Action::Errno(1)
        );
        assert_eq!(
            decide(&pol, "mprotect", [0, 0, w, 0, 0, 0]),
            Action::Errno(1)
        );
        assert_eq!(
            decide(&pol, "personality", [8, 0, 0, 0, 0, 0]),
            Action::Allow
        );
    }

    #[test]
    fn errors_name_file_line_and_token() {
        let cases: &[(&str, &str)] = &[
            (
                "default = \"allow\"\n[[rule]]\nsyscall = \"ptrcae\"\naction = \"allow\"\n",
                "test.toml:3: \"ptrcae\": unknown system call \"ptrcae\"",
            ),
            (
                "default = \"allow\"\n[[rule]]\nsyscall = \"ptrace\"\naction = \"errno EPREM\"\n",
                "test.toml:4: \"errno EPREM\": unknown errno name \"EPREM\"",
            ),
            (
                "default = \"errno EPERM\"\n\n[[rule]]\nsyscall = \"ioctl\"\nwhen = \"request == 1 && request == 2\"\naction = \"allow\"\n",
                "test.toml:5: \"request == 1 && request == 2\": impossible: the conditions on arg1 contradict each other",
            ),
            (
                "default = \"allow\"\n[[rule]]\nsyscall = \"ioctl\"\nwhen = \"request == 0x100000000\"\naction = \"kill\"\n",
                "test.toml:4: \"0x100000000\": 0x100000000 does not fit this 32-bit argument",
            ),
            (
                "default = \"allow\"\n[[rule]]\nsyscall = \"ioctl\"\nwhen = \"arg7 == 1\"\naction = \"kill\"\n",
                "test.toml:4: \"arg7\": unknown argument of ioctl (use arg0..arg5, fd, request)",
            ),
            (
                "default = \"allow\"\n[[rule]]\nsyscall = \"read\"\nwhen = \"arg0 < 0\"\naction = \"kill\"\n",
                "test.toml:4: \"arg0 < 0\": impossible: no value satisfies this",
            ),
            (
                "default = \"allow\"\n[[rule]]\nsyscall = \"read\"\nwhen = \"arg0 & 0x1 == 2\"\naction = \"kill\"\n",
                "test.toml:4: \"arg0 & 0x1 == 2\": impossible: 0x2 has bits outside the mask 0x1",
            ),
            (
                "default = \"alow\"\n",
                "test.toml:1: \"alow\": unknown action \"alow\" (expected allow, log, trap, kill or \"errno NAME\")",
            ),
            (
                "include = [\"lax\"]\n",
                "test.toml:1: \"lax\": unknown preset (presets: default, strict)",
            ),
            (
                "other_abi = \"allow\"\ndefault = \"allow\"\n",
                "test.toml:1: \"allow\": other ABIs cannot be allowed: a rule written for a 64-bit number would not see their calls",
            ),
            (
                "[[rule]]\nsyscall = \"read\"\naction = \"allow\"\n",
                "test.toml: no default action: add e.g. default = \"errno EPERM\", or include = [\"default\"]",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(p(text).unwrap_err(), *want, "for {text:?}");
        }
        let e = p("default = \"allow\"\n[[rule]]\nsyscall = \"read\"\nacton = \"allow\"\n")
            .unwrap_err();
        assert!(
            e.starts_with("test.toml:4: \"acton\": unknown field `acton`"),
            "{e}"
        );
        let e = p("default = \"allow\"\n[[rule]\n").unwrap_err();
        assert!(e.starts_with("test.toml:2: "), "{e}");
    }

    fn rules(n: usize, calls: &str) -> String {
        let rule = format!("[[rule]]\nsyscall = {calls}\naction = \"allow\"\n");
        format!("default = \"allow\"\n{}", rule.repeat(n))
    }

    #[test]
    fn rule_limit_counts_expanded_rules() {
        let at_limit = p(&rules(MAX_RULES, "\"uname\"")).expect("at the limit");
        assert_eq!(at_limit.rules.len(), MAX_RULES);
        assert_eq!(
            p(&rules(MAX_RULES + 1, "\"uname\"")).unwrap_err(),
            format!(
                "test.toml: 4097 [[rule]] entries: too many rules: a seccomp policy holds at most {MAX_RULES}"
            )
        );
        // Lists of calls count one rule each: rule 2049 (line 6147) crosses.
        assert_eq!(
            p(&rules(2100, "[\"uname\", \"getpid\"]")).unwrap_err(),
            format!(
                "test.toml:6147: \"uname\": too many rules: a seccomp policy holds at most {MAX_RULES}"
            )
        );
        // So do `in [...]` alternatives and an included preset's rules.
        let text = format!(
            "include = [\"strict\"]\n{}",
            "[[rule]]\nsyscall = \"ioctl\"\nwhen = \"request in [1, 2, 3, 4]\"\naction = \"allow\"\n".repeat(1000)
        );
        assert!(p(&text).unwrap_err().contains("too many rules"));
    }

    /// 30,000 rules took seconds when each line number rescanned the file.
    #[test]
    fn line_numbers_take_linear_time() {
        let start = std::time::Instant::now();
        let e = p(&rules(30_000, "\"uname\"")).unwrap_err();
        assert!(e.contains("30000 [[rule]] entries"), "{e}");
        let cx = Ctx::new("t", &rules(30_000, "\"uname\""));
        let last = rules(30_000, "\"uname\"").len() - 1;
        for i in (0..last).step_by(97) {
            std::hint::black_box(cx.line(&(i..i + 1)));
        }
        assert_eq!(cx.line(&(last..last)), 90_001);
        assert_eq!(cx.line(&(0..0)), 1);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn calls_missing_on_this_abi_are_skipped() {
        let pol = parse("a.toml", "default = \"allow\"\n[[rule]]\nsyscall = [\"open\", \"openat\"]\naction = \"errno EACCES\"\n", Arch::Aarch64).expect("parses");
        assert_eq!(pol.rules.len(), 1);
        assert_eq!(pol.rules[0].name, "openat");
    }
}
