//! Spawn cost through the library, measured by `bench/library.sh` (see
//! bench/README.md): one `--unshare-all --ro-bind / / /bin/true` launch
//! through the library, through the CLI (`std::process::Command` of the
//! helper binary), and `/bin/true` without a sandbox, interleaved; then
//! throughput with 8 threads spawning at once.
//!
//! ```text
//! spawn_bench [ROUNDS [PER_THREAD]]     (SANDWRAP_BIN: the helper)
//! ```

use std::process::Command as StdCommand;
use std::time::{Duration, Instant};

use sandwrap::Sandbox;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Median and nearest-rank p90.
fn stats(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let p90 = (v.len() * 9).div_ceil(10).max(1) - 1;
    (ms(v[v.len() / 2]), ms(v[p90]))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let per_thread: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let helper = std::env::var_os("SANDWRAP_BIN").ok_or("set SANDWRAP_BIN to the helper")?;
    let sb = Sandbox::new().unshare_all().ro_bind("/", "/");
    let lib = || -> Result<(), sandwrap::Error> {
        let st = sb.command("/bin/true").status()?;
        assert!(st.success(), "{st}");
        Ok(())
    };
    let cli = || {
        let st = StdCommand::new(&helper)
            .args(["--unshare-all", "--ro-bind", "/", "/", "/bin/true"])
            .status()
            .expect("cli");
        assert!(st.success(), "{st}");
    };
    let plain = || {
        let st = StdCommand::new("/bin/true").status().expect("true");
        assert!(st.success());
    };
    // Warm-up (page cache, the helper's first checks).
    lib()?;
    cli();
    plain();
    let (mut tl, mut tc, mut tp) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        lib()?;
        tl.push(t.elapsed());
        let t = Instant::now();
        cli();
        tc.push(t.elapsed());
        let t = Instant::now();
        plain();
        tp.push(t.elapsed());
    }
    let (l, c, p) = (stats(tl), stats(tc), stats(tp));
    println!("a) one launch, {rounds} rounds interleaved      median      p90  (ms)");
    println!(
        "  library (Sandbox::command)            {:8.3} {:8.3}",
        l.0, l.1
    );
    println!(
        "  CLI (std::process::Command of sandwrap) {:6.3} {:8.3}",
        c.0, c.1
    );
    println!(
        "  /bin/true without a sandbox           {:8.3} {:8.3}",
        p.0, p.1
    );
    println!("  library - CLI (median)                {:8.3}", l.0 - c.0);

    println!("b) throughput, 8 threads x {per_thread} spawns each");
    for (name, f) in [
        (
            "library",
            &lib as &(dyn Fn() -> Result<(), sandwrap::Error> + Sync),
        ),
        ("CLI", &|| {
            cli();
            Ok(())
        }),
    ] {
        let t = Instant::now();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| -> Result<(), sandwrap::Error> {
                        for _ in 0..per_thread {
                            f()?;
                        }
                        Ok(())
                    })
                })
                .collect();
            handles
                .into_iter()
                .try_for_each(|h| h.join().expect("spawner thread"))
        })?;
        let secs = t.elapsed().as_secs_f64();
        println!(
            "  {name:<8} {:8.1} sandboxes/s ({} in {secs:.2} s)",
            (8 * per_thread) as f64 / secs,
            8 * per_thread
        );
    }
    Ok(())
}
