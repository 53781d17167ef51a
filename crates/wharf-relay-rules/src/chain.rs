//! One relayed request as a sans-IO state machine: the target the client names, then each redirect
//! hop the relay follows itself. A driver sends [`Chain::request`], hands the answer's status and
//! `Location` to [`Chain::answered`], and either sends the next request or passes the answer on.
//!
//! Both drivers (axum and the Worker) follow redirects with this, so the rules for a hop (allowlist
//! per hop, credentials dropped on a change of origin, `303` turning into `GET`, the hop limit) are
//! written once.

use crate::error::RelayError;
use crate::headers;
use crate::policy::{Hop, Policy};
use crate::target::{parse_target, redirect_location};
use http::{HeaderMap, HeaderValue, Method, Uri};
use url::Url;

/// The request to send upstream next.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
}

/// What to do with an upstream answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Pass this answer to the client.
    Deliver,
    /// Send [`Chain::request`] again: it now names the redirect's target.
    Follow(Followed),
}

/// A redirect hop that was followed, for the driver's log (hosts and paths only, never queries).
#[derive(Debug, PartialEq, Eq)]
pub struct Followed {
    pub status: u16,
    pub from: Url,
    /// True when `Authorization`, `Cookie` or `Proxy-Authorization` were removed for the new origin.
    pub credentials_stripped: bool,
}

/// A request on its way through redirects.
#[derive(Debug)]
pub struct Chain<'a> {
    policy: &'a Policy,
    max_redirects: usize,
    followed: usize,
    request: Outgoing,
}

impl<'a> Chain<'a> {
    /// The client's request (`/relay/<url>` with its headers), checked against the allowlist
    /// before anything is sent.
    pub fn start(
        policy: &'a Policy,
        max_redirects: usize,
        method: Method,
        uri: &Uri,
        incoming: &HeaderMap,
    ) -> Result<Self, RelayError> {
        let url = parse_target(uri)?;
        policy.check(&url, Hop::Client)?;
        Ok(Self {
            policy,
            max_redirects,
            followed: 0,
            request: Outgoing {
                method,
                url,
                headers: headers::forward_request(incoming),
            },
        })
    }

    /// What to send now.
    pub fn request(&self) -> &Outgoing {
        &self.request
    }

    /// How many redirects were followed so far.
    pub fn redirects(&self) -> usize {
        self.followed
    }

    /// Takes an upstream answer: deliver it, or follow its redirect (checked against the allowlist
    /// as a redirect hop, credentials dropped when the origin changes).
    pub fn answered(
        &mut self,
        status: u16,
        location: Option<&HeaderValue>,
    ) -> Result<Step, RelayError> {
        let Some(next) = redirect_location(status, location, &self.request.url)? else {
            return Ok(Step::Deliver);
        };
        if self.followed >= self.max_redirects {
            return Err(RelayError::TooManyRedirects {
                max: self.max_redirects,
            });
        }
        self.policy.check(&next, Hop::Redirect)?;
        self.followed += 1;
        let stripped =
            headers::strip_on_cross_origin(&mut self.request.headers, &self.request.url, &next);
        if status == 303 && self.request.method != Method::HEAD {
            self.request.method = Method::GET;
        }
        let from = std::mem::replace(&mut self.request.url, next);
        Ok(Step::Follow(Followed {
            status,
            from,
            credentials_stripped: stripped,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::AllowHost;

    fn policy() -> Policy {
        Policy::new(vec![
            "http://127.0.0.1:5000".parse::<AllowHost>().unwrap(),
            "http://127.0.0.1:6000".parse::<AllowHost>().unwrap(),
        ])
    }

    fn client_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_static("Bearer secret"));
        h.insert("cookie", HeaderValue::from_static("a=b"));
        h.insert("accept", HeaderValue::from_static("application/json"));
        h
    }

    fn start<'a>(policy: &'a Policy, max: usize, method: Method, uri: &str) -> Chain<'a> {
        let uri: Uri = uri.parse().unwrap();
        Chain::start(policy, max, method, &uri, &client_headers()).expect("allowed")
    }

