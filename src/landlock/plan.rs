//! What to enforce: the policy the options ask for, then the plan for the
//! running kernel's landlock ABI with one line for each thing it cannot
//! enforce (never a silent downgrade).

use std::fmt;
use std::path::Path;

use super::rights::Rights;

use super::rules::{Rule, derive, explicit};
use super::{fallback, rules};
use crate::spec::{LandlockNet, Spec};

/// Where the command runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// In its new root: rule paths are paths inside it.
    Namespaced,
    /// `--fallback landlock`: on the host, without namespaces.
    Fallback,
}

/// The ABI that brought each feature.
pub const ABI_NET: u32 = 4;
pub const ABI_SCOPE: u32 = 6;

/// Where the filesystem rules come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FsSource {
    /// `--landlock`: one rule per filesystem option.
    #[default]
    Derived,
    /// `--landlock-ro`/`-rw`/...
    Explicit,
    /// `--fallback landlock`: the filesystem options mapped to host paths.
    Fallback,
}

impl fmt::Display for FsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FsSource::Derived => "derived from the filesystem",
            FsSource::Explicit => "explicit",
            FsSource::Fallback => "the filesystem options on the host's own paths",
        })
    }
}

/// What the options ask landlock to restrict, whatever the kernel offers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// `None`: the filesystem is not restricted by landlock.
    pub fs: Option<Vec<Rule>>,
    pub fs_source: FsSource,
    pub net: LandlockNet,
    pub strict: bool,
    /// Options that cannot be honoured (fallback mode).
    pub lost: Vec<String>,
}

impl Policy {
    /// `cwd`: the caller's directory, against which relative host paths of
    /// the fallback are taken (as the sources of binds are).
    pub fn from_spec(spec: &Spec, mode: Mode, caller: (u32, u32), cwd: &Path) -> Policy {
        let ll = &spec.landlock;
        let mut p = Policy {
            fs: None,
            fs_source: if ll.rules.is_empty() {
                FsSource::Derived
            } else {
                FsSource::Explicit
            },
            net: ll.net.clone(),
            strict: ll.strict,
            lost: Vec::new(),
        };
        match mode {
            Mode::Namespaced => {
                if !ll.rules.is_empty() {
                    p.fs = Some(explicit(&ll.rules));
                } else if ll.derive {
                    p.fs = Some(derive(&spec.ops));
                }
            }
            Mode::Fallback => {
                // Confinement is the point of the fallback: the filesystem
                // is always restricted.
                if ll.rules.is_empty() {
                    let (mapped, lost) = fallback::host_rules(&spec.ops, cwd);
                    p.fs = Some(mapped);
                    p.fs_source = FsSource::Fallback;
                    p.lost = lost;
                } else {
                    p.fs = Some(explicit(&ll.rules));
                }
                p.lost.extend(fallback::lost_namespaces(spec, caller));
                // The closest a shared network and pid space get to namespaces.
                if fallback_unshares_net(spec, mode) {
                    p.net.tcp_connect.get_or_insert_with(Vec::new);
                    p.net.tcp_bind.get_or_insert_with(Vec::new);
                    p.net.scope_abstract_unix = true;
                }
                if spec.namespaces.pid {
                    p.net.scope_signal = true;
                }
            }
        }
        p
    }

    pub fn is_empty(&self) -> bool {
        self.fs.is_none() && self.net.is_empty()
    }
}

/// `--unshare-net` in the fallback: no network namespace, so landlock (and
/// seccomp, `seccomp::guard`) stand in for it.
pub fn fallback_unshares_net(spec: &Spec, mode: Mode) -> bool {
    mode == Mode::Fallback && spec.namespaces.net
}

/// Whether landlock is asked to restrict TCP (explicit ports, or the
/// fallback's stand-in for `--unshare-net`): the ways around its TCP rules
/// (MPTCP, io_uring) must then be closed by seccomp.
pub fn restricts_tcp(spec: &Spec, mode: Mode) -> bool {
    spec.landlock.net.restricts_tcp() || fallback_unshares_net(spec, mode)
}

