//! `--network pasta` (README "Networking"): the sandbox gets its own
//! network with a route out, while the host's loopback services stay out of
//! reach unless `--network-allow-host-loopback`; `--publish` forwards a host
//! port in; pasta never outlives the sandbox.
//!
//! No traffic ever leaves the machine: every test runs in a network
//! namespace it makes itself (as root, `unshare --net --mount --pid`), whose only
//! route out is a tap device nothing reads. Its "gateway" (10.9.0.1) is
//! where pasta would map the host's loopback to; the servers run on that
//! namespace's loopback.
mod common;
use common::*;

use std::time::Duration;

/// What the namespace needs: python3 and ip (iproute2), root to make it,
/// and a /dev/net/tun the test user can open (pasta's tap device).
fn usable() -> bool {
    if !is_root() {
        skip!("skipping: the network tests make their own network namespace, which needs root");
        return false;
    }
    for tool in ["python3", "ip", "unshare", "pasta"] {
        let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .any(|d| d.join(tool).exists());
        if !found {
            skip!("skipping: {tool} is not installed (see .ci/run)");
            return false;
        }
    }
    let mut probe = user_command(std::path::Path::new("/bin/sh"));
    probe.args(["-c", "exec 3<>/dev/net/tun && echo ok"]);
    let o = output(probe);
    if stdout(&o).trim() != "ok" {
        skip!(
            "skipping: /dev/net/tun cannot be opened by an unprivileged user here ({}): .ci/run sets it 0666 as desktop distributions ship it",
            stderr(&o).trim()
        );
        return false;
    }
    true
}

/// Run `script` as root in a test-made network namespace (`netns_command`). In the script: `$H` runs the helper,
/// `user CMD...` runs CMD as the test user, `$SW` is sandwrap.
fn in_netns(script: &str, limit: Duration) -> (Option<i32>, String, String) {
    let dir = scratch("net");
    let helper = dir.join("nethelper.py");
    std::fs::write(&helper, NETHELPER).expect("write helper");
    let uid = test_uid();
    let prelude = format!(
        r#"H="python3 {helper}"
SW={sw}
user() {{ setpriv --reuid {uid} --regid {uid} --clear-groups -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/ H="$H" "$@"; }}
"#,
        helper = helper.display(),
        sw = sandwrap_bin().display(),
    );
    let mut cmd = netns_command(&format!("{prelude}{script}"));
    cmd.current_dir(&dir);
    output_within(cmd, limit)
}

/// The sandbox of these tests: `--unshare-all --network pasta` on the
/// host's root, with EXTRA options, running `$H ARGS`-style shell code.
fn sandbox(extra: &str, inner: &str) -> String {
    format!(
        "user $SW --unshare-all --network pasta {extra} --ro-bind / / --proc /proc --dev /dev -- sh -c '{inner}'"
    )
}

fn lines(out: &str) -> Vec<&str> {
    out.lines().collect()
}

