//! A build tool's use of the library: run N commands in parallel, each in
//! its own sandbox (read-only host, private /tmp, no network), and collect
//! their outputs in order.
//!
//! ```text
//! cargo build && cargo run --example parallel -- 8
//! ```
//!
//! The helper is found next to the example (cargo's target directory) or
//! through `SANDWRAP_BIN`.

use std::thread;

use sandwrap::Sandbox;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(8);
    let sandbox = Sandbox::new()
        .ro_bind("/", "/")
        .dev("/dev")
        .proc("/proc")
        .tmpfs("/tmp")
        .unshare_all()
        .new_session();
    sandbox.check()?;
    let jobs: Vec<_> = (0..n)
        .map(|i| {
            let sandbox = sandbox.clone();
            thread::spawn(move || {
                sandbox
                    .command("sh")
                    .arg("-c")
                    .arg("echo step $STEP in $(hostname) as pid $$; echo scratch > /tmp/x")
                    .env("STEP", i.to_string())
                    .output()
            })
        })
        .collect();
    let mut failed = 0;
    for (i, job) in jobs.into_iter().enumerate() {
        match job.join().map_err(|_| "a spawning thread panicked")? {
            Ok(out) if out.status.success() => print!("{}", String::from_utf8_lossy(&out.stdout)),
            Ok(out) => {
                failed += 1;
                eprintln!(
                    "job {i}: {}: {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            Err(e) => {
                failed += 1;
                eprintln!("job {i}: {e}");
            }
        }
    }
    if failed > 0 {
        return Err(format!("{failed} of {n} jobs failed").into());
    }
    Ok(())
}