/// How the command is kept away from sandwrap's own processes (pid 1, the
/// reaper, the supervisor) and the caller's: the command always gets a
/// landlock domain of its own, whatever the options. Landlock denies ptrace
/// and `/proc/PID/{mem,exe,fd,root,environ,...}` of any process outside the
/// domain (ABI 1), and with the signal scope (ABI 6) signals to them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Isolation {
    /// No landlock: sandwrap's own processes are made non-dumpable instead.
    #[default]
    NonDumpable,
    /// ABI 1 to 5: ptrace and /proc access confined, signals not.
    Domain,
    /// ABI 6 and later: ptrace, /proc access and signals confined.
    DomainAndSignals,
}

/// What will be enforced on this kernel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub abi: u32,
    pub isolation: Isolation,
    /// The options asked landlock for something (else only the domain of
    /// the command's own is made).
    pub asked: bool,
    /// Only `MAKE_BLOCK` is handled, for the domain to exist on ABI 1 to 5
    /// when nothing else is: it denies nothing an unprivileged command
    /// could do (block devices need CAP_MKNOD in the host's namespace).
    pub domain_only: bool,
    /// Filesystem rights handled (denied unless a rule allows them).
    pub fs_handled: Rights,
    /// Rules, each narrowed to the handled rights.
    pub rules: Vec<Rule>,
    pub fs_source: FsSource,
    /// The ports and scopes enforced.
    pub net: LandlockNet,
    /// Restrictions asked for that this kernel cannot enforce.
    pub shortfalls: Vec<String>,
    /// Behaviour that differs on this kernel without weakening anything.
    pub notes: Vec<String>,
}

fn needs(what: &str, abi: u32, have: u32) -> String {
    format!("{what} (needs landlock ABI {abi}, have ABI {have})")
}

impl Plan {
    /// `abi` is the kernel's landlock ABI, 0 when landlock is unavailable.
    pub fn new(policy: &Policy, abi: u32) -> Plan {
        let mut plan = Plan {
            abi,
            asked: !policy.is_empty(),
            ..Plan::default()
        };
        plan.add_requested(policy);
        plan.isolation = match abi {
            0 => Isolation::NonDumpable,
            a if a < ABI_SCOPE => Isolation::Domain,
            _ => Isolation::DomainAndSignals,
        };
        if abi >= ABI_SCOPE {
            plan.net.scope_signal = true;
        } else if abi > 0 && !plan.enforces_anything() {
            plan.fs_handled = Rights::MAKE_BLOCK;
            plan.domain_only = true;
        }
        plan
    }

    /// What the options ask for, as far as `self.abi` can enforce it.
    fn add_requested(&mut self, policy: &Policy) {
        let abi = self.abi;
        let plan = self;
        if abi == 0 {
            if !policy.is_empty() {
                plan.shortfalls.push(
                    "landlock is not available in this kernel: nothing is restricted by it".into(),
                );
            }
            return;
        }
        if let Some(rules) = &policy.fs {
            plan.fs_handled = Rights::known_at(abi);
            plan.fs_source = policy.fs_source;
            plan.rules = rules
                .iter()
                .map(|r| Rule {
                    rights: r.rights & plan.fs_handled,
                    ..r.clone()
                })
                .collect();
            if !plan.fs_handled.contains(Rights::TRUNCATE) {
                plan.shortfalls
                    .push(needs("truncating files is not restricted", 3, abi));
            }
            if !plan.fs_handled.contains(Rights::IOCTL_DEV) {
                plan.shortfalls
                    .push(needs("ioctl on device files is not restricted", 5, abi));
            }
            if !plan.fs_handled.contains(Rights::REFER) {
                plan.notes.push(needs(
                    "moving or linking files between directories is always denied",
                    2,
                    abi,
                ));
            }
        }
        for (asked, slot, what) in [
            (
                &policy.net.tcp_connect,
                &mut plan.net.tcp_connect,
                "TCP connect",
            ),
            (&policy.net.tcp_bind, &mut plan.net.tcp_bind, "TCP bind"),
        ] {
            if let Some(ports) = asked {
                if abi >= ABI_NET {
                    *slot = Some(ports.clone());
                } else {
                    plan.shortfalls.push(needs(
                        &format!("{what} ports are not restricted"),
                        ABI_NET,
                        abi,
                    ));
                }
            }
        }
        for (asked, slot, what) in [
            (
                policy.net.scope_abstract_unix,
                &mut plan.net.scope_abstract_unix,
                "abstract unix sockets outside the sandbox stay reachable",
            ),
            (
                policy.net.scope_signal,
                &mut plan.net.scope_signal,
                "processes outside the sandbox can still be signalled",
            ),
        ] {
            if asked {
                if abi >= ABI_SCOPE {
                    *slot = true;
                } else {
                    plan.shortfalls.push(needs(what, ABI_SCOPE, abi));
                }
            }
        }
    }

