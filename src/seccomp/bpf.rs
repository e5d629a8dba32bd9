//! A classic-BPF interpreter for seccomp programs and a copy of the
//! kernel's action-cache emulator (`seccomp_is_const_allow`). Tests use them
//! to check compiled programs against the policy evaluator, and to prove
//! that calls meant for the action cache never reach an argument load.

use seccompiler::sock_filter;

use super::compile::{
    BPF_AND_K, BPF_JA, BPF_JEQ_K, BPF_JGE_K, BPF_JGT_K, BPF_JSET_K, BPF_LD_W_ABS, BPF_RET_K,
    RET_ALLOW,
};

/// `struct seccomp_data` as the filter sees it.
#[derive(Clone, Copy, Debug)]
pub struct Data {
    pub nr: u32,
    pub arch: u32,
    pub ip: u64,
    pub args: [u64; 6],
}

impl Data {
    fn word(&self, off: u32) -> Option<u32> {
        let half = |v: u64, hi: bool| if hi { (v >> 32) as u32 } else { v as u32 };
        match off {
            0 => Some(self.nr),
            4 => Some(self.arch),
            8 | 12 => Some(half(self.ip, off == 12)),
            16..=60 if off % 4 == 0 => {
                let i = ((off - 16) / 8) as usize;
                Some(half(self.args[i], (off - 16) % 8 == 4))
            }
            _ => None,
        }
    }
}

/// Run a program; `Err` describes an instruction the checker would reject.
pub fn run(prog: &[sock_filter], data: &Data) -> Result<u32, String> {
    let mut a: u32 = 0;
    let mut pc = 0usize;
    while let Some(insn) = prog.get(pc) {
        let k = insn.k;
        let skip = |cond: bool| usize::from(if cond { insn.jt } else { insn.jf });
        pc += 1;
        match insn.code {
            BPF_LD_W_ABS => {
                a = data
                    .word(k)
                    .ok_or_else(|| format!("load from offset {k}"))?
            }
            BPF_AND_K => a &= k,
            BPF_JA => pc += k as usize,
            BPF_JEQ_K => pc += skip(a == k),
            BPF_JGT_K => pc += skip(a > k),
            BPF_JGE_K => pc += skip(a >= k),
            BPF_JSET_K => pc += skip(a & k != 0),
            BPF_RET_K => return Ok(k),
            code => return Err(format!("unsupported instruction {code:#x} at {}", pc - 1)),
        }
    }
    Err("ran off the end of the program".into())
}

