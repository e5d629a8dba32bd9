//! sandwrap's own options (landlock, fallback, seccomp policies, the
//! options profiles use): their part of the parser, apart from bwrap's.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::Parser;
use crate::cli::table::{Action, OptDef};
use crate::cli::{CliError, profile};
use crate::landlock::ports::{parse_ports, parse_scopes};
use crate::seccomp::{self, Action as SeccompAction};
use crate::spec::{BindMode, EnvOp, Fallback, FsOp, LandlockRule, ReportTo};

impl Parser<'_, '_> {
    pub(super) fn apply_own(
        &mut self,
        def: &OptDef,
        action: Action,
        v: &[OsString],
    ) -> Result<(), CliError> {
        let path = |i: usize| PathBuf::from(v[i].clone());
        match action {
            Action::Landlock => self.spec.landlock.derive = true,
            Action::LandlockRule(access) => {
                let path = self.landlock_path(def, &v[0])?;
                self.spec.landlock.rules.push(LandlockRule { path, access })
            }
            Action::LandlockTcpConnect | Action::LandlockTcpBind => {
                let ports = parse_ports(&escaped(&v[0]))
                    .map_err(|e| self.error(format!("--{}: {e}", def.name)))?;
                let slot = if action == Action::LandlockTcpConnect {
                    &mut self.spec.landlock.net.tcp_connect
                } else {
                    &mut self.spec.landlock.net.tcp_bind
                };
                // Repeating the option adds ports.
                slot.get_or_insert_with(Vec::new).extend(ports);
            }
            Action::LandlockScope => {
                let (unix, signal) = parse_scopes(&escaped(&v[0]))
                    .map_err(|e| self.error(format!("--{}: {e}", def.name)))?;
                self.spec.landlock.net.scope_abstract_unix |= unix;
                self.spec.landlock.net.scope_signal |= signal;
            }
            Action::LandlockStrict => self.spec.landlock.strict = true,
            Action::Fallback => {
                if v[0] != "landlock" {
                    return Err(self.error(format!(
                        "--fallback: unknown mode \"{}\" (expected landlock)",
                        v[0].to_string_lossy()
                    )));
                }
                self.spec.fallback = Some(Fallback::Landlock);
            }
            Action::Verbose => self.spec.verbose = true,
            Action::EndWithCommand => self.spec.end_with_command = true,
            Action::RoBindAsHost => {
                let p = path(0);
                match profile::host_path(&p) {
                    profile::HostPath::Symlink(target) => {
                        self.spec.ops.push(FsOp::Symlink { target, dest: p })
                    }
                    profile::HostPath::Other => self.spec.ops.push(FsOp::Bind {
                        src: p.clone(),
                        dest: p,
                        mode: BindMode::ReadOnly,
                        allow_missing: true,
                    }),
                    profile::HostPath::Missing => {}
                }
            }
            Action::BindMkdir => {
                self.spec.host_dirs.push(path(0));
                self.spec.ops.push(FsOp::Bind {
                    src: path(0),
                    dest: path(1),
                    mode: BindMode::ReadWrite,
                    allow_missing: false,
                });
            }
            Action::Protect => {
                // Read-only on top of whatever shows PATH (a read-write bind
                // of its directory); the source is opened without following
                // a final symlink. The same path on both sides: absolute.
                if !path(0).is_absolute() {
                    return Err(self.error(format!(
                        "--protect {}: the path must be absolute (it names the same place on the host and in the sandbox)",
                        crate::cli::explain::shell_quote(&v[0])
                    )));
                }
                self.protect(path(0));
                // A git directory: also what its submodules' .git files
                // (in the writable work tree) point the host's git at.
                let top = path(0);
                if top.file_name() == Some(std::ffi::OsStr::new(".git")) {
                    let worktree = top.parent().unwrap_or(&top).to_path_buf();
                    let mut budget = MAX_PROTECTED_SUBMODULES;
                    self.protect_submodules(&worktree, &top, &top, 0, &mut budget)
                        .map_err(|e| {
                            self.error(format!(
                                "--protect {}: {e}",
                                crate::cli::explain::shell_quote(&v[0])
                            ))
                        })?;
                }
            }
            Action::SeccompPolicy => {
                self.warn_repeat(self.seccomp_base.is_some(), def);
                let arch = self.seccomp_arch()?;
                let policy = seccomp::load_policy(&v[0], arch).map_err(|e| self.error(e))?;
                self.seccomp_base = Some(policy);
            }
            Action::SeccompAllow | Action::SeccompDeny => {
                let arch = self.seccomp_arch()?;
                let word = v[0].to_string_lossy().into_owned();
                let (call, action) = if action == Action::SeccompAllow {
                    (word.as_str(), SeccompAction::Allow)
                } else {
                    let (call, how) = word.split_once(':').unwrap_or((word.as_str(), "EPERM"));
                    let action = match how {
                        "kill" | "trap" | "log" => SeccompAction::parse(how),
                        errno => SeccompAction::parse(&format!("errno {errno}")),
                    }
                    .map_err(|e| self.error(format!("--{}: {e}", def.name)))?;
                    (call, action)
                };
                let origin = format!("--{} {word}", def.name);
                let rule = seccomp::Rule::resolve(arch, call, Vec::new(), action, origin)
                    .map_err(|e| self.error(format!("--{}: {e}", def.name)))?;
                self.seccomp_ops.extend(rule);
            }
            Action::SeccompReport => {
                self.warn_repeat(self.spec.seccomp.report.is_some(), def);
                self.spec.seccomp.report = Some(ReportTo::Stderr);
            }
            Action::SeccompReportFd => {
                self.warn_repeat(self.spec.seccomp.report.is_some(), def);
                self.spec.seccomp.report = Some(ReportTo::Fd(self.fd(&v[0])?));
            }
            Action::KeepEnv => {
                let name = &v[0];
                let bytes = name.as_bytes();
                let bare = bytes.strip_suffix(b"*").unwrap_or(bytes);
                let why = if bytes.is_empty() {
                    Some("the name is empty")
                } else if bare.contains(&b'=') {
                    Some("a variable name cannot contain =")
                } else if bare.contains(&b'*') {
                    Some("* may only end the name (a prefix pattern, e.g. LC_*)")
                } else {
                    None
                };
                if let Some(why) = why {
                    return Err(self.error(format!(
                        "--keep-env {}: {why}",
                        crate::cli::explain::shell_quote(name)
                    )));
                }
                self.spec.env.push(EnvOp::Keep(name.clone()));
            }
            Action::Rlimit
            | Action::Timeout
            | Action::KillAfter
            | Action::CgroupMemory
            | Action::CgroupMemorySwap
            | Action::CgroupPidsMax
            | Action::CgroupCpus => self.apply_limit(def, action, &v[0])?,
            Action::OwnCgroup => self.spec.limits.cgroup.own = true,
            Action::JsonUsage => self.spec.limits.json_usage = true,
            Action::Network => {
                use crate::cli::network::{Mode, parse_mode};
                let mode = parse_mode(&v[0].to_string_lossy())
                    .map_err(|e| self.error(format!("--network: {e}")))?;
                // The same last-wins switch as --unshare-net/--share-net.
                self.spec.namespaces.net = mode != Mode::Host;
                self.spec.network.pasta = mode == Mode::Pasta;
            }
            Action::NetworkAllowHostLoopback => self.spec.network.allow_host_loopback = true,
            Action::Publish => {
                let p =
                    crate::cli::network::parse_publish(&v[0].to_string_lossy()).map_err(|e| {
                        self.error(format!(
                            "--publish {}: {e}",
                            crate::cli::explain::shell_quote(&v[0])
                        ))
                    })?;
                self.spec.network.publish.push(p);
            }
            Action::UnshareTime => self.spec.namespaces.time = true,
            Action::TimeOffset => {
                let off = self.value(def, &v[0], crate::cli::nsopts::parse_time_offset)?;
                // One offset per clock: a later one replaces it.
                self.spec.time_offsets.retain(|o| o.clock != off.clock);
                self.spec.time_offsets.push(off);
                self.spec.namespaces.time = true;
            }
            Action::MapSubids => {
                self.spec.subids.get_or_insert_with(Default::default);
            }
            Action::MapSubidsCount => {
                let n = self.value(def, &v[0], crate::cli::nsopts::parse_subid_count)?;
                let old = self.spec.subids.get_or_insert_with(Default::default);
                let repeated = old.count.replace(n).is_some();
                self.warn_repeat(repeated, def);
            }
            bwrap => unreachable!("--{} is one of bwrap's options ({bwrap:?})", def.name),
        }
        Ok(())
    }

