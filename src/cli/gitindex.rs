//! The submodules a git index registers (gitlinks, mode 160000), read from
//! its bytes. `--protect DIR/.git` uses them: the host's git follows each
//! registered submodule's `.git` file, which lies in the writable work tree,
//! so a sandboxed command could point it at a config of its own
//! (`core.fsmonitor` runs at the host's next `git status`). Only the index
//! (inside the protected `.git`) is trusted to say which paths git follows:
//! `.gitmodules` is in the work tree.
//!
//! Format: "DIRC", version 2, 3 or 4, entry count; each entry has 40 bytes
//! of stat data (mode at offset 24), an object id (20 bytes, or 32 in a
//! SHA-256 repository), 16 bits of flags (and 16 more in version 3+ when
//! the extended bit is set), then the path: NUL-terminated and padded to 8
//! bytes in versions 2 and 3; in version 4 a varint of bytes to strip from
//! the previous path, then the rest NUL-terminated, unpadded.

use std::path::PathBuf;

/// Mode of a gitlink (a submodule's commit).
const GITLINK: u32 = 0o160000;
/// Entries we read at most (a far larger index is refused, not truncated).
pub const MAX_ENTRIES: u32 = 4_000_000;

/// The paths of the gitlinks in `index`, relative to its work tree.
/// `hash_len`: 20 (SHA-1) or 32 (SHA-256).
pub fn gitlinks(index: &[u8], hash_len: usize) -> Result<Vec<PathBuf>, String> {
    use std::os::unix::ffi::OsStrExt;
    let mut r = Reader { data: index, at: 0 };
    if r.take(4)? != b"DIRC" {
        return Err("not a git index (no DIRC signature)".into());
    }
    let version = r.u32()?;
    if !(2..=4).contains(&version) {
        return Err(format!("git index version {version} is not supported"));
    }
    let count = r.u32()?;
    if count > MAX_ENTRIES {
        return Err(format!("{count} entries (at most {MAX_ENTRIES})"));
    }
    let mut out = Vec::new();
    let mut previous: Vec<u8> = Vec::new();
    for _ in 0..count {
        let start = r.at;
        let stat = r.take(40)?;
        let mode = u32::from_be_bytes([stat[24], stat[25], stat[26], stat[27]]);
        r.take(hash_len)?;
        let flags = r.u16()?;
        if version >= 3 && flags & 0x4000 != 0 {
            r.u16()?;
        }
        let name = if version == 4 {
            let strip = r.varint()?;
            let keep = previous
                .len()
                .checked_sub(strip)
                .ok_or("a path strips more than the previous one has")?;
            let mut name = previous[..keep].to_vec();
            name.extend_from_slice(r.until_nul()?);
            name
        } else {
            let name = r.until_nul()?.to_vec();
            // Entry length (from its start, with the NUL) padded to 8.
            let len = r.at - start;
            r.take((8 - len % 8) % 8)?;
            name
        };
        if mode == GITLINK {
            out.push(PathBuf::from(std::ffi::OsStr::from_bytes(&name)));
        }
        previous = name;
    }
    Ok(out)
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or_else(|| format!("truncated at byte {}", self.at))?;
        let out = &self.data[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// git's offset varint (each continuation adds one before shifting).
    fn varint(&mut self) -> Result<usize, String> {
        let mut byte = self.take(1)?[0];
        let mut value = usize::from(byte & 0x7f);
        while byte & 0x80 != 0 {
            byte = self.take(1)?[0];
            value = value
                .checked_add(1)
                .and_then(|v| v.checked_mul(128))
                .and_then(|v| v.checked_add(usize::from(byte & 0x7f)))
                .ok_or("a path length overflows")?;
        }
        Ok(value)
    }

    fn until_nul(&mut self) -> Result<&'a [u8], String> {
        let rest = &self.data[self.at..];
        let n = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| format!("a path without its NUL at byte {}", self.at))?;
        self.at += n + 1;
        Ok(&rest[..n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One index entry as git writes it.
    fn entry(version: u32, mode: u32, name: &[u8], strip: Option<u8>) -> Vec<u8> {
        let mut e = vec![0u8; 40];
        e[24..28].copy_from_slice(&mode.to_be_bytes());
        e.extend_from_slice(&[0xab; 20]);
        let extended = version == 3;
        let flags = (name.len().min(0xfff) as u16) | if extended { 0x4000 } else { 0 };
        e.extend_from_slice(&flags.to_be_bytes());
        if extended {
            e.extend_from_slice(&[0, 0]);
        }
        if let Some(s) = strip {
            e.push(s);
        }
        e.extend_from_slice(name);
        e.push(0);
        if version != 4 {
            while e.len() % 8 != 0 {
                e.push(0);
            }
        }
        e
    }

    fn index(version: u32, entries: &[Vec<u8>]) -> Vec<u8> {
        let mut i = b"DIRC".to_vec();
        i.extend_from_slice(&version.to_be_bytes());
        i.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        for e in entries {
            i.extend_from_slice(e);
        }
        i.extend_from_slice(&[0; 20]); // the trailing checksum
        i
    }

    #[test]
    fn finds_gitlinks_in_versions_2_and_3() {
        for v in [2, 3] {
            let i = index(
                v,
                &[
                    entry(v, 0o100644, b"README", None),
                    entry(v, GITLINK, b"lib/sub", None),
                    entry(v, 0o120000, b"link", None),
                    entry(v, GITLINK, b"vendor/x", None),
                ],
            );
            let got = gitlinks(&i, 20).unwrap();
            assert_eq!(got, [PathBuf::from("lib/sub"), PathBuf::from("vendor/x")]);
        }
    }

    #[test]
    fn version_4_paths_are_prefix_compressed() {
        let i = index(
            4,
            &[
                entry(4, 0o100644, b"lib/a.c", Some(0)),
                // "lib/a.c" less 3 bytes is "lib/", then "sub".
                entry(4, GITLINK, b"sub", Some(3)),
            ],
        );
        assert_eq!(gitlinks(&i, 20).unwrap(), [PathBuf::from("lib/sub")]);
    }

    #[test]
    fn bad_indexes_are_errors_never_panics() {
        assert!(gitlinks(b"", 20).is_err());
        assert!(gitlinks(b"XXXX\0\0\0\x02\0\0\0\0", 20).is_err());
        assert!(gitlinks(b"DIRC\0\0\0\x09\0\0\0\0", 20).is_err());
        let good = index(2, &[entry(2, GITLINK, b"sub", None)]);
        for cut in 0..good.len() - 20 {
            let _ = gitlinks(&good[..cut], 20);
        }
        assert!(gitlinks(&good[..30], 20).is_err());
        let over = index(4, &[entry(4, GITLINK, b"sub", Some(9))]);
        assert!(gitlinks(&over, 20).is_err());
        let mut huge = index(2, &[]);
        huge[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(gitlinks(&huge, 20).is_err());
    }
}
