//! `--network`, `--network-allow-host-loopback`, `--publish`: last wins
//! with --unshare-net/--share-net/--unshare-all, and the checks after parsing.

use super::{err, spec};

#[test]
fn network_modes_follow_the_last_wins_rule() {
    let net = |args: &[&str]| {
        let mut words = args.to_vec();
        words.push("true");
        let s = spec(&words);
        (s.namespaces.net, s.network.pasta)
    };
    assert_eq!(net(&["--unshare-all", "--network", "pasta"]), (true, true));
    assert_eq!(net(&["--network", "pasta", "--unshare-all"]), (true, false));
    assert_eq!(net(&["--network", "pasta", "--share-net"]), (false, false));
    assert_eq!(net(&["--network", "pasta", "--unshare-net"]), (true, false));
    assert_eq!(
        net(&["--network", "pasta", "--network", "host"]),
        (false, false)
    );
    assert_eq!(net(&["--unshare-all", "--network", "host"]), (false, false));
    assert_eq!(net(&["--network", "none"]), (true, false));
    assert_eq!(net(&["--share-net", "--network", "pasta"]), (true, true));
}

#[test]
fn publish_is_repeatable() {
    let s = spec(&[
        "--network",
        "pasta",
        "--publish",
        "8080:80",
        "--publish",
        "10.0.0.1:53:53/tcp",
        "--network-allow-host-loopback",
        "true",
    ]);
    assert_eq!(s.network.publish.len(), 2);
    assert_eq!(
        s.network.publish[1].host_ip,
        Some(std::net::IpAddr::from([10, 0, 0, 1]))
    );
    assert!(s.network.allow_host_loopback);
}

#[test]
fn network_errors() {
    for (words, want) in [
        (
            &["--network", "slirp", "true"][..],
            "--network: unknown mode \"slirp\" (expected none, host or pasta)",
        ),
        (
            &["--network", "pasta", "--publish", "80", "true"][..],
            "--publish 80: expected [HOST_IP:]HOST_PORT:SANDBOX_PORT[/tcp|/udp]",
        ),
        (
            &["--network", "pasta", "--publish", "5353:53/udp", "true"][..],
            "--publish 5353:53/udp: a UDP forward must keep its port (HOST_PORT 5353 = SANDBOX_PORT 53): pasta (passt 2023-03-09) loses the replies of a renumbered UDP port",
        ),
        (
            &["--publish", "8080:80", "true"][..],
            "--publish requires --network pasta",
        ),
        (
            &["--unshare-net", "--network-allow-host-loopback", "true"][..],
            "--network-allow-host-loopback requires --network pasta",
        ),
        (
            &[
                "--network",
                "pasta",
                "--publish",
                "8080:80",
                "--share-net",
                "true",
            ][..],
            "--publish requires --network pasta",
        ),
    ] {
        assert_eq!(err(words), want, "{words:?}");
    }
    let e = err(&["--network", "pasta", "--fallback", "landlock", "true"]);
    assert!(
        e.starts_with("--network pasta is not compatible with --fallback landlock"),
        "{e}"
    );
    let e = err(&["--pidns", "5", "--network", "pasta", "true"]);
    assert!(
        e.starts_with("--network pasta is not compatible with --pidns"),
        "{e}"
    );
}

#[test]
fn pasta_needs_a_user_namespace_of_its_own() {
    let root = super::Host::root();
    assert_eq!(
        root.err(&["--unshare-net", "--network", "pasta", "true"]),
        "--network pasta requires a new user namespace (pasta enters the sandbox's namespaces through it): add --unshare-user"
    );
    let s = root.spec(&["--unshare-user", "--network", "pasta", "true"]);
    assert!(s.network.pasta);
}
