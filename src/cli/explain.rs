//! `--explain`: the resolved sandbox in words, and a plain command line that
//! builds the same sandbox (for review, or to paste into a script).

use std::ffi::{OsStr, OsString};
use std::fmt::Write;
use std::path::Path;

use crate::landlock::show::{self, FsView};
use crate::landlock::{Mode, Policy, Rights};
use crate::spec::{BindMode, CapOp, EnvOp, Fallback, FsOp, OverlayKind, ReportTo, Spec, dev};

fn show(p: &Path) -> String {
    p.display().to_string()
}

/// A word as a POSIX shell reads it back.
pub fn shell_quote(word: &OsStr) -> String {
    let s = word.to_string_lossy();
    let plain = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn mode_text(perms: Option<u32>) -> String {
    perms.map(|p| format!(", mode {p:04o}")).unwrap_or_default()
}

/// One filesystem operation: (path in the sandbox, what happens there).
fn describe_op(op: &FsOp, spec: &Spec) -> (String, String) {
    let what = match op {
        FsOp::Bind {
            src,
            mode,
            allow_missing,
            ..
        } => {
            let kind = match mode {
                BindMode::ReadOnly => "read-only bind",
                BindMode::ReadWrite => "read-write bind",
                BindMode::Device => "read-write bind (devices allowed)",
            };
            let mut t = format!("{kind} of host {}", show(src));
            if *allow_missing {
                t.push_str(", if it exists");
            }
            if spec.host_dirs.iter().any(|d| d == src) {
                t.push_str(", created (0700) if missing");
            }
            if spec.no_follow.iter().any(|d| d == src) {
                t.push_str(" and is not a symlink");
            }
            t
        }
        FsOp::BindFd { fd, read_only, .. } => {
            format!(
                "{} bind of fd {fd}",
                if *read_only {
                    "read-only"
                } else {
                    "read-write"
                }
            )
        }
        FsOp::RemountRo { .. } => "remounted read-only".into(),
        FsOp::Tmpfs { perms, size, .. } => {
            let size = size.map(|s| format!(", {s} bytes")).unwrap_or_default();
            format!("new tmpfs{}{size}", mode_text(*perms))
        }
        FsOp::Proc { .. } => "new procfs".into(),
        FsOp::Dev { .. } => {
            let made: Vec<&str> = dev::NODES.iter().chain(&dev::DIRS).copied().collect();
            format!("new /dev ({})", made.join(", "))
        }
        FsOp::Mqueue { .. } => "new mqueue".into(),
        FsOp::Dir { perms, .. } => format!("directory{}", mode_text(*perms)),
        FsOp::File { fd, perms, .. } => format!("file copied from fd {fd}{}", mode_text(*perms)),
        FsOp::BindData {
            fd,
            perms,
            read_only,
            ..
        } => format!(
            "{}file bound from fd {fd}{}",
            if *read_only { "read-only " } else { "" },
            mode_text(*perms)
        ),
        FsOp::Symlink { target, .. } => format!("symlink -> {}", show(target)),
        FsOp::Chmod { perms, .. } => format!("chmod {perms:04o}"),
        FsOp::Overlay { sources, kind, .. } => {
            let lower: Vec<String> = sources.iter().map(|s| show(s)).collect();
            let writes = match kind {
                OverlayKind::Persistent { upper, work } => {
                    format!("writes to host {} (work dir {})", show(upper), show(work))
                }
                OverlayKind::Temporary => "writes to a hidden tmpfs".into(),
                OverlayKind::ReadOnly => "read-only".into(),
            };
            format!("overlay of {}; {writes}", lower.join(", "))
        }
    };
    (show(op.dest()), what)
}

fn namespaces(spec: &Spec) -> String {
    let ns = &spec.namespaces;
    let all = [
        ("user", ns.user),
        ("mount", true),
        ("pid", spec.new_pid_ns()),
        ("net", ns.net),
        ("ipc", ns.ipc),
        ("uts", ns.uts),
        ("cgroup", ns.cgroup),
    ];
    let mut new: Vec<&str> = all.iter().filter(|(_, on)| *on).map(|(n, _)| *n).collect();
    // sandwrap's own: named when made (not in bwrap's list of shared ones).
    if ns.time {
        new.push("time");
    }
    let shared: Vec<&str> = all.iter().filter(|(_, on)| !*on).map(|(n, _)| *n).collect();
    let mut out = format!("new: {}", new.join(", "));
    if !shared.is_empty() {
        let _ = write!(out, "; shared with the host: {}", shared.join(", "));
    }
    out
}

fn env_lines(spec: &Spec) -> Vec<String> {
    let mut lines = Vec::new();
    // Consecutive --keep-env (a profile's allowlist) make one list.
    let mut kept: Vec<String> = Vec::new();
    for op in &spec.env {
        if let EnvOp::Keep(k) = op {
            kept.push(k.to_string_lossy().into_owned());
            continue;
        }
        keep_lines(&mut lines, &mut kept);
        lines.push(match op {
            EnvOp::Clear => "clear everything".to_string(),
            EnvOp::Set(k, v) => format!("set {}={}", k.to_string_lossy(), v.to_string_lossy()),
            EnvOp::Unset(k) => format!("unset {}", k.to_string_lossy()),
            EnvOp::Keep(_) => unreachable!("collected above"),
        });
    }
    keep_lines(&mut lines, &mut kept);
    lines
}

/// `keep from the caller: A, B, ...`, wrapped, for the names in `kept`.
fn keep_lines(lines: &mut Vec<String>, kept: &mut Vec<String>) {
    let mut line = "keep from the caller:".to_string();
    for (i, name) in kept.drain(..).enumerate() {
        if i > 0 {
            line.push(',');
        }
        if line.len() + name.len() > 70 {
            lines.push(std::mem::replace(&mut line, "   ".into()));
        }
        line.push(' ');
        line.push_str(&name);
    }
    if line != "keep from the caller:" {
        lines.push(line);
    }
}

fn cap_name(c: u8) -> String {
    super::CAP_NAMES
        .get(usize::from(c))
        .map_or_else(|| c.to_string(), |n| n.to_ascii_uppercase())
}

fn process_lines(spec: &Spec) -> Vec<String> {
    let mut out = Vec::new();
    if spec.new_session {
        out.push("new session (no access to the terminal's input queue)".to_string());
    }
    if spec.die_with_parent {
        out.push("killed when sandwrap's parent dies".into());
    }
    if spec.end_with_command {
        out.push("everything ends with the command, and with sandwrap".into());
    }
    if spec.as_pid_1 {
        out.push("the command is pid 1 (no reaper)".into());
    }
    if spec.disable_userns {
        out.push("no further user namespaces".into());
    }
    if let Some(a) = &spec.argv0 {
        out.push(format!("argv[0] is {}", a.to_string_lossy()));
    }
    for op in &spec.caps {
        out.push(match op {
            CapOp::Add(c) => format!("add capability {}", cap_name(*c)),
            CapOp::Drop(c) => format!("drop capability {}", cap_name(*c)),
            CapOp::AddAll => "add all capabilities".into(),
            CapOp::DropAll => "drop all capabilities".into(),
        });
    }
    if out.is_empty() {
        out.push("(defaults)".into());
    }
    out
}

fn limit_lines(spec: &Spec) -> Vec<String> {
    use super::limits::{show_duration, show_limit};
    let l = &spec.limits;
    let part = |v: Option<u64>| v.map_or("the caller's".to_string(), show_limit);
    let mut out: Vec<String> = l
        .rlimits
        .iter()
        .map(|r| {
            format!(
                "rlimit {}: soft {}, hard {} (on the command)",
                r.name,
                part(r.soft),
                part(r.hard)
            )
        })
        .collect();
    if let Some(t) = l.timeout {
        let grace = l.kill_after.unwrap_or(crate::spec::DEFAULT_KILL_AFTER);
        out.push(format!(
            "timeout {}: SIGTERM to the whole sandbox, SIGKILL {} later; exit status 124",
            show_duration(t),
            show_duration(grace)
        ));
    }
    let cg = &l.cgroup;
    let bytes = |v: u64| format!("{v} bytes");
    for (what, value) in [
        ("memory.max", cg.memory.map(bytes)),
        ("memory.swap.max", cg.memory_swap.map(bytes)),
        ("pids.max", cg.pids_max.map(|n| n.to_string())),
        (
            "cpu.max",
            cg.cpus_milli
                .map(|m| format!("{} 100000 ({} CPUs)", m * 100, m as f64 / 1000.0)),
        ),
    ] {
        if let Some(v) = value {
            out.push(format!("cgroup v2 {what} {v}"));
        }
    }
    if cg.wanted() {
        out.push(
            "a cgroup v2 of its own (sandwrap-PID below sandwrap's): usage of the whole sandbox, cgroup.kill at the end".into(),
        );
    }
    if l.json_usage {
        out.push("usage (wall, CPU, peak memory) reported on --json-status-fd".into());
    }
    if out.is_empty() {
        out.push("none".into());
    }
    out
}

/// The landlock policy in `landlock::show`'s words (those of `--verbose`),
/// the fallback's own when it is asked for, and the domain the command
/// always gets.
fn landlock_lines(spec: &Spec, caller: (u32, u32)) -> Vec<String> {
    let policy = Policy::from_spec(spec, Mode::Namespaced, caller, Path::new("/"));
    let mut out = if policy.is_empty() {
        vec!["no restriction asked for".into()]
    } else {
        policy_lines(&policy)
    };
    if spec.fallback == Some(Fallback::Landlock) {
        // Relative bind sources are the caller's, as when the sandbox runs.
        let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
        let fallback = Policy::from_spec(spec, Mode::Fallback, caller, &cwd);
        out.push("with --fallback landlock, where namespaces cannot be made:".into());
        let lost = fallback.lost.iter().map(|l| format!("not honoured: {l}"));
        out.extend(
            policy_lines(&fallback)
                .into_iter()
                .chain(lost)
                .map(|l| format!("  {l}")),
        );
    }
    out.push(show::own_domain_line());
    out
}

fn policy_lines(p: &Policy) -> Vec<String> {
    let fs = p.fs.as_deref().map(|rules| FsView {
        rules,
        source: p.fs_source,
        handled: Rights::ALL,
    });
    let mut out = show::lines(fs, &p.net);
    if p.strict {
        out.push("strict: anything the kernel cannot enforce is an error".into());
    }
    out
}

fn seccomp_lines(spec: &Spec) -> Vec<String> {
    let mut out = Vec::new();
    // What the command gets: the user's policy and sandwrap's guards.
    let own = crate::seccomp::guard::command_policy(spec, crate::landlock::Mode::Namespaced);
    if let Err(e) = &own {
        out.push(format!("policy refused: {e}"));
    }
    if let Ok(Some(p)) = &own {
        out.push(format!(
            "policy {} ({}): calls no rule names -> {}; calls through other ABIs -> {}",
            p.name,
            p.arch.name(),
            p.default,
            p.other_abi
        ));
        // Rules grouped by action, in first-appearance order; the last
        // matching rule decides, so a later rule's group wins for its call.
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for r in &p.rules {
            let mut call = r.name.to_string();
            if !r.conds.is_empty() {
                let conds: Vec<String> = r.conds.iter().map(|c| c.to_string()).collect();
                call = format!("{call} when {}", conds.join(" && "));
            }
            let action = r.action.to_string();
            match groups.iter_mut().find(|(a, _)| *a == action) {
                Some((_, calls)) => calls.push(call),
                None => groups.push((action, vec![call])),
            }
        }
        for (action, calls) in groups {
            out.extend(wrap(&format!("{action}:"), &calls, 76));
        }
        match spec.seccomp.report {
            Some(ReportTo::Stderr) => out.push("every denial is reported on stderr".into()),
            Some(ReportTo::Fd(fd)) => out.push(format!("every denial is reported to fd {fd}")),
            None => {}
        }
    }
    if let Some(fd) = spec.seccomp.fd {
        out.push(format!("caller's program read from fd {fd}"));
    }
    for (i, p) in spec.seccomp.programs.iter().enumerate() {
        out.push(format!(
            "caller's program {} from --add-seccomp-fd ({} instructions)",
            i + 1,
            p.len() / 8
        ));
    }
    if out.is_empty() {
        out.push("none".into());
    }
    out
}

/// `head` then the items, comma-separated, in lines of at most `width`
/// characters (continuation lines indented).
fn wrap(head: &str, items: &[String], width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = format!("  {head}");
    for (i, item) in items.iter().enumerate() {
        let sep = if i + 1 < items.len() { "," } else { "" };
        if line.len() + 1 + item.len() + sep.len() > width && line.trim_start() != head {
            lines.push(line);
            line = "     ".to_string();
        }
        line.push(' ');
        line.push_str(item);
        line.push_str(sep);
    }
    lines.push(line);
    lines
}

/// A labelled block: the first line after the label, the rest indented.
fn block(out: &mut String, label: &str, lines: &[String]) {
    const WIDTH: usize = 14;
    for (i, l) in lines.iter().enumerate() {
        let head = if i == 0 {
            format!("{label}:")
        } else {
            String::new()
        };
        let _ = writeln!(out, "{head:WIDTH$}{l}");
    }
}

/// Where the sandbox's network leads (README "Networking").
fn network_line(spec: &Spec) -> String {
    let n = &spec.network;
    if !spec.namespaces.net {
        return "the host's (shared network namespace)".into();
    }
    if !n.pasta {
        return "none (only lo)".into();
    }
    let mut out = String::from("pasta: an interface like the host's, outbound TCP and UDP; ");
    out.push_str(if n.allow_host_loopback {
        "the host's loopback services reachable at the gateway address"
    } else {
        "the host's loopback services out of reach"
    });
    for p in &n.publish {
        let _ = write!(
            out,
            "; host {} port {} -> sandbox port {}/{}",
            p.host_ip.map_or("127.0.0.1".to_string(), |a| a.to_string()),
            p.host_port,
            p.sandbox_port,
            if p.udp { "udp" } else { "tcp" }
        );
    }
    out
}

/// The whole explanation. `argv`: the option words that were applied;
/// `caller`: the real uid and gid.
pub fn explain(spec: &Spec, argv: &[OsString], caller: (u32, u32)) -> String {
    let mut out = String::new();
    block(&mut out, "Namespaces", &[namespaces(spec)]);
    block(&mut out, "Network", &[network_line(spec)]);
    let uid = spec.uid.unwrap_or(caller.0);
    let gid = spec.gid.unwrap_or(caller.1);
    let ids = if let Some(sub) = spec.subids {
        let how_many = match sub.count {
            Some(n) => format!("the first {n} of"),
            None => "all of".to_string(),
        };
        format!(
            "uid {}, gid {} inside; 0 is uid {}, gid {} outside, 1 and up {how_many} the caller's subordinate ids (/etc/subuid, /etc/subgid, mapped by newuidmap/newgidmap)",
            spec.uid.unwrap_or(0),
            spec.gid.unwrap_or(0),
            caller.0,
            caller.1
        )
    } else if spec.namespaces.user {
        format!(
            "uid {uid}, gid {gid} inside; uid {}, gid {} outside",
            caller.0, caller.1
        )
    } else {
        format!("uid {uid}, gid {gid}")
    };
    block(&mut out, "Ids", &[ids]);
    if !spec.time_offsets.is_empty() {
        let shown: Vec<String> = spec
            .time_offsets
            .iter()
            .map(|o| o.to_string().replacen('=', " ", 1))
            .collect();
        block(
            &mut out,
            "Clocks",
            &[format!("shifted by seconds: {}", shown.join(", "))],
        );
    }
    if let Some(h) = &spec.hostname {
        block(&mut out, "Hostname", &[h.to_string_lossy().into_owned()]);
    }

    let _ = writeln!(
        out,
        "Filesystem:   on an empty root (tmpfs), in this order:"
    );
    let ops: Vec<(String, String)> = spec.ops.iter().map(|op| describe_op(op, spec)).collect();
    let width = ops.iter().map(|(d, _)| d.len()).max().unwrap_or(0);
    for (i, (dest, what)) in ops.iter().enumerate() {
        let _ = writeln!(out, "  {:>3}  {dest:width$}  {what}", i + 1);
    }
    if ops.is_empty() {
        let _ = writeln!(out, "  (nothing: an empty root)");
    }
    let cwd = match &spec.chdir {
        Some(d) => show(d),
        None => "the current directory if it exists inside, else $HOME, else /".into(),
    };
    block(&mut out, "Directory", &[cwd]);
    let env = env_lines(spec);
    let env = if env.is_empty() {
        vec!["inherited unchanged".to_string()]
    } else {
        env
    };
    block(&mut out, "Environment", &env);
    block(&mut out, "Process", &process_lines(spec));
    block(&mut out, "Limits", &limit_lines(spec));
    block(&mut out, "Seccomp", &seccomp_lines(spec));
    block(&mut out, "Landlock", &landlock_lines(spec, caller));

    let _ = writeln!(out, "\nEquivalent command line:");
    let _ = write!(out, "sandwrap");
    let mut i = 0;
    while i < argv.len() {
        let nargs = argv[i]
            .to_str()
            .and_then(super::table::lookup)
            .map_or(0, |d| d.args.len());
        let end = (i + 1 + nargs).min(argv.len());
        let words: Vec<String> = argv[i..end].iter().map(|w| shell_quote(w)).collect();
        let _ = write!(out, " \\\n    {}", words.join(" "));
        i = end;
    }
    let command: Vec<String> = if spec.command.is_empty() {
        vec!["COMMAND".into(), "[ARGS...]".into()]
    } else {
        spec.command.iter().map(|w| shell_quote(w)).collect()
    };
    let _ = writeln!(out, " \\\n    -- {}", command.join(" "));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote(OsStr::new("/usr/bin")), "/usr/bin");
        assert_eq!(shell_quote(OsStr::new("a b")), "'a b'");
        assert_eq!(shell_quote(OsStr::new("it's")), "'it'\\''s'");
        assert_eq!(shell_quote(OsStr::new("")), "''");
        assert_eq!(shell_quote(OsStr::new("$HOME")), "'$HOME'");
    }
}
