//! Building the new root: open every host source first, attach a fresh tmpfs,
//! run the filesystem operations in command-line order, pivot.

mod attach;
mod dev;
mod legacy;
mod ops;
mod root;
mod source;

pub(crate) use legacy::{option_flags as mountinfo_flags, unescape as unescape_mountinfo};
pub use ops::apply_all;
pub use root::NewRoot;
pub use source::open_sources;

/// bwrap prints modes with C's `%#o`: `0755`, and `0` for zero.
pub fn c_octal(mode: u32) -> String {
    if mode == 0 {
        "0".into()
    } else {
        format!("0{mode:o}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn octal_like_c() {
        assert_eq!(super::c_octal(0o755), "0755");
        assert_eq!(super::c_octal(0), "0");
        assert_eq!(super::c_octal(0o1777), "01777");
    }
}
