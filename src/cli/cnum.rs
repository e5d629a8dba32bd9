//! Number parsing exactly as bwrap does it with the C library: `strtol`
//! into an `int` for fds and ids, `strtoul(…, 8)` for modes, `strtoull(…, 0)`
//! for `--size`. Their quirks (leading blanks, signs, truncation to 32 bits)
//! are part of the interface, so they are reproduced rather than tidied.

/// What `isspace` accepts in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The parts `strto*` sees: whether a '-' was given, and the digits that
/// follow the blanks and the sign, with whatever comes after them.
fn split_sign(s: &[u8]) -> (bool, &[u8]) {
    let start = s.iter().position(|&b| !is_c_space(b)).unwrap_or(s.len());
    let s = &s[start..];
    match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

/// Accumulate leading digits of `radix`, saturating at u128::MAX (far above
/// any C range). Returns the value and the number of digits read.
fn leading_digits(s: &[u8], radix: u32) -> (u128, usize) {
    let mut value: u128 = 0;
    let mut n = 0;
    for &b in s {
        let Some(d) = (b as char).to_digit(radix) else {
            break;
        };
        value = value
            .saturating_mul(radix as u128)
            .saturating_add(d as u128);
        n += 1;
    }
    (value, n)
}

/// bwrap's fd/uid/gid check: `int v = strtol(s, &end, 10)`, valid when `s`
/// is non-empty, `*end == 0` and `v >= 0`. `strtol` saturates at the `long`
/// range and the assignment keeps the low 32 bits, so `4294967301` is 5
/// and `-4294967296` is 0, as with bwrap on 64-bit Linux.
pub fn c_int_nonneg(s: &[u8]) -> Option<i32> {
    let (negative, rest) = split_sign(s);
    let (magnitude, n) = leading_digits(rest, 10);
    if s.is_empty() || n == 0 || n != rest.len() {
        return None;
    }
    let long: i64 = if negative {
        if magnitude > i64::MAX as u128 + 1 {
            i64::MIN
        } else {
            (magnitude as i128).wrapping_neg() as i64
        }
    } else if magnitude > i64::MAX as u128 {
        i64::MAX
    } else {
        magnitude as i64
    };
    let int = long as i32;
    (int >= 0).then_some(int)
}

/// bwrap's `--perms`/`--chmod` check: `strtoul(s, &end, 8)`, valid when `s`
/// is non-empty, `*end == 0` and the value is at most 07777. A '-' negates
/// in unsigned arithmetic, so only `-0` survives.
pub fn c_octal_mode(s: &[u8]) -> Option<u32> {
    let (negative, rest) = split_sign(s);
    let (value, n) = leading_digits(rest, 8);
    if s.is_empty() || n == 0 || n != rest.len() || value > 0o7777 || (negative && value != 0) {
        return None;
    }
    Some(value as u32)
}

/// Why a `--size` value was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum SizeError {
    /// `--size takes a non-zero number of bytes`
    NotANumber,
    /// `--size (for tmpfs) is limited to …`
    TooLarge,
}

/// The largest `--size` bwrap accepts: `SIZE_MAX >> 1`.
pub const MAX_TMPFS_BYTES: u64 = u64::MAX >> 1;

/// bwrap's `--size` check: the first byte must be a digit, then
/// `strtoull(s, &end, 0)` must consume everything without overflow
/// (decimal, `0x` hex or leading-0 octal) and give a non-zero value.
pub fn c_size(s: &[u8]) -> Result<u64, SizeError> {
    if !s.first().is_some_and(u8::is_ascii_digit) {
        return Err(SizeError::NotANumber);
    }
    let (radix, digits) = match s {
        [b'0', b'x' | b'X', rest @ ..] if rest.first().is_some_and(u8::is_ascii_hexdigit) => {
            (16, rest)
        }
        [b'0', ..] => (8, s),
        _ => (10, s),
    };
    let (value, n) = leading_digits(digits, radix);
    if n != digits.len() || value > u64::MAX as u128 || value == 0 {
        return Err(SizeError::NotANumber);
    }
    if value > MAX_TMPFS_BYTES as u128 {
        return Err(SizeError::TooLarge);
    }
    Ok(value as u64)
}