    /// An option's value through `parse`; its error names the option and
    /// the value.
    fn value<T>(
        &self,
        def: &OptDef,
        word: &OsStr,
        parse: fn(&str) -> Result<T, String>,
    ) -> Result<T, CliError> {
        parse(word.to_str().unwrap_or("\u{fffd}")).map_err(|e| {
            self.error(format!(
                "--{} {}: {e}",
                def.name,
                crate::cli::explain::shell_quote(word)
            ))
        })
    }

    /// The resource-limit options. A later value replaces an earlier one
    /// (per resource for --rlimit), as options after a profile refine it.
    fn apply_limit(&mut self, def: &OptDef, action: Action, word: &OsStr) -> Result<(), CliError> {
        use crate::cli::limits as l;
        let text = word.to_str().unwrap_or("\u{fffd}");
        let level_prefix = self.spec.level_prefix;
        let bad = |e: String| CliError::Message {
            msg: format!(
                "--{} {}: {e}",
                def.name,
                crate::cli::explain::shell_quote(word)
            ),
            level_prefix,
        };
        let cg = self.spec.limits.cgroup;
        let repeated = match action {
            Action::Timeout => self.spec.limits.timeout.is_some(),
            Action::KillAfter => self.spec.limits.kill_after.is_some(),
            Action::CgroupMemory => cg.memory.is_some(),
            Action::CgroupMemorySwap => cg.memory_swap.is_some(),
            Action::CgroupPidsMax => cg.pids_max.is_some(),
            Action::CgroupCpus => cg.cpus_milli.is_some(),
            _ => false,
        };
        if action != Action::Rlimit {
            self.warn_repeat(repeated, def);
        }
        let limits = &mut self.spec.limits;
        match action {
            Action::Rlimit => {
                let r = l::parse_rlimit(text).map_err(bad)?;
                limits.rlimits.retain(|old| old.resource != r.resource);
                limits.rlimits.push(r);
            }
            Action::Timeout => limits.timeout = Some(l::parse_duration(text, false).map_err(bad)?),
            Action::KillAfter => {
                limits.kill_after = Some(l::parse_duration(text, true).map_err(bad)?)
            }
            Action::CgroupMemory => {
                limits.cgroup.memory = Some(l::parse_bytes(text, false).map_err(bad)?)
            }
            Action::CgroupMemorySwap => {
                limits.cgroup.memory_swap = Some(l::parse_bytes(text, true).map_err(bad)?)
            }
            Action::CgroupPidsMax => {
                limits.cgroup.pids_max = Some(l::parse_count(text).map_err(bad)?)
            }
            _ => limits.cgroup.cpus_milli = Some(l::parse_cpus(text).map_err(bad)?),
        }
        Ok(())
    }

