//! The policy model: rules (a system call, optional argument conditions, an
//! action), a default action and the action for other ABIs. Pure data with
//! a reference evaluator (`decide`), which the supervisor uses to explain a
//! denial and the tests use as the oracle for the compiled BPF.

use std::borrow::Cow;
use std::fmt;

use super::consts;
use super::syscalls::{Arch, X32_SYSCALL_BIT};

/// What happens to a system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Allow,
    /// Allowed, and logged by the kernel's audit log.
    Log,
    /// Fails with this errno without running.
    Errno(i32),
    /// SIGSYS to the calling thread (a handler may catch it).
    Trap,
    /// The whole process is killed by SIGSYS.
    Kill,
}

impl Action {
    pub fn is_denial(self) -> bool {
        !matches!(self, Action::Allow | Action::Log)
    }

    /// `allow`, `log`, `trap`, `kill`, `errno NAME` or `errno N`.
    pub fn parse(text: &str) -> Result<Action, String> {
        let mut words = text.split_whitespace();
        let action = match (words.next(), words.next(), words.next()) {
            (Some("allow"), None, _) => Action::Allow,
            (Some("log"), None, _) => Action::Log,
            (Some("trap"), None, _) => Action::Trap,
            (Some("kill"), None, _) => Action::Kill,
            (Some("errno"), Some(e), None) => {
                Action::Errno(consts::errno(e).ok_or_else(|| format!("unknown errno name {e:?}"))?)
            }
            (Some("errno"), None, _) => {
                return Err("\"errno\" needs a name, e.g. \"errno EPERM\"".into());
            }
            _ => {
                return Err(format!(
                    "unknown action {text:?} (expected allow, log, trap, kill or \"errno NAME\")"
                ));
            }
        };
        Ok(action)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Allow => f.write_str("allow"),
            Action::Log => f.write_str("log"),
            Action::Trap => f.write_str("trap"),
            Action::Kill => f.write_str("kill"),
            Action::Errno(e) => write!(f, "errno {}", consts::errno_name(*e)),
        }
    }
}

/// How an argument is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `(arg & mask) == value`.
    MaskedEq(u64),
}

/// One argument test. `narrow` arguments are 32-bit in the kernel and are
/// compared on their low half only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cond {
    pub arg: u8,
    pub narrow: bool,
    pub op: Op,
    pub value: u64,
}

impl Cond {
    pub fn holds(&self, args: &[u64; 6]) -> bool {
        let mut a = args[usize::from(self.arg).min(5)];
        let mut v = self.value;
        if self.narrow {
            a &= 0xffff_ffff;
            v &= 0xffff_ffff;
        }
        match self.op {
            Op::Eq => a == v,
            Op::Ne => a != v,
            Op::Lt => a < v,
            Op::Le => a <= v,
            Op::Gt => a > v,
            Op::Ge => a >= v,
            Op::MaskedEq(m) => {
                let m = if self.narrow { m & 0xffff_ffff } else { m };
                a & m == v & m
            }
        }
    }
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            Op::Eq => "==".to_string(),
            Op::Ne => "!=".to_string(),
            Op::Lt => "<".to_string(),
            Op::Le => "<=".to_string(),
            Op::Gt => ">".to_string(),
            Op::Ge => ">=".to_string(),
            Op::MaskedEq(m) if m == self.value => return write!(f, "arg{} has {:#x}", self.arg, m),
            Op::MaskedEq(m) => format!("& {m:#x} =="),
        };
        write!(f, "arg{} {op} {:#x}", self.arg, self.value)
    }
}

/// One rule: when `syscall` is called and every condition holds, `action`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub name: Cow<'static, str>,
    pub nr: u32,
    /// ANDed; empty means always.
    pub conds: Vec<Cond>,
    pub action: Action,
    /// Where the rule comes from: `preset default`, `file.toml:12`, `--seccomp-deny ptrace`.
    pub origin: Cow<'static, str>,
}

impl Rule {
    /// The one place a syscall word (a name or a number) becomes a rule:
    /// presets, policy files and `--seccomp-allow`/`--seccomp-deny` all
    /// come here. `Ok(None)`: a name this ABI lacks (e.g. `open` on
    /// aarch64), which has nothing to filter.
    pub fn resolve(
        arch: Arch,
        syscall: &str,
        conds: Vec<Cond>,
        action: Action,
        origin: impl Into<Cow<'static, str>>,
    ) -> Result<Option<Rule>, String> {
        Ok(resolve_syscall(arch, syscall)?.map(|(name, nr)| Rule {
            name,
            nr,
            conds,
            action,
            origin: origin.into(),
        }))
    }

