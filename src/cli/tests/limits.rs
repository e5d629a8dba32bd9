//! The resource-limit options: what they put in the Spec, how repeats and
//! profiles combine, and the checks made after parsing.

use std::time::Duration;

use super::{Host, err, spec};
use crate::spec::{CgroupLimits, Rlimit};

#[test]
#[allow(clippy::unnecessary_cast)] // the resource type is int on some C libraries
fn limits_land_in_the_spec() {
    let s = spec(&[
        "--rlimit",
        "nofile=64:128",
        "--rlimit",
        "core=0",
        "--timeout",
        "1m",
        "--kill-after",
        "2s",
        "--memory",
        "1G",
        "--memory-swap",
        "0",
        "--pids-max",
        "10",
        "--cpus",
        "1.5",
        "--own-cgroup",
        "true",
    ]);
    let l = &s.limits;
    assert_eq!(
        l.rlimits,
        [
            Rlimit {
                name: "nofile",
                resource: libc::RLIMIT_NOFILE as u32,
                soft: Some(64),
                hard: Some(128),
            },
            Rlimit {
                name: "core",
                resource: libc::RLIMIT_CORE as u32,
                soft: Some(0),
                hard: Some(0),
            },
        ]
    );
    assert_eq!(l.timeout, Some(Duration::from_secs(60)));
    assert_eq!(l.kill_after, Some(Duration::from_secs(2)));
    assert_eq!(
        l.cgroup,
        CgroupLimits {
            memory: Some(1 << 30),
            memory_swap: Some(0),
            pids_max: Some(10),
            cpus_milli: Some(1500),
            own: true,
        }
    );
    assert!(l.cgroup.wanted());
    assert!(spec(&["--pids-max", "1", "true"]).limits.cgroup.wanted());
    assert!(!spec(&["true"]).limits.cgroup.wanted());
    assert!(!l.json_usage);
    assert_eq!(spec(&["true"]).limits, Default::default());
}

#[test]
fn a_later_value_replaces_an_earlier_one() {
    let host = Host::user();
    let (r, warnings) = host.parse(&[
        "--rlimit",
        "nofile=10",
        "--rlimit",
        "nproc=5",
        "--rlimit",
        "nofile=20",
        "--timeout",
        "1s",
        "--timeout",
        "2s",
        "true",
    ]);
    let s = match r {
        Ok(crate::cli::Outcome::Run(s)) => s,
        other => panic!("{other:?}"),
    };
    let names: Vec<(&str, Option<u64>)> =
        s.limits.rlimits.iter().map(|r| (r.name, r.soft)).collect();
    assert_eq!(names, [("nproc", Some(5)), ("nofile", Some(20))]);
    assert_eq!(s.limits.timeout, Some(Duration::from_secs(2)));
    // Like bwrap's single-value options; --rlimit is per resource, silent.
    assert_eq!(
        warnings,
        ["sandwrap: Only the last --timeout option will take effect"]
    );
}

#[test]
fn checks_after_parsing() {
    assert_eq!(
        err(&["--kill-after", "1s", "true"]),
        "--kill-after requires --timeout (it is the grace period after the timeout's SIGTERM)"
    );
    assert_eq!(
        err(&["--json-usage", "true"]),
        "--json-usage requires --json-status-fd (the usage object is written there)"
    );
    assert_eq!(err(&["--timeout"]), "--timeout takes an argument");
    assert_eq!(
        err(&["--rlimit", "nofile=1\u{e9}", "true"]),
        "--rlimit 'nofile=1\u{e9}': \"1\u{e9}\" is not a number (or unlimited)"
    );
}
