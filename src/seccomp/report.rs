//! The text of `--seccomp-report` lines and of the SIGSYS note. Pure: the
//! supervisor supplies what it read from the notification and /proc.

use super::consts;
use super::policy::{Action, By, Policy};
use super::syscalls::{X32_SYSCALL_BIT, audit_arch_name};

/// Who made a call: the pid inside the sandbox (when it has its own pid
/// namespace), the pid seen by sandwrap, and the command name.
pub struct Caller<'a> {
    pub pid: u32,
    pub host_pid: u32,
    pub comm: &'a str,
}

/// `ioctl(1, 0x5412, 140732, 0, 0, 0)`: small values in decimal, others in hex.
fn args_text(args: &[u64; 6]) -> String {
    let v: Vec<String> = args
        .iter()
        .map(|&a| {
            if a < 0x10000 {
                a.to_string()
            } else {
                format!("{a:#x}")
            }
        })
        .collect();
    v.join(", ")
}

/// The command's name as a report shows it: the command chooses it
/// (`prctl(PR_SET_NAME)`, up to 15 bytes, which the kernel passes through
/// `/proc/PID/status` unescaped but for `\n` and `\\`), and the line goes
/// to the caller's terminal, so control characters (C0, DEL, C1: escape
/// sequences, shift-out) are shown as `\xNN`/`\u{NN}` instead.
fn printable(comm: &str) -> String {
    let mut out = String::with_capacity(comm.len());
    for c in comm.chars() {
        match c {
            '\0'..='\x1f' | '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The name a report shows for a call.
pub fn call_name(policy: &Policy, audit_arch: u32, nr: u32) -> String {
    if audit_arch != policy.arch.audit() {
        return format!("{} syscall {nr}", audit_arch_name(audit_arch));
    }
    if policy.arch.has_x32() && nr >= X32_SYSCALL_BIT {
        return format!("x32 syscall {:#x}", nr);
    }
    policy
        .arch
        .name_of(nr)
        .map_or_else(|| format!("syscall {nr}"), str::to_string)
}

/// One report line, without the program name in front (the engine adds
/// it, and the level with `--level-prefix`) and without the newline.
pub fn line(
    policy: &Policy,
    who: &Caller<'_>,
    audit_arch: u32,
    nr: u32,
    args: &[u64; 6],
    action: Action,
    by: By,
) -> String {
    let outcome = match action {
        Action::Errno(e) => format!("= -{} (denied)", consts::errno_name(e)),
        Action::Kill => "killed the process (SIGSYS)".to_string(),
        Action::Trap => "sent SIGSYS".to_string(),
        Action::Log => "allowed (logged)".to_string(),
        Action::Allow => "allowed".to_string(),
    };
    let pid = if who.pid != who.host_pid && who.pid != 0 {
        format!("pid {} (host pid {})", who.pid, who.host_pid)
    } else {
        format!("pid {}", who.host_pid)
    };
    format!(
        "seccomp: {pid} {}: {}({}) {outcome} by {}",
        printable(who.comm),
        call_name(policy, audit_arch, nr),
        args_text(args),
        policy.describe(by)
    )
}

/// The note printed when the command died of SIGSYS and no report named
/// the call.
pub fn sigsys_note(policy: &Policy, command: &str) -> String {
    let kills = policy.kill_rules();
    let mut s = format!(
        "{command} was killed by SIGSYS (Bad system call): a seccomp filter refused a system call"
    );
    if !kills.is_empty() {
        s.push_str(&format!(
            "; kill rules of policy {}: {}",
            policy.name,
            kills.join(", ")
        ));
    }
    if policy.other_abi == Action::Kill {
        s.push_str("; calls through another ABI (i386, x32) are killed too");
    }
    s.push_str("; run with --seccomp-report to see which call");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seccomp::presets;
    use crate::seccomp::syscalls::{AUDIT_ARCH_I386, Arch};

    #[test]
    fn report_lines_name_call_args_pid_and_rule() {
        let x = Arch::X86_64;
        let p = presets::DEFAULT.policy(x).expect("default");
        let nr = x.nr("keyctl").expect("keyctl");
        let (action, by) = p.decide(x.audit(), nr, &[1, 2, 0, 0, 0, 0]);
        let who = Caller {
            pid: 3,
            host_pid: 4711,
            comm: "keyctl-test",
        };
        let l = line(&p, &who, x.audit(), nr, &[1, 2, 0, 0, 0, 0], action, by);
        assert_eq!(
            l,
            "seccomp: pid 3 (host pid 4711) keyctl-test: keyctl(1, 2, 0, 0, 0, 0) = -EPERM (denied) by preset default: keyctl -> errno EPERM"
        );
        let ioctl = x.nr("ioctl").expect("ioctl");
        let args = [0, libc::TIOCSTI, 0x7ffd_0000_1000, 0, 0, 0];
        let (action, by) = p.decide(x.audit(), ioctl, &args);
        let l = line(
            &p,
            &Caller {
                pid: 7,
                host_pid: 7,
                comm: "sh",
            },
            x.audit(),
            ioctl,
            &args,
            action,
            by,
        );
        assert!(
            l.contains("pid 7 sh: ioctl(0, 21522, 0x7ffd00001000, 0, 0, 0) = -EPERM"),
            "{l}"
        );
        assert!(
            l.contains("ioctl when arg1 == 0x5412 -> errno EPERM"),
            "{l}"
        );
        let (action, by) = p.decide(AUDIT_ARCH_I386, 20, &[0; 6]);
        let l = line(&p, &who, AUDIT_ARCH_I386, 20, &[0; 6], action, by);
        assert!(l.contains("i386 syscall 20(0, 0, 0, 0, 0, 0) killed the process (SIGSYS) by policy default: system calls of other ABIs -> kill"), "{l}");
    }

    #[test]
    fn report_lines_escape_control_characters_in_the_name() {
        let x = Arch::X86_64;
        let p = presets::DEFAULT.policy(x).expect("default");
        let nr = x.nr("keyctl").expect("keyctl");
        let (action, by) = p.decide(x.audit(), nr, &[0; 6]);
        let who = Caller {
            pid: 3,
            host_pid: 3,
            comm: "\x1b[2J\u{9b}0m\x0e\x7fok",
        };
        let l = line(&p, &who, x.audit(), nr, &[0; 6], action, by);
        assert!(
            l.contains(r"pid 3 \x1b[2J\u{9b}0m\x0e\x7fok: keyctl("),
            "{l}"
        );
        assert!(!l.chars().any(char::is_control), "{l:?}");
    }

    #[test]
    fn sigsys_note_lists_kill_rules() {
        let mut p = Policy::allow_all(Arch::X86_64);
        p.push("ptrace", vec![], Action::Kill, "--seccomp-deny ptrace:kill")
            .expect("ptrace");
        let n = sigsys_note(&p, "gdb");
        assert!(n.starts_with("gdb was killed by SIGSYS"), "{n}");
        assert!(n.contains("kill rules of policy custom: ptrace"), "{n}");
    }
}
