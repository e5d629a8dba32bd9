//! Values of the resource-limit options: `--rlimit NAME=SOFT[:HARD]`,
//! durations (`--timeout`, `--kill-after`), byte sizes, `--cpus`. Each
//! parser returns why a word is refused; the caller names the option.

use std::time::Duration;

use crate::spec::Rlimit;

/// What an rlimit's number counts, which decides the suffixes it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Bytes,
    Count,
    Seconds,
    Microseconds,
    /// `nice` (20 - nice value) and `rtprio`: small plain numbers.
    Plain,
}

/// The resources, named as prlimit(1) names them. (The casts matter on
/// C libraries whose resource type is `int`.)
#[allow(clippy::unnecessary_cast)]
const RESOURCES: &[(&str, u32, Unit)] = &[
    ("as", libc::RLIMIT_AS as u32, Unit::Bytes),
    ("core", libc::RLIMIT_CORE as u32, Unit::Bytes),
    ("cpu", libc::RLIMIT_CPU as u32, Unit::Seconds),
    ("data", libc::RLIMIT_DATA as u32, Unit::Bytes),
    ("fsize", libc::RLIMIT_FSIZE as u32, Unit::Bytes),
    ("locks", libc::RLIMIT_LOCKS as u32, Unit::Count),
    ("memlock", libc::RLIMIT_MEMLOCK as u32, Unit::Bytes),
    ("msgqueue", libc::RLIMIT_MSGQUEUE as u32, Unit::Bytes),
    ("nice", libc::RLIMIT_NICE as u32, Unit::Plain),
    ("nofile", libc::RLIMIT_NOFILE as u32, Unit::Count),
    ("nproc", libc::RLIMIT_NPROC as u32, Unit::Count),
    ("rss", libc::RLIMIT_RSS as u32, Unit::Bytes),
    ("rtprio", libc::RLIMIT_RTPRIO as u32, Unit::Plain),
    ("rttime", libc::RLIMIT_RTTIME as u32, Unit::Microseconds),
    ("sigpending", libc::RLIMIT_SIGPENDING as u32, Unit::Count),
    ("stack", libc::RLIMIT_STACK as u32, Unit::Bytes),
];

