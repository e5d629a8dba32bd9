//! The built-in policies, as data. Each entry says which calls, under which
//! condition, with which action, and why; docs/seccomp.md lists the same
//! entries for people (a unit test keeps the two in step).
//!
//! Only calls that need it test arguments (ioctl, clone, unshare, socket,
//! personality, ptrace); every other call gets a constant decision, so the
//! kernel's action cache answers allowed calls without running the filter.

use super::consts;
use super::policy::{Action, Cond, Op, Policy};
use super::syscalls::Arch;

const EPERM: Action = Action::Errno(libc::EPERM);

/// The condition of a preset entry, with constants by name.
#[derive(Clone, Copy, Debug)]
pub enum When {
    Always,
    /// `argN == CONST`
    Eq(u8, &'static str),
    /// `argN != CONST`
    Ne(u8, &'static str),
    /// `argN` has every bit of CONST set.
    Has(u8, &'static str),
    /// `argN` is none of the constants.
    NotIn(u8, &'static [&'static str]),
}

#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub calls: &'static [&'static str],
    pub when: When,
    pub action: Action,
    pub why: &'static str,
}

#[derive(Clone, Copy, Debug)]
pub struct Preset {
    pub name: &'static str,
    pub summary: &'static str,
    pub default: Action,
    pub entries: &'static [Entry],
}

const fn e(calls: &'static [&'static str], when: When, action: Action, why: &'static str) -> Entry {
    Entry {
        calls,
        when,
        action,
        why,
    }
}

/// Deny entries shared by both presets: argument-level restrictions on
/// calls that are otherwise needed.
const GUARDS: &[Entry] = &[
    e(
        &["ioctl"],
        When::Eq(1, "TIOCSTI"),
        EPERM,
        "TIOCSTI pushes input into the terminal, which the shell outside then runs (CVE-2017-5226)",
    ),
    e(
        &["ioctl"],
        When::Eq(1, "TIOCLINUX"),
        EPERM,
        "TIOCLINUX can also inject input on a virtual console",
    ),
    e(
        &["clone", "unshare"],
        When::Has(0, "CLONE_NEWUSER"),
        EPERM,
        "a new user namespace gives the caller every capability inside it and exposes kernel code reachable only with them",
    ),
    e(
        &["clone3"],
        When::Always,
        Action::Errno(libc::ENOSYS),
        "clone3 passes its flags in memory a filter cannot read; ENOSYS makes libc fall back to clone, whose flags are checked",
    ),
    e(
        &["personality"],
        When::NotIn(
            0,
            &[
                "PER_LINUX",
                "PER_LINUX32",
                "UNAME26",
                "PER_LINUX32_UNAME26",
                "PERSONALITY_QUERY",
            ],
        ),
        EPERM,
        "other personalities turn off address-space randomisation or make data executable (READ_IMPLIES_EXEC)",
    ),
];

const DEFAULT_ENTRIES: &[Entry] = &[
    e(
        &["add_key", "keyctl", "request_key"],
        When::Always,
        EPERM,
        "the kernel keyring is not namespaced: keys of the user outside could be read or changed",
    ),
    e(
        &[
            "init_module",
            "finit_module",
            "delete_module",
            "create_module",
            "query_module",
            "get_kernel_syms",
        ],
        When::Always,
        EPERM,
        "loading or removing kernel modules",
    ),
    e(
        &["kexec_load", "kexec_file_load"],
        When::Always,
        EPERM,
        "booting another kernel",
    ),
    e(
        &["bpf"],
        When::Always,
        EPERM,
        "eBPF programs and maps: a large kernel attack surface",
    ),
    e(
        &["perf_event_open"],
        When::Always,
        EPERM,
        "performance counters leak information about other processes and the kernel",
    ),
    e(
        &["io_uring_setup", "io_uring_enter", "io_uring_register"],
        When::Always,
        EPERM,
        "io_uring runs socket, connect and open operations in the kernel where no seccomp filter sees their arguments, and is a large kernel attack surface",
    ),
    e(
        &["userfaultfd"],
        When::Always,
        EPERM,
        "lets a process stall the kernel at will, a building block of kernel exploits",
    ),
    e(
        &["ptrace"],
        When::Ne(0, "PTRACE_TRACEME"),
        EPERM,
        "tracing another process reads and changes its memory",
    ),
    e(
        &["process_vm_readv", "process_vm_writev", "pidfd_getfd"],
        When::Always,
        EPERM,
        "reading or writing another process's memory or stealing its file descriptors",
    ),
    e(
        &[
            "mount",
            "umount2",
            "pivot_root",
            "chroot",
            "fsopen",
            "fsconfig",
            "fsmount",
            "fspick",
            "open_tree",
            "open_tree_attr",
            "move_mount",
            "mount_setattr",
        ],
        When::Always,
        EPERM,
        "changing the sandbox's filesystem view (old and new mount API)",
    ),
    e(
        &["swapon", "swapoff", "reboot"],
        When::Always,
        EPERM,
        "swap and reboot control the whole machine",
    ),
    e(
        &["settimeofday", "clock_settime", "clock_adjtime", "adjtimex"],
        When::Always,
        EPERM,
        "setting or tuning the system clock (the time is not namespaced)",
    ),
    e(
        &["open_by_handle_at", "name_to_handle_at"],
        When::Always,
        EPERM,
        "file handles open files by inode number, bypassing the sandbox's mounts",
    ),
    e(
        &["iopl", "ioperm"],
        When::Always,
        EPERM,
        "direct hardware port access",
    ),
    e(
        &[
            "acct",
            "quotactl",
            "quotactl_fd",
            "lookup_dcookie",
            "uselib",
            "vhangup",
            "nfsservctl",
        ],
        When::Always,
        EPERM,
        "system-wide administration and obsolete calls",
    ),
];

