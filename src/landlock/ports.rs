//! The values of `--landlock-tcp-*` and `--landlock-scope`.

use crate::spec::PortRange;

/// `80`, `8000-8100`, `80,443,8000-8100`, or `none` (no port at all).
pub fn parse_ports(text: &str) -> Result<Vec<PortRange>, String> {
    if text == "none" {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|item| {
            let port = |s: &str| {
                s.parse::<u16>()
                    .ok()
                    .filter(|_| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            };
            let range = match item.split_once('-') {
                Some((a, b)) => port(a)
                    .zip(port(b))
                    .map(|(first, last)| PortRange { first, last }),
                None => port(item).map(|p| PortRange { first: p, last: p }),
            };
            range.filter(|r| r.first <= r.last).ok_or_else(|| {
                format!("invalid port or range \"{item}\" (expected e.g. 80,8000-8100 or none)")
            })
        })
        .collect()
}

/// How many ports the ranges name (overlaps counted twice).
pub fn port_count(ranges: &[PortRange]) -> usize {
    ranges
        .iter()
        .map(|r| usize::from(r.last - r.first) + 1)
        .sum()
}

/// `80,8000-8100`, or `none`.
pub fn show_ports(ranges: &[PortRange]) -> String {
    if ranges.is_empty() {
        return "none".into();
    }
    let items: Vec<String> = ranges
        .iter()
        .map(|r| {
            if r.first == r.last {
                r.first.to_string()
            } else {
                format!("{}-{}", r.first, r.last)
            }
        })
        .collect();
    items.join(",")
}

/// `abstract-unix`, `signal`, both comma-separated, or `all`:
/// returns (abstract_unix, signal).
pub fn parse_scopes(text: &str) -> Result<(bool, bool), String> {
    let mut out = (false, false);
    for item in text.split(',') {
        match item {
            "abstract-unix" => out.0 = true,
            "signal" => out.1 = true,
            "all" => out = (true, true),
            _ => {
                return Err(format!(
                    "unknown scope \"{item}\" (expected abstract-unix, signal or all)"
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(first: u16, last: u16) -> PortRange {
        PortRange { first, last }
    }

    #[test]
    fn ports_and_ranges() {
        assert_eq!(parse_ports("80"), Ok(vec![r(80, 80)]));
        assert_eq!(
            parse_ports("80,8000-8002"),
            Ok(vec![r(80, 80), r(8000, 8002)])
        );
        assert_eq!(parse_ports("none"), Ok(vec![]));
        assert_eq!(port_count(&[r(80, 80), r(8000, 8002)]), 4);
        assert_eq!(show_ports(&[r(80, 80), r(8000, 8002)]), "80,8000-8002");
        assert_eq!(show_ports(&[]), "none");
        assert_eq!(parse_ports("0-65535").map(|v| port_count(&v)), Ok(65536));
    }

    #[test]
    fn bad_ports() {
        for bad in [
            "", "x", "80,", "-1", "+80", "65536", "90-80", "1-2-3", " 80",
        ] {
            assert!(parse_ports(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn scopes() {
        assert_eq!(parse_scopes("abstract-unix,signal"), Ok((true, true)));
        assert_eq!(parse_scopes("signal"), Ok((false, true)));
        assert_eq!(parse_scopes("all"), Ok((true, true)));
        assert!(parse_scopes("net").is_err());
        assert!(parse_scopes("").is_err());
    }
}