/// The resource names, for messages and documentation.
pub fn resource_names() -> String {
    RESOURCES
        .iter()
        .map(|(n, _, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The name of resource number `resource` (for messages).
pub fn resource_name(resource: u32) -> &'static str {
    RESOURCES
        .iter()
        .find(|(_, r, _)| *r == resource)
        .map_or("?", |(n, _, _)| n)
}

/// `N`, `N[KMG]` (binary multiples) for byte limits, or `unlimited`.
fn limit_value(word: &str, unit: Unit, name: &str) -> Result<u64, String> {
    if word == "unlimited" || word == "infinity" {
        return Ok(libc::RLIM_INFINITY);
    }
    let (digits, suffix) = split_suffix(word);
    if suffix.is_some() && unit != Unit::Bytes {
        let counts = match unit {
            Unit::Count => "a count",
            Unit::Seconds => "seconds",
            Unit::Microseconds => "microseconds",
            _ => "a plain number",
        };
        return Err(format!(
            "a size suffix (K, M, G) only fits a limit in bytes; {name} is {counts}"
        ));
    }
    let n =
        plain_number(digits).ok_or_else(|| format!("\"{word}\" is not a number (or unlimited)"))?;
    n.checked_mul(suffix.unwrap_or(1))
        .filter(|v| *v != libc::RLIM_INFINITY)
        .ok_or_else(|| format!("\"{word}\" is too large (use unlimited)"))
}

/// A word's number part and its binary size multiplier, if any.
fn split_suffix(word: &str) -> (&str, Option<u64>) {
    let mult = match word.chars().last() {
        Some('K' | 'k') => 1 << 10,
        Some('M' | 'm') => 1 << 20,
        Some('G' | 'g') => 1 << 30,
        Some('T' | 't') => 1 << 40,
        _ => return (word, None),
    };
    (&word[..word.len() - 1], Some(mult))
}

/// Decimal digits only (no sign, no blanks), as a u64.
fn plain_number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `NAME=SOFT[:HARD]`, also prlimit's `NAME=SOFT:` (soft only) and
/// `NAME=:HARD` (hard only). One value sets both, so the command cannot
/// raise the limit again.
pub fn parse_rlimit(word: &str) -> Result<Rlimit, String> {
    let (name, value) = word
        .split_once('=')
        .ok_or("expected NAME=SOFT[:HARD], e.g. nofile=1024 or core=0")?;
    let &(name, resource, unit) = RESOURCES
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| format!("unknown resource \"{name}\" (one of: {})", resource_names()))?;
    let value_of = |w: &str| limit_value(w, unit, name);
    let (soft, hard) = match value.split_once(':') {
        None => {
            let v = value_of(value)?;
            (Some(v), Some(v))
        }
        Some(("", "")) => return Err("give a soft or a hard limit, or both".into()),
        Some((s, h)) => (
            (!s.is_empty()).then(|| value_of(s)).transpose()?,
            (!h.is_empty()).then(|| value_of(h)).transpose()?,
        ),
    };
    if let (Some(s), Some(h)) = (soft, hard) {
        if s > h {
            return Err(format!(
                "the soft limit ({}) is above the hard limit ({})",
                show_limit(s),
                show_limit(h)
            ));
        }
    }
    Ok(Rlimit {
        name,
        resource,
        soft,
        hard,
    })
}

/// A limit value as written back: a number or `unlimited`.
pub fn show_limit(v: u64) -> String {
    if v == libc::RLIM_INFINITY {
        "unlimited".into()
    } else {
        v.to_string()
    }
}

/// `NAME=VALUE` as `--rlimit` takes it back (one value when soft and hard
/// are the same).
pub fn show_rlimit(r: &Rlimit) -> String {
    let part = |v: Option<u64>| v.map(show_limit).unwrap_or_default();
    match (r.soft, r.hard) {
        (Some(s), Some(h)) if s == h => format!("{}={}", r.name, show_limit(s)),
        (s, h) => format!("{}={}:{}", r.name, part(s), part(h)),
    }
}

/// `90s`, `5m`, `1h`, `2d`, `500ms`, `1.5s`; a bare number is seconds (as
/// for timeout(1)). `zero_ok`: whether 0 is a meaningful value.
pub fn parse_duration(word: &str, zero_ok: bool) -> Result<Duration, String> {
    let bad = || format!("\"{word}\" is not a duration (e.g. 90s, 5m, 1h, 1.5s, 500ms)");
    let split = word
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(word.len());
    let (number, unit) = word.split_at(split);
    let scale = match unit {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return Err(bad()),
    };
    if number.is_empty() || number.matches('.').count() > 1 || number == "." {
        return Err(bad());
    }
    let secs: f64 = number.parse().map_err(|_| bad())?;
    let d = Duration::try_from_secs_f64(secs * scale).map_err(|_| bad())?;
    if d > Duration::from_secs(100 * 365 * 86400) {
        return Err(format!("\"{word}\" is too long (at most 100 years)"));
    }
    if d.is_zero() && !zero_ok {
        return Err(format!("\"{word}\" is zero; give a duration above 0"));
    }
    Ok(d)
}

/// A duration as `--explain` and messages show it: `90s`, `1.5s`, `0.25s`.
pub fn show_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        let s = format!("{:.3}", d.as_secs_f64());
        format!("{}s", s.trim_end_matches('0').trim_end_matches('.'))
    }
}

/// A byte count: `N` or `N[KMG]`, above zero unless `zero_ok`.
pub fn parse_bytes(word: &str, zero_ok: bool) -> Result<u64, String> {
    let (digits, mult) = split_suffix(word);
    let n = plain_number(digits)
        .ok_or_else(|| format!("\"{word}\" is not a byte count (e.g. 512M, 2G)"))?;
    let v = n
        .checked_mul(mult.unwrap_or(1))
        .ok_or_else(|| format!("\"{word}\" is too large"))?;
    if v == 0 && !zero_ok {
        return Err(format!("\"{word}\" is zero; give a size above 0"));
    }
    Ok(v)
}

/// `--pids-max N`: a number of processes, at least 1.
pub fn parse_count(word: &str) -> Result<u64, String> {
    match plain_number(word) {
        Some(0) => Err("0 would not even allow the command itself; give at least 1".into()),
        Some(n) => Ok(n),
        None => Err(format!("\"{word}\" is not a number of processes")),
    }
}

