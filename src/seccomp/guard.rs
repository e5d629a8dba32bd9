//! Rules sandwrap adds to the command's filter on its own, where another
//! restriction would be bypassed without them (attack class 6):
//!
//! - landlock's TCP rules see IPPROTO_TCP only: an MPTCP (or SCTP) socket
//!   connects to and listens on any port. Such sockets fail with
//!   EPROTONOSUPPORT, which makes programs fall back to plain TCP.
//! - landlock checks `connect`, but TCP Fast Open connects from `sendto`/
//!   `sendmsg` with `MSG_FASTOPEN`, which it does not see: that flag fails
//!   with EOPNOTSUPP, as when the host turns Fast Open off.
//! - io_uring runs socket, connect and open operations inside the kernel,
//!   where no seccomp filter sees their arguments: it is denied whole.
//! - `--fallback landlock` cannot keep the command from connecting to the
//!   host's pathname unix sockets (landlock ABI <= 8 does not restrict
//!   that); when the network was to be unshared, unix sockets that could
//!   reach one are refused.
//! - a sandbox with a cgroup of its own sees every cgroup filesystem read
//!   only, but `clone3`'s CLONE_INTO_CGROUP takes the target cgroup as a
//!   directory fd (which a read-only mount still opens), and the kernel
//!   checks only who owns that cgroup's `cgroup.procs`, the command's uid
//!   for the delegated cgroups above its own: a child would start out of
//!   reach of the limits and of `cgroup.kill`. clone3 fails with ENOSYS,
//!   which makes libc fall back to clone (which has no such flag).

use super::consts;
use super::policy::{Action, Cond, Op, Policy};
use super::syscalls::Arch;
use crate::landlock::Mode;
use crate::landlock::plan::{fallback_unshares_net, restricts_tcp};
use crate::spec::Spec;

/// The policy the command runs under, namespaced or in the fallback
/// (`place`): the user's, plus the rules below where they are needed.
/// Without a policy of the user's, those rules alone make one (policy
/// `guard`). `None`: no filter of sandwrap's (or, on an architecture its
/// filters do not support, none possible).
pub fn command_policy(spec: &Spec, place: Mode) -> Result<Option<Policy>, String> {
    let net = restricts_tcp(spec, place);
    let unix = fallback_unshares_net(spec, place);
    let cgroup = spec.limits.cgroup.wanted();
    let mut policy = match (&spec.seccomp.policy, Arch::native()) {
        (Some(p), _) => p.clone(),
        (None, Some(arch)) if net || unix || cgroup => Policy {
            name: "guard".into(),
            ..Policy::allow_all(arch)
        },
        _ => return Ok(None),
    };
    if net {
        add_network_rules(&mut policy)?;
    }
    if unix {
        add_unix_socket_rules(&mut policy)?;
    }
    if cgroup {
        add_cgroup_rules(&mut policy)?;
    }
    Ok(Some(policy))
}

pub const IPPROTO_MPTCP: u64 = 262;
pub const IPPROTO_SCTP: u64 = 132;
/// The calls that connect a TCP socket when given `MSG_FASTOPEN`.
pub const FASTOPEN_SENDS: [&str; 3] = ["sendto", "sendmsg", "sendmmsg"];
pub const IO_URING: [&str; 3] = ["io_uring_setup", "io_uring_enter", "io_uring_register"];
/// The socket type without SOCK_NONBLOCK/SOCK_CLOEXEC (the kernel's SOCK_TYPE_MASK).
const SOCK_TYPE_MASK: u64 = 0xf;

/// The origin the network rules show in reports.
pub const NETWORK_ORIGIN: &str =
    "landlock network rules (MPTCP, SCTP, TCP Fast Open and io_uring would bypass them)";
/// The origin of the fallback's unix socket rules.
pub const UNIX_ORIGIN: &str = "--fallback landlock with --unshare-net (landlock cannot restrict connecting to pathname unix sockets)";

/// The origin of the own cgroup's rule.
pub const CGROUP_ORIGIN: &str = "the sandbox's own cgroup (clone3's CLONE_INTO_CGROUP would start a child in a cgroup above it, through the read-only cgroup filesystem)";