/// `strtoul(s, &end, 0)` as libcap uses it for numeric capability names:
/// the value of the longest valid prefix (trailing text is ignored), or
/// None on overflow. `s` starts with a digit.
pub fn c_ulong_prefix(s: &[u8]) -> Option<u64> {
    let (radix, digits) = match s {
        [b'0', b'x' | b'X', rest @ ..] if rest.first().is_some_and(u8::is_ascii_hexdigit) => {
            (16, rest)
        }
        [b'0', ..] => (8, s),
        _ => (10, s),
    };
    let (value, _) = leading_digits(digits, radix);
    u64::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_follows_strtol_and_int_truncation() {
        assert_eq!(c_int_nonneg(b"5"), Some(5));
        assert_eq!(c_int_nonneg(b" 5"), Some(5));
        assert_eq!(c_int_nonneg(b"\t+5"), Some(5));
        assert_eq!(c_int_nonneg(b"-0"), Some(0));
        assert_eq!(c_int_nonneg(b"4294967301"), Some(5));
        assert_eq!(c_int_nonneg(b"-4294967296"), Some(0));
        assert_eq!(c_int_nonneg(b"-99999999999999999999"), Some(0));
        assert_eq!(c_int_nonneg(b"2147483647"), Some(i32::MAX));
        for bad in [
            &b""[..],
            b"-",
            b" ",
            b"+",
            b"5 ",
            b"0x5",
            b"-1",
            b"2147483648",
            b"99999999999999999999",
            b"5a",
        ] {
            assert_eq!(
                c_int_nonneg(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn octal_follows_strtoul_base_8() {
        assert_eq!(c_octal_mode(b"0755"), Some(0o755));
        assert_eq!(c_octal_mode(b"755"), Some(0o755));
        assert_eq!(c_octal_mode(b" 700"), Some(0o700));
        assert_eq!(c_octal_mode(b"+700"), Some(0o700));
        assert_eq!(c_octal_mode(b"-0"), Some(0));
        assert_eq!(c_octal_mode(b"07777"), Some(0o7777));
        for bad in [
            &b""[..],
            b"-1",
            b"8",
            b"0o7",
            b"010000",
            b"0x7",
            b"7 ",
            b"-",
            b" ",
        ] {
            assert_eq!(
                c_octal_mode(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn size_follows_strtoull_base_0() {
        assert_eq!(c_size(b"10"), Ok(10));
        assert_eq!(c_size(b"0x10"), Ok(16));
        assert_eq!(c_size(b"0X1f"), Ok(31));
        assert_eq!(c_size(b"010"), Ok(8));
        assert_eq!(c_size(b"9223372036854775807"), Ok(MAX_TMPFS_BYTES));
        assert_eq!(c_size(b"9223372036854775808"), Err(SizeError::TooLarge));
        assert_eq!(c_size(b"18446744073709551615"), Err(SizeError::TooLarge));
        assert_eq!(c_size(b"0xffffffffffffffff"), Err(SizeError::TooLarge));
        for bad in [
            &b""[..],
            b"0",
            b"00",
            b"0x0",
            b"08",
            b" 5",
            b"+5",
            b"0x",
            b"0x+5",
            b"0+5",
            b"5k",
            b"18446744073709551616",
        ] {
            assert_eq!(
                c_size(bad),
                Err(SizeError::NotANumber),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn ulong_prefix_ignores_trailing_text() {
        assert_eq!(c_ulong_prefix(b"21abc"), Some(21));
        assert_eq!(c_ulong_prefix(b"0x15"), Some(21));
        assert_eq!(c_ulong_prefix(b"021"), Some(17));
        assert_eq!(c_ulong_prefix(b"0x"), Some(0));
        assert_eq!(c_ulong_prefix(b"08"), Some(0));
        assert_eq!(c_ulong_prefix(b"99999999999999999999"), None);
    }
}
