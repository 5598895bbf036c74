//! Server-side request forgery (SSRF) defence for webhook endpoints: which addresses the
//! verifier may call ([`is_blocked_ip`]), the check of an endpoint URL at registration
//! and before each delivery ([`UrlPolicy::check`]), and a DNS resolver that refuses every
//! blocked address after resolution ([`FilteringResolver`]), which defeats DNS rebinding.

use std::error::Error as StdError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Longest endpoint URL, in bytes.
pub const MAX_URL_LEN: usize = 2048;

/// Why an endpoint URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not a URL, too long, without a host, or with a scheme other than http(s)
    /// (code `webhook_url_invalid`).
    #[error("url must be an https URL of at most {MAX_URL_LEN} bytes")]
    Invalid,
    /// A well-formed URL the verifier refuses to call (code `webhook_url_forbidden`).
    #[error("url is not allowed: {0}")]
    Forbidden(&'static str),
}

impl UrlError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid => "webhook_url_invalid",
            Self::Forbidden(_) => "webhook_url_forbidden",
        }
    }
}

/// What endpoint URLs and destination addresses are allowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Accept `http://` as well as `https://`.
    pub allow_http: bool,
    /// Accept loopback, private and link-local destinations (local receivers, tests).
    pub allow_private_networks: bool,
}

impl UrlPolicy {
    /// Parses `url` and checks it: http(s) only (`http` only if allowed), no credentials,
    /// no `localhost` names and no literal IP address in a blocked range.
    pub fn check(&self, url: &str) -> Result<Url, UrlError> {
        if url.len() > MAX_URL_LEN {
            return Err(UrlError::Invalid);
        }
        let parsed = Url::parse(url).map_err(|_| UrlError::Invalid)?;
        match parsed.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => return Err(UrlError::Forbidden("only https endpoints are accepted")),
            _ => return Err(UrlError::Invalid),
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(UrlError::Forbidden("url must not contain credentials"));
        }
        let host = parsed.host().ok_or(UrlError::Invalid)?;
        if self.allow_private_networks {
            return Ok(parsed);
        }
        let ip = match host {
            url::Host::Domain(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if name == "localhost" || name.ends_with(".localhost") {
                    return Err(UrlError::Forbidden("the host is a loopback name"));
                }
                None
            }
            url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
            url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        };
        if ip.is_some_and(is_blocked_ip) {
            return Err(UrlError::Forbidden("the address is in a private or reserved range"));
        }
        Ok(parsed)
    }

    /// True if the verifier may connect to `ip` under this policy.
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        self.allow_private_networks || !is_blocked_ip(ip)
    }
}

/// True for addresses a webhook must never reach: unspecified, loopback, private,
/// shared (CGNAT), link-local (cloud metadata), multicast, broadcast, documentation,
/// benchmarking and other reserved ranges, and IPv4-mapped / IPv4-compatible / NAT64 /
/// 6to4 IPv6 forms of blocked IPv4 addresses.
pub fn is_blocked_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_blocked_v4(v4),
        IpAddr::V6(v6) => is_blocked_v6(v6),
    }
}

fn is_blocked_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (b & 0xc0) == 64) // 100.64.0.0/10 shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // 192.0.0.0/24 IETF protocol assignments
        || (a == 192 && b == 88 && c == 99) // 192.88.99.0/24 6to4 relay anycast
        || (a == 198 && (b & 0xfe) == 18) // 198.18.0.0/15 benchmarking
        || a >= 240 // 240.0.0.0/4 reserved
}

fn is_blocked_v6(ip: Ipv6Addr) -> bool {
    let seg = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_blocked_v4(v4);
    }
    // IPv4-compatible ::a.b.c.d (deprecated) and the NAT64 well-known prefix 64:ff9b::/96.
    let embedded = Ipv4Addr::new((seg[6] >> 8) as u8, seg[6] as u8, (seg[7] >> 8) as u8, seg[7] as u8);
    if seg[..6] == [0; 6] || seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return ip.is_unspecified() || ip.is_loopback() || is_blocked_v4(embedded);
    }
    // 6to4 2002::/16 embeds an IPv4 address in the next 32 bits.
    if seg[0] == 0x2002 {
        let v4 = Ipv4Addr::new((seg[1] >> 8) as u8, seg[1] as u8, (seg[2] >> 8) as u8, seg[2] as u8);
        return is_blocked_v4(v4);
    }
    ip.is_multicast()
        || (seg[0] & 0xfe00) == 0xfc00 // fc00::/7 unique local
        || (seg[0] & 0xffc0) == 0xfe80 // fe80::/10 link-local
        || (seg[0] & 0xffc0) == 0xfec0 // fec0::/10 site-local (deprecated)
        || (seg[0] == 0x2001 && seg[1] == 0x0db8) // 2001:db8::/32 documentation
        || (seg[0] == 0x2001 && seg[1] < 0x0200) // 2001::/23 IETF protocol assignments (Teredo, ...)
        || (seg[0] == 0x0100 && seg[1..4] == [0, 0, 0]) // 100::/64 discard-only
}