    /// Whether anything is left to enforce.
    pub fn enforces_anything(&self) -> bool {
        !self.fs_handled.is_empty() || !self.net.is_empty()
    }
}

/// The option a rule was written as, re-exported for the engine's messages.
pub use rules::option_name;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landlock::show::{isolation_line, summary};
    use crate::spec::{BindMode, FsOp, LandlockAccess, LandlockRule, PortRange};

    fn spec_with(ops: Vec<FsOp>) -> Spec {
        Spec {
            ops,
            ..Spec::default()
        }
    }

    #[test]
    fn explicit_rules_replace_derived_ones() {
        let mut s = spec_with(vec![FsOp::Bind {
            src: "/".into(),
            dest: "/".into(),
            mode: BindMode::ReadWrite,
            allow_missing: false,
        }]);
        s.landlock.derive = true;
        let p = Policy::from_spec(&s, Mode::Namespaced, (1, 1), Path::new("/"));
        assert_eq!(p.fs.as_ref().map(|r| r[0].rights), Some(Rights::ALL));
        s.landlock.rules = [
            ("/", LandlockAccess::ReadOnly),
            ("/tmp", LandlockAccess::ReadWrite),
        ]
        .map(|(path, access)| LandlockRule {
            path: path.into(),
            access,
        })
        .to_vec();
        let p = Policy::from_spec(&s, Mode::Namespaced, (1, 1), Path::new("/"));
        let rules = p.fs.expect("fs policy");
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].rights, Rights::READ_EXEC);
    }

    #[test]
    fn nothing_asked_only_the_domain_of_its_own() {
        let p = Policy::from_spec(&Spec::default(), Mode::Namespaced, (1, 1), Path::new("/"));
        assert!(p.is_empty());
        let plan = Plan::new(&p, 7);
        assert!(plan.shortfalls.is_empty());
        assert!(plan.net.scope_signal && plan.fs_handled.is_empty() && !plan.domain_only);
        assert_eq!(plan.isolation, Isolation::DomainAndSignals);
        assert_eq!(summary(&plan, 0), vec![isolation_line(&plan)]);
        // ABI 1 to 5: a ruleset needs a handled right, one that denies
        // nothing real; no signal scope, and no shortfall for it.
        for abi in 1..ABI_SCOPE {
            let plan = Plan::new(&p, abi);
            assert!(plan.shortfalls.is_empty(), "{:?}", plan.shortfalls);
            assert_eq!(plan.fs_handled, Rights::MAKE_BLOCK);
            assert!(plan.domain_only && !plan.net.scope_signal);
            assert_eq!(plan.isolation, Isolation::Domain);
        }
        let plan = Plan::new(&p, 0);
        assert!(!plan.enforces_anything() && plan.shortfalls.is_empty());
        assert_eq!(plan.isolation, Isolation::NonDumpable);
    }

    #[test]
    fn asked_rules_keep_the_signal_scope() {
        let mut s = spec_with(vec![]);
        s.landlock.net.tcp_bind = Some(vec![]);
        let p = Policy::from_spec(&s, Mode::Namespaced, (1, 1), Path::new("/"));
        let plan = Plan::new(&p, 6);
        assert!(plan.net.scope_signal && plan.fs_handled.is_empty());
        assert!(summary(&plan, 0).join("\n").contains("scoped: signals"));
        // ABI 4: the network rights make the domain; nothing else handled.
        let plan = Plan::new(&p, 4);
        assert!(!plan.domain_only && plan.fs_handled.is_empty() && !plan.net.scope_signal);
    }

    #[test]
    fn full_kernel_has_no_shortfall() {
        let mut s = spec_with(vec![FsOp::Tmpfs {
            dest: "/tmp".into(),
            perms: None,
            size: None,
        }]);
        s.landlock.derive = true;
        s.landlock.net.tcp_connect = Some(vec![PortRange {
            first: 80,
            last: 80,
        }]);
        s.landlock.net.scope_signal = true;
        let plan = Plan::new(
            &Policy::from_spec(&s, Mode::Namespaced, (1, 1), Path::new("/")),
            7,
        );
        assert!(plan.shortfalls.is_empty(), "{:?}", plan.shortfalls);
        assert_eq!(plan.fs_handled, Rights::ALL);
        assert!(plan.net.tcp_connect.is_some() && plan.net.tcp_bind.is_none());
        assert!(plan.net.scope_signal && !plan.net.scope_abstract_unix);
        let text = summary(&plan, 2).join("\n");
        assert!(
            text.contains("ABI 7")
                && text.contains("landlock: TCP connect: only ports 80 (1 allowed)"),
            "{text}"
        );
    }

    #[test]
    fn old_kernels_say_what_they_lack() {
        let mut s = spec_with(vec![FsOp::Tmpfs {
            dest: "/tmp".into(),
            perms: None,
            size: None,
        }]);
        s.landlock.derive = true;
        s.landlock.net.tcp_bind = Some(vec![]);
        s.landlock.net.scope_abstract_unix = true;
        let policy = Policy::from_spec(&s, Mode::Namespaced, (1, 1), Path::new("/"));
        let plan = Plan::new(&policy, 1);
        assert_eq!(plan.shortfalls.len(), 4, "{:?}", plan.shortfalls);
        assert_eq!(plan.notes.len(), 1);
        assert!(
            plan.rules
                .iter()
                .all(|r| Rights::known_at(1).contains(r.rights))
        );
        assert!(plan.net.tcp_bind.is_none());
        let plan = Plan::new(&policy, 4);
        assert_eq!(plan.shortfalls.len(), 2, "{:?}", plan.shortfalls);
        assert!(plan.net.tcp_bind.is_some());
        let plan = Plan::new(&policy, 0);
        assert_eq!(plan.shortfalls.len(), 1);
        assert!(!plan.enforces_anything());
    }

    #[test]
    fn fallback_maps_namespaces_to_closest_restrictions() {
        let mut s = spec_with(vec![FsOp::Bind {
            src: "/usr".into(),
            dest: "/usr".into(),
            mode: BindMode::ReadOnly,
            allow_missing: false,
        }]);
        s.namespaces.net = true;
        s.namespaces.pid = true;
        let p = Policy::from_spec(&s, Mode::Fallback, (1, 1), Path::new("/"));
        assert_eq!(p.net.tcp_connect, Some(vec![]));
        assert_eq!(p.net.tcp_bind, Some(vec![]));
        assert!(p.net.scope_abstract_unix && p.net.scope_signal);
        assert_eq!(p.fs.map(|r| r.len()), Some(1));
        assert_eq!(p.lost.len(), 2);
        // Explicit ports stay as given.
        s.landlock.net.tcp_connect = Some(vec![PortRange {
            first: 443,
            last: 443,
        }]);
        let p = Policy::from_spec(&s, Mode::Fallback, (1, 1), Path::new("/"));
        assert_eq!(
            p.net.tcp_connect,
            Some(vec![PortRange {
                first: 443,
                last: 443
            }])
        );
        // Without any filesystem option, nothing is allowed.
        let p = Policy::from_spec(&Spec::default(), Mode::Fallback, (1, 1), Path::new("/"));
        assert_eq!(p.fs, Some(vec![]));
    }

    /// Where seccomp must close the ways around landlock's TCP rules.
    #[test]
    fn tcp_is_restricted_by_ports_or_by_the_fallbacks_unshare_net() {
        let mut s = Spec::default();
        s.namespaces.net = true;
        assert!(
            !restricts_tcp(&s, Mode::Namespaced),
            "a namespace needs no rule"
        );
        assert!(restricts_tcp(&s, Mode::Fallback));
        assert!(fallback_unshares_net(&s, Mode::Fallback));
        s.namespaces.net = false;
        assert!(!restricts_tcp(&s, Mode::Fallback));
        s.landlock.net.tcp_bind = Some(vec![]);
        assert!(restricts_tcp(&s, Mode::Namespaced) && restricts_tcp(&s, Mode::Fallback));
        assert!(!fallback_unshares_net(&s, Mode::Fallback));
    }
}
