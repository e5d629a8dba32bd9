//! `--network MODE` and `--publish SPEC`: their values, parsed without
//! touching the system (pure, so the parser and its tests share them).

use std::net::IpAddr;

use crate::spec::Publish;

/// The three modes of `--network`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    None,
    Host,
    Pasta,
}

pub fn parse_mode(text: &str) -> Result<Mode, String> {
    match text {
        "none" => Ok(Mode::None),
        "host" => Ok(Mode::Host),
        "pasta" => Ok(Mode::Pasta),
        _ => Err(format!(
            "unknown mode \"{text}\" (expected none, host or pasta)"
        )),
    }
}

fn port(text: &str, what: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(p) if p > 0 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ => Err(format!("{what} \"{text}\" is not a port (1-65535)")),
    }
}

/// `[HOST_IP:]HOST_PORT:SANDBOX_PORT[/tcp|/udp]`, as podman's `-p`; an IPv6
/// HOST_IP is written in brackets (`[::1]:8080:80`).
pub fn parse_publish(text: &str) -> Result<Publish, String> {
    let (rest, udp) = match text.rsplit_once('/') {
        Some((rest, "tcp")) => (rest, false),
        Some((rest, "udp")) => (rest, true),
        Some((_, proto)) => {
            return Err(format!(
                "unknown protocol \"{proto}\" (expected tcp or udp)"
            ));
        }
        None => (text, false),
    };
    let (front, sandbox) = rest
        .rsplit_once(':')
        .ok_or_else(|| "expected [HOST_IP:]HOST_PORT:SANDBOX_PORT[/tcp|/udp]".to_string())?;
    let sandbox_port = port(sandbox, "SANDBOX_PORT")?;
    let (host_ip, host) = match front.rsplit_once(':') {
        None => (None, front),
        Some((ip, host)) => {
            let bare = ip
                .strip_prefix('[')
                .and_then(|i| i.strip_suffix(']'))
                .unwrap_or(ip);
            let addr: IpAddr = bare
                .parse()
                .map_err(|_| format!("HOST_IP \"{ip}\" is not an IP address"))?;
            if bare.contains(':') && bare == ip {
                return Err(format!("write the IPv6 HOST_IP in brackets: [{ip}]"));
            }
            (Some(addr), host)
        }
    };
    let host_port = port(host, "HOST_PORT")?;
    if udp && host_port != sandbox_port {
        // pasta of passt 2023-03-09 (Debian's 0.0~git20230309) delivers the
        // datagrams of a renumbered UDP forward, but looks up the host-side
        // socket for the replies by the sandbox's port, finds none and
        // sends them to fd 0 (strace: sendmmsg(0, ...) = ENOTSOCK) when the
        // client is on the host's loopback. A forward that keeps its port
        // has replies; a renumbered one is refused rather than silent.
        return Err(format!(
            "a UDP forward must keep its port (HOST_PORT {host_port} = SANDBOX_PORT {sandbox_port}): pasta (passt 2023-03-09) loses the replies of a renumbered UDP port"
        ));
    }
    Ok(Publish {
        host_ip,
        host_port,
        sandbox_port,
        udp,
    })
}

/// pasta's port-forward argument for one `--publish` (`-t`/`-u` value):
/// `ADDR/HOST_PORT:SANDBOX_PORT`, the host's loopback unless told.
pub fn pasta_forward(p: &Publish) -> String {
    let addr = p
        .host_ip
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    format!("{addr}/{}:{}", p.host_port, p.sandbox_port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_forms() {
        let p = parse_publish("8080:80").unwrap();
        assert_eq!(
            (p.host_ip, p.host_port, p.sandbox_port, p.udp),
            (None, 8080, 80, false)
        );
        assert_eq!(pasta_forward(&p), "127.0.0.1/8080:80");
        let p = parse_publish("0.0.0.0:5353:5353/udp").unwrap();
        assert!(p.udp);
        assert_eq!(pasta_forward(&p), "0.0.0.0/5353:5353");
        let p = parse_publish("[::1]:1:2/tcp").unwrap();
        assert_eq!(pasta_forward(&p), "::1/1:2");
    }

    #[test]
    fn publish_errors() {
        for (bad, why) in [
            ("80", "expected [HOST_IP:]"),
            ("0:80", "HOST_PORT \"0\""),
            ("80:65536", "SANDBOX_PORT \"65536\""),
            ("80:+1", "SANDBOX_PORT \"+1\""),
            ("80:80/sctp", "unknown protocol \"sctp\""),
            ("53:5353/udp", "must keep its port"),
            ("localhost:80:80", "HOST_IP \"localhost\""),
            ("::1:80:80", "in brackets"),
            ("", "expected"),
        ] {
            let e = parse_publish(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn modes() {
        assert_eq!(parse_mode("pasta"), Ok(Mode::Pasta));
        assert!(
            parse_mode("slirp")
                .unwrap_err()
                .contains("none, host or pasta")
        );
    }
}
