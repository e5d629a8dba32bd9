//! Benchmark helper for bench/seccomp.sh.
//!
//! `seccomp_presets time`: how long building each preset's filter takes
//! (resolving the preset and compiling it, as sandwrap does at launch).
//! `seccomp_presets dump NAME`: the resolved preset as one rule per line
//! (`nr action [arg op value mask]...`), for building the same policy with
//! libseccomp.

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
        _ => {
            eprintln!("usage: seccomp_presets time | dump NAME");
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
