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
        // Every number up to 1023 (past the end of every table) and the
        // edges of the number space.
        let edges = [
            0x3fff_ffff,
            0x7fff_ffff,
            0x8000_0000,
            u32::MAX - 1,
            u32::MAX,
        ];
        let nrs = (0..=1023u32).chain(edges.into_iter().filter(|&nr| {
            // Numbers with the x32 bit belong to the x32 guard, below.
            !p.arch.has_x32() || nr & X32_SYSCALL_BIT == 0
        }));
        for nr in nrs {
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
        for nr in [0, 1, 59, 101, 435, 1023] {
            other.push((AUDIT_ARCH_I386, nr));
            if p.arch.has_x32() {
                other.push((arch, X32_SYSCALL_BIT | nr));
            }
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
            assert_eq!(
                got,
                expected_ret(p.other_abi),
                "{} arch {arch:#x} nr {nr:#x}",
                p.name
            );
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

    /// A seeded random policy over `calls` of the arch's calls: random
    /// default and actions, about one rule in `conditioned` with argument
    /// conditions, some calls ruled twice (the last rule wins).
    fn random_policy(arch: Arch, seed: u64, calls: usize, conditioned: u64) -> Policy {
        let mut rng = Lcg(seed);
        let actions = [
            Action::Allow,
            Action::Kill,
            Action::Errno(1),
            Action::Errno(13),
            Action::Trap,
            Action::Log,
        ];
        let pick = |rng: &mut Lcg| actions[(rng.next() >> 33) as usize % actions.len()];
        let mut p = Policy::allow_all(arch);
        p.default = pick(&mut rng);
        p.other_abi = pick(&mut rng);
        let table = arch.table();
        let ops = [
            Op::Eq,
            Op::Ne,
            Op::Lt,
            Op::Le,
            Op::Gt,
            Op::Ge,
            Op::MaskedEq(0xf0),
        ];
        for _ in 0..calls {
            let &(name, nr) = &table[(rng.next() >> 33) as usize % table.len()];
            let conds = if (rng.next() >> 33) % conditioned == 0 {
                vec![Cond {
                    arg: ((rng.next() >> 33) % 6) as u8,
                    narrow: (rng.next() >> 33) % 2 == 0,
                    op: ops[(rng.next() >> 33) as usize % ops.len()],
                    value: [0, 1, 0x30, 0x1_0000_0002][(rng.next() >> 33) as usize % 4],
                }]
            } else {
                vec![]
            };
            let action = pick(&mut rng);
            p.rules.push(Rule {
                name: name.into(),
                nr,
                conds,
                action,
                origin: "random".into(),
            });
        }
        p
    }

    #[test]
    fn random_policies_compile_to_what_the_evaluator_says() {
        for arch in Arch::ALL {
            for seed in 1..=12 {
                let p = random_policy(arch, seed, 40 + 30 * seed as usize, 1 + seed % 5);
                check_against_evaluator(&p);
                let prog = compile::compile(&p, Mode::Plain).expect("compiles");
                // The kernel's cache keeps the allowed calls whose last
                // unconditional rule no conditioned rule follows, and only
                // calls allowed whatever their arguments.
                let mut rng = Lcg(seed);
                let probes = probe_args(&p, &mut rng);
                for nr in 0..=1023u32 {
                    let mine: Vec<&Rule> = p.rules.iter().filter(|r| r.nr == nr).collect();
                    let from = mine.iter().rposition(|r| r.conds.is_empty()).unwrap_or(0);
                    let live = mine[from..].iter().any(|r| !r.conds.is_empty());
                    let always = probes
                        .iter()
                        .all(|a| p.decide(arch.audit(), nr, a).0 == Action::Allow);
                    let cached = const_allow(&prog, arch.audit(), nr);
                    let name = arch.name();
                    assert!(
                        !cached || always,
                        "seed {seed} {name} nr {nr}: cached, not allowed"
                    );
                    if always && !live {
                        assert!(cached, "seed {seed} {name} nr {nr}: allowed, not cached");
                    }
                }
            }
        }
    }

    /// Every other call allowed, the rest denied, over the whole table: the
    /// tree has so many ranges that its halves are longer than a
    /// conditional jump reaches, so it must jump over them through `ja`.
    #[test]
    fn large_trees_jump_through_trampolines() {
        for arch in Arch::ALL {
            let mut p = Policy::allow_all(arch);
            p.default = Action::Errno(1);
            let mut nrs: Vec<u32> = arch.table().iter().map(|(_, nr)| *nr).collect();
            nrs.sort_unstable();
            for (i, nr) in nrs.iter().enumerate() {
                let action = [Action::Allow, Action::Kill, Action::Trap][i % 3];
                p.rules.push(Rule {
                    name: "x".into(),
                    nr: *nr,
                    conds: vec![],
                    action,
                    origin: "t".into(),
                });
            }
            p.push("ioctl", vec![], Action::Allow, "t").expect("ioctl");
            p.push(
                "ioctl",
                vec![Cond {
                    arg: 1,
                    narrow: true,
                    op: Op::Eq,
                    value: 0x5412,
                }],
                Action::Kill,
                "t",
            )
            .expect("ioctl");
            check_against_evaluator(&p);
            let prog = compile::compile(&p, Mode::Plain).expect("compiles");
            let trampolines = prog
                .windows(2)
                .filter(|w| {
                    w[0].code == BPF_JGE_K
                        && (w[0].jt, w[0].jf) == (0, 1)
                        && w[1].code == BPF_JA
                        && w[1].k > 255
                })
                .count();
            assert!(trampolines > 0, "{}: no trampoline", arch.name());
            for nr in 0..=1023u32 {
                let allowed = p.decide(arch.audit(), nr, &[0; 6]).0 == Action::Allow;
                let ioctl = Some(nr) == arch.nr("ioctl");
                assert_eq!(const_allow(&prog, arch.audit(), nr), allowed && !ioctl);
            }
        }
    }

    /// The tree's path is logarithmic: no call number walks more than a
    /// few dozen instructions before its answer in the strict preset.
    #[test]
    fn constant_calls_walk_a_short_path() {
        for arch in Arch::ALL {
            let p = presets::STRICT.policy(arch).expect("strict");
            let prog = compile::compile(&p, Mode::Plain).expect("compiles");
            for nr in 0..=1023u32 {
                if p.rules.iter().any(|r| r.nr == nr && !r.conds.is_empty()) {
                    continue;
                }
                let steps = path_len(&prog, arch.audit(), nr);
                assert!(steps <= 24, "{} nr {nr}: {steps} instructions", arch.name());
            }
        }
    }

    /// Instructions executed for `nr` with zero arguments.
    fn path_len(prog: &[sock_filter], arch: u32, nr: u32) -> usize {
        let mut steps = 0;
        let mut pc = 0usize;
        let mut a = 0u32;
        while let Some(insn) = prog.get(pc) {
            steps += 1;
            pc += 1;
            let skip = |c: bool| usize::from(if c { insn.jt } else { insn.jf });
            match insn.code {
                BPF_LD_W_ABS => {
                    a = if insn.k == 0 {
                        nr
                    } else if insn.k == 4 {
                        arch
                    } else {
                        0
                    }
                }
                BPF_JA => pc += insn.k as usize,
                BPF_JEQ_K => pc += skip(a == insn.k),
                BPF_JGE_K => pc += skip(a >= insn.k),
                BPF_JGT_K => pc += skip(a > insn.k),
                BPF_JSET_K => pc += skip(a & insn.k != 0),
                BPF_AND_K => a &= insn.k,
                _ => return steps,
            }
        }
        steps
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
