//! Small host I/O helpers shared by the command-line parser and the engine:
//! reading configuration files safely, taking fds named on the command line,
//! writing to fds without panicking. None of them changes process-wide state.

use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A small /proc or /sys file, trimmed.
pub fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

/// The calling thread's errno (EIO if the OS gave none).
pub fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// write() until done; returns errno on failure.
pub fn write_all(fd: RawFd, mut data: &[u8]) -> std::result::Result<(), i32> {
    while !data.is_empty() {
        // SAFETY: data is valid for data.len() bytes.
        let r = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if r < 0 {
            let e = errno();
            if e == libc::EINTR {
                continue;
            }
            return Err(e);
        }
        data = &data[r as usize..];
    }
    Ok(())
}

/// read() once, retrying EINTR.
pub fn read_some(fd: RawFd, buf: &mut [u8]) -> std::result::Result<usize, i32> {
    loop {
        // SAFETY: buf is valid for buf.len() bytes.
        let r = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if r < 0 {
            let e = errno();
            if e == libc::EINTR {
                continue;
            }
            return Err(e);
        }
        return Ok(r as usize);
    }
}

/// Whether `fd` is open in this process.
pub fn fd_is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD has no side effects.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// Take a caller-supplied fd to read from; dropping the file closes it. A
/// closed fd gives EBADF.
pub fn take_fd(fd: RawFd) -> std::io::Result<std::fs::File> {
    if fd < 0 || !fd_is_open(fd) {
        return Err(std::io::Error::from_raw_os_error(libc::EBADF));
    }
    // SAFETY: the caller handed this fd to us on the command line; we take
    // ownership and close it when done.
    Ok(unsafe { std::fs::File::from_raw_fd(fd) })
}

/// bwrap's `get_current_dir_name()`: `$PWD` when it is absolute and names
/// the current directory, else `getcwd()`.
pub fn current_dir() -> Option<std::path::PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let cwd = std::fs::metadata(".").ok()?;
    if let Some(pwd) = std::env::var_os("PWD").filter(|p| p.as_bytes().starts_with(b"/")) {
        if let Ok(m) = std::fs::metadata(&pwd) {
            if m.dev() == cwd.dev() && m.ino() == cwd.ino() {
                return Some(pwd.into());
            }
        }
    }
    std::env::current_dir().ok()
}

/// Read a file the user names as configuration (a profile): regular files
/// only, at most `max` bytes, UTF-8. Anything else is refused before it is
/// opened (opening a FIFO releases its writer, opening a device can act);
/// the open is non-blocking and the type is checked again on the open file,
/// so nothing swapped in after the first check can block or stream forever.
/// The error is the reason only; the caller names the file.
pub fn read_regular_file(path: &Path, max: u64) -> std::result::Result<String, String> {
    let data = read_regular_bytes(path, max)?;
    String::from_utf8(data)
        .map_err(|e| format!("not valid UTF-8 (at byte {})", e.utf8_error().valid_up_to()))
}

/// `read_regular_file` for binary contents.
pub fn read_regular_bytes(path: &Path, max: u64) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let regular = |t: std::fs::FileType| -> std::result::Result<(), String> {
        use std::os::unix::fs::FileTypeExt;
        let kind = match () {
            _ if t.is_file() => return Ok(()),
            _ if t.is_dir() => "a directory",
            _ if t.is_fifo() => "a FIFO",
            _ if t.is_socket() => "a socket",
            _ if t.is_char_device() => "a character device",
            _ if t.is_block_device() => "a block device",
            _ => "not a plain file",
        };
        Err(format!("not a regular file ({kind})"))
    };
    let io = |e: std::io::Error| crate::io_error_text(&e);
    regular(std::fs::metadata(path).map_err(io)?.file_type())?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY)
        .open(path)
        .map_err(io)?;
    regular(file.metadata().map_err(io)?.file_type())?;
    let mut data = Vec::new();
    // One byte more than allowed tells "too large" from "exactly max".
    file.take(max + 1).read_to_end(&mut data).map_err(io)?;
    if data.len() as u64 > max {
        return Err(format!("larger than the limit of {max} bytes"));
    }
    Ok(data)
}
