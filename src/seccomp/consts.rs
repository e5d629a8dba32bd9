//! Named constants a policy may use: errno names for actions, and the flag
//! and request values argument conditions compare against. Values come from
//! the `libc` crate for the target being built, so they match the host ABI.

/// errno names, in the order `name_of` prefers for aliases
/// (EAGAIN over EWOULDBLOCK, EOPNOTSUPP over ENOTSUP, EDEADLK over EDEADLOCK).
pub const ERRNOS: &[(&str, i32)] = &[
    ("EPERM", libc::EPERM),
    ("ENOENT", libc::ENOENT),
    ("ESRCH", libc::ESRCH),
    ("EINTR", libc::EINTR),
    ("EIO", libc::EIO),
    ("ENXIO", libc::ENXIO),
    ("E2BIG", libc::E2BIG),
    ("ENOEXEC", libc::ENOEXEC),
    ("EBADF", libc::EBADF),
    ("ECHILD", libc::ECHILD),
    ("EAGAIN", libc::EAGAIN),
    ("EWOULDBLOCK", libc::EWOULDBLOCK),
    ("ENOMEM", libc::ENOMEM),
    ("EACCES", libc::EACCES),
    ("EFAULT", libc::EFAULT),
    ("ENOTBLK", libc::ENOTBLK),
    ("EBUSY", libc::EBUSY),
    ("EEXIST", libc::EEXIST),
    ("EXDEV", libc::EXDEV),
    ("ENODEV", libc::ENODEV),
    ("ENOTDIR", libc::ENOTDIR),
    ("EISDIR", libc::EISDIR),
    ("EINVAL", libc::EINVAL),
    ("ENFILE", libc::ENFILE),
    ("EMFILE", libc::EMFILE),
    ("ENOTTY", libc::ENOTTY),
    ("ETXTBSY", libc::ETXTBSY),
    ("EFBIG", libc::EFBIG),
    ("ENOSPC", libc::ENOSPC),
    ("ESPIPE", libc::ESPIPE),
    ("EROFS", libc::EROFS),
    ("EMLINK", libc::EMLINK),
    ("EPIPE", libc::EPIPE),
    ("EDOM", libc::EDOM),
    ("ERANGE", libc::ERANGE),
    ("EDEADLK", libc::EDEADLK),
    ("EDEADLOCK", libc::EDEADLOCK),
    ("ENAMETOOLONG", libc::ENAMETOOLONG),
    ("ENOLCK", libc::ENOLCK),
    ("ENOSYS", libc::ENOSYS),
    ("ENOTEMPTY", libc::ENOTEMPTY),
    ("ELOOP", libc::ELOOP),
    ("ENOMSG", libc::ENOMSG),
    ("EIDRM", libc::EIDRM),
    ("ENOSTR", libc::ENOSTR),
    ("ENODATA", libc::ENODATA),
    ("ETIME", libc::ETIME),
    ("ENOSR", libc::ENOSR),
    ("ENOLINK", libc::ENOLINK),
    ("EPROTO", libc::EPROTO),
    ("EBADMSG", libc::EBADMSG),
    ("EOVERFLOW", libc::EOVERFLOW),
    ("EILSEQ", libc::EILSEQ),
    ("EUSERS", libc::EUSERS),
    ("ENOTSOCK", libc::ENOTSOCK),
    ("EDESTADDRREQ", libc::EDESTADDRREQ),
    ("EMSGSIZE", libc::EMSGSIZE),
    ("EPROTOTYPE", libc::EPROTOTYPE),
    ("ENOPROTOOPT", libc::ENOPROTOOPT),
    ("EPROTONOSUPPORT", libc::EPROTONOSUPPORT),
    ("ESOCKTNOSUPPORT", libc::ESOCKTNOSUPPORT),
    ("EOPNOTSUPP", libc::EOPNOTSUPP),
    ("ENOTSUP", libc::ENOTSUP),
    ("EPFNOSUPPORT", libc::EPFNOSUPPORT),
    ("EAFNOSUPPORT", libc::EAFNOSUPPORT),
    ("EADDRINUSE", libc::EADDRINUSE),
    ("EADDRNOTAVAIL", libc::EADDRNOTAVAIL),
    ("ENETDOWN", libc::ENETDOWN),
    ("ENETUNREACH", libc::ENETUNREACH),
    ("ENETRESET", libc::ENETRESET),
    ("ECONNABORTED", libc::ECONNABORTED),
    ("ECONNRESET", libc::ECONNRESET),
    ("ENOBUFS", libc::ENOBUFS),
    ("EISCONN", libc::EISCONN),
    ("ENOTCONN", libc::ENOTCONN),
    ("ESHUTDOWN", libc::ESHUTDOWN),
    ("ETOOMANYREFS", libc::ETOOMANYREFS),
    ("ETIMEDOUT", libc::ETIMEDOUT),
    ("ECONNREFUSED", libc::ECONNREFUSED),
    ("EHOSTDOWN", libc::EHOSTDOWN),
    ("EHOSTUNREACH", libc::EHOSTUNREACH),
    ("EALREADY", libc::EALREADY),
    ("EINPROGRESS", libc::EINPROGRESS),
    ("ESTALE", libc::ESTALE),
    ("EDQUOT", libc::EDQUOT),
    ("ECANCELED", libc::ECANCELED),
    ("EOWNERDEAD", libc::EOWNERDEAD),
    ("ENOTRECOVERABLE", libc::ENOTRECOVERABLE),
    ("ENOMEDIUM", libc::ENOMEDIUM),
    ("EMEDIUMTYPE", libc::EMEDIUMTYPE),
    ("ENOKEY", libc::ENOKEY),
    ("EKEYEXPIRED", libc::EKEYEXPIRED),
    ("EKEYREVOKED", libc::EKEYREVOKED),
    ("EKEYREJECTED", libc::EKEYREJECTED),
    ("ERFKILL", libc::ERFKILL),
    ("EHWPOISON", libc::EHWPOISON),
];

