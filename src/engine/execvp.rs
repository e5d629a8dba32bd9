//! `execvp` made ahead: the candidates, argv and environment are built
//! before any filter is installed, so that trying them allocates nothing and
//! makes no call but `execve`; and the message for a failed exec. Used by
//! `exec` (which builds the plan) and `filters` (which runs it last).

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use anyhow::anyhow;

use super::sys;
use crate::spec::Spec;

/// The message for a failed exec: bwrap's, and, when sandwrap's own policy
/// is what refused execve, which rule did.
pub fn exec_error(spec: &Spec, own: Option<&crate::seccomp::Policy>, errno: i32) -> anyhow::Error {
    let base = format!(
        "execvp {}: {}",
        spec.command[0].to_string_lossy(),
        crate::errno_text(errno)
    );
    let execve = own.and_then(|p| Some((p, p.arch.nr("execve")?)));
    if let Some((policy, nr)) = execve {
        let (action, by) = policy.decide(policy.arch.audit(), nr, &[0; 6]);
        if action == crate::seccomp::Action::Errno(errno) {
            return anyhow!(
                "{base} (refused by seccomp policy {}: {})",
                policy.name,
                policy.describe(by)
            );
        }
    }
    let caller_programs = spec.seccomp.fd.is_some() || !spec.seccomp.programs.is_empty();
    if caller_programs && errno == libc::EPERM {
        return anyhow!("{base} (the --seccomp/--add-seccomp-fd program may have refused execve)");
    }
    anyhow!(base)
}

/// Everything `execvp` needs, made before any filter is installed: trying
/// the candidates then allocates nothing and makes no call but `execve`.
pub struct ExecPlan {
    /// The paths to try, in order (one when the command names a path).
    candidates: Vec<CString>,
    search: bool,
    /// Kept alive for the pointer arrays below.
    _argv: Vec<CString>,
    _env: Vec<CString>,
    argv: Vec<*const libc::c_char>,
    env: Vec<*const libc::c_char>,
    /// `/bin/sh CANDIDATE ARGS...` for a file the kernel cannot run
    /// (ENOEXEC), as execvp does; slot 1 is set per candidate.
    sh_argv: Vec<*const libc::c_char>,
}

fn ptrs(v: &[CString]) -> Vec<*const libc::c_char> {
    v.iter()
        .map(|c| c.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

impl ExecPlan {
    pub fn new(
        command: &[OsString],
        argv0: Option<&OsStr>,
        env: Vec<CString>,
        path_var: Option<&OsStr>,
    ) -> ExecPlan {
        let file = command[0].as_bytes();
        let mut argv: Vec<CString> = command.iter().map(|a| sys::cstring(a)).collect();
        if let Some(a0) = argv0 {
            argv[0] = sys::cstring(a0);
        }
        let search = !file.is_empty() && !file.contains(&b'/');
        let candidates = if file.is_empty() {
            Vec::new()
        } else if !search {
            vec![sys::cstring(&command[0])]
        } else {
            let path = path_var.map_or(&b"/bin:/usr/bin"[..], |p| p.as_bytes());
            path.split(|&b| b == b':')
                .map(|dir| {
                    let mut full = dir.to_vec();
                    if !full.is_empty() {
                        full.push(b'/');
                    }
                    full.extend_from_slice(file);
                    CString::new(full).unwrap_or_default()
                })
                .collect()
        };
        let mut sh_argv = vec![c"/bin/sh".as_ptr(), std::ptr::null()];
        sh_argv.extend(argv.iter().skip(1).map(|a| a.as_ptr()));
        sh_argv.push(std::ptr::null());
        ExecPlan {
            candidates,
            search,
            argv: ptrs(&argv),
            env: ptrs(&env),
            _argv: argv,
            _env: env,
            sh_argv,
        }
    }

    /// `execvp` with the sandbox's PATH (glibc's own would use ours).
    /// Returns the errno to report when every candidate failed.
    pub fn exec(&mut self) -> i32 {
        let mut saw_eacces = false;
        let mut last = libc::ENOENT;
        for i in 0..self.candidates.len() {
            let e = self.try_exec(i);
            if !self.search {
                return e;
            }
            match e {
                libc::EACCES => saw_eacces = true,
                libc::ENOENT | libc::ENOTDIR | libc::ESTALE | libc::ENODEV | libc::ETIMEDOUT => {}
                other => return other,
            }
            last = e;
        }
        if saw_eacces { libc::EACCES } else { last }
    }

    /// execve one candidate; a file without `#!` that the kernel cannot
    /// run (ENOEXEC) is run by /bin/sh, as execvp does.
    fn try_exec(&mut self, i: usize) -> i32 {
        let path = self.candidates[i].as_ptr();
        // SAFETY: NULL-terminated arrays of valid C strings owned by self.
        unsafe { libc::execve(path, self.argv.as_ptr(), self.env.as_ptr()) };
        let err = sys::errno();
        if err == libc::ENOEXEC {
            self.sh_argv[1] = path;
            // SAFETY: as above.
            unsafe {
                libc::execve(
                    c"/bin/sh".as_ptr(),
                    self.sh_argv.as_ptr(),
                    self.env.as_ptr(),
                )
            };
        }
        err
    }
}