/// The error a connection attempt fails with when every resolved address is blocked.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the endpoint resolves only to private or reserved addresses")]
pub struct BlockedAddress;

/// True if `err` (a reqwest error, say) was caused by a [`BlockedAddress`] refusal.
pub fn is_blocked_error(err: &(dyn StdError + 'static)) -> bool {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if e.is::<BlockedAddress>() {
            return true;
        }
        current = e.source();
    }
    false
}

/// Resolves names with the operating system's resolver (`getaddrinfo` through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let addrs: Addrs = Box::new(addrs.collect::<Vec<_>>().into_iter());
            Ok(addrs)
        })
    }
}

/// A resolver that drops every blocked address the inner resolver returns and fails
/// with [`BlockedAddress`] when none is left, so the HTTP client never connects to one.
#[derive(Clone)]
pub struct FilteringResolver {
    inner: Arc<dyn Resolve>,
    policy: UrlPolicy,
}

impl std::fmt::Debug for FilteringResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilteringResolver").field("policy", &self.policy).finish_non_exhaustive()
    }
}

impl FilteringResolver {
    /// Filters the answers of `inner` with `policy`.
    pub fn new(inner: Arc<dyn Resolve>, policy: UrlPolicy) -> Self {
        Self { inner, policy }
    }
}

impl Resolve for FilteringResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let inner = self.inner.resolve(name);
        let policy = self.policy;
        Box::pin(async move {
            let allowed: Vec<SocketAddr> = inner.await?.filter(|a| policy.allows_ip(a.ip())).collect();
            if allowed.is_empty() {
                return Err(Box::new(BlockedAddress) as Box<dyn StdError + Send + Sync>);
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// The HTTP client for webhook deliveries: names resolved through `resolver` and then
/// filtered by `policy`, no redirects followed, no proxy taken from the environment.
pub fn delivery_client(
    timeout: std::time::Duration,
    policy: UrlPolicy,
    resolver: Arc<dyn Resolve>,
) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(FilteringResolver::new(resolver, policy)))
        .user_agent(concat!("trustcap-verifier/", env!("CARGO_PKG_VERSION")))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: UrlPolicy = UrlPolicy { allow_http: false, allow_private_networks: false };

    #[test]
    fn classifier_table() {
        let blocked = [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.255.0.9",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "240.0.0.1",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.1.2.3",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ];
        for s in blocked {
            assert!(is_blocked_ip(s.parse().unwrap()), "{s} should be blocked");
        }
        let allowed =
            ["1.1.1.1", "8.8.8.8", "172.32.0.1", "100.128.0.1", "93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8"];
        for s in allowed {
            assert!(!is_blocked_ip(s.parse().unwrap()), "{s} should be allowed");
        }
    }

    #[test]
    fn registration_checks() {
        assert!(STRICT.check("https://hooks.example/trustcap").is_ok());
        assert!(STRICT.check("https://93.184.216.34/h").is_ok());
        let forbidden = [
            "http://hooks.example/h",
            "https://localhost/h",
            "https://LOCALHOST./h",
            "https://api.localhost/h",
            "https://127.0.0.1/h",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::1]/h",
            "https://[::ffff:127.0.0.1]/h",
            "https://0.0.0.0/h",
            "https://user:pw@hooks.example/",
            // Other IPv4 spellings are normalised by the URL parser, then refused.
            "https://2130706433/h",
            "https://0x7f000001/h",
            "https://0177.0.0.1/h",
            "https://0xa9.0xfe.0xa9.0xfe/h",
            "https://127.1/h",
        ];
        for url in forbidden {
            assert_eq!(STRICT.check(url).map_err(|e| e.code()), Err("webhook_url_forbidden"), "{url}");
        }
        for url in ["ftp://x/", "not a url", "https://", &format!("https://x/{}", "a".repeat(3000))] {
            assert_eq!(STRICT.check(url).map_err(|e| e.code()), Err("webhook_url_invalid"), "{url}");
        }
        let local = UrlPolicy { allow_http: true, allow_private_networks: true };
        assert!(local.check("http://127.0.0.1:9000/h").is_ok());
        assert!(local.check("https://user@127.0.0.1/").is_err());
        let http_only = UrlPolicy { allow_http: true, allow_private_networks: false };
        assert!(http_only.check("http://hooks.example/h").is_ok());
        assert!(http_only.check("http://10.0.0.1/h").is_err());
    }

    #[test]
    fn blocked_error_is_found_in_a_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] BlockedAddress);
        assert!(is_blocked_error(&Outer(BlockedAddress)));
        assert!(!is_blocked_error(&std::io::Error::other("x")));
    }
}