/// The errno number for a name (`EPERM`) or a decimal number (`1`).
pub fn errno(word: &str) -> Option<i32> {
    if let Some(&(_, n)) = ERRNOS.iter().find(|(name, _)| *name == word) {
        return Some(n);
    }
    // SECCOMP_RET_DATA holds 16 bits; the kernel caps errno at 4095.
    word.parse::<i32>().ok().filter(|n| (1..=4095).contains(n))
}

/// The preferred name of an errno number, or the number itself.
pub fn errno_name(n: i32) -> String {
    ERRNOS
        .iter()
        .find(|(_, v)| *v == n)
        .map_or_else(|| n.to_string(), |(name, _)| (*name).to_string())
}

/// Values argument conditions can name. (The casts keep the table the same
/// on every target, where libc gives these constants different types.)
#[allow(clippy::unnecessary_cast)]
pub const CONSTANTS: &[(&str, u64)] = &[
    // ioctl requests (terminal injection and the common harmless ones).
    ("TIOCSTI", libc::TIOCSTI as u64),
    ("TIOCLINUX", libc::TIOCLINUX as u64),
    ("TIOCSCTTY", libc::TIOCSCTTY as u64),
    ("TIOCSETD", libc::TIOCSETD as u64),
    ("TIOCGWINSZ", libc::TIOCGWINSZ as u64),
    ("TIOCSWINSZ", libc::TIOCSWINSZ as u64),
    ("TIOCGPGRP", libc::TIOCGPGRP as u64),
    ("TIOCSPGRP", libc::TIOCSPGRP as u64),
    ("TCGETS", libc::TCGETS as u64),
    ("TCSETS", libc::TCSETS as u64),
    ("FIONREAD", libc::FIONREAD as u64),
    ("FIONBIO", libc::FIONBIO as u64),
    ("FIOCLEX", libc::FIOCLEX as u64),
    ("FIONCLEX", libc::FIONCLEX as u64),
    // clone/unshare/setns flags.
    ("CLONE_VM", libc::CLONE_VM as u64),
    ("CLONE_FS", libc::CLONE_FS as u64),
    ("CLONE_FILES", libc::CLONE_FILES as u64),
    ("CLONE_SIGHAND", libc::CLONE_SIGHAND as u64),
    ("CLONE_PIDFD", libc::CLONE_PIDFD as u64),
    ("CLONE_PTRACE", libc::CLONE_PTRACE as u64),
    ("CLONE_VFORK", libc::CLONE_VFORK as u64),
    ("CLONE_PARENT", libc::CLONE_PARENT as u64),
    ("CLONE_THREAD", libc::CLONE_THREAD as u64),
    ("CLONE_NEWNS", libc::CLONE_NEWNS as u64),
    ("CLONE_SYSVSEM", libc::CLONE_SYSVSEM as u64),
    ("CLONE_SETTLS", libc::CLONE_SETTLS as u64),
    ("CLONE_PARENT_SETTID", libc::CLONE_PARENT_SETTID as u64),
    ("CLONE_CHILD_CLEARTID", libc::CLONE_CHILD_CLEARTID as u64),
    ("CLONE_UNTRACED", libc::CLONE_UNTRACED as u64),
    ("CLONE_CHILD_SETTID", libc::CLONE_CHILD_SETTID as u64),
    ("CLONE_NEWCGROUP", libc::CLONE_NEWCGROUP as u64),
    ("CLONE_NEWUTS", libc::CLONE_NEWUTS as u64),
    ("CLONE_NEWIPC", libc::CLONE_NEWIPC as u64),
    ("CLONE_NEWUSER", libc::CLONE_NEWUSER as u64),
    ("CLONE_NEWPID", libc::CLONE_NEWPID as u64),
    ("CLONE_NEWNET", libc::CLONE_NEWNET as u64),
    ("CLONE_IO", libc::CLONE_IO as u64),
    ("CLONE_NEWTIME", 0x80),
    // Socket domains and types.
    ("AF_UNSPEC", libc::AF_UNSPEC as u64),
    ("AF_UNIX", libc::AF_UNIX as u64),
    ("AF_LOCAL", libc::AF_LOCAL as u64),
    ("AF_INET", libc::AF_INET as u64),
    ("AF_INET6", libc::AF_INET6 as u64),
    ("AF_NETLINK", libc::AF_NETLINK as u64),
    ("AF_PACKET", libc::AF_PACKET as u64),
    ("AF_KEY", libc::AF_KEY as u64),
    ("AF_ALG", libc::AF_ALG as u64),
    ("AF_VSOCK", libc::AF_VSOCK as u64),
    ("AF_BLUETOOTH", libc::AF_BLUETOOTH as u64),
    ("AF_CAN", libc::AF_CAN as u64),
    ("AF_TIPC", libc::AF_TIPC as u64),
    ("AF_XDP", libc::AF_XDP as u64),
    ("SOCK_STREAM", libc::SOCK_STREAM as u64),
    ("SOCK_DGRAM", libc::SOCK_DGRAM as u64),
    ("SOCK_RAW", libc::SOCK_RAW as u64),
    ("SOCK_SEQPACKET", libc::SOCK_SEQPACKET as u64),
    ("SOCK_NONBLOCK", libc::SOCK_NONBLOCK as u64),
    ("SOCK_CLOEXEC", libc::SOCK_CLOEXEC as u64),
    ("MSG_FASTOPEN", libc::MSG_FASTOPEN as u64),
    // personality(2) values.
    ("PER_LINUX", 0x0000),
    ("PER_LINUX32", 0x0008),
    ("UNAME26", 0x0002_0000),
    ("PER_LINUX32_UNAME26", 0x0002_0008),
    ("ADDR_NO_RANDOMIZE", 0x0004_0000),
    ("READ_IMPLIES_EXEC", 0x0040_0000),
    ("ADDR_COMPAT_LAYOUT", 0x0020_0000),
    ("MMAP_PAGE_ZERO", 0x0010_0000),
    ("PERSONALITY_QUERY", 0xffff_ffff),
    // ptrace requests.
    ("PTRACE_TRACEME", libc::PTRACE_TRACEME as u64),
    ("PTRACE_ATTACH", libc::PTRACE_ATTACH as u64),
    ("PTRACE_SEIZE", libc::PTRACE_SEIZE as u64),
    // mmap/mprotect protections.
    ("PROT_READ", libc::PROT_READ as u64),
    ("PROT_WRITE", libc::PROT_WRITE as u64),
    ("PROT_EXEC", libc::PROT_EXEC as u64),
    // prctl options.
    ("PR_SET_SECCOMP", libc::PR_SET_SECCOMP as u64),
    ("PR_SET_NO_NEW_PRIVS", libc::PR_SET_NO_NEW_PRIVS as u64),
    ("PR_SET_DUMPABLE", libc::PR_SET_DUMPABLE as u64),
    ("PR_SET_PTRACER", libc::PR_SET_PTRACER as u64),
];

