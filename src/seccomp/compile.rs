//! Policy → one classic BPF program.
//!
//! Calls whose answer does not depend on their arguments (almost all of
//! them) are emitted directly, as a balanced decision tree on the call
//! number (`tree`): the kernel runs the filter for every call number when
//! it installs it (to fill its action cache), so the walk must be short.
//! Calls with argument conditions are compiled by
//! seccompiler, which handles one match action and one mismatch action per
//! filter; since a policy has many actions and "last matching rule wins"
//! semantics, they become a chain of seccompiler segments: segment k holds,
//! for every such call, the k-th group of its rules (in evaluation order)
//! that share an action. A segment's mismatch is a sentinel patched into a
//! jump to the next segment; the last one falls through to the default.
//!
//! In front sits sandwrap's own prologue: the arch check (other ABIs get
//! `other_abi`) and, on x86_64, the x32 guard (numbers with bit 30 set), so
//! no 32-bit or x32 numbering can reach the 64-bit rules.
//!
//! Calls without argument conditions only meet loads of `nr`/`arch`,
//! jumps and constant returns on their path: the kernel's action cache then
//! decides them once at install time and never runs the filter for them.

use std::collections::BTreeMap;

use seccompiler::{
    SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
    TargetArch, sock_filter,
};

use super::policy::{Action, Cond, Op, Policy};
use super::syscalls::{Arch, X32_SYSCALL_BIT};

pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
pub const RET_TRAP: u32 = 0x0003_0000;
pub const RET_ERRNO: u32 = 0x0005_0000;
pub const RET_USER_NOTIF: u32 = 0x7fc0_0000;
pub const RET_TRACE: u32 = 0x7ff0_0000;
pub const RET_LOG: u32 = 0x7ffc_0000;
pub const RET_ALLOW: u32 = 0x7fff_0000;

pub const BPF_LD_W_ABS: u16 = 0x20;
pub const BPF_JA: u16 = 0x05;
pub const BPF_JEQ_K: u16 = 0x15;
pub const BPF_JGT_K: u16 = 0x25;
pub const BPF_JGE_K: u16 = 0x35;
pub const BPF_JSET_K: u16 = 0x45;
pub const BPF_AND_K: u16 = 0x54;
pub const BPF_RET_K: u16 = 0x06;
/// The kernel's limit on one program.
pub const BPF_MAXINSNS: usize = 4096;

/// Trace data values marking patch points; users cannot ask for trace.
const NEXT_MARK: u32 = 0xffff;
const NOTIFY_MARK: u32 = 0xfffe;

/// How denials are delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The kernel applies every action itself.
    Plain,
    /// Errno, kill and log go to the supervisor as user notifications, which
    /// answers them (and prints a report line).
    Notify,
}

/// What the compiled program returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Ret {
    Act(Action),
    Notify,
}

fn effective(a: Action, mode: Mode) -> Ret {
    match (a, mode) {
        (Action::Errno(_) | Action::Kill | Action::Log, Mode::Notify) => Ret::Notify,
        _ => Ret::Act(a),
    }
}

fn ret_value(r: Ret) -> u32 {
    match r {
        Ret::Notify => RET_USER_NOTIF,
        Ret::Act(Action::Allow) => RET_ALLOW,
        Ret::Act(Action::Log) => RET_LOG,
        Ret::Act(Action::Errno(e)) => RET_ERRNO | (e as u32 & 0xffff),
        Ret::Act(Action::Trap) => RET_TRAP,
        Ret::Act(Action::Kill) => RET_KILL_PROCESS,
    }
}

fn seccompiler_action(r: Ret) -> SeccompAction {
    match r {
        Ret::Notify => SeccompAction::Trace(NOTIFY_MARK),
        Ret::Act(Action::Allow) => SeccompAction::Allow,
        Ret::Act(Action::Log) => SeccompAction::Log,
        Ret::Act(Action::Errno(e)) => SeccompAction::Errno(e as u32),
        Ret::Act(Action::Trap) => SeccompAction::Trap,
        Ret::Act(Action::Kill) => SeccompAction::KillProcess,
    }
}

fn target(arch: Arch) -> TargetArch {
    match arch {
        Arch::X86_64 => TargetArch::x86_64,
        Arch::Aarch64 => TargetArch::aarch64,
    }
}

fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// One group of a call's rules that share an action: any of `alts` (each a
/// list of ANDed conditions; an empty list always matches).
struct Run<'a> {
    ret: Ret,
    alts: Vec<&'a [Cond]>,
}

/// The compilation plan: calls whose answer does not depend on their
/// arguments (most of them), and, for the others, their runs in evaluation
/// order (last rule first), shadowed and redundant rules removed.
struct Plan<'a> {
    constant: Vec<(Ret, u32)>,
    layered: Vec<(u32, Vec<Run<'a>>)>,
}

