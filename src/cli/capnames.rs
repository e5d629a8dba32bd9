//! Capability names as libcap's `cap_from_name` accepts them: `CAP_X` in any
//! letter case, or a number. (`sys_admin` without the prefix is refused, as
//! bwrap refuses it.)

/// Capability names indexed by number (Linux 6.x: 0..=40).
pub const CAP_NAMES: &[&str] = &[
    "cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid",
    "cap_kill", "cap_setgid", "cap_setuid", "cap_setpcap", "cap_linux_immutable",
    "cap_net_bind_service", "cap_net_broadcast", "cap_net_admin", "cap_net_raw",
    "cap_ipc_lock", "cap_ipc_owner", "cap_sys_module", "cap_sys_rawio", "cap_sys_chroot",
    "cap_sys_ptrace", "cap_sys_pacct", "cap_sys_admin", "cap_sys_boot", "cap_sys_nice",
    "cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod", "cap_lease",
    "cap_audit_write", "cap_audit_control", "cap_setfcap", "cap_mac_override",
    "cap_mac_admin", "cap_syslog", "cap_wake_alarm", "cap_block_suspend", "cap_audit_read",
    "cap_perfmon", "cap_bpf", "cap_checkpoint_restore",
];

/// Parse one capability name or number.
pub fn parse_cap(word: &str) -> Option<u8> {
    if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) {
        return word.parse::<u8>().ok().filter(|&n| n <= 63);
    }
    let lower = word.to_ascii_lowercase();
    CAP_NAMES.iter().position(|n| *n == lower).map(|i| i as u8)
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
    }
}
