//! Which addresses a webhook may reach: never the hub's own network by default. Refused:
//! loopback, private (RFC 1918), carrier-grade NAT (100.64/10), link-local (169.254/16 — the
//! cloud metadata address — and fe80::/10), unique-local (fc00::/7), site-local (fec0::/10),
//! unspecified, broadcast, multicast, the IETF and benchmarking blocks, and IPv6 forms that
//! embed one of those IPv4 addresses (mapped, compatible, NAT64).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `ip` is outside the public internet.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => internal_v6(v6),
    }
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn internal_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return internal_v4(v4);
    }
    let s = ip.segments();
    // ::a.b.c.d (deprecated IPv4-compatible) and 64:ff9b::a.b.c.d (NAT64) carry an IPv4 address.
    let embedded = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if (s[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified()) || (s[0] == 0x64 && s[1] == 0xff9b) {
        return internal_v4(embedded);
    }
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        || (s[0] & 0xffc0) == 0xfec0
        || (s[0] == 0x2001 && s[1] == 0x0db8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_table() {
        let cases = [
            ("127.0.0.1", true),
            ("10.0.0.1", true),
            ("172.16.5.4", true),
            ("192.168.1.1", true),
            ("169.254.169.254", true),
            ("100.64.0.1", true),
            ("0.0.0.0", true),
            ("255.255.255.255", true),
            ("224.0.0.1", true),
            ("::1", true),
            ("::", true),
            ("fd00::1", true),
            ("fe80::1", true),
            ("fec0::1", true),
            ("::ffff:127.0.0.1", true),
            ("::ffff:10.0.0.1", true),
            ("::127.0.0.1", true),
            ("64:ff9b::a9fe:a9fe", true),
            ("8.8.8.8", false),
            ("93.184.216.34", false),
            ("2606:4700:4700::1111", false),
            ("::ffff:8.8.8.8", false),
        ];
        for (raw, internal) in cases {
            assert_eq!(is_internal(raw.parse().unwrap()), internal, "{raw}");
        }
    }
}