/// The kernel's emulation (kernel/seccomp.c): `true` when the program
/// allows `nr` on `arch` whatever the arguments, i.e. the call is answered
/// from the action cache without running the filter.
pub fn const_allow(prog: &[sock_filter], arch: u32, nr: u32) -> bool {
    let mut reg: u32 = 0;
    let mut pc = 0usize;
    while let Some(insn) = prog.get(pc) {
        let k = insn.k;
        match insn.code {
            BPF_LD_W_ABS => match k {
                0 => reg = nr,
                4 => reg = arch,
                _ => return false,
            },
            BPF_RET_K => return k == RET_ALLOW,
            BPF_JA => pc += k as usize,
            BPF_JEQ_K | BPF_JGE_K | BPF_JGT_K | BPF_JSET_K => {
                let res = match insn.code {
                    BPF_JEQ_K => reg == k,
                    BPF_JGE_K => reg >= k,
                    BPF_JGT_K => reg > k,
                    _ => reg & k != 0,
                };
                pc += usize::from(if res { insn.jt } else { insn.jf });
            }
            BPF_AND_K => reg &= k,
            _ => return false,
        }
        pc += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seccomp::compile::{
        self, Mode, RET_ERRNO, RET_KILL_PROCESS, RET_LOG, RET_TRAP, RET_USER_NOTIF,
    };
    use crate::seccomp::policy::{Action, Cond, Op, Policy, Rule};
    use crate::seccomp::presets;
    use crate::seccomp::syscalls::{AUDIT_ARCH_I386, Arch, X32_SYSCALL_BIT};

    fn expected_ret(a: Action) -> u32 {
        match a {
            Action::Allow => RET_ALLOW,
            Action::Log => RET_LOG,
            Action::Errno(e) => RET_ERRNO | e as u32,
            Action::Trap => RET_TRAP,
            Action::Kill => RET_KILL_PROCESS,
        }
    }

    /// A small deterministic generator (no rand dependency).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0
        }
    }

    /// Arguments that hit the interesting values of a policy's conditions.
    fn probe_args(p: &Policy, rng: &mut Lcg) -> Vec<[u64; 6]> {
        let mut values: Vec<u64> = vec![0, 1, u64::MAX, 0xffff_ffff, 0x1_0000_0000];
        for r in &p.rules {
            for c in &r.conds {
                values.extend([
                    c.value,
                    c.value.wrapping_add(1),
                    c.value.wrapping_sub(1),
                    c.value | 0xdead_0000_0000_0000,
                ]);
                if let Op::MaskedEq(m) = c.op {
                    values.extend([m, m | 1, !m, 0x11]);
                }
            }
        }
        let mut out = Vec::new();
        for _ in 0..24 {
            let mut a = [0u64; 6];
            for slot in &mut a {
                *slot = values[(rng.next() % values.len() as u64) as usize];
            }
            out.push(a);
        }
        out
    }

    fn check_against_evaluator(p: &Policy) {
        let prog = compile::compile(p, Mode::Plain).expect("compiles");
        let mut rng = Lcg(7);
        let arch = p.arch.audit();
        let max = p.arch.max_nr() + 3;
        for nr in 0..max {
            for args in probe_args(p, &mut rng) {
                let data = Data {
                    nr,
                    arch,
                    ip: 0,
                    args,
                };
                let got = run(&prog, &data).expect("runs");
                let (want, _) = p.decide(arch, nr, &args);
                assert_eq!(got, expected_ret(want), "{} nr {nr} args {args:x?}", p.name);
            }
        }
        let mut other = vec![(AUDIT_ARCH_I386, 20), (0, 0)];
        if p.arch.has_x32() {
            other.push((arch, X32_SYSCALL_BIT | 39));
        }
        for (arch, nr) in other {
            let got = run(
                &prog,
                &Data {
                    nr,
                    arch,
                    ip: 0,
                    args: [0; 6],
                },
            )
            .expect("runs");
            assert_eq!(got, expected_ret(p.other_abi));
        }
    }

    #[test]
    fn presets_compile_to_what_the_evaluator_says() {
        for preset in presets::PRESETS {
            for arch in Arch::ALL {
                check_against_evaluator(&preset.policy(arch).expect("preset"));
            }
        }
    }

    #[test]
    fn mixed_actions_and_overrides() {
        let x = Arch::X86_64;
        let mut p = presets::DEFAULT.policy(x).expect("default");
        let nr = |n: &str| x.nr(n).expect("known");
        let c = |arg, op, value| Cond {
            arg,
            narrow: false,
            op,
            value,
        };
        for (name, conds, action) in [
            ("ioctl", vec![], Action::Errno(libc::ENOTTY)),
            ("ioctl", vec![c(1, Op::Eq, 0x5401)], Action::Allow),
            ("ioctl", vec![c(1, Op::Eq, 0x5402)], Action::Kill),
            (
                "write",
                vec![c(0, Op::Gt, 2), c(2, Op::Le, 0x1_0000_0000)],
                Action::Log,
            ),
            ("write", vec![c(0, Op::Lt, 7)], Action::Trap),
            ("ptrace", vec![], Action::Allow),
            (
                "kill",
                vec![c(1, Op::MaskedEq(0xf0), 0x30)],
                Action::Errno(libc::EACCES),
            ),
            ("kill", vec![c(1, Op::Ge, 64)], Action::Errno(libc::EINVAL)),
            ("getppid", vec![], Action::Allow),
        ] {
            p.rules.push(Rule {
                name: name.into(),
                nr: nr(name),
                conds,
                action,
                origin: "test".into(),
            });
        }
        check_against_evaluator(&p);
        let mut strict = presets::STRICT.policy(x).expect("strict");
        strict.rules.push(Rule {
            name: "ptrace".into(),
            nr: nr("ptrace"),
            conds: vec![],
            action: Action::Kill,
            origin: "t".into(),
        });
        strict.rules.push(Rule {
            name: "read".into(),
            nr: nr("read"),
            conds: vec![],
            action: Action::Errno(5),
            origin: "t".into(),
        });
        check_against_evaluator(&strict);
        check_against_evaluator(&Policy::allow_all(x));
    }

    /// Allowed calls without argument rules are constant for the kernel's
    /// action cache; calls with argument rules are not (and must not be).
    #[test]
    fn unconditional_allows_stay_on_the_action_cache() {
        for preset in presets::PRESETS {
            for arch in Arch::ALL {
                let p = preset.policy(arch).expect("preset");
                let prog = compile::compile(&p, Mode::Plain).expect("compiles");
                for (name, nr) in arch.table() {
                    let conditional = p.rules.iter().any(|r| r.nr == *nr && !r.conds.is_empty());
                    let allowed = p.decide(arch.audit(), *nr, &[0; 6]).0 == Action::Allow;
                    let cached = const_allow(&prog, arch.audit(), *nr);
                    assert_eq!(
                        cached,
                        allowed && !conditional,
                        "{} {}: {name}",
                        preset.name,
                        arch.name()
                    );
                }
                for hot in [
                    "read",
                    "write",
                    "getpid",
                    "getppid",
                    "newfstatat",
                    "fstat",
                    "futex",
                    "mmap",
                    "close",
                ] {
                    if let Some(nr) = arch.nr(hot) {
                        assert!(
                            const_allow(&prog, arch.audit(), nr),
                            "{} {}: {hot} not cached",
                            preset.name,
                            arch.name()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn notify_mode_routes_denials_to_the_supervisor() {
        let x = Arch::X86_64;
        let p = presets::DEFAULT.policy(x).expect("default");
        let prog = compile::compile(&p, Mode::Notify).expect("compiles");
        let data = |n: &str, args: [u64; 6]| Data {
            nr: x.nr(n).expect("known"),
            arch: x.audit(),
            ip: 0,
            args,
        };
        assert_eq!(run(&prog, &data("keyctl", [0; 6])), Ok(RET_USER_NOTIF));
        assert_eq!(run(&prog, &data("getppid", [0; 6])), Ok(RET_ALLOW));
        assert_eq!(
            run(&prog, &data("ioctl", [0, libc::TIOCSTI, 0, 0, 0, 0])),
            Ok(RET_USER_NOTIF)
        );
        assert_eq!(
            run(
                &prog,
                &Data {
                    nr: 20,
                    arch: AUDIT_ARCH_I386,
                    ip: 0,
                    args: [0; 6]
                }
            ),
            Ok(RET_USER_NOTIF)
        );
        assert!(compile::uses_notify(&prog));
        assert!(!compile::uses_notify(
            &compile::compile(&p, Mode::Plain).expect("plain")
        ));
    }

    #[test]
    fn policy_files_compile_to_what_the_evaluator_says() {
        let text = r#"
include = ["strict"]
[[rule]]
syscall = "mprotect"
when = "prot has PROT_EXEC && arg0 < 0x10000"
action = "kill"
[[rule]]
syscall = "kill"
when = "sig in [9, 15, 0]"
action = "errno EACCES"
[[rule]]
syscall = ["ioctl"]
when = "request & 0xff00 == 0x5400"
action = "log"
[[rule]]
syscall = "ioctl"
when = ["fd > 2", "request != TIOCSTI"]
action = "trap"
"#;
        for arch in Arch::ALL {
            let p = crate::seccomp::file::parse("t.toml", text, arch).expect("parses");
            check_against_evaluator(&p);
        }
    }

    /// sandwrap's own guards, alone and on top of a preset, with junk in the
    /// upper half of socket's int arguments among the probes.
    #[test]
    fn guards_compile_to_what_the_evaluator_says() {
        use crate::seccomp::guard;
        for arch in Arch::ALL {
            let mut alone = Policy::allow_all(arch);
            guard::add_network_rules(&mut alone).expect("network");
            guard::add_unix_socket_rules(&mut alone).expect("unix");
            check_against_evaluator(&alone);
            let mut strict = presets::STRICT.policy(arch).expect("strict");
            guard::add_network_rules(&mut strict).expect("network");
            check_against_evaluator(&strict);
            let prog = compile::compile(&alone, Mode::Plain).expect("compiles");
            let socket = arch.nr("socket").expect("socket");
            let junk = 0xdead_beef_0000_0000;
            for domain in [libc::AF_INET as u64, libc::AF_INET6 as u64] {
                let data = Data {
                    nr: socket,
                    arch: arch.audit(),
                    ip: 0,
                    args: [domain | junk, 1, guard::IPPROTO_MPTCP | junk, 0, 0, 0],
                };
                let want = RET_ERRNO | libc::EPROTONOSUPPORT as u32;
                assert_eq!(run(&prog, &data), Ok(want));
            }
        }
    }

    #[test]
    fn one_rule_filter_is_small() {
        let x = Arch::X86_64;
        let mut p = Policy::allow_all(x);
        p.push("ptrace", vec![], Action::Errno(1), "t")
            .expect("ptrace");
        let prog = compile::compile(&p, Mode::Plain).expect("compiles");
        assert!(prog.len() < 16, "{} instructions", prog.len());
        let strict = compile::compile(&presets::STRICT.policy(x).expect("strict"), Mode::Plain)
            .expect("strict");
        assert!(strict.len() < compile::BPF_MAXINSNS);
    }
}