/// With a cgroup of its own: no clone3 (see the module's comment).
/// Appended last, so it wins over the user's policy.
pub fn add_cgroup_rules(policy: &mut Policy) -> Result<(), String> {
    policy.push(
        "clone3",
        Vec::new(),
        Action::Errno(libc::ENOSYS),
        CGROUP_ORIGIN,
    )
}

/// `socket`'s argument `name`, compared as the kernel reads it: an int,
/// so only the low 32 bits count (junk in the upper half cannot dodge it).
fn socket_arg(call: &str, name: &str, op: Op, value: u64) -> Result<Cond, String> {
    let (arg, narrow) =
        consts::arg(call, name).ok_or_else(|| format!("{call} has no argument {name}"))?;
    Ok(Cond {
        arg,
        narrow,
        op,
        value,
    })
}

/// While a landlock network rule is in force: no MPTCP or SCTP socket of
/// either IP family, no io_uring. Appended last, so they win over every
/// rule of the user's policy.
pub fn add_network_rules(policy: &mut Policy) -> Result<(), String> {
    let eproto = Action::Errno(libc::EPROTONOSUPPORT);
    for domain in [libc::AF_INET, libc::AF_INET6] {
        for proto in [IPPROTO_MPTCP, IPPROTO_SCTP] {
            let conds = vec![
                socket_arg("socket", "domain", Op::Eq, domain as u64)?,
                socket_arg("socket", "protocol", Op::Eq, proto)?,
            ];
            policy.push("socket", conds, eproto, NETWORK_ORIGIN)?;
        }
    }
    // SCTP is also what an IP seqpacket socket of protocol 0 gets.
    for domain in [libc::AF_INET, libc::AF_INET6] {
        let conds = vec![
            socket_arg("socket", "domain", Op::Eq, domain as u64)?,
            socket_arg(
                "socket",
                "type",
                Op::MaskedEq(SOCK_TYPE_MASK),
                libc::SOCK_SEQPACKET as u64,
            )?,
        ];
        policy.push("socket", conds, eproto, NETWORK_ORIGIN)?;
    }
    let fastopen = libc::MSG_FASTOPEN as u64;
    for call in FASTOPEN_SENDS {
        let flags = socket_arg(call, "flags", Op::MaskedEq(fastopen), fastopen)?;
        policy.push(
            call,
            vec![flags],
            Action::Errno(libc::EOPNOTSUPP),
            NETWORK_ORIGIN,
        )?;
    }
    for call in IO_URING {
        policy.push(call, Vec::new(), Action::Errno(libc::EPERM), NETWORK_ORIGIN)?;
    }
    Ok(())
}

