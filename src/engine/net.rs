//! The new network namespace: bring `lo` up (the kernel then gives it
//! 127.0.0.1/8 and ::1).

use anyhow::{Result, bail};

use super::sys;

pub fn loopback_up() -> Result<()> {
    // SAFETY: plain socket call.
    let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if sock < 0 {
        bail!(
            "loopback: Failed to create NETLINK_ROUTE socket: {}",
            crate::errno_text(sys::errno())
        );
    }
    // SAFETY: ifreq is plain data; zero is a valid starting value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: valid socket and ifreq.
    let res = unsafe {
        if libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req) < 0 {
            Err("loopback: Failed to look up lo")
        } else {
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            if libc::ioctl(sock, libc::SIOCSIFFLAGS, &req) < 0 {
                Err("loopback: Failed RTM_NEWLINK")
            } else {
                Ok(())
            }
        }
    };
    let errno = sys::errno();
    // SAFETY: closing our own socket.
    unsafe { libc::close(sock) };
    match res {
        Ok(()) => Ok(()),
        Err(msg) => bail!("{msg}: {}", crate::errno_text(errno)),
    }
}