/// Calls ordinary programs need: shells, coreutils, compilers, make,
/// python, cargo. Everything else fails with EPERM under `strict`.
pub const STRICT_ALLOWED: &[(&str, &[&str])] = &[
    (
        "file I/O",
        &[
            "read",
            "write",
            "readv",
            "writev",
            "pread64",
            "pwrite64",
            "preadv",
            "pwritev",
            "preadv2",
            "pwritev2",
            "lseek",
            "close",
            "close_range",
            "dup",
            "dup2",
            "dup3",
            "fcntl",
            "flock",
            "fsync",
            "fdatasync",
            "sync_file_range",
            "sync",
            "syncfs",
            "ftruncate",
            "truncate",
            "fallocate",
            "fadvise64",
            "readahead",
            "sendfile",
            "copy_file_range",
            "splice",
            "tee",
        ],
    ),
    (
        "opening and inspecting files",
        &[
            "open",
            "openat",
            "openat2",
            "creat",
            "stat",
            "fstat",
            "lstat",
            "newfstatat",
            "statx",
            "statfs",
            "fstatfs",
            "access",
            "faccessat",
            "faccessat2",
            "readlink",
            "readlinkat",
            "getdents",
            "getdents64",
            "getcwd",
            "chdir",
            "fchdir",
            "cachestat",
        ],
    ),
    (
        "changing files",
        &[
            "mkdir",
            "mkdirat",
            "rmdir",
            "rename",
            "renameat",
            "renameat2",
            "link",
            "linkat",
            "unlink",
            "unlinkat",
            "symlink",
            "symlinkat",
            "chmod",
            "fchmod",
            "fchmodat",
            "fchmodat2",
            "chown",
            "fchown",
            "lchown",
            "fchownat",
            "umask",
            "utime",
            "utimes",
            "utimensat",
            "futimesat",
            "mknod",
            "mknodat",
        ],
    ),
    (
        "extended attributes",
        &[
            "getxattr",
            "lgetxattr",
            "fgetxattr",
            "listxattr",
            "llistxattr",
            "flistxattr",
            "setxattr",
            "lsetxattr",
            "fsetxattr",
            "removexattr",
            "lremovexattr",
            "fremovexattr",
            "getxattrat",
            "listxattrat",
            "setxattrat",
            "removexattrat",
        ],
    ),
    (
        "memory",
        &[
            "brk",
            "mmap",
            "munmap",
            "mremap",
            "mprotect",
            "madvise",
            "mincore",
            "msync",
            "mlock",
            "mlock2",
            "munlock",
            "mlockall",
            "munlockall",
            "membarrier",
            "memfd_create",
            "pkey_alloc",
            "pkey_free",
            "pkey_mprotect",
            "mseal",
            "map_shadow_stack",
            "get_mempolicy",
            "set_mempolicy",
            "mbind",
        ],
    ),
    (
        "processes and threads",
        &[
            "fork",
            "vfork",
            "clone",
            "execve",
            "execveat",
            "exit",
            "exit_group",
            "wait4",
            "waitid",
            "getpid",
            "getppid",
            "gettid",
            "getpgid",
            "getpgrp",
            "setpgid",
            "getsid",
            "setsid",
            "set_tid_address",
            "set_robust_list",
            "get_robust_list",
            "rseq",
            "arch_prctl",
            "prctl",
            "personality",
            "getrlimit",
            "setrlimit",
            "prlimit64",
            "getrusage",
            "getpriority",
            "setpriority",
            "sched_yield",
            "sched_getaffinity",
            "sched_setaffinity",
            "sched_getparam",
            "sched_getscheduler",
            "sched_get_priority_max",
            "sched_get_priority_min",
            "sched_getattr",
            "sched_rr_get_interval",
            "getcpu",
            "uname",
            "sysinfo",
            "times",
            "capget",
            "capset",
            "ioprio_get",
            "ioprio_set",
            "restart_syscall",
        ],
    ),
    (
        "user and group ids (changing them still needs privileges)",
        &[
            "getuid",
            "geteuid",
            "getgid",
            "getegid",
            "getresuid",
            "getresgid",
            "getgroups",
            "setuid",
            "setgid",
            "setreuid",
            "setregid",
            "setresuid",
            "setresgid",
            "setgroups",
            "setfsuid",
            "setfsgid",
        ],
    ),
    (
        "signals",
        &[
            "rt_sigaction",
            "rt_sigprocmask",
            "rt_sigreturn",
            "rt_sigpending",
            "rt_sigtimedwait",
            "rt_sigqueueinfo",
            "rt_tgsigqueueinfo",
            "rt_sigsuspend",
            "sigaltstack",
            "kill",
            "tkill",
            "tgkill",
            "pause",
            "alarm",
            "signalfd",
            "signalfd4",
            "pidfd_open",
            "pidfd_send_signal",
        ],
    ),
    (
        "time",
        &[
            "nanosleep",
            "clock_nanosleep",
            "clock_gettime",
            "clock_getres",
            "gettimeofday",
            "time",
            "getitimer",
            "setitimer",
            "timer_create",
            "timer_settime",
            "timer_gettime",
            "timer_getoverrun",
            "timer_delete",
            "timerfd_create",
            "timerfd_settime",
            "timerfd_gettime",
        ],
    ),
    (
        "waiting for events",
        &[
            "poll",
            "ppoll",
            "select",
            "pselect6",
            "epoll_create",
            "epoll_create1",
            "epoll_ctl",
            "epoll_wait",
            "epoll_pwait",
            "epoll_pwait2",
            "eventfd",
            "eventfd2",
            "inotify_init",
            "inotify_init1",
            "inotify_add_watch",
            "inotify_rm_watch",
        ],
    ),
    (
        "pipes, futexes and IPC",
        &[
            "pipe",
            "pipe2",
            "futex",
            "futex_waitv",
            "futex_wake",
            "futex_wait",
            "futex_requeue",
            "shmget",
            "shmat",
            "shmdt",
            "shmctl",
            "semget",
            "semop",
            "semtimedop",
            "semctl",
            "msgget",
            "msgsnd",
            "msgrcv",
            "msgctl",
            "mq_open",
            "mq_unlink",
            "mq_timedsend",
            "mq_timedreceive",
            "mq_notify",
            "mq_getsetattr",
            "io_setup",
            "io_destroy",
            "io_submit",
            "io_cancel",
            "io_getevents",
            "io_pgetevents",
        ],
    ),
    (
        "sockets (socket itself limited to AF_UNIX, AF_INET, AF_INET6)",
        &[
            "socket",
            "socketpair",
            "connect",
            "accept",
            "accept4",
            "bind",
            "listen",
            "getsockname",
            "getpeername",
            "sendto",
            "recvfrom",
            "sendmsg",
            "recvmsg",
            "sendmmsg",
            "recvmmsg",
            "shutdown",
            "setsockopt",
            "getsockopt",
        ],
    ),
    (
        "terminals and devices (ioctl minus TIOCSTI/TIOCLINUX)",
        &["ioctl"],
    ),
    (
        "randomness and self-restriction",
        &[
            "getrandom",
            "seccomp",
            "landlock_create_ruleset",
            "landlock_add_rule",
            "landlock_restrict_self",
        ],
    ),
];

