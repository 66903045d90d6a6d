//! SEC-7: where the server may send requests of its own (webhooks). A URL that a client saves
//! is a request the server will make on the client's behalf: pointed at `127.0.0.1`, a private
//! network or the server itself, it would read what only the server can reach and show the
//! answer in a delivery log. So such URLs are refused when saved, and every delivery resolves
//! the host again through a resolver that yields public addresses only (a name cannot later be
//! pointed inside). Development and tests may allow private networks.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// What outgoing requests may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Loopback, private, link-local and other non-public addresses are allowed (development
    /// and tests only).
    pub allow_private_networks: bool,
    /// The authorities (`host:port`) this server is reached at: a URL naming one is refused
    /// whatever the networks allowed, so the server never calls itself.
    pub own_authorities: Vec<String>,
}

/// Whether an address is on the public internet: not loopback, private, link-local, shared
/// (carrier-grade NAT), multicast, broadcast, unspecified, documentation or reserved, in
/// either IP version (IPv4-mapped IPv6 addresses judged as IPv4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_unspecified()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..=127).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..=19).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        || first == 0x0064 && ip.segments()[1] == 0xff9b
        || ip.to_ipv4().is_some_and(|v4| !is_public_v4(v4)))
}

/// The refusal every non-public destination gets: the same words whatever the address, so
/// that the answer maps nothing.
pub const NOT_PUBLIC: &str = "must be a public address: loopback, private, link-local and other internal addresses are refused";

/// Checks a URL to be saved: an absolute http(s) URL without credentials, not this server, and
/// (unless private networks are allowed) resolving to public addresses only.
pub async fn check_url(text: &str, policy: &Policy) -> Result<Url, String> {
    let url = Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or("must be an absolute http:// or https:// URL")?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not carry credentials: authenticate receivers by the webhook signature".into(),
        );
    }
    let addresses = resolve(&url).await?;
    if is_own(&url, &addresses, policy).await {
        return Err("must not point at this server".into());
    }
    if !policy.allow_private_networks && !addresses.iter().all(|a| is_public(a.ip())) {
        return Err(NOT_PUBLIC.into());
    }
    Ok(url)
}

/// The addresses a URL's host stands for (an IP literal stands for itself).
async fn resolve(url: &Url) -> Result<Vec<SocketAddr>, String> {
    let port = url.port_or_known_default().unwrap_or(80);
    let addresses: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(url::Host::Domain(name)) => tokio::net::lookup_host((name, port))
            .await
            .map_err(|_| "names a host that cannot be resolved".to_owned())?
            .collect(),
        None => Vec::new(),
    };
    if addresses.is_empty() {
        return Err("names a host that cannot be resolved".into());
    }
    Ok(addresses)
}

/// Whether the URL names this server: one of its authorities by name, or by an address that
/// one of them resolves to (an unspecified listen address stands for every loopback address).
async fn is_own(url: &Url, addresses: &[SocketAddr], policy: &Policy) -> bool {
    let port = url.port_or_known_default().unwrap_or(80);
    let named = url
        .host_str()
        .map(|h| format!("{}:{port}", h.to_ascii_lowercase()));
    for authority in policy.own_authorities.iter().flat_map(|a| with_port(a)) {
        if named.as_deref() == Some(authority.to_ascii_lowercase().as_str()) {
            return true;
        }
        let Ok(own) = tokio::net::lookup_host(authority.as_str()).await else {
            continue;
        };
        for own in own {
            let same = |a: &SocketAddr| {
                a.port() == own.port()
                    && (a.ip() == own.ip() || (own.ip().is_unspecified() && a.ip().is_loopback()))
            };
            if addresses.iter().any(same) {
                return true;
            }
        }
    }
    false
}

/// `host:port` forms of an authority: a `Host` without a port is reached on 80 or 443.
fn with_port(authority: &str) -> Vec<String> {
    let has_port = authority.rsplit_once(':').is_some_and(|(host, port)| {
        !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !host.ends_with(':')
    });
    if has_port {
        vec![authority.to_owned()]
    } else {
        vec![format!("{authority}:80"), format!("{authority}:443")]
    }
}

/// At delivery: a saved URL is checked again, its name resolved afresh (the client's resolver
/// checks once more as it connects, so a name that changes in between is still caught).
pub async fn may_send(url: &Url, policy: &Policy) -> Result<(), String> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL carries credentials".into());
    }
    if policy.allow_private_networks {
        return Ok(());
    }
    let addresses = resolve(url).await?;
    if addresses.iter().all(|a| is_public(a.ip())) {
        Ok(())
    } else {
        Err(NOT_PUBLIC.into())
    }
}

