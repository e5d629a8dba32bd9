//! argv → `Spec`, strictly left to right as bwrap parses: long options only,
//! each value its own word, parsing stops at the first non-option word or
//! after `--`.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::fd::RawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

mod own;

use super::capnames::{CapWord, parse_cap_word};
use super::cnum::{self, SizeError};
use super::table::{self, Action, OptDef};
use super::{CliError, LabelError, Outcome, ParseContext, profile};
use crate::seccomp;
use crate::spec::{CapOp, EnvOp, FsOp, OverlayKind, Spec};

/// bwrap's limit on the total number of arguments, `--args` payloads included.
const MAX_ARGS: usize = 9000;

/// The longest `--add-seccomp-fd` program the kernel loads: BPF_MAXINSNS
/// instructions of 8 bytes.
const MAX_SECCOMP_BYTES: usize = crate::seccomp::compile::BPF_MAXINSNS * 8;

/// The longest word an `--args` payload may hold: the kernel's limit on one
/// argument or environment string (MAX_ARG_STRLEN); no option value can use
/// more (paths stop at 4096). Without it a payload with no NUL would be
/// read into memory without end.
const MAX_PAYLOAD_WORD: usize = 32 * 4096;

/// All `--args` payloads of a command line together: far beyond any real
/// one (flatpak's are a few hundred KiB), and small enough that holding
/// them cannot exhaust memory (an allocation failure aborts).
const MAX_PAYLOAD_BYTES: usize = 64 << 20;

const OVERLAY_SRC_DANGLING: &str = "--overlay-src must be followed by another --overlay-src or one of --overlay, --tmp-overlay, or --ro-overlay";

/// Values an option modifies the next operation with.
#[derive(Default)]
struct Pending {
    perms: Option<u32>,
    size: Option<u64>,
    overlay_sources: Vec<PathBuf>,
}

struct Parser<'c, 'a> {
    ctx: &'c mut ParseContext<'a>,
    spec: Spec,
    pending: Pending,
    total_args: usize,
    /// Bytes read from `--args` payloads so far.
    payload_bytes: usize,
    uid_seen: bool,
    gid_seen: bool,
    /// `--explain`: print instead of running.
    explain: bool,
    /// Every option word applied, profiles and `--args` expanded: the plain
    /// command line `--explain` prints.
    applied: Vec<OsString>,
    /// The real argv after argv[0]: COMMAND's basename is a profile's `$APP`.
    argv_words: &'c [OsString],
    /// What profiles expand values with, read from the host at the first
    /// `--profile` (nothing of it is on the launch path without one).
    profile_env: Option<profile::ProfileEnv>,
    /// How many `--profile`s are being read (they nest through `--args`).
    profile_depth: usize,
    /// Single-value options whose current value a profile set.
    set_by_profile: Vec<&'static str>,
    /// `--seccomp-policy`: the base policy, loaded when met.
    seccomp_base: Option<seccomp::Policy>,
    /// `--seccomp-allow`/`--seccomp-deny`, resolved when met, applied on
    /// top of the base in order.
    seccomp_ops: Vec<seccomp::Rule>,
}

/// Parse a full argv (including `argv[0]`).
pub fn parse(argv: &[OsString], ctx: &mut ParseContext<'_>) -> Result<Outcome, CliError> {
    let mut p = Parser {
        ctx,
        spec: Spec::default(),
        pending: Pending::default(),
        total_args: argv.len().saturating_sub(1),
        payload_bytes: 0,
        uid_seen: false,
        gid_seen: false,
        explain: false,
        applied: Vec::new(),
        argv_words: argv.get(1..).unwrap_or(&[]),
        profile_env: None,
        profile_depth: 0,
        set_by_profile: Vec::new(),
        seccomp_base: None,
        seccomp_ops: Vec::new(),
    };
    if argv.len().saturating_sub(1) > MAX_ARGS {
        return Err(p.error(format!("Exceeded maximum number of arguments {MAX_ARGS}")));
    }
    let words = argv.get(1..).unwrap_or(&[]);
    let rest = match p.parse_words(words, false)? {
        Step::Stop(rest) => rest,
        Step::Early(outcome) => return Ok(outcome),
    };
    if !p.pending.overlay_sources.is_empty() {
        return Err(p.error(OVERLAY_SRC_DANGLING));
    }
    p.spec.command = words[rest..].to_vec();
    p.finish()
}

