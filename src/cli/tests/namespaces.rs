//! sandwrap's own namespace options: --unshare-time, --time-offset,
//! --map-subids, --map-subids-count.

use super::{Host, err, spec};
use crate::spec::{SubIds, TimeClock, TimeOffset};

#[test]
fn time_offsets_imply_the_namespace_and_replace_per_clock() {
    let s = spec(&["true"]);
    assert!(!s.namespaces.time && s.time_offsets.is_empty());
    let s = spec(&["--unshare-all", "true"]);
    assert!(!s.namespaces.time, "--unshare-all keeps bwrap's meaning");
    let s = spec(&["--unshare-time", "true"]);
    assert!(s.namespaces.time && s.time_offsets.is_empty());
    let s = spec(&[
        "--time-offset",
        "boottime=5",
        "--time-offset",
        "monotonic=-1",
        "--time-offset",
        "boottime=7.5",
        "true",
    ]);
    assert!(s.namespaces.time);
    assert_eq!(
        s.time_offsets,
        [
            TimeOffset {
                clock: TimeClock::Monotonic,
                secs: -1,
                nanos: 0
            },
            TimeOffset {
                clock: TimeClock::Boottime,
                secs: 7,
                nanos: 500_000_000
            },
        ]
    );
    assert_eq!(
        err(&["--time-offset", "tai=1", "true"]),
        "--time-offset tai=1: unknown clock \"tai\" (a time namespace shifts monotonic and boottime)"
    );
}

#[test]
fn subids_and_their_count() {
    assert_eq!(spec(&["true"]).subids, None);
    assert_eq!(
        spec(&["--map-subids", "true"]).subids,
        Some(SubIds { count: None })
    );
    assert_eq!(
        spec(&["--map-subids-count", "10", "true"]).subids,
        Some(SubIds { count: Some(10) })
    );
    assert_eq!(
        spec(&["--map-subids-count", "10", "--map-subids", "true"]).subids,
        Some(SubIds { count: Some(10) })
    );
    let (_, warnings) = Host::user().parse(&[
        "--map-subids-count",
        "10",
        "--map-subids-count",
        "20",
        "true",
    ]);
    assert_eq!(
        warnings,
        ["sandwrap: Only the last --map-subids-count option will take effect"]
    );
    // Root without --unshare-user gets no user namespace to map.
    assert_eq!(
        Host::root().err(&["--map-subids", "true"]),
        "--map-subids requires a new user namespace (--unshare-user; not --userns)"
    );
    assert!(
        Host::root()
            .spec(&["--unshare-user", "--map-subids", "true"])
            .subids
            .is_some()
    );
}