    /// A landlock rule's path: never empty (an unset `$VAR` would otherwise
    /// grant everything beneath /); a relative one is taken from the working
    /// directory, as the sources of binds are.
    fn landlock_path(&self, def: &OptDef, word: &OsStr) -> Result<PathBuf, CliError> {
        if word.is_empty() {
            return Err(self.error(format!(
                "--{}: empty path (it would mean everything beneath /)",
                def.name
            )));
        }
        let path = Path::new(word);
        if path.is_absolute() {
            return Ok(path.to_path_buf());
        }
        match (self.ctx.cwd)() {
            Some(cwd) => Ok(cwd.join(path)),
            None => Err(self.error(format!(
                "--{} {}: relative path, and the working directory is unknown",
                def.name,
                crate::cli::explain::shell_quote(word)
            ))),
        }
    }

    fn seccomp_arch(&self) -> Result<seccomp::Arch, CliError> {
        seccomp::Arch::native().ok_or_else(|| {
            self.error("sandwrap's seccomp policies support x86_64 and aarch64 only")
        })
    }

    /// The policy the seccomp options describe, or `None` without any.
    pub(super) fn resolve_seccomp(&mut self) -> Result<(), CliError> {
        let ops = std::mem::take(&mut self.seccomp_ops);
        let mut policy = match self.seccomp_base.take() {
            Some(p) => p,
            None if ops.is_empty() => {
                if self.spec.seccomp.report.is_some() {
                    return Err(self.error("--seccomp-report requires --seccomp-policy, --seccomp-allow or --seccomp-deny"));
                }
                return Ok(());
            }
            None => seccomp::Policy::allow_all(self.seccomp_arch()?),
        };
        if policy.rules.len() + ops.len() > seccomp::policy::MAX_RULES {
            return Err(self.error(format!(
                "--seccomp-allow/--seccomp-deny: {}",
                seccomp::policy::too_many_rules()
            )));
        }
        policy.rules.extend(ops);
        self.spec.seccomp.policy = Some(policy);
        Ok(())
    }

    /// A read-only bind of `path` onto itself, not following a final link.
    fn protect(&mut self, path: PathBuf) {
        self.spec.no_follow.push(path.clone());
        self.spec.ops.push(FsOp::Bind {
            src: path.clone(),
            dest: path,
            mode: BindMode::ReadOnly,
            allow_missing: true,
        });
    }

