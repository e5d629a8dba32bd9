//! Filesystem access rights, with the kernel's bit values so that the
//! engine's translation is a table, and the ABI in which each appeared.

use std::fmt;
use std::ops::{BitAnd, BitOr, Not};

/// A set of landlock filesystem rights.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Rights(pub u64);

impl Rights {
    pub const EXECUTE: Rights = Rights(1 << 0);
    pub const WRITE_FILE: Rights = Rights(1 << 1);
    pub const READ_FILE: Rights = Rights(1 << 2);
    pub const READ_DIR: Rights = Rights(1 << 3);
    pub const REMOVE_DIR: Rights = Rights(1 << 4);
    pub const REMOVE_FILE: Rights = Rights(1 << 5);
    pub const MAKE_CHAR: Rights = Rights(1 << 6);
    pub const MAKE_DIR: Rights = Rights(1 << 7);
    pub const MAKE_REG: Rights = Rights(1 << 8);
    pub const MAKE_SOCK: Rights = Rights(1 << 9);
    pub const MAKE_FIFO: Rights = Rights(1 << 10);
    pub const MAKE_BLOCK: Rights = Rights(1 << 11);
    pub const MAKE_SYM: Rights = Rights(1 << 12);
    /// ABI 2: link or rename into another directory.
    pub const REFER: Rights = Rights(1 << 13);
    /// ABI 3.
    pub const TRUNCATE: Rights = Rights(1 << 14);
    /// ABI 5: ioctl on device files.
    pub const IOCTL_DEV: Rights = Rights(1 << 15);

    pub const EMPTY: Rights = Rights(0);
    pub const READ: Rights = Rights(Self::READ_FILE.0 | Self::READ_DIR.0);
    /// What a read-only mount allows: reading and executing.
    pub const READ_EXEC: Rights = Rights(Self::READ.0 | Self::EXECUTE.0);
    /// Every right sandwrap knows (landlock up to ABI 8).
    pub const ALL: Rights = Rights((1 << 16) - 1);
    /// What procfs needs: reading, and writing existing files.
    pub const PROC: Rights = Rights(Self::READ.0 | Self::WRITE_FILE.0 | Self::TRUNCATE.0);
    /// The rights the kernel accepts on a rule for a non-directory.
    pub const FILE: Rights = Rights(
        Self::EXECUTE.0
            | Self::WRITE_FILE.0
            | Self::READ_FILE.0
            | Self::TRUNCATE.0
            | Self::IOCTL_DEV.0,
    );

    /// The rights the kernel can restrict at landlock ABI `abi`.
    pub fn known_at(abi: u32) -> Rights {
        match abi {
            0 => Rights::EMPTY,
            1 => Rights((1 << 13) - 1),
            2 => Rights((1 << 13) - 1) | Rights::REFER,
            3 | 4 => Rights((1 << 15) - 1),
            _ => Rights::ALL,
        }
    }

    pub fn contains(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn count(self) -> u32 {
        self.0.count_ones()
    }

    /// Each single right in the set, lowest bit first.
    pub fn iter(self) -> impl Iterator<Item = Rights> {
        (0..64)
            .map(|b| Rights(1 << b))
            .filter(move |r| self.contains(*r))
    }

    /// The kernel's name of a single right, lower case (`read_file`).
    pub fn name(self) -> &'static str {
        const NAMES: [&str; 16] = [
            "execute",
            "write_file",
            "read_file",
            "read_dir",
            "remove_dir",
            "remove_file",
            "make_char",
            "make_dir",
            "make_reg",
            "make_sock",
            "make_fifo",
            "make_block",
            "make_sym",
            "refer",
            "truncate",
            "ioctl_dev",
        ];
        match self.0.trailing_zeros() {
            n if (n as usize) < NAMES.len() && self.count() == 1 => NAMES[n as usize],
            _ => "?",
        }
    }
}

impl BitOr for Rights {
    type Output = Rights;
    fn bitor(self, o: Rights) -> Rights {
        Rights(self.0 | o.0)
    }
}

impl BitAnd for Rights {
    type Output = Rights;
    fn bitand(self, o: Rights) -> Rights {
        Rights(self.0 & o.0)
    }
}

impl Not for Rights {
    type Output = Rights;
    fn not(self) -> Rights {
        Rights(!self.0 & Rights::ALL.0)
    }
}

/// `read_file,read_dir`; `all` when every known right is in the set.
impl fmt::Display for Rights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let names: Vec<&str> = self.iter().map(Rights::name).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abi_sets_grow() {
        assert!(Rights::known_at(0).is_empty());
        assert_eq!(Rights::known_at(1).count(), 13);
        assert!(Rights::known_at(2).contains(Rights::REFER));
        assert!(!Rights::known_at(2).contains(Rights::TRUNCATE));
        assert!(Rights::known_at(3).contains(Rights::TRUNCATE));
        assert!(!Rights::known_at(4).contains(Rights::IOCTL_DEV));
        assert_eq!(Rights::known_at(5), Rights::ALL);
        assert_eq!(Rights::known_at(99), Rights::ALL);
    }

    #[test]
    fn names_and_sets() {
        assert_eq!(Rights::READ_EXEC.to_string(), "execute,read_file,read_dir");
        assert_eq!(Rights::EMPTY.to_string(), "none");
        assert_eq!(Rights::IOCTL_DEV.name(), "ioctl_dev");
        assert!(Rights::ALL.contains(Rights::FILE));
        assert_eq!(!Rights::EXECUTE & Rights::READ_EXEC, Rights::READ);
        assert!(!Rights::FILE.contains(Rights::READ_DIR));
    }
}
