//! Every option in the table changes the Spec as bwrap's option does, and
//! nothing else.

use std::path::PathBuf;

use super::{Host, base, spec};
use crate::cli::Outcome;
use crate::spec::{BindMode, CapOp, EnvOp, FsOp, OverlayKind, Spec};

fn p(s: &str) -> PathBuf {
    PathBuf::from(s)
}

/// The words to test `--name` with (before the command), and the change
/// they must make to the spec of the bare command. Run as root so that no
/// user namespace is implied.
type Change = Box<dyn Fn(&mut Spec)>;

fn case(name: &str) -> (Vec<&'static str>, Change) {
    let w = |v: &[&'static str]| v.to_vec();
    match name {
        "args" => (w(&["--args", "5"]), Box::new(|s| s.namespaces.ipc = true)),
        "argv0" => (
            w(&["--argv0", "name"]),
            Box::new(|s| s.argv0 = Some("name".into())),
        ),
        "level-prefix" => (w(&["--level-prefix"]), Box::new(|s| s.level_prefix = true)),
        "unshare-all" => (
            w(&["--unshare-all"]),
            Box::new(|s| {
                let ns = &mut s.namespaces;
                (ns.user_try, ns.ipc, ns.pid, ns.net, ns.uts, ns.cgroup_try) =
                    (true, true, true, true, true, true);
                // Both probes answer yes on the fake host.
                (ns.user, ns.cgroup) = (true, true);
            }),
        ),
        "share-net" => (w(&["--unshare-net", "--share-net"]), Box::new(|_| {})),
        "unshare-user" => (
            w(&["--unshare-user"]),
            Box::new(|s| s.namespaces.user = true),
        ),
        "unshare-user-try" => (
            w(&["--unshare-user-try"]),
            Box::new(|s| (s.namespaces.user_try, s.namespaces.user) = (true, true)),
        ),
        "unshare-ipc" => (w(&["--unshare-ipc"]), Box::new(|s| s.namespaces.ipc = true)),
        "unshare-pid" => (w(&["--unshare-pid"]), Box::new(|s| s.namespaces.pid = true)),
        "unshare-net" => (w(&["--unshare-net"]), Box::new(|s| s.namespaces.net = true)),
        "unshare-uts" => (w(&["--unshare-uts"]), Box::new(|s| s.namespaces.uts = true)),
        "unshare-cgroup" => (
            w(&["--unshare-cgroup"]),
            Box::new(|s| s.namespaces.cgroup = true),
        ),
        "unshare-cgroup-try" => (
            w(&["--unshare-cgroup-try"]),
            Box::new(|s| (s.namespaces.cgroup_try, s.namespaces.cgroup) = (true, true)),
        ),
        "userns" => (w(&["--userns", "7"]), Box::new(|s| s.join.userns = Some(7))),
        "userns2" => (
            w(&["--userns2", "8"]),
            Box::new(|s| s.join.userns2 = Some(8)),
        ),
        "disable-userns" => (
            w(&["--unshare-user", "--disable-userns"]),
            Box::new(|s| (s.namespaces.user, s.disable_userns) = (true, true)),
        ),
        "assert-userns-disabled" => (
            w(&["--assert-userns-disabled"]),
            Box::new(|s| s.assert_userns_disabled = true),
        ),
        "pidns" => (w(&["--pidns", "9"]), Box::new(|s| s.join.pidns = Some(9))),
        "uid" => (
            w(&["--unshare-user", "--uid", "5"]),
            Box::new(|s| (s.namespaces.user, s.uid) = (true, Some(5))),
        ),
        "gid" => (
            w(&["--unshare-user", "--gid", "6"]),
            Box::new(|s| (s.namespaces.user, s.gid) = (true, Some(6))),
        ),
        "hostname" => (
            w(&["--unshare-uts", "--hostname", "box"]),
            Box::new(|s| (s.namespaces.uts, s.hostname) = (true, Some("box".into()))),
        ),
        "chdir" => (w(&["--chdir", "/d"]), Box::new(|s| s.chdir = Some(p("/d")))),
        "clearenv" => (w(&["--clearenv"]), Box::new(|s| s.env = vec![EnvOp::Clear])),
        "setenv" => (
            w(&["--setenv", "A", "1"]),
            Box::new(|s| s.env = vec![EnvOp::Set("A".into(), "1".into())]),
        ),
        "unsetenv" => (
            w(&["--unsetenv", "A"]),
            Box::new(|s| s.env = vec![EnvOp::Unset("A".into())]),
        ),
        "lock-file" => (
            w(&["--lock-file", "/l"]),
            Box::new(|s| s.lock_files = vec![p("/l")]),
        ),
        "sync-fd" => (
            w(&["--sync-fd", "3"]),
            Box::new(|s| s.status.sync = Some(3)),
        ),
        "bind" | "bind-try" | "dev-bind" | "dev-bind-try" | "ro-bind" | "ro-bind-try" => {
            let mode = match name.trim_end_matches("-try") {
                "bind" => BindMode::ReadWrite,
                "dev-bind" => BindMode::Device,
                _ => BindMode::ReadOnly,
            };
            let allow_missing = name.ends_with("-try");
            let opt: &'static str = Box::leak(format!("--{name}").into_boxed_str());
            (
                vec![opt, "/src", "/dst"],
                Box::new(move |s| {
                    s.ops = vec![FsOp::Bind {
                        src: p("/src"),
                        dest: p("/dst"),
                        mode,
                        allow_missing,
                    }]
                }),
            )
        }
        "bind-fd" => (
            w(&["--bind-fd", "4", "/d"]),
            Box::new(|s| {
                s.ops = vec![FsOp::BindFd {
                    fd: 4,
                    dest: p("/d"),
                    read_only: false,
                }]
            }),
        ),
        "ro-bind-fd" => (
            w(&["--ro-bind-fd", "4", "/d"]),
            Box::new(|s| {
                s.ops = vec![FsOp::BindFd {
                    fd: 4,
                    dest: p("/d"),
                    read_only: true,
                }]
            }),
        ),
        "remount-ro" => (
            w(&["--remount-ro", "/d"]),
            Box::new(|s| s.ops = vec![FsOp::RemountRo { dest: p("/d") }]),
        ),
        "overlay-src" | "tmp-overlay" => (
            w(&["--overlay-src", "/a", "--tmp-overlay", "/d"]),
            Box::new(|s| {
                s.ops = vec![FsOp::Overlay {
                    sources: vec![p("/a")],
                    kind: OverlayKind::Temporary,
                    dest: p("/d"),
                }]
            }),
        ),
        "overlay" => (
            w(&["--overlay-src", "/a", "--overlay", "/up", "/work", "/d"]),
            Box::new(|s| {
                let kind = OverlayKind::Persistent {
                    upper: p("/up"),
                    work: p("/work"),
                };
                s.ops = vec![FsOp::Overlay {
                    sources: vec![p("/a")],
                    kind,
                    dest: p("/d"),
                }]
            }),
        ),
        "ro-overlay" => (
            w(&[
                "--overlay-src",
                "/a",
                "--overlay-src",
                "/b",
                "--ro-overlay",
                "/d",
            ]),
            Box::new(|s| {
                let sources = vec![p("/a"), p("/b")];
                s.ops = vec![FsOp::Overlay {
                    sources,
                    kind: OverlayKind::ReadOnly,
                    dest: p("/d"),
                }]
            }),
        ),
        "exec-label" => (
            w(&["--exec-label", "x_t"]),
            Box::new(|s| s.exec_label = Some("x_t".into())),
        ),
        "file-label" => (
            w(&["--file-label", "x_t"]),
            Box::new(|s| s.file_label = Some("x_t".into())),
        ),
        "proc" => (
            w(&["--proc", "/proc"]),
            Box::new(|s| s.ops = vec![FsOp::Proc { dest: p("/proc") }]),
        ),
        "dev" => (
            w(&["--dev", "/dev"]),
            Box::new(|s| s.ops = vec![FsOp::Dev { dest: p("/dev") }]),
        ),
        "tmpfs" => (
            w(&["--tmpfs", "/t"]),
            Box::new(|s| {
                s.ops = vec![FsOp::Tmpfs {
                    dest: p("/t"),
                    perms: None,
                    size: None,
                }]
            }),
        ),
        "mqueue" => (
            w(&["--mqueue", "/mq"]),
            Box::new(|s| s.ops = vec![FsOp::Mqueue { dest: p("/mq") }]),
        ),
        "dir" => (
            w(&["--dir", "/d"]),
            Box::new(|s| {
                s.ops = vec![FsOp::Dir {
                    dest: p("/d"),
                    perms: None,
                }]
            }),
        ),
        "file" => (
            w(&["--file", "4", "/f"]),
            Box::new(|s| {
                s.ops = vec![FsOp::File {
                    fd: 4,
                    dest: p("/f"),
                    perms: None,
                }]
            }),
        ),
        "bind-data" => (
            w(&["--bind-data", "4", "/f"]),
            Box::new(|s| {
                s.ops = vec![FsOp::BindData {
                    fd: 4,
                    dest: p("/f"),
                    perms: None,
                    read_only: false,
                }]
            }),
        ),
        "ro-bind-data" => (
            w(&["--ro-bind-data", "4", "/f"]),
            Box::new(|s| {
                s.ops = vec![FsOp::BindData {
                    fd: 4,
                    dest: p("/f"),
                    perms: None,
                    read_only: true,
                }]
            }),
        ),
        "symlink" => (
            w(&["--symlink", "target", "/l"]),
            Box::new(|s| {
                s.ops = vec![FsOp::Symlink {
                    target: p("target"),
                    dest: p("/l"),
                }]
            }),
        ),
        "seccomp" => (w(&["--seccomp", "6"]), Box::new(|s| s.seccomp.fd = Some(6))),
        "add-seccomp-fd" => (
            w(&["--add-seccomp-fd", "5"]),
            Box::new(|s| s.seccomp.programs = vec![PAYLOAD.to_vec()]),
        ),
        "block-fd" => (
            w(&["--block-fd", "3"]),
            Box::new(|s| s.status.block = Some(3)),
        ),
        "userns-block-fd" => (
            w(&["--unshare-user", "--info-fd", "4", "--userns-block-fd", "3"]),
            Box::new(|s| {
                s.namespaces.user = true;
                (s.status.info, s.status.userns_block) = (Some(4), Some(3));
            }),
        ),
        "info-fd" => (
            w(&["--info-fd", "3"]),
            Box::new(|s| s.status.info = Some(3)),
        ),
        "json-status-fd" => (
            w(&["--json-status-fd", "3"]),
            Box::new(|s| s.status.json_status = Some(3)),
        ),
        "new-session" => (w(&["--new-session"]), Box::new(|s| s.new_session = true)),
        "die-with-parent" => (
            w(&["--die-with-parent"]),
            Box::new(|s| s.die_with_parent = true),
        ),
        "as-pid-1" => (
            w(&["--unshare-pid", "--as-pid-1"]),
            Box::new(|s| (s.namespaces.pid, s.as_pid_1) = (true, true)),
        ),
        "cap-add" => (
            w(&["--cap-add", "CAP_NET_RAW"]),
            Box::new(|s| s.caps = vec![CapOp::Add(13)]),
        ),
        "cap-drop" => (
            w(&["--cap-drop", "cap_chown"]),
            Box::new(|s| s.caps = vec![CapOp::Drop(0)]),
        ),
        "perms" => (
            w(&["--perms", "0700", "--dir", "/d"]),
            Box::new(|s| {
                s.ops = vec![FsOp::Dir {
                    dest: p("/d"),
                    perms: Some(0o700),
                }]
            }),
        ),
        "size" => (
            w(&["--size", "4096", "--tmpfs", "/t"]),
            Box::new(|s| {
                s.ops = vec![FsOp::Tmpfs {
                    dest: p("/t"),
                    perms: None,
                    size: Some(4096),
                }]
            }),
        ),
        "chmod" => (
            w(&["--chmod", "0750", "/d"]),
            Box::new(|s| {
                s.ops = vec![FsOp::Chmod {
                    path: p("/d"),
                    perms: 0o750,
                }]
            }),
        ),
        "not-a-security-boundary" => (
            w(&["--not-a-security-boundary"]),
            Box::new(|s| s.not_a_security_boundary = true),
        ),
        other => panic!("no test case for --{other}: add one"),
    }
}

/// 8 bytes: one `struct sock_filter`.
const PAYLOAD: &[u8] = &[6, 0, 0, 0, 0, 0, 0xff, 0x7f];

#[test]
fn every_option_changes_the_spec_as_bwrap_does() {
    let mut host = Host::root();
    host.selinux = true;
    // sandwrap's own options are covered by their own modules' tests.
    for o in crate::cli::table::bwrap_options() {
        if matches!(o.name, "help" | "version") {
            continue;
        }
        let (mut words, change) = case(o.name);
        if o.name == "add-seccomp-fd" {
            host.fds.insert(5, PAYLOAD.to_vec());
        } else {
            host.fds.insert(5, b"--unshare-ipc\0".to_vec());
        }
        words.push("true");
        let mut expected = base(&host);
        change(&mut expected);
        assert_eq!(host.spec(&words), expected, "{words:?}");
    }
}

#[test]
fn help_and_version_end_parsing() {
    for (args, help) in [
        (&["--help"][..], true),
        (&["--version"][..], false),
        (&["--unshare-pid", "--help", "--bogus"][..], true),
        (&["--bind", "/a", "/b", "--version", "--perms"][..], false),
        (&["--perms", "0700", "--help"][..], true),
        (&["--overlay-src", "/a", "--version"][..], false),
    ] {
        match Host::user().parse(args).0 {
            Ok(Outcome::Help) => assert!(help, "{args:?}"),
            Ok(Outcome::Version) => assert!(!help, "{args:?}"),
            other => panic!("{args:?}: {other:?}"),
        }
    }
    // An option value is not an option.
    assert_eq!(
        spec(&["--chdir", "--help", "true"]).chdir,
        Some(p("--help"))
    );
    // After `--`, `--help` is the command.
    assert_eq!(spec(&["--", "--help"]).command, vec!["--help"]);
}

#[test]
fn ops_keep_command_line_order() {
    let s = spec(&[
        "--tmpfs",
        "/a",
        "--bind",
        "/s",
        "/a/b",
        "--dir",
        "/a/c",
        "--symlink",
        "t",
        "/a/d",
        "--remount-ro",
        "/a",
        "--proc",
        "/p",
        "--chmod",
        "0700",
        "/a/c",
        "--dev",
        "/dev",
        "true",
    ]);
    let dests: Vec<_> = s.ops.iter().map(|o| o.dest().to_path_buf()).collect();
    assert_eq!(
        dests,
        ["/a", "/a/b", "/a/c", "/a/d", "/a", "/p", "/a/c", "/dev"].map(p)
    );
    assert!(matches!(s.ops[4], FsOp::RemountRo { .. }));
    assert!(matches!(s.ops[6], FsOp::Chmod { .. }));
}

#[test]
fn env_ops_keep_order() {
    let s = spec(&[
        "--setenv",
        "A",
        "1",
        "--clearenv",
        "--unsetenv",
        "B",
        "--setenv",
        "A",
        "2",
        "true",
    ]);
    assert_eq!(
        s.env,
        vec![
            EnvOp::Set("A".into(), "1".into()),
            EnvOp::Clear,
            EnvOp::Unset("B".into()),
            EnvOp::Set("A".into(), "2".into())
        ]
    );
}

#[test]
fn command_and_its_arguments_are_kept_verbatim() {
    let s = spec(&["--unshare-ipc", "ls", "-la", "--bind", "--", "x"]);
    assert_eq!(s.command, vec!["ls", "-la", "--bind", "--", "x"]);
    let s = spec(&["--unshare-ipc", "--", "--bind", "a"]);
    assert_eq!(s.command, vec!["--bind", "a"]);
    // Only the first `--` ends the options.
    assert_eq!(spec(&["--", "--", "x"]).command, vec!["--", "x"]);
}

#[test]
fn unshare_all_and_share_net_order() {
    assert!(
        !spec(&["--unshare-all", "--share-net", "true"])
            .namespaces
            .net
    );
    assert!(
        spec(&["--share-net", "--unshare-all", "true"])
            .namespaces
            .net
    );
    assert!(
        !spec(&["--unshare-net", "--share-net", "true"])
            .namespaces
            .net
    );
}

#[test]
fn try_namespaces_follow_the_probes() {
    let mut host = Host::root();
    host.userns = false;
    host.cgroupns = false;
    let s = host.spec(&["--unshare-user-try", "--unshare-cgroup-try", "true"]);
    assert!(s.namespaces.user_try && !s.namespaces.user);
    assert!(s.namespaces.cgroup_try && !s.namespaces.cgroup);
    host.userns = true;
    host.cgroupns = true;
    let s = host.spec(&["--unshare-user-try", "--unshare-cgroup-try", "true"]);
    assert!(s.namespaces.user && s.namespaces.cgroup);
    // --unshare-all uses the -try forms.
    host.userns = false;
    assert!(!host.spec(&["--unshare-all", "true"]).namespaces.user);
}

#[test]
fn unprivileged_caller_always_gets_a_user_namespace() {
    assert!(spec(&["true"]).namespaces.user);
    let mut host = Host::user();
    host.userns = false;
    assert!(host.spec(&["--unshare-user-try", "true"]).namespaces.user);
    // ... except when it joins one.
    assert!(!spec(&["--userns", "3", "true"]).namespaces.user);
    assert!(!base(&Host::root()).namespaces.user);
}

#[test]
fn caps_in_order_with_all_in_any_case() {
    let s = spec(&[
        "--cap-add",
        "all",
        "--cap-drop",
        "CAP_SYS_ADMIN",
        "--cap-drop",
        "All",
        "--cap-add",
        "12",
        "--cap-add",
        "ALL",
        "true",
    ]);
    assert_eq!(
        s.caps,
        vec![
            CapOp::AddAll,
            CapOp::Drop(21),
            CapOp::DropAll,
            CapOp::Add(12),
            CapOp::AddAll
        ]
    );
    // libcap's reading: numbers in base 0, trailing text ignored.
    let s = spec(&[
        "--cap-add",
        "0x15",
        "--cap-add",
        "021",
        "--cap-add",
        "cap_net_raw,x",
        "--cap-add",
        "63",
        "true",
    ]);
    assert_eq!(
        s.caps,
        vec![
            CapOp::Add(21),
            CapOp::Add(17),
            CapOp::Add(13),
            CapOp::Add(63)
        ]
    );
}

#[test]
fn fd_uid_gid_follow_strtol_into_int() {
    let host = Host::root();
    let s = host.spec(&[
        "--unshare-user",
        "--uid",
        " 5",
        "--gid",
        "+6",
        "--sync-fd",
        "-0",
        "true",
    ]);
    assert_eq!((s.uid, s.gid, s.status.sync), (Some(5), Some(6), Some(0)));
    // Truncated to 32 bits, as bwrap's `int` keeps it.
    let s = host.spec(&[
        "--unshare-user",
        "--uid",
        "4294967301",
        "--info-fd",
        "-4294967296",
        "true",
    ]);
    assert_eq!((s.uid, s.status.info), (Some(5), Some(0)));
}

#[test]
fn perms_accepts_what_strtoul_accepts() {
    for (word, mode) in [
        ("0755", 0o755),
        ("755", 0o755),
        (" 700", 0o700),
        ("+700", 0o700),
        ("-0", 0),
        ("07777", 0o7777),
    ] {
        let s = spec(&["--perms", word, "--dir", "/d", "true"]);
        assert_eq!(
            s.ops,
            vec![FsOp::Dir {
                dest: p("/d"),
                perms: Some(mode)
            }],
            "{word:?}"
        );
    }
}

#[test]
fn size_accepts_c_number_forms() {
    for (word, size) in [
        ("10", 10),
        ("0x10", 16),
        ("0X1f", 31),
        ("010", 8),
        ("9223372036854775807", i64::MAX as u64),
    ] {
        let s = spec(&["--size", word, "--tmpfs", "/t", "true"]);
        assert_eq!(
            s.ops,
            vec![FsOp::Tmpfs {
                dest: p("/t"),
                perms: None,
                size: Some(size)
            }],
            "{word:?}"
        );
    }
}

#[test]
fn labels_are_checked_when_selinux_is_on() {
    let mut host = Host::user();
    host.selinux = true;
    assert_eq!(
        host.spec(&["--exec-label", "a_t", "--file-label", "b_t", "true"])
            .exec_label,
        Some("a_t".into())
    );
    assert_eq!(
        host.err(&["--exec-label", "bad_t", "true"]),
        "invalid label bad_t: Invalid argument"
    );
    assert_eq!(
        host.err(&["--file-label", "bad_t", "true"]),
        "invalid label bad_t: Invalid argument"
    );
}