    /// Protect the `.git` of every submodule `gitdir`'s index registers in
    /// `worktree`, and recursively their own submodules, as long as their
    /// git directories lie in the protected `top` (what is outside it, the
    /// command could have written). An index that cannot be read fails
    /// closed; none at all means no submodules.
    fn protect_submodules(
        &mut self,
        worktree: &Path,
        gitdir: &Path,
        top: &Path,
        depth: usize,
        budget: &mut usize,
    ) -> Result<(), String> {
        let index = gitdir.join("index");
        if depth > MAX_SUBMODULE_DEPTH || std::fs::symlink_metadata(&index).is_err() {
            return Ok(());
        }
        let data = crate::hostio::read_regular_bytes(&index, MAX_GIT_INDEX)
            .map_err(|e| format!("{}: {e}", index.display()))?;
        let sha256 =
            crate::hostio::read_regular_file(&gitdir.join("config"), 1 << 20).is_ok_and(|c| {
                // Keys are case-insensitive and spacing is free.
                let flat: String = c.chars().filter(|c| !c.is_whitespace()).collect();
                flat.to_ascii_lowercase().contains("objectformat=sha256")
            });
        let links = crate::cli::gitindex::gitlinks(&data, if sha256 { 32 } else { 20 })
            .map_err(|e| format!("{}: {e}", index.display()))?;
        for link in links {
            let sub = worktree.join(&link);
            if through_symlink(worktree, &link) {
                // The host's git does not enter a submodule path that is
                // a symlink; and a bind through a link left by an earlier
                // run would show what it points to.
                continue;
            }
            let dotgit = sub.join(".git");
            *budget = budget.checked_sub(1).ok_or_else(|| {
                format!("more than {MAX_PROTECTED_SUBMODULES} submodules to protect")
            })?;
            self.protect(dotgit.clone());
            // Its git directory, as its .git file names it today.
            let Ok(text) = crate::hostio::read_regular_file(&dotgit, 4096) else {
                continue;
            };
            let Some(target) = text.trim_end().strip_prefix("gitdir: ") else {
                continue;
            };
            let Ok(sub_gitdir) = std::fs::canonicalize(sub.join(target)) else {
                continue;
            };
            let inside = std::fs::canonicalize(top).is_ok_and(|t| sub_gitdir.starts_with(t));
            if inside {
                self.protect_submodules(&sub, &sub_gitdir, top, depth + 1, budget)?;
            }
        }
        Ok(())
    }
}

/// Whether any component of `rel` below `base` is a symlink.
fn through_symlink(base: &Path, rel: &Path) -> bool {
    let mut at = base.to_path_buf();
    rel.components().any(|c| {
        at.push(c);
        std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink())
    })
}

/// Submodules within submodules followed by `--protect DIR/.git`.
const MAX_SUBMODULE_DEPTH: usize = 8;
/// Submodule `.git` files one `--protect` adds at most (refused beyond).
const MAX_PROTECTED_SUBMODULES: usize = 4096;
/// A git index read by `--protect` (refused beyond).
const MAX_GIT_INDEX: u64 = 256 << 20;

/// A value as text for parsing and messages: bytes that are not UTF-8 are
/// shown as `\xNN` (so they appear in the error, and never parse).
fn escaped(word: &OsStr) -> String {
    let mut out = String::new();
    for chunk in word.as_bytes().utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

impl Parser<'_, '_> {
    /// The network options after parsing: the pasta-only options need
    /// pasta, and pasta needs a network namespace, which the landlock
    /// fallback never has.
    pub(super) fn check_network(&self) -> Result<(), CliError> {
        let n = &self.spec.network;
        if !n.pasta {
            if n.allow_host_loopback {
                return Err(self.error("--network-allow-host-loopback requires --network pasta"));
            }
            if !n.publish.is_empty() {
                return Err(self.error("--publish requires --network pasta"));
            }
            return Ok(());
        }
        if self.spec.fallback.is_some() {
            return Err(self.error(
                "--network pasta is not compatible with --fallback landlock (the fallback runs without namespaces, so there is no network namespace for pasta to connect; use --unshare-net or --share-net there)",
            ));
        }
        if !self.spec.namespaces.user && self.spec.join.userns.is_none() {
            return Err(self.error(
                "--network pasta requires a new user namespace (pasta enters the sandbox's namespaces through it): add --unshare-user",
            ));
        }
        if self.spec.join.userns.is_some() {
            return Err(self.error(
                "--network pasta is not compatible with --userns (pasta configures the network namespace from the user namespace sandwrap creates)",
            ));
        }
        if self.spec.join.pidns.is_some() {
            return Err(self.error(
                "--network pasta is not compatible with --pidns (pasta would start in the joined pid namespace, where the sandbox could see it)",
            ));
        }
        Ok(())
    }
}