enum Step {
    /// Index of the first word after the options.
    Stop(usize),
    /// `--help` or `--version`.
    Early(Outcome),
}

/// bwrap's wording for a missing value.
fn missing_value(def: &OptDef) -> String {
    match (def.name, def.args.len()) {
        ("argv0" | "chdir" | "remount-ro", _) => format!("--{} takes one argument", def.name),
        ("ro-bind-fd", _) => "--bind-fd takes two arguments".to_string(),
        (_, 1) => format!("--{} takes an argument", def.name),
        (_, 2) => format!("--{} takes two arguments", def.name),
        _ => format!("--{} takes three arguments", def.name),
    }
}

impl Parser<'_, '_> {
    fn profile_env(&mut self) -> &profile::ProfileEnv {
        let words = self.argv_words;
        self.profile_env
            .get_or_insert_with(|| profile::ProfileEnv::from_host(command_basename(words)))
    }

    fn error(&self, msg: impl Into<String>) -> CliError {
        CliError::Message {
            msg: msg.into(),
            level_prefix: self.spec.level_prefix,
        }
    }

    fn warn(&mut self, msg: String) {
        let line = crate::out::line(self.spec.level_prefix, crate::out::Level::Warning, &msg);
        self.ctx.warnings.push(line);
    }

    /// bwrap warns about a repeated single-value option before it looks
    /// at the new value.
    /// Overriding a value a profile set is what options after `--profile`
    /// are for: no warning then.
    fn warn_repeat(&mut self, repeated: bool, def: &OptDef) {
        let from_profile = self.set_by_profile.contains(&def.name);
        if repeated && !from_profile {
            self.warn(format!(
                "Only the last --{} option will take effect",
                def.name
            ));
        }
        if self.profile_depth > 0 {
            if !from_profile {
                self.set_by_profile.push(def.name);
            }
        } else {
            self.set_by_profile.retain(|n| *n != def.name);
        }
    }

    fn fd_last(
        &mut self,
        current: Option<RawFd>,
        word: &OsStr,
        def: &OptDef,
    ) -> Result<RawFd, CliError> {
        self.warn_repeat(current.is_some(), def);
        self.fd(word)
    }

    fn parse_words(&mut self, words: &[OsString], in_args_file: bool) -> Result<Step, CliError> {
        let mut i = 0;
        while i < words.len() {
            let word = words[i].as_bytes();
            if word == b"--" {
                return Ok(Step::Stop(i + 1));
            }
            if !word.starts_with(b"-") {
                return Ok(Step::Stop(i));
            }
            let def = match std::str::from_utf8(word).ok().and_then(table::lookup) {
                Some(def) => def,
                None => {
                    return Err(
                        self.error(format!("Unknown option {}", words[i].to_string_lossy()))
                    );
                }
            };
            if def.action == Action::ControlFd && (in_args_file || i != 0) {
                return Err(self.error(
                    "--control-fd must be the first option (its fds are placed before the others are read)",
                ));
            }
            if def.action == Action::Args && in_args_file {
                return Err(self.error("--args not supported in arguments file"));
            }
            let nargs = def.args.len();
            if words.len() - i - 1 < nargs {
                return Err(self.error(missing_value(def)));
            }
            let values = &words[i + 1..i + 1 + nargs];
            i += 1 + nargs;
            if !matches!(def.action, Action::Args | Action::Profile | Action::Explain) {
                self.applied.push(words[i - 1 - nargs].clone());
                self.applied.extend_from_slice(values);
            }

            match def.action {
                Action::Help => return Ok(Step::Early(Outcome::Help)),
                Action::Version => return Ok(Step::Early(Outcome::Version)),
                Action::Args => {
                    let fd = self.fd(&values[0])?;
                    let payload = self.read_payload(fd)?;
                    // A non-option word inside the payload ends that payload
                    // only; the command must be on the real argv.
                    if let Step::Early(outcome) = self.parse_words(&payload, true)? {
                        return Ok(Step::Early(outcome));
                    }
                }
                Action::ListProfiles => {
                    return Ok(Step::Early(Outcome::ListProfiles(profile::list(
                        self.profile_env(),
                    ))));
                }
                Action::Profile => {
                    let name = values[0]
                        .to_str()
                        .ok_or_else(|| self.error("--profile: the name is not valid UTF-8"))?;
                    let payload =
                        profile::load(name, self.profile_env()).map_err(|e| self.error(e))?;
                    self.count_args(payload.len())?;
                    // A profile holds options only (the loader emits nothing
                    // else), so it never ends the option list.
                    self.profile_depth += 1;
                    let step = self.parse_words(&payload, true)?;
                    self.profile_depth -= 1;
                    if let Step::Early(outcome) = step {
                        return Ok(Step::Early(outcome));
                    }
                }
                Action::Explain => self.explain = true,
                action => self.apply(def, action, values)?,
            }
            self.check_modifiers_consumed(def)?;
        }
        Ok(Step::Stop(words.len()))
    }

