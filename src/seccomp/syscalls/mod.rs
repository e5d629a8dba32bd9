//! System call names and numbers for the ABIs sandwrap filters: x86_64 and
//! aarch64. The tables are sandwrap's own (seccompiler keeps its table
//! private); they are sorted by name so a lookup is a binary search, which
//! keeps resolving a preset of ~300 names well under the launch budget.

mod aarch64;
mod x86_64;

/// A system call ABI a filter is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    X86_64,
    Aarch64,
}

/// `AUDIT_ARCH_*` values: what `seccomp_data.arch` holds.
pub const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
pub const AUDIT_ARCH_AARCH64: u32 = 0xC000_00B7;
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
pub const AUDIT_ARCH_ARM: u32 = 0x4000_0028;

/// x32 system calls are x86_64 calls with this bit set in the number.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::X86_64, Arch::Aarch64];

    /// The ABI of the running kernel's native calls, if sandwrap supports it.
    pub fn native() -> Option<Arch> {
        if cfg!(target_arch = "x86_64") {
            Some(Arch::X86_64)
        } else if cfg!(target_arch = "aarch64") {
            Some(Arch::Aarch64)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    pub fn audit(self) -> u32 {
        match self {
            Arch::X86_64 => AUDIT_ARCH_X86_64,
            Arch::Aarch64 => AUDIT_ARCH_AARCH64,
        }
    }

    /// Whether this ABI has a second numbering that reaches the same kernel
    /// entry with the same `arch` value (x32 on x86_64).
    pub fn has_x32(self) -> bool {
        self == Arch::X86_64
    }

    pub fn table(self) -> &'static [(&'static str, u32)] {
        match self {
            Arch::X86_64 => x86_64::TABLE,
            Arch::Aarch64 => aarch64::TABLE,
        }
    }

    /// The number of a system call by name.
    pub fn nr(self, name: &str) -> Option<u32> {
        let t = self.table();
        t.binary_search_by(|(n, _)| (*n).cmp(name))
            .ok()
            .map(|i| t[i].1)
    }

    /// The name of a system call number (reports only; linear is fine).
    pub fn name_of(self, nr: u32) -> Option<&'static str> {
        self.table()
            .iter()
            .find(|(_, n)| *n == nr)
            .map(|(name, _)| *name)
    }

    /// The highest number in the table.
    pub fn max_nr(self) -> u32 {
        self.table().iter().map(|(_, n)| *n).max().unwrap_or(0)
    }
}

/// Whether `name` is a system call on any supported ABI.
pub fn known_anywhere(name: &str) -> bool {
    Arch::ALL.iter().any(|a| a.nr(name).is_some())
}

/// Name of an `AUDIT_ARCH_*` value, for reports.
pub fn audit_arch_name(audit: u32) -> String {
    match audit {
        AUDIT_ARCH_X86_64 => "x86_64".into(),
        AUDIT_ARCH_AARCH64 => "aarch64".into(),
        AUDIT_ARCH_I386 => "i386".into(),
        AUDIT_ARCH_ARM => "arm".into(),
        other => format!("arch {other:#x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_unique() {
        for arch in Arch::ALL {
            let t = arch.table();
            for w in t.windows(2) {
                assert!(w[0].0 < w[1].0, "{}: {} !< {}", arch.name(), w[0].0, w[1].0);
            }
            let mut nrs: Vec<u32> = t.iter().map(|(_, n)| *n).collect();
            nrs.sort_unstable();
            nrs.dedup();
            assert_eq!(nrs.len(), t.len(), "{}: duplicate numbers", arch.name());
        }
    }

    #[test]
    fn well_known_numbers() {
        let x = Arch::X86_64;
        assert_eq!(x.nr("read"), Some(0));
        assert_eq!(x.nr("getppid"), Some(110));
        assert_eq!(x.nr("ptrace"), Some(101));
        assert_eq!(x.nr("clone3"), Some(435));
        assert_eq!(x.nr("listns"), Some(470));
        assert_eq!(x.name_of(250), Some("keyctl"));
        let a = Arch::Aarch64;
        assert_eq!(a.nr("ioctl"), Some(29));
        assert_eq!(a.nr("newfstatat"), Some(79));
        assert_eq!(a.nr("open"), None);
        assert_eq!(a.nr("keyctl"), Some(219));
        assert!(known_anywhere("open"));
        assert!(!known_anywhere("opne"));
    }

    /// The host table agrees with the libc crate for every name both know.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn host_table_matches_libc() {
        let x = Arch::X86_64;
        for (name, nr) in [
            ("getppid", libc::SYS_getppid),
            ("newfstatat", libc::SYS_newfstatat),
            ("ioctl", libc::SYS_ioctl),
            ("clone", libc::SYS_clone),
            ("unshare", libc::SYS_unshare),
            ("socket", libc::SYS_socket),
            ("keyctl", libc::SYS_keyctl),
            ("bpf", libc::SYS_bpf),
            ("perf_event_open", libc::SYS_perf_event_open),
            ("userfaultfd", libc::SYS_userfaultfd),
            ("fsopen", libc::SYS_fsopen),
            ("mount_setattr", libc::SYS_mount_setattr),
            ("fchmodat2", libc::SYS_fchmodat2),
            ("mseal", libc::SYS_mseal),
            ("seccomp", libc::SYS_seccomp),
        ] {
            assert_eq!(x.nr(name), Some(nr as u32), "{name}");
        }
    }
}