    fn location(s: &'static str) -> Option<HeaderValue> {
        Some(HeaderValue::from_static(s))
    }

    #[test]
    fn delivers_a_plain_answer_and_forwards_only_the_allowed_headers() {
        let policy = policy();
        let mut chain = start(
            &policy,
            5,
            Method::GET,
            "/relay/http://127.0.0.1:5000/v2/?n=1",
        );
        let sent = chain.request();
        assert_eq!(sent.url.as_str(), "http://127.0.0.1:5000/v2/?n=1");
        assert_eq!(sent.headers["authorization"], "Bearer secret");
        assert!(
            sent.headers.get("cookie").is_none(),
            "cookies never go upstream"
        );
        // A 302 without Location and a 200 with one are both delivered as they are.
        assert_eq!(chain.answered(302, None), Ok(Step::Deliver));
        assert_eq!(
            chain.answered(200, location("/x").as_ref()),
            Ok(Step::Deliver)
        );
    }

    #[test]
    fn same_origin_hops_keep_credentials_and_other_origins_lose_them() {
        let policy = policy();
        let mut chain = start(&policy, 5, Method::GET, "/relay/http://127.0.0.1:5000/a");
        let step = chain.answered(307, location("/b").as_ref()).unwrap();
        assert!(matches!(
            step,
            Step::Follow(Followed {
                credentials_stripped: false,
                ..
            })
        ));
        assert_eq!(chain.request().url.as_str(), "http://127.0.0.1:5000/b");
        assert_eq!(chain.request().headers["authorization"], "Bearer secret");
        let step = chain
            .answered(302, location("http://127.0.0.1:6000/c").as_ref())
            .unwrap();
        let Step::Follow(followed) = step else {
            panic!("{step:?}")
        };
        assert!(followed.credentials_stripped);
        assert_eq!(followed.from.as_str(), "http://127.0.0.1:5000/b");
        assert!(chain.request().headers.get("authorization").is_none());
        // Back to the first origin: the credentials stay gone.
        chain
            .answered(302, location("http://127.0.0.1:5000/d").as_ref())
            .unwrap();
        assert!(chain.request().headers.get("authorization").is_none());
        assert_eq!(chain.redirects(), 3);
    }

    #[test]
    fn see_other_turns_get_but_keeps_head() {
        let policy = policy();
        for (method, after) in [(Method::GET, Method::GET), (Method::HEAD, Method::HEAD)] {
            let mut chain = start(&policy, 5, method, "/relay/http://127.0.0.1:5000/a");
            chain.answered(303, location("/b").as_ref()).unwrap();
            assert_eq!(chain.request().method, after);
        }
    }

    #[test]
    fn refusals() {
        let policy = policy();
        let uri: Uri = "/relay/http://127.0.0.1:7000/".parse().unwrap();
        let refused = Chain::start(&policy, 5, Method::GET, &uri, &HeaderMap::new()).unwrap_err();
        assert!(
            matches!(
                refused,
                RelayError::HostNotAllowed { .. } | RelayError::PortNotAllowed { .. }
            ),
            "{refused:?}"
        );
        let mut chain = start(&policy, 5, Method::GET, "/relay/http://127.0.0.1:5000/a");
        let hop = chain.answered(302, location("http://10.0.0.1/x").as_ref());
        assert!(hop.is_err(), "a hop off the allowlist is refused: {hop:?}");
        let mut chain = start(&policy, 2, Method::GET, "/relay/http://127.0.0.1:5000/a");
        chain.answered(302, location("/b").as_ref()).unwrap();
        chain.answered(302, location("/c").as_ref()).unwrap();
        assert_eq!(
            chain.answered(302, location("/d").as_ref()),
            Err(RelayError::TooManyRedirects { max: 2 })
        );
    }
}
