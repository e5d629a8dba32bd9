//! Capability names as bwrap reads them: `ALL` in any letter case, or
//! whatever libcap's `cap_from_name` accepts. That is a number (`strtoul`
//! base 0, below 64) or a `CAP_X` name in any letter case; in both forms
//! libcap stops at the first character that cannot continue the token and
//! ignores the rest (`21abc` is 21, `cap_sys_admin,x` is CAP_SYS_ADMIN).
//! `sys_admin` without the prefix is refused, as bwrap refuses it.

use super::cnum::c_ulong_prefix;

/// Capability names indexed by number (Linux 6.x: 0..=40).
pub const CAP_NAMES: &[&str] = &[
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
];

/// What `--cap-add`/`--cap-drop` asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapWord {
    All,
    Cap(u8),
}

/// Parse a `--cap-add`/`--cap-drop` value as bwrap does.
pub fn parse_cap_word(word: &[u8]) -> Option<CapWord> {
    if word.eq_ignore_ascii_case(b"ALL") {
        return Some(CapWord::All);
    }
    parse_cap_bytes(word).map(CapWord::Cap)
}

/// Parse one capability name or number (libcap's `cap_from_name`).
pub fn parse_cap(word: &str) -> Option<u8> {
    parse_cap_bytes(word.as_bytes())
}

fn parse_cap_bytes(word: &[u8]) -> Option<u8> {
    if word.first().is_some_and(u8::is_ascii_digit) {
        return c_ulong_prefix(word).filter(|&n| n < 64).map(|n| n as u8);
    }
    let len = word
        .iter()
        .position(|&b| !(b.is_ascii_alphabetic() || b == b'_'))
        .unwrap_or(word.len());
    let token = &word[..len];
    CAP_NAMES
        .iter()
        .position(|n| n.as_bytes().eq_ignore_ascii_case(token))
        .map(|i| i as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_libcap_forms() {
        assert_eq!(parse_cap("CAP_SYS_ADMIN"), Some(21));
        assert_eq!(parse_cap("cap_sys_admin"), Some(21));
        assert_eq!(parse_cap("21"), Some(21));
        assert_eq!(parse_cap("CAP_CHECKPOINT_RESTORE"), Some(40));
        assert_eq!(parse_cap("sys_admin"), None);
        assert_eq!(parse_cap(""), None);
        assert_eq!(parse_cap("64"), None);
        assert_eq!(parse_cap("63"), Some(63));
        assert_eq!(parse_cap("Cap_Sys_Admin"), Some(21));
        assert_eq!(parse_cap(" 21"), None);
    }

    /// What bwrap 0.8.0 with Debian's libcap accepts (checked by hand).
    #[test]
    fn ignores_trailing_text_like_libcap() {
        assert_eq!(parse_cap("cap_sys_admin2"), Some(21));
        assert_eq!(parse_cap("CAP_SYS_ADMIN,x"), Some(21));
        assert_eq!(parse_cap("21abc"), Some(21));
        assert_eq!(parse_cap("0x15"), Some(21));
        assert_eq!(parse_cap("021"), Some(17));
        assert_eq!(parse_cap("0x"), Some(0));
        assert_eq!(parse_cap("cap_"), None);
        assert_eq!(parse_cap_word(b"all"), Some(CapWord::All));
        assert_eq!(parse_cap_word(b"All"), Some(CapWord::All));
        assert_eq!(parse_cap_word(b"ALLx"), None);
    }
}
