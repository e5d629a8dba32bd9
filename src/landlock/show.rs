//! What landlock restricts, in words: the one rendering behind `--explain`
//! (the policy the options ask for) and `--verbose` (the plan enforced on
//! this kernel), so that the two say the same thing the same way.

use super::plan::{ABI_SCOPE, FsSource, Isolation, Plan};
use super::ports::{port_count, show_ports};
use super::rights::Rights;
use super::rules::Rule;
use crate::spec::LandlockNet;

/// The filesystem rules as shown: the rules, where they come from, and the
/// rights handled (a rule with all of them reads `all`).
pub struct FsView<'a> {
    pub rules: &'a [Rule],
    pub source: FsSource,
    pub handled: Rights,
}

/// One line for the filesystem (then one per rule, indented), one for each
/// of TCP connect and bind, one for the scopes.
pub fn lines(fs: Option<FsView<'_>>, net: &LandlockNet) -> Vec<String> {
    let mut out = Vec::new();
    match fs {
        Some(v) => {
            out.push(format!("filesystem: only these rules ({}):", v.source));
            for r in v.rules {
                out.push(format!(
                    "  {} beneath {} ({})",
                    rights_text(r.rights, v.handled),
                    r.path.display(),
                    r.origin
                ));
            }
        }
        None => out.push("filesystem: not restricted".into()),
    }
    for (what, ports) in [
        ("TCP connect", &net.tcp_connect),
        ("TCP bind", &net.tcp_bind),
    ] {
        out.push(match ports {
            Some(p) if p.is_empty() => format!("{what}: no port"),
            Some(p) => format!(
                "{what}: only ports {} ({} allowed)",
                show_ports(p),
                port_count(p)
            ),
            None => format!("{what}: not restricted"),
        });
    }
    let mut scopes = Vec::new();
    if net.scope_abstract_unix {
        scopes.push("abstract unix sockets");
    }
    if net.scope_signal {
        scopes.push("signals");
    }
    out.push(if scopes.is_empty() {
        "scoped: nothing".into()
    } else {
        format!("scoped: {}", scopes.join(", "))
    });
    out
}

/// Rights in words: the common sets by name, others by their flags.
fn rights_text(r: Rights, handled: Rights) -> String {
    match r {
        r if r == handled => "all".into(),
        r if r == Rights::READ_EXEC => "read, execute".into(),
        r if r == Rights::READ => "read".into(),
        r if r == Rights::READ_DIR => "list".into(),
        r if r == Rights::PROC => "read, write existing files".into(),
        r => r.to_string(),
    }
}

/// The `--verbose` report of a plan, one line each, in the words
/// `--explain` uses; `rules_added` is how many filesystem rules were
/// actually added.
pub fn summary(plan: &Plan, rules_added: usize) -> Vec<String> {
    if !plan.asked {
        return vec![isolation_line(plan)];
    }
    let fs = (!plan.domain_only && !plan.fs_handled.is_empty()).then_some(FsView {
        rules: &plan.rules,
        source: plan.fs_source,
        handled: plan.fs_handled,
    });
    let mut head = format!("landlock: ABI {}", plan.abi);
    if fs.is_some() {
        head.push_str(&format!(
            "; filesystem rights handled: {}; {rules_added} of {} rules added",
            plan.fs_handled,
            plan.rules.len()
        ));
    }
    let mut out = vec![head];
    out.extend(
        lines(fs, &plan.net)
            .into_iter()
            .map(|l| format!("landlock: {l}")),
    );
    out.push(isolation_line(plan));
    out
}

/// What keeps the command away from sandwrap's own processes on this
/// kernel (`--verbose`).
pub fn isolation_line(plan: &Plan) -> String {
    let abi = plan.abi;
    match plan.isolation {
        Isolation::DomainAndSignals => format!(
            "processes: the command has a landlock domain of its own (ABI {abi}): it cannot ptrace, open /proc/PID/{{mem,exe,fd,root,...}} of, or signal sandwrap's processes or any other process outside the sandbox"
        ),
        Isolation::Domain => format!(
            "processes: the command has a landlock domain of its own (ABI {abi}): it cannot ptrace or open /proc/PID/{{mem,exe,fd,root,...}} of sandwrap's processes or any other process outside the sandbox; signals are not confined (that needs landlock ABI {ABI_SCOPE}): use --unshare-pid and --new-session"
        ),
        Isolation::NonDumpable => "processes: no landlock: sandwrap's own processes are non-dumpable (no ptrace or /proc/PID access from the command); signals are not confined (use --unshare-pid and --new-session), other processes of the user are reachable without --unshare-pid, and a launcher cannot join the sandbox through /proc/PID".into(),
    }
}

/// What keeps the command away from sandwrap's processes whatever the
/// options, as `--explain` says it (it does not know the kernel; `--verbose`
/// says what this kernel does, `isolation_line`).
pub fn own_domain_line() -> String {
    format!(
        "processes: the command always gets a landlock domain of its own: it cannot ptrace or open /proc/PID/{{mem,exe,fd,root,...}} of sandwrap's processes or any other process outside the sandbox, nor signal them (landlock ABI {ABI_SCOPE}); without landlock, sandwrap's own processes are made non-dumpable instead"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landlock::Need;
    use crate::spec::PortRange;

    #[test]
    fn rules_ports_and_scopes_in_words() {
        let rules = [Rule {
            path: "/usr".into(),
            rights: Rights::READ_EXEC,
            need: Need::Required,
            origin: "--ro-bind /usr /usr".into(),
        }];
        let net = LandlockNet {
            tcp_connect: Some(vec![PortRange {
                first: 80,
                last: 81,
            }]),
            tcp_bind: Some(vec![]),
            scope_abstract_unix: true,
            scope_signal: true,
        };
        let fs = FsView {
            rules: &rules,
            source: FsSource::Explicit,
            handled: Rights::ALL,
        };
        assert_eq!(
            lines(Some(fs), &net),
            [
                "filesystem: only these rules (explicit):",
                "  read, execute beneath /usr (--ro-bind /usr /usr)",
                "TCP connect: only ports 80-81 (2 allowed)",
                "TCP bind: no port",
                "scoped: abstract unix sockets, signals",
            ]
        );
        let none = lines(None, &LandlockNet::default());
        assert_eq!(none[0], "filesystem: not restricted");
        assert_eq!(none[3], "scoped: nothing");
        // A rule with every handled right is `all`, whatever the ABI.
        assert_eq!(rights_text(Rights::known_at(1), Rights::known_at(1)), "all");
    }
}
