//! Values of the namespace options sandwrap adds: `--time-offset
//! CLOCK=SECONDS[.NANOS]` and `--map-subids-count N`.

use crate::spec::{TimeClock, TimeOffset};

/// The man page's TIME NAMESPACES AND SUBORDINATE IDS section: (tag, text).
pub const MAN: &[(&str, &str)] = &[
    (
        "--unshare-time",
        "A new time namespace: COMMAND's CLOCK_MONOTONIC and CLOCK_BOOTTIME (and \
         /proc/uptime) can be shifted without touching the host's. Not part of \
         --unshare-all, as in bwrap. The sandbox's first process creates it and sets the \
         offsets before any process enters it (the kernel takes them only until then); \
         COMMAND, pid 1's child or the process it execs into, is the first inside, so the \
         offsets are fixed for it, even with every capability. --info-fd and \
         --json-status-fd report a \"time-namespace\" key (after bwrap's keys) only when \
         one is created. A kernel without time namespaces (before 5.6, or without \
         CONFIG_TIME_NS) gets one error line, and nothing runs; so does a host without user \
         namespaces (--fallback landlock does not take over: it has no time namespace).",
    ),
    (
        "--time-offset CLOCK=SECONDS[.NANOS]",
        "Shift CLOCK (monotonic or boottime) by SECONDS, which may be negative and have up \
         to nine decimals (boottime=86400, monotonic=-3600.5); implies --unshare-time. \
         Repeatable; a later offset for the same clock replaces the earlier one. An offset \
         that would take a clock below zero is refused by the kernel, with one error line.",
    ),
    (
        "--map-subids",
        "Map the sandbox's uid and gid 0 to the caller and 1 and up to the caller's \
         subordinate ids from /etc/subuid and /etc/subgid (all of them, range after range), \
         as rootless podman and unshare --map-auto do, so that chown, package managers \
         switching users and multi-user tests work. The maps are written by the setuid \
         helpers newuidmap and newgidmap (package uidmap), found in PATH (never in a relative \
         entry), which check every range against those files themselves; sandwrap stays \
         unprivileged and reads them only to know what to ask for. COMMAND runs as uid and gid 0 unless --uid/--gid \
         name another mapped id; as always, it has capabilities only with --cap-add (e.g. \
         --cap-add CAP_CHOWN to chown). newgidmap allows setgroups(2) in the sandbox when a \
         subordinate range is mapped. With --dev or --disable-userns the nested user \
         namespace maps the same ids onto themselves. Not with --userns or \
         --userns-block-fd; --fallback landlock does not take over. Errors (helpers missing, user without a passwd entry or \
         without a range, a range too small, a helper refusing) are one line naming the \
         fix, e.g. usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER.",
    ),
    (
        "--map-subids-count N",
        "Map only the first N subordinate ids (uids and gids); implies --map-subids. More \
         than the user has is refused before anything runs.",
    ),
];

/// `monotonic=-3600`, `boottime=86400.5`. The kernel takes whole seconds
/// and a non-negative nanosecond part, so `-1.25` becomes `-2 s + 0.75 s`.
pub fn parse_time_offset(text: &str) -> Result<TimeOffset, String> {
    let (name, value) = text
        .split_once('=')
        .ok_or("expected CLOCK=SECONDS[.NANOS] (e.g. boottime=86400)")?;
    let clock = match name {
        "monotonic" => TimeClock::Monotonic,
        "boottime" => TimeClock::Boottime,
        other => {
            return Err(format!(
                "unknown clock \"{other}\" (a time namespace shifts monotonic and boottime)"
            ));
        }
    };
    let (negative, digits) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value.strip_prefix('+').unwrap_or(value)),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || !all_digits(frac) || frac.len() > 9 {
        return Err(format!(
            "\"{value}\" is not a number of seconds (SECONDS[.NANOS], at most 9 decimals)"
        ));
    }
    let secs: i64 = whole
        .parse()
        .map_err(|_| format!("{value} seconds is out of range"))?;
    // Nanoseconds: the decimals padded to nine digits.
    let nanos: u32 = format!("{frac:0<9}")
        .parse()
        .map_err(|_| format!("\"{value}\" is not a number of seconds"))?;
    Ok(match (negative, nanos) {
        (false, _) => TimeOffset { clock, secs, nanos },
        (true, 0) => TimeOffset {
            clock,
            secs: -secs,
            nanos: 0,
        },
        (true, n) => TimeOffset {
            clock,
            secs: -secs - 1,
            nanos: 1_000_000_000 - n,
        },
    })
}

/// `--map-subids-count N`: at least one id.
pub fn parse_subid_count(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(0) | Err(_) => Err(format!(
            "\"{text}\" is not a number of subordinate ids (1 to 4294967295)"
        )),
        Ok(n) => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn off(text: &str) -> (TimeClock, i64, u32) {
        let o = parse_time_offset(text).expect(text);
        (o.clock, o.secs, o.nanos)
    }

    #[test]
    fn offsets() {
        assert_eq!(off("boottime=86400"), (TimeClock::Boottime, 86400, 0));
        assert_eq!(off("monotonic=-3600"), (TimeClock::Monotonic, -3600, 0));
        assert_eq!(off("monotonic=1.5"), (TimeClock::Monotonic, 1, 500_000_000));
        assert_eq!(
            off("boottime=-1.25"),
            (TimeClock::Boottime, -2, 750_000_000)
        );
        assert_eq!(off("boottime=0.000000001"), (TimeClock::Boottime, 0, 1));
        assert_eq!(off("boottime=+7"), (TimeClock::Boottime, 7, 0));
        for shown in [
            "boottime=-1.25",
            "monotonic=3600.5",
            "boottime=0",
            "monotonic=-7",
            "boottime=0.000000001",
        ] {
            let o = parse_time_offset(shown).expect(shown);
            assert_eq!(o.to_string(), shown);
        }
    }

    #[test]
    fn bad_offsets() {
        for bad in [
            "boottime",
            "realtime=5",
            "boottime=",
            "boottime=1.",
            "boottime=.5",
            "boottime=1.0000000001",
            "boottime=1e3",
            "boottime=--1",
            "boottime=99999999999999999999",
        ] {
            assert!(parse_time_offset(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn counts() {
        assert_eq!(parse_subid_count("65536"), Ok(65536));
        assert!(parse_subid_count("0").is_err());
        assert!(parse_subid_count("-1").is_err());
        assert!(parse_subid_count("x").is_err());
    }
}