const STRICT_ENTRIES: &[Entry] = &[e(
    &["socket"],
    When::NotIn(0, &["AF_UNIX", "AF_INET", "AF_INET6"]),
    Action::Errno(libc::EAFNOSUPPORT),
    "other socket families (netlink, packet, bluetooth, vsock, alg...) are rarely needed and widen the kernel surface",
)];

pub const DEFAULT: Preset = Preset {
    name: "default",
    summary: "allow everything except the well-known dangerous calls (container/flatpak deny-list)",
    default: Action::Allow,
    entries: DEFAULT_ENTRIES,
};

pub const STRICT: Preset = Preset {
    name: "strict",
    summary: "allow what shells, coreutils, compilers and interpreters need; everything else fails with EPERM",
    default: EPERM,
    entries: STRICT_ENTRIES,
};

pub const PRESETS: &[Preset] = &[DEFAULT, STRICT];

pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

fn conds_for(call: &str, when: When) -> Result<Vec<Vec<Cond>>, String> {
    let arg = |i: u8| -> (u8, bool) { consts::arg(call, &format!("arg{i}")).unwrap_or((i, false)) };
    let value = |name: &str| {
        consts::constant(name).ok_or_else(|| format!("preset constant {name} is not defined"))
    };
    let one = |i: u8, op: Op, name: &str| -> Result<Cond, String> {
        let (arg, narrow) = arg(i);
        Ok(Cond {
            arg,
            narrow,
            op,
            value: value(name)?,
        })
    };
    Ok(match when {
        When::Always => vec![vec![]],
        When::Eq(i, c) => vec![vec![one(i, Op::Eq, c)?]],
        When::Ne(i, c) => vec![vec![one(i, Op::Ne, c)?]],
        When::Has(i, c) => {
            let v = value(c)?;
            let (arg, narrow) = arg(i);
            vec![vec![Cond {
                arg,
                narrow,
                op: Op::MaskedEq(v),
                value: v,
            }]]
        }
        When::NotIn(i, cs) => vec![
            cs.iter()
                .map(|c| one(i, Op::Ne, c))
                .collect::<Result<_, _>>()?,
        ],
    })
}