    /// Count words towards bwrap's limit on arguments.
    fn count_args(&mut self, n: usize) -> Result<(), CliError> {
        self.total_args += n;
        if self.total_args > MAX_ARGS {
            return Err(self.error(format!("Exceeded maximum number of arguments {MAX_ARGS}")));
        }
        Ok(())
    }

    /// The words of an `--args` payload as bwrap splits it: each ends at a
    /// NUL or at the end of the data, so one trailing NUL adds no word but
    /// `"\0"` alone is one empty word (which ends the payload's options).
    /// Words are counted as they are read: a payload of millions of NULs is
    /// refused at the limit, without reading (or holding) the rest.
    fn read_payload(&mut self, fd: RawFd) -> Result<Vec<OsString>, CliError> {
        let read_error = |p: &Self, e: std::io::Error| {
            p.error(format!(
                "Can't read --args data: {}",
                crate::io_error_text(&e)
            ))
        };
        let mut reader = (self.ctx.open_fd)(fd).map_err(|e| read_error(self, e))?;
        let mut words = Vec::new();
        let mut word = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(read_error(self, e)),
            };
            self.payload_bytes += n;
            if self.payload_bytes > MAX_PAYLOAD_BYTES {
                return Err(self.error(format!(
                    "Can't read --args data: more than {} MiB in all",
                    MAX_PAYLOAD_BYTES >> 20
                )));
            }
            for piece in buf[..n].split_inclusive(|&b| b == 0) {
                match piece.split_last() {
                    Some((0, head)) => {
                        word.extend_from_slice(head);
                        self.count_args(1)?;
                        words.push(OsString::from_vec(std::mem::take(&mut word)));
                    }
                    _ => word.extend_from_slice(piece),
                }
                if word.len() > MAX_PAYLOAD_WORD {
                    return Err(self.error(format!(
                        "Can't read --args data: word {} is longer than {MAX_PAYLOAD_WORD} bytes",
                        words.len() + 1
                    )));
                }
            }
        }
        if !word.is_empty() {
            self.count_args(1)?;
            words.push(OsString::from_vec(word));
        }
        Ok(words)
    }

    /// `--perms`, `--size` and `--overlay-src` modify the next operation; any
    /// other option in between is an error.
    fn check_modifiers_consumed(&self, def: &OptDef) -> Result<(), CliError> {
        let modifier = matches!(def.action, Action::Perms | Action::Size);
        if !modifier && self.pending.perms.is_some() {
            return Err(self.error("--perms must be followed by an option that creates a file"));
        }
        if !modifier && self.pending.size.is_some() {
            return Err(self.error("--size must be followed by --tmpfs"));
        }
        if def.action != Action::OverlaySrc && !self.pending.overlay_sources.is_empty() {
            return Err(self.error(OVERLAY_SRC_DANGLING));
        }
        Ok(())
    }

    fn fd(&self, word: &OsStr) -> Result<RawFd, CliError> {
        cnum::c_int_nonneg(word.as_bytes())
            .ok_or_else(|| self.error(format!("Invalid fd: {}", word.to_string_lossy())))
    }

    /// A uid or gid: bwrap parses it like an fd, so it is below 2^31.
    fn id(&self, word: &OsStr, what: &str) -> Result<u32, CliError> {
        cnum::c_int_nonneg(word.as_bytes())
            .map(|n| n as u32)
            .ok_or_else(|| self.error(format!("Invalid {what}: {}", word.to_string_lossy())))
    }

    fn octal(&self, word: &OsStr, option: &str) -> Result<u32, CliError> {
        cnum::c_octal_mode(word.as_bytes())
            .ok_or_else(|| self.error(format!("--{option} takes an octal argument <= 07777")))
    }

    /// bwrap validates labels while parsing.
    fn label(&self, word: &OsStr) -> Result<(), CliError> {
        match (self.ctx.check_label)(word) {
            Ok(()) => Ok(()),
            Err(LabelError::Unsupported) => {
                Err(self.error("labeling not supported on this system"))
            }
            Err(LabelError::Invalid(e)) => Err(self.error(format!(
                "invalid label {}: {}",
                word.to_string_lossy(),
                crate::io_error_text(&e)
            ))),
        }
    }

    /// bwrap edits its own environment while parsing, so a name glibc's
    /// setenv/unsetenv refuses (empty, or containing '=') is fatal at once.
    fn env_name(&self, name: &OsStr, call: &str) -> Result<(), CliError> {
        if name.is_empty() || name.as_bytes().contains(&b'=') {
            return Err(self.error(format!("{call} failed")));
        }
        Ok(())
    }

    fn take_perms(&mut self) -> Option<u32> {
        self.pending.perms.take()
    }

    fn apply(&mut self, def: &OptDef, action: Action, v: &[OsString]) -> Result<(), CliError> {
        let path = |i: usize| PathBuf::from(v[i].clone());
        let ns = &mut self.spec.namespaces;
        match action {
            Action::Help
            | Action::Version
            | Action::Args
            | Action::ListProfiles
            | Action::Profile
            | Action::Explain => {
                unreachable!("handled by parse_words")
            }
            Action::Argv0 => {
                if self.spec.argv0.is_some() {
                    return Err(self.error("--argv0 used multiple times"));
                }
                self.spec.argv0 = Some(v[0].clone());
            }
            Action::LevelPrefix => self.spec.level_prefix = true,
            Action::UnshareAll => {
                // Same as --unshare-user-try --unshare-ipc --unshare-pid
                // --unshare-net --unshare-uts --unshare-cgroup-try.
                ns.user_try = true;
                ns.ipc = true;
                ns.pid = true;
                ns.net = true;
                ns.uts = true;
                ns.cgroup_try = true;
                // --network pasta is a kind of --unshare-net: last wins.
                self.spec.network.pasta = false;
            }
            Action::ShareNet => {
                ns.net = false;
                self.spec.network.pasta = false;
            }
            Action::UnshareUser => ns.user = true,
            Action::UnshareUserTry => ns.user_try = true,
            Action::UnshareIpc => ns.ipc = true,
            Action::UnsharePid => ns.pid = true,
            Action::UnshareNet => {
                ns.net = true;
                self.spec.network.pasta = false;
            }
            Action::UnshareUts => ns.uts = true,
            Action::UnshareCgroup => ns.cgroup = true,
            Action::UnshareCgroupTry => ns.cgroup_try = true,
            Action::Userns => {
                self.spec.join.userns = Some(self.fd_last(self.spec.join.userns, &v[0], def)?);
            }
            Action::Userns2 => {
                self.spec.join.userns2 = Some(self.fd_last(self.spec.join.userns2, &v[0], def)?);
            }
            Action::Pidns => {
                self.spec.join.pidns = Some(self.fd_last(self.spec.join.pidns, &v[0], def)?);
            }
            Action::DisableUserns => self.spec.disable_userns = true,
            Action::AssertUsernsDisabled => self.spec.assert_userns_disabled = true,
            Action::Uid => {
                self.warn_repeat(self.uid_seen, def);
                let id = self.id(&v[0], "uid")?;
                self.uid_seen = true;
                self.spec.uid = Some(id);
            }
            Action::Gid => {
                self.warn_repeat(self.gid_seen, def);
                let id = self.id(&v[0], "gid")?;
                self.gid_seen = true;
                self.spec.gid = Some(id);
            }
            Action::Hostname => {
                self.warn_repeat(self.spec.hostname.is_some(), def);
                self.spec.hostname = Some(v[0].clone());
            }
            Action::Chdir => {
                self.warn_repeat(self.spec.chdir.is_some(), def);
                self.spec.chdir = Some(path(0));
            }
            Action::Clearenv => self.spec.env.push(EnvOp::Clear),
            Action::Setenv => {
                self.env_name(&v[0], "setenv")?;
                self.spec.env.push(EnvOp::Set(v[0].clone(), v[1].clone()));
            }
            Action::Unsetenv => {
                self.env_name(&v[0], "unsetenv")?;
                self.spec.env.push(EnvOp::Unset(v[0].clone()));
            }
            Action::LockFile => self.spec.lock_files.push(path(0)),
            Action::SyncFd => {
                self.spec.status.sync = Some(self.fd_last(self.spec.status.sync, &v[0], def)?);
            }
            Action::Bind(mode, allow_missing) => self.spec.ops.push(FsOp::Bind {
                src: path(0),
                dest: path(1),
                mode,
                allow_missing,
            }),
            Action::BindFd(read_only) => {
                let fd = self.fd(&v[0])?;
                self.spec.ops.push(FsOp::BindFd {
                    fd,
                    dest: path(1),
                    read_only,
                });
            }
            Action::RemountRo => self.spec.ops.push(FsOp::RemountRo { dest: path(0) }),
            Action::OverlaySrc => self.pending.overlay_sources.push(path(0)),
            Action::Overlay | Action::TmpOverlay | Action::RoOverlay => {
                let sources = std::mem::take(&mut self.pending.overlay_sources);
                let (kind, dest, needed) = match action {
                    Action::Overlay => (
                        OverlayKind::Persistent {
                            upper: path(0),
                            work: path(1),
                        },
                        path(2),
                        1,
                    ),
                    Action::TmpOverlay => (OverlayKind::Temporary, path(0), 1),
                    _ => (OverlayKind::ReadOnly, path(0), 2),
                };
                if sources.len() < needed {
                    let what = if needed == 1 {
                        "at least one"
                    } else {
                        "at least two"
                    };
                    return Err(self.error(format!("--{} requires {what} --overlay-src", def.name)));
                }
                self.spec.ops.push(FsOp::Overlay {
                    sources,
                    kind,
                    dest,
                });
            }
            Action::ExecLabel => {
                self.warn_repeat(self.spec.exec_label.is_some(), def);
                self.spec.exec_label = Some(v[0].clone());
                self.label(&v[0])?;
            }
            Action::FileLabel => {
                self.warn_repeat(self.spec.file_label.is_some(), def);
                self.spec.file_label = Some(v[0].clone());
                self.label(&v[0])?;
            }
            Action::Proc => self.spec.ops.push(FsOp::Proc { dest: path(0) }),
            Action::Dev => self.spec.ops.push(FsOp::Dev { dest: path(0) }),
            Action::Tmpfs => {
                let perms = self.take_perms();
                let size = self.pending.size.take();
                self.spec.ops.push(FsOp::Tmpfs {
                    dest: path(0),
                    perms,
                    size,
                });
            }
            Action::Mqueue => self.spec.ops.push(FsOp::Mqueue { dest: path(0) }),
            Action::Dir => {
                let perms = self.take_perms();
                self.spec.ops.push(FsOp::Dir {
                    dest: path(0),
                    perms,
                });
            }
            Action::File => {
                let fd = self.fd(&v[0])?;
                let perms = self.take_perms();
                self.spec.ops.push(FsOp::File {
                    fd,
                    dest: path(1),
                    perms,
                });
            }
            Action::BindData(read_only) => {
                let fd = self.fd(&v[0])?;
                let perms = self.take_perms();
                self.spec.ops.push(FsOp::BindData {
                    fd,
                    dest: path(1),
                    perms,
                    read_only,
                });
            }
            Action::Symlink => self.spec.ops.push(FsOp::Symlink {
                target: path(0),
                dest: path(1),
            }),
            Action::Seccomp => {
                if !self.spec.seccomp.programs.is_empty() {
                    return Err(self.error("--seccomp cannot be combined with --add-seccomp-fd"));
                }
                self.spec.seccomp.fd = Some(self.fd_last(self.spec.seccomp.fd, &v[0], def)?);
            }
            Action::AddSeccompFd => {
                if self.spec.seccomp.fd.is_some() {
                    return Err(self.error("--add-seccomp-fd cannot be combined with --seccomp"));
                }
                let fd = self.fd(&v[0])?;
                // One byte past the kernel's limit is enough to refuse: an
                // endless fd is never read into memory.
                let mut data = Vec::new();
                (self.ctx.open_fd)(fd)
                    .and_then(|r| r.take(MAX_SECCOMP_BYTES as u64 + 1).read_to_end(&mut data))
                    .map_err(|e| {
                        self.error(format!(
                            "Can't read seccomp data: {}",
                            crate::io_error_text(&e)
                        ))
                    })?;
                if data.len() > MAX_SECCOMP_BYTES {
                    return Err(self.error(format!(
                        "Invalid seccomp data, more than {} instructions (the kernel's limit)",
                        MAX_SECCOMP_BYTES / 8
                    )));
                }
                if data.len() % 8 != 0 {
                    return Err(self.error("Invalid seccomp data, must be multiple of 8"));
                }
                self.spec.seccomp.programs.push(data);
            }
            Action::BlockFd => {
                self.spec.status.block = Some(self.fd_last(self.spec.status.block, &v[0], def)?);
            }
            Action::UsernsBlockFd => {
                self.spec.status.userns_block =
                    Some(self.fd_last(self.spec.status.userns_block, &v[0], def)?);
            }
            Action::InfoFd => {
                self.spec.status.info = Some(self.fd_last(self.spec.status.info, &v[0], def)?);
            }
            Action::JsonStatusFd => {
                self.spec.status.json_status =
                    Some(self.fd_last(self.spec.status.json_status, &v[0], def)?);
            }
            Action::ControlFd => self.spec.status.control = Some(self.fd(&v[0])?),
            Action::NewSession => self.spec.new_session = true,
            Action::DieWithParent => self.spec.die_with_parent = true,
            Action::AsPid1 => self.spec.as_pid_1 = true,
            Action::CapAdd | Action::CapDrop => {
                let add = action == Action::CapAdd;
                let word = parse_cap_word(v[0].as_bytes()).ok_or_else(|| {
                    self.error(format!("unknown cap: {}", v[0].to_string_lossy()))
                })?;
                self.spec.caps.push(match (word, add) {
                    (CapWord::All, true) => CapOp::AddAll,
                    (CapWord::All, false) => CapOp::DropAll,
                    (CapWord::Cap(c), true) => CapOp::Add(c),
                    (CapWord::Cap(c), false) => CapOp::Drop(c),
                });
            }
            Action::Perms => {
                if self.pending.perms.is_some() {
                    return Err(self.error("--perms given twice for the same action"));
                }
                self.pending.perms = Some(self.octal(&v[0], "perms")?);
            }
            Action::Size => {
                if self.pending.size.is_some() {
                    return Err(self.error("--size given twice for the same action"));
                }
                self.pending.size = Some(self.size(&v[0])?);
            }
            Action::Chmod => {
                let perms = self.octal(&v[0], "chmod")?;
                self.spec.ops.push(FsOp::Chmod {
                    path: path(1),
                    perms,
                });
            }
            Action::NotASecurityBoundary => self.spec.not_a_security_boundary = true,
            own => self.apply_own(def, own, v)?,
        }
        // Options that do not take the pending --size / --perms leave them
        // set, which check_modifiers_consumed reports.
        Ok(())
    }

    fn size(&self, word: &OsStr) -> Result<u64, CliError> {
        cnum::c_size(word.as_bytes()).map_err(|e| match e {
            SizeError::NotANumber => self.error("--size takes a non-zero number of bytes"),
            SizeError::TooLarge => self.error(format!(
                "--size (for tmpfs) is limited to {}",
                cnum::MAX_TMPFS_BYTES
            )),
        })
    }

    /// Checks made after parsing, in bwrap's order.
    fn finish(mut self) -> Result<Outcome, CliError> {
        self.resolve_seccomp()?;
        let s = &self.spec;
        if s.status.userns_block.is_some() && !s.namespaces.user {
            return Err(self.error("--userns-block-fd requires --unshare-user"));
        }
        if s.status.userns_block.is_some() && s.status.info.is_none() {
            return Err(self.error("--userns-block-fd requires --info-fd"));
        }
        if s.join.userns.is_some() && s.namespaces.user {
            return Err(self.error("--userns not compatible --unshare-user"));
        }
        if s.join.userns.is_some() && s.namespaces.user_try {
            return Err(self.error("--userns not compatible --unshare-user-try"));
        }
        if s.disable_userns && !s.namespaces.user {
            return Err(self.error("--disable-userns requires --unshare-user"));
        }
        if s.disable_userns && s.status.userns_block.is_some() {
            return Err(self.error("--disable-userns is not compatible with  --userns-block-fd"));
        }
        // An unprivileged caller always gets a user namespace.
        let real_uid = self.ctx.real_uid;
        if real_uid != 0 && self.spec.join.userns.is_none() {
            self.spec.namespaces.user = true;
        }
        if self.spec.namespaces.user_try
            && !self.spec.namespaces.user
            && (self.ctx.userns_available)()
        {
            self.spec.namespaces.user = true;
        }
        if self.spec.namespaces.cgroup_try
            && !self.spec.namespaces.cgroup
            && (self.ctx.cgroupns_available)()
        {
            self.spec.namespaces.cgroup = true;
        }
        // `--explain` shows a sandbox that a COMMAND could be run in.
        if self.spec.command.is_empty() && !self.explain {
            return Err(CliError::Usage);
        }
        let s = &self.spec;
        let userns = s.namespaces.user || s.join.userns.is_some();
        if s.uid.is_some_and(|u| u != real_uid) && !userns {
            return Err(self.error("Specifying --uid requires --unshare-user or --userns"));
        }
        if s.gid.is_some_and(|g| g != self.ctx.real_gid) && !userns {
            return Err(self.error("Specifying --gid requires --unshare-user or --userns"));
        }
        if s.hostname.is_some() && !s.namespaces.uts {
            return Err(self.error("Specifying --hostname requires --unshare-uts"));
        }
        if s.as_pid_1 && !s.namespaces.pid {
            return Err(self.error("Specifying --as-pid-1 requires --unshare-pid"));
        }
        if s.as_pid_1 && !s.lock_files.is_empty() {
            return Err(self.error("Specifying --as-pid-1 and --lock-file is not permitted"));
        }
        if s.as_pid_1 && s.end_with_command {
            return Err(self.error("--end-with-command is not compatible with --as-pid-1: the command, as pid 1, could keep the sandbox alive after sandwrap has gone"));
        }
        if s.limits.json_usage && s.status.json_status.is_none() {
            return Err(self.error(
                "--json-usage requires --json-status-fd (the usage object is written there)",
            ));
        }
        if s.limits.kill_after.is_some() && s.limits.timeout.is_none() {
            return Err(self.error("--kill-after requires --timeout (it is the grace period after the timeout's SIGTERM)"));
        }
        if s.subids.is_some() && !s.namespaces.user {
            return Err(self.error(
                "--map-subids requires a new user namespace (--unshare-user; not --userns)",
            ));
        }
        if s.subids.is_some() && s.status.userns_block.is_some() {
            return Err(self.error(
                "--map-subids is not compatible with --userns-block-fd (both write the id maps)",
            ));
        }
        self.check_network()?;
        if self.explain {
            return Ok(Outcome::Explain {
                spec: Box::new(self.spec),
                argv: self.applied,
            });
        }
        Ok(Outcome::Run(Box::new(self.spec)))
    }
}

/// Basename of COMMAND: the first word after the options of the real argv
/// (profiles and `--args` payloads never hold it), found with the option
/// table only.
fn command_basename(words: &[OsString]) -> Option<String> {
    let mut i = 0;
    while i < words.len() {
        let w = words[i].to_str()?;
        if w == "--" {
            i += 1;
            break;
        }
        if !w.starts_with('-') {
            break;
        }
        i += 1 + table::lookup(w)?.args.len();
    }
    let cmd = words.get(i)?.to_str()?;
    let base = cmd.rsplit('/').next()?;
    (!base.is_empty() && base != "." && base != "..").then(|| base.to_string())
}
