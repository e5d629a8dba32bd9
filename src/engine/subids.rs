//! `--map-subids`: the sandbox's ids 0 → the caller and 1..=N → the
//! caller's subordinate ids, as rootless podman and `unshare --map-auto` map
//! them.
//!
//! sandwrap stays unprivileged: the setuid helpers newuidmap and newgidmap
//! (package uidmap) write the maps, and they check every range against
//! /etc/subuid and /etc/subgid themselves. sandwrap reads those files only
//! to know which ranges to ask for and to explain a refusal; whatever it
//! asks, the helpers grant nothing the administrator did not.
//!
//! The supervisor sets no_new_privs before the clone (a setuid helper would
//! run without its privileges after that), so a mapper process is forked
//! before: it waits for the sandbox's pid, runs the helpers on it and
//! reports; the sandbox's first process waits for the supervisor's go-ahead
//! meanwhile.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};

use super::{fds, sys};
use crate::spec::Spec;

/// A range of subordinate ids: `start` outside, `count` ids.
type Range = (u32, u32);

/// At most this many lines in one map (the kernel's limit is 340; one line
/// is the caller's).
const MAX_RANGES: usize = 339;

/// What to ask the helpers for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub uids: Vec<Range>,
    pub gids: Vec<Range>,
    newuidmap: PathBuf,
    newgidmap: PathBuf,
}

impl Plan {
    /// How many ids each map covers inside, the caller's 0 included.
    pub fn counts(&self) -> (u32, u32) {
        let total = |r: &[Range]| 1 + r.iter().map(|(_, n)| n).sum::<u32>();
        (total(&self.uids), total(&self.gids))
    }
}

/// The fix an administrator applies, for messages.
fn fix_line(user: &str, n: u32) -> String {
    let n = n.max(65536);
    format!(
        "usermod --add-subuids 100000-{last} --add-subgids 100000-{last} {user}",
        last = 100000u64 + u64::from(n) - 1
    )
}

/// The ranges `/etc/subuid`-format `text` grants to `user` (by name or by
/// uid number), in file order.
pub fn ranges_in(text: &str, user: &str, uid: u32) -> Vec<Range> {
    let uid = uid.to_string();
    text.lines()
        .filter_map(|line| {
            let mut f = line.trim().split(':');
            let (owner, start, count) = (f.next()?, f.next()?, f.next()?);
            if owner != user && owner != uid {
                return None;
            }
            let (start, count) = (start.parse().ok()?, count.parse().ok()?);
            (count > 0).then_some((start, count))
        })
        .collect()
}

/// The first ranges holding `want` ids (all when `None`); `None` when they
/// hold fewer.
pub fn take(ranges: &[Range], want: Option<u32>) -> Option<Vec<Range>> {
    // With the caller's id 0, a map holds at most u32::MAX ids.
    let mut left = want.unwrap_or(u32::MAX).min(u32::MAX - 1);
    let mut out = Vec::new();
    for &(start, count) in ranges.iter().take(MAX_RANGES) {
        if left == 0 {
            break;
        }
        let n = count.min(left);
        out.push((start, n));
        left -= n;
    }
    (want.is_none() || left == 0).then_some(out)
}

fn find_helper(name: &str) -> Result<PathBuf> {
    sys::find_in_path(name).map_err(|why| {
        anyhow!(
            "--map-subids: {name} {why}: install the uidmap package (e.g. apt-get install uidmap)"
        )
    })
}

/// Work out the ranges for `caller`, or say precisely why there are none.
pub fn plan(spec: &Spec, caller: (u32, u32)) -> Result<Option<Plan>> {
    let Some(want) = spec.subids else {
        return Ok(None);
    };
    let newuidmap = find_helper("newuidmap")?;
    let newgidmap = find_helper("newgidmap")?;
    let user = match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(caller.0)) {
        Ok(Some(u)) => u.name,
        _ => bail!(
            "--map-subids: uid {} has no user name (no passwd entry), which newuidmap needs: create the user (useradd) and grant it ids: {}",
            caller.0,
            fix_line("USER", want.count.unwrap_or(0))
        ),
    };
    let mut lists = Vec::new();
    for (file, kind) in [("/etc/subuid", "uids"), ("/etc/subgid", "gids")] {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let all = ranges_in(&text, &user, caller.0);
        if all.is_empty() {
            bail!(
                "--map-subids: no subordinate {kind} for user {user} in {file}: an administrator grants them with: {}",
                fix_line(&user, want.count.unwrap_or(0))
            );
        }
        let Some(taken) = take(&all, want.count) else {
            let have: u64 = all.iter().map(|&(_, n)| u64::from(n)).sum();
            bail!(
                "--map-subids-count {}: user {user} has only {have} subordinate {kind} in {file}: an administrator grants more with: {}",
                want.count.unwrap_or(0),
                fix_line(&user, want.count.unwrap_or(0))
            );
        };
        lists.push(taken);
    }
    let gids = lists.pop().unwrap_or_default();
    let uids = lists.pop().unwrap_or_default();
    let plan = Plan {
        uids,
        gids,
        newuidmap,
        newgidmap,
    };
    let (nu, ng) = plan.counts();
    if let Some(uid) = spec.uid.filter(|&u| u >= nu) {
        bail!(
            "--uid {uid} is not mapped: --map-subids maps uids 0 to {}",
            nu - 1
        );
    }
    if let Some(gid) = spec.gid.filter(|&g| g >= ng) {
        bail!(
            "--gid {gid} is not mapped: --map-subids maps gids 0 to {}",
            ng - 1
        );
    }
    Ok(Some(plan))
}

