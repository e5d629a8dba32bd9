//! A network namespace made by a test (as root): its loopback, and one
//! route out into a tap device nothing reads, so no traffic ever leaves
//! the machine. pasta configures a sandbox's interface like this one; its
//! gateway address (`GATEWAY`) is where pasta maps the host's loopback to.

use std::process::Command;

pub const GATEWAY: &str = "10.9.0.1";

/// The network helper script (tests/helpers/nethelper.py).
pub const NETHELPER: &str = include_str!("../helpers/nethelper.py");

/// Shell code that builds the namespace's network.
pub const NETNS_SETUP: &str = "set -e
ip link set lo up
ip tuntap add sw0 mode tap
ip addr add 10.9.0.2/24 dev sw0
ip link set sw0 up
ip route add default via 10.9.0.1
set +e
";

/// `unshare` into new network, mount and pid namespaces (whatever the
/// script leaves running ends with it), running `script` with `sh -c`
/// after `NETNS_SETUP`; ARGS follow as `$1...`.
pub fn netns_command(script: &str) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--net",
        "--mount",
        "--pid",
        "--fork",
        "--mount-proc",
        "--",
        "sh",
        "-c",
    ])
    .arg(format!("{NETNS_SETUP}{script}"))
    .arg("sh");
    cmd
}

/// `cmd` (environment and directory kept), run in a test-made network
/// namespace after `script` (e.g. servers started in the background).
pub fn in_test_netns(cmd: &Command, script: &str) -> Command {
    let mut wrapped = netns_command(&format!("{script}\nexec \"$@\""));
    wrapped.arg(cmd.get_program()).args(cmd.get_args());
    wrapped.env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            wrapped.env(k, v);
        }
    }
    if let Some(d) = cmd.get_current_dir() {
        wrapped.current_dir(d);
    }
    wrapped
}