fn plan(policy: &Policy, mode: Mode) -> Plan<'_> {
    // One sort instead of a map of vectors: this runs at every launch.
    let mut order: Vec<(u32, u32)> = policy
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.nr, i as u32))
        .collect();
    order.sort_unstable();
    let default = effective(policy.default, mode);
    let mut plan = Plan {
        constant: Vec::with_capacity(order.len()),
        layered: Vec::new(),
    };
    for group in order.chunk_by(|a, b| a.0 == b.0) {
        let nr = group[0].0;
        let rule = |&(_, i): &(u32, u32)| &policy.rules[i as usize];
        // An unconditional rule shadows every rule before it.
        let start = group.iter().rposition(|g| rule(g).conds.is_empty());
        if start == Some(group.len() - 1) {
            let ret = effective(rule(&group[group.len() - 1]).action, mode);
            if ret != default {
                plan.constant.push((ret, nr));
            }
            continue;
        }
        let live = &group[start.unwrap_or(0)..];
        let mut runs: Vec<Run<'_>> = Vec::new();
        for g in live.iter().rev() {
            let r = rule(g);
            let ret = effective(r.action, mode);
            match runs.last_mut() {
                Some(run) if run.ret == ret => run.alts.push(&r.conds),
                _ => runs.push(Run {
                    ret,
                    alts: vec![&r.conds],
                }),
            }
        }
        // What the call gets when no run matches, then drop trailing runs
        // that give the same answer.
        let always = runs
            .last()
            .is_some_and(|run| run.alts.iter().any(|c| c.is_empty()));
        let fallback = if always {
            runs.last().map_or(default, |r| r.ret)
        } else {
            default
        };
        if always {
            runs.pop();
        }
        while runs.last().is_some_and(|r| r.ret == fallback) {
            runs.pop();
        }
        if runs.is_empty() {
            if fallback != default {
                plan.constant.push((fallback, nr));
            }
            continue;
        }
        if fallback != default {
            runs.push(Run {
                ret: fallback,
                alts: vec![&[]],
            });
        }
        plan.layered.push((nr, runs));
    }
    plan
}

fn seccompiler_cond(c: &Cond) -> Result<SeccompCondition, String> {
    let (len, value, op) = if c.narrow {
        let op = match c.op {
            Op::MaskedEq(m) => SeccompCmpOp::MaskedEq(m & 0xffff_ffff),
            other => plain_op(other),
        };
        (SeccompCmpArgLen::Dword, c.value & 0xffff_ffff, op)
    } else {
        (SeccompCmpArgLen::Qword, c.value, plain_op(c.op))
    };
    SeccompCondition::new(c.arg, len, op, value).map_err(|e| format!("condition {c}: {e}"))
}

fn plain_op(op: Op) -> SeccompCmpOp {
    match op {
        Op::Eq => SeccompCmpOp::Eq,
        Op::Ne => SeccompCmpOp::Ne,
        Op::Lt => SeccompCmpOp::Lt,
        Op::Le => SeccompCmpOp::Le,
        Op::Gt => SeccompCmpOp::Gt,
        Op::Ge => SeccompCmpOp::Ge,
        Op::MaskedEq(m) => SeccompCmpOp::MaskedEq(m),
    }
}

/// seccompiler's output for one segment, without its own arch check.
fn segment(
    arch: Arch,
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    ret: Ret,
) -> Result<Vec<sock_filter>, String> {
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Trace(NEXT_MARK),
        seccompiler_action(ret),
        target(arch),
    )
    .map_err(|e| format!("seccompiler: {e}"))?;
    let prog: Vec<sock_filter> = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| format!("seccompiler: {e}"))?;
    // seccompiler starts with `ld arch; jeq ARCH, 1, 0; ret KILL`: our prologue
    // has checked the arch already.
    let expected = [
        stmt(BPF_LD_W_ABS, 4),
        jump(BPF_JEQ_K, arch.audit(), 1, 0),
        stmt(BPF_RET_K, RET_KILL_PROCESS),
    ];
    if prog.len() < 4 || prog[..3] != expected {
        return Err("seccompiler produced an unexpected program layout".into());
    }
    Ok(prog[3..].to_vec())
}

/// The arch check and x32 guard.
fn prologue(policy: &Policy, mode: Mode) -> Vec<sock_filter> {
    let other = ret_value(effective(policy.other_abi, mode));
    let mut p = vec![
        stmt(BPF_LD_W_ABS, 4),
        jump(BPF_JEQ_K, policy.arch.audit(), 1, 0),
        stmt(BPF_RET_K, other),
    ];
    if policy.arch.has_x32() {
        p.push(stmt(BPF_LD_W_ABS, 0));
        p.push(jump(BPF_JGE_K, X32_SYSCALL_BIT, 0, 1));
        p.push(stmt(BPF_RET_K, other));
    }
    p
}

