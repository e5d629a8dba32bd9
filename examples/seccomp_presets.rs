//! Benchmark helper for bench/seccomp.sh.
//!
//! `seccomp_presets time`: how long building each preset's filter takes
//! (resolving the preset and compiling it, as sandwrap does at launch).
//! `seccomp_presets dump NAME`: the resolved preset as one rule per line
//! (`nr action [arg op value mask]...`), for building the same policy with
//! libseccomp.
//! `seccomp_presets install [ROUNDS]`: how long the kernel takes to install
//! each preset's filter (`seccomp(2)` in a fresh child each time: the
//! kernel emulates the filter per call number to fill its action cache).

use std::time::Instant;

use sandwrap::seccomp::{self, Action, Arch, Mode, Op};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(arch) = Arch::native() else {
        eprintln!("unsupported architecture");
        std::process::exit(1);
    };
    match args.get(1).map(String::as_str) {
        Some("time") => {
            // The first build in a fresh process is what a launch pays.
            let t = Instant::now();
            let p = seccomp::load_policy("strict", arch).expect("preset");
            let resolve = t.elapsed().as_nanos() as f64 / 1000.0;
            let t = Instant::now();
            let _ = seccomp::compile(&p, Mode::Plain).expect("compiles");
            let compile = t.elapsed().as_nanos() as f64 / 1000.0;
            println!(
                "strict, first build in this process: resolve {resolve:.1} us + compile {compile:.1} us = {:.1} us",
                resolve + compile
            );
            for name in ["default", "strict"] {
                for mode in [Mode::Plain, Mode::Notify] {
                    // Warm up, then take the median of many single builds:
                    // sandwrap builds the filter once per launch.
                    let mut times = Vec::new();
                    let mut len = 0;
                    for _ in 0..2000 {
                        let t = Instant::now();
                        let p = seccomp::load_policy(name, arch).expect("preset");
                        let prog = seccomp::compile(&p, mode).expect("compiles");
                        times.push(t.elapsed().as_nanos());
                        len = prog.len();
                    }
                    let first = times[0] as f64 / 1000.0;
                    times.sort_unstable();
                    let median = times[times.len() / 2] as f64 / 1000.0;
                    let p99 = times[times.len() * 99 / 100] as f64 / 1000.0;
                    println!(
                        "{name:8} {mode:?}: {len} instructions, build: first (cold) {first:.1} us, median {median:.1} us, p99 {p99:.1} us"
                    );
                }
            }
        }
        Some("dump") => {
            let name = args.get(2).map_or("default", String::as_str);
            let p = seccomp::load_policy(name, arch).expect("preset");
            println!("default {}", action(p.default));
            for r in &p.rules {
                let mut line = format!("{} {}", r.name, action(r.action));
                for c in &r.conds {
                    let (op, mask) = match c.op {
                        Op::Eq => ("eq", 0),
                        Op::Ne => ("ne", 0),
                        Op::Lt => ("lt", 0),
                        Op::Le => ("le", 0),
                        Op::Gt => ("gt", 0),
                        Op::Ge => ("ge", 0),
                        Op::MaskedEq(m) => ("masked_eq", m),
                    };
                    line.push_str(&format!(" {} {op} {} {mask}", c.arg, c.value));
                }
                println!("{line}");
            }
        }
        Some("install") => {
            let rounds: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(400);
            for name in ["none", "default", "strict"] {
                let prog = if name == "none" {
                    let p = seccomp::Policy::allow_all(arch);
                    seccomp::compile(&p, Mode::Plain).expect("compiles")
                } else {
                    let p = seccomp::load_policy(name, arch).expect("preset");
                    seccomp::compile(&p, Mode::Plain).expect("compiles")
                };
                let mut times: Vec<u64> = (0..rounds).map(|_| install_ns(&prog)).collect();
                times.sort_unstable();
                println!(
                    "{name:8}: {} instructions, install median {:.1} us, p10 {:.1} us, p90 {:.1} us",
                    prog.len(),
                    times[rounds / 2] as f64 / 1000.0,
                    times[rounds / 10] as f64 / 1000.0,
                    times[rounds * 9 / 10] as f64 / 1000.0
                );
            }
        }
        _ => {
            eprintln!("usage: seccomp_presets time | dump NAME | install [ROUNDS]");
            std::process::exit(2);
        }
    }
}

fn action(a: Action) -> String {
    match a {
        Action::Errno(e) => format!("errno:{e}"),
        other => other.to_string(),
    }
}

/// Nanoseconds one `seccomp(SECCOMP_SET_MODE_FILTER)` of `prog` takes, in a
/// forked child (a filter cannot be removed once installed).
fn install_ns(prog: &[seccompiler::sock_filter]) -> u64 {
    let mut fds = [0i32; 2];
    // SAFETY: plain syscalls; the child only makes syscalls and exits.
    unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0, "pipe");
        let pid = libc::fork();
        assert!(pid >= 0, "fork");
        if pid == 0 {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            let fprog = libc::sock_fprog {
                len: prog.len() as u16,
                filter: prog.as_ptr() as *mut libc::sock_filter,
            };
            let mut t0: libc::timespec = std::mem::zeroed();
            let mut t1: libc::timespec = std::mem::zeroed();
            libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t0);
            let rc = libc::syscall(libc::SYS_seccomp, 1, 0, &fprog as *const libc::sock_fprog);
            libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t1);
            let ns: u64 = if rc == 0 {
                ((t1.tv_sec - t0.tv_sec) * 1_000_000_000 + (t1.tv_nsec - t0.tv_nsec)) as u64
            } else {
                u64::MAX
            };
            libc::write(fds[1], (&ns as *const u64).cast(), 8);
            libc::_exit(0);
        }
        libc::close(fds[1]);
        let mut ns: u64 = 0;
        let n = libc::read(fds[0], (&mut ns as *mut u64).cast(), 8);
        libc::close(fds[0]);
        libc::waitpid(pid, std::ptr::null_mut(), 0);
        assert!(n == 8 && ns != u64::MAX, "install failed");
        ns
    }
}