    pub fn matches(&self, nr: u32, args: &[u64; 6]) -> bool {
        self.nr == nr && self.conds.iter().all(|c| c.holds(args))
    }
}

/// At most this many rules in a policy (after includes, lists of calls and
/// `in [...]` alternatives are expanded): far more than the kernel's 4096
/// BPF instructions per program can hold, so only a runaway policy meets
/// it, and it is refused before work in proportion to its size is done.
pub const MAX_RULES: usize = 4096;

pub fn too_many_rules() -> String {
    format!("too many rules: a seccomp policy holds at most {MAX_RULES}")
}

/// A complete policy for one ABI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `default`, `strict`, a file name, or `custom`.
    pub name: String,
    pub arch: Arch,
    pub default: Action,
    pub default_origin: Cow<'static, str>,
    /// For calls through another ABI (i386, x32): a rule written for a
    /// 64-bit number must never be bypassed through a different numbering.
    pub other_abi: Action,
    /// In order: for a call, the last rule that matches decides.
    pub rules: Vec<Rule>,
}

/// What decided a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    Rule(usize),
    Default,
    OtherAbi,
}

impl Policy {
    /// An empty policy that allows everything: the base that
    /// `--seccomp-allow`/`--seccomp-deny` apply to when no policy is named.
    pub fn allow_all(arch: Arch) -> Policy {
        Policy {
            name: "custom".into(),
            arch,
            default: Action::Allow,
            default_origin: "no --seccomp-policy: everything not denied is allowed".into(),
            other_abi: Action::Kill,
            rules: Vec::new(),
        }
    }

    /// Evaluate a call as the compiled filter does.
    pub fn decide(&self, audit_arch: u32, nr: u32, args: &[u64; 6]) -> (Action, By) {
        if audit_arch != self.arch.audit() || (self.arch.has_x32() && nr >= X32_SYSCALL_BIT) {
            return (self.other_abi, By::OtherAbi);
        }
        match self.rules.iter().rposition(|r| r.matches(nr, args)) {
            Some(i) => (self.rules[i].action, By::Rule(i)),
            None => (self.default, By::Default),
        }
    }

    /// Where a decision came from, for reports.
    pub fn describe(&self, by: By) -> String {
        match by {
            By::Rule(i) => {
                let r = &self.rules[i];
                let mut s = format!("{}: {}", r.origin, r.name);
                if !r.conds.is_empty() {
                    let c: Vec<String> = r.conds.iter().map(|c| c.to_string()).collect();
                    s.push_str(&format!(" when {}", c.join(" && ")));
                }
                s.push_str(&format!(" -> {}", r.action));
                s
            }
            By::Default => format!(
                "default action of policy {} ({}) -> {}",
                self.name, self.default_origin, self.default
            ),
            By::OtherAbi => format!(
                "policy {}: system calls of other ABIs -> {}",
                self.name, self.other_abi
            ),
        }
    }

    /// Add a rule for `syscall` (a name or a number), see `Rule::resolve`.
    pub fn push(
        &mut self,
        syscall: &str,
        conds: Vec<Cond>,
        action: Action,
        origin: impl Into<Cow<'static, str>>,
    ) -> Result<(), String> {
        self.rules
            .extend(Rule::resolve(self.arch, syscall, conds, action, origin)?);
        Ok(())
    }