/// `--cpus FLOAT`: CPUs' worth of time (0.5, 2), to a thousandth.
pub fn parse_cpus(word: &str) -> Result<u64, String> {
    let bad = || format!("\"{word}\" is not a number of CPUs (e.g. 0.5, 2)");
    if word.is_empty()
        || word.matches('.').count() > 1
        || !word.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        return Err(bad());
    }
    let cpus: f64 = word.parse().map_err(|_| bad())?;
    let milli = (cpus * 1000.0).round();
    if milli < 1.0 {
        return Err(format!(
            "\"{word}\" is not above 0 (the least is 0.001 CPU)"
        ));
    }
    if milli > 1.0e9 {
        return Err(format!("\"{word}\" is too large"));
    }
    Ok(milli as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(word: &str) -> (Option<u64>, Option<u64>) {
        let r = parse_rlimit(word).unwrap();
        (r.soft, r.hard)
    }

    #[test]
    #[allow(clippy::unnecessary_cast)]
    fn rlimit_forms() {
        assert_eq!(limits("nofile=1024"), (Some(1024), Some(1024)));
        assert_eq!(limits("nofile=10:20"), (Some(10), Some(20)));
        assert_eq!(limits("nofile=10:"), (Some(10), None));
        assert_eq!(limits("nofile=:20"), (None, Some(20)));
        assert_eq!(limits("core=0"), (Some(0), Some(0)));
        assert_eq!(limits("as=1G"), (Some(1 << 30), Some(1 << 30)));
        assert_eq!(limits("fsize=4K:unlimited"), (Some(4096), Some(u64::MAX)));
        let r = parse_rlimit("nproc=200").unwrap();
        assert_eq!((r.name, r.resource), ("nproc", libc::RLIMIT_NPROC as u32));
        for w in [
            "nproc=200",
            "nofile=10:20",
            "nofile=10:",
            "nofile=:20",
            "as=unlimited",
        ] {
            assert_eq!(show_rlimit(&parse_rlimit(w).unwrap()), w);
        }
    }

    #[test]
    fn rlimit_refusals() {
        let err = |w: &str| parse_rlimit(w).unwrap_err();
        assert!(err("nofile=abc").contains("\"abc\" is not a number"));
        assert!(err("nofile").contains("expected NAME=SOFT[:HARD]"));
        assert!(err("files=1").contains("unknown resource \"files\""));
        assert!(err("nofile=-1").contains("not a number"));
        assert!(err("nofile=1K").contains("only fits a limit in bytes"));
        assert!(err("nofile=20:10").contains("soft limit (20) is above the hard limit (10)"));
        assert!(err("nofile=:").contains("soft or a hard"));
        assert!(err("nofile=").contains("not a number"));
        assert!(err("as=99999999999999999999").contains("not a number"));
        assert!(err("as=17179869184G").contains("too large"));
    }

    #[test]
    fn durations() {
        let d = |w: &str| parse_duration(w, false);
        assert_eq!(d("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(d("90"), Ok(Duration::from_secs(90)));
        assert_eq!(d("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(d("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(d("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(d("250ms"), Ok(Duration::from_millis(250)));
        for bad in [
            "-1", "", "s", "1x", "1.2.3", ".", "1 s", "inf", "nan", "1e3",
        ] {
            assert!(d(bad).is_err(), "{bad}");
        }
        assert!(d("0").unwrap_err().contains("zero"));
        assert_eq!(parse_duration("0", true), Ok(Duration::ZERO));
        assert!(d("99999999999d").unwrap_err().contains("too long"));
        assert_eq!(show_duration(Duration::from_secs(90)), "90s");
        assert_eq!(show_duration(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn sizes_counts_cpus() {
        assert_eq!(parse_bytes("512M", false), Ok(512 << 20));
        assert!(parse_bytes("0", false).is_err());
        assert_eq!(parse_bytes("0", true), Ok(0));
        assert!(parse_bytes("1.5G", false).is_err());
        assert_eq!(parse_count("64"), Ok(64));
        assert!(parse_count("0").is_err() && parse_count("x").is_err());
        assert_eq!(parse_cpus("0.5"), Ok(500));
        assert_eq!(parse_cpus("2"), Ok(2000));
        for bad in ["0", "0.0001", "-1", "", "abc", "1e3"] {
            assert!(parse_cpus(bad).is_err(), "{bad}");
        }
    }
}