/// Calls that get `ret` whatever their arguments: `ld nr`, one `jeq` per
/// call jumping to a shared `ret`, and a jump over it for the others. Used
/// inside the segments, for calls whose k-th run has no condition.
fn constant_block(nrs: &[u32], ret: u32) -> Vec<sock_filter> {
    let mut out = Vec::with_capacity(nrs.len() + 2 * (nrs.len() / 250 + 1) + 1);
    for chunk in nrs.chunks(250) {
        out.push(stmt(BPF_LD_W_ABS, 0));
        let n = chunk.len();
        for (i, &nr) in chunk.iter().enumerate() {
            out.push(jump(BPF_JEQ_K, nr, (n - i) as u8, 0));
        }
        out.push(stmt(BPF_JA, 1));
        out.push(stmt(BPF_RET_K, ret));
    }
    out
}

/// Where a range of call numbers goes from the decision tree.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Leaf {
    /// `ret` this value.
    Ret(u32),
    /// On to the segments of argument-conditioned calls.
    Segments,
}

/// Every number from 0 to `u32::MAX` as sorted ranges `(first number,
/// leaf)`, each ending where the next starts; neighbours differ.
fn ranges(constant: &[(Ret, u32)], layered: &[u32], default: u32) -> Vec<(u32, Leaf)> {
    let mut points: Vec<(u32, Leaf)> = constant
        .iter()
        .map(|&(r, nr)| (nr, Leaf::Ret(ret_value(r))))
        .chain(layered.iter().map(|&nr| (nr, Leaf::Segments)))
        .collect();
    points.sort_unstable_by_key(|p| p.0);
    let mut out: Vec<(u32, Leaf)> = Vec::with_capacity(2 * points.len() + 1);
    let push = |lo: u32, leaf: Leaf, out: &mut Vec<(u32, Leaf)>| {
        if out.last().is_none_or(|l| l.1 != leaf) {
            out.push((lo, leaf));
        }
    };
    push(0, Leaf::Ret(default), &mut out);
    for (nr, leaf) in points {
        if out.last().is_some_and(|l| l.0 == nr) {
            // A range starting at this number is replaced.
            out.pop();
        }
        push(nr, leaf, &mut out);
        if let Some(after) = nr.checked_add(1) {
            push(after, Leaf::Ret(default), &mut out);
        }
    }
    out
}

/// The largest forward offset a conditional jump can hold.
const MAX_JUMP: usize = u8::MAX as usize;

/// The most single numbers a tree leaf tests one by one with `jeq`.
const MAX_JEQ: usize = 4;

/// When `ranges` (ending where `end` starts, or at the top of the number
/// space) are single numbers on one background leaf, at most `MAX_JEQ` of
/// them: the background and how many numbers are to be tested with `jeq`.
fn jeq_run(ranges: &[(u32, Leaf)], end: Option<u32>) -> Option<(Leaf, usize)> {
    let single = |i: usize| {
        let next = ranges.get(i + 1).map(|r| r.0).or(end);
        next == ranges[i].0.checked_add(1)
    };
    'candidate: for bg in ranges.iter().take(MAX_JEQ + 1).map(|r| r.1) {
        let mut points = 0;
        for (i, r) in ranges.iter().enumerate() {
            if r.1 == bg {
                continue;
            }
            if !single(i) || points == MAX_JEQ {
                continue 'candidate;
            }
            points += 1;
        }
        return Some((bg, points));
    }
    None
}

/// Length of the tree over `ranges` (see `tree`).
fn tree_len(ranges: &[(u32, Leaf)], end: Option<u32>) -> usize {
    if let Some((_, points)) = jeq_run(ranges, end) {
        return 2 * points + 1;
    }
    let (left, right) = ranges.split_at(ranges.len() / 2);
    let left_len = tree_len(left, Some(right[0].0));
    1 + usize::from(left_len > MAX_JUMP) + left_len + tree_len(right, end)
}

/// One leaf: a `ret`, or a `ja` to the segments whose offset the caller
/// patches (its position is recorded in `to_segments`).
fn leaf(leaf: Leaf, out: &mut Vec<sock_filter>, to_segments: &mut Vec<usize>) {
    match leaf {
        Leaf::Ret(k) => out.push(stmt(BPF_RET_K, k)),
        Leaf::Segments => {
            to_segments.push(out.len());
            out.push(stmt(BPF_JA, 0));
        }
    }
}

