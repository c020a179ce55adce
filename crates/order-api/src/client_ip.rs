//! The caller's address for the audit trail: the TCP peer, or — when the peer is one of the
//! configured trusted proxies (`TRUSTED_PROXIES`) — the nearest address in `X-Forwarded-For`
//! that is not a trusted proxy. A header from anyone else is ignored: any client can write one.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

/// The networks whose `X-Forwarded-For` is believed (load balancers, ingress controllers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// A comma-separated list of addresses and networks: `10.0.0.0/8, 127.0.0.1, ::1`.
    ///
    /// # Errors
    /// The first entry that is neither an address nor a network.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{entry:?} is neither an address nor a network"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(&ip))
    }

    /// The client behind `peer`: walks `forwarded_for` from the nearest hop outwards while the
    /// hops are trusted proxies, and stops at the first that is not (or at an entry that is no
    /// address, answering the last hop it could vouch for).
    pub fn client_ip(&self, peer: Option<IpAddr>, forwarded_for: Option<&str>) -> Option<IpAddr> {
        let mut client = peer?;
        if !self.trusts(client) {
            return Some(client);
        }
        for hop in forwarded_for.unwrap_or_default().rsplit(',') {
            let Ok(hop) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = hop;
            if !self.trusts(hop) {
                break;
            }
        }
        Some(client)
    }

    /// [`Self::client_ip`] of a request (all its `X-Forwarded-For` headers, in order).
    pub fn of_request(&self, request: &HttpRequest) -> Option<IpAddr> {
        let forwarded: Vec<&str> = request
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .collect();
        let forwarded = (!forwarded.is_empty()).then(|| forwarded.join(","));
        self.client_ip(request.peer_addr().map(|a| a.ip()), forwarded.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().expect("address"))
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").expect("parse");
        assert_eq!(
            proxies.client_ip(ip("203.0.113.9"), Some("198.51.100.1")),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies::default().client_ip(ip("127.0.0.1"), Some("198.51.100.1")),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1").expect("parse");
        // A client-written entry on the left is not believed: the first untrusted hop wins.
        assert_eq!(
            proxies.client_ip(ip("127.0.0.1"), Some("6.6.6.6, 198.51.100.1, 10.1.2.3")),
            ip("198.51.100.1")
        );
        // Only proxies: the outermost one.
        assert_eq!(
            proxies.client_ip(ip("127.0.0.1"), Some("10.0.0.5")),
            ip("10.0.0.5")
        );
        // No header: the proxy itself.
        assert_eq!(proxies.client_ip(ip("10.9.9.9"), None), ip("10.9.9.9"));
        // Garbage stops the walk at the last hop that could be vouched for.
        assert_eq!(
            proxies.client_ip(ip("127.0.0.1"), Some("198.51.100.1, not-an-ip, 10.0.0.7")),
            ip("10.0.0.7")
        );
    }

    #[test]
    fn the_list_takes_addresses_and_networks_and_names_a_bad_entry() {
        assert!(TrustedProxies::parse("").expect("empty").0.is_empty());
        assert_eq!(
            TrustedProxies::parse("10.0.0.0/8, ::1")
                .expect("parse")
                .0
                .len(),
            2
        );
        assert_eq!(
            TrustedProxies::parse("10.0.0.0/8, proxy.local"),
            Err("\"proxy.local\" is neither an address nor a network".into())
        );
    }
}
