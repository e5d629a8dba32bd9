//! Unit tests of `parse()` against bwrap's grammar and wording
//! (/work/notes/bwrap-strings.md), with a fake host.

mod args_file;
mod landlock;
mod limits;
mod messages;
mod modifiers;
mod namespaces;
mod network;
mod options;
mod profile_options;
mod seccomp;
mod validation;

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::fd::RawFd;

use super::{CliError, LabelError, Outcome, ParseContext, parse};
use crate::spec::Spec;

/// What the fake host looks like.
#[derive(Clone)]
pub(super) struct Host {
    pub real_uid: u32,
    pub real_gid: u32,
    /// Contents of readable fds; any other fd reads as EBADF.
    pub fds: HashMap<RawFd, Vec<u8>>,
    pub userns: bool,
    pub cgroupns: bool,
    pub selinux: bool,
}

impl Host {
    /// An unprivileged caller on a kernel with every namespace.
    pub fn user() -> Host {
        Host {
            real_uid: 1000,
            real_gid: 1000,
            fds: HashMap::new(),
            userns: true,
            cgroupns: true,
            selinux: false,
        }
    }

    /// Root, so that no user namespace is implied.
    pub fn root() -> Host {
        Host {
            real_uid: 0,
            real_gid: 0,
            ..Host::user()
        }
    }

    pub fn fd(mut self, fd: RawFd, data: &[u8]) -> Host {
        self.fds.insert(fd, data.to_vec());
        self
    }

    pub fn context(&self) -> ParseContext<'static> {
        let fds = self.fds.clone();
        let (userns, cgroupns, selinux) = (self.userns, self.cgroupns, self.selinux);
        ParseContext {
            real_uid: self.real_uid,
            real_gid: self.real_gid,
            warnings: Vec::new(),
            open_fd: Box::new(move |fd| {
                fds.get(&fd)
                    .cloned()
                    .map(|data| Box::new(std::io::Cursor::new(data)) as Box<dyn std::io::Read>)
                    .ok_or_else(|| std::io::Error::from_raw_os_error(libc::EBADF))
            }),
            userns_available: Box::new(move || userns),
            cgroupns_available: Box::new(move || cgroupns),
            check_label: Box::new(move |label: &OsStr| match () {
                _ if !selinux => Err(LabelError::Unsupported),
                _ if label == "bad_t" => Err(LabelError::Invalid(
                    std::io::Error::from_raw_os_error(libc::EINVAL),
                )),
                _ => Ok(()),
            }),
            cwd: Box::new(|| Some("/home/user/work".into())),
        }
    }

    /// Parse `sandwrap ARGS...`; also returns the warnings printed.
    pub fn parse(&self, args: &[&str]) -> (Result<Outcome, CliError>, Vec<String>) {
        let mut ctx = self.context();
        let result = parse(&argv(args), &mut ctx);
        (result, ctx.warnings)
    }

    /// The spec of a command line that must parse.
    pub fn spec(&self, args: &[&str]) -> Spec {
        match self.parse(args).0 {
            Ok(Outcome::Run(spec)) => *spec,
            other => panic!("{args:?} should run, got {other:?}"),
        }
    }

    /// The message of a command line that must fail.
    pub fn err(&self, args: &[&str]) -> String {
        match self.parse(args).0 {
            Err(CliError::Message { msg, .. }) => msg,
            other => panic!("{args:?} should fail with a message, got {other:?}"),
        }
    }
}

pub(super) fn argv(args: &[&str]) -> Vec<OsString> {
    std::iter::once("sandwrap")
        .chain(args.iter().copied())
        .map(OsString::from)
        .collect()
}

/// Shorthands for an unprivileged caller.
pub(super) fn spec(args: &[&str]) -> Spec {
    Host::user().spec(args)
}

pub(super) fn err(args: &[&str]) -> String {
    Host::user().err(args)
}

/// The spec of `COMMAND` alone on `host`: what every option changes.
pub(super) fn base(host: &Host) -> Spec {
    host.spec(&["true"])
}