/// `--fallback landlock` with `--unshare-net`: a seccomp filter cannot read
/// the address a `connect` or `sendto` goes to, nor the family of the
/// socket it is called on. What it can see is the socket being made, so
/// every unix socket that could name an address is refused (EACCES, as a
/// refused connect would be): `socket(AF_UNIX, ...)` and datagram socket
/// pairs (`sendto` on a datagram pair can still address any named socket).
/// Stream and seqpacket pairs stay: they are connected to each other and
/// ignore addresses.
pub fn add_unix_socket_rules(policy: &mut Policy) -> Result<(), String> {
    let eacces = Action::Errno(libc::EACCES);
    let unix = |call| socket_arg(call, "domain", Op::Eq, libc::AF_UNIX as u64);
    policy.push("socket", vec![unix("socket")?], eacces, UNIX_ORIGIN)?;
    let dgram = socket_arg(
        "socketpair",
        "type",
        Op::MaskedEq(SOCK_TYPE_MASK),
        libc::SOCK_DGRAM as u64,
    )?;
    policy.push(
        "socketpair",
        vec![unix("socketpair")?, dgram],
        eacces,
        UNIX_ORIGIN,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seccomp::Arch;

    fn socket(p: &Policy, call: &str, args: [u64; 6]) -> Action {
        p.decide(p.arch.audit(), p.arch.nr(call).expect(call), &args)
            .0
    }

    #[test]
    fn network_rules_refuse_mptcp_sctp_and_io_uring_only() {
        for arch in Arch::ALL {
            let mut p = Policy::allow_all(arch);
            add_network_rules(&mut p).expect("rules");
            let eproto = Action::Errno(libc::EPROTONOSUPPORT);
            let (inet, inet6) = (libc::AF_INET as u64, libc::AF_INET6 as u64);
            let stream = libc::SOCK_STREAM as u64;
            for domain in [inet, inet6] {
                for proto in [IPPROTO_MPTCP, IPPROTO_SCTP] {
                    assert_eq!(
                        socket(&p, "socket", [domain, stream, proto, 0, 0, 0]),
                        eproto
                    );
                    // The kernel drops the upper half of these int arguments.
                    let junk = 0xdead_beef_0000_0000;
                    assert_eq!(
                        socket(&p, "socket", [domain | junk, stream, proto | junk, 0, 0, 0]),
                        eproto
                    );
                }
                for proto in [0, libc::IPPROTO_TCP as u64, libc::IPPROTO_UDP as u64] {
                    assert_eq!(
                        socket(&p, "socket", [domain, stream, proto, 0, 0, 0]),
                        Action::Allow
                    );
                }
            }
            // SCTP through protocol 0, and TCP Fast Open's implicit connect.
            for domain in [inet, inet6] {
                let seqpacket = libc::SOCK_SEQPACKET as u64 | libc::SOCK_CLOEXEC as u64;
                assert_eq!(
                    socket(&p, "socket", [domain, seqpacket, 0, 0, 0, 0]),
                    eproto
                );
            }
            let fastopen = libc::MSG_FASTOPEN as u64;
            let eopnotsupp = Action::Errno(libc::EOPNOTSUPP);
            assert_eq!(
                socket(&p, "sendto", [3, 0, 4, fastopen | 0x40, 0, 0]),
                eopnotsupp
            );
            assert_eq!(socket(&p, "sendmsg", [3, 0, fastopen, 0, 0, 0]), eopnotsupp);
            assert_eq!(
                socket(&p, "sendmmsg", [3, 0, 1, fastopen, 0, 0]),
                eopnotsupp
            );
            assert_eq!(socket(&p, "sendto", [3, 0, 4, 0x40, 0, 0]), Action::Allow);
            assert_eq!(
                socket(&p, "sendmsg", [3, 0, fastopen << 32, 0, 0, 0]),
                Action::Allow
            );
            // Other families may use protocol number 262 for something else.
            let unix = libc::AF_UNIX as u64;
            assert_eq!(
                socket(&p, "socket", [unix, stream, 262, 0, 0, 0]),
                Action::Allow
            );
            for call in IO_URING {
                assert_eq!(
                    socket(&p, call, [0; 6]),
                    Action::Errno(libc::EPERM),
                    "{call}"
                );
            }
        }
    }

    #[test]
    fn cgroup_rule_refuses_clone3_only() {
        for arch in Arch::ALL {
            let mut p = Policy::allow_all(arch);
            add_cgroup_rules(&mut p).expect("rules");
            let into_cgroup = 0x2_0000_0000;
            assert_eq!(
                socket(&p, "clone3", [into_cgroup, 88, 0, 0, 0, 0]),
                Action::Errno(libc::ENOSYS)
            );
            assert_eq!(socket(&p, "clone", [0x11, 0, 0, 0, 0, 0]), Action::Allow);
        }
    }

    #[test]
    fn unix_rules_refuse_what_can_address_a_host_socket() {
        let mut p = Policy::allow_all(Arch::X86_64);
        add_unix_socket_rules(&mut p).expect("rules");
        let eacces = Action::Errno(libc::EACCES);
        let unix = libc::AF_UNIX as u64;
        let cloexec = libc::SOCK_CLOEXEC as u64;
        for ty in [libc::SOCK_STREAM, libc::SOCK_DGRAM, libc::SOCK_SEQPACKET] {
            assert_eq!(socket(&p, "socket", [unix, ty as u64, 0, 0, 0, 0]), eacces);
        }
        let dgram = libc::SOCK_DGRAM as u64;
        assert_eq!(
            socket(&p, "socketpair", [unix, dgram | cloexec, 0, 0, 0, 0]),
            eacces
        );
        for ty in [libc::SOCK_STREAM, libc::SOCK_SEQPACKET] {
            assert_eq!(
                socket(&p, "socketpair", [unix, ty as u64 | cloexec, 0, 0, 0, 0]),
                Action::Allow
            );
        }
        let inet = libc::AF_INET as u64;
        assert_eq!(socket(&p, "socket", [inet, 1, 0, 0, 0, 0]), Action::Allow);
    }
}