/// The helper's arguments after the pid: `0 CALLER 1 1 START COUNT ...`.
fn map_args(own: u32, ranges: &[Range]) -> Vec<String> {
    let mut v = vec!["0".to_string(), own.to_string(), "1".to_string()];
    let mut inside = 1u32;
    for &(start, count) in ranges {
        v.extend([inside.to_string(), start.to_string(), count.to_string()]);
        inside += count;
    }
    v
}

/// The mapper process, forked before no_new_privs. Dropped unused (the
/// supervisor failed before the clone), it is ended and reaped: it ends
/// at EOF on `to`, so nothing is left behind.
pub struct Mapper {
    pid: libc::pid_t,
    to: Option<OwnedFd>,
    from: OwnedFd,
    reaped: bool,
}

/// Fork the mapper. It holds nothing but its two pipes and dies with us.
pub fn start(plan: &Plan, caller: (u32, u32)) -> Result<Mapper> {
    let (to_r, to_w) = sys::pipe()?;
    let (from_r, from_w) = sys::pipe()?;
    let pid =
        sys::clone_fork(0).map_err(|e| anyhow::Error::new(e).context("fork the id mapper"))?;
    if pid == 0 {
        fds::close_all_except(&[to_r.as_raw_fd(), from_w.as_raw_fd()]);
        let msg = mapper_main(plan, caller, to_r.as_raw_fd());
        let code = match msg {
            Ok(()) => 0,
            Err(text) => {
                let _ = sys::write_all(from_w.as_raw_fd(), text.as_bytes());
                1
            }
        };
        super::exit_now(code);
    }
    Ok(Mapper {
        pid,
        to: Some(to_w),
        from: from_r,
        reaped: false,
    })
}

fn mapper_main(plan: &Plan, caller: (u32, u32), from_supervisor: i32) -> Result<(), String> {
    let _ = sys::prctl(
        libc::PR_SET_PDEATHSIG,
        libc::SIGKILL as libc::c_ulong,
        "PR_SET_PDEATHSIG",
    );
    let mut buf = [0u8; 4];
    if sys::read_some(from_supervisor, &mut buf) != Ok(4) {
        // The supervisor failed before the clone and says why itself.
        super::exit_now(1);
    }
    let pid = i32::from_ne_bytes(buf).to_string();
    for (helper, own, ranges) in [
        (&plan.newuidmap, caller.0, &plan.uids),
        (&plan.newgidmap, caller.1, &plan.gids),
    ] {
        run_helper(helper, &pid, &map_args(own, ranges))?;
    }
    Ok(())
}

fn run_helper(helper: &Path, pid: &str, args: &[String]) -> Result<(), String> {
    let shown = format!("{} {pid} {}", helper.display(), args.join(" "));
    let out = std::process::Command::new(helper)
        .arg(pid)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "--map-subids: can't run {shown}: {}",
                crate::io_error_text(&e)
            )
        })?;
    if out.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&out.stderr);
    let said = said.split_whitespace().collect::<Vec<_>>().join(" ");
    Err(format!(
        "--map-subids: {shown} failed ({}): {said}",
        out.status
    ))
}

impl Mapper {
    /// Have the helpers map `child`'s user namespace; the helper's own words
    /// when they refuse.
    pub fn map(mut self, child: libc::pid_t) -> Result<()> {
        let to = self.to.take();
        let sent = to.map_or(Err(libc::EBADF), |to| {
            sys::write_all(to.as_raw_fd(), &child.to_ne_bytes())
        });
        let mut said = Vec::new();
        let _ = sys::read_to_end(self.from.as_raw_fd(), &mut said, usize::MAX);
        let status = self.reap();
        if !said.is_empty() {
            bail!("{}", String::from_utf8_lossy(&said));
        }
        if sent.is_err() || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
            bail!("--map-subids: the id mapper ended without mapping (status {status})");
        }
        Ok(())
    }
}

impl Mapper {
    /// Wait for the mapper to end; its status (-1 if it could not be waited
    /// for).
    fn reap(&mut self) -> i32 {
        self.reaped = true;
        sys::waitpid(self.pid, 0).map_or(-1, |(_, status)| status)
    }
}

impl Drop for Mapper {
    fn drop(&mut self) {
        drop(self.to.take());
        if !self.reaped {
            self.reap();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_count_still_fits_a_map() {
        let ranges = [(100_000, u32::MAX), (200_000, 10)];
        let taken = take(&ranges, Some(u32::MAX)).expect("taken");
        let plan = Plan {
            uids: taken.clone(),
            gids: taken,
            newuidmap: PathBuf::new(),
            newgidmap: PathBuf::new(),
        };
        assert_eq!(plan.counts(), (u32::MAX, u32::MAX));
    }

    #[test]
    fn ranges_by_name_or_uid() {
        let text =
            "alice:100000:65536\nbob:200000:10\n# x\n1001:300000:5\nalice:bad:1\nalice:400000:0\n";
        assert_eq!(
            ranges_in(text, "alice", 1001),
            vec![(100000, 65536), (300000, 5)]
        );
        assert_eq!(ranges_in(text, "carol", 7), vec![]);
    }

    #[test]
    fn taking_ids() {
        let r = [(100000, 10), (200000, 10)];
        assert_eq!(take(&r, None), Some(r.to_vec()));
        assert_eq!(take(&r, Some(15)), Some(vec![(100000, 10), (200000, 5)]));
        assert_eq!(take(&r, Some(21)), None);
        assert_eq!(
            map_args(1001, &[(100000, 10), (200000, 5)]),
            ["0", "1001", "1", "1", "100000", "10", "11", "200000", "5"]
        );
    }
}