pub fn constant(word: &str) -> Option<u64> {
    CONSTANTS
        .iter()
        .find(|(name, _)| *name == word)
        .map(|(_, v)| *v)
}

/// Named arguments of the calls policies usually inspect: (syscall, name,
/// index, 32-bit). A 32-bit argument is compared on its low half only, as the
/// kernel reads it: a rule on `ioctl` request TIOCSTI must not be dodged by
/// setting the upper 32 bits.
const ARGS: &[(&str, &str, u8, bool)] = &[
    ("ioctl", "fd", 0, true),
    ("ioctl", "request", 1, true),
    ("clone", "flags", 0, false),
    ("unshare", "flags", 0, true),
    ("setns", "fd", 0, true),
    ("setns", "nstype", 1, true),
    ("socket", "domain", 0, true),
    ("socket", "type", 1, true),
    ("socket", "protocol", 2, true),
    ("socketpair", "domain", 0, true),
    ("socketpair", "type", 1, true),
    ("socketpair", "protocol", 2, true),
    ("sendto", "flags", 3, true),
    ("sendmsg", "flags", 2, true),
    ("sendmmsg", "flags", 3, true),
    ("personality", "persona", 0, true),
    ("prctl", "option", 0, true),
    ("ptrace", "request", 0, false),
    ("ptrace", "pid", 1, true),
    ("kill", "pid", 0, true),
    ("kill", "sig", 1, true),
    ("mprotect", "prot", 2, false),
    ("mmap", "prot", 2, false),
    ("mmap", "flags", 3, false),
    ("fcntl", "cmd", 1, true),
];