    /// Names of the calls with a kill rule, for the SIGSYS note.
    pub fn kill_rules(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .rules
            .iter()
            .filter(|r| r.action == Action::Kill)
            .map(|r| r.name.to_string())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// A syscall word: a name on any supported ABI, or a number. `Ok(None)`:
/// a real name this ABI does not have.
fn resolve_syscall(arch: Arch, word: &str) -> Result<Option<(Cow<'static, str>, u32)>, String> {
    if let Ok(nr) = word.parse::<u32>() {
        if nr >= X32_SYSCALL_BIT {
            return Err(format!("system call number {nr} is out of range"));
        }
        return Ok(Some((
            arch.name_of(nr)
                .map_or_else(|| Cow::Owned(format!("syscall_{nr}")), Cow::Borrowed),
            nr,
        )));
    }
    let t = arch.table();
    if let Ok(i) = t.binary_search_by(|(n, _)| (*n).cmp(word)) {
        return Ok(Some((Cow::Borrowed(t[i].0), t[i].1)));
    }
    if super::syscalls::known_anywhere(word) {
        return Ok(None);
    }
    Err(format!("unknown system call {word:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: Arch = Arch::X86_64;

    fn rule(name: &'static str, conds: Vec<Cond>, action: Action) -> Rule {
        Rule {
            name: name.into(),
            nr: X.nr(name).expect("known"),
            conds,
            action,
            origin: "test".into(),
        }
    }

    #[test]
    fn actions_parse_and_print() {
        assert_eq!(Action::parse("allow"), Ok(Action::Allow));
        assert_eq!(Action::parse("errno EPERM"), Ok(Action::Errno(1)));
        assert_eq!(
            Action::parse(" errno  ENOSYS "),
            Ok(Action::Errno(libc::ENOSYS))
        );
        assert!(Action::parse("errno EPREM").unwrap_err().contains("EPREM"));
        assert!(Action::parse("errno").is_err());
        assert!(Action::parse("deny").is_err());
        assert_eq!(Action::Errno(libc::ENOSYS).to_string(), "errno ENOSYS");
    }

    #[test]
    fn narrow_args_ignore_upper_half() {
        let c = Cond {
            arg: 1,
            narrow: true,
            op: Op::Eq,
            value: 0x5412,
        };
        assert!(c.holds(&[0, 0xdead_0000_5412, 0, 0, 0, 0]));
        let wide = Cond { narrow: false, ..c };
        assert!(!wide.holds(&[0, 0xdead_0000_5412, 0, 0, 0, 0]));
        let has = Cond {
            arg: 0,
            narrow: false,
            op: Op::MaskedEq(0x1000_0000),
            value: 0x1000_0000,
        };
        assert!(has.holds(&[0x1001_0011, 0, 0, 0, 0, 0]));
        assert!(!has.holds(&[0x11, 0, 0, 0, 0, 0]));
    }

    #[test]
    fn last_matching_rule_wins() {
        let mut p = Policy::allow_all(X);
        p.rules.push(rule("ioctl", vec![], Action::Errno(1)));
        p.rules.push(rule(
            "ioctl",
            vec![Cond {
                arg: 1,
                narrow: true,
                op: Op::Eq,
                value: 5,
            }],
            Action::Allow,
        ));
        let nr = X.nr("ioctl").expect("ioctl");
        assert_eq!(
            p.decide(X.audit(), nr, &[0, 5, 0, 0, 0, 0]).0,
            Action::Allow
        );
        assert_eq!(
            p.decide(X.audit(), nr, &[0, 6, 0, 0, 0, 0]),
            (Action::Errno(1), By::Rule(0))
        );
        assert_eq!(
            p.decide(X.audit(), 0, &[0; 6]),
            (Action::Allow, By::Default)
        );
        assert_eq!(
            p.decide(0x4000_0003, 0, &[0; 6]),
            (Action::Kill, By::OtherAbi)
        );
        assert_eq!(
            p.decide(X.audit(), X32_SYSCALL_BIT | nr, &[0; 6]),
            (Action::Kill, By::OtherAbi)
        );
    }

    #[test]
    fn simple_rules_resolve_names_and_numbers() {
        let mut p = Policy::allow_all(X);
        p.push("ptrace", vec![], Action::Errno(1), "--seccomp-deny ptrace")
            .expect("ptrace");
        p.push("101", vec![], Action::Allow, "--seccomp-allow 101")
            .expect("101");
        assert_eq!(p.rules[1].name, "ptrace");
        assert!(
            p.push("ptrcae", vec![], Action::Allow, "")
                .unwrap_err()
                .contains("ptrcae")
        );
        let mut a = Policy::allow_all(Arch::Aarch64);
        a.push("open", vec![], Action::Errno(1), "")
            .expect("open is skipped");
        assert!(a.rules.is_empty());
        assert!(
            p.describe(By::Rule(0))
                .contains("--seccomp-deny ptrace: ptrace -> errno EPERM")
        );
    }
}