impl Preset {
    /// The preset as a policy for `arch`. Calls the ABI lacks are skipped.
    pub fn policy(&self, arch: Arch) -> Result<Policy, String> {
        let origin: &'static str = if self.name == "strict" {
            "preset strict"
        } else {
            "preset default"
        };
        let mut p = Policy {
            name: self.name.to_string(),
            arch,
            default: self.default,
            default_origin: if self.default == Action::Allow {
                "preset default allows what it does not deny".into()
            } else {
                "preset strict denies what it does not allow".into()
            },
            other_abi: Action::Kill,
            rules: Vec::with_capacity(320),
        };
        if self.default != Action::Allow {
            for (_, calls) in STRICT_ALLOWED {
                for call in *calls {
                    p.push(call, Vec::new(), Action::Allow, origin)?;
                }
            }
        }
        for entry in self.entries.iter().chain(GUARDS) {
            for call in entry.calls {
                for conds in conds_for(call, entry.when)? {
                    p.push(call, conds, entry.action, origin)?;
                }
            }
        }
        Ok(p)
    }
}

/// Every entry of a preset, guards included (for documentation and tests).
pub fn entries(preset: &Preset) -> impl Iterator<Item = &'static Entry> {
    preset.entries.iter().chain(GUARDS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seccomp::policy::By;

    const X: Arch = Arch::X86_64;

    fn decide(p: &Policy, call: &str, args: [u64; 6]) -> Action {
        p.decide(p.arch.audit(), p.arch.nr(call).expect(call), &args)
            .0
    }

    #[test]
    fn presets_resolve_on_every_abi() {
        for preset in PRESETS {
            for arch in Arch::ALL {
                let p = preset.policy(arch).expect("preset resolves");
                assert!(!p.rules.is_empty());
            }
        }
    }

    #[test]
    fn every_preset_name_is_a_syscall_somewhere() {
        let all = STRICT_ALLOWED.iter().flat_map(|(_, c)| c.iter()).chain(
            PRESETS
                .iter()
                .flat_map(entries)
                .flat_map(|e| e.calls.iter()),
        );
        for call in all {
            assert!(crate::seccomp::syscalls::known_anywhere(call), "{call}");
        }
    }

    #[test]
    fn default_denies_what_it_claims() {
        let p = DEFAULT.policy(X).expect("default");
        let eperm = Action::Errno(libc::EPERM);
        for call in [
            "keyctl",
            "add_key",
            "init_module",
            "kexec_load",
            "bpf",
            "perf_event_open",
            "userfaultfd",
            "io_uring_setup",
            "io_uring_enter",
            "io_uring_register",
            "process_vm_readv",
            "mount",
            "umount2",
            "pivot_root",
            "chroot",
            "fsopen",
            "move_mount",
            "swapon",
            "reboot",
            "settimeofday",
            "clock_settime",
        ] {
            assert_eq!(decide(&p, call, [0; 6]), eperm, "{call}");
        }
        assert_eq!(
            decide(&p, "ptrace", [libc::PTRACE_ATTACH as u64, 1, 0, 0, 0, 0]),
            eperm
        );
        assert_eq!(
            decide(&p, "ptrace", [libc::PTRACE_TRACEME as u64, 0, 0, 0, 0, 0]),
            Action::Allow
        );
        assert_eq!(decide(&p, "ioctl", [0, libc::TIOCSTI, 0, 0, 0, 0]), eperm);
        assert_eq!(
            decide(
                &p,
                "ioctl",
                [0, 0xffff_ffff_0000_0000 | libc::TIOCSTI, 0, 0, 0, 0]
            ),
            eperm
        );
        assert_eq!(decide(&p, "ioctl", [0, libc::TIOCLINUX, 0, 0, 0, 0]), eperm);
        assert_eq!(
            decide(&p, "ioctl", [0, libc::TCGETS, 0, 0, 0, 0]),
            Action::Allow
        );
        assert_eq!(
            decide(&p, "unshare", [libc::CLONE_NEWUSER as u64, 0, 0, 0, 0, 0]),
            eperm
        );
        assert_eq!(
            decide(&p, "unshare", [libc::CLONE_NEWNS as u64, 0, 0, 0, 0, 0]),
            Action::Allow
        );
        assert_eq!(
            decide(
                &p,
                "clone",
                [(libc::CLONE_NEWUSER | libc::SIGCHLD) as u64, 0, 0, 0, 0, 0]
            ),
            eperm
        );
        assert_eq!(
            decide(&p, "clone", [libc::SIGCHLD as u64, 0, 0, 0, 0, 0]),
            Action::Allow
        );
        assert_eq!(decide(&p, "clone3", [0; 6]), Action::Errno(libc::ENOSYS));
        assert_eq!(
            decide(&p, "personality", [0x0004_0000, 0, 0, 0, 0, 0]),
            eperm
        );
        assert_eq!(
            decide(&p, "personality", [0xffff_ffff, 0, 0, 0, 0, 0]),
            Action::Allow
        );
        for call in ["read", "getppid", "newfstatat", "execve", "socket", "setns"] {
            assert_eq!(decide(&p, call, [0; 6]), Action::Allow, "{call}");
        }
        assert_eq!(
            p.decide(0x4000_0003, 20, &[0; 6]),
            (Action::Kill, By::OtherAbi)
        );
    }

    #[test]
    fn strict_allows_the_basics_and_denies_the_rest() {
        let p = STRICT.policy(X).expect("strict");
        for call in [
            "read",
            "write",
            "openat",
            "newfstatat",
            "execve",
            "clone",
            "wait4",
            "getppid",
            "mmap",
            "futex",
            "rt_sigaction",
            "pipe2",
            "getrandom",
        ] {
            assert_eq!(
                decide(&p, call, [libc::SIGCHLD as u64, 0, 0, 0, 0, 0]),
                Action::Allow,
                "{call}"
            );
        }
        let eperm = Action::Errno(libc::EPERM);
        for call in [
            "ptrace",
            "keyctl",
            "mount",
            "bpf",
            "io_uring_setup",
            "setns",
            "unshare",
            "kcmp",
            "syslog",
        ] {
            assert_eq!(decide(&p, call, [0; 6]), eperm, "{call}");
        }
        assert_eq!(
            decide(&p, "socket", [libc::AF_INET as u64, 1, 0, 0, 0, 0]),
            Action::Allow
        );
        assert_eq!(
            decide(&p, "socket", [libc::AF_NETLINK as u64, 1, 0, 0, 0, 0]),
            Action::Errno(libc::EAFNOSUPPORT)
        );
        assert_eq!(decide(&p, "ioctl", [0, libc::TIOCSTI, 0, 0, 0, 0]), eperm);
        assert_eq!(
            decide(&p, "clone", [libc::CLONE_NEWUSER as u64, 0, 0, 0, 0, 0]),
            eperm
        );
        assert_eq!(decide(&p, "clone3", [0; 6]), Action::Errno(libc::ENOSYS));
    }

    /// docs/seccomp.md names every call of every preset.
    #[test]
    fn documentation_covers_every_call() {
        let doc = include_str!("../../docs/seccomp.md");
        let calls = STRICT_ALLOWED.iter().flat_map(|(_, c)| c.iter()).chain(
            PRESETS
                .iter()
                .flat_map(entries)
                .flat_map(|e| e.calls.iter()),
        );
        for call in calls {
            assert!(
                doc.contains(&format!("`{call}`")),
                "docs/seccomp.md does not mention `{call}`"
            );
        }
    }
}