/// A balanced binary search over the ranges, the call number in A: each
/// node is `jge FIRST_OF_RIGHT_HALF` with the left half right after it,
/// down to a few single numbers on one background, tested with `jeq`, each
/// followed by its leaf. When the left half is longer than a conditional
/// jump reaches, the node jumps over it through a `ja` (32-bit offset)
/// placed before it. The path holds only jumps and constant returns, which
/// the kernel's action cache evaluates.
fn tree(
    ranges: &[(u32, Leaf)],
    end: Option<u32>,
    out: &mut Vec<sock_filter>,
    to_segments: &mut Vec<usize>,
) {
    if let Some((bg, _)) = jeq_run(ranges, end) {
        for &(nr, l) in ranges.iter().filter(|r| r.1 != bg) {
            out.push(jump(BPF_JEQ_K, nr, 0, 1));
            leaf(l, out, to_segments);
        }
        leaf(bg, out, to_segments);
        return;
    }
    let (left, right) = ranges.split_at(ranges.len() / 2);
    let left_len = tree_len(left, Some(right[0].0));
    if left_len > MAX_JUMP {
        out.push(jump(BPF_JGE_K, right[0].0, 0, 1));
        out.push(stmt(BPF_JA, left_len as u32));
    } else {
        out.push(jump(BPF_JGE_K, right[0].0, left_len as u8, 0));
    }
    tree(left, Some(right[0].0), out, to_segments);
    tree(right, end, out, to_segments);
}

/// Compile a policy to a BPF program for `policy.arch`.
pub fn compile(policy: &Policy, mode: Mode) -> Result<Vec<sock_filter>, String> {
    let plan = plan(policy, mode);
    let mut prog = prologue(policy, mode);
    // Calls without argument conditions first, through a decision tree on
    // the call number: their path never meets an argument load, and it is
    // O(log calls) long, for the kernel's emulation of every number at
    // install time as for every uncached call.
    let default = ret_value(effective(policy.default, mode));
    let layered: Vec<u32> = plan.layered.iter().map(|(nr, _)| *nr).collect();
    let ranges = ranges(&plan.constant, &layered, default);
    let len = tree_len(&ranges, None);
    prog.reserve(len + 8);
    prog.push(stmt(BPF_LD_W_ABS, 0));
    let start = prog.len();
    let mut to_segments = Vec::new();
    tree(&ranges, None, &mut prog, &mut to_segments);
    if prog.len() - start != len {
        // The jumps over left halves were sized from tree_len.
        return Err("the decision tree's layout is inconsistent".into());
    }
    let end = prog.len();
    for at in to_segments {
        prog[at].k = (end - at - 1) as u32;
    }
    let depth = plan
        .layered
        .iter()
        .map(|(_, runs)| runs.len())
        .max()
        .unwrap_or(0);
    for k in 0..depth {
        let mut by_ret: BTreeMap<Ret, BTreeMap<i64, Vec<SeccompRule>>> = BTreeMap::new();
        for (nr, call_runs) in &plan.layered {
            let Some(run) = call_runs.get(k) else {
                continue;
            };
            let rules = if run.alts.iter().any(|c| c.is_empty()) {
                Vec::new()
            } else {
                run.alts
                    .iter()
                    .map(|conds| {
                        let c = conds
                            .iter()
                            .map(seccompiler_cond)
                            .collect::<Result<Vec<_>, _>>()?;
                        SeccompRule::new(c).map_err(|e| format!("seccompiler: {e}"))
                    })
                    .collect::<Result<Vec<_>, String>>()?
            };
            by_ret
                .entry(run.ret)
                .or_default()
                .insert(i64::from(*nr), rules);
        }
        for (ret, rules) in by_ret {
            let (always, conditional): (Vec<_>, Vec<_>) =
                rules.into_iter().partition(|(_, r)| r.is_empty());
            if !always.is_empty() {
                let nrs: Vec<u32> = always.into_iter().map(|(nr, _)| nr as u32).collect();
                prog.extend(constant_block(&nrs, ret_value(ret)));
            }
            if conditional.is_empty() {
                continue;
            }
            let mut seg = segment(policy.arch, conditional.into_iter().collect(), ret)?;
            let len = seg.len();
            for (i, insn) in seg.iter_mut().enumerate() {
                if insn.code == BPF_RET_K && insn.k == RET_TRACE | NEXT_MARK {
                    *insn = stmt(BPF_JA, (len - i - 1) as u32);
                } else if insn.code == BPF_RET_K && insn.k == RET_TRACE | NOTIFY_MARK {
                    insn.k = RET_USER_NOTIF;
                }
            }
            prog.extend(seg);
        }
    }
    prog.push(stmt(BPF_RET_K, default));
    if prog.len() > BPF_MAXINSNS {
        return Err(format!(
            "it compiles to {} BPF instructions, more than the kernel's limit of {BPF_MAXINSNS}",
            prog.len()
        ));
    }
    Ok(prog)
}

/// Whether any rule of the compiled program needs the supervisor.
pub fn uses_notify(prog: &[sock_filter]) -> bool {
    prog.iter()
        .any(|i| i.code == BPF_RET_K && i.k == RET_USER_NOTIF)
}