/// Resolves names to their public addresses only (all of them, when private networks are
/// allowed): a name that now points inside fails to resolve.
struct PublicResolver {
    allow_private_networks: bool,
}

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let allow = self.allow_private_networks;
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow || is_public(a.ip()))
                .collect();
            if addresses.is_empty() {
                return Err(NOT_PUBLIC.into());
            }
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

/// The one client for outgoing requests: a timeout, no redirects (a redirect could lead
/// inside), no proxies from the environment (the resolver would see only the proxy), and the
/// public-only resolver.
pub fn client(
    timeout: Duration,
    policy: &Policy,
    user_agent: &str,
) -> reqwest::Result<reqwest::Client> {
    crate::http::client_builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(PublicResolver {
            allow_private_networks: policy.allow_private_networks,
        }))
        .user_agent(user_agent)
        .build()
}

/// A failed request in words that map nothing: whether it connected, not why (refused,
/// unreachable and timed out would tell which ports and hosts exist inside).
pub fn describe_failure(err: &reqwest::Error) -> &'static str {
    if err.is_connect() || (err.is_timeout() && !err.is_body()) {
        "no answer: the receiver could not be reached or did not answer in time"
    } else if err.is_timeout() {
        "the answer did not arrive in time"
    } else {
        "the request failed before an answer arrived"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn sec7_internal_addresses_are_not_public() {
        for internal in [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "64:ff9b::7f00:1",
        ] {
            assert!(!is_public(ip(internal)), "{internal} counted as public");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip(public)), "{public} counted as internal");
        }
    }

    #[tokio::test]
    async fn sec7_urls_to_inside_are_refused_in_every_spelling() {
        let policy = Policy::default();
        for url in [
            "http://127.0.0.1/hook",
            "http://localhost:8080/hook",
            "http://[::1]/hook",
            "http://127.1/hook",
            "http://0x7f000001/hook",
            "http://2130706433/hook",
            "http://0177.0.0.1/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::ffff:127.0.0.1]/hook",
            "http://10.1.2.3/hook",
        ] {
            assert_eq!(
                check_url(url, &policy).await.err().as_deref(),
                Some(NOT_PUBLIC),
                "{url}"
            );
        }
        assert!(
            check_url("http://user:pw@93.184.216.34/hook", &policy)
                .await
                .unwrap_err()
                .contains("credentials")
        );
        assert!(check_url("ftp://93.184.216.34/", &policy).await.is_err());
        assert!(
            check_url("http://93.184.216.34/hook", &policy)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn sec7_private_networks_when_allowed_but_never_the_server_itself() {
        let policy = Policy {
            allow_private_networks: true,
            own_authorities: vec!["127.0.0.1:8080".into()],
        };
        assert!(
            check_url("http://127.0.0.1:9000/hook", &policy)
                .await
                .is_ok()
        );
        for own in [
            "http://127.0.0.1:8080/api/v1/contacts",
            "http://127.1:8080/health",
            "http://localhost:8080/api/v1/contacts/purge",
        ] {
            assert_eq!(
                check_url(own, &policy).await.err().as_deref(),
                Some("must not point at this server"),
                "{own}"
            );
        }
        assert_eq!(
            with_port("ams.example.org"),
            ["ams.example.org:80", "ams.example.org:443"]
        );
        assert_eq!(with_port("127.0.0.1:8080"), ["127.0.0.1:8080"]);
        assert_eq!(with_port("[::1]:8080"), ["[::1]:8080"]);
        let any = Policy {
            allow_private_networks: true,
            own_authorities: vec!["0.0.0.0:8080".into()],
        };
        assert!(check_url("http://127.0.0.1:8080/", &any).await.is_err());
    }

    #[tokio::test]
    async fn sec7_deliveries_check_addresses_again() {
        let policy = Policy::default();
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(may_send(&url("http://127.0.0.1/h"), &policy).await.is_err());
        assert!(
            may_send(&url("http://localhost:9/h"), &policy)
                .await
                .is_err()
        );
        assert!(may_send(&url("http://[fe80::1]/h"), &policy).await.is_err());
        assert!(
            may_send(&url("http://93.184.216.34/h"), &policy)
                .await
                .is_ok()
        );
        assert!(
            may_send(&url("http://u:p@93.184.216.34/h"), &policy)
                .await
                .is_err()
        );
        let open = Policy {
            allow_private_networks: true,
            ..Policy::default()
        };
        assert!(may_send(&url("http://127.0.0.1/h"), &open).await.is_ok());
    }
}