/// Run `script` (`in_netns`, a minute at most): it succeeds and prints
/// `want`.
fn assert_prints(script: &str, want: &[&str]) {
    let (code, out, err) = in_netns(script, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(lines(&out), want, "{err}");
}

/// Shell code: the host's resolv.conf names `resolver` (a loopback
/// address) and the test's resolver runs there: `$H dns` (UDP; `udp` is
/// its further arguments) and, with `tcp`, `$H dns-tcp`; then `rest`.
fn with_host_resolver(resolver: &str, udp: &str, tcp: bool, rest: &str) -> String {
    let tcp = if tcp {
        format!("$H dns-tcp {resolver} & $H wait {resolver} 53 >/dev/null\n")
    } else {
        String::new()
    };
    format!(
        "printf \"nameserver {resolver}\\noptions timeout:2 attempts:1\\n\" > host-resolv.conf\n\
         mount --bind host-resolv.conf /etc/resolv.conf || exit 9\n\
         $H dns {resolver} {udp} & $H wait-dns {resolver}\n{tcp}{rest}\n"
    )
}

#[test]
fn host_loopback_is_out_of_reach_unless_allowed() {
    if !usable() {
        return;
    }
    // The host's loopback server is reachable neither through the
    // sandbox's own loopback (pasta would forward ports bound there) nor
    // through the gateway address (pasta maps it to the host's loopback).
    let probes = format!("$H probe 127.0.0.1 7777; $H probe {GATEWAY} 7777");
    let script = format!(
        "$H serve 127.0.0.1 7777 & $H wait 127.0.0.1 7777\necho default; {}\necho allowed; {}\n",
        sandbox("", &probes),
        sandbox("--network-allow-host-loopback", &probes)
    );
    let (code, out, err) = in_netns(&script, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(
        lines(&out),
        [
            "127.0.0.1:7777=hello-7777",
            "default",
            "127.0.0.1:7777=ConnectionRefusedError",
            "10.9.0.1:7777=TimeoutError",
            "allowed",
            "127.0.0.1:7777=ConnectionRefusedError",
            "10.9.0.1:7777=hello-7777",
        ],
        "{err}"
    );
}

#[test]
fn published_ports_reach_servers_inside() {
    if !usable() {
        return;
    }
    // The sandbox serves 8000 and 8002; the host reaches 8000 on its
    // loopback port 18000 (twice: two forms). Unpublished 8002 stays closed.
    let inner = "$H serve 0.0.0.0 8000 & $H serve 0.0.0.0 8002 & sleep 30";
    let script = format!(
        "{} &\n$H wait 127.0.0.1 18000\n$H probe 127.0.0.1 18001\n$H probe 127.0.0.1 18002\n",
        sandbox(
            "--publish 18000:8000 --publish 127.0.0.1:18001:8000/tcp",
            inner
        )
    );
    let (code, out, err) = in_netns(&script, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(
        lines(&out),
        [
            "127.0.0.1:18000=hello-8000",
            "127.0.0.1:18001=hello-8000",
            "127.0.0.1:18002=ConnectionRefusedError",
        ],
        "{err}"
    );
}

#[test]
fn published_udp_ports_reach_servers_inside_and_answer() {
    if !usable() {
        return;
    }
    // UDP echo servers inside; the host's client gets the answers back on
    // its loopback (pasta's loopback-to-loopback path). A client on the
    // host's own address (pasta's tap path, which presents it to the
    // sandbox as the gateway) gets them when the gateway leads back to the
    // host (--network-allow-host-loopback; see README "Networking").
    // Unpublished ports stay closed.
    let inner = "$H serve-udp 0.0.0.0 15353 & $H serve-udp 0.0.0.0 15354 & $H serve-udp 0.0.0.0 15355 & sleep 30";
    let script = format!(
        "{} &\n{} &\n$H wait-udp 127.0.0.1 15353\n$H wait-udp 127.0.0.1 16354 >/dev/null\n\
         $H probe-udp 127.0.0.1 15353\n$H probe-udp 10.9.0.2 16354\n$H probe-udp 127.0.0.1 15355\n",
        sandbox("--publish 15353:15353/udp", inner),
        sandbox(
            "--network-allow-host-loopback --publish 0.0.0.0:16354:16354/udp",
            &inner.replace("15354", "16354")
        ),
    );
    assert_prints(
        &script,
        &[
            "127.0.0.1:15353=hello-15353",
            "127.0.0.1:15353=hello-15353",
            "10.9.0.2:16354=hello-16354",
            // Unconnected: nothing answers, nothing says no.
            "127.0.0.1:15355=TimeoutError",
        ],
    );
}

#[test]
fn the_interface_is_configured_before_the_command_runs() {
    if !usable() {
        return;
    }
    // At once, without waiting: an address, the default route, lo.
    let inner = "ip -4 -br addr show scope global | tr -s \" \"; ip route show default; $H serve 127.0.0.1 9999 & $H wait 127.0.0.1 9999";
    let (code, out, err) = in_netns(&sandbox("", inner), Duration::from_secs(60));
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(
        lines(&out),
        [
            "sw0 UNKNOWN 10.9.0.2/24 ",
            "default via 10.9.0.1 dev sw0 ",
            "127.0.0.1:9999=hello-9999",
        ],
        "{err}"
    );
}

#[test]
fn landlock_tcp_rules_apply_through_pasta() {
    if !usable() {
        return;
    }
    let probes = format!("$H probe {GATEWAY} 80; $H probe {GATEWAY} 81");
    let script = format!(
        "$H serve 127.0.0.1 80 & $H serve 127.0.0.1 81 & $H wait 127.0.0.1 80; $H wait 127.0.0.1 81\n{}\n",
        sandbox(
            "--network-allow-host-loopback --landlock-tcp-connect 80 --seccomp-policy default",
            &probes
        )
    );
    let (code, out, err) = in_netns(&script, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{out}\n{err}");
    if landlock_abi() < 4 {
        skip!("skipping: landlock ABI < 4 has no TCP rules");
        return;
    }
    assert_eq!(
        lines(&out)[2..],
        ["10.9.0.1:80=hello-80", "10.9.0.1:81=PermissionError"],
        "{err}"
    );
}

#[test]
fn nothing_is_left_after_fifty_sandboxes_or_a_killed_sandwrap() {
    if !usable() {
        return;
    }
    // With the DNS forward's relay too (a resolver on the host's loopback).
    let inner = "$H resolve n.example >/dev/null; $H probe 127.0.0.1 1 >/dev/null";
    // pasta's processes of the test user (pasta re-executes itself as
    // passt.avx2 where it can; a short-lived helper of its is counted too).
    let count = format!("ps -u {} -o comm= | grep -c ^pas", test_uid());
    let script = with_host_resolver(
        "127.0.0.53",
        "",
        true,
        &format!(
            "i=0; while [ $i -lt 50 ]; do {} || echo \"run $i failed\"; i=$((i+1)); done\n\
             echo before: $({count})\n\
             {} & i=0; while [ $({count}) = 0 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done\n\
             echo running: $({count} | grep -c -v ^0$)\n\
             kill -KILL $(pgrep -o -u {uid} -x sandwrap)\n\
             i=0; while [ $({count}) != 0 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done\n\
             echo after kill: $({count})",
            sandbox("", inner),
            sandbox("", "sleep 30"),
            uid = test_uid()
        ),
    );
    let (code, out, err) = in_netns(&script, Duration::from_secs(120));
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(
        lines(&out),
        ["before: 0", "running: 1", "after kill: 0"],
        "{err}"
    );
}

#[test]
fn timeout_ends_the_sandbox_and_leaves_pasta_to_its_supervision() {
    if !usable() {
        return;
    }
    // --timeout's SIGTERM goes to the sandbox only: the network (pasta)
    // stays through the grace period (a command that ignores SIGTERM still
    // answers on its published port), then everything ends: status 124,
    // no process of the test user left, nothing said but the timeout.
    let script = format!(
        "{} 2>err &\n$H wait 127.0.0.1 18000\nsleep 2\n$H probe 127.0.0.1 18000\n\
         wait $!; echo status $?\necho left: $(ps -u {} -o comm= | grep -c .)\ncat err\n",
        sandbox(
            "--timeout 1 --kill-after 3 --publish 18000:8000",
            "trap \"\" TERM; $H serve 0.0.0.0 8000"
        ),
        test_uid()
    );
    let (code, out, err) = in_netns(&script, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(
        lines(&out),
        [
            "127.0.0.1:18000=hello-8000",
            "127.0.0.1:18000=hello-8000",
            "status 124",
            "left: 0",
            "sandwrap: timed out after 1s: SIGTERM to the sandbox, SIGKILL in 3s",
        ],
        "{err}"
    );
}

#[test]
fn pasta_runs_with_its_own_signal_state() {
    if !usable() {
        return;
    }
    // Not the supervisor's blocked signals: pasta reaps its short-lived
    // helpers (no zombies pile up while the sandbox runs) and can be asked
    // to end. Its own process group: a Ctrl-C for the command does not end
    // the sandbox's network.
    let uid = test_uid();
    let script = format!(
        "{} &\nsleep 2\necho zombies: $(ps -u {uid} -o stat= | grep -c ^Z)\n\
         P=$(pgrep -o -u {uid} ^pas)\necho group: $(ps -o pgid= -p $P | tr -d \" \") = $P\n\
         grep SigBlk /proc/$P/status\n",
        sandbox("", "sleep 30"),
    );
    let (code, out, err) = in_netns(&script, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{out}\n{err}");
    let l = lines(&out);
    assert_eq!(l.len(), 3, "{out}\n{err}");
    assert_eq!(l[0], "zombies: 0", "{err}");
    let (group, pid) = l[1].split_once(" = ").unwrap_or_default();
    assert_eq!(group, format!("group: {pid}"), "{err}");
    assert_eq!(l[2], "SigBlk:\t0000000000000000", "{err}");
}

#[test]
fn pasta_missing_is_one_clear_error() {
    let (code, out, err) = {
        let mut c = sandwrap([
            "--unshare-all",
            "--network",
            "pasta",
            "--ro-bind",
            "/",
            "/",
            "/bin/true",
        ]);
        // A PATH with setpriv (which starts sandwrap) and no pasta.
        let dir = scratch("nopasta");
        std::os::unix::fs::symlink("/usr/bin/setpriv", dir.join("setpriv")).expect("symlink");
        c.env("PATH", &dir);
        let o = output(c);
        (o.status.code(), stdout(&o), stderr(&o))
    };
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        err,
        "sandwrap: --network pasta: pasta not found in PATH: install it (Debian, Ubuntu: apt-get install passt; Fedora: dnf install passt)\n"
    );
}

#[test]
fn unusable_tun_device_is_one_clear_error() {
    if !usable() {
        return;
    }
    // A /dev/net/tun of mode 0600, as some distributions ship it.
    let script = format!(
        "mount -t tmpfs none /mnt && mknod -m 600 /mnt/tun c 10 200 && mount --bind /mnt/tun /dev/net/tun || exit 9\n{}\necho status $?; echo left: $(ps -u {} -o comm= | grep -c ^pas)\n",
        sandbox("", "true"),
        test_uid()
    );
    let (code, out, err) = in_netns(&script, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(lines(&out), ["status 1", "left: 0"]);
    assert_eq!(
        err,
        "sandwrap: --network pasta: /dev/net/tun is not usable: Permission denied: pasta needs it readable and writable by the caller: desktop distributions ship it mode 0666 (as root: chmod 0666 /dev/net/tun)\n"
    );
}

#[test]
fn info_fd_reports_the_commands_network_namespace() {
    if !usable() {
        return;
    }
    let inner = "readlink /proc/self/ns/net";
    let script = format!(
        "{} 3>info\ngrep -o \"\\\"net-namespace\\\": [0-9]*\" info\n",
        sandbox("--info-fd 3", inner)
    );
    let (code, out, err) = in_netns(&script, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{out}\n{err}");
    let l = lines(&out);
    assert_eq!(l.len(), 2, "{out}\n{err}");
    let inode = l[1].rsplit(' ').next().unwrap_or("?");
    assert_eq!(l[0], format!("net:[{inode}]"), "{err}");
}

#[test]
fn a_published_port_in_use_is_one_clear_error() {
    if !usable() {
        return;
    }
    // pasta's own failure (here: the host port is taken) is one line, with
    // what pasta said (sandwrap has reaped pasta before saying it).
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = taken.local_addr().expect("addr").port();
    let publish = format!("{port}:80");
    let (code, out, err) = run(&[
        "--unshare-all",
        "--network",
        "pasta",
        "--publish",
        &publish,
        "--ro-bind",
        "/",
        "/",
        "true",
    ]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        err,
        format!(
            "sandwrap: --network pasta: pasta exited with status 1 before the network was ready: Failed to bind any port for '-t 127.0.0.1/{port}:80', exiting\n"
        )
    );
}

#[test]
fn dns_reaches_a_host_resolver_on_loopback_through_pasta() {
    if !usable() {
        return;
    }
    // The host's resolver is on its loopback (as systemd-resolved's
    // 127.0.0.53), which the sandbox cannot reach: its resolv.conf names
    // pasta's DNS forward instead, the host's search and options lines
    // kept. The query goes through the C library's resolver (python's
    // gethostbyname: nss, then the resolv.conf the sandbox sees).
    let inner = "cat /etc/resolv.conf; $H resolve sandbox-test.example; $H probe 127.0.0.1 53";
    let script = format!(
        "printf \"search example.org\\nnameserver 127.0.0.1\\noptions timeout:2\\n\" > host-resolv.conf\n\
         mount --bind host-resolv.conf /etc/resolv.conf || exit 9\n\
         $H dns 127.0.0.1 & $H wait-dns 127.0.0.1\n\
         {}\n",
        sandbox("", inner)
    );
    let (code, out, err) = in_netns(&script, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(
        lines(&out),
        [
            "# sandwrap --network pasta: the host's resolver, forwarded",
            "nameserver 169.254.1.1",
            "search example.org",
            "options timeout:2",
            "sandbox-test.example=10.1.2.3",
            // Only DNS is forwarded: the host's loopback stays closed.
            "127.0.0.1:53=ConnectionRefusedError",
        ],
        "{err}"
    );
}

#[test]
fn dns_over_tcp_reaches_a_host_resolver_on_loopback() {
    if !usable() {
        return;
    }
    // systemd-resolved's address. An answer too large for a datagram comes
    // truncated, and the C library's resolver asks again over TCP, to the
    // same forward address: both reach the host's resolver.
    let inner = "$H resolve big.example; $H query-tcp 169.254.1.1";
    let script = with_host_resolver("127.0.0.53", "tc", true, &sandbox("", inner));
    assert_prints(
        &script,
        &["big.example=10.1.2.3", "169.254.1.1=TCP 10.1.2.3"],
    );
}

#[test]
fn a_sandbox_flooding_the_dns_forward_gets_a_bounded_share() {
    if !usable() {
        return;
    }
    // 100 TCP connections held open to the forward: sandwrap relays a
    // bounded number (its fds stay few: no exhaustion of the supervisor),
    // and DNS over UDP still answers meanwhile.
    let inner = "$H hold-tcp 169.254.1.1 53 100 & sleep 3; $H resolve flood.example; sleep 3";
    let script = with_host_resolver(
        "127.0.0.53",
        "",
        true,
        &format!(
            "{} &\nSB=$!\nsleep 4\necho fds: $(ls /proc/$(pgrep -o -u {} -x sandwrap)/fd | wc -l)\nwait $SB",
            sandbox("", inner),
            test_uid()
        ),
    );
    let (code, out, err) = in_netns(&script, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{out}\n{err}");
    let l = lines(&out);
    assert_eq!(l.len(), 3, "{out}\n{err}");
    let held: usize = l[0].trim_start_matches("held ").parse().unwrap_or(0);
    assert!(held >= 32, "{out}\n{err}");
    assert_eq!(l[1], "flood.example=10.1.2.3", "{err}");
    let fds: usize = l[2]
        .trim_start_matches("fds: ")
        .parse()
        .unwrap_or(usize::MAX);
    assert!(fds <= 2 * 32 + 30, "{out}\n{err}");
}

/// The CPU time (seconds) sandwrap's supervisor, whose thread relays DNS,
/// has used 3 s into `sandbox` (shell code), which must print `first`
/// first; the test's resolver (UDP, and TCP with `tcp`) on 127.0.0.53.
fn relay_cpu_seconds(sandbox: &str, tcp: bool, first: &str) -> f64 {
    let script = with_host_resolver(
        "127.0.0.53",
        "",
        tcp,
        &format!(
            "{} &\nSB=$!\nsleep 3\nP=$(pgrep -o -u {} -x sandwrap)\n\
             echo cpu: $(awk '{{print $14 + $15}}' /proc/$P/stat) $(getconf CLK_TCK)\nwait $SB",
            sandbox,
            test_uid()
        ),
    );
    let (code, out, err) = in_netns(&script, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{out}\n{err}");
    let l = lines(&out);
    assert_eq!(l.first(), Some(&first), "{out}\n{err}");
    let cpu: Vec<f64> = l
        .get(1)
        .and_then(|c| c.strip_prefix("cpu: "))
        .map(|c| c.split(' ').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_default();
    assert_eq!(cpu.len(), 2, "{out}\n{err}");
    cpu[0] / cpu[1]
}

/// A TCP connection to the forward that the sandbox ends (EOF) and then
/// resets, while the resolver has not taken it yet (the test's resolver
/// serves one connection at a time, and the sandbox holds another open):
/// the client's socket reports an error on every poll. The relay must drop
/// the connection, not spin on it: the supervisor's CPU time is no part of
/// the sandbox's (nor of its cgroup's --cpus).
#[test]
fn a_reset_dns_connection_does_not_make_the_relay_spin() {
    if !usable() {
        return;
    }
    let sandbox = sandbox("", "$H reset-after-eof 169.254.1.1");
    let seconds = relay_cpu_seconds(&sandbox, true, "reset");
    assert!(seconds < 0.5, "the supervisor used {seconds} s of CPU");
}

/// A query the sandbox sends the forward from the forward's own address
/// (a raw socket, with CAP_NET_RAW kept): the answer goes back to the
/// forward as if it were a query, and with a resolver that answers
/// anything (as the test's does) the two would pass it back and forth for
/// ever, the supervisor's CPU outside the sandbox's limits. The forward
/// takes no answer (the QR bit) as a query.
#[test]
fn a_query_from_the_forwards_own_address_does_not_loop() {
    if !usable() {
        return;
    }
    // Not `sandbox`: its --dev puts the command in a nested user
    // namespace, without capabilities in the network's.
    let sandbox = "user $SW --unshare-all --network pasta --uid 0 --cap-add CAP_NET_RAW \
                   --ro-bind / / --proc /proc --dev-bind /dev/null /dev/null \
                   -- sh -c \"$H self-query 169.254.1.1\"";
    let seconds = relay_cpu_seconds(sandbox, false, "sent");
    assert!(seconds < 0.5, "the supervisor used {seconds} s of CPU");
}

#[test]
fn dns_reaches_a_host_resolver_on_ipv6_loopback() {
    if !usable() {
        return;
    }
    // A host resolver on ::1 is forwarded as one on 127.0.0.x: the sandbox
    // asks 169.254.1.1 (its own ::1 is not the host's).
    let inner = "head -n 2 /etc/resolv.conf; $H resolve v6.example; $H query-tcp 169.254.1.1";
    let script = with_host_resolver("::1", "", true, &sandbox("", inner));
    assert_prints(
        &script,
        &[
            "# sandwrap --network pasta: the host's resolver, forwarded",
            "nameserver 169.254.1.1",
            "v6.example=10.1.2.3",
            "169.254.1.1=TCP 10.1.2.3",
        ],
    );
}

#[test]
fn resolv_conf_is_left_as_bound_unless_pasta_and_a_loopback_resolver() {
    if !usable() {
        return;
    }
    // A host resolver elsewhere: the file as the user bound it. A loopback
    // resolver without pasta (--unshare-net, --share-net): also untouched;
    // with pasta, a file the user bound that names another resolver too,
    // and a --ro-bind-data file (its content was given on purpose).
    let show = "cat /etc/resolv.conf";
    let script = format!(
        "printf \"search example.org\\nnameserver 10.9.0.1\\n\" > remote.conf\n\
         printf \"nameserver 127.0.0.53\\n\" > local.conf\n\
         mount --bind remote.conf /etc/resolv.conf || exit 9\n\
         {}\n\
         umount /etc/resolv.conf; mount --bind local.conf /etc/resolv.conf || exit 9\n\
         user $SW --unshare-all --ro-bind / / -- cat /etc/resolv.conf\n\
         user $SW --unshare-all --share-net --ro-bind / / -- cat /etc/resolv.conf\n\
         user $SW --unshare-all --network pasta --ro-bind / / --ro-bind remote.conf /etc/resolv.conf -- cat /etc/resolv.conf\n\
         printf \"search a.b\\nnameserver 127.0.0.53\\n\" > stub.conf\n\
         user $SW --unshare-all --network pasta --ro-bind / / --tmpfs /etc --tmpfs /run {stub} /run/stub.conf --symlink /run/stub.conf /etc/resolv.conf -- cat /etc/resolv.conf\n\
         user $SW --unshare-all --network pasta --ro-bind / / --ro-bind-data 3 /etc/resolv.conf -- cat /etc/resolv.conf 3<stub.conf\n",
        sandbox("", show),
        stub = "--ro-bind stub.conf"
    );
    let (code, out, err) = in_netns(&script, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(
        lines(&out),
        [
            "search example.org",
            "nameserver 10.9.0.1",
            "nameserver 127.0.0.53",
            "nameserver 127.0.0.53",
            "search example.org",
            "nameserver 10.9.0.1",
            // A symlink (as systemd-resolved's): the file it leads to is
            // covered.
            "# sandwrap --network pasta: the host's resolver, forwarded",
            "nameserver 169.254.1.1",
            "search a.b",
            // --ro-bind-data: the content the user gave, as given.
            "search a.b",
            "nameserver 127.0.0.53",
        ],
        "{err}"
    );
}
