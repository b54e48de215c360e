//! Who is asking: the address that login throttling and the fulfillment
//! rate limit count against. Both read it here, with one setting, so the two
//! limits can never disagree about who a client is; and the network every
//! per-client limit counts it as ([`network`]), so that none of them can be
//! walked around by rotating through the addresses of one IPv6 allocation.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;

pub use crate::config::ClientAddrConfig;

impl ClientAddrConfig {
    /// The client address of a request: see [`client_ip`].
    pub fn client_ip(&self, headers: &HeaderMap, peer: Option<PeerAddr>) -> IpAddr {
        client_ip(
            headers,
            peer,
            self.trust_forwarded_for,
            self.trusted_proxy_hops,
        )
    }
}

/// The TCP peer of the connection a request arrived on. The server puts it
/// in every request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// The client's address.
///
/// Without `TRUST_FORWARDED_FOR` it is the socket peer: anything in
/// `X-Forwarded-For` is whatever the client typed. Behind CloudFront and the
/// ALB, the peer is the ALB and the header reads `<client-supplied...>,
/// <viewer>, <edge>`: each proxy appends the address it saw. Entries are
/// read from the right; the last `trusted_hops` were written by our own
/// proxies (default 1, the CloudFront edge that the ALB recorded), and the
/// next one is the first address no proxy of ours vouches for beyond: the
/// viewer. Anything further left is client-supplied and ignored. A header
/// too short or unparsable falls back to the peer.
pub fn client_ip(
    headers: &HeaderMap,
    peer: Option<PeerAddr>,
    trust_forwarded_for: bool,
    trusted_hops: usize,
) -> IpAddr {
    let peer_ip = peer.map_or(IpAddr::from([0, 0, 0, 0]), |p| p.0.ip());
    if !trust_forwarded_for {
        return peer_ip;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    entries
        .len()
        .checked_sub(trusted_hops + 1)
        .and_then(|i| entries[i].parse().ok())
        .unwrap_or(peer_ip)
}

/// The network a client address is counted as by every per-client limit:
/// its /64 for IPv6 (what one subscriber is routed, and may rotate through
/// freely), the address itself for IPv4. IPv4-mapped IPv6 addresses count
/// as IPv4. Returned as the network's first address, which is what the
/// limits store and compare.
pub fn network(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(std::net::Ipv6Addr::from(bits))
        }
    }
}

/// [`network`] as text with its prefix length (`2001:db8:1:2::/64`,
/// `203.0.113.7/32`), for a key that names it.
pub fn client_network(ip: IpAddr) -> String {
    match network(ip) {
        IpAddr::V4(v4) => format!("{v4}/32"),
        IpAddr::V6(v6) => format!("{v6}/64"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_counts_per_64_and_ipv4_per_address() {
        let net = |s: &str| client_network(s.parse().unwrap());
        assert_eq!(net("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(net("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_eq!(net("2001:db8:1:3::1"), "2001:db8:1:3::/64");
        assert_eq!(net("203.0.113.7"), "203.0.113.7/32");
        assert_eq!(net("::ffff:203.0.113.7"), "203.0.113.7/32");
        let first = |s: &str| network(s.parse().unwrap()).to_string();
        assert_eq!(first("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::");
        assert_eq!(first("::ffff:203.0.113.7"), "203.0.113.7");
    }

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    const PEER: Option<PeerAddr> = Some(PeerAddr(SocketAddr::new(
        IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 9)),
        443,
    )));

    #[test]
    fn untrusted_header_is_ignored() {
        let h = headers(&["1.2.3.4"]);
        assert_eq!(client_ip(&h, PEER, false, 1).to_string(), "10.0.0.9");
    }

    #[test]
    fn the_viewer_is_read_from_the_right() {
        // A forged left-most entry does not move the answer.
        let h = headers(&["6.6.6.6, 203.0.113.7", "130.176.1.1"]);
        assert_eq!(client_ip(&h, PEER, true, 1).to_string(), "203.0.113.7");
        assert_eq!(client_ip(&h, PEER, true, 0).to_string(), "130.176.1.1");
    }

    #[test]
    fn short_or_bad_headers_fall_back_to_the_peer() {
        assert_eq!(
            client_ip(&headers(&["130.176.1.1"]), PEER, true, 1).to_string(),
            "10.0.0.9"
        );
        assert_eq!(
            client_ip(&headers(&["junk, 1.1.1.1"]), PEER, true, 1).to_string(),
            "10.0.0.9"
        );
        assert_eq!(
            client_ip(&HeaderMap::new(), PEER, true, 1).to_string(),
            "10.0.0.9"
        );
    }
}
