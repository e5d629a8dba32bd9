//! The command gets the caller's signal dispositions and mask, as bwrap
//! leaves them: flatpak runs with SIGPIPE ignored, `nohup` ignores SIGHUP,
//! a shell's background job ignores SIGINT; only what sandwrap itself
//! changed is restored (bwrap unblocks SIGCHLD, and so does sandwrap).
mod common;
use common::*;

use std::os::unix::process::CommandExt;
use std::process::Command;

/// The caller's state: SIGPIPE and SIGHUP ignored, SIGUSR1 and SIGCHLD
/// blocked, set in the launcher's process before it is executed.
fn as_caller(mut cmd: Command) -> Command {
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
            let mut set = std::mem::MaybeUninit::<libc::sigset_t>::zeroed().assume_init();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGUSR1);
            libc::sigaddset(&mut set, libc::SIGCHLD);
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            Ok(())
        });
    }
    cmd
}

/// Run `args` as the caller; (exit code, stdout, stderr).
fn view(cmd: Command) -> (i32, String, String) {
    let o = output(as_caller(cmd));
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

/// BASE, `extra`, then COMMAND.
fn with(extra: &[&str], command: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = BASE.iter().chain(extra).map(|s| s.to_string()).collect();
    v.push("--".into());
    v.extend(command.iter().map(|s| s.to_string()));
    v
}

#[test]
fn the_command_gets_the_callers_ignored_and_blocked_signals_as_with_bwrap() {
    for pidns in [false, true] {
        let extra: &[&str] = if pidns { &["--unshare-pid"] } else { &[] };
        // The command itself reads its state (a shell in between would
        // change it).
        let status = with(extra, &["grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"]);
        // With SIGPIPE ignored, `yes` hears EPIPE and says so.
        let pipe = with(extra, &["sh", "-c", "yes | head -1"]);
        let ours = (view(sandwrap(&status)), view(sandwrap(&pipe)));
        let (code, text, err) = &ours.0;
        assert_eq!((*code, err.as_str()), (0, ""), "pidns={pidns}");
        let mask = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
                .unwrap_or_else(|| panic!("no {key} in {text:?}"))
        };
        let bit = |sig: i32| 1u64 << (sig - 1);
        let (blocked, ignored) = (mask("SigBlk:"), mask("SigIgn:"));
        assert!(
            blocked & bit(libc::SIGUSR1) != 0 && blocked & bit(libc::SIGCHLD) == 0,
            "pidns={pidns}: SigBlk {blocked:#x}"
        );
        assert!(
            ignored & bit(libc::SIGHUP) != 0 && ignored & bit(libc::SIGPIPE) != 0,
            "pidns={pidns}: SigIgn {ignored:#x}"
        );
        assert_eq!(
            ours.1,
            (
                0,
                "y\n".to_string(),
                "yes: standard output: Broken pipe\n".to_string()
            ),
            "pidns={pidns}"
        );
        match (bwrap(&status), bwrap(&pipe)) {
            (Some(a), Some(b)) => assert_eq!(
                ours,
                (view(a), view(b)),
                "pidns={pidns}: differs from bwrap"
            ),
            _ => skip!("skipping the bwrap side: /usr/bin/bwrap is not installed"),
        }
    }
}