/// `(index, 32-bit)` of a named argument (`request`) or `argN`.
pub fn arg(syscall: &str, name: &str) -> Option<(u8, bool)> {
    if let Some(i) = name.strip_prefix("arg").and_then(|d| d.parse::<u8>().ok()) {
        if i > 5 {
            return None;
        }
        let narrow = ARGS
            .iter()
            .any(|(s, _, idx, w)| *s == syscall && *idx == i && *w);
        return Some((i, narrow));
    }
    ARGS.iter()
        .find(|(s, n, _, _)| *s == syscall && *n == name)
        .map(|(_, _, i, w)| (*i, *w))
}

/// Names of a syscall's named arguments, for error messages.
pub fn arg_names(syscall: &str) -> Vec<&'static str> {
    ARGS.iter()
        .filter(|(s, _, _, _)| *s == syscall)
        .map(|(_, n, _, _)| *n)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names_and_numbers() {
        assert_eq!(errno("EPERM"), Some(1));
        assert_eq!(errno("ENOSYS"), Some(libc::ENOSYS));
        assert_eq!(errno("38"), Some(38));
        assert_eq!(errno("0"), None);
        assert_eq!(errno("EPREM"), None);
        assert_eq!(errno_name(libc::EAGAIN), "EAGAIN");
        assert_eq!(errno_name(9999), "9999");
    }

    #[test]
    fn named_arguments() {
        assert_eq!(arg("ioctl", "request"), Some((1, true)));
        assert_eq!(arg("ioctl", "arg1"), Some((1, true)));
        assert_eq!(arg("clone", "flags"), Some((0, false)));
        assert_eq!(arg("read", "arg2"), Some((2, false)));
        assert_eq!(arg("read", "arg6"), None);
        assert_eq!(arg("socket", "flags"), None);
        assert_eq!(constant("TIOCSTI"), Some(0x5412));
        assert_eq!(constant("CLONE_NEWUSER"), Some(0x1000_0000));
    }
}
